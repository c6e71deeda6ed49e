package pipeline

import (
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/ocipromote/ocipromote/pkg/artifact"
	"github.com/ocipromote/ocipromote/pkg/claim"
	"github.com/ocipromote/ocipromote/pkg/oci"
	"github.com/ocipromote/ocipromote/pkg/oci/ocitest"
	"github.com/ocipromote/ocipromote/pkg/version"
)

type fixture struct {
	t   *testing.T
	srv *ocitest.Server
}

func newFixture(t *testing.T, opts ...ocitest.Option) *fixture {
	t.Helper()
	return &fixture{t: t, srv: ocitest.New(t, opts...)}
}

func (f *fixture) repo(name string) *oci.Repository {
	f.t.Helper()
	r, err := oci.Open(f.srv.Host+"/"+name, oci.Options{Retry: oci.RetryPolicy{Attempts: 1}})
	if err != nil {
		f.t.Fatal(err)
	}
	return r
}

// sha is a distinct, realistic commit sha for each n.
func sha(n int) string { return fmt.Sprintf("%x", sha1.Sum([]byte{byte(n)})) }

func manifests(t *testing.T, content string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "app.yaml"), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func buildIn(dir, commit string) BuildInput {
	return BuildInput{
		Dir: dir, Sha: commit, Ref: "main", Source: "https://github.com/acme/platform",
		Created: time.Date(2026, 8, 1, 10, 0, 0, 0, time.UTC), ShortLen: 7,
		Rules: version.Rules{Bump: version.Patch},
		Pause: func(context.Context, int) error { return nil },
	}
}

func mustBuild(t *testing.T, reg Registry, in BuildInput) BuildResult {
	t.Helper()
	res, err := BuildRC(context.Background(), reg, in)
	if err != nil {
		t.Fatalf("BuildRC(%s): %v", in.Sha[:7], err)
	}
	return res
}

func tagsAt(t *testing.T, reg Registry) map[string]string {
	t.Helper()
	ctx := context.Background()
	list, err := reg.Tags(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, tag := range list {
		d, err := reg.Resolve(ctx, tag)
		if err != nil {
			t.Fatal(err)
		}
		out[tag] = d
	}
	return out
}

func TestBuildRCSequence(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	reg := f.repo("acme/seq")

	first := mustBuild(t, reg, buildIn(manifests(t, "a"), sha(1)))
	if got, want := first.Version, "0.0.1-rc.1"; got != want {
		t.Fatalf("first version = %s, want %s", got, want)
	}
	if !first.Pushed {
		t.Error("first build: pushed = false")
	}
	at := tagsAt(t, reg)
	for _, tag := range []string{"0.0.1-rc.1", "sha-" + sha(1)[:7], "integration-" + sha(1)[:7]} {
		if got, want := at[tag], first.Digest; got != want {
			t.Errorf("%s -> %s, want %s", tag, got, want)
		}
	}

	second := mustBuild(t, reg, buildIn(manifests(t, "b"), sha(2)))
	if got, want := second.Version, "0.0.1-rc.2"; got != want {
		t.Errorf("second version = %s, want %s", got, want)
	}

	before := tagsAt(t, reg)
	rerun := mustBuild(t, reg, buildIn(manifests(t, "a"), sha(1)))
	if rerun.Pushed || rerun.Version != first.Version || rerun.Digest != first.Digest {
		t.Errorf("re-run = %+v, want the first build's version and digest with pushed=false", rerun)
	}
	if after := tagsAt(t, reg); !equalMaps(before, after) {
		t.Errorf("re-run changed tags: before %v, after %v", before, after)
	}
}

func TestBuildRCRefusesChangedContentForABuiltCommit(t *testing.T) {
	t.Parallel()
	reg := newFixture(t).repo("acme/changed")
	mustBuild(t, reg, buildIn(manifests(t, "a"), sha(1)))
	_, err := BuildRC(context.Background(), reg, buildIn(manifests(t, "different"), sha(1)))
	if err == nil || !strings.Contains(err.Error(), "different content") {
		t.Fatalf("err = %v, want a different-content refusal", err)
	}
}

func TestBuildRCDryRunWritesNothing(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	reg := f.repo("acme/dry")
	in := buildIn(manifests(t, "a"), sha(1))
	in.DryRun = true
	res := mustBuild(t, reg, in)
	if got, want := res.Version, "0.0.1-rc.1"; got != want {
		t.Errorf("dry-run version = %s, want %s", got, want)
	}
	if w := f.srv.Writes(); len(w) != 0 {
		t.Errorf("dry run wrote: %v", w)
	}
}

// Concurrent builds of different commits never share a release candidate and never move a tag.
func TestReliabilityConcurrentBuilds(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	const n = 8
	var wg sync.WaitGroup
	results := make([]BuildResult, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			in := buildIn(manifests(t, fmt.Sprintf("content %d", i)), sha(i))
			in.Pause = claim.JitteredPause
			results[i], errs[i] = BuildRC(context.Background(), f.repo("acme/race"), in)
		}()
	}
	wg.Wait()
	moved := f.srv.Moved()
	if len(moved) > 0 {
		t.Errorf("tags moved during concurrent builds: %v", moved)
	}
	seen := map[string]int{}
	at := tagsAt(t, f.repo("acme/race"))
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("build %d: %v", i, errs[i])
		}
		if j, dup := seen[results[i].Version]; dup {
			t.Errorf("builds %d and %d both got %s", i, j, results[i].Version)
		}
		seen[results[i].Version] = i
		if got, want := at[results[i].Version], results[i].Digest; got != want {
			t.Errorf("%s -> %s, want build %d's %s", results[i].Version, got, i, want)
		}
		if got, want := at["sha-"+sha(i)[:7]], results[i].Digest; got != want {
			t.Errorf("sha-%s -> %s, want %s", sha(i)[:7], got, want)
		}
	}
	t.Logf("reliability: %d concurrent builds of different commits | distinct release candidates %d | tags moved %d", n, len(seen), len(moved))
}

// A run killed after its claim resumes the same number; a rival's claim is never taken.
func TestBuildRCClaims(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	reg := f.repo("acme/claims")
	ctx := context.Background()
	mustBuild(t, reg, buildIn(manifests(t, "a"), sha(1)))

	// Another commit claimed rc.2 and died before tagging it.
	rival := buildIn(manifests(t, "rival"), sha(9))
	layer, err := artifact.Pack(rival.Dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	img, err := artifact.Image(layer, artifact.Metadata{Version: "0.0.1-rc.2", Revision: "main@sha1:" + sha(9), Created: rival.Created})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Push(ctx, img, claimTag(t, img, "0.0.1-rc.2", sha(9))); err != nil {
		t.Fatal(err)
	}
	second := mustBuild(t, reg, buildIn(manifests(t, "b"), sha(2)))
	if got, want := second.Version, "0.0.1-rc.3"; got != want {
		t.Errorf("with rc.2 claimed by another commit: version = %s, want %s", got, want)
	}

	// This commit's own earlier run claimed rc.4 and died: the re-run takes rc.4 again.
	third := buildIn(manifests(t, "c"), sha(3))
	layer, err = artifact.Pack(third.Dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	img, err = artifact.Image(layer, artifact.Metadata{Version: "0.0.1-rc.4", Source: third.Source, Revision: "main@sha1:" + sha(3), Created: third.Created})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Push(ctx, img, claimTag(t, img, "0.0.1-rc.4", sha(3))); err != nil {
		t.Fatal(err)
	}
	res := mustBuild(t, reg, third)
	if got, want := res.Version, "0.0.1-rc.4"; got != want {
		t.Errorf("resumed version = %s, want %s", got, want)
	}
	d, _ := img.Digest()
	if got, want := res.Digest, d.String(); got != want {
		t.Errorf("resumed digest = %s, want the claimed %s", got, want)
	}
}

// claimTag is the tag a build of commit sha writes to claim version for img.
func claimTag(t *testing.T, img v1.Image, version, sha string) string {
	t.Helper()
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	c, err := claim.New(version, sha[:7], d.String())
	if err != nil {
		t.Fatal(err)
	}
	return c.Tag()
}

func TestBuildRCSeesEveryPage(t *testing.T) {
	t.Parallel()
	f := newFixture(t, ocitest.MaxPage(7))
	ctx := context.Background()
	small := f.repo("acme/pages")
	first := mustBuild(t, small, buildIn(manifests(t, "a"), sha(1)))
	m, err := small.Get(ctx, first.Digest)
	if err != nil {
		t.Fatal(err)
	}
	for i := 2; i <= 30; i++ {
		if _, err := small.Tag(ctx, fmt.Sprintf("0.0.1-rc.%d", i), m, oci.Write{}); err != nil {
			t.Fatal(err)
		}
	}
	res := mustBuild(t, small, buildIn(manifests(t, "b"), sha(2)))
	if got, want := res.Version, "0.0.1-rc.31"; got != want {
		t.Errorf("version after 30 RCs listed 7 a page = %s, want %s", got, want)
	}
}

func TestBuildRCReportsRegistryErrors(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"errors":[{"code":"DENIED","message":"no"}]}`, http.StatusForbidden)
	}))
	t.Cleanup(srv.Close)
	reg, err := oci.Open(strings.TrimPrefix(srv.URL, "http://")+"/acme/denied", oci.Options{Retry: oci.RetryPolicy{Attempts: 1}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = BuildRC(context.Background(), reg, buildIn(manifests(t, "a"), sha(1)))
	if err == nil || !strings.Contains(err.Error(), "denied") {
		t.Fatalf("err = %v, want the registry's refusal, never a fresh start", err)
	}
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func digestOf(b []byte) string {
	return fmt.Sprintf("sha256:%x", sha256.Sum256(b))
}

func TestBuildRCAutoBumpCountsFromTheHighestStable(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	reg := f.repo("acme/auto")
	rc1 := mustBuild(t, reg, buildIn(manifests(t, "a"), sha(1)))
	mustPromote(t, reg, PromoteInput{Revision: revision(rc1)})
	tests := []struct {
		name     string
		messages []string
		want     string
	}{
		{"fixes", []string{"fix: a"}, "0.0.2-rc.1"},
		{"feature", []string{"fix: a", "feat: b"}, "0.1.0-rc.1"},
		{"breaking", []string{"feat!: c"}, "1.0.0-rc.1"},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := buildIn(manifests(t, tc.name), sha(10+i))
			in.Rules.Bump = version.Auto
			in.DryRun = true
			var gotSince string
			in.Commits = func(_ context.Context, since string) ([]string, error) {
				gotSince = since
				return tc.messages, nil
			}
			res := mustBuild(t, reg, in)
			if got, want := res.Version, tc.want; got != want {
				t.Errorf("version = %s, want %s", got, want)
			}
			if got, want := gotSince, sha(1); got != want {
				t.Errorf("counted commits since %s, want the stable's commit %s", got, want)
			}
		})
	}
}
