package records

import (
	"context"
	"encoding/json"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ocipromote/ocipromote/pkg/records/githubtest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// Commits of the fake history (see history).
var (
	c1 = sha(1)  // chore: initial manifests, PR #4
	p1 = sha(11) // feat: add ingress, on PR #1's branch (and in the closed PR #3)
	c2 = sha(2)  // merge of PR #1
	c3 = sha(3)  // squash of PR #2
)

// history seeds the repository the way GitHub would show it after three merges:
//
//	c1  chore: initial manifests              merge commit of PR #4 (released in 0.0.1)
//	p1  feat: add ingress                     on PR #1's branch; PR #3 (closed, not merged) too
//	c2  Merge pull request #1 from acme/ingress   parents c1, p1
//	c3  fix: raise memory limits (#2)         squash of PR #2
//
// PR #1 already has five comments from people, so finding ours takes three pages.
func history(srv *githubtest.Server) {
	srv.AddCommit(
		githubtest.Commit{Sha: c1, Message: "chore: initial manifests", Author: "Alice", Date: day},
		githubtest.Commit{Sha: p1, Parents: []string{c1}, Message: "feat: add ingress\n\nWith TLS.", Author: "Bob", Date: day.Add(time.Hour)},
		githubtest.Commit{Sha: c2, Parents: []string{c1, p1}, Message: "Merge pull request #1 from acme/ingress\n\nAdd ingress", Author: "Bob", Date: day.Add(2 * time.Hour)},
		githubtest.Commit{Sha: c3, Parents: []string{c2}, Message: "fix: raise memory limits (#2)", Author: "Carol", Date: day.Add(3 * time.Hour)},
	)
	srv.AddPullRequest(
		githubtest.PullRequest{Number: 1, Title: "Add ingress", User: "bob", State: "closed", MergedAt: day.Add(2 * time.Hour), MergeCommit: c2, Commits: []string{p1}, Labels: []string{"enhancement"}},
		githubtest.PullRequest{Number: 2, Title: "Raise memory limits", User: "carol", State: "closed", MergedAt: day.Add(3 * time.Hour), MergeCommit: c3, Commits: []string{c3}},
		githubtest.PullRequest{Number: 3, Title: "WIP ingress", User: "bob", State: "closed", Commits: []string{p1}},
		githubtest.PullRequest{Number: 4, Title: "Initial manifests", User: "alice", State: "closed", MergedAt: day, MergeCommit: c1, Commits: []string{c1}},
	)
	for i := 0; i < 5; i++ {
		srv.AddComment(1, "dave", "LGTM")
	}
}

var validation = Validation{Cluster: "integration", Message: "Health check passed in 12.3s", Time: day.Add(4 * time.Hour)}

func secondRelease() Promotion {
	return Promotion{
		Sha: c3, RC: "0.0.2-rc.2", Stable: "0.0.2", Digest: digest(3), OCIRepository: "ghcr.io/acme/platform-manifests",
		Latest: true, Previous: Previous{Version: "0.0.1", Sha: c1}, Validation: validation,
	}
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (go test -update rewrites it):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func TestNotesAndComment(t *testing.T) {
	t.Parallel()
	srv := fakeGitHub(t)
	history(srv)
	c := client(t, srv, all)
	ch, err := c.changes(context.Background(), secondRelease())
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "notes-0.0.2.md", c.notes(secondRelease(), ch))
	golden(t, "comment-0.0.2.md", c.commentBody(secondRelease(), "https://github.com/acme/platform/releases/tag/v0.0.2"))

	first := Promotion{Sha: c1, RC: "0.0.1-rc.1", Stable: "0.0.1", Digest: digest(1), OCIRepository: "ghcr.io/acme/platform-manifests", Latest: true, First: true}
	ch, err = c.changes(context.Background(), first)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "notes-first.md", c.notes(first, ch))

	hostile := secondRelease()
	hostile.Validation.Message = "passed <!-- ocipromote:released:0.0.2 --> `rm -rf`\n## injected"
	if n := c.notes(hostile, ch); strings.Contains(n, "<!-- ocipromote:released") || strings.Contains(n, "## injected") {
		t.Errorf("untrusted message reached the notes unescaped:\n%s", n)
	}
}

func TestChangesListOnlyMergedPullRequests(t *testing.T) {
	t.Parallel()
	srv := fakeGitHub(t)
	history(srv)
	ch, err := client(t, srv, all).changes(context.Background(), secondRelease())
	if err != nil {
		t.Fatal(err)
	}
	var shas []string
	for _, cm := range ch.commits {
		shas = append(shas, short(cm.sha))
	}
	if got, want := strings.Join(shas, " "), strings.Join([]string{short(p1), short(c2), short(c3)}, " "); got != want {
		t.Errorf("commits = %s, want %s (oldest first, previous release excluded)", got, want)
	}
	var nums []int
	for _, pr := range ch.pulls {
		nums = append(nums, pr.number)
	}
	if len(nums) != 2 || nums[0] != 1 || nums[1] != 2 {
		t.Errorf("pull requests = %v, want [1 2]: merged, deduplicated, none of the previous release", nums)
	}
	// Three commits over pages of two: the comparison is read in two pages.
	if n := srv.Count(http.MethodGet, srv.RepoPath("/compare/"+c1+"..."+c3)); n != 2 {
		t.Errorf("compare read %d times, want 2 pages", n)
	}
}

func TestRelease(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name  string
		setup func(srv *githubtest.Server)
		p     func() Promotion
		// wantTarget is the commit of the created release, "" for no release.
		wantTarget     string
		wantMakeLatest string
		wantWarning    string
	}{
		{name: "created at the commit", p: secondRelease, wantTarget: c3, wantMakeLatest: "true"},
		{
			name: "a hotfix of an older line is not the latest",
			p:    func() Promotion { p := secondRelease(); p.Latest = false; return p },
			// A lower version released later must not become the repository's latest.
			wantTarget: c3, wantMakeLatest: "false",
		},
		{
			name:  "an existing tag at the commit is used",
			setup: func(srv *githubtest.Server) { srv.AddTag("v0.0.2", c3, sha(99)) },
			p:     secondRelease, wantTarget: c3, wantMakeLatest: "true",
		},
		{
			name:        "an existing tag at another commit is never reused",
			setup:       func(srv *githubtest.Server) { srv.AddTag("v0.0.2", c2, "") },
			p:           secondRelease,
			wantWarning: "Git tag v0.0.2 already points at commit " + short(c2),
		},
		{
			name: "a prefixed stable tag gives the same release tag",
			p:    func() Promotion { p := secondRelease(); p.Stable = "v0.0.2"; return p }, wantTarget: c3, wantMakeLatest: "true",
		},
		{
			name:        "the previous commit unknown: no release with incomplete notes",
			p:           func() Promotion { p := secondRelease(); p.Previous.Sha = ""; return p },
			wantWarning: "the commit of the stable version before",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := fakeGitHub(t)
			history(srv)
			if tc.setup != nil {
				tc.setup(srv)
			}
			c := client(t, srv, Options{Release: true})
			rep := c.Promoted(ctx, tc.p())
			again := c.Promoted(ctx, tc.p())
			rels := srv.Releases()
			if tc.wantTarget == "" {
				if len(rels) != 0 {
					t.Errorf("releases = %+v, want none", rels)
				}
			} else {
				if len(rels) != 1 {
					t.Fatalf("releases = %+v, want exactly one after two runs", rels)
				}
				if rels[0].Tag != "v0.0.2" || rels[0].Target != tc.wantTarget || rels[0].MakeLatest != tc.wantMakeLatest {
					t.Errorf("release = %s at %s latest %s, want v0.0.2 at %s latest %s", rels[0].Tag, rels[0].Target, rels[0].MakeLatest, tc.wantTarget, tc.wantMakeLatest)
				}
				if len(again.Records) != 1 || again.Records[0].Wrote || again.Records[0].State != "exists" {
					t.Errorf("second run records = %+v, want the release found, not written", again.Records)
				}
			}
			if tc.wantWarning == "" && len(rep.Warnings)+len(again.Warnings) != 0 {
				t.Errorf("warnings = %v %v", rep.Warnings, again.Warnings)
			}
			if tc.wantWarning != "" && (len(rep.Warnings) != 1 || !strings.Contains(rep.Warnings[0].Error(), tc.wantWarning)) {
				t.Errorf("warnings = %v, want one containing %q", rep.Warnings, tc.wantWarning)
			}
		})
	}
}

// TestFailuresAreWarnings injects a 500 on one endpoint at a time: the other records are still
// written, the failure is one warning, and a healthy re-run completes the records exactly once.
func TestFailuresAreWarnings(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name   string
		method string
		path   string // suffix of the failing path
		// wantFirst are the records written despite the failure.
		wantFirst    []string
		wantWarnings int
	}{
		{name: "release", method: http.MethodPost, path: "/releases",
			wantFirst: []string{"deployment integration 0.0.2-rc.2", "deployment live 0.0.2", "comment #1", "label #1", "comment #2", "label #2"}, wantWarnings: 1},
		{name: "comparison", method: http.MethodGet, path: "/compare/" + c1 + "..." + c3,
			wantFirst: []string{"deployment integration 0.0.2-rc.2", "deployment live 0.0.2"}, wantWarnings: 1},
		{name: "comment", method: http.MethodPost, path: "/issues/1/comments",
			wantFirst: []string{"deployment integration 0.0.2-rc.2", "deployment live 0.0.2", "release v0.0.2", "label #1", "comment #2", "label #2"}, wantWarnings: 1},
		{name: "deployment status", method: http.MethodPost, path: "/statuses",
			// The integration deployment (created by the offer) and the live one both lack a status.
			wantFirst: []string{"release v0.0.2", "comment #1", "label #1", "comment #2", "label #2"}, wantWarnings: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var healthy atomic.Bool
			srv := fakeGitHub(t, githubtest.Faults(func(r *http.Request) githubtest.Fault {
				if !healthy.Load() && r.Method == tc.method && strings.HasSuffix(r.URL.EscapedPath(), tc.path) {
					return githubtest.Fault{Status: http.StatusInternalServerError}
				}
				return githubtest.Fault{}
			}))
			history(srv)
			c := client(t, srv, all)
			c.Offered(ctx, offer(3, "0.0.2-rc.2"))
			first := c.Promoted(ctx, secondRelease())
			if len(first.Warnings) != tc.wantWarnings {
				t.Errorf("warnings = %v, want %d", first.Warnings, tc.wantWarnings)
			}
			for _, w := range first.Warnings {
				if !strings.Contains(w.Error(), "500") {
					t.Errorf("warning %q does not name the 500", w.Error())
				}
			}
			if got, want := written(first), strings.Join(tc.wantFirst, ", "); got != want {
				t.Errorf("written despite the failure: %s\nwant %s", got, want)
			}
			healthy.Store(true)
			c.Promoted(ctx, secondRelease())
			c.Promoted(ctx, secondRelease())
			assertRecorded(t, srv)
			if got := states(t, srv); got["integration 0.0.2-rc.2"] != "success" || got["live 0.0.2"] != "success" || len(got) != 2 {
				t.Errorf("deployments = %v, want integration and live succeeded, once each", got)
			}
		})
	}
}

// written lists the records a report says it wrote, "kind subject".
func written(rep Report) string {
	var out []string
	for _, r := range rep.Records {
		if r.Wrote {
			out = append(out, r.Kind+" "+r.Subject)
		}
	}
	return strings.Join(out, ", ")
}

// assertRecorded checks the records of 0.0.2 are complete and single: one release, marked
// complete, and one comment and the label on the two pull requests it carried, nothing on the
// others.
func assertRecorded(t *testing.T, srv *githubtest.Server) {
	t.Helper()
	var tags []string
	for _, r := range srv.Releases() {
		tags = append(tags, r.Tag+"@"+short(r.Target))
	}
	if got := strings.Join(tags, " "); !strings.Contains(got, "v0.0.2@"+short(c3)) || strings.Count(got, "v0.0.2") != 1 {
		t.Errorf("releases = %s, want exactly one v0.0.2 at %s", got, short(c3))
	}
	for _, r := range srv.Releases() {
		if r.Tag == "v0.0.2" && !complete(r.Body) {
			t.Errorf("release v0.0.2 is not marked complete:\n%s", r.Body)
		}
	}
	for _, n := range []int{1, 2, 3, 4} {
		want := 0
		if n <= 2 {
			want = 1
		}
		if got := ours(srv.Comments(n), "0.0.2"); got != want {
			t.Errorf("#%d has %d comments for 0.0.2, want %d", n, got, want)
		}
		labeled := strings.Contains(strings.Join(srv.Labels(n), ","), "released")
		if labeled != (want == 1) {
			t.Errorf("#%d labels = %v, want released: %v", n, srv.Labels(n), want == 1)
		}
	}
}

func ours(cs []githubtest.Comment, version string) int {
	n := 0
	for _, c := range cs {
		if strings.Contains(c.Body, commentMarker(version)) {
			n++
		}
	}
	return n
}

func TestCommentRequests(t *testing.T) {
	t.Parallel()
	srv := fakeGitHub(t)
	history(srv)
	rep := client(t, srv, Options{CommentPRs: true}).Promoted(context.Background(), secondRelease())
	if len(rep.Warnings) != 0 {
		t.Fatal(rep.Warnings)
	}
	for _, r := range srv.Requests() {
		if r.Method != http.MethodPost {
			continue
		}
		switch {
		case strings.HasSuffix(r.Path, "/labels"):
			// go-github sends the documented array form of the body.
			if got := strings.TrimSpace(string(r.Body)); got != `["released"]` {
				t.Errorf("%s body = %s", r, got)
			}
		case strings.HasSuffix(r.Path, "/comments"):
			var body map[string]any
			if err := json.Unmarshal(r.Body, &body); err != nil {
				t.Fatalf("%s: %v", r, err)
			}
			if b, _ := body["body"].(string); len(body) != 1 || !strings.HasPrefix(b, commentMarker("0.0.2")) {
				t.Errorf("%s body = %v, want only body, starting with the marker", r, body)
			}
		default:
			t.Errorf("unexpected write %s", r)
		}
	}
	// Without a release the comment still says where the version came from.
	if c := srv.Comments(2); len(c) != 1 || !strings.Contains(c[0].Body, "Included in 0.0.2, validated on integration at 2026-08-01T14:00:00Z") {
		t.Errorf("comment = %+v", c)
	}
	// Finding our comment among PR #1's five others takes three pages of two.
	if n := srv.Count(http.MethodGet, srv.RepoPath("/issues/1/comments")); n != 3 {
		t.Errorf("PR #1 comments read in %d requests, want 3 pages", n)
	}
}

// docs/github.md shows a release's notes and a pull request comment as GitHub renders them from
// these very goldens; a change to either must reach docs/github.md too.
func TestDocsShowTheGoldens(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile(filepath.Join("..", "..", "docs", "github.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"notes-0.0.2.md", "comment-0.0.2.md"} {
		golden, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(readme), "```markdown\n"+string(golden)+"```") {
			t.Errorf("docs/github.md does not show testdata/%s verbatim in a markdown block; copy it there", name)
		}
	}
}
