// Package git reads the facts build-rc takes from the checkout.
package git

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// CommitTime is the committer time of sha in the repository that contains dir, in UTC.
func CommitTime(ctx context.Context, dir, sha string) (time.Time, error) {
	cmd := exec.CommandContext(ctx, "git", "-C", dir, "show", "-s", "--format=%cI", sha, "--")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return time.Time{}, fmt.Errorf("read the commit time of %s with git in %s: %v: %s", sha, dir, err, strings.TrimSpace(stderr.String()))
	}
	t, err := time.Parse(time.RFC3339, strings.TrimSpace(string(out)))
	if err != nil {
		return time.Time{}, fmt.Errorf("git printed an unexpected commit time %q for %s", strings.TrimSpace(string(out)), sha)
	}
	return t.UTC(), nil
}

// Messages returns the full commit messages of the commits reachable from to but not from since
// (all of to's history when since is ""), newest first.
func Messages(ctx context.Context, dir, since, to string) ([]string, error) {
	rng := to
	if since != "" {
		rng = since + ".." + to
	}
	cmd := exec.CommandContext(ctx, "git", "-C", dir, "log", "--format=%B%x00", rng, "--")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("read the commits %s with git in %s: %v: %s (a shallow checkout lacks them: use actions/checkout with fetch-depth: 0)", rng, dir, err, strings.TrimSpace(stderr.String()))
	}
	var msgs []string
	for _, m := range strings.Split(string(out), "\x00") {
		if m = strings.TrimSpace(m); m != "" {
			msgs = append(msgs, m)
		}
	}
	return msgs, nil
}

// ErrNotCheckout is returned by Inspect when dir is not inside a Git work tree (or git is not
// installed): there is no HEAD to default to and nothing to compare the content with.
var ErrNotCheckout = errors.New("not inside a git checkout")

// Checkout is what build-rc needs to know about the work tree a path is in.
type Checkout struct {
	// Head is the full sha of the commit checked out.
	Head string
	// Changed lists the files under the path that differ from HEAD: modified, added, deleted,
	// untracked, or ignored by .gitignore (Pack would still take an ignored file). Paths are
	// slash-separated and relative to the path inspected.
	Changed []string
}

// Inspect reads HEAD and the changed files under dir. It runs one `git rev-parse` for whether dir
// is in a work tree, its path there and HEAD, and `git status --porcelain=v1 -z`, whose format is
// stable across Git versions (git-status(1), "Porcelain Format Version 1"), with
// --untracked-files=all and --ignored so that each new file is named, not its directory. Each
// git process costs build-rc milliseconds of its start-up: where a .git is in sight the two run at
// once, and elsewhere status runs only if rev-parse finds a work tree after all. Status runs with
// --no-optional-locks (git(1)): it never takes index.lock to refresh the user's index, so a
// workflow's own git command beside or after build-rc never finds the index locked.
func Inspect(ctx context.Context, dir string) (Checkout, error) {
	type result struct {
		out string
		err error
	}
	statusDone := make(chan result, 1)
	runStatus := func() {
		out, err := output(ctx, dir, "--no-optional-locks", "status", "--porcelain=v1", "-z", "--untracked-files=all", "--ignored", "--no-renames", "--", ".")
		statusDone <- result{out, err}
	}
	early := dotGitAbove(dir)
	if early {
		go runStatus()
	}
	// Inspect returns only once the status it started has exited: a git left running in the
	// user's checkout would race the workflow's next git command.
	fail := func(err error) (Checkout, error) {
		if early {
			<-statusDone
		}
		return Checkout{}, err
	}
	// Only "no repository here" and "no git" mean there is nothing to check: any other failure,
	// such as Git refusing a repository owned by another user ("dubious ownership"), must not
	// quietly turn the check off.
	revParse, err := stdout(ctx, dir, "rev-parse", "--is-inside-work-tree", "--show-prefix", "--verify", "HEAD^{commit}")
	lines := strings.Split(revParse, "\n")
	switch {
	case errors.Is(err, exec.ErrNotFound) || (err != nil && strings.Contains(err.Error(), "not a git repository")):
		return fail(fmt.Errorf("%w: %s", ErrNotCheckout, dir))
	case lines[0] == "false":
		return fail(fmt.Errorf("%w: %s is inside a repository's metadata, not its work tree", ErrNotCheckout, dir))
	case len(lines) < 2 || lines[0] != "true":
		return fail(fmt.Errorf("ask git whether %s is in a checkout: %v", dir, err))
	case err != nil || len(lines) < 3 || lines[2] == "":
		return fail(fmt.Errorf("read HEAD with git in %s: %v (a repository with no commit yet has no HEAD)", dir, err))
	}
	if !early {
		runStatus()
	}
	status := <-statusDone
	if status.err != nil {
		return Checkout{}, fmt.Errorf("read the state of the work tree with git in %s: %v", dir, status.err)
	}
	return Checkout{Head: lines[2], Changed: parseStatus(status.out, lines[1])}, nil
}

// dotGitAbove reports whether dir or a directory above it holds a .git: only a hint of whether
// git status is worth starting before rev-parse answers (git decides, with GIT_DIR and the like).
func dotGitAbove(dir string) bool {
	d, err := filepath.Abs(dir)
	if err != nil {
		return false
	}
	for {
		if _, err := os.Lstat(filepath.Join(d, ".git")); err == nil {
			return true
		}
		parent := filepath.Dir(d)
		if parent == d {
			return false
		}
		d = parent
	}
}

// parseStatus reads `git status --porcelain=v1 -z --no-renames` output: entries "XY path"
// separated by NUL, paths relative to the repository root (porcelain ignores
// status.relativePaths), returned relative to prefix.
func parseStatus(out, prefix string) []string {
	var changed []string
	for _, e := range strings.Split(out, "\x00") {
		if len(e) < 4 {
			continue
		}
		p := strings.TrimPrefix(e[3:], prefix)
		changed = append(changed, p)
	}
	return changed
}

func output(ctx context.Context, dir string, args ...string) (string, error) {
	out, err := stdout(ctx, dir, args...)
	if err != nil {
		return "", err
	}
	return out, nil
}

// stdout runs git in dir and returns what it printed, also when it fails (its error then carries
// git's message).
func stdout(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", append([]string{"-C", dir}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			return string(out), fmt.Errorf("%v: %s", err, msg)
		}
		return string(out), err
	}
	return string(out), nil
}
