package main

import (
	"strings"
	"testing"

	"github.com/ocipromote/ocipromote/pkg/step/steptest"
)

func TestDispatchReceiverStages(t *testing.T) {
	t.Parallel()
	base := func() map[string]string {
		return map[string]string{
			"GITHUB_EVENT_NAME": "repository_dispatch", "GITHUB_EVENT_PATH": fixture("repository_dispatch.health-check-passed.json"),
			"INPUT_OBJECT": "Kustomization/platform.flux-system",
		}
	}
	// The default chain answers as before, and names the promotion integration to live.
	r := steptest.Invoke(t, command, run, base(), "--json")
	var got map[string]string
	if err := steptest.DecodeOutputs(r.Stdout, &got); err != nil || r.Code != 0 {
		t.Fatalf("exit %d, %v:\n%s%s", r.Code, err, r.Stdout, r.Stderr)
	}
	if got["promote"] != "true" || got["from"] != "integration" || got["to"] != "live" {
		t.Errorf("default chain: outputs %v, want promote=true from=integration to=live", got)
	}

	// Another chain records evidence, so it needs the repository: a usage error without it.
	env := base()
	env["INPUT_STAGES"] = "dev,preprod,prod"
	r = steptest.Invoke(t, command, run, env)
	if r.Code != 2 || !strings.Contains(r.Stderr, "repository is required with stages dev,preprod,prod") {
		t.Errorf("stages without repository: exit %d, want 2:\n%s", r.Code, r.Stderr)
	}
	env["INPUT_STAGES"] = "dev,rc"
	if r = steptest.Invoke(t, command, run, env); r.Code != 2 || !strings.Contains(r.Stderr, "stages") {
		t.Errorf("a malformed chain: exit %d, want 2:\n%s", r.Code, r.Stderr)
	}
}
