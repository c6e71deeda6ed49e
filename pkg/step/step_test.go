package step

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/sethvargo/go-githubactions"

	"github.com/ocipromote/ocipromote/pkg/actionio"
)

// Main takes everything a process gives (arguments, streams, environment) from its caller and
// returns the exit status instead of exiting, so it runs here without a process.
func TestMainReturnsTheExitStatus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		err        error
		env        map[string]string
		code       int
		wantStderr string
	}{
		{"done", nil, nil, 0, ""},
		{"failure", errors.New("registry down; run again later"), nil, 1, "demo: error: registry down; run again later"},
		{"usage", actionio.Usagef("sha is required: pass --sha"), nil, 2, "demo: error: usage: sha is required"},
		{"annotation from the given environment", errors.New("boom"), map[string]string{"GITHUB_ACTIONS": "true"}, 1, "::error::demo: boom"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var gotArgs []string
			body := func(_ context.Context, a *githubactions.Action, args []string, stdout, _ io.Writer, _ Env) error {
				gotArgs = args
				_, _ = io.WriteString(stdout, a.Getenv("MARK"))
				return tc.err
			}
			env := map[string]string{"MARK": "from-getenv"}
			for k, v := range tc.env {
				env[k] = v
			}
			var stdout, stderr bytes.Buffer
			code := Main("demo", body, []string{"--x", "1"}, &stdout, &stderr, func(k string) string { return env[k] })
			if got, want := code, tc.code; got != want {
				t.Errorf("Main = %d, want %d; stderr:\n%s", got, want, stderr.String())
			}
			if got, want := strings.Join(gotArgs, " "), "--x 1"; got != want {
				t.Errorf("body got args %q, want %q", got, want)
			}
			if got, want := stdout.String(), "from-getenv"; got != want {
				t.Errorf("body read %q from the environment, want %q (the getenv Main was given)", got, want)
			}
			if !strings.Contains(stderr.String(), tc.wantStderr) {
				t.Errorf("stderr = %q, want it to contain %q", stderr.String(), tc.wantStderr)
			}
		})
	}
}
