package pipeline

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ocipromote/ocipromote/pkg/oci"
	"github.com/ocipromote/ocipromote/pkg/oci/ocitest"
	"github.com/ocipromote/ocipromote/pkg/promote"
	"github.com/ocipromote/ocipromote/pkg/version"
)

// flaky fails a fraction of requests with the faults production registries show.
type flaky struct {
	mu   sync.Mutex
	rng  *rand.Rand
	rate float64
	on   atomic.Bool
}

func (f *flaky) fault(int, *http.Request) ocitest.Fault {
	if !f.on.Load() {
		return ocitest.None
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.rng.Float64() >= f.rate {
		return ocitest.None
	}
	return []ocitest.Fault{ocitest.TooManyRequests, ocitest.BadGateway, ocitest.Unavailable, ocitest.Drop}[f.rng.IntN(4)]
}

// fastRetry keeps the bounded retry behaviour but not its waiting, so many seeds run quickly.
var fastRetry = oci.RetryPolicy{Attempts: 6, Base: time.Microsecond, Max: time.Microsecond, MaxRetryAfter: time.Microsecond}

// The whole pipeline (two builds, a promotion, a replay) with 30% of requests failing: every step
// completes within its retry bound or fails with an error naming the registry, re-running always
// converges on a clean run's tags, and no tag ever moves.
func TestReliabilityTransientFaults(t *testing.T) {
	t.Parallel()
	dirA, dirB := manifests(t, "a"), manifests(t, "b")
	pipelineSteps := func(reg Registry) []func() error {
		var rc1 BuildResult
		return []func() error{
			func() (err error) { rc1, err = BuildRC(context.Background(), reg, buildIn(dirA, sha(1))); return err },
			func() error { _, err := BuildRC(context.Background(), reg, buildIn(dirB, sha(2))); return err },
			func() error {
				_, err := TagValidated(context.Background(), reg, PromoteInput{Revision: revision(rc1)})
				return err
			},
			func() error { _, err := TagValidated(context.Background(), reg, PromoteInput{Sha: sha(1)}); return err },
		}
	}
	clean := newFixture(t)
	for _, step := range pipelineSteps(clean.repo("acme/faults")) {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	want := tagsAt(t, clean.repo("acme/faults"))

	const seeds = 24
	var runs, failedRuns, retries int64
	for seed := range seeds {
		fl := &flaky{rng: rand.New(rand.NewPCG(uint64(seed), 7)), rate: 0.3}
		fl.on.Store(true)
		srv := ocitest.New(t, ocitest.Faults(fl.fault))
		reg, err := oci.Open(srv.Host+"/acme/faults", oci.Options{Retry: fastRetry})
		if err != nil {
			t.Fatal(err)
		}
		for i, step := range pipelineSteps(reg) {
			var err error
			for try := 1; try <= 10; try++ {
				runs++
				if err = step(); err == nil {
					break
				}
				failedRuns++
				if !strings.Contains(err.Error(), srv.Host) && !strings.Contains(err.Error(), "127.0.0.1") {
					t.Errorf("seed %d step %d: error does not name the registry: %v", seed, i, err)
				}
			}
			if err != nil {
				t.Fatalf("seed %d step %d: still failing after 10 runs: %v", seed, i, err)
			}
		}
		retries += reg.Retries()
		fl.on.Store(false)
		if got := tagsAt(t, reg); !equalMaps(got, want) {
			t.Errorf("seed %d: tags\n%v\nwant a clean run's\n%v", seed, got, want)
		}
		if moved := srv.Moved(); len(moved) != 0 {
			t.Errorf("seed %d: tags moved: %v", seed, moved)
		}
	}
	t.Logf("reliability: transient faults (30%% of requests) | seeds %d | step runs %d | runs failed and re-run %d | retries %d | tags moved 0", seeds, runs, failedRuns, retries)
}

// Twenty promotions of one revision at once: all agree on the version, none fails, and the
// registry ends with exactly the stable tag and the marker, never having moved a tag.
func TestReliabilityConcurrentPromotions(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	reg := f.repo("acme/stampede")
	rc := mustBuild(t, reg, buildIn(manifests(t, "a"), sha(1)))
	const n = 20
	var wg sync.WaitGroup
	var writers atomic.Int64
	results := make([]PromoteResult, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := TagValidated(context.Background(), f.repo("acme/stampede"), PromoteInput{Revision: revision(rc)})
			if err != nil {
				t.Errorf("promotion %d: %v", i, err)
			}
			if res.Promoted {
				writers.Add(1)
			}
			results[i] = res
		}()
	}
	wg.Wait()
	for i, r := range results {
		if r.Version != "0.0.1" || (r.Reason != promote.Promoted && r.Reason != promote.AlreadyPromoted) {
			t.Errorf("promotion %d = %+v, want 0.0.1 promoted or already-promoted", i, r)
		}
	}
	at := tagsAt(t, reg)
	if at["0.0.1"] != rc.Digest || at["validated-"+rc.Short] != rc.Digest {
		t.Errorf("tags = %v", at)
	}
	if moved := f.srv.Moved(); len(moved) != 0 {
		t.Errorf("tags moved: %v", moved)
	}
	if writers.Load() == 0 {
		t.Error("no promotion reported writing")
	}
	t.Logf("reliability: %d concurrent promotions of one revision | reported writing %d (identical writes; a registry has no compare-and-swap to single one out) | tags moved 0", n, writers.Load())
}

// Validations of different candidates at the same instant, as when two promote runs escape a
// concurrency group or a person promotes from a terminal while the workflow runs: each stable
// version is written for one artifact only (the claim protocol), no tag moves, every candidate
// ends promoted or superseded, and live ends on the newest candidate.
func TestReliabilityConcurrentPromotionsOfDifferentCandidates(t *testing.T) {
	t.Parallel()
	const rounds, candidates = 20, 6
	contended := 0
	for round := range rounds {
		f := newFixture(t)
		reg := f.repo("acme/rivals")
		builds := make([]BuildResult, candidates)
		for i := range candidates {
			builds[i] = mustBuild(t, reg, buildIn(manifests(t, fmt.Sprint("content ", i)), sha(i)))
		}
		rng := rand.New(rand.NewPCG(uint64(round), 3))
		pauses := make([]int64, candidates)
		results := make([]PromoteResult, candidates)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for _, i := range rng.Perm(candidates) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				in := PromoteInput{Revision: revision(builds[i]), Pause: func(ctx context.Context, attempt int) error {
					pauses[i]++
					time.Sleep(time.Duration(rand.IntN(2000*attempt)) * time.Microsecond)
					return nil
				}}
				var err error
				if results[i], err = TagValidated(context.Background(), f.repo("acme/rivals"), in); err != nil {
					t.Errorf("round %d: promotion of %s: %v", round, builds[i].Version, err)
				}
			}()
		}
		close(start)
		wg.Wait()
		if t.Failed() {
			t.FailNow()
		}
		if moved := f.srv.Moved(); len(moved) != 0 {
			t.Fatalf("round %d: tags moved: %v", round, moved)
		}
		owner := map[string]int{}
		for i, r := range results {
			contended += int(pauses[i])
			switch r.Reason {
			case promote.Superseded:
			case promote.Promoted:
				if j, taken := owner[r.Version]; taken {
					t.Fatalf("round %d: %s and %s both report promotion to %s", round, builds[j].Version, builds[i].Version, r.Version)
				}
				owner[r.Version] = i
			default:
				t.Fatalf("round %d: %s: %+v, want promoted or superseded", round, builds[i].Version, r)
			}
		}
		list, err := reg.Tags(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		live, err := version.Select(list, ">= 0.0.0", "")
		if err != nil {
			t.Fatal(err)
		}
		if d, err := reg.Resolve(context.Background(), live); err != nil || d != builds[candidates-1].Digest {
			t.Fatalf("round %d: live selects %s (%s, %v), want the newest candidate %s", round, live, d, err, builds[candidates-1].Version)
		}
	}
	t.Logf("reliability: concurrent promotions of different candidates | %d rounds of %d | back-offs %d | versions written by two artifacts 0 | live always the newest | tags moved 0", rounds, candidates, contended)
}

// Validations of many candidates arriving in shuffled order: after each, live's selection is the
// newest candidate validated so far and never goes down.
func TestReliabilityShuffledValidations(t *testing.T) {
	t.Parallel()
	const candidates = 12
	for seed := range 5 {
		f := newFixture(t)
		reg := f.repo("acme/shuffle")
		builds := make([]BuildResult, candidates)
		for i := range candidates {
			builds[i] = mustBuild(t, reg, buildIn(manifests(t, fmt.Sprint("content ", i)), sha(i)))
		}
		order := rand.New(rand.NewPCG(uint64(seed), 1)).Perm(candidates)
		newest := -1
		var lastLive string
		for _, i := range order {
			mustPromote(t, reg, PromoteInput{Revision: revision(builds[i])})
			newest = max(newest, i)
			list, err := reg.Tags(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			live, err := version.Select(list, ">= 0.0.0", "")
			if err != nil {
				t.Fatal(err)
			}
			d, err := reg.Resolve(context.Background(), live)
			if err != nil {
				t.Fatal(err)
			}
			if d != builds[newest].Digest {
				t.Fatalf("seed %d: after validating %v, live selects %s (%s), want the newest validated candidate %s", seed, order, live, d, builds[newest].Version)
			}
			if lastLive != "" {
				prev, _ := version.Parse(lastLive)
				cur, _ := version.Parse(live)
				if cur.LessThan(prev) {
					t.Fatalf("seed %d: live went from %s down to %s", seed, lastLive, live)
				}
			}
			lastLive = live
		}
		if moved := f.srv.Moved(); len(moved) != 0 {
			t.Errorf("seed %d: tags moved: %v", seed, moved)
		}
	}
	t.Logf("reliability: shuffled validations | 5 orders of %d candidates | live always the newest validated, never decreasing | tags moved 0", candidates)
}
