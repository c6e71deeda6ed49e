package event

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/ocipromote/ocipromote/pkg/stage"
)

// stageEvent is a Flux event as a githubdispatch Provider sends it from the cluster of a stage.
func stageEvent(t *testing.T, cluster, severity, message, revision string) []byte {
	t.Helper()
	meta := map[string]string{"originRevision": "main@sha1:" + shaMain}
	if cluster != "" {
		meta["cluster"] = cluster
	}
	if revision != "" {
		meta["revision"] = revision
	}
	b, err := json.Marshal(map[string]any{
		"action": platform,
		"client_payload": map[string]any{
			"involvedObject": map[string]string{"kind": "Kustomization", "name": "platform", "namespace": "flux-system"},
			"severity":       severity, "message": message, "timestamp": "2026-12-02T13:37:49Z", "metadata": meta,
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecideStage(t *testing.T) {
	t.Parallel()
	chain, err := stage.Parse("dev,preprod,prod")
	if err != nil {
		t.Fatal(err)
	}
	const passed, failed = "Health check passed in 2s", "Health check failed after 5m"
	tests := []struct {
		name                        string
		cluster, severity, msg, rev string
		promote                     bool
		stage, next, failed, phrase string
	}{
		{name: "dev proves its candidate", cluster: "dev", severity: "info", msg: passed, rev: "1.3.0-rc.4@" + digestRC,
			promote: true, stage: "dev", next: "preprod", phrase: "promote: "},
		{name: "preprod proves its tag", cluster: "preprod", severity: "info", msg: passed, rev: "1.3.0-preprod.4@" + digestRC,
			promote: true, stage: "preprod", next: "prod", phrase: "which promotes it to prod"},
		{name: "the last stage promotes nothing", cluster: "prod", severity: "info", msg: passed, rev: "1.3.0@" + digestRC,
			stage: "prod", phrase: "the last stage: nothing is promoted"},
		{name: "a stage reporting another stage's tag", cluster: "preprod", severity: "info", msg: passed, rev: "1.3.0-rc.4@" + digestRC,
			stage: "", phrase: "it is a tag of stage dev"},
		{name: "a stage reporting a foreign tag", cluster: "dev", severity: "info", msg: passed, rev: "1.3.0-rc1@" + digestRC,
			phrase: "not a tag of dev"},
		{name: "a cluster that is no stage", cluster: "integration", severity: "info", msg: passed, rev: "1.3.0-rc.4@" + digestRC,
			phrase: "which is no stage of dev,preprod,prod"},
		{name: "no cluster", severity: "info", msg: passed, rev: "1.3.0-rc.4@" + digestRC,
			phrase: "the stage it comes from is unknown"},
		{name: "a failure in preprod", cluster: "preprod", severity: "error", msg: failed, rev: "1.3.0-preprod.4@" + digestRC,
			stage: "preprod", failed: "1.3.0-preprod.4@" + digestRC, phrase: "its pass there is cancelled"},
		{name: "a failure about another stage's tag", cluster: "preprod", severity: "error", msg: failed, rev: "1.3.0@" + digestRC,
			phrase: "it is a tag of stage prod"},
		{name: "info that is no success", cluster: "dev", severity: "info", msg: "Reconciliation in progress", rev: "1.3.0-rc.4@" + digestRC,
			phrase: "is not a success signal"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d, err := Decide(RepositoryDispatch, stageEvent(t, tc.cluster, tc.severity, tc.msg, tc.rev), Criteria{Object: platform, Stages: &chain})
			if err != nil {
				t.Fatal(err)
			}
			if got, want := d.Promote, tc.promote; got != want {
				t.Errorf("promote = %t, want %t (%s)", got, want, d.Reason)
			}
			if got, want := d.Stage, tc.stage; got != want {
				t.Errorf("stage = %q, want %q", got, want)
			}
			if got, want := d.Next, tc.next; got != want {
				t.Errorf("next = %q, want %q", got, want)
			}
			if got, want := d.Failed, tc.failed; got != want {
				t.Errorf("failed = %q, want %q", got, want)
			}
			if !strings.Contains(d.Reason, tc.phrase) {
				t.Errorf("reason %q does not say %q", d.Reason, tc.phrase)
			}
			if !d.Promote && (d.Digest != "" || d.Revision != "") {
				t.Errorf("an event that does not promote sets digest %q, revision %q", d.Digest, d.Revision)
			}
			if d.Promote && (d.Digest != digestRC || d.Sha != shaMain) {
				t.Errorf("digest, sha = %s, %s; want %s, %s", d.Digest, d.Sha, digestRC, shaMain)
			}
		})
	}
}
