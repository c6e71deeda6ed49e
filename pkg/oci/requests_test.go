package oci_test

import (
	"context"
	"crypto/sha1"
	"errors"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/ocipromote/ocipromote/pkg/claim"
	"github.com/ocipromote/ocipromote/pkg/hold"
	"github.com/ocipromote/ocipromote/pkg/oci"
	"github.com/ocipromote/ocipromote/pkg/oci/ocitest"
	"github.com/ocipromote/ocipromote/pkg/pipeline"
	"github.com/ocipromote/ocipromote/pkg/version"
)

// These tests pin every request a step sends to the in-memory registry, in order. The counts are
// the ones docs/performance.md reports; a change that adds a request fails here.

// kinds names each request after the n-th by its ocitest.Kind, with the reference for manifests
// (digests written as "@digest", claim tags as "claim <version> of <short sha>"), in the order
// they reached the registry; inSteps takes the requests that go out together in any order.
func kinds(srv *ocitest.Server, n int) []string {
	var out []string
	for _, r := range srv.Requests()[n:] {
		k := ocitest.Kind(r)
		if strings.HasSuffix(k, " manifest") {
			ref := r[strings.LastIndex(r, "/")+1:]
			if strings.HasPrefix(ref, "sha256:") {
				ref = "@digest"
			}
			if c, ok := claim.Parse(ref); ok {
				ref = "claim " + c.Version + " of " + c.Short // the digest in its name changes with the content
			}
			k += " " + ref
		}
		out = append(out, k)
	}
	return out
}

// inSteps reports whether got is the requests of steps in order, each step's requests in any
// order (they go out at once).
func inSteps(got []string, steps [][]string) bool {
	for _, step := range steps {
		if len(got) < len(step) {
			return false
		}
		g, w := slices.Clone(got[:len(step)]), slices.Clone(step)
		slices.Sort(g)
		slices.Sort(w)
		if !slices.Equal(g, w) {
			return false
		}
		got = got[len(step):]
	}
	return len(got) == 0
}

func commit(n int) string { return fmt.Sprintf("%x", sha1.Sum([]byte(fmt.Sprint(n)))) }

func short(n int) string { return commit(n)[:7] }

func tree(t *testing.T, content string) string { return benchTree(t, content) }

// benchTree is a directory of manifests with one file.
func benchTree(t testing.TB, content string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "app.yaml"), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func build(t testing.TB, reg pipeline.Registry, dir string, n int) pipeline.BuildResult {
	t.Helper()
	res, err := pipeline.BuildRC(context.Background(), reg, pipeline.BuildInput{
		Dir: dir, Sha: commit(n), Ref: "main", Source: "https://github.com/acme/platform",
		Created: time.Date(2026, 8, 1, 10, 0, 0, 0, time.UTC), ShortLen: 7,
		Rules: version.Rules{Bump: version.Patch},
		Pause: func(context.Context, int) error { return nil },
	})
	if err != nil {
		t.Fatalf("BuildRC(%d): %v", n, err)
	}
	return res
}

func promote(t *testing.T, reg pipeline.Registry, rc pipeline.BuildResult) pipeline.PromoteResult {
	t.Helper()
	res, err := pipeline.TagValidated(context.Background(), reg, pipeline.PromoteInput{Revision: rc.Version + "@" + rc.Digest})
	if err != nil {
		t.Fatalf("TagValidated(%s): %v", rc.Version, err)
	}
	return res
}

// openFresh opens the repository as a step's process does: a new Repository, nothing cached.
func openFresh(t *testing.T, srv *ocitest.Server, o oci.Options) *oci.Repository {
	t.Helper()
	o.Retry = oci.RetryPolicy{Attempts: 1}
	r, err := oci.Open(srv.Host+"/acme/app", o)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestBuildRCRequests(t *testing.T) {
	t.Parallel()
	// The theoretical minimum of a build of new content with its guards: authenticate (1), list
	// (1), upload the config and the layer (POST+PUT each, 4), write the claim (1), list again for
	// rival claims (1), read the release candidate before writing it (1), write it (1), read it
	// back (1), write sha-<s> and integration-<s> (2) and read them back (2), since a registry may
	// acknowledge a write it does not keep: 15. The upload sessions open beside the listing, while
	// the directory is packed, so after packing each blob is one PUT. A layer under 256 KiB is
	// uploaded without a HEAD first: the HEAD would cost a round trip on every build to save a
	// small upload on some. Requests of one step go out together: the listing and the two
	// sessions, the two uploads, sha-<s> with integration-<s>. The read before the release
	// candidate's write stays right before it, so that the window in which a writer that does not
	// claim could be overwritten is as short as it can be.
	steps := func(rc string, push ...[]string) [][]string {
		return slices.Concat([][]string{{"ping"}, {"list", "POST upload", "POST upload"}}, push, [][]string{
			{"PUT manifest claim " + rc + " of " + short(2)},
			{"list"},
			{"HEAD manifest " + rc}, {"PUT manifest " + rc}, {"HEAD manifest " + rc},
			{"PUT manifest sha-" + short(2), "PUT manifest integration-" + short(2), "HEAD manifest sha-" + short(2), "HEAD manifest integration-" + short(2)},
		})
	}
	upload := []string{"PUT upload", "PUT upload"}
	// A layer of 256 KiB or more is checked first (and, there, so is the config); the sessions
	// the push did not need are cancelled as soon as it knows, in the background.
	noise := make([]byte, 300<<10)
	rand.NewChaCha8([32]byte{1}).Read(noise) // incompressible, so the packed layer stays large
	large := string(noise)
	tests := []struct {
		name string
		// setup runs on the registry before the measured build of commit 2.
		setup   func(t *testing.T, reg *oci.Repository)
		content string
		want    [][]string
		// cancelled is how many of the sessions opened while packing the build did not need.
		cancelled int
	}{
		{
			name: "first build in an empty repository", content: "a",
			want: steps("0.0.1-rc.1", upload),
		},
		{
			name:    "next commit with new content",
			setup:   func(t *testing.T, reg *oci.Repository) { build(t, reg, tree(t, "a"), 1) },
			content: "b", want: steps("0.0.1-rc.2", upload),
		},
		{
			name:    "next commit with unchanged small manifests",
			setup:   func(t *testing.T, reg *oci.Repository) { build(t, reg, tree(t, "same"), 1) },
			content: "same", want: steps("0.0.1-rc.2", upload),
		},
		{
			name:    "next commit with a new large layer",
			setup:   func(t *testing.T, reg *oci.Repository) { build(t, reg, tree(t, "a"), 1) },
			content: large + "b", want: steps("0.0.1-rc.2", []string{"HEAD blob"}, upload),
		},
		{
			name:    "next commit with an unchanged large layer",
			setup:   func(t *testing.T, reg *oci.Repository) { build(t, reg, tree(t, large), 1) },
			content: large, cancelled: 2,
			want: [][]string{
				{"ping"}, {"list"}, {"HEAD blob"}, {"HEAD blob"},
				{"PUT manifest claim 0.0.1-rc.2 of " + short(2)},
				{"list"},
				{"HEAD manifest 0.0.1-rc.2"}, {"PUT manifest 0.0.1-rc.2"}, {"HEAD manifest 0.0.1-rc.2"},
				{"PUT manifest sha-" + short(2), "PUT manifest integration-" + short(2), "HEAD manifest sha-" + short(2), "HEAD manifest integration-" + short(2)},
			},
		},
		{
			// The sessions are cancelled as soon as the listing shows the commit built.
			name:    "re-run of a built commit",
			setup:   func(t *testing.T, reg *oci.Repository) { build(t, reg, tree(t, "b"), 2) },
			content: "b", cancelled: 2,
			want: [][]string{
				{"ping"}, {"list"},
				{"HEAD manifest sha-" + short(2)}, {"GET manifest @digest"},
				{"HEAD manifest 0.0.1-rc.1"}, {"HEAD manifest integration-" + short(2)},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := ocitest.New(t)
			if tc.setup != nil {
				tc.setup(t, openFresh(t, srv, oci.Options{}))
			}
			before := len(srv.Requests())
			build(t, openFresh(t, srv, oci.Options{}), tree(t, tc.content), 2)
			got := kinds(srv, before)
			// Sessions are cancelled in the background, beside what follows, and where no upload
			// waits for them they are opened beside it too: such requests are counted apart.
			background := func(k string) bool {
				return k == "DELETE upload" || tc.cancelled > 0 && k == "POST upload"
			}
			apart := len(got)
			got = slices.DeleteFunc(got, background)
			if apart -= len(got); apart != 2*tc.cancelled {
				t.Errorf("%d upload sessions opened and cancelled apart, want %d of each", apart, tc.cancelled)
			}
			if !inSteps(got, tc.want) {
				t.Errorf("requests (%d):\n  %s\nwant, in steps whose requests go out together:\n  %q", len(got), strings.Join(got, "\n  "), tc.want)
			}
			if n := srv.OpenUploads(); n != 0 {
				t.Errorf("%d upload sessions left open", n)
			}
		})
	}
}

func TestTagValidatedRequests(t *testing.T) {
	t.Parallel()
	srv := ocitest.New(t)
	rc1 := build(t, openFresh(t, srv, oci.Options{}), tree(t, "a"), 1)
	build(t, openFresh(t, srv, oci.Options{}), tree(t, "b"), 2)

	// The minimum of a promotion: authenticate (1), list (1) and, beside it, read the candidate's
	// manifest for its commit (1) and then check integration-<s> is at its digest (1), claim the
	// stable version (1), list again for rival claims (1), read the stable tag before writing it
	// (1), write it (1), read it back (1), write validated-<s> (1) and read it back (1): 11, all
	// of them guards or writes. The integration check follows the manifest read (it needs the
	// commit), not the listing; the read before the stable tag's write stays right before it.
	before := len(srv.Requests())
	if res := promote(t, openFresh(t, srv, oci.Options{}), rc1); !res.Promoted {
		t.Fatalf("promotion = %+v", res)
	}
	first := []string{"list", "GET manifest @digest", "HEAD manifest integration-" + short(1)}
	steps := [][]string{
		{"ping"}, first,
		{"PUT manifest claim 0.0.1 of " + short(1)}, {"list"},
		{"HEAD manifest 0.0.1"}, {"PUT manifest 0.0.1"}, {"HEAD manifest 0.0.1"}, {"PUT manifest validated-" + short(1)},
		{"HEAD manifest validated-" + short(1)},
	}
	got := kinds(srv, before)
	if !inSteps(got, steps) {
		t.Errorf("promotion requests (%d):\n  %s\nwant, in steps whose requests go out together:\n  %q", len(got), strings.Join(got, "\n  "), steps)
	}
	if !manifestFirst(got) {
		t.Errorf("promotion requests %q: the integration check went out before the manifest read that names the commit", got)
	}

	// A replay (Flux repeats events) reads what it must to know it is done, and writes nothing.
	before = len(srv.Requests())
	promote(t, openFresh(t, srv, oci.Options{}), rc1)
	replay := [][]string{
		{"ping"}, first,
		{"HEAD manifest 0.0.1"}, {"HEAD manifest validated-" + short(1)},
	}
	if got := kinds(srv, before); !inSteps(got, replay) || !manifestFirst(got) {
		t.Errorf("replay requests (%d):\n  %s\nwant, in steps whose requests go out together (the manifest read before the integration check):\n  %q", len(got), strings.Join(got, "\n  "), replay)
	}
}

// manifestFirst reports whether the candidate's manifest was read before its integration tag.
func manifestFirst(got []string) bool {
	m := slices.Index(got, "GET manifest @digest")
	i := slices.IndexFunc(got, func(k string) bool { return strings.HasPrefix(k, "HEAD manifest integration-") })
	return m >= 0 && i > m
}

// listingGate holds tag listings, once armed, until an integration tag is read (or timeout).
type listingGate struct {
	h       http.Handler
	armed   atomic.Bool
	read    chan struct{}
	once    sync.Once
	waited  atomic.Bool
	timeout time.Duration
}

// gatedRegistry is a registry behind a listingGate (not yet armed), holding one built candidate.
func gatedRegistry(t *testing.T) (*listingGate, *ocitest.Server, pipeline.BuildResult) {
	gate := &listingGate{h: registry.New(registry.Logger(log.New(io.Discard, "", 0))), read: make(chan struct{}), timeout: 2 * time.Second}
	srv := ocitest.New(t, ocitest.Backend(gate))
	return gate, srv, build(t, openFresh(t, srv, oci.Options{}), tree(t, "a"), 1)
}

func (g *listingGate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if g.armed.Load() {
		switch {
		case strings.Contains(r.URL.Path, "/manifests/integration-"):
			g.once.Do(func() { close(g.read) })
		case strings.HasSuffix(r.URL.Path, "/tags/list"):
			select {
			case <-g.read:
			case <-time.After(g.timeout):
				g.waited.Store(true)
			}
		}
	}
	g.h.ServeHTTP(w, r)
}

// The integration check goes out as soon as the candidate's manifest names its commit, beside the
// listing: here the registry answers the listing only once the check has arrived.
func TestIntegrationCheckBesideListing(t *testing.T) {
	t.Parallel()
	gate, srv, rc1 := gatedRegistry(t)
	gate.armed.Store(true)
	if res := promote(t, openFresh(t, srv, oci.Options{}), rc1); !res.Promoted {
		t.Fatalf("promotion = %+v", res)
	}
	if gate.waited.Load() {
		t.Errorf("the listing waited %s for the integration check: the check went out only after the listing", gate.timeout)
	}
}

// Given the commit's sha beside the revision, as the example workflow passes the event's
// originRevision, one read is both the integration check and the candidate's manifest: the
// manifest integration-<s> points at, read by its tag, beside the listing (the registry here
// answers the listing only once that read has arrived). A sha that disagrees with the manifest
// is still refused (the tag's manifest is not the candidate's, which is then read by digest).
func TestIntegrationCheckWithTheShaGivenIsTheManifestRead(t *testing.T) {
	t.Parallel()
	gate, srv, rc1 := gatedRegistry(t)
	gate.armed.Store(true)
	before := len(srv.Requests())
	res, err := pipeline.TagValidated(context.Background(), openFresh(t, srv, oci.Options{}), pipeline.PromoteInput{Revision: rc1.Version + "@" + rc1.Digest, Sha: commit(1)})
	if err != nil || !res.Promoted {
		t.Fatalf("promotion = %+v, %v", res, err)
	}
	if gate.waited.Load() {
		t.Errorf("the listing waited %s for the integration check: the check went out only after the listing", gate.timeout)
	}
	steps := [][]string{
		{"ping"}, {"list", "GET manifest integration-" + short(1)},
		{"PUT manifest claim 0.0.1 of " + short(1)}, {"list"},
		{"HEAD manifest 0.0.1"}, {"PUT manifest 0.0.1"}, {"HEAD manifest 0.0.1"}, {"PUT manifest validated-" + short(1)},
		{"HEAD manifest validated-" + short(1)},
	}
	if got := kinds(srv, before); !inSteps(got, steps) {
		t.Errorf("promotion requests (%d):\n  %s\nwant, in steps whose requests go out together:\n  %q", len(got), strings.Join(got, "\n  "), steps)
	}

	gate.armed.Store(false)
	rc2 := build(t, openFresh(t, srv, oci.Options{}), tree(t, "b"), 2)
	before, writes := len(srv.Requests()), len(srv.Writes())
	_, err = pipeline.TagValidated(context.Background(), openFresh(t, srv, oci.Options{}), pipeline.PromoteInput{Revision: rc2.Version + "@" + rc2.Digest, Sha: commit(1)})
	if !errors.Is(err, pipeline.ErrDisagree) {
		t.Errorf("revision of commit 2 with the sha of commit 1 = %v, want ErrDisagree", err)
	}
	if got := kinds(srv, before); !slices.Contains(got, "GET manifest @digest") || len(srv.Writes()) != writes {
		t.Errorf("requests of a sha that disagrees = %q, writes %q: want the candidate's manifest read by its digest, nothing written", got, srv.Writes()[writes:])
	}
}

// A commit built with a longer short sha has no integration-<s> at the default length: the read
// by tag misses, the manifest is read by its digest after it, and the check follows the listing.
// The promotion goes through.
func TestIntegrationCheckOfALongerShortSha(t *testing.T) {
	t.Parallel()
	srv := ocitest.New(t)
	rc, err := pipeline.BuildRC(context.Background(), openFresh(t, srv, oci.Options{}), pipeline.BuildInput{
		Dir: tree(t, "a"), Sha: commit(1), Ref: "main", Source: "https://github.com/acme/platform",
		Created: time.Date(2026, 8, 1, 10, 0, 0, 0, time.UTC), ShortLen: 12,
		Rules: version.Rules{Bump: version.Patch},
		Pause: func(context.Context, int) error { return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	before := len(srv.Requests())
	res, err := pipeline.TagValidated(context.Background(), openFresh(t, srv, oci.Options{}), pipeline.PromoteInput{Revision: rc.Version + "@" + rc.Digest, Sha: commit(1)})
	if err != nil || !res.Promoted || !slices.Contains(res.Writes, "validated-"+commit(1)[:12]) {
		t.Fatalf("promotion = %+v, %v; want promoted, validated-%s written", res, err, commit(1)[:12])
	}
	got := kinds(srv, before)
	missed, byDigest, check := slices.Index(got, "GET manifest integration-"+short(1)), slices.Index(got, "GET manifest @digest"), slices.Index(got, "HEAD manifest integration-"+commit(1)[:12])
	if missed < 0 || byDigest < missed || check < 0 {
		t.Errorf("requests = %q: want integration-%s read (missing), then the manifest by digest, then integration-%s checked", got, short(1), commit(1)[:12])
	}
}

// A registry with token auth (GHCR) costs one ping and one token per step, for reads and writes
// together.
func TestTokenAuthAuthenticatesOnce(t *testing.T) {
	t.Parallel()
	srv := ocitest.New(t, ocitest.TokenAuth("ci", "secret", "pull", "push"))
	creds := oci.Options{Username: "ci", Password: "secret"}
	rc1 := build(t, openFresh(t, srv, creds), tree(t, "a"), 1)
	for _, step := range []func(reg *oci.Repository){
		func(reg *oci.Repository) { build(t, reg, tree(t, "b"), 2) },
		func(reg *oci.Repository) { promote(t, reg, rc1) },
	} {
		before := len(srv.Requests())
		step(openFresh(t, srv, creds))
		got := kinds(srv, before)
		// The first request after the token is the listing or, beside it, tag-validated's read
		// of the candidate's manifest (by digest, or by its integration tag with the sha given),
		// or build-rc's opening of an upload session.
		if !slices.Equal(got[:2], []string{"ping", "token"}) || !slices.Contains([]string{"list", "GET manifest @digest", "GET manifest integration-" + short(1), "POST upload"}, got[2]) {
			t.Errorf("first requests = %q, want ping, token, then list (or the manifest read or upload session beside it)", got[:3])
		}
		count := map[string]int{}
		for _, k := range got {
			count[k]++
		}
		if count["ping"] != 1 || count["token"] != 1 {
			t.Errorf("%d pings and %d tokens in %q; want one of each", count["ping"], count["token"], got)
		}
	}
}

// Credentials that may only read (a token service that refuses push scope) still read; a write
// fails with the registry's refusal, not with an empty answer.
func TestReadOnlyCredentialsRead(t *testing.T) {
	t.Parallel()
	srv := ocitest.New(t, ocitest.TokenAuth("reader", "secret", "pull"))
	writer := ocitest.New(t)
	ctx := context.Background()
	reg := openFresh(t, srv, oci.Options{Username: "reader", Password: "secret"})
	tags, err := reg.Tags(ctx)
	if err != nil || len(tags) != 0 {
		t.Fatalf("Tags() = %v, %v; want an empty repository", tags, err)
	}
	img, err := random.Image(64, 1)
	if err != nil {
		t.Fatal(err)
	}
	m, err := openFresh(t, writer, oci.Options{}).Push(ctx, img, "x")
	if err != nil {
		t.Fatal(err)
	}
	_, err = reg.Tag(ctx, "1.0.0", m, oci.Write{KnownAbsent: true})
	var te *transport.Error
	if !errors.As(err, &te) || (te.StatusCode != http.StatusUnauthorized && te.StatusCode != http.StatusForbidden) {
		t.Fatalf("write with read-only credentials = %v; want the registry's 401 or 403", err)
	}
	if len(srv.Writes()) > 1 {
		t.Errorf("writes reached the registry: %v", srv.Writes())
	}
}

// Each blob is checked at most once per Repository and uploaded with POST and one PUT.
func TestPushChecksEachBlobOnce(t *testing.T) {
	t.Parallel()
	srv := ocitest.New(t)
	ctx := context.Background()
	reg := openFresh(t, srv, oci.Options{})
	img, err := random.Image(1024, 2)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Push(ctx, img, "first"); err != nil {
		t.Fatal(err)
	}
	before := len(srv.Requests())
	if _, err := reg.Push(ctx, img, "second"); err != nil {
		t.Fatal(err)
	}
	if got, want := kinds(srv, before), []string{"PUT manifest second"}; !slices.Equal(got, want) {
		t.Errorf("second push of the same image = %q, want %q", got, want)
	}
	heads := map[string]int{}
	for _, r := range srv.Requests() {
		if strings.HasPrefix(r, "PATCH ") {
			t.Errorf("chunked upload: %s", r)
		}
		if strings.HasPrefix(r, "HEAD ") && strings.Contains(r, "/blobs/") {
			heads[r]++
		}
	}
	for r, n := range heads {
		if n > 1 {
			t.Errorf("%s sent %d times", r, n)
		}
	}
}

// pageRecorder remembers the query of every tag-list request.
type pageRecorder struct {
	mu      sync.Mutex
	queries []string
}

func (p *pageRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.HasSuffix(r.URL.Path, "/tags/list") {
		p.mu.Lock()
		p.queries = append(p.queries, r.URL.RawQuery)
		p.mu.Unlock()
	}
	return http.DefaultTransport.RoundTrip(r)
}

// A listing asks for 1000 tags a page and follows the registry's smaller pages to the end.
func TestTagsAsksForLargePages(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		maxPage int
		tags    int
		pages   int
	}{
		{"registry pages by 100 (GHCR)", 100, 250, 3},
		{"registry takes n=1000", 1000, 250, 1},
		{"registry returns everything (distribution 2.8)", 0, 250, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := ocitest.New(t, ocitest.MaxPage(tc.maxPage))
			ctx := context.Background()
			reg := openFresh(t, srv, oci.Options{})
			img, err := random.Image(64, 1)
			if err != nil {
				t.Fatal(err)
			}
			m, err := reg.Push(ctx, img, "t-0000")
			if err != nil {
				t.Fatal(err)
			}
			for i := 1; i < tc.tags; i++ {
				if _, err := reg.Tag(ctx, fmt.Sprintf("t-%04d", i), m, oci.Write{KnownAbsent: true}); err != nil {
					t.Fatal(err)
				}
			}
			rec := &pageRecorder{}
			got, err := openFresh(t, srv, oci.Options{Transport: rec}).Tags(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tc.tags {
				t.Errorf("Tags() returned %d tags, want %d", len(got), tc.tags)
			}
			if len(rec.queries) != tc.pages {
				t.Errorf("%d list requests %q, want %d", len(rec.queries), rec.queries, tc.pages)
			}
			if len(rec.queries) > 0 && rec.queries[0] != "n=1000" {
				t.Errorf("first page asked %q, want n=1000", rec.queries[0])
			}
		})
	}
}

// dialCounter is a transport that counts the TCP connections it opens.
type dialCounter struct {
	http.Transport
	mu    sync.Mutex
	dials int
}

func newDialCounter() *dialCounter {
	d := &dialCounter{}
	var dialer net.Dialer
	d.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		d.mu.Lock()
		d.dials++
		d.mu.Unlock()
		return dialer.DialContext(ctx, network, addr)
	}
	return d
}

// A step's requests share connections. Both steps open one that carries their requests in turn
// (the ping asks a loopback registry with plain HTTP first, so no connection is opened for a TLS
// handshake that could only fail); a build opens at most two more for its two uploads side by
// side (net/http may not have put the previous request's connection back in its pool when they
// start), a promotion one more for the candidate's manifest and then its integration tag, read
// beside the first listing.
func TestStepsReuseConnections(t *testing.T) {
	t.Parallel()
	srv := ocitest.New(t)
	rc1 := build(t, openFresh(t, srv, oci.Options{}), tree(t, "a"), 1)
	for _, step := range []struct {
		name     string
		run      func(reg *oci.Repository)
		maxDials int
	}{
		{"build-rc", func(reg *oci.Repository) { build(t, reg, tree(t, "b"), 2) }, 3},
		{"tag-validated", func(reg *oci.Repository) { promote(t, reg, rc1) }, 2},
	} {
		d := newDialCounter()
		before := len(srv.Requests())
		step.run(openFresh(t, srv, oci.Options{Transport: d}))
		if requests := len(srv.Requests()) - before; d.dials > step.maxDials {
			t.Errorf("%s opened %d connections for %d requests, want at most %d", step.name, d.dials, requests, step.maxDials)
		}
	}
}

// A hold record is read with one GET of its tag (the bytes name their digest), not a HEAD and a
// GET: tag-validated reads the hold on every promotion once one was ever set.
func TestHoldReadIsOneRequest(t *testing.T) {
	t.Parallel()
	srv := ocitest.New(t)
	reg := openFresh(t, srv, oci.Options{})
	ctx := context.Background()
	if _, err := hold.Set(ctx, reg, nil, hold.Record{State: hold.On, Reason: "freeze", Actor: "oncall", Time: time.Unix(0, 0).UTC()}, hold.Options{}); err != nil {
		t.Fatal(err)
	}
	list, err := reg.Tags(ctx)
	if err != nil {
		t.Fatal(err)
	}
	before := len(srv.Requests())
	st, err := hold.Read(ctx, reg, list)
	if err != nil || st.State != hold.On || st.Reason != "freeze" {
		t.Fatalf("hold.Read = %+v, %v; want the freeze", st, err)
	}
	if got, want := kinds(srv, before), []string{"GET manifest " + st.Tag}; !slices.Equal(got, want) {
		t.Errorf("reading the hold took %q, want %q", got, want)
	}
}
