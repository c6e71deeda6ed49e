package records

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/ocipromote/ocipromote/pkg/records/githubtest"
)

// The job's token in the strict tests, and what the example promote job grants it.
const jobToken = "ghs_job"

var granted = githubtest.Access{"contents": "write", "deployments": "write", "pull_requests": "write", "issues": "write"}

func without(a githubtest.Access, perm string) githubtest.Access {
	out := githubtest.Access{}
	for k, v := range a {
		if k != perm {
			out[k] = v
		}
	}
	return out
}

// longSha is a distinct full sha for any n (sha wraps at 256).
func longSha(n int) string { return fmt.Sprintf("%040x", n) }

// strictClient is client with the job's token and o's pacing.
func strictClient(t *testing.T, srv *githubtest.Server, o Options) *Client {
	t.Helper()
	o.Token, o.APIURL, o.Repository, o.RunURL = jobToken, srv.APIURL(), "acme/platform", runURL
	if o.PageSize == 0 {
		o.PageSize = 2
	}
	c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestWarningNamesWhatGitHubAccepts: a token lacking one permission gets a warning whose hint is
// GitHub's own X-Accepted-GitHub-Permissions, not a guess; a run with the permission then
// completes the records without duplicates.
func TestWarningNamesWhatGitHubAccepts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		lack      string
		workflows string // the released commit's .github/workflows, "" as the default branch's
		want      string
	}{
		{lack: "deployments", want: "`deployments: read`"},
		{lack: "contents", want: "`contents: read`"},
		{lack: "issues", want: "GitHub accepts `issues: write`"},
		{lack: "pull_requests", want: "`contents: read` and `pull-requests: read`"},
		{lack: "workflows", workflows: "older", want: "GitHub accepts only `contents: write` and `workflows: write`"},
	}
	for _, tc := range tests {
		t.Run(tc.lack, func(t *testing.T) {
			t.Parallel()
			srv := githubtest.New(t, "acme", "platform", githubtest.MaxPage(2),
				githubtest.Grant(jobToken, without(granted, tc.lack)), githubtest.Grant("ghs_fixed", granted),
				githubtest.Grant("ghs_app", githubtest.Access{"contents": "write", "deployments": "write", "pull_requests": "write", "issues": "write", "workflows": "write"}))
			history(srv)
			head := sha(99)
			srv.AddCommit(githubtest.Commit{Sha: head, Parents: []string{c3}, Message: "ci: workflows", Author: "Eve", Date: day.Add(5 * time.Hour), Workflows: "newer"})
			if tc.workflows == "" {
				srv.SetDefaultBranch(c3)
			}
			ctx := context.Background()
			rep := strictClient(t, srv, all).Promoted(ctx, secondRelease())
			if len(rep.Warnings) == 0 {
				t.Fatalf("no warning without %s: %+v", tc.lack, rep.Records)
			}
			if got := rep.Warnings[0].Error(); !strings.Contains(got, tc.want) || !strings.Contains(got, "403") {
				t.Errorf("warning = %q, want GitHub's hint %s", got, tc.want)
			}
			if tc.lack == "workflows" && !strings.Contains(rep.Warnings[0].Error(), "GITHUB_TOKEN can never hold `workflows`") {
				t.Errorf("warning = %q, want it to say GITHUB_TOKEN cannot hold workflows", rep.Warnings[0].Error())
			}
			o := Options{Deployments: true, Release: true, CommentPRs: true, Token: "ghs_fixed", APIURL: srv.APIURL(), Repository: "acme/platform", RunURL: runURL, PageSize: 2}
			if tc.lack == "workflows" {
				// Only a token that can hold workflows (a GitHub App's) creates that tag.
				o.Token = "ghs_app"
			}
			c, err := New(o)
			if err != nil {
				t.Fatal(err)
			}
			noWarnings(t, "with "+tc.lack, c.Promoted(ctx, secondRelease()))
			noWarnings(t, "replay", c.Promoted(ctx, secondRelease()))
			complete := srv.Releases()
			if len(complete) != 1 || !strings.Contains(complete[0].Body, completeMarker) {
				t.Errorf("releases = %+v, want one, complete", complete)
			}
			for _, n := range []int{1, 2} {
				if got := len(srv.Comments(n)); (n == 1 && got != 6) || (n == 2 && got != 1) {
					t.Errorf("#%d has %d comments, want ours once", n, got)
				}
			}
			live := 0
			for _, d := range srv.Deployments() {
				if d.Environment == "live" {
					live++
				}
			}
			if live != 1 {
				t.Errorf("%d live deployments, want 1", live)
			}
		})
	}
}

// TestNotesFitGitHubsLimit: 250 commits with 200-character titles and 300 pull requests with
// long titles made notes of about 163,000 characters, which GitHub refuses; they are cut to fit,
// and the comparison link carries the rest.
func TestNotesFitGitHubsLimit(t *testing.T) {
	t.Parallel()
	srv := fakeGitHub(t)
	srv.AddCommit(githubtest.Commit{Sha: longSha(1000), Message: "base", Author: "A", Date: day})
	prev := longSha(1000)
	for i := 0; i < 300; i++ {
		s := longSha(2000 + i)
		srv.AddCommit(githubtest.Commit{Sha: s, Parents: []string{prev}, Message: fmt.Sprintf("feat: %03d %s", i, strings.Repeat("x", 200)), Author: "Bob", Date: day})
		srv.AddPullRequest(githubtest.PullRequest{Number: 10 + i, Title: strings.Repeat("t", 200), User: "bob", State: "closed", MergedAt: day, MergeCommit: s, Commits: []string{s}})
		prev = s
	}
	p := Promotion{Sha: prev, Stable: "0.0.2", Digest: digest(2), Latest: true, Previous: Previous{Version: "0.0.1", Sha: longSha(1000)}}
	c := client(t, srv, Options{Release: true})
	c.o.PageSize = 100
	rep := c.Promoted(context.Background(), p)
	noWarnings(t, "release", rep)
	rels := srv.Releases()
	if len(rels) != 1 {
		t.Fatalf("releases = %d, want 1", len(rels))
	}
	body := rels[0].Body
	if n := utf8.RuneCountInString(body); n > 125000 || n < 100000 {
		t.Errorf("notes have %d characters, want them cut under GitHub's 125,000 and not much more", n)
	}
	if !strings.Contains(body, "/compare/"+longSha(1000)+"..."+prev) || !strings.Contains(body, "more: see the full changes") {
		t.Errorf("cut notes do not point at the full comparison:\n%s", body[len(body)-500:])
	}
}

// TestCommentGetsItsReleaseLink: a comment written while the release could not be created gets the
// link once a later run has created the release, and is not written twice.
func TestCommentGetsItsReleaseLink(t *testing.T) {
	t.Parallel()
	failing := true
	srv := fakeGitHub(t, githubtest.Faults(func(r *http.Request) githubtest.Fault {
		if failing && r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/releases") {
			return githubtest.Fault{Status: http.StatusBadGateway}
		}
		return githubtest.Fault{}
	}))
	history(srv)
	ctx := context.Background()
	c := client(t, srv, Options{Release: true, CommentPRs: true})
	if rep := c.Promoted(ctx, secondRelease()); len(rep.Warnings) != 1 {
		t.Fatalf("warnings = %v, want the release's", rep.Warnings)
	}
	if got := srv.Comments(2); len(got) != 1 || strings.Contains(got[0].Body, "/releases/") {
		t.Fatalf("comments on #2 = %+v, want one without a link", got)
	}
	failing = false
	noWarnings(t, "second run", c.Promoted(ctx, secondRelease()))
	got := srv.Comments(2)
	if len(got) != 1 || !strings.Contains(got[0].Body, "](https://github.com/acme/platform/releases/tag/v0.0.2)") {
		t.Errorf("comments on #2 = %+v, want one, linking the release", got)
	}
	if rel := srv.Releases(); len(rel) != 1 || !strings.Contains(rel[0].Body, completeMarker) {
		t.Errorf("release = %+v, want it complete", rel)
	}
}

func TestEnvironmentURLEscapesTheName(t *testing.T) {
	t.Parallel()
	c := client(t, fakeGitHub(t), Options{Deployments: true, Live: "prod eu/1"})
	if got, want := c.environmentsURL("prod eu/1"), "https://github.com/acme/platform/deployments/prod%20eu%2F1"; got != want {
		t.Errorf("environmentsURL = %s, want %s", got, want)
	}
}

// manyPulls seeds n merged pull requests after c1 (n even), stacked in pairs: each commit was
// merged by one pull request into a feature branch and by a second into main, so the n pull
// requests fit in n/2 commits, within the 250 commits a release reads.
func manyPulls(srv *githubtest.Server, n int) Promotion {
	srv.AddCommit(githubtest.Commit{Sha: c1, Message: "base", Author: "A", Date: day})
	prev := c1
	for i := 0; i < n; i += 2 {
		s := longSha(3000 + i)
		srv.AddCommit(githubtest.Commit{Sha: s, Parents: []string{prev}, Message: fmt.Sprintf("change %d", i), Author: "Bob", Date: day})
		srv.AddPullRequest(
			githubtest.PullRequest{Number: 100 + i, Title: fmt.Sprintf("Change %d", i), User: "bob", State: "closed", MergedAt: day, Commits: []string{s}},
			githubtest.PullRequest{Number: 101 + i, Title: fmt.Sprintf("Stack %d", i), User: "bob", State: "closed", MergedAt: day, MergeCommit: s, Commits: []string{s}})
		prev = s
	}
	srv.AddLabel(DefaultLabel)
	return Promotion{Sha: prev, RC: "0.0.2-rc.1", Stable: "0.0.2", Digest: digest(2), Latest: true, Previous: Previous{Version: "0.0.1", Sha: c1}}
}

// checkComplete asserts every pull request has one comment and the label, and the release is
// complete.
func checkComplete(t *testing.T, srv *githubtest.Server, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		if got := len(srv.Comments(100 + i)); got != 1 {
			t.Errorf("#%d has %d comments, want 1", 100+i, got)
		}
		if got := srv.Labels(100 + i); len(got) != 1 {
			t.Errorf("#%d has labels %v, want %s once", 100+i, got, DefaultLabel)
		}
	}
	if rel := srv.Releases(); len(rel) != 1 || !strings.Contains(rel[0].Body, completeMarker) {
		t.Errorf("%d releases, want one, complete", len(rel))
	}
}

// TestStopsOnRateLimit: once GitHub answers a secondary rate limit (403 or 429, with or without
// retry-after) the run sends nothing more, says so once, and the next run completes the records.
func TestStopsOnRateLimit(t *testing.T) {
	t.Parallel()
	for _, limit := range []githubtest.SecondaryLimit{
		{PerMinute: 7, Status: http.StatusForbidden},
		{PerMinute: 7, Status: http.StatusTooManyRequests, RetryAfter: 90 * time.Second},
	} {
		t.Run(fmt.Sprint(limit.Status), func(t *testing.T) {
			t.Parallel()
			clock := githubtest.NewManualClock(day)
			srv := githubtest.New(t, "acme", "platform", githubtest.Token(jobToken), githubtest.Limit(limit), githubtest.Clock(clock.Now))
			p := manyPulls(srv, 10)
			c := strictClient(t, srv, Options{Deployments: true, Release: true, CommentPRs: true, PageSize: 100, Now: clock.Now, Sleep: clock.Sleep})
			rep := c.Promoted(context.Background(), p)
			if !rep.Stopped || len(rep.Warnings) != 1 || !strings.Contains(rep.Warnings[0].Error(), "rate-limited") {
				t.Fatalf("report = %+v, want one warning that the run stopped", rep.Warnings)
			}
			if st := srv.LimitStats(); st.Refused != 1 || st.Violations != 0 {
				t.Errorf("limit stats %+v: want one refusal and no request after it", st)
			}
			for runs := 1; ; runs++ {
				clock.Advance(2 * time.Minute)
				rep := strictClient(t, srv, Options{Deployments: true, Release: true, CommentPRs: true, PageSize: 100, Now: clock.Now, Sleep: clock.Sleep}).Promoted(context.Background(), p)
				if !rep.Stopped {
					noWarnings(t, "last run", rep)
					break
				}
				if runs > 10 {
					t.Fatal("the records never completed")
				}
			}
			checkComplete(t, srv, 10)
			if st := srv.LimitStats(); st.Violations != 0 {
				t.Errorf("limit stats %+v: a request was sent while limited", st)
			}
		})
	}
}

// TestThreeHundredPullRequests: a release of 300 pull requests (600 comments and labels) with
// GitHub's pacing (a second between writes) and a run's share of 150 writes stays under both
// secondary limits, 80 a minute and 500 an hour, when runs come 20 minutes apart, and completes
// over successive runs with nothing written twice.
func TestThreeHundredPullRequests(t *testing.T) {
	t.Parallel()
	clock := githubtest.NewManualClock(day)
	srv := githubtest.New(t, "acme", "platform", githubtest.Token(jobToken),
		githubtest.Limit(githubtest.SecondaryLimit{PerMinute: 80, PerHour: 500}), githubtest.Clock(clock.Now))
	p := manyPulls(srv, 300)
	runs := 0
	for ; runs < 10; runs++ {
		c := strictClient(t, srv, Options{Deployments: true, Release: true, CommentPRs: true, PageSize: 100,
			WriteInterval: time.Second, MaxWrites: 150, Now: clock.Now, Sleep: clock.Sleep})
		rep := c.Promoted(context.Background(), p)
		if !rep.Stopped {
			noWarnings(t, "last run", rep)
			break
		}
		if w := rep.Warnings; len(w) != 1 || !strings.Contains(w[0].Error(), "max_writes") {
			t.Fatalf("run %d: warnings %v, want only the run's share of writes spent", runs+1, w)
		}
		clock.Advance(20 * time.Minute)
	}
	st := srv.LimitStats()
	t.Logf("%d runs, %d writes, peak %d a minute and %d an hour", runs+1, st.Writes, st.PeakMinute, st.PeakHour)
	if st.Refused != 0 || st.PeakMinute > 80 || st.PeakHour > 500 {
		t.Errorf("limit stats %+v: want no refusal", st)
	}
	checkComplete(t, srv, 300)
}

// TestRolledBackRecordsLive: a rollback gives live a deployment of the artifact it rolled back
// to, a success, and the deployment of the version it replaced becomes inactive.
func TestRolledBackRecordsLive(t *testing.T) {
	t.Parallel()
	srv := fakeGitHub(t)
	history(srv)
	ctx := context.Background()
	c := client(t, srv, Options{Deployments: true})
	noWarnings(t, "promote", c.Promoted(ctx, secondRelease()))
	noWarnings(t, "rollback", c.RolledBack(ctx, "", Offer{Sha: c1, Version: "0.0.3", Digest: digest(1), OCIRepository: "ghcr.io/acme/platform-manifests"}))
	noWarnings(t, "replayed rollback", c.RolledBack(ctx, "", Offer{Sha: c1, Version: "0.0.3", Digest: digest(1), OCIRepository: "ghcr.io/acme/platform-manifests"}))
	states := map[string]string{}
	n := 0
	for _, d := range srv.Deployments() {
		if d.Environment == "live" {
			n++
			states[d.Sha] = d.State()
		}
	}
	if n != 2 || states[c1] != "success" || states[c3] != "inactive" {
		t.Errorf("live deployments: %d, states %v; want the rollback's a success and 0.0.2's inactive", n, states)
	}
}
