package main

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sethvargo/go-githubactions"

	"github.com/ocipromote/ocipromote/pkg/oci/ocitest"
	"github.com/ocipromote/ocipromote/pkg/records/githubtest"
	"github.com/ocipromote/ocipromote/pkg/step"
	"github.com/ocipromote/ocipromote/pkg/step/steptest"
)

func invoke(t *testing.T, env map[string]string, args ...string) steptest.Result {
	t.Helper()
	return steptest.Invoke(t, command, run, env, args...)
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
		if err := steptest.DecodeOutputs(r.Stdout, dst); err != nil {
			t.Fatalf("run %d: stdout is not one JSON object: %v\n%s", i, err, r.Stdout)
		}
		steptest.CheckSchema(t, r.Stdout, filepath.Join("..", "..", "testdata", "schema", "build-rc.json"))
	}
	if first["version"] != "0.0.1-rc.1" || first["pushed"] != "true" {
		t.Errorf("first = %v", first)
	}
	if again["version"] != first["version"] || again["digest"] != first["digest"] || again["pushed"] != "false" {
		t.Errorf("re-run = %v, want the first build's version and digest with pushed=false", again)
	}
	// A dry run of the built commit says so, rather than that it would push.
	r := invoke(t, map[string]string{}, append(args, "--dry-run")...)
	if r.Code != 0 || !strings.Contains(r.Stderr, "was already built as 0.0.1-rc.1; nothing to push") || strings.Contains(r.Stderr, "would push") {
		t.Errorf("dry run of a built commit: exit %d, stderr:\n%s", r.Code, r.Stderr)
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
		{"bad short length", []string{"--repository", "example.com/a/b", "--sha", commit, "--path", dir, "--created", "2026-08-01T10:00:00Z", "--short-sha-length", "3"}, 2, "--short-sha-length"},
		{"minor in a line", []string{"--repository", "example.com/a/b", "--sha", commit, "--path", dir, "--created", "2026-08-01T10:00:00Z", "--bump", "minor", "--version-line", "1.4"}, 2, "patch"},
		{"tagged repository", []string{"--repository", "example.com/a/b:latest", "--sha", commit, "--path", dir, "--created", "2026-08-01T10:00:00Z"}, 2, "has a tag"},
		{"missing path", []string{"--repository", "example.com/a/b", "--sha", commit, "--path", filepath.Join(dir, "nope")}, 2, "not a directory"},
		{"bad created", []string{"--repository", "example.com/a/b", "--sha", commit, "--path", dir, "--created", "yesterday"}, 2, "RFC 3339"},
		{"short sha", []string{"--repository", "example.com/a/b", "--sha", "9f2c4e1", "--path", dir, "--created", "2026-08-01T10:00:00Z", "--dry-run"}, 2, "full 40-character"},
		{"unknown flag", []string{"--repo", "x"}, 2, "unknown flag --repo (did you mean --repository?)"},
		{"version", []string{"--version"}, 0, "build-rc "},
		{"help lists exit codes", []string{"--help"}, 0, "2 on a usage error"},
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
// wrong and what to do, and the registry receives no write.
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
	const token = "ghp_BuildRcT0kenValue"
	repo := srv.Host + "/acme/hostile"
	base := func(extra ...string) []string {
		return append([]string{"--created", "2026-08-01T10:00:00Z"}, extra...)
	}
	valid := func(extra ...string) []string {
		return base(append([]string{"--repository", repo, "--sha", commit, "--path", dir}, extra...)...)
	}
	records := map[string]string{"INPUT_DEPLOYMENTS": "true", "GITHUB_TOKEN": token, "GITHUB_REPOSITORY": "acme/platform"}
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want []string // what is wrong, and what to do
	}{
		{"repository with shell metacharacters", nil, base("--repository", repo+";rm -rf /", "--sha", commit, "--path", dir), []string{"is not REGISTRY/PATH", "for example ghcr.io/acme/platform-manifests"}},
		{"repository with a newline", nil, base("--repository", repo+"\n::set-output name=x::y", "--sha", commit, "--path", dir), []string{`\n::set-output`, "contains a control character", "give REGISTRY/PATH"}},
		{"repository with a command as its registry", nil, base("--repository", "$(id).io/acme/app", "--sha", commit, "--path", dir), []string{`registry "$(id).io" is not a host name`, "give REGISTRY/PATH"}},
		{"repository in upper case", nil, base("--repository", srv.Host+"/Acme/App", "--sha", commit, "--path", dir), []string{"is not a valid OCI repository reference", "in lower case"}},
		{"repository with a tag", nil, base("--repository", repo+":latest", "--sha", commit, "--path", dir), []string{"has a tag", "give the repository only"}},
		{"malformed ignore pattern", nil, valid("--ignore", "*.tmp\n[abc"), []string{`"[abc"`, "is malformed", "fix it"}},
		{"no created time and no git history", nil, []string{"--repository", repo, "--sha", commit, "--path", dir}, []string{"created is required", "--created is required", "check out the commit"}},
		{"repository with a digest", nil, base("--repository", repo+"@sha256:"+strings.Repeat("0", 64), "--sha", commit, "--path", dir), []string{"is not REGISTRY/PATH", "for example"}},
		{"repository with credentials", nil, base("--repository", "ci:"+token+"@"+repo, "--sha", commit, "--path", dir), []string{"carries credentials", "pass the credentials as username and password"}},
		{"oversized repository", nil, base("--repository", srv.Host+"/"+strings.Repeat("a", 600), "--sha", commit, "--path", dir), []string{"over the 512-byte limit", "give REGISTRY/PATH"}},
		{"non-hex sha", nil, base("--repository", repo, "--sha", strings.Repeat("g", 40), "--path", dir), []string{`"gggg`, "must be the full 40-character commit sha"}},
		{"short sha", nil, base("--repository", repo, "--sha", commit[:12], "--path", dir), []string{commit[:12], "must be the full 40-character commit sha"}},
		{"sha with a command", nil, base("--repository", repo, "--sha", "$(id)"+commit[:35], "--path", dir), []string{"$(id)", "must be the full 40-character commit sha"}},
		{"ref of 600 characters", nil, valid("--ref", strings.Repeat("r", 600)), []string{"600 bytes, over the 255-byte limit", "give a git branch or tag name", "--ref"}},
		{"ref with a newline", nil, valid("--ref", "main\n::error::forged"), []string{`"main\n::error::forged"`, "control character", "give a git branch or tag name", "--ref"}},
		{"ref from the context with a newline", map[string]string{"GITHUB_REF_NAME": "main\n::error::forged"}, valid(), []string{"control character", "$GITHUB_REF_NAME"}},
		{"ref with ..", nil, valid("--ref", "a..b"), []string{`contains ".."`, "give a git branch or tag name"}},
		{"ref with @{", nil, valid("--ref", "main@{1}"), []string{`contains "@{"`, "give a git branch or tag name"}},
		{"ref ending in .lock", nil, valid("--ref", "main.lock"), []string{".lock", "give a git branch or tag name"}},
		{"ref ending in /", nil, valid("--ref", "main/"), []string{`ends with "/"`, "give a git branch or tag name"}},
		{"ref with a command", nil, valid("--ref", "$(curl evil)"), []string{`'$'`, "give a git branch or tag name"}},
		{"source with a newline", nil, valid("--source", "https://github.com/acme/platform\n::error::x"), []string{"control character", "give the repository's web address", "--source"}},
		{"source not a URL", nil, valid("--source", "acme/platform"), []string{"is not an absolute http(s) URL", "give the repository's web address"}},
		{"source with another scheme", nil, valid("--source", "javascript:alert(1)"), []string{"is not an absolute http(s) URL", "give the repository's web address"}},
		{"oversized source", nil, valid("--source", "https://github.com/"+strings.Repeat("a", 600)), []string{"over the 512-byte limit", "give the repository's web address"}},
		{"source with credentials", nil, valid("--source", "https://ci:"+token+"@github.com/acme/platform"), []string{"carries credentials", "give the repository's web address"}},
		{"default source from a hostile GITHUB_REPOSITORY", map[string]string{"GITHUB_REPOSITORY": "acme/platform\n::error::x"}, valid(), []string{"control character", "GITHUB_SERVER_URL and GITHUB_REPOSITORY", "pass --source"}},
		{"unknown bump", nil, valid("--bump", "patch;true"), []string{`bump "patch;true" is not one of`, "patch, minor, major, auto"}},
		{"bad version line", nil, valid("--version-line", "1.4.x"), []string{`version line "1.4.x" is not MAJOR.MINOR`, "for example 1.4"}},
		{"bad initial version", nil, valid("--initial-version", "1.0"), []string{`initial version "1.0"`, "stable X.Y.Z version"}},
		{"unknown prefix", nil, valid("--tag-prefix", "release-"), []string{`tag prefix "release-"`, `no prefix or with "v"`}},
		{"short sha length not a number", nil, valid("--short-sha-length", "7;id"), []string{"--short-sha-length must be a whole number", `"7;id"`}},
		{"short sha length out of range", nil, valid("--short-sha-length", "41"), []string{"--short-sha-length must be between 4 and 40", "41"}},
		{"created not RFC 3339", nil, base("--repository", repo, "--sha", commit, "--path", dir, "--created", "yesterday\n::error::x"), []string{"is not an RFC 3339 time", "such as 2026-08-01T10:00:00Z"}},
		{"bad dry_run", map[string]string{"INPUT_DRY_RUN": "maybe"}, valid(), []string{"--dry-run must be true or false", `"maybe"`}},
		{"settle not a duration", map[string]string{"INPUT_SETTLE": "5"}, valid(), []string{`settle "5" must be a duration`, "such as 5s"}},
		{"settle negative", nil, valid("--settle", "-1s"), []string{`settle "-1s" must be a duration from 0s to 10m`}},
		{"bad deployments", map[string]string{"INPUT_DEPLOYMENTS": "maybe"}, valid(), []string{"deployments must be true or false", `"maybe"`}},
		{"GitHub API URL not a URL", merge(records, map[string]string{"INPUT_GITHUB_API_URL": "not-a-url"}), valid(), []string{`GitHub API URL "not-a-url" is not an http(s) URL`, "such as https://api.github.com"}},
		{"records without a token", map[string]string{"INPUT_DEPLOYMENTS": "true", "GITHUB_REPOSITORY": "acme/platform"}, valid(), []string{"--github-token is required", "pass a token"}},
		{"path outside the checkout", map[string]string{"GITHUB_WORKSPACE": workspace}, base("--repository", repo, "--sha", commit, "--path", escaping), []string{"outside the checkout", "give a directory of the repository being built"}},
		{"path that is not a directory", nil, base("--repository", repo, "--sha", commit, "--path", filepath.Join(dir, "app.yaml")), []string{"is not a directory", "give the directory of manifests to package"}},
		{"symlink escaping the manifests", nil, base("--repository", repo, "--sha", commit, "--path", leaky), []string{"link.yaml", "symlink points outside the packed directory", "replace the link with a copy of its target"}},
		{"password without username", map[string]string{"INPUT_PASSWORD": token}, valid(), []string{"--username and --password go together", "give both, or neither"}},
		{"username without password", map[string]string{"INPUT_USERNAME": "ci"}, valid(), []string{"--username and --password go together", "give both, or neither"}},
		{"unexpected argument", nil, valid("extra"), []string{`unexpected argument "extra"`, "every input is a --flag"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			steptest.Refused(t, command, run, tc.env, tc.args, steptest.Refusal{Say: tc.want, Secret: token})
		})
	}
	t.Cleanup(func() {
		if w := srv.Writes(); len(w) != 0 {
			t.Errorf("bad inputs reached the registry with writes: %v", w)
		}
	})
}

// merge returns the union of maps, later ones winning.
func merge(maps ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range maps {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// Neither the registry password nor the GitHub token appears in anything a run prints or writes
// (stdout, stderr but for the mask command, GITHUB_OUTPUT, the job summary, --json), whether the
// run succeeds, refuses its credentials or fails at the registry.
func TestBuildRCNeverPrintsSecrets(t *testing.T) {
	t.Parallel()
	const password, token = "s3cr3t-Passw0rd-value", "ghs_JobT0kenValue"
	tests := []struct {
		name    string
		auth    bool // the registry demands ci:password
		env     map[string]string
		args    []string
		code    int
		github  bool // records on, against a fake GitHub that demands the token
		secrets []string
	}{
		{"success with username and password", true, map[string]string{"INPUT_USERNAME": "ci", "INPUT_PASSWORD": password}, nil, 0, false, []string{password}},
		{"success with --json", true, map[string]string{"INPUT_PASSWORD": password}, []string{"--username", "ci", "--json"}, 0, false, []string{password}},
		{"success with records and the job token", true, map[string]string{"INPUT_USERNAME": "ci", "INPUT_PASSWORD": password, "GITHUB_TOKEN": token, "INPUT_DEPLOYMENTS": "true"}, []string{"--json"}, 0, true, []string{password, token}},
		{"dry run", true, map[string]string{"INPUT_USERNAME": "ci", "INPUT_PASSWORD": password, "GITHUB_TOKEN": token}, []string{"--dry-run"}, 0, false, []string{password, token}},
		{"wrong password", true, map[string]string{"INPUT_USERNAME": "ci", "INPUT_PASSWORD": password + "-wrong", "GITHUB_TOKEN": token}, []string{"--json"}, 1, false, []string{password + "-wrong", token}},
		{"job token alone on a registry that is not ghcr.io", true, map[string]string{"GITHUB_TOKEN": token, "GITHUB_ACTOR": "ci"}, nil, 1, false, []string{token}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var opts []ocitest.Option
			if tc.auth {
				opts = append(opts, ocitest.TokenAuth("ci", password, "pull", "push"))
			}
			srv := ocitest.New(t, opts...)
			tmp := t.TempDir()
			out, summary := filepath.Join(tmp, "output"), filepath.Join(tmp, "summary")
			env := merge(map[string]string{
				"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": out, "GITHUB_STEP_SUMMARY": summary,
				"GITHUB_SHA": commit, "GITHUB_REF_NAME": "main", "GITHUB_REPOSITORY": "acme/platform", "GITHUB_RUN_ID": "7",
				"INPUT_REPOSITORY": srv.Host + "/acme/app", "INPUT_PATH": manifestsDir(t), "INPUT_CREATED": "2026-08-01T10:00:00Z",
			}, tc.env)
			var gh *githubtest.Server
			if tc.github {
				gh = githubtest.New(t, "acme", "platform", githubtest.Token(token))
				gh.AddCommit(githubtest.Commit{Sha: commit, Message: "change replicas"})
				env["GITHUB_API_URL"] = gh.APIURL()
			}
			r := invoke(t, env, tc.args...)
			if r.Code != tc.code {
				t.Fatalf("exit %d, want %d; stderr:\n%s", r.Code, tc.code, r.Stderr)
			}
			if gh != nil && len(gh.Deployments()) == 0 {
				t.Errorf("no deployment recorded, so the token was not used; stderr:\n%s", r.Stderr)
			}
			for _, secret := range tc.secrets {
				if !strings.Contains(r.Stderr, "::add-mask::"+secret) {
					t.Errorf("%q is not masked in the Actions log:\n%s", secret, r.Stderr)
				}
				if where := steptest.Leaks(t, r, secret, out, summary); len(where) != 0 {
					t.Errorf("%q leaked into %v:\nstdout:\n%s\nstderr:\n%s", secret, where, r.Stdout, r.Stderr)
				}
			}
		})
	}
}

// A path with nothing to package is refused before anything is pushed (issue 14: an empty
// candidate is deployed by integration, and with prune: true deletes everything there), unless
// allow_empty says it is meant.
func TestBuildRCRefusesEmptyArtifact(t *testing.T) {
	t.Parallel()
	srv := ocitest.New(t)
	dir := manifestsDir(t)
	args := []string{"--repository", srv.Host + "/acme/empty", "--path", dir, "--sha", commit, "--ref", "main",
		"--created", "2026-08-01T10:00:00Z", "--ignore", "*.yaml"}
	r := invoke(t, nil, args...)
	if r.Code != 2 {
		t.Fatalf("exit %d, want 2; stderr:\n%s", r.Code, r.Stderr)
	}
	for _, want := range []string{"no files to package after ignore", dir, `"*.yaml"`, "--allow-empty"} {
		if !strings.Contains(r.Stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.Stderr)
		}
	}
	if w := srv.Writes(); len(w) != 0 {
		t.Errorf("refused build wrote %v", w)
	}
	if r := invoke(t, nil, append(args, "--allow-empty")...); r.Code != 0 {
		t.Errorf("--allow-empty: exit %d, stderr:\n%s", r.Code, r.Stderr)
	}
	// In Actions the input is named as a workflow sets it.
	env := map[string]string{"GITHUB_ACTIONS": "true", "INPUT_IGNORE": "*.yaml"}
	r = invoke(t, env, args[:len(args)-2]...)
	if r.Code != 2 || !strings.Contains(r.Stderr, "input allow_empty") {
		t.Errorf("in Actions: exit %d, want 2 naming input allow_empty; stderr:\n%s", r.Code, r.Stderr)
	}
}

// --ignore repeats: both patterns are left out (issue 14: only the last one was, and ignore
// patterns exist to keep secrets out).
func TestBuildRCIgnoreRepeats(t *testing.T) {
	t.Parallel()
	srv := ocitest.New(t)
	dir := manifestsDir(t)
	for _, f := range []string{"token.env", "key.pem"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("secret\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	digest := func(dir string, more ...string) any {
		t.Helper()
		r := invoke(t, nil, append([]string{"--repository", srv.Host + "/acme/ignore", "--path", dir, "--sha", commit, "--ref", "main",
			"--created", "2026-08-01T10:00:00Z", "--dry-run", "--json"}, more...)...)
		if r.Code != 0 {
			t.Fatalf("exit %d, stderr:\n%s", r.Code, r.Stderr)
		}
		var got map[string]any
		if err := json.Unmarshal([]byte(r.Stdout), &got); err != nil {
			t.Fatal(err)
		}
		return got["digest"]
	}
	// The same digest as a directory holding only the manifest: both files were left out.
	if got, want := digest(dir, "--ignore", "*.env", "--ignore", "*.pem"), digest(manifestsDir(t)); got != want {
		t.Errorf("digest %v, want %v (the manifest alone)", got, want)
	}
}

// checkout makes a git repository with two commits of deploy/app.yaml and returns the
// repository, the deploy directory and the two shas, oldest first.
func checkout(t *testing.T) (repo, dir string, shas []string) {
	t.Helper()
	repo = t.TempDir()
	dir = filepath.Join(repo, "deploy")
	git := func(args ...string) string {
		t.Helper()
		c := exec.Command("git", append([]string{"-C", repo}, args...)...)
		c.Env = append(os.Environ(), "GIT_AUTHOR_NAME=a", "GIT_AUTHOR_EMAIL=a@example.com", "GIT_COMMITTER_NAME=a", "GIT_COMMITTER_EMAIL=a@example.com")
		out, err := c.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	git("init", "-q")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, content := range []string{"replicas: 1\n", "replicas: 2\n"} {
		if err := os.WriteFile(filepath.Join(dir, "app.yaml"), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		git("add", ".")
		git("commit", "-q", "-m", content)
		shas = append(shas, git("rev-parse", "HEAD"))
	}
	return repo, dir, shas
}

// Issue 14: from a terminal, a dirty tree was pushed under any sha, permanently. In a checkout,
// sha defaults to HEAD; another sha, or files under the path that differ from it, are refused
// before anything is pushed, unless allow_dirty.
func TestBuildRCChecksTheCheckout(t *testing.T) {
	t.Parallel()
	srv := ocitest.New(t)
	_, dir, shas := checkout(t)
	repository := srv.Host + "/acme/checkout"
	args := func(more ...string) []string {
		return append([]string{"--repository", repository, "--path", dir, "--ref", "main", "--dry-run", "--json"}, more...)
	}
	r := invoke(t, nil, args()...)
	if r.Code != 0 {
		t.Fatalf("clean checkout without --sha: exit %d, stderr:\n%s", r.Code, r.Stderr)
	}
	if want := "sha-" + shas[1][:7]; !strings.Contains(r.Stdout, want) {
		t.Errorf("without --sha the build is not HEAD's (%s): %s", want, r.Stdout)
	}
	r = invoke(t, nil, args("--sha", shas[0])...)
	if r.Code != 2 || !strings.Contains(r.Stderr, "is not HEAD") || !strings.Contains(r.Stderr, "--allow-dirty") {
		t.Errorf("--sha of HEAD~1: exit %d, want 2 saying it is not HEAD and naming --allow-dirty; stderr:\n%s", r.Code, r.Stderr)
	}
	if err := os.WriteFile(filepath.Join(dir, "app.yaml"), []byte("replicas: 3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "big.bin"), []byte("untracked"), 0o644); err != nil {
		t.Fatal(err)
	}
	r = invoke(t, nil, args()...)
	if r.Code != 2 {
		t.Fatalf("dirty path: exit %d, want 2; stderr:\n%s", r.Code, r.Stderr)
	}
	for _, want := range []string{"app.yaml", "big.bin", "differ from commit " + shas[1], "--allow-dirty"} {
		if !strings.Contains(r.Stderr, want) {
			t.Errorf("dirty path: stderr lacks %q:\n%s", want, r.Stderr)
		}
	}
	if r := invoke(t, nil, args("--allow-dirty")...); r.Code != 0 {
		t.Errorf("--allow-dirty: exit %d, stderr:\n%s", r.Code, r.Stderr)
	}
	// Files the artifact leaves out do not count; the edited manifest still does.
	if r := invoke(t, nil, args("--ignore", "*.bin")...); r.Code != 2 || strings.Contains(r.Stderr, "big.bin") {
		t.Errorf("--ignore *.bin: exit %d, want 2 for app.yaml alone; stderr:\n%s", r.Code, r.Stderr)
	}
	if len(srv.Writes()) != 0 {
		t.Errorf("dry runs wrote %v", srv.Writes())
	}
	// git's answer arrives while the directory is packed and the repository listed, but before
	// any write: a run that is not dry writes nothing either.
	if r := invoke(t, nil, "--repository", repository, "--path", dir, "--ref", "main", "--sha", shas[1]); r.Code != 2 || !strings.Contains(r.Stderr, "app.yaml") {
		t.Errorf("dirty path, not a dry run: exit %d, want 2 naming app.yaml; stderr:\n%s", r.Code, r.Stderr)
	}
	if len(srv.Writes()) != 0 {
		t.Errorf("a refused build wrote %v", srv.Writes())
	}
}

// Issue 14: the step's line for people ("build-rc: pushed …") was repeated as a level=INFO log
// line. Each run names its version once on stderr.
func TestBuildRCSaysItOnce(t *testing.T) {
	t.Parallel()
	srv := ocitest.New(t)
	r := invoke(t, nil, "--repository", srv.Host+"/acme/once", "--path", manifestsDir(t), "--sha", commit, "--ref", "main",
		"--created", "2026-08-01T10:00:00Z")
	if r.Code != 0 {
		t.Fatalf("exit %d:\n%s", r.Code, r.Stderr)
	}
	if n := strings.Count(r.Stderr, "0.0.1-rc.1"); n != 1 {
		t.Errorf("stderr names the version %d times, want once (the step's line):\n%s", n, r.Stderr)
	}
}

// --password-stdin reads the password from standard input, as docker login does, so that it is
// in neither the shell history nor the process list.
func TestBuildRCPasswordStdin(t *testing.T) {
	t.Parallel()
	srv := ocitest.New(t)
	args := []string{"--repository", srv.Host + "/acme/stdin", "--path", manifestsDir(t), "--sha", commit, "--ref", "main",
		"--created", "2026-08-01T10:00:00Z", "--dry-run", "--username", "ci", "--password-stdin"}
	tests := []struct {
		name, stdin string
		more        []string
		code        int
		say         string
	}{
		{"a password on stdin", "s3cr3t-from-stdin\n", nil, 0, "::add-mask::s3cr3t-from-stdin\n"},
		{"nothing on stdin", "", nil, 2, "read no password from standard input"},
		{"and --password too", "x\n", []string{"--password", "y"}, 2, "give one"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			body := func(ctx context.Context, a *githubactions.Action, args []string, stdout, stderr io.Writer, env step.Env) error {
				env.Stdin = strings.NewReader(tc.stdin)
				return run(ctx, a, args, stdout, stderr, env)
			}
			r := steptest.Invoke(t, command, body, map[string]string{"GITHUB_ACTIONS": "true"}, append(args, tc.more...)...)
			if r.Code != tc.code || !strings.Contains(r.Stderr, tc.say) {
				t.Errorf("exit %d, want %d saying %q; stderr:\n%s", r.Code, tc.code, tc.say, r.Stderr)
			}
		})
	}
}
