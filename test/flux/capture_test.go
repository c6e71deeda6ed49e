package flux

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The identifiers of the fixtures in testdata/events (see its README): a captured payload is
// written with these in place of the run's own, so the unit tests keep one candidate to name.
const (
	fixtureSHA     = "9f2c4e1a7b3d5f60718293a4b5c6d7e8f9012345"
	fixtureDigest  = "sha256:2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881"
	fixtureVersion = "0.4.2-rc.3"
	fixtureUID     = "7d0c1b8e-5f7a-4c59-9a58-3c1f2d9e0a11"
)

// captureName is the testdata/events file a delivery of this kind is written to, "" for a kind
// the unit tests have no fixture of.
func captureName(d delivery) string {
	if d.Name == "status" {
		switch d.Payload["state"] {
		case "success":
			return "status.success.json"
		case "failure":
			return "status.failure.json"
		}
		return ""
	}
	cp, _ := d.Payload["client_payload"].(map[string]any)
	msg, _ := cp["message"].(string)
	switch {
	case strings.HasPrefix(msg, "Health check passed"):
		return "repository_dispatch.health-check-passed.json"
	case strings.HasPrefix(msg, "health check failed"):
		return "repository_dispatch.health-check-failed.json"
	}
	return ""
}

// record writes the first delivery of each kind, with the fixtures' identifiers, into
// p.capture (OCIPROMOTE_FLUX_CAPTURE; make e2e-flux-capture sets it to testdata/events).
func (p *pipeline) record(t *testing.T, d delivery) {
	t.Helper()
	name := captureName(d)
	if p.capture == "" || name == "" || p.captured[name] {
		return
	}
	c, ok := p.candidateOf(d)
	if !ok {
		return
	}
	p.captured[name] = true
	b, err := json.MarshalIndent(d.Payload, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	ksUID := strings.TrimSpace(p.k.kubectl(t, "", "-n", "flux-system", "get", "kustomization", "platform", "-o", "jsonpath={.metadata.uid}"))
	providerUID := strings.TrimSpace(p.k.kubectl(t, "", "-n", "flux-system", "get", "provider", "github-status", "-o", "jsonpath={.metadata.uid}"))
	s = strings.NewReplacer(c.sha, fixtureSHA, c.digest, fixtureDigest, c.version+"@", fixtureVersion+"@",
		ksUID, fixtureUID, "kustomization/platform/"+strings.Split(providerUID, "-")[0], "kustomization/platform/"+strings.Split(fixtureUID, "-")[0]).Replace(s)
	if err := os.WriteFile(filepath.Join(p.capture, name), []byte(s+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("captured %s", name)
}

// candidateOf finds the candidate a delivery is about, by its revision or commit.
func (p *pipeline) candidateOf(d delivery) (candidate, bool) {
	cp, _ := d.Payload["client_payload"].(map[string]any)
	meta, _ := cp["metadata"].(map[string]any)
	for _, c := range p.candidates {
		if d.Payload["sha"] == c.sha || meta["revision"] == c.revision() {
			return c, true
		}
	}
	return candidate{}, false
}
