package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ocipromote/ocipromote/pkg/oci"
	"github.com/ocipromote/ocipromote/pkg/oci/ocitest"
	"github.com/ocipromote/ocipromote/pkg/pipeline"
	"github.com/ocipromote/ocipromote/pkg/status"
	"github.com/ocipromote/ocipromote/pkg/step/steptest"
	"github.com/ocipromote/ocipromote/pkg/version"
)

func TestJoinRepeated(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"absent", []string{"--repository", "r"}, []string{"--repository", "r"}},
		{"once", []string{"--select", "live=>= 0.0.0", "--json"}, []string{"--select", "live=>= 0.0.0", "--json"}},
		{"twice, both spellings", []string{"--select", "a=>= 0.0.0-0", "--repository", "r", "-select=b=>= 0.0.0"},
			[]string{"--select", "a=>= 0.0.0-0\nb=>= 0.0.0", "--repository", "r"}},
		{"after --", []string{"--", "--select", "x"}, []string{"--", "--select", "x"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := joinRepeated(tc.args, "select"); !slices.Equal(got, tc.want) {
				t.Errorf("joinRepeated(%q) = %q, want %q", tc.args, got, tc.want)
			}
		})
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
		{"hold without a verb", []string{"hold"}, 2, "set or release"},
		{"rollback without a reason", []string{"rollback", "--repository", "127.0.0.1:1/a/b", "--to", "0.0.1", "--actor", "a"}, 2, "--reason"},
		{"rollback without an actor", []string{"rollback", "--repository", "127.0.0.1:1/a/b", "--to", "0.0.1", "--reason", "r"}, 2, "--actor"},
		{"prune keeping no stable version", []string{"prune", "--repository", "127.0.0.1:1/a/b", "--keep-stable", "0", "--keep-rc-days", "3"}, 2, "at least 1"},
		{"prune with a bad time", []string{"prune", "--repository", "127.0.0.1:1/a/b", "--keep-stable", "1", "--keep-rc-days", "3", "--now", "yesterday"}, 2, "RFC 3339"},
		{"prune on GitHub without a token", []string{"prune", "--repository", "ghcr.io/acme/app", "--keep-stable", "1", "--keep-rc-days", "3"}, 2, "github_token"},
		{"status with a bad format", []string{"status", "--repository", "127.0.0.1:1/a/b", "--format", "html"}, 2, "text or markdown"},
		{"status with a bad selection", []string{"status", "--repository", "127.0.0.1:1/a/b", "--select", "live"}, 2, "NAME=CONSTRAINT"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := steptest.Invoke(t, name, run, map[string]string{}, tc.args...)
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
	r := steptest.Invoke(t, name, run, map[string]string{}, "status", "--repository", repo, "--json")
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
	r := steptest.Invoke(t, name, run, env, "hold", "set")
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

	r = steptest.Invoke(t, name, run, map[string]string{}, "hold", "release", "--repository", repo, "--actor", "octocat", "--json")
	var got map[string]string
	if err := json.Unmarshal([]byte(r.Stdout), &got); err != nil || r.Code != 0 {
		t.Fatalf("hold release: exit %d, %v\n%s%s", r.Code, err, r.Stdout, r.Stderr)
	}
	if got["hold"] != "off" || got["tag"] != "hold-2" || got["changed"] != "true" {
		t.Errorf("release outputs = %v", got)
	}
}

func TestRollbackThenStatus(t *testing.T) {
	t.Parallel()
	_, repo, rcs := promoted(t)
	r := steptest.Invoke(t, name, run, map[string]string{"USER": "oncall"}, "rollback", "--repository", repo, "--to", "aaaaaaa", "--reason", "b broke login", "--json")
	var got map[string]string
	if err := json.Unmarshal([]byte(r.Stdout), &got); err != nil || r.Code != 0 {
		t.Fatalf("rollback: exit %d, %v\n%s%s", r.Code, err, r.Stdout, r.Stderr)
	}
	if got["version"] != "0.0.3" || got["digest"] != rcs[0].Digest || got["writes"] != "hold-1,0.0.3" || got["changed"] != "true" {
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
	r := steptest.Invoke(t, name, run, map[string]string{}, "prune", "--repository", repo, "--keep-stable", "1", "--keep-rc-days", "7",
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
