package examples

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
)

// flagSpec is one input of a binary as its --help documents it.
type flagSpec struct {
	required   bool
	boolean    bool
	hasDefault bool
	def        string
}

var (
	helpFlag = regexp.MustCompile(`^  -([a-z0-9-]+)( value)?$`)
	helpEnv  = regexp.MustCompile(`\[env (INPUT_[A-Z0-9_]+)([^\]]*)\]$`)
	helpDef  = regexp.MustCompile(`, default ("(?:[^"\\]|\\.)*")`)
)

// parseHelp reads the inputs from a binary's --help: each "-name" line (" value" unless it is a
// boolean) followed by its usage, which ends in "[env INPUT_NAME, default $CONTEXT, default "x"]".
// The names come back with underscores, as in action.yml; --json, --version and --password-stdin
// are command-line flags, not inputs.
func parseHelp(help string) (map[string]flagSpec, error) {
	specs := map[string]flagSpec{}
	lines := strings.Split(help, "\n")
	for i, line := range lines {
		m := helpFlag.FindStringSubmatch(line)
		if m == nil || m[1] == "json" || m[1] == "version" || m[1] == "password-stdin" {
			continue
		}
		name := strings.ReplaceAll(m[1], "-", "_")
		var usage []string
		for _, u := range lines[i+1:] {
			if !strings.HasPrefix(u, "    \t") {
				break
			}
			usage = append(usage, strings.TrimPrefix(u, "    \t"))
		}
		text := strings.Join(usage, " ")
		env := helpEnv.FindStringSubmatch(text)
		if env == nil {
			return nil, fmt.Errorf("-%s: usage %q does not end in [env INPUT_...]", m[1], text)
		}
		if want := "INPUT_" + strings.ToUpper(name); env[1] != want {
			return nil, fmt.Errorf("-%s reads %s, want %s", m[1], env[1], want)
		}
		s := flagSpec{boolean: m[2] == "", required: strings.Contains(text, "(required)")}
		if d := helpDef.FindStringSubmatch(env[2]); d != nil {
			def, err := strconv.Unquote(d[1])
			if err != nil {
				return nil, fmt.Errorf("-%s: default %s: %v", m[1], d[1], err)
			}
			s.hasDefault, s.def = true, def
		}
		specs[name] = s
	}
	if len(specs) == 0 {
		return nil, fmt.Errorf("no flags in the help text:\n%s", help)
	}
	return specs, nil
}

// buildBinaries builds ./cmd/... of the repository into a temporary directory.
func buildBinaries(t *testing.T, root string) string {
	t.Helper()
	bin := t.TempDir()
	cmd := exec.Command("go", "build", "-o", bin+string(os.PathSeparator), "./cmd/...")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-buildvcs=false")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/...: %v\n%s", err, out)
	}
	return bin
}

// runBinary runs a built binary outside GitHub Actions (no GITHUB_* or INPUT_* variables, no
// Docker config) and returns its stdout.
func runBinary(t *testing.T, bin, name string, args ...string) []byte {
	t.Helper()
	return runBinaryEnv(t, bin, name, nil, args...)
}

// runBinaryEnv is runBinary with extra environment variables.
func runBinaryEnv(t *testing.T, bin, name string, env []string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	home := t.TempDir()
	cmd := exec.CommandContext(ctx, filepath.Join(bin, name), args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "DOCKER_CONFIG=" + home}, env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	return stdout.Bytes()
}

func jsonKeys(t *testing.T, name string, out []byte) []string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatalf("%s --json printed %q: %v", name, out, err)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// binaryOutputs runs each binary once with --json, so the outputs come from the binaries
// themselves: build-rc and tag-validated against an in-memory registry, dispatch-receiver on a
// manual-promotion event.
func binaryOutputs(t *testing.T, root, bin string) map[string][]string {
	t.Helper()
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	repo := strings.TrimPrefix(srv.URL, "http://") + "/acme/platform-manifests"
	const sha = "9f2c4e1a7b3d5f60718293a4b5c6d7e8f9012345"

	manifests := t.TempDir()
	cm := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: example\ndata:\n  a: b\n"
	if err := os.WriteFile(filepath.Join(manifests, "configmap.yaml"), []byte(cm), 0o644); err != nil {
		t.Fatal(err)
	}
	event := filepath.Join(t.TempDir(), "event.json")
	if err := os.WriteFile(event, []byte(`{"inputs": {"sha": "`+sha+`", "digest": "", "revision": ""}}`), 0o644); err != nil {
		t.Fatal(err)
	}

	outs := map[string][]string{}
	outs["build-rc"] = jsonKeys(t, "build-rc", runBinary(t, bin, "build-rc", "--json",
		"--repository", repo, "--path", manifests, "--sha", sha, "--ref", "main",
		"--source", "https://github.com/acme/platform", "--created", "2026-08-01T10:00:00Z"))
	outs["tag-validated"] = jsonKeys(t, "tag-validated", runBinary(t, bin, "tag-validated", "--json",
		"--repository", repo, "--sha", sha))
	outs["dispatch-receiver"] = jsonKeys(t, "dispatch-receiver", runBinary(t, bin, "dispatch-receiver", "--json",
		"--event-name", "workflow_dispatch", "--event-path", event))
	// status prints its report on stdout; its step outputs go to GITHUB_OUTPUT only.
	outFile := filepath.Join(t.TempDir(), "output")
	runBinaryEnv(t, bin, "ocipromote", []string{"GITHUB_OUTPUT=" + outFile}, "status", "--repository", repo)
	outs["ocipromote status"] = outputFileKeys(t, outFile)
	outs["ocipromote hold"] = jsonKeys(t, "ocipromote hold", runBinary(t, bin, "ocipromote", "hold", "show", "--json", "--repository", repo))
	outs["ocipromote rollback"] = jsonKeys(t, "ocipromote rollback", runBinary(t, bin, "ocipromote", "rollback", "--json", "--dry-run",
		"--repository", repo, "--to", sha[:7], "--reason", "docs", "--actor", "docs"))
	// prune, like status, prints its result on stdout and its outputs to GITHUB_OUTPUT only.
	outFile = filepath.Join(t.TempDir(), "output")
	runBinaryEnv(t, bin, "ocipromote", []string{"GITHUB_OUTPUT=" + outFile}, "prune", "--dry-run",
		"--repository", repo, "--keep-stable", "1", "--keep-rc-days", "0", "--delete-api", "oci")
	outs["ocipromote prune"] = outputFileKeys(t, outFile)
	return outs
}

// outputFileKeys reads the output names a step wrote to a GITHUB_OUTPUT file.
func outputFileKeys(t *testing.T, file string) []string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, m := range regexp.MustCompile(`(?m)^([A-Za-z0-9_-]+)<<`).FindAllStringSubmatch(string(b), -1) {
		keys = append(keys, m[1])
	}
	slices.Sort(keys)
	return slices.Compact(keys)
}

// Every action under actions/ runs a binary of cmd/ (or one of its subcommands) as the whole
// script of its step with id: run, is named after it, and declares exactly its inputs (with
// defaults and required flags) and exactly its outputs, each taken from that step.
func TestActionsMatchBinaries(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	bin := buildBinaries(t, root)
	outputs := binaryOutputs(t, root, bin)

	entries, err := os.ReadDir(filepath.Join(root, "actions"))
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, e := range entries {
		name := e.Name()
		if !e.IsDir() {
			continue
		}
		checked++
		t.Run(name, func(t *testing.T) {
			file := filepath.ToSlash(filepath.Join("actions", name, "action.yml"))
			a, _, err := loadActionFile(root, file)
			if err != nil {
				t.Fatal(err)
			}
			// The run step's script is the command: a binary, or a binary and its subcommand.
			var command []string
			if a.Runs != nil {
				for _, s := range a.Runs.Steps {
					if s.ID == "run" && s.Run != nil {
						command = strings.Fields(*s.Run)
					}
				}
			}
			if len(command) == 0 || len(command) > 2 {
				t.Fatalf("%s: no step with id: run whose run: is just a binary (and a subcommand)", file)
			}
			if _, err := os.Stat(filepath.Join(root, "cmd", command[0])); err != nil {
				t.Fatalf("%s runs %s, which is no binary in cmd/: %v", file, command[0], err)
			}
			if command[0] != name && strings.Join(command[1:], "") != name {
				t.Errorf("%s runs %q: an action is named after its binary or subcommand", file, strings.Join(command, " "))
			}
			specs, err := parseHelp(string(runBinary(t, bin, command[0], append(command[1:], "--help")...)))
			if err != nil {
				t.Fatalf("%s --help: %v", strings.Join(command, " "), err)
			}
			compareInputs(t, file, a, specs)

			want, ok := outputs[strings.Join(command, " ")]
			if !ok {
				t.Fatalf("no run of %s to take its outputs from; add one to binaryOutputs", strings.Join(command, " "))
			}
			var got []string
			for out, o := range a.Outputs {
				got = append(got, out)
				if v := "${{ steps.run.outputs." + out + " }}"; o.Value != v {
					t.Errorf("%s: output %s has value %q, want %q", file, out, o.Value, v)
				}
			}
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Errorf("%s declares outputs %v; %s prints %v", file, got, strings.Join(command, " "), want)
			}
		})
	}
	if checked == 0 {
		t.Error("no action under actions/ to check")
	}
}

func compareInputs(t *testing.T, file string, a actionFile, specs map[string]flagSpec) {
	t.Helper()
	for name := range a.Inputs {
		if _, ok := specs[name]; !ok {
			t.Errorf("%s: input %s is not an input of the binary", file, name)
		}
	}
	for name, s := range specs {
		in, ok := a.Inputs[name]
		if !ok {
			t.Errorf("%s: the binary's input %s is not declared", file, name)
			continue
		}
		if got := fmt.Sprint(in.Required) == "true"; got != s.required {
			t.Errorf("%s: input %s required: %v, the binary says %v", file, name, got, s.required)
		}
		def, hasDef := "", in.Default != nil
		if hasDef {
			def = fmt.Sprint(in.Default)
		}
		switch {
		case s.hasDefault:
			if !hasDef || def != s.def {
				t.Errorf("%s: input %s default %q, the binary's is %q", file, name, def, s.def)
			}
		case s.boolean:
			if def != "false" {
				t.Errorf("%s: boolean input %s default %q, want \"false\"", file, name, def)
			}
		case hasDef && def != "":
			t.Errorf("%s: input %s default %q, but the binary has none (it falls back to its own context default)", file, name, def)
		}
	}
}

func TestParseHelp(t *testing.T) {
	t.Parallel()
	help := `x: does x

Usage: x [flags]

  -dry-run
    	print [env INPUT_DRY_RUN]
  -json
    	print the outputs as one JSON object on stdout
  -repository value
    	OCI repository (required) [env INPUT_REPOSITORY]
  -sha value
    	full commit sha [env INPUT_SHA, default $GITHUB_SHA]
  -success-pattern value
    	regular expression [env INPUT_SUCCESS_PATTERN, default "^(a|b) \"c\""]
`
	got, err := parseHelp(help)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]flagSpec{
		"dry_run":         {boolean: true},
		"repository":      {required: true},
		"sha":             {},
		"success_pattern": {hasDefault: true, def: `^(a|b) "c"`},
	}
	if len(got) != len(want) {
		t.Errorf("parseHelp = %+v, want %+v", got, want)
	}
	for name, w := range want {
		if g := got[name]; g != w {
			t.Errorf("parseHelp: %s = %+v, want %+v", name, g, w)
		}
	}
}
