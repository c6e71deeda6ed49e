package main

import (
	"testing"

	"github.com/ocipromote/ocipromote/pkg/step/steptest"
)

// Issue 14: an error names an input as the user gives it, --success-pattern on a terminal,
// success_pattern in a workflow's with:.
func TestDispatchReceiverErrorsNameFlagsOrInputs(t *testing.T) {
	t.Parallel()
	event := map[string]string{"INPUT_EVENT_NAME": "repository_dispatch", "INPUT_EVENT_PATH": fixture("repository_dispatch.health-check-passed.json"), "INPUT_OBJECT": "Kustomization/platform.flux-system"}
	with := func(kv ...string) map[string]string {
		env := map[string]string{}
		for k, v := range event {
			env[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			env[kv[i]] = kv[i+1]
		}
		return env
	}
	tests := []struct {
		name              string
		env               map[string]string
		terminal, actions string
	}{
		{"no event", map[string]string{}, "--event-name and --event-path are required", "event_name and event_path are required"},
		{"object", with("INPUT_OBJECT", ""), "--object is required for repository_dispatch events", "input object is required for repository_dispatch events"},
		{"pattern", with("INPUT_SUCCESS_PATTERN", "(Health"), "--success-pattern \"(Health\" is not a Go regular expression", "success_pattern \"(Health\" is not a Go regular expression"},
		{"cluster key", with("INPUT_CLUSTER_KEY", "a b"), "--cluster-key \"a b\" is not a metadata key name", "cluster_key \"a b\" is not a metadata key name"},
		{"pair", with("INPUT_REPOSITORY", "127.0.0.1:1/acme/app", "INPUT_PASSWORD", "pw"), "--username and --password go together", "input username and input password go together"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			steptest.Spoken(t, command, run, tc.env, tc.terminal, tc.actions)
		})
	}
}
