package actionio

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sethvargo/go-githubactions"
)

var cmd = Command{Name: "x", Summary: "test", Inputs: []Input{
	{Name: "repository", Required: true},
	{Name: "sha", ContextEnv: "GITHUB_SHA"},
	{Name: "bump", Default: "patch"},
	{Name: "dry_run", Bool: true},
	{Name: "password", Secret: true},
	{Name: "ignore", List: true},
}}

func action(env map[string]string, w *bytes.Buffer) *githubactions.Action {
	return githubactions.New(githubactions.WithGetenv(func(k string) string { return env[k] }), githubactions.WithWriter(w))
}

func TestParsePrecedence(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want map[string]string
	}{
		{"defaults", map[string]string{"INPUT_REPOSITORY": "r"}, nil,
			map[string]string{"sha": "", "bump": "patch", "dry_run": "false"}},
		{"context default", map[string]string{"INPUT_REPOSITORY": "r", "GITHUB_SHA": "abc"}, nil,
			map[string]string{"sha": "abc"}},
		{"input beats context", map[string]string{"INPUT_REPOSITORY": "r", "GITHUB_SHA": "abc", "INPUT_SHA": "def"}, nil,
			map[string]string{"sha": "def"}},
		{"flag beats input", map[string]string{"INPUT_REPOSITORY": "r", "INPUT_SHA": "def", "INPUT_BUMP": "minor"}, []string{"--sha", "123", "--bump=major"},
			map[string]string{"sha": "123", "bump": "major"}},
		{"bare bool flag", map[string]string{"INPUT_REPOSITORY": "r"}, []string{"--dry-run"},
			map[string]string{"dry_run": "true"}},
		{"bool input", map[string]string{"INPUT_REPOSITORY": "r", "INPUT_DRY_RUN": "TRUE"}, nil,
			map[string]string{"dry_run": "true"}},
		// Issue 14: --ignore given twice kept only the last pattern, letting a secret in.
		{"list flag repeated", map[string]string{"INPUT_REPOSITORY": "r"}, []string{"--ignore", "*.env", "-ignore=secrets/"},
			map[string]string{"ignore": "*.env\nsecrets/"}},
		{"single flag given twice takes the last", map[string]string{"INPUT_REPOSITORY": "r"}, []string{"--sha", "a", "--sha", "b"},
			map[string]string{"sha": "b"}},
		{"list flag beats list input", map[string]string{"INPUT_REPOSITORY": "r", "INPUT_IGNORE": "a\nb"}, []string{"--ignore", "c"},
			map[string]string{"ignore": "c"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var w bytes.Buffer
			v, err := Parse(cmd, action(tc.env, &w), tc.args, &w)
			if err != nil {
				t.Fatal(err)
			}
			for k, want := range tc.want {
				if got := v.Get(k); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"required", nil, nil, "input repository (or INPUT_REPOSITORY)"},
		{"bad bool", map[string]string{"INPUT_REPOSITORY": "r", "INPUT_DRY_RUN": "yes please"}, nil, "dry_run must be true or false"},
		{"positional", map[string]string{"INPUT_REPOSITORY": "r"}, []string{"extra"}, "unexpected argument"},
		{"unknown flag", nil, []string{"--nope"}, "unknown flag --nope"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var w bytes.Buffer
			_, err := Parse(cmd, action(tc.env, &w), tc.args, &w)
			if !errors.Is(err, ErrUsage) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want a usage error mentioning %q", err, tc.want)
			}
		})
	}
}

// In Actions a secret input is masked; anywhere else the mask command would print it, so it is
// not sent.
func TestSecretsAreMasked(t *testing.T) {
	t.Parallel()
	for _, inActions := range []bool{true, false} {
		var w bytes.Buffer
		env := map[string]string{"INPUT_REPOSITORY": "r", "INPUT_PASSWORD": "hunter2"}
		if inActions {
			env["GITHUB_ACTIONS"] = "true"
		}
		if _, err := Parse(cmd, action(env, &w), nil, &w); err != nil {
			t.Fatal(err)
		}
		switch got := w.String(); {
		case inActions && !strings.Contains(got, "::add-mask::hunter2"):
			t.Errorf("in Actions: no mask command; wrote %q", got)
		case !inActions && strings.Contains(got, "hunter2"):
			t.Errorf("outside Actions: the secret was printed: %q", got)
		}
	}
}

func TestEmit(t *testing.T) {
	t.Parallel()
	outFile := filepath.Join(t.TempDir(), "out")
	var w, stdout bytes.Buffer
	a := action(map[string]string{"GITHUB_OUTPUT": outFile}, &w)
	outs := Outputs{{Name: "version", Value: "0.0.1-rc.1"}, {Name: "reason", Value: "ignored: a\nb"},
		Bool("promoted", false), List("tags", []string{"a", "b"}), List("none", nil), Int("deleted", 3)}
	if err := Emit(a, &stdout, true, outs); err != nil {
		t.Fatal(err)
	}
	// Typed with --json (issue 14: "promoted":"false" made `jq -e .promoted` true).
	if got, want := stdout.String(), `{"deleted":3,"none":[],"promoted":false,"reason":"ignored: a\nb","tags":["a","b"],"version":"0.0.1-rc.1"}`+"\n"; got != want {
		t.Errorf("JSON = %s, want %s", got, want)
	}
	// Strings in GITHUB_OUTPUT, as Actions requires.
	b, _ := os.ReadFile(outFile)
	for _, want := range []string{"version<<", "0.0.1-rc.1", "promoted<<", "\nfalse\n", "tags<<", "\na,b\n", "deleted<<", "\n3\n"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("GITHUB_OUTPUT lacks %q:\n%s", want, b)
		}
	}
	stdout.Reset()
	if err := Emit(action(nil, &w), &stdout, false, outs); err != nil {
		t.Fatal(err)
	}
	if got, want := stdout.String(), "version=0.0.1-rc.1\nreason=ignored: a b\npromoted=false\ntags=a,b\nnone=\ndeleted=3\n"; got != want {
		t.Errorf("plain outputs = %q, want %q", got, want)
	}
}

func TestTableEscapesCells(t *testing.T) {
	t.Parallel()
	got := Table("h", Outputs{{Name: "reason", Value: "a|b `c`\nd"}})
	if want := "| reason | `a\\|b 'c' d` |"; !strings.Contains(got, want) {
		t.Errorf("Table = %q, want a row %q", got, want)
	}
}

// Issue 14: a mistyped flag's error scrolled away under the whole usage. It is now the only thing
// printed, last, with the flag that was probably meant.
func TestMistypedFlag(t *testing.T) {
	t.Parallel()
	tests := []struct{ arg, say string }{
		{"--dry-rn", "unknown flag --dry-rn (did you mean --dry-run?)"},
		{"--igonre=x", "unknown flag --igonre (did you mean --ignore?)"},
		{"--repo", "unknown flag --repo (did you mean --repository?)"},
		{"--dry_run", "unknown flag --dry_run (did you mean --dry-run?)"},
		{"--zzzzzz", "unknown flag --zzzzzz; run x --help"},
	}
	for _, tc := range tests {
		var stdout, stderr bytes.Buffer
		run := func(ctx context.Context, a *githubactions.Action, args []string, stdout, stderr io.Writer) error {
			_, err := Parse(cmd, a, args, stdout)
			return err
		}
		code := Main(context.Background(), cmd, run, action(nil, &stderr), []string{tc.arg}, &stdout, &stderr)
		if code != 2 || stdout.Len() != 0 {
			t.Errorf("%s: exit %d, stdout %q; want 2 and no usage", tc.arg, code, stdout.String())
		}
		lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
		if len(lines) != 1 || !strings.Contains(lines[0], tc.say) {
			t.Errorf("%s: stderr %q, want one line saying %q", tc.arg, stderr.String(), tc.say)
		}
	}
}

func TestHelpAndVersion(t *testing.T) {
	t.Parallel()
	for arg, want := range map[string]string{"--help": "Exit status: 0 when", "--version": "x (devel)"} {
		var w bytes.Buffer
		_, err := Parse(cmd, action(nil, &w), []string{arg}, &w)
		if !errors.Is(err, ErrHelp) || !strings.Contains(w.String(), want) {
			t.Errorf("%s: err %v, printed %q; want ErrHelp and %q", arg, err, w.String(), want)
		}
	}
}

// Issue 14: messages named inputs (keep_stable) where a terminal user types flags. Main speaks
// every error for the user at hand: unchanged in Actions, with inputs as flags on a terminal;
// names that only look like inputs (longer identifiers, environment variables, file names, event
// names) are left alone.
func TestMainSpeaksInputsAsFlags(t *testing.T) {
	t.Parallel()
	c := Command{Name: "x", Inputs: []Input{{Name: "keep_stable"}, {Name: "dry_run", Bool: true}, {Name: "trusted_root"}, {Name: "to"}, {Name: "timeout"}}}
	tests := []struct{ msg, terminal string }{
		{"keep_stable must be at least 1 (see keep_stable_x, INPUT_KEEP_STABLE); or set keep_stable.",
			"--keep-stable must be at least 1 (see keep_stable_x, INPUT_KEEP_STABLE); or set --keep-stable."},
		{"keep_stable,keep_stable and dry_run", "--keep-stable,--keep-stable and --dry-run"},
		{"give a Sigstore trusted_root.json as input trusted_root", "give a Sigstore trusted_root.json as --trusted-root"},
		{"missing required input to (or INPUT_TO); the time to go", "missing required --to (or INPUT_TO); the time to go"},
		{"the step's timeout (input timeout) ran out; raise the timeout input", "the step's timeout (--timeout) ran out; raise --timeout"},
		{"$dry_run and repository_dispatch stay", "$dry_run and repository_dispatch stay"},
	}
	for _, tc := range tests {
		for inActions, want := range map[string]string{"": tc.terminal, "true": tc.msg} {
			var stdout, stderr bytes.Buffer
			run := func(context.Context, *githubactions.Action, []string, io.Writer, io.Writer) error {
				return Usagef("%s", tc.msg)
			}
			if code := Main(context.Background(), c, run, action(map[string]string{"GITHUB_ACTIONS": inActions}, &stderr), nil, &stdout, &stderr); code != 2 {
				t.Errorf("exit %d, want 2", code)
			}
			if !strings.Contains(stderr.String(), want) {
				t.Errorf("GITHUB_ACTIONS=%q: stderr %q, want it to say %q", inActions, stderr.String(), want)
			}
		}
	}
}
