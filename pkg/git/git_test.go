package git

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestCommitTime(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := append(os.Environ(), "GIT_AUTHOR_NAME=a", "GIT_AUTHOR_EMAIL=a@example.com", "GIT_COMMITTER_NAME=a",
		"GIT_COMMITTER_EMAIL=a@example.com", "GIT_COMMITTER_DATE=2026-08-01T12:00:00+02:00", "GIT_AUTHOR_DATE=2026-08-01T12:00:00+02:00")
	for _, args := range [][]string{{"init", "-q"}, {"commit", "-q", "--allow-empty", "-m", "x"}, {"commit", "-q", "--allow-empty", "-m", "feat: y\n\nbody"}} {
		c := exec.Command("git", append([]string{"-C", dir}, args...)...)
		c.Env = env
		if out, err := c.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	out, err := exec.Command("git", "-C", dir, "rev-parse", "HEAD").Output()
	if err != nil {
		t.Fatal(err)
	}
	got, err := CommitTime(context.Background(), dir, strings.TrimSpace(string(out)))
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 8, 1, 10, 0, 0, 0, time.UTC); !got.Equal(want) || got.Location() != time.UTC {
		t.Errorf("CommitTime = %v, want %v in UTC", got, want)
	}
	if _, err := CommitTime(context.Background(), dir, "0000000000000000000000000000000000000000"); err == nil || !strings.Contains(err.Error(), "0000000") {
		t.Errorf("unknown commit: err = %v", err)
	}
	head := strings.TrimSpace(string(out))
	all, err := Messages(context.Background(), dir, "", head)
	if err != nil || len(all) != 2 || all[0] != "feat: y\n\nbody" || all[1] != "x" {
		t.Errorf("Messages(all) = %q, %v", all, err)
	}
	since, err := Messages(context.Background(), dir, head+"~1", head)
	if err != nil || len(since) != 1 {
		t.Errorf("Messages(since parent) = %q, %v", since, err)
	}
	if _, err := Messages(context.Background(), dir, "1111111111111111111111111111111111111111", head); err == nil || !strings.Contains(err.Error(), "fetch-depth: 0") {
		t.Errorf("unknown base: err = %v, want advice about fetch-depth", err)
	}
}

func TestInspect(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	repo := t.TempDir()
	run := func(args ...string) {
		t.Helper()
		c := exec.Command("git", append([]string{"-C", repo}, args...)...)
		c.Env = append(os.Environ(), "GIT_AUTHOR_NAME=a", "GIT_AUTHOR_EMAIL=a@example.com", "GIT_COMMITTER_NAME=a", "GIT_COMMITTER_EMAIL=a@example.com")
		if out, err := c.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	write := func(name, content string) {
		t.Helper()
		p := filepath.Join(repo, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := Inspect(ctx, repo); !errors.Is(err, ErrNotCheckout) {
		t.Errorf("Inspect of a plain directory = %v, want ErrNotCheckout", err)
	}
	run("init", "-q")
	if _, err := Inspect(ctx, repo); err == nil || errors.Is(err, ErrNotCheckout) || !strings.Contains(err.Error(), "no commit yet has no HEAD") {
		t.Errorf("Inspect of a repository without a commit = %v, want an error saying it has no HEAD (not ErrNotCheckout: the check must not turn itself off)", err)
	}
	write("deploy/app.yaml", "a")
	write("deploy/old.yaml", "o")
	write("deploy/.gitignore", "*.env\n")
	write("docs/readme.md", "r")
	run("add", ".")
	run("commit", "-q", "-m", "x")
	head, err := exec.Command("git", "-C", repo, "rev-parse", "HEAD").Output()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Inspect(ctx, filepath.Join(repo, ".git")); !errors.Is(err, ErrNotCheckout) || !strings.Contains(err.Error(), "metadata") {
		t.Errorf("Inspect of .git = %v, want ErrNotCheckout saying it is the repository's metadata", err)
	}
	if co, err := Inspect(ctx, repo); err != nil || co.Head != strings.TrimSpace(string(head)) || len(co.Changed) != 0 {
		t.Errorf("clean checkout at its top: Inspect = %+v, %v; want HEAD %s and no change", co, err, head)
	}
	dir := filepath.Join(repo, "deploy")
	co, err := Inspect(ctx, dir)
	if err != nil || co.Head != strings.TrimSpace(string(head)) || len(co.Changed) != 0 {
		t.Fatalf("clean checkout: Inspect = %+v, %v; want HEAD %s and no change", co, err, head)
	}
	write("deploy/app.yaml", "edited")
	write("deploy/new dir/new file.yaml", "n")
	write("deploy/secret.env", "s")
	write("docs/readme.md", "outside the path")
	if err := os.Remove(filepath.Join(dir, "old.yaml")); err != nil {
		t.Fatal(err)
	}
	co, err = Inspect(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(co.Changed)
	if want := []string{"app.yaml", "new dir/new file.yaml", "old.yaml", "secret.env"}; !slices.Equal(co.Changed, want) {
		t.Errorf("Changed = %q, want %q (relative to the path, nothing outside it)", co.Changed, want)
	}
}

// gitRepo makes a repository with one commit of app.yaml and returns its directory.
func gitRepo(t *testing.T) string {
	t.Helper()
	repo := t.TempDir()
	if err := os.WriteFile(filepath.Join(repo, "app.yaml"), []byte("a"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"init", "-q"}, {"add", "."}, {"commit", "-q", "-m", "x"}} {
		c := exec.Command("git", append([]string{"-C", repo}, args...)...)
		c.Env = append(os.Environ(), "GIT_AUTHOR_NAME=a", "GIT_AUTHOR_EMAIL=a@example.com", "GIT_COMMITTER_NAME=a", "GIT_COMMITTER_EMAIL=a@example.com")
		if out, err := c.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	return repo
}

// A plain `git status` refreshes the stat data of files touched since the index was written and
// writes the index back under index.lock: a workflow's git command running beside build-rc then
// fails with "Unable to create .git/index.lock: File exists" (CI saw exactly that).
func TestInspectLeavesTheIndexAlone(t *testing.T) {
	t.Parallel()
	repo := gitRepo(t)
	later := time.Now().Add(time.Hour)
	if err := os.Chtimes(filepath.Join(repo, "app.yaml"), later, later); err != nil {
		t.Fatal(err)
	}
	index := filepath.Join(repo, ".git", "index")
	before, err := os.ReadFile(index)
	if err != nil {
		t.Fatal(err)
	}
	if co, err := Inspect(context.Background(), repo); err != nil || len(co.Changed) != 0 {
		t.Fatalf("Inspect = %+v, %v; want no change (only the mtime moved)", co, err)
	}
	after, err := os.ReadFile(index)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(before, after) {
		t.Error("Inspect rewrote .git/index: it must not take the user's index lock")
	}
}

// Inspect starts git status before rev-parse answers; when rev-parse fails it must still wait for
// status to exit, or the test's (and a workflow's) next git command races it.
func TestInspectWaitsForTheStatusItStarted(t *testing.T) {
	gitPath, err := exec.LookPath("git")
	if err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	marker := filepath.Join(bin, "status-exited")
	script := "#!/bin/sh\n" + gitPath + " \"$@\"\nrc=$?\ncase \" $* \" in *\" status \"*) sleep 0.3; : > " + marker + ";; esac\nexit $rc\n"
	if err := os.WriteFile(filepath.Join(bin, "git"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	repo := t.TempDir()
	if out, err := exec.Command("git", "-C", repo, "init", "-q").CombinedOutput(); err != nil {
		t.Fatalf("git init: %v\n%s", err, out)
	}
	if _, err := Inspect(context.Background(), repo); err == nil {
		t.Fatal("Inspect of a repository without a commit succeeded")
	}
	if _, err := os.Stat(marker); err != nil {
		t.Errorf("Inspect returned while the git status it started was still running: %v", err)
	}
}
