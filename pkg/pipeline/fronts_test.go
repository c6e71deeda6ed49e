package pipeline

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/random"

	"github.com/ocipromote/ocipromote/pkg/claim"
	"github.com/ocipromote/ocipromote/pkg/oci"
	"github.com/ocipromote/ocipromote/pkg/oci/ocitest"
)

// A registry that answers 201 to a tag write and stores nothing never makes a step report the tag:
// the write is read back, written again, and after the bounded writes the step fails naming the
// tag. The issue found build-rc exiting 0 listing tags it never stored, and tag-validated
// reporting a promotion with no marker.
func TestDroppedWritesAreNeverReported(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, dropped string
		promote       bool // the write is tag-validated's
	}{
		{"sha tag", `^sha-`, false},
		{"integration tag", `^integration-`, false},
		{"release candidate", `^0\.0\.1-rc\.1$`, false},
		{"claim", `^` + claim.Prefix, false},
		{"validated marker", `^validated-`, true},
		{"stable tag", `^0\.0\.1$`, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			opts := []ocitest.Option{ocitest.DropWrites(tc.dropped)}
			var plain *ocitest.Server
			if tc.promote {
				// The candidate is built on the registry itself; only the promotion's writes are dropped.
				plain = ocitest.New(t)
				opts = append([]ocitest.Option{ocitest.Backend(plain)}, opts...)
			}
			f := newFixture(t, opts...)
			reg := f.repo("acme/app")
			var err error
			var reported []string
			if tc.promote {
				rc := mustBuild(t, (&fixture{t: t, srv: plain}).repo("acme/app"), buildIn(manifests(t, "a"), sha(1)))
				var res PromoteResult
				res, err = TagValidated(context.Background(), reg, PromoteInput{Revision: revision(rc), Pause: func(context.Context, int) error { return nil }})
				if res.Promoted {
					reported = []string{res.Version, "validated-" + sha(1)[:7]}
				}
			} else {
				var res BuildResult
				res, err = BuildRC(context.Background(), reg, buildIn(manifests(t, "a"), sha(1)))
				reported = res.Tags
			}
			if err == nil {
				t.Fatalf("step succeeded reporting %v while every write of %s was dropped", reported, tc.dropped)
			}
			if !errors.Is(err, oci.ErrWriteLost) && !errors.Is(err, claim.ErrNotListed) {
				t.Errorf("error %v, want a lost write (oci.ErrWriteLost, or claim.ErrNotListed for a claim)", err)
			}
		})
	}
}

// A registry whose Docker-Content-Digest header on HEAD is wrong is found out by the manifest's own
// bytes, and reported once: the issue saw build-rc back off ten times, leaving rc.1 … rc.10.
func TestWrongDigestHeaderIsReportedOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t, ocitest.WrongDigest(http.MethodHead))
	reg := f.repo("acme/app")
	_, err := BuildRC(context.Background(), reg, buildIn(manifests(t, "a"), sha(1)))
	if !errors.Is(err, oci.ErrDigestMismatch) {
		t.Fatalf("BuildRC: %v, want oci.ErrDigestMismatch", err)
	}
	if !strings.Contains(err.Error(), "Docker-Content-Digest") {
		t.Errorf("error %q does not say which header is wrong", err)
	}
	var claims []string
	for _, a := range f.srv.Assignments() {
		if strings.HasPrefix(a.Tag, claim.Prefix) {
			claims = append(claims, a.Tag)
		}
	}
	if len(claims) != 1 {
		t.Errorf("claims written: %v, want the one attempt's", claims)
	}
}

// A registry that refuses HEAD with 405 (GET works) runs the whole pipeline through GET.
func TestHeadNotAllowedFallsBackToGet(t *testing.T) {
	t.Parallel()
	f := newFixture(t, ocitest.HeadNotAllowed())
	reg := f.repo("acme/app")
	rc := mustBuild(t, reg, buildIn(manifests(t, "a"), sha(1)))
	if rc.Version != "0.0.1-rc.1" {
		t.Errorf("version %s, want 0.0.1-rc.1", rc.Version)
	}
	res := mustPromote(t, reg, PromoteInput{Revision: revision(rc)})
	if !res.Promoted || res.Version != "0.0.1" {
		t.Errorf("promotion = %+v, want 0.0.1 promoted", res)
	}
	heads := slices.DeleteFunc(f.srv.Requests(), func(r string) bool { return !strings.HasPrefix(r, "HEAD ") })
	if len(heads) > 2 {
		t.Errorf("%d HEAD requests on a registry that refuses them, want at most one per step: %v", len(heads), heads)
	}
}

// A registry whose tag list links to a new page forever ends the listing with an error that says
// why: the issue measured 27,607 requests in 90 s.
func TestEndlessListingStops(t *testing.T) {
	t.Parallel()
	plain := ocitest.New(t)
	mustBuild(t, (&fixture{t: t, srv: plain}).repo("acme/app"), buildIn(manifests(t, "a"), sha(1)))
	f := newFixture(t, ocitest.Backend(plain), ocitest.EndlessLinks())
	_, err := BuildRC(context.Background(), f.repo("acme/app"), buildIn(manifests(t, "b"), sha(2)))
	if !errors.Is(err, oci.ErrEndlessListing) {
		t.Fatalf("BuildRC: %v, want oci.ErrEndlessListing", err)
	}
	if !strings.Contains(err.Error(), "never end") {
		t.Errorf("error %q does not say why the listing stopped", err)
	}
	lists := slices.DeleteFunc(f.srv.Requests(), func(r string) bool { return !strings.HasSuffix(r, "/tags/list") })
	if len(lists) > 2 {
		t.Errorf("%d listing requests, want the listing stopped at its second page", len(lists))
	}
}

// Foreign tags that integration's selection would pick over the new candidate make build-rc
// refuse, naming them, with nothing written; the issue saw it exit 0 numbering builds below them.
func TestForeignTagsShadowingTheCandidateAreRefused(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		foreign []string
		refused bool
		version string
	}{
		{"rc without a dot", []string{"0.5.0-rc1"}, true, ""},
		{"bare rc of a higher base", []string{"0.5.0-rc"}, true, ""},
		{"extra identifier above the next number", []string{"0.0.2-rc.2.1"}, true, ""},
		{"extra identifier below the next number", []string{"0.0.2-rc.1.1"}, false, "0.0.2-rc.2"},
		{"hotfix suffix", []string{"0.0.2-rc.1-hotfix"}, true, ""},
		{"foreign tags below the candidate", []string{"0.0.1-rc1", "0.0.2-rc"}, false, "0.0.2-rc.2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			reg := f.repo("acme/app")
			rc := mustBuild(t, reg, buildIn(manifests(t, "a"), sha(1)))
			mustPromote(t, reg, PromoteInput{Revision: revision(rc)})
			mustBuild(t, reg, buildIn(manifests(t, "b"), sha(2)))
			pushForeign(t, f, tc.foreign...)
			before := len(f.srv.Writes())
			res, err := BuildRC(context.Background(), reg, buildIn(manifests(t, "c"), sha(3)))
			if !tc.refused {
				if err != nil || res.Version != tc.version {
					t.Fatalf("BuildRC = %+v, %v; want %s", res, err, tc.version)
				}
				return
			}
			if !errors.Is(err, ErrShadowed) {
				t.Fatalf("BuildRC = %+v, %v; want ErrShadowed", res, err)
			}
			for _, tag := range tc.foreign {
				if !strings.Contains(err.Error(), tag) {
					t.Errorf("error %q does not name %s", err, tag)
				}
			}
			if w := f.srv.Writes()[before:]; len(w) != 0 {
				t.Errorf("refused build wrote %v", w)
			}
			if n := f.srv.OpenUploads(); n != 0 {
				t.Errorf("refused build left %d upload sessions open", n)
			}
		})
	}
}

// pushForeign writes tags another tool pushed into the repository, at an artifact of its own.
func pushForeign(t *testing.T, f *fixture, foreign ...string) {
	t.Helper()
	reg := f.repo("acme/app")
	img, err := random.Image(64, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, tag := range foreign {
		if _, err := reg.Push(context.Background(), img, tag); err != nil {
			t.Fatal(err)
		}
	}
}
