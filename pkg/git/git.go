// Package git reads the facts build-rc takes from the checkout.
package git

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
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
