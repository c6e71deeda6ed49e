package githubtest

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v62/github"
)

func client(t *testing.T, s *Server) *github.Client {
	t.Helper()
	c := github.NewClient(s.Server.Client()).WithAuthToken("tok")
	u, err := url.Parse(s.APIURL())
	if err != nil {
		t.Fatal(err)
	}
	c.BaseURL = u
	return c
}

func status(err error) int {
	var ge *github.ErrorResponse
	if errors.As(err, &ge) && ge.Response != nil {
		return ge.Response.StatusCode
	}
	return 0
}

var day = time.Date(2026, 8, 1, 10, 0, 0, 0, time.UTC)

func TestPaging(t *testing.T) {
	t.Parallel()
	s := New(t, "acme", "platform", Token("tok"), MaxPage(3))
	s.AddCommit(Commit{Sha: "a", Message: "a", Author: "A", Date: day})
	s.AddPullRequest(PullRequest{Number: 7, Title: "t", User: "u", State: "open"})
	for i := 0; i < 7; i++ {
		s.AddComment(7, "u", "c")
	}
	gh := client(t, s)
	ctx := context.Background()
	tests := []struct {
		name      string
		perPage   int
		wantPages []int
		wantLast  int
	}{
		{name: "per_page over the cap", perPage: 50, wantPages: []int{3, 3, 1}, wantLast: 3},
		{name: "per_page honoured", perPage: 2, wantPages: []int{2, 2, 2, 1}, wantLast: 4},
		{name: "default per_page capped", perPage: 0, wantPages: []int{3, 3, 1}, wantLast: 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts := &github.IssueListCommentsOptions{ListOptions: github.ListOptions{PerPage: tc.perPage}}
			var got []int
			for {
				page, resp, err := gh.Issues.ListComments(ctx, "acme", "platform", 7, opts)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, len(page))
				if opts.Page == 0 && resp.LastPage != tc.wantLast {
					t.Errorf("first page: last = %d, want %d", resp.LastPage, tc.wantLast)
				}
				if resp.NextPage == 0 {
					if resp.PrevPage != len(got)-1 || (len(got) > 1 && resp.FirstPage != 1) {
						t.Errorf("last page: prev %d first %d", resp.PrevPage, resp.FirstPage)
					}
					break
				}
				opts.Page = resp.NextPage
			}
			if !slices.Equal(got, tc.wantPages) {
				t.Errorf("page sizes = %v, want %v", got, tc.wantPages)
			}
		})
	}
}

func TestAuth(t *testing.T) {
	t.Parallel()
	s := New(t, "acme", "platform", Token("right"))
	gh := github.NewClient(s.Server.Client()).WithAuthToken("wrong")
	gh.BaseURL, _ = url.Parse(s.APIURL())
	_, _, err := gh.Repositories.ListDeployments(context.Background(), "acme", "platform", nil)
	if status(err) != http.StatusUnauthorized {
		t.Errorf("wrong token: %v, want 401", err)
	}
}

// TestAutoInactive follows the documented rule: a success status adds an inactive status to
// prior non-transient, non-production deployments of the environment that had a success state.
func TestAutoInactive(t *testing.T) {
	t.Parallel()
	s := New(t, "acme", "platform", Token("tok"))
	s.AddCommit(Commit{Sha: "a", Message: "a", Author: "A", Date: day})
	gh := client(t, s)
	ctx := context.Background()
	deploy := func(env string, production bool, state string) int64 {
		d, _, err := gh.Repositories.CreateDeployment(ctx, "acme", "platform", &github.DeploymentRequest{
			Ref: github.String("a"), Environment: github.String(env), AutoMerge: github.Bool(false), RequiredContexts: &[]string{},
			ProductionEnvironment: github.Bool(production), Payload: map[string]string{"k": "v"},
		})
		if err != nil {
			t.Fatal(err)
		}
		if state != "" {
			if _, _, err := gh.Repositories.CreateDeploymentStatus(ctx, "acme", "platform", d.GetID(), &github.DeploymentStatusRequest{State: github.String(state)}); err != nil {
				t.Fatal(err)
			}
		}
		return d.GetID()
	}
	stagingOld := deploy("staging", false, "success")
	stagingPending := deploy("staging", false, "in_progress")
	prodOld := deploy("production", true, "success")
	deploy("staging", false, "success")
	deploy("production", true, "success")
	want := map[int64]string{stagingOld: "inactive", stagingPending: "in_progress", prodOld: "success"}
	for _, d := range s.Deployments() {
		if w, ok := want[d.ID]; ok && d.State() != w {
			t.Errorf("deployment %d (%s) is %s, want %s", d.ID, d.Environment, d.State(), w)
		}
	}
	sts, _, err := gh.Repositories.ListDeploymentStatuses(ctx, "acme", "platform", stagingOld, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(sts) != 2 || sts[0].GetState() != "inactive" {
		t.Errorf("statuses = %v, want newest (inactive) first", sts)
	}
}

func TestDeploymentRefusals(t *testing.T) {
	t.Parallel()
	s := New(t, "acme", "platform", Token("tok"))
	s.AddCommit(Commit{Sha: "a", Message: "a", Author: "A", Date: day})
	gh := client(t, s)
	ctx := context.Background()
	tests := []struct {
		name string
		req  github.DeploymentRequest
		want int
	}{
		{name: "unknown ref", req: github.DeploymentRequest{Ref: github.String("b"), AutoMerge: github.Bool(false), RequiredContexts: &[]string{}}, want: http.StatusUnprocessableEntity},
		{name: "auto merge", req: github.DeploymentRequest{Ref: github.String("a"), RequiredContexts: &[]string{}}, want: http.StatusConflict},
		{name: "status checks", req: github.DeploymentRequest{Ref: github.String("a"), AutoMerge: github.Bool(false)}, want: http.StatusConflict},
		{name: "deploys this commit", req: github.DeploymentRequest{Ref: github.String("a"), AutoMerge: github.Bool(false), RequiredContexts: &[]string{}}, want: http.StatusCreated},
	}
	for _, tc := range tests {
		_, resp, err := gh.Repositories.CreateDeployment(ctx, "acme", "platform", &tc.req)
		got := status(err)
		if err == nil {
			got = resp.StatusCode
		}
		if got != tc.want {
			t.Errorf("%s: status %d (%v), want %d", tc.name, got, err, tc.want)
		}
	}
}

func TestReleases(t *testing.T) {
	t.Parallel()
	s := New(t, "acme", "platform", Token("tok"))
	s.AddCommit(Commit{Sha: "a", Message: "a", Author: "A", Date: day})
	gh := client(t, s)
	ctx := context.Background()
	if _, _, err := gh.Repositories.GetReleaseByTag(ctx, "acme", "platform", "v1.0.0"); status(err) != http.StatusNotFound {
		t.Errorf("missing release: %v, want 404", err)
	}
	rel := &github.RepositoryRelease{TagName: github.String("v1.0.0"), TargetCommitish: github.String("a"), MakeLatest: github.String("true")}
	if _, _, err := gh.Repositories.CreateRelease(ctx, "acme", "platform", rel); err != nil {
		t.Fatal(err)
	}
	_, _, err := gh.Repositories.CreateRelease(ctx, "acme", "platform", rel)
	var ge *github.ErrorResponse
	if !errors.As(err, &ge) || ge.Response.StatusCode != http.StatusUnprocessableEntity || len(ge.Errors) != 1 || ge.Errors[0].Code != "already_exists" {
		t.Errorf("second create: %v, want 422 already_exists", err)
	}
	got, _, err := gh.Repositories.GetReleaseByTag(ctx, "acme", "platform", "v1.0.0")
	if err != nil || got.GetTargetCommitish() != "a" || !strings.HasSuffix(got.GetHTMLURL(), "/releases/tag/v1.0.0") {
		t.Errorf("release = %v, %v", got, err)
	}
	ref, _, err := gh.Git.GetRef(ctx, "acme", "platform", "tags/v1.0.0")
	if err != nil || ref.GetObject().GetSHA() != "a" || ref.GetObject().GetType() != "commit" {
		t.Errorf("the release did not create tag v1.0.0 at a: %v, %v", ref, err)
	}

	edited, _, err := gh.Repositories.EditRelease(ctx, "acme", "platform", got.GetID(), &github.RepositoryRelease{Body: github.String("notes"), MakeLatest: github.String("false")})
	if err != nil || edited.GetBody() != "notes" || edited.GetTagName() != "v1.0.0" {
		t.Errorf("edit = %v, %v", edited, err)
	}
	if rels := s.Releases(); len(rels) != 1 || rels[0].Body != "notes" || rels[0].MakeLatest != "false" || rels[0].Target != "a" {
		t.Errorf("releases after the edit = %+v", rels)
	}
	if _, _, err := gh.Repositories.EditRelease(ctx, "acme", "platform", 1, &github.RepositoryRelease{Body: github.String("x")}); status(err) != http.StatusNotFound {
		t.Errorf("edit of a missing release: %v, want 404", err)
	}
}

func TestStatusesOrder(t *testing.T) {
	t.Parallel()
	for _, oldestFirst := range []bool{false, true} {
		var opts []Option
		if oldestFirst {
			opts = append(opts, StatusesOldestFirst())
		}
		s := New(t, "acme", "platform", opts...)
		s.AddDeployment(Deployment{ID: 7, Sha: "a", Environment: "live", Statuses: []Status{{ID: 1, State: "in_progress"}, {ID: 2, State: "success"}}})
		sts, _, err := client(t, s).Repositories.ListDeploymentStatuses(context.Background(), "acme", "platform", 7, nil)
		if err != nil || len(sts) != 2 {
			t.Fatalf("statuses = %v, %v", sts, err)
		}
		if got, want := sts[0].GetState(), map[bool]string{false: "success", true: "in_progress"}[oldestFirst]; got != want {
			t.Errorf("oldest first %v: first status %s, want %s", oldestFirst, got, want)
		}
	}
}

func TestCompare(t *testing.T) {
	t.Parallel()
	s := New(t, "acme", "platform", Token("tok"))
	s.AddCommit(
		Commit{Sha: "a", Message: "a", Author: "A", Date: day},
		Commit{Sha: "b", Parents: []string{"a"}, Message: "b", Author: "B", Date: day},
		Commit{Sha: "x", Parents: []string{"a"}, Message: "x", Author: "X", Date: day},
		Commit{Sha: "c", Parents: []string{"b", "x"}, Message: "c", Author: "C", Date: day},
		Commit{Sha: "h", Parents: []string{"a"}, Message: "hotfix", Author: "H", Date: day},
	)
	gh := client(t, s)
	tests := []struct {
		base, head, status string
		ahead, behind      int
	}{
		{"a", "c", "ahead", 3, 0},
		{"c", "a", "behind", 0, 3},
		{"c", "c", "identical", 0, 0},
		{"h", "c", "diverged", 3, 1},
	}
	for _, tc := range tests {
		cmp, _, err := gh.Repositories.CompareCommits(context.Background(), "acme", "platform", tc.base, tc.head, nil)
		if err != nil {
			t.Fatal(err)
		}
		if cmp.GetStatus() != tc.status || cmp.GetAheadBy() != tc.ahead || cmp.GetBehindBy() != tc.behind || len(cmp.Commits) != tc.ahead {
			t.Errorf("%s...%s = %s ahead %d behind %d (%d commits), want %s %d %d", tc.base, tc.head, cmp.GetStatus(), cmp.GetAheadBy(), cmp.GetBehindBy(), len(cmp.Commits), tc.status, tc.ahead, tc.behind)
		}
	}
	if _, _, err := gh.Repositories.CompareCommits(context.Background(), "acme", "platform", "a", "nope", nil); status(err) != http.StatusNotFound {
		t.Errorf("unknown head: %v, want 404", err)
	}
}
