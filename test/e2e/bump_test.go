package e2e

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// bump auto through the built binary and a real checkout: the release level comes from the
// Conventional Commits since the highest stable version's commit.
func TestBuildRCBumpAuto(t *testing.T) {
	t.Parallel()
	repo := newRepo(t)
	dir := t.TempDir()
	git := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
		cmd.Env = []string{"HOME=" + homeDir, "PATH=" + os.Getenv("PATH"),
			"GIT_AUTHOR_NAME=e2e", "GIT_AUTHOR_EMAIL=e2e@example.com", "GIT_COMMITTER_NAME=e2e", "GIT_COMMITTER_EMAIL=e2e@example.com",
			"GIT_AUTHOR_DATE=2026-08-01T10:00:00Z", "GIT_COMMITTER_DATE=2026-08-01T10:00:00Z"}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return strings.TrimSpace(string(out))
	}
	commit := func(message, content string) string {
		t.Helper()
		writeFiles(t, dir, map[string]string{"app.yaml": "kind: ConfigMap\ndata:\n  v: " + content + "\n"})
		git("add", ".")
		git("commit", "-q", "-m", message)
		return git("rev-parse", "HEAD")
	}
	build := func(sha string) map[string]string {
		t.Helper()
		return mustRun(t, nil, "build-rc", "--repository", repo, "--path", dir, "--sha", sha, "--ref", "main",
			"--source", source, "--bump", "auto")
	}
	git("init", "-q", "--initial-branch=main")

	first := build(commit("chore: first manifests", "1"))
	if first["version"] != "0.0.1-rc.1" {
		t.Fatalf("first build = %v, want 0.0.1-rc.1", first)
	}
	tagValidated(t, repo, "--revision", first["version"]+"@"+first["digest"])

	tests := []struct {
		message, want string
	}{
		{"fix: raise the memory limit", "0.0.2-rc.1"},
		{"feat: add the ingress", "0.1.0-rc.1"},               // a feature since 0.0.1: minor, over the fix
		{"feat!: rename the namespace", "1.0.0-rc.1"},         // a breaking change: major
		{"docs: typo\n\nBREAKING CHANGE: none", "1.0.0-rc.2"}, // still the pending 1.0.0
	}
	for _, tc := range tests {
		if got := build(commit(tc.message, tc.want))["version"]; got != tc.want {
			t.Errorf("after %q: version %s, want %s", tc.message, got, tc.want)
		}
	}
}
