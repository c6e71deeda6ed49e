package main

import (
	"context"
	"io"
	"testing"

	"github.com/sethvargo/go-githubactions"

	"github.com/ocipromote/ocipromote/pkg/step"

	"github.com/ocipromote/ocipromote/pkg/step/steptest"
)

// Issue 14: an error names an input as the user gives it, --prune-stable on a terminal,
// prune_stable in a workflow's with:. ocipromote reads its command from its arguments; the
// inputs come from the environment in both runs.
func TestOcipromoteErrorsNameFlagsOrInputs(t *testing.T) {
	t.Parallel()
	const repo = "127.0.0.1:1/acme/app"
	tests := []struct {
		name              string
		command           string
		env               map[string]string
		terminal, actions string
	}{
		{"whole number", "prune", map[string]string{"INPUT_REPOSITORY": repo, "INPUT_KEEP_STABLE": "ten", "INPUT_KEEP_RC_DAYS": "3"}, "--keep-stable must be a whole number", "input keep_stable must be a whole number"},
		{"rule", "prune", map[string]string{"INPUT_REPOSITORY": repo, "INPUT_KEEP_STABLE": "0", "INPUT_KEEP_RC_DAYS": "3"}, "--keep-stable must be at least 1", "keep_stable must be at least 1"},
		{"bool", "prune", map[string]string{"INPUT_REPOSITORY": repo, "INPUT_KEEP_STABLE": "3", "INPUT_KEEP_RC_DAYS": "3", "INPUT_PRUNE_STABLE": "often"}, "--prune-stable must be true or false", "input prune_stable must be true or false"},
		{"required", "rollback", map[string]string{"INPUT_REPOSITORY": repo, "INPUT_TO": "0.1.0"}, "missing required --reason (or INPUT_REASON)", "missing required input reason"},
		{"format", "status", map[string]string{"INPUT_REPOSITORY": repo, "INPUT_FORMAT": "html"}, "--format must be text or markdown", "input format must be text or markdown"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			body := func(ctx context.Context, a *githubactions.Action, _ []string, stdout, stderr io.Writer, env step.Env) error {
				return run(ctx, a, []string{tc.command}, stdout, stderr, env)
			}
			steptest.Spoken(t, binary, body, tc.env, tc.terminal, tc.actions)
		})
	}
}
