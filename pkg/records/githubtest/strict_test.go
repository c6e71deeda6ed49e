package githubtest

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v62/github"
)

func clientWith(t *testing.T, s *Server, tok string) *github.Client {
	t.Helper()
	c := github.NewClient(s.Server.Client()).WithAuthToken(tok)
	u, _ := url.Parse(s.APIURL())
	c.BaseURL = u
	return c
}

func accepted(err error) string {
	if ge, ok := err.(*github.ErrorResponse); ok && ge.Response != nil {
		return ge.Response.Header.Get("X-Accepted-GitHub-Permissions")
	}
	return ""
}

// TestPermissions: each refusal GitHub answers an integration token with, and its header.
func TestPermissions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := New(t, "acme", "platform",
		Grant("prs", Access{"contents": "write", "pull_requests": "write"}),
		Grant("issues", Access{"contents": "write", "issues": "write"}),
		Grant("app", Access{"contents": "write", "workflows": "write"}))
	s.AddCommit(Commit{Sha: "a", Message: "a", Author: "A", Date: day}, Commit{Sha: "b", Parents: []string{"a"}, Message: "ci", Author: "A", Date: day, Workflows: "v2"})
	s.AddPullRequest(PullRequest{Number: 1, Title: "t", User: "u", State: "closed", MergedAt: day, MergeCommit: "a"})
	s.SetDefaultBranch("b")
	tests := []struct {
		name         string
		tok          string
		call         func(gh *github.Client) error
		wantStatus   int
		wantAccepted string
	}{
		{"deployments without the permission", "prs", func(gh *github.Client) error {
			_, _, err := gh.Repositories.ListDeployments(ctx, "acme", "platform", nil)
			return err
		}, 403, "deployments=read"},
		{"label creation with pull-requests: write only", "prs", func(gh *github.Client) error {
			_, _, err := gh.Issues.AddLabelsToIssue(ctx, "acme", "platform", 1, []string{"released"})
			return err
		}, 403, "issues=write"},
		{"label creation with issues: write", "issues", func(gh *github.Client) error {
			_, _, err := gh.Issues.AddLabelsToIssue(ctx, "acme", "platform", 1, []string{"released"})
			return err
		}, 0, ""},
		{"existing label with pull-requests: write", "prs", func(gh *github.Client) error {
			_, _, err := gh.Issues.AddLabelsToIssue(ctx, "acme", "platform", 1, []string{"released"})
			return err
		}, 0, ""},
		{"release at a commit whose workflows differ", "prs", func(gh *github.Client) error {
			_, _, err := gh.Repositories.CreateRelease(ctx, "acme", "platform", &github.RepositoryRelease{TagName: github.String("v1"), TargetCommitish: github.String("a")})
			return err
		}, 403, "contents=write,workflows=write"},
		{"the same with workflows: write", "app", func(gh *github.Client) error {
			_, _, err := gh.Repositories.CreateRelease(ctx, "acme", "platform", &github.RepositoryRelease{TagName: github.String("v1"), TargetCommitish: github.String("a")})
			return err
		}, 0, ""},
		{"release body over 125,000 characters", "app", func(gh *github.Client) error {
			_, _, err := gh.Repositories.CreateRelease(ctx, "acme", "platform", &github.RepositoryRelease{TagName: github.String("v2"), TargetCommitish: github.String("b"), Body: github.String(strings.Repeat("é", 125001))})
			return err
		}, 422, ""},
		{"unknown token", "nope", func(gh *github.Client) error {
			_, _, err := gh.Repositories.ListDeployments(ctx, "acme", "platform", nil)
			return err
		}, 401, ""},
	}
	for _, tc := range tests { // in order: the label exists after the third case
		err := tc.call(clientWith(t, s, tc.tok))
		if got := status(err); got != tc.wantStatus {
			t.Errorf("%s: status %d (%v), want %d", tc.name, got, err, tc.wantStatus)
		}
		if got := accepted(err); got != tc.wantAccepted {
			t.Errorf("%s: X-Accepted-GitHub-Permissions %q, want %q", tc.name, got, tc.wantAccepted)
		}
	}
}

// TestSecondaryLimit: over the rate, content-creating requests are refused, with or without
// retry-after, and every request while limited is counted as a violation.
func TestSecondaryLimit(t *testing.T) {
	t.Parallel()
	for _, cfg := range []SecondaryLimit{
		{PerMinute: 3, Status: 403},
		{PerMinute: 3, Status: 429, RetryAfter: 30 * time.Second},
		{PerHour: 3},
	} {
		clock := NewManualClock(day)
		s := New(t, "acme", "platform", Token("tok"), Limit(cfg), Clock(clock.Now))
		s.AddCommit(Commit{Sha: "a", Message: "a", Author: "A", Date: day})
		s.AddPullRequest(PullRequest{Number: 1, Title: "t", User: "u", State: "closed", MergedAt: day, MergeCommit: "a"})
		gh := clientWith(t, s, "tok")
		ctx := context.Background()
		comment := func() *http.Response {
			req, _ := gh.NewRequest("POST", "repos/acme/platform/issues/1/comments", map[string]string{"body": "x"})
			resp, _ := gh.BareDo(ctx, req)
			return resp.Response
		}
		for i := 0; i < 3; i++ {
			if r := comment(); r.StatusCode != 201 {
				t.Fatalf("%+v: comment %d: %d", cfg, i, r.StatusCode)
			}
			clock.Advance(time.Second)
		}
		r := comment()
		want := cfg.Status
		if want == 0 {
			want = 403
		}
		if r.StatusCode != want || (cfg.RetryAfter > 0) != (r.Header.Get("Retry-After") != "") {
			t.Errorf("%+v: over the limit: %d retry-after %q", cfg, r.StatusCode, r.Header.Get("Retry-After"))
		}
		comment()
		if st := s.LimitStats(); st.Refused != 2 || st.Violations != 1 || st.Writes != 3 {
			t.Errorf("%+v: stats %+v", cfg, st)
		}
		if cfg.PerMinute > 0 {
			clock.Advance(2 * time.Minute)
			if r := comment(); r.StatusCode != 201 {
				t.Errorf("%+v: a minute later: %d", cfg, r.StatusCode)
			}
		}
	}
}
