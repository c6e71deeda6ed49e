package records

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-github/v62/github"

	"github.com/ocipromote/ocipromote/pkg/records/githubtest"
)

// requestsOf runs fn and returns the requests it made to srv.
func requestsOf(srv *githubtest.Server, fn func()) []githubtest.Request {
	before := len(srv.Requests())
	fn()
	return srv.Requests()[before:]
}

// walked lists the requests that belong to the changes walk or the comment look-ups.
func walked(srv *githubtest.Server, reqs []githubtest.Request) []string {
	var out []string
	for _, r := range reqs {
		if strings.HasPrefix(r.Path, srv.RepoPath("/compare/")) || strings.HasSuffix(r.Path, "/pulls") ||
			strings.HasSuffix(r.Path, "/comments") || strings.HasSuffix(r.Path, "/labels") {
			out = append(out, r.String())
		}
	}
	return out
}

// TestCompleteReplayIsCheap: Flux repeats a success event many times, and each replay runs
// tag-validated again. Once every record is in place a replay must cost a few requests that do
// not grow with the commits, pull requests or comments the version carried.
func TestCompleteReplayIsCheap(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name string
		o    Options
		// want is the number of requests of a complete replay.
		want int
	}{
		// The release look-up finds the completion marker: nothing else is read.
		{name: "release and comments", o: Options{Release: true, CommentPRs: true}, want: 1},
		{name: "release only", o: Options{Release: true}, want: 1},
		// Deployments: for each environment, the deployment, its status, and the newest
		// deployments down to the first one already retired, with its status.
		{name: "every record", o: all, want: 1 + 2*4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := githubtest.New(t, "acme", "platform", githubtest.Token(token))
			history(srv)
			// More pull requests and comments than the fixture: a replay must not read them.
			for i := 0; i < 40; i++ {
				srv.AddComment(2, "dave", fmt.Sprintf("comment %d", i))
			}
			o := tc.o
			c := client(t, srv, o)
			c.o.PageSize = 100
			// An older live deployment, already retired, as a real history has.
			c.Promoted(ctx, promotion(1, "0.0.1-rc.1", "0.0.1"))
			c.Offered(ctx, offer(3, "0.0.2-rc.2"))
			noWarnings(t, "first run", c.Promoted(ctx, secondRelease()))
			replay := requestsOf(srv, func() { noWarnings(t, "replay", c.Promoted(ctx, secondRelease())) })
			t.Logf("a complete replay made %d requests: %v", len(replay), replay)
			if got := walked(srv, replay); len(got) != 0 {
				t.Errorf("a complete replay walked the changes again: %v", got)
			}
			if len(replay) != tc.want {
				t.Errorf("a complete replay made %d requests, want %d: %v", len(replay), tc.want, replay)
			}
			for _, r := range replay {
				if r.Method != http.MethodGet {
					t.Errorf("a complete replay wrote: %s", r)
				}
			}
		})
	}
}

// TestReplayCompletesHalfDoneRun: a run that created the release and then stopped before every
// pull request had its comment and label leaves the release without the completion marker; the
// next run finds that out with one request, completes the comments, marks the release complete,
// and from then on a replay is cheap.
func TestReplayCompletesHalfDoneRun(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name string
		// first is the interrupted run.
		first func(t *testing.T, srv *githubtest.Server, fail *atomic.Bool)
	}{
		{
			name: "a comment failed",
			first: func(t *testing.T, srv *githubtest.Server, fail *atomic.Bool) {
				fail.Store(true)
				rep := client(t, srv, Options{Release: true, CommentPRs: true}).Promoted(ctx, secondRelease())
				fail.Store(false)
				if len(rep.Warnings) != 1 {
					t.Fatalf("warnings = %v, want the failed comment", rep.Warnings)
				}
			},
		},
		{
			name: "comments were off",
			first: func(t *testing.T, srv *githubtest.Server, _ *atomic.Bool) {
				noWarnings(t, "release only", client(t, srv, Options{Release: true}).Promoted(ctx, secondRelease()))
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var fail atomic.Bool
			srv := fakeGitHub(t, githubtest.Faults(func(r *http.Request) githubtest.Fault {
				if fail.Load() && r.Method == http.MethodPost && r.URL.Path == "/repos/acme/platform/issues/2/comments" {
					return githubtest.Fault{Status: http.StatusInternalServerError}
				}
				return githubtest.Fault{}
			}))
			history(srv)
			tc.first(t, srv, &fail)
			if rels := srv.Releases(); len(rels) != 1 || strings.Contains(rels[0].Body, completeMarker) {
				t.Fatalf("after the interrupted run: releases = %+v, want one, not marked complete", rels)
			}

			c := client(t, srv, Options{Release: true, CommentPRs: true})
			repair := requestsOf(srv, func() { noWarnings(t, "repair", c.Promoted(ctx, secondRelease())) })
			assertRecorded(t, srv)
			rels := srv.Releases()
			if len(rels) != 1 || !strings.Contains(rels[0].Body, completeMarker) {
				t.Fatalf("after the repair: releases = %+v, want one, marked complete", rels)
			}
			if !strings.HasPrefix(rels[0].Body, "Validated on integration") || strings.Count(rels[0].Body, "## Pull requests") != 1 {
				t.Errorf("the repair changed the notes beyond the marker:\n%s", rels[0].Body)
			}
			if got := srv.Count(http.MethodPatch, srv.RepoPath(fmt.Sprintf("/releases/%d", rels[0].ID))); got != 1 {
				t.Errorf("release updated %d times, want once (%v)", got, repair)
			}

			replay := requestsOf(srv, func() { noWarnings(t, "replay", c.Promoted(ctx, secondRelease())) })
			if len(replay) != 1 {
				t.Errorf("the replay after the repair made %d requests, want 1: %v", len(replay), replay)
			}
			assertRecorded(t, srv)
		})
	}
}

// TestMarkComplete checks the one write that marks a release complete: the notes gain the
// marker and nothing else, a hotfix is said again not to be the latest release, a release
// without pull requests is complete from its creation, and a hand-made release is never edited.
func TestMarkComplete(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name  string
		setup func(t *testing.T, srv *githubtest.Server)
		p     func() Promotion
		// wantEdit are the fields of the one PATCH, none for no PATCH.
		wantEdit []string
		// wantComplete is whether the release ends marked complete.
		wantComplete bool
	}{
		{name: "latest", p: secondRelease, wantEdit: []string{"body"}, wantComplete: true},
		{
			name:     "a hotfix of an older line",
			p:        func() Promotion { p := secondRelease(); p.Latest = false; return p },
			wantEdit: []string{"body", "make_latest"}, wantComplete: true,
		},
		{
			name: "the first stable version has no pull request to comment on",
			p: func() Promotion {
				return Promotion{Sha: c1, RC: "0.0.1-rc.1", Stable: "0.0.1", Digest: digest(1), OCIRepository: "ghcr.io/acme/platform-manifests", Latest: true, First: true}
			},
			wantComplete: true,
		},
		{
			name: "a hand-made release is left as it is",
			setup: func(t *testing.T, srv *githubtest.Server) {
				gh := client(t, srv, Options{Release: true}).gh
				if _, _, err := gh.Repositories.CreateRelease(ctx, "acme", "platform", &github.RepositoryRelease{TagName: github.String("v0.0.2"), TargetCommitish: github.String(c3), Body: github.String("Written by hand.")}); err != nil {
					t.Fatal(err)
				}
			},
			p: secondRelease,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := fakeGitHub(t)
			history(srv)
			if tc.setup != nil {
				tc.setup(t, srv)
			}
			c := client(t, srv, Options{Release: true, CommentPRs: true})
			for i := 0; i < 2; i++ {
				noWarnings(t, "run", c.Promoted(ctx, tc.p()))
			}
			var edits []string
			for _, r := range srv.Requests() {
				if r.Method != http.MethodPatch {
					continue
				}
				var body map[string]any
				if err := json.Unmarshal(r.Body, &body); err != nil {
					t.Fatal(err)
				}
				edits = append(edits, strings.Join(slices.Sorted(maps.Keys(body)), " "))
				if b, _ := body["body"].(string); !strings.HasSuffix(b, releaseMarker+"\n"+completeMarker+"\n") {
					t.Errorf("edited notes do not end with the markers: %q", b)
				}
				if l, ok := body["make_latest"]; ok && l != "false" {
					t.Errorf("make_latest = %v, want false", l)
				}
			}
			if got, want := strings.Join(edits, ", "), strings.Join(tc.wantEdit, " "); got != want {
				t.Errorf("release edits = %q, want %q", got, want)
			}
			rels := srv.Releases()
			if len(rels) != 1 || complete(rels[0].Body) != tc.wantComplete {
				t.Errorf("releases = %+v, want one, marked complete: %v", rels, tc.wantComplete)
			}
		})
	}
}
