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

// flaky fails a fraction of requests with the faults production registries show, and counts
// the faults it injected by kind of request.
type flaky struct {
	mu     sync.Mutex
	rng    *rand.Rand
	rate   float64
	on     atomic.Bool
	byKind map[string]int
}

func (f *flaky) fault(_ int, r *http.Request) ocitest.Fault {
	if !f.on.Load() {
		return ocitest.None
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.rng.Float64() >= f.rate {
		return ocitest.None
	}
	f.byKind[ocitest.Kind(r.Method+" "+r.URL.Path)]++
	faults := []ocitest.Fault{ocitest.TooManyRequests, ocitest.BadGateway, ocitest.Unavailable, ocitest.Drop, ocitest.LoseAnswer}
	return faults[f.rng.IntN(len(faults))]
}

// noWait is the binaries' retry policy (DefaultRetry: the same number of tries) without its
// waiting, so many seeds run quickly.
func noWait(attempts int) oci.RetryPolicy {
	p := oci.DefaultRetry
	p.Attempts = attempts
	p.Sleep = func(ctx context.Context, _ time.Duration) error { return ctx.Err() }
	return p
}

// The whole pipeline (two builds, a promotion, a replay) with 30% of requests failing — 429 with
// Retry-After, 502, 503, dropped connections, and answers lost after the write was applied —
// over 24 seeds with the binaries' retry policy, and 24 more with two tries a request so that
// steps do run out of retries: every step completes within its retry bound or fails with an
// error naming the registry, re-running always converges on a clean run's tags, and no tag ever
// moves.
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
	var runs, failedRuns, retries, moved int64
	faulted := map[string]int{}
	for _, attempts := range []int{oci.DefaultRetry.Attempts, 2} {
		bandFailures := int64(0)
		for seed := range seeds {
			fl := &flaky{rng: rand.New(rand.NewPCG(uint64(seed), uint64(attempts))), rate: 0.3, byKind: map[string]int{}}
			fl.on.Store(true)
			srv := ocitest.New(t, ocitest.Faults(fl.fault))
			reg, err := oci.Open(srv.Host+"/acme/faults", oci.Options{Retry: noWait(attempts)})
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
					bandFailures++
					if !strings.Contains(err.Error(), srv.Host) {
						t.Errorf("%d tries, seed %d, step %d: the error does not name the registry: %v", attempts, seed, i, err)
					}
				}
				if err != nil {
					t.Fatalf("%d tries, seed %d, step %d: still failing after 10 runs: %v", attempts, seed, i, err)
				}
			}
			retries += reg.Retries()
			fl.on.Store(false)
			if got := tagsAt(t, reg); !equalMaps(got, want) {
				t.Errorf("%d tries, seed %d: tags\n%v\nwant a clean run's\n%v", attempts, seed, got, want)
			}
			m := srv.Moved()
			moved += int64(len(m))
			if len(m) != 0 {
				t.Errorf("%d tries, seed %d: tags moved: %v", attempts, seed, m)
			}
			for k, n := range fl.byKind {
				faulted[k] += n
			}
		}
		if attempts == 2 && bandFailures == 0 {
			t.Error("with two tries a request no step ever ran out of retries: the failure path went untested")
		}
		failedRuns += bandFailures
	}
	// The faults must have hit every kind of request a step makes, writes included.
	for _, kind := range []string{"list", "HEAD manifest", "PUT manifest", "POST upload", "PUT upload"} {
		if faulted[kind] == 0 {
			t.Errorf("no fault hit a %s request: %v", kind, faulted)
		}
	}
	t.Logf("reliability: transient faults (30%% of requests, lost answers included) | seeds %d with 5 tries and %d with 2 | step runs %d | runs failed and re-run %d | retries %d | faults on writes %d | tags moved %d",
		seeds, seeds, runs, failedRuns, retries, faulted["PUT manifest"]+faulted["POST upload"]+faulted["PUT upload"], moved)
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
	moved := f.srv.Moved()
	if len(moved) != 0 {
		t.Errorf("tags moved: %v", moved)
	}
	if writers.Load() == 0 {
		t.Error("no promotion reported writing")
	}
	digests := map[string]bool{}
	for _, a := range f.srv.Assignments() {
		if a.Tag == "0.0.1" || a.Tag == "validated-"+rc.Short {
			digests[a.Digest] = true
		}
	}
	if len(digests) != 1 {
		t.Errorf("the writes of 0.0.1 and its marker named %d digests, want 1", len(digests))
	}
	t.Logf("reliability: %d concurrent promotions of one revision | all promoted or already-promoted to 0.0.1 | reported writing %d (identical writes; no registry offers a conditional write to single one out) | tags moved %d", n, writers.Load(), len(moved))
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
		if m := f.srv.Moved(); len(m) != 0 {
			t.Fatalf("round %d: tags moved: %v", round, m)
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
	moved := 0
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
		m := f.srv.Moved()
		moved += len(m)
		if len(m) != 0 {
			t.Errorf("seed %d: tags moved: %v", seed, m)
		}
	}
	t.Logf("reliability: shuffled validations | 5 orders of %d candidates | live always the newest validated, never decreasing | tags moved %d", candidates, moved)
}
