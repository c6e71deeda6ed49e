package records

import (
	"context"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ocipromote/ocipromote/pkg/oci"
	"github.com/ocipromote/ocipromote/pkg/oci/ocitest"
	"github.com/ocipromote/ocipromote/pkg/pipeline"
	"github.com/ocipromote/ocipromote/pkg/promote"
	"github.com/ocipromote/ocipromote/pkg/records/githubtest"
	"github.com/ocipromote/ocipromote/pkg/version"
)

// TestEndToEnd runs the pipeline as the binaries do, against a registry and the fake GitHub, with
// every record on: build-rc for c1 and its promotion to 0.0.1, build-rc for c2 and c3, the
// promotion of c3 to 0.0.2, then integration's late success event for c2 (superseded). The whole
// run is repeated twice more, as replayed events and re-run workflows would: the records must be
// exactly those of one run.
func TestEndToEnd(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	gh := fakeGitHub(t)
	history(gh)
	repo, err := oci.Open(ocitest.New(t).Host+"/acme/platform-manifests", oci.Options{Retry: oci.RetryPolicy{Attempts: 1}})
	if err != nil {
		t.Fatal(err)
	}
	c := client(t, gh, all)
	validated := ValidationFrom("integration", "Health check passed in 12.3s", "2026-08-01T14:00:00Z")

	built := map[string]pipeline.BuildResult{}
	build := func(sha, content string) {
		t.Helper()
		res, err := pipeline.BuildRC(ctx, repo, pipeline.BuildInput{
			Dir: manifests(t, content), Sha: sha, Ref: "main", Source: "https://github.com/acme/platform",
			Created: day, ShortLen: 7, Rules: version.Rules{Bump: version.Patch},
			Pause: func(context.Context, int) error { return nil },
		})
		if err != nil {
			t.Fatal(err)
		}
		built[sha] = res
		noWarnings(t, "build "+short(sha), c.AfterBuild(ctx, repo.Name(), sha, res))
	}
	promoteSha := func(sha, want string) {
		t.Helper()
		b := built[sha]
		res, err := pipeline.TagValidated(ctx, repo, pipeline.PromoteInput{Revision: b.Version + "@" + b.Digest})
		if err != nil {
			t.Fatal(err)
		}
		if res.Reason != want {
			t.Fatalf("promote %s: reason %s (%s), want %s", short(sha), res.Reason, res.Detail, want)
		}
		noWarnings(t, "promote "+short(sha), c.AfterPromote(ctx, repo, res, validated))
	}
	run := func(first bool) {
		t.Helper()
		promoted := promote.AlreadyPromoted
		if first {
			promoted = promote.Promoted
		}
		build(c1, "a")
		promoteSha(c1, promoted)
		build(c2, "b")
		build(c3, "c")
		promoteSha(c3, promoted)
		promoteSha(c2, promote.Superseded)
	}

	run(true)
	afterFirst := gh.Writes()
	run(false)
	run(false)
	if again := gh.Writes()[len(afterFirst):]; len(again) != 0 {
		t.Errorf("re-runs wrote to GitHub: %v", again)
	}

	if n := gh.Count(http.MethodPost, gh.RepoPath("/releases")); n != 2 {
		t.Errorf("%d releases created over three runs, want 2 (v0.0.1 and v0.0.2)", n)
	}
	rels := gh.Releases()
	if len(rels) != 2 || rels[0].Tag != "v0.0.1" || rels[0].Target != c1 || rels[1].Tag != "v0.0.2" || rels[1].Target != c3 {
		t.Fatalf("releases = %+v, want v0.0.1 at c1 and v0.0.2 at c3", rels)
	}
	notes := rels[1].Body
	for _, want := range []string{"#1 Add ingress", "#2 Raise memory limits", built[c3].Digest, "`0.0.2-rc.2`",
		"on `integration` at 2026-08-01T14:00:00Z: `Health check passed in 12.3s`", runURL, "## Commits since 0.0.1"} {
		if !strings.Contains(notes, want) {
			t.Errorf("release notes lack %q:\n%s", want, notes)
		}
	}
	if strings.Contains(notes, "#3") || strings.Contains(notes, "#4") {
		t.Errorf("release notes list a pull request that was not merged, or was released before:\n%s", notes)
	}

	perSha := map[string]int{}
	for _, d := range gh.Deployments() {
		perSha[d.Environment+" "+short(d.Sha)]++
	}
	wantPerSha := map[string]int{"integration " + short(c1): 1, "integration " + short(c2): 1, "integration " + short(c3): 1, "live " + short(c1): 1, "live " + short(c3): 1}
	if !maps.Equal(perSha, wantPerSha) {
		t.Errorf("deployments per environment and commit = %v, want %v", perSha, wantPerSha)
	}
	wantStates := map[string]string{
		"integration 0.0.1-rc.1": "inactive", "integration 0.0.2-rc.1": "inactive", "integration 0.0.2-rc.2": "success",
		"live 0.0.1": "inactive", "live 0.0.2": "success",
	}
	if got := states(t, gh); !maps.Equal(got, wantStates) {
		t.Errorf("deployment states = %v, want %v", got, wantStates)
	}

	assertRecorded(t, gh)
	for _, n := range []int{1, 2, 3, 4} {
		if got := ours(gh.Comments(n), "0.0.1"); got != 0 {
			t.Errorf("#%d has a comment for the first stable version 0.0.1", n)
		}
	}
	if c := gh.Comments(2); len(c) != 1 || !strings.Contains(c[0].Body, "Included in [0.0.2](https://github.com/acme/platform/releases/tag/v0.0.2), validated on integration at 2026-08-01T14:00:00Z") {
		t.Errorf("comment on #2 = %+v", c)
	}

	// Pages of two: the lists that must be read to the end were.
	for _, list := range []string{"/deployments", "/compare/" + c1 + "..." + c3, "/issues/1/comments"} {
		paged := slices.ContainsFunc(gh.Requests(), func(r githubtest.Request) bool {
			return r.Path == gh.RepoPath(list) && strings.Contains(r.Query, "page=2")
		})
		if !paged {
			t.Errorf("GET %s never read a second page", list)
		}
	}
}

func noWarnings(t *testing.T, step string, rep Report) {
	t.Helper()
	for _, w := range rep.Warnings {
		t.Errorf("%s: warning: %v", step, w)
	}
}

func manifests(t *testing.T, content string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "app.yaml"), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}
