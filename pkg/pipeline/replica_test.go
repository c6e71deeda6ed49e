package pipeline

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ocipromote/ocipromote/pkg/oci/ocitest"
	"github.com/ocipromote/ocipromote/pkg/promote"
)

// replicaRound runs n builds of different commits at once, then their n promotions at once, on a
// registry whose listings come from 2 replicas each up to lag behind, with manifest PUTs up to
// 30 ms late, the steps given settle. It returns how many release candidates and stable versions
// were taken by two artifacts, the tags moved, and the steps' errors.
func replicaRound(t *testing.T, n int, lag, settle time.Duration, seed uint64) (shared int, moved []string, failed []error) {
	f := newFixture(t, ocitest.ReplicaLag(2, lag, seed), ocitest.PutLatency(30*time.Millisecond, seed))
	reg := f.repo("acme/replicas")
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
			return 0, f.srv.Moved(), []error{fmt.Errorf("build %d: %w", i, err)}
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
	return shared, f.srv.Moved(), failed
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
			shared, moved, failed := replicaRound(t, n, lag, settle, seed)
			if shared != 0 || len(moved) != 0 || len(failed) != 0 {
				t.Errorf("seed %d: %d versions taken by two artifacts, tags moved %v, failures %v", seed, shared, moved, failed)
			}
			c, cm, _ := replicaRound(t, n, lag, 0, seed)
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
