package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ocipromote/ocipromote/pkg/oci/ocitest"
	"github.com/ocipromote/ocipromote/pkg/step/steptest"
)

func invoke(t *testing.T, env map[string]string, args ...string) steptest.Result {
	t.Helper()
	return steptest.Invoke(t, command.Name, run, env, args...)
}

func manifestsDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "app.yaml"), []byte("kind: ConfigMap\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

const commit = "9f2c4e1a7b3d5f60718293a4b5c6d7e8f9012345"

// As an Actions step: inputs from INPUT_*, defaults from the GitHub context, outputs to
// GITHUB_OUTPUT, a job summary, and the password masked.
func TestBuildRCAsActionsStep(t *testing.T) {
	t.Parallel()
	srv := ocitest.New(t)
	tmp := t.TempDir()
	out, summary := filepath.Join(tmp, "output"), filepath.Join(tmp, "summary")
	env := map[string]string{
		"GITHUB_ACTIONS": "true", "GITHUB_SHA": commit, "GITHUB_REF_NAME": "main",
		"GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "acme/platform",
		"GITHUB_OUTPUT": out, "GITHUB_STEP_SUMMARY": summary,
		"INPUT_REPOSITORY": "oci://" + srv.Host + "/acme/app", "INPUT_PATH": manifestsDir(t),
		"INPUT_CREATED": "2026-08-01T10:00:00Z", "INPUT_SHORT_SHA_LENGTH": "8",
		"INPUT_USERNAME": "ci", "INPUT_PASSWORD": "s3cr3t-token",
	}
	r := invoke(t, env)
	if r.Code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", r.Code, r.Stderr)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"version<<", "0.0.1-rc.1", "short_sha<<", "9f2c4e1a", "pushed<<", "true", "tags<<", "0.0.1-rc.1,sha-9f2c4e1a,integration-9f2c4e1a"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("GITHUB_OUTPUT lacks %q:\n%s", want, b)
		}
	}
	s, err := os.ReadFile(summary)
	if err != nil || !strings.Contains(string(s), "| version | `0.0.1-rc.1` |") {
		t.Errorf("job summary = %q, %v", s, err)
	}
	if !strings.Contains(r.Stderr, "::add-mask::s3cr3t-token") {
		t.Errorf("password not masked; stderr:\n%s", r.Stderr)
	}
	for _, leaked := range []string{string(b), string(s), r.Stdout} {
		if strings.Contains(leaked, "s3cr3t-token") {
			t.Errorf("password leaked into outputs: %s", leaked)
		}
	}
}

// As a command-line tool: flags, --json on stdout, and the same answer on a re-run.
func TestBuildRCCommandLine(t *testing.T) {
	t.Parallel()
	srv := ocitest.New(t)
	dir := manifestsDir(t)
	args := []string{"--repository", srv.Host + "/acme/cli", "--path", dir, "--sha", commit, "--ref", "main",
		"--created", "2026-08-01T10:00:00Z", "--json"}
	var first, again map[string]string
	for i, dst := range []*map[string]string{&first, &again} {
		r := invoke(t, map[string]string{}, args...)
		if r.Code != 0 {
			t.Fatalf("run %d: exit %d, stderr:\n%s", i, r.Code, r.Stderr)
		}
		if err := json.Unmarshal([]byte(r.Stdout), dst); err != nil {
			t.Fatalf("run %d: stdout is not one JSON object: %v\n%s", i, err, r.Stdout)
		}
	}
	if first["version"] != "0.0.1-rc.1" || first["pushed"] != "true" {
		t.Errorf("first = %v", first)
	}
	if again["version"] != first["version"] || again["digest"] != first["digest"] || again["pushed"] != "false" {
		t.Errorf("re-run = %v, want the first build's version and digest with pushed=false", again)
	}
}

func TestBuildRCUsage(t *testing.T) {
	t.Parallel()
	dir := manifestsDir(t)
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"help", []string{"--help"}, 0, "-version-line"},
		{"no repository", []string{"--sha", commit, "--path", dir}, 2, "repository"},
		{"bad bump", []string{"--repository", "example.com/a/b", "--sha", commit, "--path", dir, "--created", "2026-08-01T10:00:00Z", "--bump", "huge"}, 2, "bump"},
		{"bad short length", []string{"--repository", "example.com/a/b", "--sha", commit, "--path", dir, "--created", "2026-08-01T10:00:00Z", "--short-sha-length", "3"}, 2, "short_sha_length"},
		{"minor in a line", []string{"--repository", "example.com/a/b", "--sha", commit, "--path", dir, "--created", "2026-08-01T10:00:00Z", "--bump", "minor", "--version-line", "1.4"}, 2, "patch"},
		{"tagged repository", []string{"--repository", "example.com/a/b:latest", "--sha", commit, "--path", dir, "--created", "2026-08-01T10:00:00Z"}, 2, "has a tag"},
		{"missing path", []string{"--repository", "example.com/a/b", "--sha", commit, "--path", filepath.Join(dir, "nope")}, 2, "not a directory"},
		{"bad created", []string{"--repository", "example.com/a/b", "--sha", commit, "--path", dir, "--created", "yesterday"}, 2, "RFC 3339"},
		{"short sha", []string{"--repository", "example.com/a/b", "--sha", "9f2c4e1", "--path", dir, "--created", "2026-08-01T10:00:00Z", "--dry-run"}, 2, "full 40-character"},
		{"unknown flag", []string{"--repo", "x"}, 2, "flag provided but not defined"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := invoke(t, map[string]string{}, tc.args...)
			if r.Code != tc.code {
				t.Errorf("exit = %d, want %d; stderr:\n%s", r.Code, tc.code, r.Stderr)
			}
			if !strings.Contains(r.Stdout+r.Stderr, tc.want) {
				t.Errorf("output lacks %q:\n%s%s", tc.want, r.Stdout, r.Stderr)
			}
		})
	}
}

// Hostile and malformed inputs: each is refused with exit 1 or 2 and a message saying what is
// wrong, and the registry receives no write.
func TestBuildRCBadInputsWriteNothing(t *testing.T) {
	t.Parallel()
	srv := ocitest.New(t)
	dir := manifestsDir(t)
	workspace := t.TempDir()
	escaping := filepath.Join(workspace, "deploy")
	if err := os.Symlink(dir, escaping); err != nil {
		t.Fatal(err)
	}
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "secret.yaml"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	leaky := t.TempDir()
	if err := os.Symlink(filepath.Join(outside, "secret.yaml"), filepath.Join(leaky, "link.yaml")); err != nil {
		t.Fatal(err)
	}
	repo := srv.Host + "/acme/hostile"
	base := func(extra ...string) []string {
		return append([]string{"--created", "2026-08-01T10:00:00Z"}, extra...)
	}
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"repository with shell metacharacters", nil, base("--repository", repo+";rm -rf /", "--sha", commit, "--path", dir), "is not REGISTRY/PATH"},
		{"repository with a newline", nil, base("--repository", repo+"\n::set-output name=x::y", "--sha", commit, "--path", dir), "repository"},
		{"repository in upper case", nil, base("--repository", srv.Host+"/Acme/App", "--sha", commit, "--path", dir), "repository"},
		{"non-hex sha", nil, base("--repository", repo, "--sha", strings.Repeat("g", 40), "--path", dir), "sha"},
		{"short sha", nil, base("--repository", repo, "--sha", commit[:12], "--path", dir), "full 40-character"},
		{"sha with a command", nil, base("--repository", repo, "--sha", "$(id)"+commit[:35], "--path", dir), "sha"},
		{"unknown bump", nil, base("--repository", repo, "--sha", commit, "--path", dir, "--bump", "patch;true"), "bump"},
		{"bad version line", nil, base("--repository", repo, "--sha", commit, "--path", dir, "--version-line", "1.4.x"), "version line"},
		{"bad initial version", nil, base("--repository", repo, "--sha", commit, "--path", dir, "--initial-version", "1.0"), "initial version"},
		{"unknown prefix", nil, base("--repository", repo, "--sha", commit, "--path", dir, "--tag-prefix", "release-"), "prefix"},
		{"bad dry_run", map[string]string{"INPUT_DRY_RUN": "maybe"}, base("--repository", repo, "--sha", commit, "--path", dir), "dry_run"},
		{"path outside the checkout", map[string]string{"GITHUB_WORKSPACE": workspace}, base("--repository", repo, "--sha", commit, "--path", escaping), "outside the checkout"},
		{"symlink escaping the manifests", nil, base("--repository", repo, "--sha", commit, "--path", leaky), "link.yaml"},
		{"password without username", map[string]string{"INPUT_PASSWORD": "p"}, base("--repository", repo, "--sha", commit, "--path", dir), "username and password"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := map[string]string{}
			for k, v := range tc.env {
				env[k] = v
			}
			r := steptest.Invoke(t, command.Name, run, env, tc.args...)
			if r.Code != 1 && r.Code != 2 {
				t.Errorf("exit = %d, want 1 or 2", r.Code)
			}
			if !strings.Contains(r.Stderr, tc.want) {
				t.Errorf("stderr lacks %q:\n%s", tc.want, r.Stderr)
			}
		})
	}
	t.Cleanup(func() {
		if w := srv.Writes(); len(w) != 0 {
			t.Errorf("bad inputs reached the registry with writes: %v", w)
		}
	})
}
