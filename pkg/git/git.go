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
