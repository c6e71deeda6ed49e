package event

import (
	"strings"
	"testing"
	"time"
)

// Hostile or mistaken criteria are usage errors that say what is wrong and what to set instead,
// each on the route it belongs to.
func TestDecideHostileCriteria(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		event    string
		criteria Criteria
		phrases  []string // what is wrong, and what to do
	}{
		{"cluster_key with a newline", RepositoryDispatch, Criteria{Object: platform, ClusterKey: "cluster\n::error::x"},
			[]string{`cluster_key "cluster\n::error::x" is not a metadata key name`, "use the key your Alert's spec.eventMetadata sets"}},
		{"cluster_key with shell metacharacters", RepositoryDispatch, Criteria{Object: platform, ClusterKey: "$(id)"},
			[]string{`cluster_key "$(id)" is not a metadata key name`, "use the key"}},
		{"oversized cluster key", RepositoryDispatch, Criteria{Object: platform, ClusterKey: strings.Repeat("k", 64)},
			[]string{"is not a metadata key name", "at most 63", "use the key"}},
		{"cluster with a newline", RepositoryDispatch, Criteria{Object: platform, Cluster: "integration\n::set-output name=promote::true"},
			[]string{`cluster "integration\n::set-output`, "is not a cluster name", "use the value your Alert's spec.eventMetadata.cluster sets"}},
		{"invalid pattern", RepositoryDispatch, Criteria{Object: platform, SuccessPattern: "(Health"},
			[]string{`success_pattern "(Health" is not a Go regular expression`, "fix it"}},
		{"pattern too large to compile", RepositoryDispatch, Criteria{Object: platform, SuccessPattern: "(a{1000}){1000}"},
			[]string{"is not a Go regular expression", "invalid repeat count", "fix it"}},
		{"oversized pattern", RepositoryDispatch, Criteria{Object: platform, SuccessPattern: strings.Repeat("(", 5000) + strings.Repeat(")", 5000)},
			[]string{"success_pattern", "10000 bytes, over the 1024-byte limit", "match the start of Flux's success message"}},
		{"status_context with a newline", Status, Criteria{StatusContext: "kustomization/\n::error::x"},
			[]string{`status_context "kustomization/\n::error::x" is not a commit status context prefix`, "use the start of the context Flux's github Provider posts"}},
		{"oversized status context", Status, Criteria{StatusContext: strings.Repeat("k", 201)},
			[]string{"is not a commit status context prefix", "at most 200", "use the start of the context"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			file := "repository_dispatch.health-check-passed.json"
			if tc.event == Status {
				file = "status.success.json"
			}
			d, err := Decide(tc.event, readFixture(t, file), tc.criteria)
			for _, p := range tc.phrases {
				want{err: ErrUsage, phrase: p}.check(t, d, err)
			}
		})
	}
}

// Go's regexp runs in time linear in the message whatever the pattern, so a pattern that would
// backtrack catastrophically elsewhere decides at once on a hostile message.
func TestDecideCatastrophicPatternIsLinear(t *testing.T) {
	t.Parallel()
	message := strings.Repeat("a", 100_000) + "!"
	payload := mutate(t, "repository_dispatch.health-check-passed.json", func(ev map[string]any) {
		ev["client_payload"].(map[string]any)["message"] = message
	})
	start := time.Now()
	d, err := Decide(RepositoryDispatch, payload, Criteria{Object: platform, SuccessPattern: `^(a+)+$`})
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("Decide took %v on a 100 kB message", took)
	}
	want{verb: "ignored", phrase: "is not a success signal"}.check(t, d, err)
}

// A person may paste a sha in upper case: the manual route lowers it, as tag-validated does.
func TestDecideManualUpperCaseSha(t *testing.T) {
	t.Parallel()
	for _, in := range []string{strings.ToUpper(shaMain), strings.ToUpper(shaMain[:7]), " " + strings.ToUpper(shaMain) + "\n"} {
		payload := mutate(t, "workflow_dispatch.sha.json", func(ev map[string]any) { ev["inputs"] = map[string]any{"sha": in} })
		d, err := Decide(WorkflowDispatch, payload, Criteria{})
		lower := strings.ToLower(strings.TrimSpace(in))
		want{promote: true, verb: "promote", phrase: "commit " + lower, sha: lower}.check(t, d, err)
	}
	payload := mutate(t, "workflow_dispatch.sha.json", func(ev map[string]any) { ev["inputs"] = map[string]any{"sha": "ABC"} })
	d, err := Decide(WorkflowDispatch, payload, Criteria{})
	want{err: ErrUsage, phrase: `input sha: commit sha "ABC" is not 4 to 40 hex characters; give the full or short commit sha`}.check(t, d, err)
}
