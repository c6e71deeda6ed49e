package event

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"

	"github.com/ocipromote/ocipromote/pkg/ref"
	"github.com/ocipromote/ocipromote/pkg/version"
)

const (
	fixtureDir = "../../testdata/events"

	platform  = "Kustomization/platform.flux-system"
	digestRC  = "sha256:2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881"
	digestMan = "sha256:cd60ed2fa8c947cb05cb57b23884dea9390e4b6aec0add666e69bf842fc68da0"
	shaMain   = "9f2c4e1a7b3d5f60718293a4b5c6d7e8f9012345"
)

// integration is what the integration cluster's workflow passes: promote on platform's events
// from the integration cluster only.
var integration = Criteria{Object: platform, Cluster: "integration"}

// want is one expected outcome of Decide.
type want struct {
	promote bool
	verb    string // "promote" or "ignored"; "" when an error is expected
	phrase  string // in the Reason, or in the error message
	err     error  // ErrUsage or ErrMalformed when an error is expected

	revision, digest, sha, version string
}

func (w want) check(t *testing.T, d Decision, err error) {
	t.Helper()
	checkInvariants(t, d, err)
	if w.err != nil {
		if err == nil {
			t.Fatalf("Decide() = %+v, want an error (%v) containing %q", d, w.err, w.phrase)
		}
		if !errors.Is(err, w.err) {
			t.Errorf("Decide() error %q is not %v", err, w.err)
		}
		if got := err.Error(); !strings.Contains(got, w.phrase) {
			t.Errorf("Decide() error = %q, want it to contain %q", got, w.phrase)
		}
		return
	}
	if err != nil {
		t.Fatalf("Decide() error = %v, want %s decision", err, w.verb)
	}
	if got, want := d.Promote, w.promote; got != want {
		t.Errorf("Promote = %v, want %v (reason %q)", got, want, d.Reason)
	}
	if got, _, _ := strings.Cut(d.Reason, ":"); got != w.verb {
		t.Errorf("Reason starts with %q, want %q (reason %q)", got, w.verb, d.Reason)
	}
	if !strings.Contains(d.Reason, w.phrase) {
		t.Errorf("Reason = %q, want it to contain %q", d.Reason, w.phrase)
	}
	if got, want := d.Revision, w.revision; got != want {
		t.Errorf("Revision = %q, want %q", got, want)
	}
	if got, want := d.Digest, w.digest; got != want {
		t.Errorf("Digest = %q, want %q", got, want)
	}
	if got, want := d.Sha, w.sha; got != want {
		t.Errorf("Sha = %q, want %q", got, want)
	}
	if got, want := d.Version, w.version; got != want {
		t.Errorf("Version = %q, want %q", got, want)
	}
}

// checkInvariants holds for every input, fixture or fuzzed.
func checkInvariants(t *testing.T, d Decision, err error) {
	t.Helper()
	if err != nil {
		if d != (Decision{}) {
			t.Errorf("Decide() = %+v with error %v, want a zero Decision", d, err)
		}
		if !errors.Is(err, ErrUsage) && !errors.Is(err, ErrMalformed) {
			t.Errorf("Decide() error %q is neither ErrUsage nor ErrMalformed", err)
		}
		if i := strings.IndexFunc(err.Error(), unicode.IsControl); i >= 0 {
			t.Errorf("error %q has a control character at byte %d", err, i)
		}
		return
	}
	checkReason(t, d.Reason)
	if !d.Promote {
		if !strings.HasPrefix(d.Reason, "ignored: ") {
			t.Errorf("Reason = %q for Promote=false, want it to start with \"ignored: \"", d.Reason)
		}
		if d.Revision != "" || d.Digest != "" || d.Sha != "" || d.Version != "" {
			t.Errorf("ignored decision %+v carries identifiers", d)
		}
		return
	}
	if !strings.HasPrefix(d.Reason, "promote: ") {
		t.Errorf("Reason = %q for Promote=true, want it to start with \"promote: \"", d.Reason)
	}
	if d.Digest != "" {
		if _, err := ref.Digest(d.Digest); err != nil {
			t.Errorf("Digest: %v", err)
		}
	}
	if d.Sha != "" {
		if _, err := ref.Sha(d.Sha); err != nil {
			t.Errorf("Sha: %v", err)
		}
	}
	if d.Revision != "" {
		rev, err := ref.ParseRevision(d.Revision)
		if err != nil {
			t.Errorf("Revision: %v", err)
		}
		if got, want := rev.Digest, d.Digest; got != want {
			t.Errorf("Revision %q has digest %q, but Digest = %q", d.Revision, got, want)
		}
		if rev.Tag == "" {
			t.Errorf("Revision %q has no tag; a digest alone belongs in Digest", d.Revision)
		}
		if d.Version != "" && rev.Tag != d.Version {
			t.Errorf("Version = %q, but Revision %q has tag %q", d.Version, d.Revision, rev.Tag)
		}
	}
	if d.Version != "" {
		v, ok := version.Parse(d.Version)
		if !ok {
			t.Errorf("Version %q is not a version", d.Version)
		} else if _, _, ok := version.RC(v); !ok {
			t.Errorf("Version %q is not a release candidate", d.Version)
		}
	}
}

// checkReason asserts that a Reason written to a log, an output or an annotation stays one inert
// line, whatever the payload carried.
func checkReason(t *testing.T, reason string) {
	t.Helper()
	if i := strings.IndexFunc(reason, func(r rune) bool {
		return unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || unicode.Is(unicode.Bidi_Control, r)
	}); i >= 0 {
		t.Errorf("Reason %q has a control character at byte %d", reason, i)
	}
	for _, s := range []string{"%0A", "%0a", "%0D", "%0d"} {
		if strings.Contains(reason, s) {
			t.Errorf("Reason %q contains %s, which the runner decodes to a line break", reason, s)
		}
	}
	if len(reason) > 4096 {
		t.Errorf("Reason is %d bytes long, want a bounded one-line reason", len(reason))
	}
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtureDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// eventName is the fixture name's first part: "status.failure.json" holds a status event.
func eventName(fixture string) string {
	name, _, _ := strings.Cut(fixture, ".")
	return name
}

func TestDecideFixtures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string // defaults to fixture
		fixture  string
		criteria *Criteria // defaults to integration
		want
	}{
		{fixture: "repository_dispatch.health-check-passed.json", want: want{
			promote: true, verb: "promote", phrase: `Kustomization/platform.flux-system reported "Health check passed in `,
			revision: "0.4.2-rc.3@" + digestRC, digest: digestRC, sha: shaMain, version: "0.4.2-rc.3",
		}},
		{fixture: "repository_dispatch.reconciliation-finished-via-relay.json", want: want{
			promote: true, verb: "promote", phrase: `"Reconciliation finished in 2.1s, next run in 10m0s"`,
			revision: "0.4.2-rc.3@" + digestRC, digest: digestRC, sha: shaMain, version: "0.4.2-rc.3",
		}},
		{fixture: "repository_dispatch.change-set.json", want: want{
			verb: "ignored", phrase: `"Deployment/podinfo/podinfo configured" is not a success signal (pattern "^(Health check passed|Reconciliation finished)"); Flux sends "Health check passed" only when the Kustomization has wait: true or spec.healthChecks`,
		}},
		{fixture: "repository_dispatch.health-check-failed.json", want: want{
			verb: "ignored", phrase: `error event from Kustomization/platform.flux-system: "health check failed after `,
		}},
		{fixture: "repository_dispatch.no-metadata.json", want: want{
			verb: "ignored", phrase: "event carries no metadata.cluster, so it may come from any cluster; set spec.eventMetadata.cluster: integration on the Alert",
		}},
		{name: "no-metadata without a cluster", fixture: "repository_dispatch.no-metadata.json", criteria: &Criteria{Object: platform}, want: want{
			verb: "ignored", phrase: "carries no metadata.revision, so the artifact it deployed is unknown",
		}},
		{fixture: "repository_dispatch.other-object.json", want: want{
			verb: "ignored", phrase: "event for Kustomization/apps.flux-system, expected Kustomization/platform.flux-system",
		}},
		{name: "other-object, as apps' own workflow", fixture: "repository_dispatch.other-object.json", criteria: &Criteria{Object: "Kustomization/apps.flux-system", Cluster: "integration"}, want: want{
			promote: true, verb: "promote", phrase: "for 1.7.0-rc.2 on cluster integration",
			revision: "1.7.0-rc.2@sha256:b4380551e0e3c34fd7ef8c4c3d7af64e628f07b0635e4a1164e6af2decff4a01",
			digest:   "sha256:b4380551e0e3c34fd7ef8c4c3d7af64e628f07b0635e4a1164e6af2decff4a01",
			sha:      "3f786850e387550fdab836ed7e6dc881de23001b", version: "1.7.0-rc.2",
		}},
		{fixture: "repository_dispatch.other-cluster.json", want: want{
			verb: "ignored", phrase: "event from cluster live, expected integration",
		}},
		{name: "other-cluster without a cluster", fixture: "repository_dispatch.other-cluster.json", criteria: &Criteria{Object: platform}, want: want{
			verb: "ignored", phrase: "revision 0.4.1 is already a stable version; promotion is for release candidates",
		}},
		{fixture: "repository_dispatch.stable-revision.json", want: want{
			verb: "ignored", phrase: "revision 0.4.1 is already a stable version; promotion is for release candidates",
		}},
		{fixture: "repository_dispatch.digest-only-revision.json", want: want{
			verb: "ignored", phrase: "revision sha256:28c2f15fc7df56349c4448ed8a683e8cfd235594c7963094e232d93041fc065b has no tag, so the OCIRepository selects by digest; promotion needs it to select release candidates by semver",
		}},
		{fixture: "repository_dispatch.object-mismatch.json", want: want{
			verb: "ignored", phrase: "dispatch event_type is Kustomization/platform.flux-system but client_payload.involvedObject is Kustomization/apps.flux-system",
		}},
		{fixture: "repository_dispatch.git-revision.json", want: want{
			err: ErrMalformed, phrase: `metadata.revision: revision "main@sha1:9f2c4e1a7b3d5f60718293a4b5c6d7e8f9012345"`,
		}},
		{fixture: "repository_dispatch.wrong-types.json", want: want{
			err: ErrMalformed, phrase: "client_payload.involvedObject is a JSON array, want an object",
		}},
		{fixture: "repository_dispatch.not-json.json", want: want{
			err: ErrMalformed, phrase: "the event payload is not valid JSON",
		}},
		{fixture: "repository_dispatch.hostile-message.json", want: want{
			verb: "ignored", phrase: `error event from Kustomization/platform.flux-system: "Health check failed\n::set-output name=promote::true\r\n::error::all good%250A::set-output`,
		}},
		{fixture: "repository_dispatch.hostile-success-message.json", want: want{
			promote: true, verb: "promote", phrase: `"Health check passed in 4.2s\n::set-output name=promote::true%250A::add-mask::x\x1b[2J\a"`,
			revision: "0.4.2-rc.3@" + digestRC, digest: digestRC, sha: shaMain, version: "0.4.2-rc.3",
		}},
		{fixture: "repository_dispatch.hostile-revision.json", want: want{
			err: ErrMalformed, phrase: `metadata.revision: revision "0.4.2-rc.3$(rm -rf /);` + "`id`",
		}},
		{fixture: "status.success.json", want: want{
			promote: true, verb: "promote", phrase: "commit status kustomization/platform/7d0c1b8e is success on " + shaMain,
			sha: shaMain,
		}},
		{fixture: "status.failure.json", want: want{
			verb: "ignored", phrase: `commit status kustomization/platform/7d0c1b8e is failure, not success: "health check failed"`,
		}},
		{fixture: "status.other-context.json", want: want{
			verb: "ignored", phrase: "commit status ci/build is not a kustomization/platform/… status",
		}},
		{fixture: "status.hostile-context.json", want: want{
			promote: true, verb: "promote", phrase: `commit status "kustomization/platform/7d0c1b8e\n::set-output name=promote::true" is success`,
			sha: shaMain,
		}},
		{fixture: "workflow_dispatch.sha.json", want: want{
			promote: true, verb: "promote", phrase: "manual promotion of commit " + shaMain + " requested by oncall",
			sha: shaMain,
		}},
		{fixture: "workflow_dispatch.digest.json", want: want{
			promote: true, verb: "promote", phrase: "manual promotion of " + digestMan + " requested by oncall",
			digest: digestMan,
		}},
		{fixture: "workflow_dispatch.revision.json", want: want{
			promote: true, verb: "promote", phrase: "manual promotion of 0.4.2-rc.3@" + digestRC + " requested by oncall",
			revision: "0.4.2-rc.3@" + digestRC, digest: digestRC, version: "0.4.2-rc.3",
		}},
		{fixture: "workflow_dispatch.empty.json", want: want{
			err: ErrUsage, phrase: "manual promotion needs at least one input: revision (<tag>@sha256:<digest>, as Flux reports it), digest (sha256:<digest>) or sha",
		}},
		{fixture: "workflow_dispatch.digest-mismatch.json", want: want{
			err: ErrUsage, phrase: "input digest is " + digestMan + " but input revision names " + digestRC,
		}},
		{fixture: "workflow_dispatch.hostile.json", want: want{
			err: ErrUsage, phrase: `input revision: revision "$(rm -rf /)@sha256:` + "`id`",
		}},
	}
	covered := map[string]bool{}
	for _, tc := range tests {
		covered[tc.fixture] = true
		name := tc.name
		if name == "" {
			name = tc.fixture
		}
		c := integration
		if tc.criteria != nil {
			c = *tc.criteria
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			d, err := Decide(eventName(tc.fixture), readFixture(t, tc.fixture), c)
			tc.want.check(t, d, err)
		})
	}

	entries, err := os.ReadDir(fixtureDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".json") && !covered[e.Name()] {
			t.Errorf("fixture %s has no test case", e.Name())
		}
	}
}

// The sanitised forms above are asserted exactly; this also states the property a reader cares
// about: nothing in a hostile message can become a workflow command of its own.
func TestDecideHostileMessageCannotForgeCommands(t *testing.T) {
	t.Parallel()
	for _, fixture := range []string{
		"repository_dispatch.hostile-message.json",
		"repository_dispatch.hostile-success-message.json",
		"status.hostile-context.json",
	} {
		t.Run(fixture, func(t *testing.T) {
			t.Parallel()
			d, err := Decide(eventName(fixture), readFixture(t, fixture), integration)
			if err != nil {
				t.Fatal(err)
			}
			for _, line := range strings.Split(d.Reason, "\n") {
				if strings.HasPrefix(strings.TrimSpace(line), "::") {
					t.Errorf("Reason %q has a line that starts a workflow command", d.Reason)
				}
			}
			for _, raw := range []string{"\n::set-output", "%0A", "\r", "\u2028", "\u202e", "\x1b"} {
				if strings.Contains(d.Reason, raw) {
					t.Errorf("Reason %q contains %q raw", d.Reason, raw)
				}
			}
		})
	}
}

// mutate returns a fixture with f applied to its decoded JSON, for variants not worth a file.
func mutate(t *testing.T, fixture string, f func(ev map[string]any)) []byte {
	t.Helper()
	var ev map[string]any
	if err := json.Unmarshal(readFixture(t, fixture), &ev); err != nil {
		t.Fatal(err)
	}
	f(ev)
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func obj(v any) map[string]any { return v.(map[string]any) }

func TestDecideDispatchVariants(t *testing.T) {
	t.Parallel()
	const passed = "repository_dispatch.health-check-passed.json"
	rc3 := want{
		promote: true, verb: "promote", phrase: "for 0.4.2-rc.3 on cluster integration",
		revision: "0.4.2-rc.3@" + digestRC, digest: digestRC, sha: shaMain, version: "0.4.2-rc.3",
	}
	meta := func(f func(m map[string]any)) func(ev map[string]any) {
		return func(ev map[string]any) { f(obj(obj(ev["client_payload"])["metadata"])) }
	}
	payload := func(f func(p map[string]any)) func(ev map[string]any) {
		return func(ev map[string]any) { f(obj(ev["client_payload"])) }
	}
	tests := []struct {
		name     string
		mutate   func(ev map[string]any)
		raw      []byte // used instead of the fixture when not nil
		criteria *Criteria
		want
	}{
		{name: "extra metadata of any type is ignored", mutate: meta(func(m map[string]any) {
			m["attempt"] = 3
			m["labels"] = map[string]any{"team": "platform"}
			m["checks"] = []any{true, nil}
		}), want: rc3},
		{name: "extra top-level and client_payload fields are ignored", mutate: func(ev map[string]any) {
			ev["installation"] = 42
			obj(ev["client_payload"])["extra"] = []any{1, "two"}
		}, want: rc3},
		{name: "revision that is a number", mutate: meta(func(m map[string]any) { m["revision"] = 42 }), want: want{
			err: ErrMalformed, phrase: "client_payload.metadata.revision is a JSON number, want a string",
		}},
		{name: "cluster that is a boolean", mutate: meta(func(m map[string]any) { m["cluster"] = true }), want: want{
			err: ErrMalformed, phrase: "client_payload.metadata.cluster is a JSON boolean, want a string",
		}},
		{name: "originRevision that is an object", mutate: meta(func(m map[string]any) { m["originRevision"] = map[string]any{} }), want: want{
			err: ErrMalformed, phrase: "client_payload.metadata.originRevision is a JSON object, want a string",
		}},
		{name: "metadata that is an array", mutate: payload(func(p map[string]any) { p["metadata"] = []any{"cluster", "integration"} }), want: want{
			err: ErrMalformed, phrase: "client_payload.metadata is a JSON array, want an object",
		}},
		{name: "metadata null", mutate: payload(func(p map[string]any) { p["metadata"] = nil }), want: want{
			verb: "ignored", phrase: "event carries no metadata.cluster",
		}},
		{name: "custom cluster key", mutate: meta(func(m map[string]any) { delete(m, "cluster"); m["env"] = "integration" }),
			criteria: &Criteria{Object: platform, Cluster: "integration", ClusterKey: "env"}, want: rc3},
		{name: "custom cluster key missing", criteria: &Criteria{Object: platform, Cluster: "integration", ClusterKey: "env"}, want: want{
			verb: "ignored", phrase: "set spec.eventMetadata.env: integration on the Alert",
		}},
		{name: "no cluster criterion still names the cluster", criteria: &Criteria{Object: platform}, want: rc3},
		{name: "no cluster anywhere", mutate: meta(func(m map[string]any) { delete(m, "cluster") }), criteria: &Criteria{Object: platform}, want: want{
			promote: true, verb: "promote", phrase: `" for 0.4.2-rc.3`,
			revision: "0.4.2-rc.3@" + digestRC, digest: digestRC, sha: shaMain, version: "0.4.2-rc.3",
		}},
		{name: "custom success pattern", mutate: payload(func(p map[string]any) { p["message"] = "Deployment/podinfo/podinfo configured" }),
			criteria: &Criteria{Object: platform, Cluster: "integration", SuccessPattern: `configured$`}, want: rc3},
		{name: "v-prefixed release candidate", mutate: meta(func(m map[string]any) { m["revision"] = "v0.4.2-rc.3@" + digestRC }), want: want{
			promote: true, verb: "promote", phrase: "for v0.4.2-rc.3 on cluster integration",
			revision: "v0.4.2-rc.3@" + digestRC, digest: digestRC, sha: shaMain, version: "v0.4.2-rc.3",
		}},
		{name: "other pre-release", mutate: meta(func(m map[string]any) { m["revision"] = "0.4.2-beta.1@" + digestRC }), want: want{
			verb: "ignored", phrase: "revision 0.4.2-beta.1 is not a release candidate X.Y.Z-rc.N",
		}},
		{name: "foreign rc without a dot", mutate: meta(func(m map[string]any) { m["revision"] = "0.5.0-rc1@" + digestRC }), want: want{
			verb: "ignored", phrase: `revision 0.5.0-rc1 is not a release candidate X.Y.Z-rc.N as build-rc writes them (its pre-release part "rc1" is not rc.N`,
		}},
		{name: "foreign rc with a suffix", mutate: meta(func(m map[string]any) { m["revision"] = "0.0.9-rc.1-hotfix@" + digestRC }), want: want{
			verb: "ignored", phrase: `"rc.1-hotfix" is not rc.N, N a whole number from 1 with nothing after it), so it is not promoted: another tool or a person pushed it`,
		}},
		{name: "foreign rc with an extra identifier", mutate: meta(func(m map[string]any) { m["revision"] = "0.0.9-rc.1.1@" + digestRC }), want: want{
			verb: "ignored", phrase: "no candidate of the pipeline reaches integration: delete or rename it",
		}},
		{name: "tag that is not a version", mutate: meta(func(m map[string]any) { m["revision"] = "latest@" + digestRC }), want: want{
			verb: "ignored", phrase: "revision tag latest is not a version",
		}},
		{name: "empty revision", mutate: meta(func(m map[string]any) { m["revision"] = "" }), want: want{
			verb: "ignored", phrase: "carries no metadata.revision",
		}},
		{name: "no originRevision", mutate: meta(func(m map[string]any) { delete(m, "originRevision") }), want: want{
			promote: true, verb: "promote", phrase: "for 0.4.2-rc.3 on cluster integration",
			revision: "0.4.2-rc.3@" + digestRC, digest: digestRC, version: "0.4.2-rc.3",
		}},
		{name: "malformed originRevision", mutate: meta(func(m map[string]any) { m["originRevision"] = "main/" + shaMain }), want: want{
			err: ErrMalformed, phrase: `metadata.originRevision: revision "main/` + shaMain + `" is not <ref>@sha1:<40 hex>`,
		}},
		{name: "severity missing", mutate: payload(func(p map[string]any) { delete(p, "severity") }), want: want{
			verb: "ignored", phrase: `severity "" is not info`,
		}},
		{name: "cluster is checked before severity", mutate: func(ev map[string]any) {
			obj(ev["client_payload"])["severity"] = "error"
			obj(obj(ev["client_payload"])["metadata"])["cluster"] = "live"
		}, want: want{verb: "ignored", phrase: "event from cluster live, expected integration"}},
		{name: "client_payload missing", mutate: func(ev map[string]any) { delete(ev, "client_payload") }, want: want{
			err: ErrMalformed, phrase: "client_payload is missing",
		}},
		{name: "client_payload a string", mutate: func(ev map[string]any) { ev["client_payload"] = "{}" }, want: want{
			err: ErrMalformed, phrase: "client_payload is a JSON string, want an object",
		}},
		{name: "involvedObject without name", mutate: payload(func(p map[string]any) { delete(obj(p["involvedObject"]), "name") }), want: want{
			err: ErrMalformed, phrase: "client_payload.involvedObject needs kind, name and namespace",
		}},
		{name: "action missing", mutate: func(ev map[string]any) { delete(ev, "action") }, want: want{
			err: ErrMalformed, phrase: "repository_dispatch event has no action",
		}},
		{name: "action a number", mutate: func(ev map[string]any) { ev["action"] = 7 }, want: want{
			err: ErrMalformed, phrase: "action is a JSON number, want a string",
		}},
		{name: "another sender's payload is not read", mutate: func(ev map[string]any) {
			ev["action"] = "deploy-docs"
			ev["client_payload"] = []any{"anything"}
		}, want: want{verb: "ignored", phrase: "event for deploy-docs, expected Kustomization/platform.flux-system"}},
		{name: "hostile action", mutate: func(ev map[string]any) { ev["action"] = "x\n::set-output name=promote::true" }, want: want{
			verb: "ignored", phrase: `event for "x\n::set-output name=promote::true", expected`,
		}},
		{name: "object with dots in its name", mutate: func(ev map[string]any) {
			ev["action"] = "Kustomization/my.app.flux-system"
			obj(obj(ev["client_payload"])["involvedObject"])["name"] = "my.app"
		}, criteria: &Criteria{Object: "Kustomization/my.app.flux-system", Cluster: "integration"}, want: want{
			promote: true, verb: "promote", phrase: "Kustomization/my.app.flux-system reported",
			revision: "0.4.2-rc.3@" + digestRC, digest: digestRC, sha: shaMain, version: "0.4.2-rc.3",
		}},
		{name: "top-level null", raw: []byte("null"), want: want{err: ErrMalformed, phrase: "the event payload is missing"}},
		{name: "empty payload", raw: []byte(""), want: want{err: ErrMalformed, phrase: "the event payload is missing"}},
		{name: "top-level array", raw: []byte("[]"), want: want{err: ErrMalformed, phrase: "the event payload is a JSON array, want an object"}},
		{name: "top-level string", raw: []byte(`"x"`), want: want{err: ErrMalformed, phrase: "the event payload is a JSON string, want an object"}},
		{name: "trailing garbage", raw: []byte(`{} {}`), want: want{err: ErrMalformed, phrase: "the event payload is not valid JSON"}},
	}
	for _, tc := range tests {
		c := integration
		if tc.criteria != nil {
			c = *tc.criteria
		}
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var payload []byte
			switch {
			case tc.raw != nil:
				payload = tc.raw
			case tc.mutate != nil:
				payload = mutate(t, passed, tc.mutate)
			default:
				payload = readFixture(t, passed)
			}
			d, err := Decide(RepositoryDispatch, payload, c)
			tc.want.check(t, d, err)
		})
	}
}

func TestDecideStatusVariants(t *testing.T) {
	t.Parallel()
	set := func(k string, v any) func(ev map[string]any) {
		return func(ev map[string]any) { ev[k] = v }
	}
	tests := []struct {
		name     string
		mutate   func(ev map[string]any)
		criteria Criteria
		want
	}{
		{name: "prefix without slash takes its own statuses", criteria: Criteria{StatusContext: "kustomization/platform"}, want: want{
			promote: true, verb: "promote", phrase: "is success", sha: shaMain,
		}},
		{name: "prefix without slash does not take a longer name", mutate: set("context", "kustomization/platform-staging/7d0c1b8e"),
			criteria: Criteria{StatusContext: "kustomization/platform"}, want: want{
				verb: "ignored", phrase: "commit status kustomization/platform-staging/7d0c1b8e is not a kustomization/platform… status",
			}},
		{name: "one Provider pinned by its full context", criteria: Criteria{StatusContext: "kustomization/platform/7d0c1b8e"}, want: want{
			promote: true, verb: "promote", phrase: "is success", sha: shaMain,
		}},
		{name: "dispatch criteria do not apply", criteria: Criteria{SuccessPattern: "(", ClusterKey: "revision"}, want: want{
			promote: true, verb: "promote", phrase: "is success", sha: shaMain,
		}},
		{name: "pending", mutate: set("state", "pending"), want: want{verb: "ignored", phrase: "is pending, not success"}},
		{name: "no description", mutate: func(ev map[string]any) { ev["state"] = "error"; ev["description"] = nil }, want: want{
			verb: "ignored", phrase: "commit status kustomization/platform/7d0c1b8e is error, not success",
		}},
		{name: "short sha", mutate: set("sha", "9f2c4e1"), want: want{err: ErrMalformed, phrase: `status event sha "9f2c4e1" is not a full 40-hex commit sha`}},
		{name: "upper-case sha", mutate: set("sha", strings.ToUpper(shaMain)), want: want{err: ErrMalformed, phrase: "is not a full 40-hex commit sha"}},
		{name: "sha missing", mutate: func(ev map[string]any) { delete(ev, "sha") }, want: want{err: ErrMalformed, phrase: `status event sha ""`}},
		{name: "state missing", mutate: func(ev map[string]any) { delete(ev, "state") }, want: want{err: ErrMalformed, phrase: "status event needs context and state"}},
		{name: "context a number", mutate: set("context", 1), want: want{err: ErrMalformed, phrase: "context is a JSON number, want a string"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			payload := readFixture(t, "status.success.json")
			if tc.mutate != nil {
				payload = mutate(t, "status.success.json", tc.mutate)
			}
			d, err := Decide(Status, payload, tc.criteria)
			tc.want.check(t, d, err)
		})
	}
}

func TestDecideManualVariants(t *testing.T) {
	t.Parallel()
	inputs := func(in map[string]any) func(ev map[string]any) {
		return func(ev map[string]any) { ev["inputs"] = in }
	}
	tests := []struct {
		name   string
		mutate func(ev map[string]any)
		want
	}{
		{name: "other inputs of any type", mutate: inputs(map[string]any{"sha": shaMain, "dry_run": true, "note": nil}), want: want{
			promote: true, verb: "promote", phrase: "commit " + shaMain, sha: shaMain,
		}},
		{name: "short sha", mutate: inputs(map[string]any{"sha": "9f2c4e1"}), want: want{
			promote: true, verb: "promote", phrase: "manual promotion of commit 9f2c4e1 requested by oncall", sha: "9f2c4e1",
		}},
		{name: "pasted with spaces", mutate: inputs(map[string]any{"digest": " " + digestMan + "\n"}), want: want{
			promote: true, verb: "promote", phrase: digestMan, digest: digestMan,
		}},
		{name: "revision and digest agree", mutate: inputs(map[string]any{"revision": "0.4.2-rc.3@" + digestRC, "digest": digestRC, "sha": shaMain}), want: want{
			promote: true, verb: "promote", phrase: "manual promotion of 0.4.2-rc.3@" + digestRC + ", commit " + shaMain + " requested by oncall",
			revision: "0.4.2-rc.3@" + digestRC, digest: digestRC, sha: shaMain, version: "0.4.2-rc.3",
		}},
		{name: "digest-only revision", mutate: inputs(map[string]any{"revision": digestMan}), want: want{
			promote: true, verb: "promote", phrase: "manual promotion of " + digestMan, digest: digestMan,
		}},
		{name: "revision with a tag that is not a candidate", mutate: inputs(map[string]any{"revision": "integration-9f2c4e1@" + digestRC}), want: want{
			promote: true, verb: "promote", phrase: "integration-9f2c4e1@" + digestRC,
			revision: "integration-9f2c4e1@" + digestRC, digest: digestRC,
		}},
		{name: "no sender", mutate: func(ev map[string]any) { delete(ev, "sender") }, want: want{
			promote: true, verb: "promote", phrase: "manual promotion of commit " + shaMain + " requested", sha: shaMain,
		}},
		{name: "no inputs at all", mutate: func(ev map[string]any) { delete(ev, "inputs") }, want: want{
			err: ErrUsage, phrase: "manual promotion needs at least one input",
		}},
		{name: "only spaces", mutate: inputs(map[string]any{"sha": "  "}), want: want{
			err: ErrUsage, phrase: "manual promotion needs at least one input",
		}},
		{name: "bad digest", mutate: inputs(map[string]any{"digest": "sha256:abc"}), want: want{
			err: ErrUsage, phrase: `input digest: digest "sha256:abc" is not sha256:<64 lower-case hex>`,
		}},
		{name: "sha a number", mutate: inputs(map[string]any{"sha": 1234567}), want: want{
			err: ErrMalformed, phrase: "inputs.sha is a JSON number, want a string",
		}},
		{name: "inputs an array", mutate: func(ev map[string]any) { ev["inputs"] = []any{shaMain} }, want: want{
			err: ErrMalformed, phrase: "inputs is a JSON array, want an object",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// Criteria that would fail the dispatch route must not block a manual promotion.
			c := Criteria{SuccessPattern: "(", Object: "not an object"}
			d, err := Decide(WorkflowDispatch, mutate(t, "workflow_dispatch.sha.json", tc.mutate), c)
			tc.want.check(t, d, err)
		})
	}
}

func TestDecideInvalidCriteria(t *testing.T) {
	t.Parallel()
	long := "Kustomization/" + strings.Repeat("a", 80) + ".flux-system"
	tests := []struct {
		name     string
		criteria Criteria
		phrase   string
	}{
		{"no object", Criteria{Cluster: "integration"}, "object is required for repository_dispatch events"},
		{"object without namespace", Criteria{Object: "Kustomization/platform"}, `object "Kustomization/platform" is not <Kind>/<name>.<namespace>`},
		{"object with a newline", Criteria{Object: platform + "\n"}, `object "Kustomization/platform.flux-system\n" is not`},
		{"object too long for GitHub", Criteria{Object: long}, "GitHub refuses a dispatch event_type over 100"},
		{"bad success pattern", Criteria{Object: platform, SuccessPattern: "(Health"}, `success_pattern "(Health" is not a Go regular expression`},
		{"cluster key Flux owns", Criteria{Object: platform, ClusterKey: "revision"}, "cluster_key revision is a metadata key Flux sets itself"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d, err := Decide(RepositoryDispatch, readFixture(t, "repository_dispatch.health-check-passed.json"), tc.criteria)
			want{err: ErrUsage, phrase: tc.phrase}.check(t, d, err)
		})
	}
}

func TestDecideUnsupportedEvent(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"push", "", "Repository_Dispatch", "status\n::set-output name=promote::true"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			d, err := Decide(name, readFixture(t, "repository_dispatch.health-check-passed.json"), integration)
			want{err: ErrUsage, phrase: "dispatch-receiver handles repository_dispatch, status and workflow_dispatch events; got " + display(name)}.check(t, d, err)
		})
	}
}

func TestDecideOversizedPayload(t *testing.T) {
	t.Parallel()
	// Whitespace after the object keeps it valid JSON, so only the size decides.
	valid := readFixture(t, "repository_dispatch.health-check-passed.json")
	atLimit := append(bytes.Clone(valid), bytes.Repeat([]byte(" "), MaxPayloadBytes-len(valid))...)
	for _, name := range []string{RepositoryDispatch, Status, WorkflowDispatch} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			d, err := Decide(name, append(bytes.Clone(atLimit), ' '), integration)
			want{err: ErrMalformed, phrase: "event payload is 1048577 bytes, over the 1048576-byte limit"}.check(t, d, err)
		})
	}
	t.Run("at the limit", func(t *testing.T) {
		t.Parallel()
		d, err := Decide(RepositoryDispatch, atLimit, integration)
		if err != nil || !d.Promote {
			t.Errorf("Decide() = %+v, %v for a payload of exactly %d bytes, want promote", d, err, MaxPayloadBytes)
		}
	})
}

func TestQuote(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
	}{
		{"Health check passed in 4.2s", `"Health check passed in 4.2s"`},
		{"a\n::set-output name=promote::true", `"a\n::set-output name=promote::true"`},
		{"a%0A::set-output name=promote::true", `"a%250A::set-output name=promote::true"`},
		{"100%", `"100%25"`},
		{"cr\r\x1b[31mred\x07", `"cr\r\x1b[31mred\a"`},
		{"line\u2028sep\u202eevil", `"line\u2028sep\u202eevil"`},
		{"bad \xff utf-8", `"bad \xff utf-8"`},
		{`say "hi"`, `"say \"hi\""`},
		{strings.Repeat("é", 130), `"` + strings.Repeat("é", 120) + `"… (260 bytes)`},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			t.Parallel()
			got := quote(tc.in)
			if got != tc.want {
				t.Errorf("quote(%q) = %q, want %q", tc.in, got, tc.want)
			}
			checkReason(t, got)
		})
	}
}

func TestDisplay(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
	}{
		{platform, platform},
		{"kustomization/platform/7d0c1b8e", "kustomization/platform/7d0c1b8e"},
		{"integration", "integration"},
		{"", `""`},
		{"-flag", `"-flag"`},
		{"live cluster", `"live cluster"`},
		{"x\n::error::y", `"x\n::error::y"`},
		{"a%0Ab", `"a%250Ab"`},
		{strings.Repeat("a", 201), `"` + strings.Repeat("a", 120) + `"… (201 bytes)`},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			t.Parallel()
			if got, want := display(tc.in), tc.want; got != want {
				t.Errorf("display(%q) = %q, want %q", tc.in, got, want)
			}
		})
	}
}

// A promotion carries the validation it came from, cleaned for records people read.
func TestDecideCarriesTheValidation(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "events", "repository_dispatch.health-check-passed.json"))
	if err != nil {
		t.Fatal(err)
	}
	d, err := Decide(RepositoryDispatch, b, Criteria{Object: "Kustomization/platform.flux-system", Cluster: "integration"})
	if err != nil {
		t.Fatal(err)
	}
	// The fixture is captured from real Flux (make e2e-flux-capture): its message and time are
	// whatever that run took, so they are read from it.
	var ev struct {
		ClientPayload struct{ Message, Timestamp string } `json:"client_payload"`
	}
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatal(err)
	}
	if d.Cluster != "integration" || d.Message != ev.ClientPayload.Message || d.Time != ev.ClientPayload.Timestamp || !strings.HasPrefix(d.Message, "Health check passed in ") {
		t.Errorf("validation = %q, %q, %q; want integration and the fixture's %q, %q", d.Cluster, d.Message, d.Time, ev.ClientPayload.Message, ev.ClientPayload.Timestamp)
	}
	if got := plainText("ok\n::set-output name=x::y\u202e", 200); strings.ContainsAny(got, "\n\u202e") {
		t.Errorf("plainText kept a control character: %q", got)
	}
}
