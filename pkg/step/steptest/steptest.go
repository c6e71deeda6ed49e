// Package steptest runs a binary's body in-process as GitHub Actions or a shell would: with a
// fake environment, capturing stdout, stderr and the exit status.
package steptest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
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

// Leaks returns where secret appears in what a run printed or wrote: its stdout, its stderr
// (where the "::add-mask::" command that hides it in the Actions log is the one place it may
// appear), and the files given, such as GITHUB_OUTPUT and GITHUB_STEP_SUMMARY. A file that does
// not exist has nothing to leak.
func Leaks(t testing.TB, r Result, secret string, files ...string) []string {
	t.Helper()
	if secret == "" {
		t.Fatal("steptest.Leaks: empty secret")
	}
	var where []string
	if strings.Contains(r.Stdout, secret) {
		where = append(where, "stdout")
	}
	if strings.Contains(strings.ReplaceAll(r.Stderr, "::add-mask::"+secret+"\n", ""), secret) {
		where = append(where, "stderr")
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			t.Fatal(err)
		}
		if strings.Contains(string(b), secret) {
			where = append(where, filepath.Base(f))
		}
	}
	return where
}
