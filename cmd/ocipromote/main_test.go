package main

import (
	"context"
	"encoding/json"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sethvargo/go-githubactions"

	"github.com/ocipromote/ocipromote/pkg/actionio"
	"github.com/ocipromote/ocipromote/pkg/oci"
	"github.com/ocipromote/ocipromote/pkg/oci/ocitest"
	"github.com/ocipromote/ocipromote/pkg/pipeline"
	"github.com/ocipromote/ocipromote/pkg/status"
	"github.com/ocipromote/ocipromote/pkg/step"
	"github.com/ocipromote/ocipromote/pkg/step/steptest"
	"github.com/ocipromote/ocipromote/pkg/version"
)

// --select is repeatable: each occurrence is one selection.
func TestSelectRepeats(t *testing.T) {
	t.Parallel()
	var w strings.Builder
	v, err := actionio.Parse(statusCommand, githubactions.New(githubactions.WithGetenv(func(string) string { return "" })),
		[]string{"--select", "a=>= 0.0.0-0", "--repository", "r.example/a/b", "-select=b=>= 0.0.0"}, &w)
	if err != nil {
		t.Fatal(err)
	}
	sel, err := selectors(v)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range sel {
		got = append(got, s.Name)
	}
	if want := []string{"a", "b"}; !slices.Equal(got, want) {
		t.Errorf("selections %q, want %q", got, want)
	}
}

func TestUsage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no command", nil, 2, "no command"},
		{"unknown command", []string{"deploy"}, 2, `unknown command "deploy"`},
		{"help", []string{"--help"}, 0, "ocipromote prune"},
		{"command help", []string{"rollback", "--help"}, 0, "-reason"},
		{"hold without a verb", []string{"hold"}, 2, "set, release or show"},
		{"hold with an unknown verb", []string{"hold", "lift", "--repository", "127.0.0.1:1/a/b"}, 2, `got "lift"`},
		// Issue 14: ocipromote hold --help exited 2.
		{"hold help", []string{"hold", "--help"}, 0, "-command"},
		{"hold set help", []string{"hold", "set", "--help"}, 0, "-reason"},
		{"hold set without a reason", []string{"hold", "set", "--repository", "127.0.0.1:1/a/b", "--actor", "a"}, 2, "hold set needs a reason: pass --reason"},
		{"rollback without a reason", []string{"rollback", "--repository", "127.0.0.1:1/a/b", "--to", "0.0.1", "--actor", "a"}, 2, "--reason"},
		{"rollback without an actor", []string{"rollback", "--repository", "127.0.0.1:1/a/b", "--to", "0.0.1", "--reason", "r"}, 2, "--actor"},
		{"prune keeping no stable version", []string{"prune", "--repository", "127.0.0.1:1/a/b", "--keep-stable", "0", "--keep-rc-days", "3"}, 2, "at least 1"},
		{"prune with a bad time", []string{"prune", "--repository", "127.0.0.1:1/a/b", "--keep-stable", "1", "--keep-rc-days", "3", "--now", "yesterday"}, 2, "RFC 3339"},
		{"prune on GitHub without a token", []string{"prune", "--repository", "ghcr.io/acme/app", "--keep-stable", "1", "--keep-rc-days", "3"}, 2, "--github-token"},
		{"status with a bad format", []string{"status", "--repository", "127.0.0.1:1/a/b", "--format", "html"}, 2, "text or markdown"},
		{"status with a bad selection", []string{"status", "--repository", "127.0.0.1:1/a/b", "--select", "live"}, 2, "NAME=CONSTRAINT"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := steptest.Invoke(t, binary, run, map[string]string{}, tc.args...)
			if r.Code != tc.code || !strings.Contains(r.Stdout+r.Stderr, tc.want) {
				t.Errorf("exit %d (want %d), output lacks %q?\n%s%s", r.Code, tc.code, tc.want, r.Stdout, r.Stderr)
			}
		})
	}
}

// promoted builds release candidates a and b on an in-memory registry and promotes both.
func promoted(t *testing.T) (*ocitest.Server, string, []pipeline.BuildResult) {
	t.Helper()
	srv := ocitest.New(t)
	repo := srv.Host + "/acme/app"
	reg, err := oci.Open(repo, oci.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var rcs []pipeline.BuildResult
	for i, label := range []string{"a", "b"} {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "app.yaml"), []byte("build: "+label+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		rc, err := pipeline.BuildRC(ctx, reg, pipeline.BuildInput{Dir: dir, Sha: strings.Repeat(label, 40), Ref: "main",
			Created: time.Date(2026, 8, 1+i, 0, 0, 0, 0, time.UTC), ShortLen: 7, Rules: version.Rules{Bump: version.Patch}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := pipeline.TagValidated(ctx, reg, pipeline.PromoteInput{Digest: rc.Digest}); err != nil {
			t.Fatal(err)
		}
		rcs = append(rcs, rc)
	}
	return srv, repo, rcs
}

func statusOf(t *testing.T, repo string) status.Report {
	t.Helper()
	r := steptest.Invoke(t, binary, run, map[string]string{}, "status", "--repository", repo, "--json")
	if r.Code != 0 {
		t.Fatalf("status: exit %d\n%s", r.Code, r.Stderr)
	}
	var rep status.Report
	if err := json.Unmarshal([]byte(r.Stdout), &rep); err != nil {
		t.Fatalf("status --json: %v\n%s", err, r.Stdout)
	}
	return rep
}

// As a composite action runs it: inputs as INPUT_*, outputs to GITHUB_OUTPUT, a job summary.
func TestHoldAsActionsStep(t *testing.T) {
	t.Parallel()
	_, repo, _ := promoted(t)
	dir := t.TempDir()
	out, summary := filepath.Join(dir, "output"), filepath.Join(dir, "summary")
	env := map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": out, "GITHUB_STEP_SUMMARY": summary,
		"GITHUB_ACTOR": "octocat", "INPUT_REPOSITORY": repo, "INPUT_REASON": "release freeze"}
	r := steptest.Invoke(t, binary, run, env, "hold", "set")
	if r.Code != 0 {
		t.Fatalf("hold set: exit %d\n%s", r.Code, r.Stderr)
	}
	b, _ := os.ReadFile(out)
	for _, want := range []string{"hold<<", "on", "tag<<", "hold-1", "changed<<", "true"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("GITHUB_OUTPUT lacks %q:\n%s", want, b)
		}
	}
	rep := statusOf(t, repo)
	if !rep.Hold.Held() || rep.Hold.Actor != "octocat" || rep.Hold.Reason != "release freeze" {
		t.Errorf("hold after set = %+v", rep.Hold)
	}

	r = steptest.Invoke(t, binary, run, map[string]string{}, "hold", "release", "--repository", repo, "--actor", "octocat", "--json")
	var got map[string]string
	if err := steptest.DecodeOutputs(r.Stdout, &got); err != nil || r.Code != 0 {
		t.Fatalf("hold release: exit %d, %v\n%s%s", r.Code, err, r.Stdout, r.Stderr)
	}
	if got["hold"] != "off" || got["tag"] != "hold-2" || got["changed"] != "true" {
		t.Errorf("release outputs = %v", got)
	}
	// show reads the hold and writes nothing; in a workflow the verb is the command input.
	r = steptest.Invoke(t, binary, run, map[string]string{"INPUT_COMMAND": "show", "INPUT_REPOSITORY": repo}, "hold", "--json")
	if err := steptest.DecodeOutputs(r.Stdout, &got); err != nil || r.Code != 0 {
		t.Fatalf("hold show: exit %d, %v\n%s%s", r.Code, err, r.Stdout, r.Stderr)
	}
	if got["hold"] != "off" || got["tag"] != "hold-2" || got["changed"] != "false" || got["reason"] != "released" || !strings.Contains(r.Stderr, "hold: hold released by octocat") {
		t.Errorf("show outputs = %v, stderr:\n%s", got, r.Stderr)
	}
}

func TestRollbackThenStatus(t *testing.T) {
	t.Parallel()
	_, repo, rcs := promoted(t)
	r := steptest.Invoke(t, binary, run, map[string]string{"USER": "oncall"}, "rollback", "--repository", repo, "--to", "aaaaaaa", "--reason", "b broke login", "--json")
	var got map[string]string
	if err := steptest.DecodeOutputs(r.Stdout, &got); err != nil || r.Code != 0 {
		t.Fatalf("rollback: exit %d, %v\n%s%s", r.Code, err, r.Stdout, r.Stderr)
	}
	if got["version"] != "0.0.3" || got["digest"] != rcs[0].Digest || got["writes"] != "hold-1,0.0.3" || got["changed"] != "true" ||
		got["candidate_version"] != "0.0.1-rc.1" || got["rc"] != got["candidate_version"] {
		t.Errorf("rollback outputs = %v", got)
	}
	rep := statusOf(t, repo)
	live := rep.Selections[1]
	if live.Name != "live" || live.Tag != "0.0.3" || live.Digest != rcs[0].Digest || !live.Held {
		t.Errorf("live after the rollback = %+v", live)
	}
	if rep.Hold.Actor != "oncall" {
		t.Errorf("hold actor = %q, want the USER fallback", rep.Hold.Actor)
	}
}

func TestPruneDryRun(t *testing.T) {
	t.Parallel()
	srv, repo, _ := promoted(t)
	writes := len(srv.Writes())
	r := steptest.Invoke(t, binary, run, map[string]string{}, "prune", "--repository", repo, "--keep-stable", "1", "--keep-rc-days", "7",
		"--prune-stable", "--now", "2026-12-01T00:00:00Z", "--dry-run")
	if r.Code != 0 {
		t.Fatalf("prune: exit %d\n%s", r.Code, r.Stderr)
	}
	for _, want := range []string{"would delete sha256:", "0.0.1 0.0.1-rc.1 claim-0.0.1-aaaaaaa-", "claim-0.0.1-rc.1-aaaaaaa-", "integration-aaaaaaa sha-aaaaaaa validated-aaaaaaa", "keep sha256:", "selected by live", "would delete 1 artifacts"} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("dry run output lacks %q:\n%s", want, r.Stdout)
		}
	}
	if w := srv.Writes()[writes:]; len(w) != 0 {
		t.Errorf("dry run wrote %v", w)
	}
}

// Hostile or mistaken inputs are refused with exit 2 (how the command was called) or 1 (the
// registry has no such artifact), with a message saying what is wrong and what to do, on lines of
// their own that no runner reads as a workflow command, and nothing is written to the registry.
func TestHostileInputs(t *testing.T) {
	t.Parallel()
	const repo = "REPO" // replaced by the test registry's repository
	rollback := func(extra ...string) []string {
		return append([]string{"rollback", "--repository", repo, "--to", "aaaaaaa", "--reason", "r", "--actor", "oncall"}, extra...)
	}
	prune := func(extra ...string) []string {
		return append([]string{"prune", "--repository", repo, "--keep-stable", "1", "--keep-rc-days", "3", "--now", "2026-12-01T00:00:00Z"}, extra...)
	}
	tests := []struct {
		name string
		args []string
		env  map[string]string
		code int
		want []string
	}{
		{"rollback to shell metacharacters", rollback("--to", "0.0.1; rm -rf /"), nil, 2, []string{`to: "0.0.1; rm -rf /" is not a version, a commit sha or a digest`, "name the artifact"}},
		{"rollback to a command substitution", rollback("--to", "$(id)"), nil, 2, []string{`"$(id)" is not a version`}},
		{"rollback to a workflow command", rollback("--to", "0.0.1\n::error::boom"), nil, 2, []string{`"0.0.1\n::error::boom" is not a version`}},
		{"rollback to a short digest", rollback("--to", "sha256:1234"), nil, 2, []string{"sha256:<64 lower-case hex>"}},
		{"rollback to an oversized value", rollback("--to", strings.Repeat("a", 100000)), nil, 2, []string{"is not a version", "bytes)"}},
		{"rollback to an unknown version", rollback("--to", "9.9.9"), nil, 1, []string{"no tag 9.9.9", "ocipromote status"}},
		{"rollback to an unknown commit", rollback("--to", "deadbee"), nil, 1, []string{"commit deadbee was never built", "ocipromote status"}},
		{"rollback to an unknown digest", rollback("--to", "sha256:"+strings.Repeat("0", 64)), nil, 1, []string{"not found"}},
		{"rollback with an empty reason", rollback("--reason", ""), nil, 2, []string{"missing required --reason"}},
		{"rollback with a reason on two lines", rollback("--reason", "r\n::error::boom $(id)"), nil, 2, []string{"reason", "line break", "say why in one line"}},
		{"rollback with an oversized reason", rollback("--reason", strings.Repeat("r", 501)), nil, 2, []string{"501 characters, over the limit of 500"}},
		{"rollback with a reason from the environment on two lines", []string{"rollback", "--repository", repo, "--to", "aaaaaaa"},
			map[string]string{"INPUT_REASON": "r\n::error::boom", "GITHUB_ACTOR": "oncall"}, 2, []string{"line break"}},
		{"rollback with an empty actor", rollback("--actor", ""), nil, 2, []string{"say who you are with --actor"}},
		{"rollback with an actor on two lines", rollback("--actor", "a\n::error::b"), nil, 2, []string{"actor", "line break", "user name"}},
		{"rollback with an oversized actor", rollback("--actor", strings.Repeat("a", 101)), nil, 2, []string{"over the limit of 100"}},
		{"rollback with an actor from the environment on two lines", []string{"rollback", "--repository", repo, "--to", "aaaaaaa", "--reason", "r"},
			map[string]string{"GITHUB_ACTOR": "a\n::error::b"}, 2, []string{"actor", "line break"}},
		{"hold set with a reason on two lines", []string{"hold", "set", "--repository", repo, "--reason", "r\n::warning::x", "--actor", "a"}, nil, 2, []string{"line break"}},
		{"hold release with an actor on two lines", []string{"hold", "release", "--repository", repo, "--actor", "a\rb"}, nil, 2, []string{"actor", "line break"}},
		{"prune keeping a negative number of stable versions", prune("--keep-stable", "-1"), nil, 2, []string{"--keep-stable must be at least 1"}},
		{"prune keeping a word of stable versions", prune("--keep-stable", "ten"), nil, 2, []string{`--keep-stable must be a whole number, got "ten"`}},
		{"prune with negative days", prune("--keep-rc-days", "-3"), nil, 2, []string{"--keep-rc-days must not be negative"}},
		{"prune with days and a unit", prune("--keep-rc-days", "3d"), nil, 2, []string{`--keep-rc-days must be a whole number, got "3d"`}},
		{"prune with an unknown deletion API", prune("--delete-api", "s3"), nil, 2, []string{`--delete-api must be auto, oci or github, got "s3"`}},
		{"prune with a GitHub API URL that is not one", prune("--delete-api", "github", "--github-token", "t", "--github-api-url", "javascript:alert(1)"), nil, 2, []string{"is not an http(s) URL"}},
		{"status in an unknown format", []string{"status", "--repository", repo, "--format", "html"}, nil, 2, []string{"format must be text or markdown"}},
		{"status with a selection without a constraint", []string{"status", "--repository", repo, "--select", "live"}, nil, 2, []string{"--select: selection \"live\" is not NAME=CONSTRAINT"}},
		{"status with a malformed constraint", []string{"status", "--repository", repo, "--select", "live=>>1"}, nil, 2, []string{"semver constraint"}},
		{"status with a malformed filter", []string{"status", "--repository", repo, "--select", "live=>= 0.0.0;("}, nil, 2, []string{"semver filter"}},
		{"status with a negative limit", []string{"status", "--repository", repo, "--limit", "-1"}, nil, 2, []string{"limit must be 0"}},
		{"status of a repository with a tag", []string{"status", "--repository", "ghcr.io/acme/app:latest"}, nil, 2, []string{"has a tag"}},
		{"status of a repository in upper case", []string{"status", "--repository", "ghcr.io/Acme/App"}, nil, 2, []string{"REGISTRY/PATH"}},
		{"rollback in a repository with credentials", []string{"rollback", "--repository", "user:ghp_secret@ghcr.io/acme/app", "--to", "0.0.1", "--reason", "r", "--actor", "a"}, nil, 2, []string{"carries credentials"}},
		{"prune of a repository with a workflow command", []string{"prune", "--repository", "ghcr.io/acme/app\n::error::x", "--keep-stable", "1", "--keep-rc-days", "3"}, nil, 2, []string{"REGISTRY/PATH"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, repository, _ := promoted(t)
			writes, assignments := len(srv.Writes()), len(srv.Assignments())
			args := slices.Clone(tc.args)
			for i, a := range args {
				if a == repo {
					args[i] = repository
				}
			}
			env := map[string]string{}
			maps.Copy(env, tc.env)
			r := steptest.Invoke(t, binary, run, env, args...)
			if r.Code != tc.code {
				t.Errorf("exit %d, want %d\n%s%s", r.Code, tc.code, r.Stdout, r.Stderr)
			}
			for _, want := range tc.want {
				if !strings.Contains(r.Stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, r.Stderr)
				}
			}
			for _, line := range strings.Split(r.Stdout+r.Stderr, "\n") {
				if l := strings.TrimSpace(line); strings.HasPrefix(l, "::") && !strings.HasPrefix(l, "::add-mask::") {
					t.Errorf("a line the runner reads as a workflow command: %q", line)
				}
			}
			if strings.Contains(r.Stdout+r.Stderr, "ghp_secret") {
				t.Errorf("the credentials were printed:\n%s%s", r.Stdout, r.Stderr)
			}
			if w := srv.Writes()[writes:]; len(w) != 0 {
				t.Errorf("wrote to the registry: %v", w)
			}
			if a := srv.Assignments()[assignments:]; len(a) != 0 {
				t.Errorf("assigned tags: %v", a)
			}
		})
	}
}

// status and prune end as every step does (actionio.Report): a heading in the log, the outputs in
// GITHUB_OUTPUT, and a job summary; stdout keeps the report itself.
func TestStatusAndPruneAsActionsSteps(t *testing.T) {
	t.Parallel()
	_, repo, rcs := promoted(t)
	tests := []struct {
		name    string
		args    []string
		heading string
		outputs map[string]string
		stdout  string
		summary []string
	}{
		{
			name:    "status",
			args:    []string{"status", "--repository", repo},
			heading: "status: hold off; integration selects 0.0.2-rc.1 (bbbbbbb); live selects 0.0.2 (bbbbbbb)",
			outputs: map[string]string{"hold": "off", "integration_tag": "0.0.2-rc.1", "integration_digest": rcs[1].Digest, "integration_sha": "bbbbbbb",
				"live_tag": "0.0.2", "live_digest": rcs[1].Digest, "live_sha": "bbbbbbb",
				"selections": `{"integration":{"tag":"0.0.2-rc.1","digest":"` + rcs[1].Digest + `","sha":"bbbbbbb"},"live":{"tag":"0.0.2","digest":"` + rcs[1].Digest + `","sha":"bbbbbbb"}}`},
			stdout:  "SELECTION",
			summary: []string{"### ocipromote status:", "| output | value |", "| live_tag | `0.0.2` |"},
		},
		{
			name:    "prune",
			args:    []string{"prune", "--repository", repo, "--keep-stable", "1", "--keep-rc-days", "7", "--prune-stable", "--now", "2026-12-01T00:00:00Z", "--dry-run"},
			heading: "prune: would delete 1 artifacts, skipped 0, kept 1",
			outputs: map[string]string{"deleted": "1", "skipped": "0"},
			stdout:  "would delete 1 artifacts",
			summary: []string{"### ocipromote prune (dry run): 1 deleted", "| deleted | `1` |"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			out, summary := filepath.Join(dir, "output"), filepath.Join(dir, "summary")
			r := steptest.Invoke(t, binary, run, map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": out, "GITHUB_STEP_SUMMARY": summary}, tc.args...)
			if r.Code != 0 {
				t.Fatalf("exit %d\n%s", r.Code, r.Stderr)
			}
			if !slices.Contains(strings.Split(r.Stderr, "\n"), tc.heading) {
				t.Errorf("stderr lacks the heading %q:\n%s", tc.heading, r.Stderr)
			}
			if !strings.Contains(r.Stdout, tc.stdout) || strings.Contains(r.Stdout, "deleted=") || strings.Contains(r.Stdout, "hold=") {
				t.Errorf("stdout is not the report:\n%s", r.Stdout)
			}
			b, _ := os.ReadFile(out)
			for k, v := range tc.outputs {
				if !strings.Contains(string(b), k+"<<") || !strings.Contains(string(b), "\n"+v+"\n") {
					t.Errorf("GITHUB_OUTPUT lacks %s=%s:\n%s", k, v, b)
				}
			}
			s, _ := os.ReadFile(summary)
			for _, want := range tc.summary {
				if !strings.Contains(string(s), want) {
					t.Errorf("summary lacks %q:\n%s", want, s)
				}
			}
		})
	}
}

// Issue 14: --json was stringly typed ("promoted":"false", "tags":"a,b"), and status printed
// "artifacts": null and a zero time for a repository with no artifact. Every subcommand's --json
// is checked against a hand-written schema of its types (testdata/schema).
func TestJSONSchemas(t *testing.T) {
	t.Parallel()
	schema := func(name string) string {
		return filepath.Join("..", "..", "testdata", "schema", "ocipromote-"+name+".json")
	}
	_, repo, _ := promoted(t)
	jsonOf := func(args ...string) string {
		t.Helper()
		r := steptest.Invoke(t, binary, run, map[string]string{}, append(args, "--json")...)
		if r.Code != 0 {
			t.Fatalf("%v: exit %d\n%s", args, r.Code, r.Stderr)
		}
		return r.Stdout
	}
	out := jsonOf("status", "--repository", repo)
	steptest.CheckSchema(t, out, schema("status"))
	if strings.Contains(out, "0001-01-01") {
		t.Errorf("status of a repository never held prints a zero time:\n%s", out)
	}
	steptest.CheckSchema(t, jsonOf("prune", "--repository", repo, "--keep-stable", "1", "--keep-rc-days", "7", "--now", "2026-12-01T00:00:00Z", "--dry-run"), schema("prune"))
	steptest.CheckSchema(t, jsonOf("rollback", "--repository", repo, "--to", "aaaaaaa", "--reason", "r", "--actor", "a", "--dry-run"), schema("rollback"))
	steptest.CheckSchema(t, jsonOf("rollback", "--repository", repo, "--to", "aaaaaaa", "--reason", "r", "--actor", "a"), schema("rollback"))
	steptest.CheckSchema(t, jsonOf("status", "--repository", repo), schema("status"))
	steptest.CheckSchema(t, jsonOf("hold", "release", "--repository", repo, "--actor", "a"), schema("hold"))
	steptest.CheckSchema(t, jsonOf("hold", "set", "--repository", repo, "--actor", "a", "--reason", "freeze"), schema("hold"))

	// A repository that does not exist is said to be missing, exit 1.
	r := steptest.Invoke(t, binary, run, map[string]string{}, "status", "--repository", ocitest.New(t).Host+"/acme/typo")
	if r.Code != 1 || !strings.Contains(r.Stderr, "does not exist") {
		t.Errorf("status of a missing repository: exit %d, want 1 saying it does not exist; stderr:\n%s", r.Code, r.Stderr)
	}

	// A repository holding only hold records has no artifact: a list, empty, not null.
	srv := ocitest.New(t)
	empty := srv.Host + "/acme/empty"
	jsonOf("hold", "set", "--repository", empty, "--actor", "a", "--reason", "freeze")
	out = jsonOf("status", "--repository", empty)
	steptest.CheckSchema(t, out, schema("status"))
	if !strings.Contains(out, `"artifacts": []`) {
		t.Errorf("status of a repository with no artifact:\n%s", out)
	}
	steptest.CheckSchema(t, jsonOf("prune", "--repository", empty, "--keep-stable", "1", "--keep-rc-days", "7", "--dry-run"), schema("prune"))
}

// Issue 14: --actor fell back only to $USER, unset in many containers, so a rollback refused
// even a dry run. It falls back to $USER, $LOGNAME, then the user the process runs as.
func TestActorFallbacks(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		env     map[string]string
		osUser  string
		want    string
		refused bool
	}{
		{"USER", map[string]string{"USER": "u", "LOGNAME": "l"}, "os", "u", false},
		{"LOGNAME", map[string]string{"LOGNAME": "l"}, "os", "l", false},
		{"the process's user", nil, "os", "os", false},
		{"nobody known", nil, "", "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, repo, _ := promoted(t)
			body := func(ctx context.Context, a *githubactions.Action, args []string, stdout, stderr io.Writer, env step.Env) error {
				env.User = func() string { return tc.osUser }
				return run(ctx, a, args, stdout, stderr, env)
			}
			r := steptest.Invoke(t, binary, body, tc.env, "hold", "set", "--repository", repo, "--reason", "freeze")
			if tc.refused {
				if r.Code != 2 || !strings.Contains(r.Stderr, "say who you are with --actor") {
					t.Errorf("exit %d, want 2 asking for --actor; stderr:\n%s", r.Code, r.Stderr)
				}
				return
			}
			if r.Code != 0 {
				t.Fatalf("exit %d:\n%s", r.Code, r.Stderr)
			}
			if got := statusOf(t, repo).Hold.Actor; got != tc.want {
				t.Errorf("actor %q, want %q", got, tc.want)
			}
		})
	}
}

// hold --stage freezes one stage of a chain: the last stage's hold is hold-<n> as always, another
// stage's is hold-<stage>-<n>, and status shows both. A stage outside the chain, or a malformed
// chain, is refused before the registry is contacted.
func TestHoldPerStage(t *testing.T) {
	t.Parallel()
	_, repo, _ := promoted(t)
	outputs := func(args ...string) map[string]string {
		t.Helper()
		r := steptest.Invoke(t, binary, run, map[string]string{}, append(append([]string{"hold"}, args...), "--repository", repo, "--actor", "octocat", "--json")...)
		var got map[string]string
		if err := steptest.DecodeOutputs(r.Stdout, &got); err != nil || r.Code != 0 {
			t.Fatalf("hold %v: exit %d, %v\n%s%s", args, r.Code, err, r.Stdout, r.Stderr)
		}
		return got
	}
	three := "dev, preprod ,prod"
	if got := outputs("set", "--stage", "preprod", "--stages", three, "--reason", "load test"); got["tag"] != "hold-preprod-1" || got["hold"] != "on" || got["stage"] != "preprod" {
		t.Errorf("set preprod = %v", got)
	}
	if got := outputs("set", "--stages", three, "--reason", "change freeze"); got["tag"] != "hold-1" || got["stage"] != "prod" {
		t.Errorf("set without a stage = %v, want the last stage's hold-1", got)
	}
	if got := outputs("show"); got["tag"] != "hold-1" || got["hold"] != "on" || got["stage"] != "live" {
		t.Errorf("show of the default chain = %v, want the last stage's hold-1", got)
	}
	if got := outputs("release", "--stage", "preprod", "--stages", three); got["tag"] != "hold-preprod-2" || got["hold"] != "off" {
		t.Errorf("release preprod = %v", got)
	}
	if got := outputs("show", "--stage", "integration"); got["tag"] != "" || got["hold"] != "off" {
		t.Errorf("show integration = %v, want never set", got)
	}
	r := steptest.Invoke(t, binary, run, map[string]string{}, "status", "--repository", repo, "--json")
	if r.Code != 0 {
		t.Fatalf("status: exit %d\n%s", r.Code, r.Stderr)
	}
	steptest.CheckSchema(t, r.Stdout, filepath.Join("..", "..", "testdata", "schema", "ocipromote-status.json"))
	rep := statusOf(t, repo)
	if !rep.Hold.Held() || len(rep.StageHolds) != 1 || rep.StageHolds[0].Stage != "preprod" || rep.StageHolds[0].Held() {
		t.Errorf("status: hold %+v, stage holds %+v", rep.Hold, rep.StageHolds)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--stage", "staging"}, `"staging" is not a stage of "integration,live"`},
		{[]string{"--stages", "dev"}, "at least two stages"},
		{[]string{"--stages", "dev,hold,prod"}, `stage "hold" is a word`},
	} {
		r := steptest.Invoke(t, binary, run, map[string]string{}, append([]string{"hold", "show", "--repository", "127.0.0.1:1/none"}, tc.args...)...)
		if r.Code != 2 || !strings.Contains(r.Stderr, tc.want) {
			t.Errorf("hold show %v: exit %d, want 2 saying %q; stderr:\n%s", tc.args, r.Code, tc.want, r.Stderr)
		}
	}
}
