// Package steptest runs a binary's body in-process as GitHub Actions or a shell would: with a
// fake environment, capturing stdout, stderr and the exit status.
package steptest

import (
	"bytes"
	"context"
	"io"
	"testing"

	"github.com/sethvargo/go-githubactions"

	"github.com/ocipromote/ocipromote/pkg/actionio"
	"github.com/ocipromote/ocipromote/pkg/step"
)

// Result is what a run printed and how it exited.
type Result struct {
	Code           int
	Stdout, Stderr string
}

// Invoke runs body with env as the whole process environment and args as its arguments.
func Invoke(t testing.TB, name string, body step.Body, env map[string]string, args ...string) Result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	a := githubactions.New(githubactions.WithGetenv(func(k string) string { return env[k] }), githubactions.WithWriter(&stderr))
	run := func(ctx context.Context, a *githubactions.Action, args []string, stdout, stderr io.Writer) error {
		return body(ctx, a, args, stdout, stderr, step.Env{})
	}
	code := actionio.Main(context.Background(), name, run, a, args, &stdout, &stderr)
	return Result{code, stdout.String(), stderr.String()}
}
