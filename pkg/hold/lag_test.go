package hold_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ocipromote/ocipromote/pkg/claim"
	"github.com/ocipromote/ocipromote/pkg/hold"
	"github.com/ocipromote/ocipromote/pkg/oci"
	"github.com/ocipromote/ocipromote/pkg/oci/ocitest"
	"github.com/ocipromote/ocipromote/pkg/pipeline"
)

// The listing bound of the lag fronts below, and the settle time the steps are given: above it.
const (
	lag    = 60 * time.Millisecond
	settle = 90 * time.Millisecond
)

// shortPause is a jittered pause of a few milliseconds, so that rounds stay fast.
func shortPause(ctx context.Context, attempt int) error {
	select {
	case <-time.After(time.Duration(1+rand.IntN(10*attempt)) * time.Millisecond):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// pipelineStateBehind is pipelineState (a promoted to 0.0.1, b never validated, c live on
// 0.0.2) served through a front with opts: what was written before is listed at once, what the
// test writes through the front is what the front delays or disturbs. inner records every tag
// assignment.
func pipelineStateBehind(t *testing.T, opts ...ocitest.Option) (inner *ocitest.Server, reg *oci.Repository, rcs map[string]pipeline.BuildResult) {
	t.Helper()
	inner, _, built := pipelineState(t, ocitest.MaxPage(0))
	front := ocitest.New(t, append([]ocitest.Option{ocitest.Backend(inner), ocitest.MaxPage(3)}, opts...)...)
	reg, err := oci.Open(front.Host+"/acme/app", oci.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return inner, reg, built
}

// holdRecords counts, per record digest, the hold-<n> tags written for it.
func holdRecords(srv *ocitest.Server) map[string][]string {
	out := map[string][]string{}
	for _, a := range srv.Assignments() {
		if hold.IsTag(a.Tag) {
			out[a.Digest] = append(out[a.Digest], a.Tag)
		}
	}
	return out
}

// With every tag listed only some time after its write (HEAD and GET at once), or listings
// served by replicas that each lag by their own delay, a rollback succeeds on its first run:
// one hold record, the stable version above live, nothing moved, and live on the artifact once
// the listing catches up. (Before it waited for its own writes to be listed, it wrote a second
// hold record, took one patch too many and exited 1 blaming writers that did not exist.)
func TestRollbackUnderListingLag(t *testing.T) {
	t.Parallel()
	for name, opt := range map[string]func(seed uint64) ocitest.Option{
		"shared lag":      func(uint64) ocitest.Option { return ocitest.ListingLag(lag) },
		"per-replica lag": func(seed uint64) ocitest.Option { return ocitest.ReplicaLag(2, lag, seed) },
	} {
		for seed := range uint64(3) {
			t.Run(fmt.Sprintf("%s, seed %d", name, seed), func(t *testing.T) {
				t.Parallel()
				inner, reg, rcs := pipelineStateBehind(t, opt(seed))
				ctx := context.Background()
				in := hold.RollbackInput{To: "0.0.1", Record: hold.Record{Reason: "0.0.2 breaks checkout", Actor: "oncall", Time: when}, Settle: settle, Pause: shortPause}
				res, err := hold.Rollback(ctx, reg, in)
				if err != nil {
					t.Fatalf("first rollback: %v", err)
				}
				if got, want := strings.Join(res.Writes, ","), "hold-1,0.0.3"; got != want {
					t.Errorf("writes = %s, want %s", got, want)
				}
				for digest, tags := range holdRecords(inner) {
					if len(tags) != 1 {
						t.Errorf("hold record %s written as %v, want one tag", digest, tags)
					}
				}
				if n := len(holdRecords(inner)); n != 1 {
					t.Errorf("%d hold records written, want 1", n)
				}
				if moved := inner.Moved(); len(moved) != 0 {
					t.Errorf("tags moved: %v", moved)
				}
				time.Sleep(lag)
				if _, digest := live(t, reg); digest != rcs["a"].Digest {
					t.Errorf("live is on %s, want a (%s)", digest, rcs["a"].Digest)
				}
				again, err := hold.Rollback(ctx, reg, in)
				if err != nil || again.Changed() {
					t.Errorf("re-run = %+v, %v; want nothing written", again, err)
				}
			})
		}
	}
}

// A hold release and a rollback at the same moment, with manifest PUTs answered up to 30 ms late:
// no hold-<n> is ever written twice (each change claims its number), both succeed, the rollback
// writes one record, and the hold is whatever the record with the highest number says. (With
// HEAD-then-PUT both wrote hold-2 in most rounds, and the rollback's record could vanish.)
func TestHoldReleaseAndRollbackAtOnce(t *testing.T) {
	t.Parallel()
	for seed := range uint64(8) {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			t.Parallel()
			inner, reg, rcs := pipelineStateBehind(t, ocitest.PutLatency(30*time.Millisecond, seed))
			ctx := context.Background()
			if _, err := hold.Set(ctx, reg, tagsOf(t, reg), hold.Record{Reason: "freeze", Actor: "alice", Time: when}, hold.Options{}); err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			var rolled hold.RollbackResult
			var released hold.Change
			var rollErr, releaseErr error
			start := make(chan struct{})
			wg.Add(2)
			go func() {
				defer wg.Done()
				<-start
				rolled, rollErr = hold.Rollback(ctx, reg, hold.RollbackInput{To: "0.0.1", Record: hold.Record{Reason: "bad", Actor: "oncall", Time: when.Add(time.Minute)}, Pause: shortPause})
			}()
			go func() {
				defer wg.Done()
				<-start
				list, err := reg.Tags(ctx)
				if err != nil {
					releaseErr = err
					return
				}
				released, releaseErr = hold.Release(ctx, reg, list, hold.Record{Reason: "done", Actor: "bob", Time: when.Add(2 * time.Minute)}, hold.Options{Pause: shortPause})
			}()
			close(start)
			wg.Wait()
			if rollErr != nil || releaseErr != nil {
				t.Fatalf("rollback: %v; release: %v", rollErr, releaseErr)
			}
			if moved := inner.Moved(); len(moved) != 0 {
				t.Fatalf("tags moved: %v", moved)
			}
			records := holdRecords(inner)
			for digest, tags := range records {
				if len(tags) != 1 {
					t.Errorf("hold record %s written as %v, want one tag", digest, tags)
				}
			}
			// The rollback's record is where it said; the current hold is the highest record.
			list := tagsOf(t, reg)
			cur, err := hold.Read(ctx, reg, list)
			if err != nil {
				t.Fatal(err)
			}
			if d, err := reg.Resolve(ctx, rolled.Hold.Tag); err != nil || rolled.Hold.Tag == "" {
				t.Fatalf("the rollback's hold %q: %v", rolled.Hold.Tag, err)
			} else if rec, err := hold.Read(ctx, reg, []string{rolled.Hold.Tag}); err != nil || rec.Actor != "oncall" && rolled.Hold.Actor == "oncall" {
				t.Errorf("%s (%s) = %+v, %v; want the rollback's record", rolled.Hold.Tag, d, rec, err)
			}
			if released.Wrote {
				_, top := hold.Latest(list)
				if want := hold.Tag(top); cur.Tag != want {
					t.Errorf("current hold %s, want the highest record %s", cur.Tag, want)
				}
			}
			if _, digest := live(t, reg); digest != rcs["a"].Digest {
				t.Errorf("live is on %s, want a", digest)
			}
		})
	}
}

// hold-18446744073709551615 (written by someone else) would make the next record hold-0, which
// is not a record tag and is never read. The change is refused with what to do, and nothing is
// written.
func TestHoldCounterCannotOverflow(t *testing.T) {
	t.Parallel()
	srv, reg := open(t)
	ctx := context.Background()
	img, err := hold.Image(hold.Record{State: hold.On, Reason: "by hand", Actor: "mallory", Time: when})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Push(ctx, img, "hold-18446744073709551615"); err != nil {
		t.Fatal(err)
	}
	before := len(srv.Writes())
	for name, change := range map[string]func(context.Context, hold.Writer, []string, hold.Record, hold.Options) (hold.Change, error){
		"release": hold.Release,
		"set": func(ctx context.Context, reg hold.Writer, list []string, rec hold.Record, o hold.Options) (hold.Change, error) {
			rec.Digest = "sha256:" + strings.Repeat("a", 64)
			return hold.Set(ctx, reg, list, rec, o)
		},
	} {
		_, err := change(ctx, reg, tagsOf(t, reg), hold.Record{Reason: "r", Actor: "a", Time: when}, hold.Options{})
		if !errors.Is(err, hold.ErrCounterExhausted) || !strings.Contains(err.Error(), "delete that tag") {
			t.Errorf("%s = %v, want ErrCounterExhausted saying what to do", name, err)
		}
	}
	if w := srv.Writes(); len(w) != before {
		t.Errorf("wrote %v", w[before:])
	}
}

// A registry whose listing never catches up within the settle time makes the rollback stop with
// what happened — its write is not listed — and not blame concurrent writers, of which there are
// none. (It used to say "concurrent hold changes kept taking the next hold-<n> tag".)
func TestRollbackBlamesOnlyRivalsItSaw(t *testing.T) {
	t.Parallel()
	inner, reg, _ := pipelineStateBehind(t, ocitest.ListingLag(time.Hour))
	before := len(inner.Assignments())
	_, err := hold.Rollback(context.Background(), reg, hold.RollbackInput{To: "0.0.1", Record: hold.Record{Reason: "r", Actor: "a", Time: when}, Settle: 20 * time.Millisecond, Pause: shortPause})
	if !errors.Is(err, claim.ErrNotListed) || strings.Contains(err.Error(), "concurrent") {
		t.Fatalf("Rollback = %v; want ErrNotListed, blaming no concurrent writer", err)
	}
	for _, a := range inner.Assignments()[before:] {
		if _, isClaim := claim.Parse(a.Tag); !isClaim {
			t.Errorf("wrote %s although its claim was never listed", a.Tag)
		}
	}
}
