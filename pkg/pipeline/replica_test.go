package pipeline

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/random"

	"github.com/ocipromote/ocipromote/pkg/oci"
	"github.com/ocipromote/ocipromote/pkg/oci/ocitest"
	"github.com/ocipromote/ocipromote/pkg/promote"
	"github.com/ocipromote/ocipromote/pkg/version"
)

// replicaRound runs n builds of different commits at once, then their n promotions at once, on a
// registry whose listings come from 2 replicas each up to lag behind, with manifest PUTs up to
// 30 ms late, the steps given settle. It returns how many release candidates and stable versions
// were taken by two artifacts, the tags moved, and the steps' errors. With history > 0 the
// repository holds that many tags of a long history first (ocitest.History), 100 a page, so that
// tag-validated confirms its claims on ranged listings; ranged counts the listings asked with last.
func replicaRound(t *testing.T, n int, lag, settle time.Duration, seed uint64, history int) (shared int, moved []string, failed []error, ranged int64) {
	f := newFixture(t, ocitest.ReplicaLag(2, lag, seed), ocitest.PutLatency(30*time.Millisecond, seed))
	counter := &lastCounter{}
	reg, err := oci.Open(f.srv.Host+"/acme/replicas", oci.Options{Retry: oci.RetryPolicy{Attempts: 1}, Transport: counter})
	if err != nil {
		t.Fatal(err)
	}
	if history > 0 {
		seedHistory(t, reg, history)
		time.Sleep(lag)
	}
	builds := make([]BuildResult, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			in := buildIn(manifests(t, fmt.Sprint("content ", i)), sha(i+1))
			in.Pause, in.Settle = quickPause, settle
			builds[i], errs[i] = BuildRC(context.Background(), reg, in)
		}()
	}
	wg.Wait()
	owner := map[string]int{}
	for i, err := range errs {
		if err != nil {
			return 0, f.srv.Moved(), []error{fmt.Errorf("build %d: %w", i, err)}, counter.n.Load()
		}
		if _, taken := owner[builds[i].Version]; taken {
			shared++
		}
		owner[builds[i].Version] = i
	}
	time.Sleep(lag) // integration selects from the listing: no event before the tags are listed
	results := make([]PromoteResult, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = TagValidated(context.Background(), reg, PromoteInput{Revision: revision(builds[i]), Pause: quickPause, Settle: settle})
		}()
	}
	wg.Wait()
	stable := map[string]int{}
	for i, r := range results {
		if errs[i] != nil {
			failed = append(failed, fmt.Errorf("promotion of %s: %w", builds[i].Version, errs[i]))
			continue
		}
		if r.Reason != promote.Promoted {
			continue
		}
		if _, taken := stable[r.Version]; taken {
			shared++
		}
		stable[r.Version] = i
	}
	return shared, f.srv.Moved(), failed, counter.n.Load()
}

// lastCounter counts the ranged listings tag-validated asks: last=claim-<version> or last=hold
// (the pages of a full listing ask from a tag the listing showed).
type lastCounter struct{ n atomic.Int64 }

func (c *lastCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	last := r.URL.Query().Get("last")
	if _, isVersion := version.Parse(strings.TrimPrefix(last, "claim-")); strings.HasSuffix(r.URL.Path, "/tags/list") && (last == "hold" || isVersion) {
		c.n.Add(1)
	}
	return http.DefaultTransport.RoundTrip(r)
}

// seedHistory writes the n tags of ocitest.History on one artifact.
func seedHistory(t *testing.T, reg *oci.Repository, n int) {
	t.Helper()
	ctx := context.Background()
	img, err := random.Image(64, 1)
	if err != nil {
		t.Fatal(err)
	}
	m, err := reg.Push(ctx, img, "seed")
	if err != nil {
		t.Fatal(err)
	}
	for _, tag := range ocitest.History(n) {
		if _, err := reg.Tag(ctx, tag, m, oci.Write{KnownAbsent: true}); err != nil {
			t.Fatal(err)
		}
	}
}

// Concurrent builds and promotions on a registry whose listings come from replicas that lag
// independently: with a settle time above the lag, every step succeeds, release candidates and
// stable versions are each taken by one artifact, and no tag moves. The same rounds without the
// settle time are the control: a claim confirmed by one replica says nothing of the other, and
// two artifacts can take one version (the protocol's read before writing catches most, not all;
// the figure is printed, not asserted, as it depends on timing).
func TestReliabilityClaimsUnderReplicaLag(t *testing.T) {
	t.Parallel()
	const rounds, n = 8, 4
	const lag, settle = 80 * time.Millisecond, 120 * time.Millisecond
	var mu sync.Mutex
	var wg sync.WaitGroup
	total, control := 0, 0
	for seed := range uint64(rounds) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			shared, moved, failed, _ := replicaRound(t, n, lag, settle, seed, 0)
			if shared != 0 || len(moved) != 0 || len(failed) != 0 {
				t.Errorf("seed %d: %d versions taken by two artifacts, tags moved %v, failures %v", seed, shared, moved, failed)
			}
			c, cm, _, _ := replicaRound(t, n, lag, 0, seed, 0)
			mu.Lock()
			total += shared + len(moved)
			control += c + len(cm)
			mu.Unlock()
		}()
	}
	wg.Wait()
	t.Logf("reliability: %d builds, then %d promotions, at once; 2 replicas 0-%s behind, PUTs 0-30ms late | rounds %d | settle %s: versions taken by two artifacts or tags moved %d | without settle (a control, not a promise): %d",
		n, n, lag, rounds, settle, total, control)
}

// The same rounds on a repository of 300 tags, where tag-validated confirms its claims on ranged
// listings (rival claims and hold records only): the ranged listing lags as the full one does, and
// the protocol's argument holds for it unchanged, so with settle above the lag no version is
// taken twice and no tag moves.
func TestReliabilityRangedClaimsUnderReplicaLag(t *testing.T) {
	t.Parallel()
	const rounds, n, history = 4, 4, 300
	const lag, settle = 80 * time.Millisecond, 120 * time.Millisecond
	var mu sync.Mutex
	var wg sync.WaitGroup
	total, ranged := 0, int64(0)
	for seed := range uint64(rounds) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			shared, moved, failed, r := replicaRound(t, n, lag, settle, seed, history)
			if shared != 0 || len(moved) != 0 || len(failed) != 0 {
				t.Errorf("seed %d: %d versions taken by two artifacts, tags moved %v, failures %v", seed, shared, moved, failed)
			}
			if r == 0 {
				t.Errorf("seed %d: no ranged listing: the rounds did not test the ranged confirmation", seed)
			}
			mu.Lock()
			total += shared + len(moved)
			ranged += r
			mu.Unlock()
		}()
	}
	wg.Wait()
	t.Logf("reliability: %d builds, then %d promotions, at once, on %d tags; 2 replicas 0-%s behind | PUTs 0-30ms late | rounds %d | ranged listings %d | settle %s: versions taken by two artifacts or tags moved %d",
		n, n, history, lag, rounds, ranged, settle, total)
}
