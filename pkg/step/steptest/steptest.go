// Package steptest runs a binary's body in-process as GitHub Actions or a shell would: with a
// fake environment, capturing stdout, stderr and the exit status.
package steptest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
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

// Invoke runs body with env as the whole process environment and args as its arguments. The
// test registries (package ocitest) list every write at once, so settle is 0s unless env sets
// INPUT_SETTLE (a --settle argument wins over both). c declares the binary, as step.Main takes it.
func Invoke(t testing.TB, c actionio.Command, body step.Body, env map[string]string, args ...string) Result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	getenv := func(k string) string {
		if v, ok := env[k]; ok || k != "INPUT_SETTLE" {
			return v
		}
		return "0s"
	}
	a := githubactions.New(githubactions.WithGetenv(getenv), githubactions.WithWriter(&stderr))
	run := func(ctx context.Context, a *githubactions.Action, args []string, stdout, stderr io.Writer) error {
		ctx, env, cancel := step.Bind(ctx, step.Env{})
		defer cancel()
		return body(ctx, a, args, stdout, stderr, env)
	}
	code := actionio.Main(context.Background(), c, run, a, args, &stdout, &stderr)
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

// Refusal is what a run given a bad input must do: exit with Code (1 or 2 when 0), say each of
// Say on stderr (what is wrong and what to do), set no output, and leak Secret nowhere.
type Refusal struct {
	Code   int
	Say    []string
	Secret string
}

// Refused runs body with env (and GITHUB_OUTPUT pointed at a file of its own) and args, and checks
// that it refused as r says.
func Refused(t *testing.T, c actionio.Command, body step.Body, env map[string]string, args []string, r Refusal) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "output")
	all := map[string]string{"GITHUB_OUTPUT": out}
	for k, v := range env {
		all[k] = v
	}
	res := Invoke(t, c, body, all, args...)
	switch {
	case r.Code == 0 && res.Code != 1 && res.Code != 2:
		t.Errorf("exit = %d, want 1 or 2; stderr:\n%s", res.Code, res.Stderr)
	case r.Code != 0 && res.Code != r.Code:
		t.Errorf("exit = %d, want %d; stderr:\n%s", res.Code, r.Code, res.Stderr)
	}
	for _, want := range r.Say {
		if !strings.Contains(res.Stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, res.Stderr)
		}
	}
	if r.Secret != "" {
		if where := Leaks(t, res, r.Secret, out); len(where) != 0 {
			t.Errorf("the secret leaked into %v:\n%s%s", where, res.Stdout, res.Stderr)
		}
	}
	if b, _ := os.ReadFile(out); len(b) != 0 {
		t.Errorf("a refused run set outputs:\n%s", b)
	}
}

// Spoken runs body twice with the inputs in env (INPUT_*, which both a terminal and Actions
// read): on a terminal, where its error must say terminal (inputs named as --flags), and as a
// GitHub Actions step, where it must say actions (inputs named as with: sets them) and not
// terminal. Both runs must exit 2, a usage error.
func Spoken(t *testing.T, c actionio.Command, body step.Body, env map[string]string, terminal, actions string) {
	t.Helper()
	for _, inActions := range []bool{false, true} {
		all := map[string]string{}
		for k, v := range env {
			all[k] = v
		}
		want, not := terminal, actions
		if inActions {
			all["GITHUB_ACTIONS"] = "true"
			want, not = actions, terminal
		}
		res := Invoke(t, c, body, all)
		if res.Code != 2 || !strings.Contains(res.Stderr, want) || strings.Contains(res.Stderr, not) {
			t.Errorf("in Actions %v: exit %d, stderr:\n%s\nwant exit 2, saying %q and not %q", inActions, res.Code, res.Stderr, want, not)
		}
	}
}

// DecodeOutputs reads the outputs a binary printed with --json into dst in the form GitHub
// Actions gets them (each a string: a boolean as true/false, a number in decimal, a list
// comma-separated), after checking that each value is a string, a boolean, a number or an
// array of strings and not a string that spells one of those.
func DecodeOutputs(stdout string, dst *map[string]string) error {
	var raw map[string]any
	if err := json.Unmarshal([]byte(stdout), &raw); err != nil {
		return err
	}
	out := make(map[string]string, len(raw))
	for k, v := range raw {
		switch v := v.(type) {
		case string:
			if v == "true" || v == "false" {
				return fmt.Errorf("output %s is the string %q, not a JSON boolean", k, v)
			}
			out[k] = v
		case bool:
			out[k] = strconv.FormatBool(v)
		case float64:
			out[k] = strconv.FormatFloat(v, 'f', -1, 64)
		case []any:
			items := make([]string, len(v))
			for i, item := range v {
				s, ok := item.(string)
				if !ok {
					return fmt.Errorf("output %s holds %v (%T), not a string", k, item, item)
				}
				items[i] = s
			}
			out[k] = strings.Join(items, ",")
		default:
			return fmt.Errorf("output %s is %v (%T), not a string, boolean, number or list", k, v, v)
		}
	}
	*dst = out
	return nil
}
