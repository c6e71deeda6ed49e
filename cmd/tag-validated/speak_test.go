package main

import (
	"testing"

	"github.com/ocipromote/ocipromote/pkg/step/steptest"
)

// Issue 14: an error names an input as the user gives it, --dry-run on a terminal, dry_run in a
// workflow's with:.
func TestTagValidatedErrorsNameFlagsOrInputs(t *testing.T) {
	t.Parallel()
	const repo = "127.0.0.1:1/acme/app"
	tests := []struct {
		name              string
		env               map[string]string
		terminal, actions string
	}{
		{"bool", map[string]string{"INPUT_REPOSITORY": repo, "INPUT_SHA": "abc1234", "INPUT_DRY_RUN": "maybe"}, "--dry-run must be true or false", "input dry_run must be true or false"},
		{"none named", map[string]string{"INPUT_REPOSITORY": repo}, "with --revision, --digest or --sha", "with input revision, input digest or input sha"},
		{"duration", map[string]string{"INPUT_REPOSITORY": repo, "INPUT_SHA": "abc1234", "INPUT_REQUEST_TIMEOUT": "soon"}, "--request-timeout must be a positive Go duration", "input request_timeout must be a positive Go duration"},
		{"verify", map[string]string{"INPUT_REPOSITORY": repo, "INPUT_SHA": "abc1234", "INPUT_VERIFY": "true"}, "set --signer-repository or GITHUB_REPOSITORY", "set input signer_repository or GITHUB_REPOSITORY"},
		{"trusted root", map[string]string{"INPUT_REPOSITORY": repo, "INPUT_SHA": "abc1234", "INPUT_VERIFY": "true", "INPUT_SIGNER_REPOSITORY": "acme/app", "INPUT_TRUSTED_ROOT": "/nonexistent/trusted_root.json"}, "--trusted-root: open /nonexistent", "input trusted_root: open /nonexistent"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			steptest.Spoken(t, command, run, tc.env, tc.terminal, tc.actions)
		})
	}
}
