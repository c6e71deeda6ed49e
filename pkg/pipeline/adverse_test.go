package pipeline

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ocipromote/ocipromote/pkg/hold"
	"github.com/ocipromote/ocipromote/pkg/oci"
	"github.com/ocipromote/ocipromote/pkg/oci/ocitest"
	"github.com/ocipromote/ocipromote/pkg/promote"
	"github.com/ocipromote/ocipromote/pkg/version"
)

// registryScenario is a registry as bad as real ones (the fronts of package ocitest), and the
// settle time the steps are given for it (package claim: at least the listing lag).
type registryScenario struct {
	name string
	// front is the misbehaviour, seeded.
	front func(seed uint64) []ocitest.Option
	// lag is how long a write may stay out of listings: Flux, which selects from the listing,
	// sees a candidate no sooner, so validation waits that long after a build.
	lag    time.Duration
	settle time.Duration
	// client, when set, is how the steps reach the registry (the tests' default makes one try
	// with no request timeout).
	client *oci.Options
	// faulty: the front stalls requests or drops writes, and a round that met none proves nothing.
	faulty bool
}

// registryScenarios are the misbehaving registries every round below runs against. Lags are
// milliseconds so that make test stays fast; the protocol is the same at seconds. Add a row for
// each new front.
var registryScenarios = []registryScenario{
	{name: "every listing 40 ms behind, settle 60 ms", lag: 40 * time.Millisecond, settle: 60 * time.Millisecond,
		front: func(uint64) []ocitest.Option { return []ocitest.Option{ocitest.ListingLag(40 * time.Millisecond)} }},
	{name: "listing from 2 replicas each 0-60 ms behind, settle 90 ms", lag: 60 * time.Millisecond, settle: 90 * time.Millisecond,
		front: func(seed uint64) []ocitest.Option {
			return []ocitest.Option{ocitest.ReplicaLag(2, 60*time.Millisecond, seed)}
		}},
	{name: "manifest PUTs 0-40 ms late, settle 0", lag: 0, settle: 0,
		front: func(seed uint64) []ocitest.Option {
			return []ocitest.Option{ocitest.PutLatency(40*time.Millisecond, seed)}
		}},
	{name: "the first write of every tag but claims acknowledged and dropped, settle 0",
		front: func(uint64) []ocitest.Option {
			return []ocitest.Option{ocitest.DropFirstWrite(`^(sha-|integration-|validated-|hold-|[0-9])`)}
		}, faulty: true},
	{name: "3% of requests accepted and never answered, request timeout 300 ms, settle 0",
		front: func(seed uint64) []ocitest.Option { return []ocitest.Option{ocitest.StallSome(0.03, seed)} },
		client: &oci.Options{RequestTimeout: 300 * time.Millisecond,
			Retry: oci.RetryPolicy{Attempts: 5, Base: 10 * time.Millisecond, Max: 50 * time.Millisecond}}, faulty: true},
}

// stepDeadline bounds every step of a round: a step still running then counts as hung.
const stepDeadline = 30 * time.Second

// roundFigures are the must-be-zero figures of the rounds of one scenario, and how many ran.
type roundFigures struct {
	rounds, moved, sharedVersions, duplicateHolds, rollbackFailures, hung atomic.Int64
	// faults counts the requests the front stalled and the writes it dropped.
	faults atomic.Int64
}

// Every promise on registries that lag, answer writes late or race: per round, two builds of
// different commits at once, their two promotions at once, then a freeze, and a hold release and
// a rollback (to the older candidate) at the same moment. Each round must end with distinct
// release candidates, no stable version claimed by two artifacts, no moved tag, one hold record
// per change, a rollback that succeeded on its first run with live on its artifact, and no step
// past its deadline.
func TestReliabilityOnMisbehavingRegistries(t *testing.T) {
	t.Parallel()
	const rounds = 10
	for _, sc := range registryScenarios {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			var fig roundFigures
			// Rounds run as goroutines, not parallel subtests: they mostly wait, and go test
			// runs only GOMAXPROCS parallel subtests at once.
			var wg sync.WaitGroup
			for seed := range uint64(rounds) {
				wg.Add(1)
				go func() {
					defer wg.Done()
					adverseRound(t, sc, seed, &fig)
				}()
			}
			wg.Wait()
			if sc.faulty && fig.faults.Load() == 0 {
				t.Error("the front stalled no request and dropped no write: the rounds prove nothing")
			}
			t.Logf("reliability: %s | rounds %d (2 builds, 2 promotions, a freeze, a release and a rollback at once) | requests stalled or writes dropped %d | tags moved %d | versions taken by two artifacts %d | duplicate hold records %d | rollbacks that exited 1 without a real rival %d | steps that hung %d",
				sc.name, fig.rounds.Load(), fig.faults.Load(), fig.moved.Load(), fig.sharedVersions.Load(), fig.duplicateHolds.Load(), fig.rollbackFailures.Load(), fig.hung.Load())
		})
	}
}

// quickPause is a jittered pause of a few milliseconds between contended attempts.
func quickPause(ctx context.Context, attempt int) error {
	select {
	case <-time.After(time.Duration(1+rand.IntN(10*attempt)) * time.Millisecond):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// adverseRound runs one round; it reports with t.Errorf only, as it runs on its own goroutine.
func adverseRound(t *testing.T, sc registryScenario, seed uint64, fig *roundFigures) {
	errorf := func(format string, args ...any) {
		t.Errorf("%s, seed %d: "+format, append([]any{sc.name, seed}, args...)...)
	}
	f := newFixture(t, sc.front(seed)...)
	reg := f.repo("acme/adverse")
	if sc.client != nil {
		var err error
		if reg, err = oci.Open(f.srv.Host+"/acme/adverse", *sc.client); err != nil {
			errorf("%v", err)
			return
		}
	}
	fig.rounds.Add(1)
	// run runs the steps at once, each within stepDeadline, and counts the hung ones.
	run := func(steps ...func(ctx context.Context) error) []error {
		errs := make([]error, len(steps))
		var wg sync.WaitGroup
		for i, step := range steps {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ctx, cancel := context.WithTimeout(context.Background(), stepDeadline)
				defer cancel()
				if errs[i] = step(ctx); errors.Is(errs[i], context.DeadlineExceeded) {
					fig.hung.Add(1)
				}
			}()
		}
		wg.Wait()
		return errs
	}

	builds := make([]BuildResult, 2)
	var steps []func(context.Context) error
	for i := range builds {
		in := buildIn(manifests(t, fmt.Sprint("content ", i)), sha(i+1))
		in.Pause, in.Settle = quickPause, sc.settle
		steps = append(steps, func(ctx context.Context) (err error) { builds[i], err = BuildRC(ctx, reg, in); return err })
	}
	for i, err := range run(steps...) {
		if err != nil {
			errorf("build %d: %v", i, err)
			return
		}
	}
	if builds[0].Version == builds[1].Version {
		fig.sharedVersions.Add(1)
		errorf("both builds took %s", builds[0].Version)
	}
	older, newer := builds[0], builds[1]
	vo, _ := version.Parse(older.Version)
	if vn, _ := version.Parse(newer.Version); vo.GreaterThan(vn) {
		older, newer = newer, older
	}

	time.Sleep(sc.lag) // integration selects from the listing: no event before the tags are listed
	promoted := make([]PromoteResult, 2)
	steps = nil
	for i, b := range builds {
		in := PromoteInput{Revision: revision(b), Pause: quickPause, Settle: sc.settle}
		steps = append(steps, func(ctx context.Context) (err error) { promoted[i], err = TagValidated(ctx, reg, in); return err })
	}
	for i, err := range run(steps...) {
		if err != nil {
			errorf("promotion of %s: %v", builds[i].Version, err)
			return
		}
	}
	owner := map[string]string{}
	for i, p := range promoted {
		switch p.Reason {
		case promote.Promoted:
			if other, taken := owner[p.Version]; taken {
				fig.sharedVersions.Add(1)
				errorf("%s and %s both promoted to %s", other, builds[i].Version, p.Version)
			}
			owner[p.Version] = builds[i].Version
		case promote.Superseded, promote.AlreadyPromoted:
		default:
			errorf("promotion of %s: %+v", builds[i].Version, p)
		}
	}

	freeze := hold.Record{Reason: "freeze", Actor: "alice", Time: time.Date(2026, 8, 2, 9, 0, 0, 0, time.UTC)}
	if errs := run(func(ctx context.Context) error {
		list, err := reg.Tags(ctx)
		if err != nil {
			return err
		}
		_, err = hold.Set(ctx, reg, list, freeze, hold.Options{Settle: sc.settle, Pause: quickPause})
		return err
	}); errs[0] != nil {
		errorf("freeze: %v", errs[0])
		return
	}
	var rolled hold.RollbackResult
	errs := run(
		func(ctx context.Context) (err error) {
			rolled, err = hold.Rollback(ctx, reg, hold.RollbackInput{To: older.Version, Force: true, Settle: sc.settle, Pause: quickPause,
				Record: hold.Record{Reason: "bad release", Actor: "oncall", Time: freeze.Time.Add(time.Minute)}})
			return err
		},
		func(ctx context.Context) error {
			list, err := reg.Tags(ctx)
			if err != nil {
				return err
			}
			_, err = hold.Release(ctx, reg, list, hold.Record{Reason: "freeze over", Actor: "bob", Time: freeze.Time.Add(2 * time.Minute)}, hold.Options{Settle: sc.settle, Pause: quickPause})
			return err
		})
	if errs[0] != nil {
		fig.rollbackFailures.Add(1)
		errorf("rollback to %s: %v", older.Version, errs[0])
	}
	if errs[1] != nil {
		errorf("hold release: %v", errs[1])
	}

	time.Sleep(sc.lag)
	fig.faults.Add(int64(f.srv.Stalled() + f.srv.Dropped()))
	moved := f.srv.Moved()
	fig.moved.Add(int64(len(moved)))
	if len(moved) != 0 {
		errorf("tags moved: %v", moved)
	}
	records := map[string]int{}
	for _, a := range f.srv.Assignments() {
		if hold.IsTag(a.Tag) {
			if records[a.Digest]++; records[a.Digest] == 2 {
				fig.duplicateHolds.Add(1)
				errorf("hold record %s written under two tags", a.Digest)
			}
		}
	}
	if errs[0] == nil {
		list, err := reg.Tags(context.Background())
		if err != nil {
			errorf("%v", err)
			return
		}
		live, err := version.Select(list, hold.LiveConstraint, "")
		if err != nil {
			errorf("%v", err)
			return
		}
		if d, err := reg.Resolve(context.Background(), live); err != nil || d != older.Digest {
			errorf("after the rollback live selects %s (%s, %v), want %s (%s)", live, d, err, older.Version, older.Digest)
		}
		if rolled.Hold.Tag == "" {
			t.Error("the rollback reports no hold record")
		}
	}
}

// Issue 12: on a registry whose tag list lags behind its writes, tag-validated run right after
// build-rc refused the candidate as "never offered to integration": integration-<s> was not
// listed yet, though a read by tag saw it. It reads that tag before refusing.
func TestTagValidatedRightAfterBuildOnALaggingListing(t *testing.T) {
	t.Parallel()
	const lag = time.Second
	f := newFixture(t, ocitest.ListingLag(lag))
	reg := f.repo("acme/lagging")
	ctx := context.Background()
	in := buildIn(manifests(t, "lagging"), sha(1))
	in.Settle = lag + 100*time.Millisecond
	b, err := BuildRC(ctx, reg, in)
	if err != nil {
		t.Fatal(err)
	}
	// build-rc waits out the settle time after its claim, before its last writes: a listing
	// made at once does not show integration-<s> yet.
	list, err := reg.Tags(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(list, "integration-"+sha(1)[:7]) {
		t.Fatalf("the listing shows integration-<s> %s after its write; the test needs a lagging listing", lag)
	}
	p, err := TagValidated(ctx, reg, PromoteInput{Revision: revision(b), Settle: lag + 100*time.Millisecond, Pause: quickPause})
	if err != nil {
		t.Fatalf("tag-validated right after build-rc: %v", err)
	}
	if p.Reason != promote.Promoted {
		t.Errorf("reason = %s, want %s", p.Reason, promote.Promoted)
	}
}
