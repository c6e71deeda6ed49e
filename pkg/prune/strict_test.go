package prune_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v62/github"

	"github.com/ocipromote/ocipromote/pkg/ghapi"
	"github.com/ocipromote/ocipromote/pkg/prune"
	"github.com/ocipromote/ocipromote/pkg/prune/packagestest"
	"github.com/ocipromote/ocipromote/pkg/records/githubtest"
	"github.com/ocipromote/ocipromote/pkg/status"
)

// pruneAll deletes a (0.0.1) and b (never validated): keep one stable version, prune stable ones.
var pruneAll = prune.Options{Rules: prune.Rules{KeepStable: 1, KeepRCDays: 30, Now: now, PruneStable: true}, Selectors: status.DefaultSelectors}

// TestGitHubPackagesAsStrictAsGitHub runs prune against the Packages API where GitHub refuses.
func TestGitHubPackagesAsStrictAsGitHub(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("no Admin access: 404 on DELETE is not a deletion", func(t *testing.T) {
		t.Parallel()
		_, reg, _ := history(t)
		versions, _ := mirror(t, reg)
		api := packagestest.New(t, "acme", true, "team/app", versions, packagestest.NoAdmin())
		res, err := prune.Run(ctx, reg, prune.NewGitHub(api.Client(), "acme", "team/app"), pruneAll)
		if err == nil || !strings.Contains(err.Error(), "still listed") || !strings.Contains(err.Error(), "`packages: write`") || !strings.Contains(err.Error(), "Admin role") {
			t.Errorf("err = %v, want the version still listed and the Admin-access instruction", err)
		}
		if len(res.Deleted) != 0 || len(api.Versions()) != len(versions) {
			t.Errorf("deleted %v (%d versions left of %d), want nothing reported deleted", res.Deleted, len(api.Versions()), len(versions))
		}
	})

	t.Run("a version GitHub will not delete is skipped, the rest go", func(t *testing.T) {
		t.Parallel()
		_, reg, digests := history(t)
		versions, _ := mirror(t, reg)
		first := min(digests["a"], digests["b"]) // the plan deletes in digest order
		for i := range versions {
			if versions[i].Digest == first {
				versions[i].Downloads = 6000
			}
		}
		api := packagestest.New(t, "acme", true, "team/app", versions, packagestest.Public())
		res, err := prune.Run(ctx, reg, prune.NewGitHub(api.Client(), "acme", "team/app"), pruneAll)
		if err != nil {
			t.Fatal(err)
		}
		second := max(digests["a"], digests["b"])
		if got := digestsOf(res.Deleted); !slices.Equal(got, []string{second}) {
			t.Errorf("deleted %v, want %s", got, second)
		}
		if len(res.Skipped) != 1 || res.Skipped[0].Digest != first || !strings.Contains(res.Skipped[0].Reason, "more than 5000 downloads") {
			t.Errorf("skipped %+v, want %s with GitHub's message", res.Skipped, first)
		}
	})

	t.Run("the caller's own private package is under /user/packages", func(t *testing.T) {
		t.Parallel()
		_, reg, _ := history(t)
		versions, _ := mirror(t, reg)
		api := packagestest.New(t, "acme", false, "team/app", versions, packagestest.Caller("acme"))
		res, err := prune.Run(ctx, reg, prune.NewGitHub(api.Client(), "acme", "team/app"), pruneAll)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Deleted) != 2 {
			t.Errorf("deleted %v, want a and b", res.Deleted)
		}
		for _, d := range api.Deletes() {
			if !strings.HasPrefix(d, "DELETE "+api.OwnVersionsPath()+"/") {
				t.Errorf("%s, want it under %s", d, api.OwnVersionsPath())
			}
		}
	})

	t.Run("a cap per run, and the next run goes on", func(t *testing.T) {
		t.Parallel()
		_, reg, _ := history(t)
		versions, _ := mirror(t, reg)
		api := packagestest.New(t, "acme", true, "team/app", versions)
		o := pruneAll
		o.MaxDeletions = 1
		for run, want := range []struct{ deleted, left int }{{1, 1}, {1, 0}} {
			res, err := prune.Run(ctx, reg, prune.NewGitHub(api.Client(), "acme", "team/app"), o)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Deleted) != want.deleted || len(res.Left) != want.left || (want.left > 0) != strings.Contains(res.Summary(), "max_deletions") {
				t.Errorf("run %d: %s, want %d deleted and %d left", run+1, res.Summary(), want.deleted, want.left)
			}
		}
	})

	for _, limit := range []githubtest.SecondaryLimit{{PerMinute: 1}, {PerMinute: 1, Status: 429, RetryAfter: 20 * time.Second}} {
		t.Run(fmt.Sprintf("rate limit %d stops the run cleanly", limit.Status), func(t *testing.T) {
			t.Parallel()
			_, reg, _ := history(t)
			versions, _ := mirror(t, reg)
			clock := githubtest.NewManualClock(now)
			api := packagestest.New(t, "acme", true, "team/app", versions, packagestest.Limit(limit, clock.Now))
			res, err := prune.Run(ctx, reg, prune.NewGitHub(pacedClient(t, api.URL), "acme", "team/app"), pruneAll)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Deleted) != 1 || len(res.Left) != 1 || !strings.Contains(res.Stopped, "rate-limited") {
				t.Errorf("%s, want one deleted, one left, stopped by the rate limit", res.Summary())
			}
			if st := api.LimitStats(); st.Violations != 0 || st.Refused != 1 {
				t.Errorf("limit stats %+v: want one refusal and nothing sent after it", st)
			}
			clock.Advance(2 * time.Minute)
			res, err = prune.Run(ctx, reg, prune.NewGitHub(pacedClient(t, api.URL), "acme", "team/app"), pruneAll)
			if err != nil || len(res.Deleted) != 1 || len(res.Left) != 0 {
				t.Errorf("next run: %s (%v), want the last one deleted", res.Summary(), err)
			}
		})
	}
}

// pacedClient is the client NewDeleter makes, for the fake at apiURL.
func pacedClient(t *testing.T, apiURL string) *github.Client {
	t.Helper()
	c, err := ghapi.New(ghapi.Options{APIURL: apiURL, Token: "t"})
	if err != nil {
		t.Fatal(err)
	}
	return c.Client
}

func TestAutoKnowsGitHubsRegistries(t *testing.T) {
	t.Parallel()
	tests := []struct {
		registry, server string
		want             bool
	}{
		{"ghcr.io", "https://github.com", true},
		{"containers.ghe.example.com", "https://ghe.example.com", true},
		{"containers.acme.ghe.com", "https://acme.ghe.com", true},
		{"containers.example.com", "https://github.com", false},
		{"registry.example.com", "https://ghe.example.com", false},
	}
	for _, tc := range tests {
		if got := prune.IsGitHubPackages(tc.registry, tc.server); got != tc.want {
			t.Errorf("IsGitHubPackages(%s, %s) = %v, want %v", tc.registry, tc.server, got, tc.want)
		}
	}
}
