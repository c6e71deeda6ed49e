package ocitest_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/crane"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/ocipromote/ocipromote/pkg/oci/ocitest"
)

// push writes a random image under each tag and returns its digest.
func push(t *testing.T, srv *ocitest.Server, repo string, tags ...string) string {
	t.Helper()
	img, err := random.Image(64, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, tag := range tags {
		if err := crane.Push(img, srv.Host+"/"+repo+":"+tag); err != nil {
			t.Fatalf("push %s: %v", tag, err)
		}
	}
	d, _ := img.Digest()
	return d.String()
}

func listed(t *testing.T, srv *ocitest.Server, repo string) []string {
	t.Helper()
	tags, err := crane.ListTags(srv.Host + "/" + repo)
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	return tags
}

func TestListingLagHidesNewTagsFromListingsOnly(t *testing.T) {
	t.Parallel()
	const lag = 400 * time.Millisecond
	srv := ocitest.New(t, ocitest.ListingLag(lag), ocitest.MaxPage(2))
	first := time.Now() // no write is earlier
	digest := push(t, srv, "acme/app", "a", "b", "c")
	last := time.Now() // no write is later
	if got := listed(t, srv, "acme/app"); len(got) != 0 && time.Since(first) < lag {
		t.Errorf("listing %v right after the writes, want none for %v", got, lag)
	}
	if got, err := crane.Digest(srv.Host + "/acme/app:b"); err != nil || got != digest {
		t.Errorf("HEAD by tag during the lag = %s, %v; want %s at once", got, err, digest)
	}
	time.Sleep(time.Until(last.Add(lag + 50*time.Millisecond)))
	if got, want := listed(t, srv, "acme/app"), []string{"a", "b", "c"}; !slices.Equal(got, want) {
		t.Errorf("listing after the lag = %v, want %v", got, want)
	}
}

func TestReplicaLagListingsDisagree(t *testing.T) {
	t.Parallel()
	srv := ocitest.New(t, ocitest.ReplicaLag(2, time.Hour, 1))
	tags := []string{"t1", "t2", "t3", "t4", "t5", "t6", "t7", "t8"}
	push(t, srv, "acme/app", tags...)
	// With an hour of lag no write reaches a replica during the test: both list nothing.
	if got := listed(t, srv, "acme/app"); len(got) != 0 {
		t.Errorf("listing = %v, want nothing while every replica lags", got)
	}

	srv = ocitest.New(t, ocitest.ReplicaLag(3, 300*time.Millisecond, 7))
	push(t, srv, "acme/app", tags...)
	seen := map[string]bool{}
	deadline := time.Now().Add(300 * time.Millisecond)
	for time.Now().Before(deadline) {
		seen[strings.Join(listed(t, srv, "acme/app"), " ")] = true
	}
	if len(seen) < 3 {
		t.Errorf("listings during the lag took %d forms, want replicas that each show their own subset: %v", len(seen), seen)
	}
	time.Sleep(time.Until(deadline.Add(50 * time.Millisecond)))
	for range 5 {
		if got := listed(t, srv, "acme/app"); !slices.Equal(got, tags) {
			t.Errorf("listing after the lag = %v, want %v from every replica", got, tags)
		}
	}
}

func TestDropWritesAcknowledgesAndStoresNothing(t *testing.T) {
	t.Parallel()
	srv := ocitest.New(t, ocitest.DropWrites(`^validated-`))
	push(t, srv, "acme/app", "1.0.0", "validated-abc1234")
	if got, want := listed(t, srv, "acme/app"), []string{"1.0.0"}; !slices.Equal(got, want) {
		t.Errorf("listing = %v, want %v (the marker acknowledged and dropped)", got, want)
	}
	_, err := crane.Digest(srv.Host + "/acme/app:validated-abc1234")
	var te *transport.Error
	if !errors.As(err, &te) || te.StatusCode != http.StatusNotFound {
		t.Errorf("HEAD of the dropped tag: %v, want 404", err)
	}
	for _, a := range srv.Assignments() {
		if a.Tag == "validated-abc1234" {
			t.Errorf("dropped write recorded as an assignment: %+v", a)
		}
	}
}

func TestHeadNotAllowed(t *testing.T) {
	t.Parallel()
	plain := ocitest.New(t)
	digest := push(t, plain, "acme/app", "1.0.0") // crane's push itself does not fall back
	srv := ocitest.New(t, ocitest.Backend(plain), ocitest.HeadNotAllowed())
	req, _ := http.NewRequest(http.MethodHead, srv.URL+"/v2/acme/app/manifests/1.0.0", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("HEAD = %d, want 405", resp.StatusCode)
	}
	// crane falls back to GET.
	if got, err := crane.Digest(srv.Host + "/acme/app:1.0.0"); err != nil || got != digest {
		t.Errorf("crane.Digest = %s, %v; want %s through GET", got, err, digest)
	}
}

func TestWrongDigestOnHead(t *testing.T) {
	t.Parallel()
	srv := ocitest.New(t, ocitest.WrongDigest(http.MethodHead))
	digest := push(t, srv, "acme/app", "1.0.0")
	req, _ := http.NewRequest(http.MethodHead, srv.URL+"/v2/acme/app/manifests/1.0.0", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("Docker-Content-Digest"); got == "" || got == digest {
		t.Errorf("HEAD Docker-Content-Digest = %q, want a digest other than %s", got, digest)
	}
}

func TestStallHoldsUntilTheClientGivesUp(t *testing.T) {
	t.Parallel()
	for _, stall := range []ocitest.Option{ocitest.Stall(http.MethodGet, `/tags/list$`), ocitest.StallBody(http.MethodGet, `/tags/list$`)} {
		srv := ocitest.New(t, stall)
		push(t, srv, "acme/app", "1.0.0")
		// The client gives up once the stall has its request (on a loaded machine a fixed short
		// deadline could expire before the request arrives); the minute bounds a stall that
		// never comes.
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		go func() {
			for srv.Stalled() == 0 && ctx.Err() == nil {
				time.Sleep(5 * time.Millisecond)
			}
			cancel()
		}()
		_, err := crane.ListTags(srv.Host+"/acme/app", crane.WithContext(ctx))
		cancel()
		if !errors.Is(err, context.Canceled) {
			t.Errorf("listing a stalled registry: %v, want the client's cancellation", err)
		}
		if srv.Stalled() != 1 {
			t.Errorf("Stalled() = %d, want 1", srv.Stalled())
		}
	}
}

func TestEndlessLinksNeverRepeatAURL(t *testing.T) {
	t.Parallel()
	srv := ocitest.New(t, ocitest.EndlessLinks())
	push(t, srv, "acme/app", "1.0.0")
	seen := map[string]bool{}
	next := srv.URL + "/v2/acme/app/tags/list?n=10"
	for range 20 {
		resp, err := http.Get(next)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		link := resp.Header.Get("Link")
		if link == "" || seen[link] {
			t.Fatalf("Link %q: want a new next page every time", link)
		}
		seen[link] = true
		next = srv.URL + link[1:len(link)-len(`>; rel="next"`)]
	}
}
