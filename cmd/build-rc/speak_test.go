package main

import (
	"testing"

	"github.com/ocipromote/ocipromote/pkg/oci/ocitest"
	"github.com/ocipromote/ocipromote/pkg/step/steptest"
)

// Issue 14: an error names an input as the user gives it, --dry-run on a terminal, dry_run in a
// workflow's with:.
func TestBuildRCErrorsNameFlagsOrInputs(t *testing.T) {
	t.Parallel()
	srv := ocitest.New(t)
	valid := func(kv ...string) map[string]string {
		env := map[string]string{"INPUT_REPOSITORY": srv.Host + "/acme/app", "INPUT_PATH": manifestsDir(t), "INPUT_SHA": commit, "INPUT_CREATED": "2026-08-01T10:00:00Z"}
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
		{"bool", valid("INPUT_DRY_RUN", "maybe"), "--dry-run must be true or false", "input dry_run must be true or false"},
		{"range", valid("INPUT_SHORT_SHA_LENGTH", "3"), "--short-sha-length must be between 4 and 40", "short_sha_length must be between 4 and 40"},
		{"required", map[string]string{}, "missing required --repository (or INPUT_REPOSITORY)", "missing required input repository"},
		{"empty", valid("INPUT_PATH", t.TempDir()), "to push it anyway, pass --allow-empty", "to push it anyway, pass input allow_empty"},
		{"pair", valid("INPUT_USERNAME", "ci"), "--username and --password go together", "input username and input password go together"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			steptest.Spoken(t, command, run, tc.env, tc.terminal, tc.actions)
		})
	}
}
