package oci_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/random"

	"github.com/ocipromote/ocipromote/pkg/oci"
	"github.com/ocipromote/ocipromote/pkg/oci/ocitest"
)

// sleeps records the waits of the retry policy instead of sleeping.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(_ context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	return nil
}

func open(t *testing.T, srv *ocitest.Server, name string, attempts int, s *sleeps) *oci.Repository {
	t.Helper()
	p := oci.RetryPolicy{Attempts: attempts, Base: time.Millisecond, Max: 4 * time.Millisecond, MaxRetryAfter: 30 * time.Second}
	if s != nil {
		p.Sleep = s.sleep
	}
	r, err := oci.Open(srv.Host+"/"+name, oci.Options{Retry: p})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestMissingRepositoryListsEmpty(t *testing.T) {
	t.Parallel()
	srv := ocitest.New(t)
	tags, err := open(t, srv, "acme/never-pushed", 1, nil).Tags(context.Background())
	if err != nil || len(tags) != 0 {
		t.Fatalf("Tags() = %v, %v; want empty, nil", tags, err)
	}
}

func TestOtherListingFailuresAreErrors(t *testing.T) {
	t.Parallel()
	srv := ocitest.New(t, ocitest.Faults(func(int, *http.Request) ocitest.Fault { return ocitest.Unavailable }))
	s := &sleeps{}
	_, err := open(t, srv, "acme/down", 3, s).Tags(context.Background())
	if err == nil {
		t.Fatal("Tags() on a failing registry returned no error; an empty list here would restart versions at 0.0.1")
	}
	if got, want := len(s.d), 2; got != want {
		t.Errorf("retries = %d, want %d (3 attempts)", got, want)
	}
}

func TestRetriesHonourRetryAfter(t *testing.T) {
	t.Parallel()
	faults := map[int]ocitest.Fault{1: ocitest.TooManyRequests, 2: ocitest.BadGateway, 3: ocitest.Drop}
	srv := ocitest.New(t, ocitest.Faults(func(n int, _ *http.Request) ocitest.Fault { return faults[n] }))
	s := &sleeps{}
	repo := open(t, srv, "acme/flaky", 5, s)
	tags, err := repo.Tags(context.Background())
	if err != nil || len(tags) != 0 {
		t.Fatalf("Tags() = %v, %v after transient faults", tags, err)
	}
	// net/http itself resends a request whose reused connection was dropped before any answer,
	// so the dropped connection may cost no retry of ours.
	if len(s.d) < 2 || s.d[0] != time.Second {
		t.Errorf("waits = %v, want at least 2, the first being Retry-After's 1s", s.d)
	}
	if got := repo.Retries(); got < 2 {
		t.Errorf("Retries() = %d, want at least 2", got)
	}
}

func TestTagIsWriteOnce(t *testing.T) {
	t.Parallel()
	srv := ocitest.New(t)
	ctx := context.Background()
	repo := open(t, srv, "acme/once", 1, nil)
	var ms []*oci.Manifest
	for i := range 2 {
		img, err := random.Image(64, 1)
		if err != nil {
			t.Fatal(err)
		}
		m, err := repo.Push(ctx, img, "push-"+string(rune('a'+i)))
		if err != nil {
			t.Fatal(err)
		}
		ms = append(ms, m)
	}
	if wrote, err := repo.Tag(ctx, "1.0.0", ms[0], oci.Write{}); err != nil || !wrote {
		t.Fatalf("first Tag = %v, %v", wrote, err)
	}
	if wrote, err := repo.Tag(ctx, "1.0.0", ms[0], oci.Write{}); err != nil || wrote {
		t.Errorf("same digest again = %v, %v; want a no-op", wrote, err)
	}
	_, err := repo.Tag(ctx, "1.0.0", ms[1], oci.Write{})
	var conflict *oci.ConflictError
	if !errors.Is(err, oci.ErrTagConflict) || !errors.As(err, &conflict) || conflict.Existing != ms[0].Digest {
		t.Errorf("other digest = %v; want a ConflictError naming %s", err, ms[0].Digest)
	}
	if moved := srv.Moved(); len(moved) != 0 {
		t.Errorf("moved: %v", moved)
	}
	if _, err := repo.Resolve(ctx, "2.0.0"); !errors.Is(err, oci.ErrNotFound) {
		t.Errorf("Resolve(missing) = %v, want ErrNotFound", err)
	}
}

func TestTagsFollowsEveryPage(t *testing.T) {
	t.Parallel()
	srv := ocitest.New(t, ocitest.MaxPage(10))
	ctx := context.Background()
	repo := open(t, srv, "acme/many", 1, nil)
	img, err := random.Image(64, 1)
	if err != nil {
		t.Fatal(err)
	}
	m, err := repo.Push(ctx, img, "t-000")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"t-000"}
	for i := 1; i < 57; i++ {
		tag := fmt.Sprintf("t-%03d", i)
		if _, err := repo.Tag(ctx, tag, m, oci.Write{KnownAbsent: true}); err != nil {
			t.Fatal(err)
		}
		want = append(want, tag)
	}
	got, err := repo.Tags(ctx)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("Tags() returned %d tags, want %d", len(got), len(want))
	}
}

// A registry whose Link header leads back to a page it already served gets an error, not an
// endless listing.
func TestTagsStopsOnAPagingLoop(t *testing.T) {
	t.Parallel()
	var pages atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/v2/":
			w.WriteHeader(http.StatusOK)
		case strings.HasSuffix(r.URL.Path, "/tags/list"):
			if pages.Add(1) > 10 {
				http.Error(w, "too many pages", http.StatusTeapot)
				return
			}
			w.Header().Set("Link", `</v2/acme/loop/tags/list?n=2&last=b>; rel="next"`)
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"name":"acme/loop","tags":["a","b"]}`)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	repo, err := oci.Open(strings.TrimPrefix(srv.URL, "http://")+"/acme/loop", oci.Options{Retry: oci.RetryPolicy{Attempts: 1}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = repo.Tags(context.Background())
	if err == nil || !strings.Contains(err.Error(), "links back") {
		t.Fatalf("Tags() = %v, want an error about the paging loop", err)
	}
	if n := pages.Load(); n != 2 {
		t.Errorf("read %d pages, want 2 (the first, and the one it links back to once)", n)
	}
}

func TestParseRepository(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{"", "ghcr.io", "ghcr.io/Acme/App", "ghcr.io/acme/app:latest", "ghcr.io/acme/app@sha256:abc", "a b/c", "ghcr.io/acme/app;rm -rf /"} {
		if _, err := oci.ParseRepository(bad, false); err == nil {
			t.Errorf("ParseRepository(%q) accepted", bad)
		}
	}
	r, err := oci.ParseRepository("oci://ghcr.io/acme/platform-manifests", false)
	if err != nil || r.Name() != "ghcr.io/acme/platform-manifests" {
		t.Errorf("ParseRepository(oci://…) = %v, %v", r, err)
	}
}
