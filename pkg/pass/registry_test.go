package pass_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ocipromote/ocipromote/pkg/oci"
	"github.com/ocipromote/ocipromote/pkg/oci/ocitest"
	"github.com/ocipromote/ocipromote/pkg/pass"
)

// The listing bound of the lag fronts below, and the settle time Write is given: above it.
const (
	lag    = 60 * time.Millisecond
	settle = 90 * time.Millisecond
)

func shortPause(ctx context.Context, attempt int) error {
	select {
	case <-time.After(time.Duration(1+rand.IntN(10*attempt)) * time.Millisecond):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func open(t *testing.T, opts ...ocitest.Option) (*ocitest.Server, *oci.Repository) {
	t.Helper()
	srv := ocitest.New(t, append([]ocitest.Option{ocitest.MaxPage(3)}, opts...)...)
	reg, err := oci.Open(srv.Host+"/acme/app", oci.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return srv, reg
}

func tagsOf(t *testing.T, reg *oci.Repository) []string {
	t.Helper()
	list, err := reg.Tags(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return list
}

// event is the record of a healthy (or failing) event from preprod's cluster at minute min.
func event(kind string, min int) pass.Record {
	return pass.Record{Stage: "preprod", Digest: digest, Kind: kind, Revision: "1.3.0-preprod.4@" + digest, Cluster: "preprod",
		Message: "Kustomization/apps reconciled", Time: at(min), Actor: "dispatch-receiver", Event: fmt.Sprint("delivery-", kind, min)}
}

// records are the pass record tags the server stored, each with the digests written under it.
func records(srv *ocitest.Server) map[string][]string {
	out := map[string][]string{}
	for _, a := range srv.Assignments() {
		if pass.IsTag(a.Tag) {
			out[a.Tag] = append(out[a.Tag], a.Digest)
		}
	}
	return out
}

// Evidence accumulates in order; a replayed delivery writes nothing (not even a claim) and so
// restarts no soak; a failure cancels the pass; History reads back what was written.
func TestWriteHistoryAndReplay(t *testing.T) {
	t.Parallel()
	srv, reg := open(t)
	ctx := context.Background()
	steps := []struct {
		name  string
		rec   pass.Record
		wrote bool
		tag   string
	}{
		{"pass", event(pass.Pass, 0), true, "pass-preprod-0123456789ab-1"},
		{"replay of the pass", event(pass.Pass, 0), false, "pass-preprod-0123456789ab-1"},
		{"failure", event(pass.Fail, 20), true, "pass-preprod-0123456789ab-2"},
		{"replay of the pass, recorded by someone else", func() pass.Record { r := event(pass.Pass, 0); r.Actor = "alice"; return r }(), false, "pass-preprod-0123456789ab-1"},
		{"pass again", event(pass.Pass, 40), true, "pass-preprod-0123456789ab-3"},
	}
	for _, s := range steps {
		writes := len(srv.Writes())
		w, err := pass.Write(ctx, reg, tagsOf(t, reg), s.rec, pass.Options{})
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if w.Wrote != s.wrote || w.Entry.Tag != s.tag {
			t.Errorf("%s: wrote %v %s, want %v %s", s.name, w.Wrote, w.Entry.Tag, s.wrote, s.tag)
		}
		if !s.wrote && len(srv.Writes()) != writes {
			t.Errorf("%s: wrote %v to the registry, want nothing", s.name, srv.Writes()[writes:])
		}
	}
	hist, err := pass.History(ctx, reg, tagsOf(t, reg), "preprod", digest)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range hist {
		got = append(got, fmt.Sprintf("%s %s %s", e.Tag, e.Kind, e.Time.Format("15:04")))
	}
	if want := "pass-preprod-0123456789ab-1 pass 10:00,pass-preprod-0123456789ab-2 fail 10:20,pass-preprod-0123456789ab-3 pass 10:40"; strings.Join(got, ",") != want {
		t.Errorf("History = %s, want %s", strings.Join(got, ","), want)
	}
	if e := hist[0]; e.Cluster != "preprod" || e.Revision != "1.3.0-preprod.4@"+digest || e.Message != "Kustomization/apps reconciled" || e.Actor != "dispatch-receiver" || e.Event != "delivery-pass0" {
		t.Errorf("record read back as %+v", e)
	}
	if passedAt, passed, _ := pass.Standing(pass.Records(hist)); !passed || !passedAt.Equal(at(40)) {
		t.Errorf("Standing = %s, %v; want passed at %s", passedAt, passed, at(40))
	}
	ev, err := pass.Read(ctx, reg, tagsOf(t, reg), "preprod", digest)
	if err != nil || !ev.Passed || ev.Cancelled || !ev.PassedAt.Equal(at(40)) || len(ev.Records) != 3 {
		t.Errorf("Read = %+v, %v; want passed at %s on 3 records", ev, err, at(40))
	}
	if other, err := pass.History(ctx, reg, tagsOf(t, reg), "prod", digest); err != nil || len(other) != 0 {
		t.Errorf("prod's history = %v, %v; want none", other, err)
	}
	for tag, digests := range records(srv) {
		if len(digests) != 1 {
			t.Errorf("%s written %d times", tag, len(digests))
		}
	}
	if moved := srv.Moved(); len(moved) != 0 {
		t.Errorf("tags moved: %v", moved)
	}
}

// A record tag pointing at anything but a pass record of its stage and candidate fails the read:
// evidence that cannot be read is no evidence.
func TestHistoryFailsClosed(t *testing.T) {
	t.Parallel()
	_, reg := open(t)
	ctx := context.Background()
	w, err := pass.Write(ctx, reg, nil, event(pass.Pass, 0), pass.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m, err := reg.Get(ctx, mustResolve(t, reg, w.Entry.Tag))
	if err != nil {
		t.Fatal(err)
	}
	// The same record under another stage's tag.
	if _, err := reg.Tag(ctx, "pass-dev-0123456789ab-1", m, oci.Write{}); err != nil {
		t.Fatal(err)
	}
	_, err = pass.History(ctx, reg, tagsOf(t, reg), "dev", digest)
	if !errors.Is(err, pass.ErrNotARecord) {
		t.Errorf("History over a misplaced record = %v, want ErrNotARecord", err)
	}
}

func mustResolve(t *testing.T, reg *oci.Repository, tag string) string {
	t.Helper()
	d, err := reg.Resolve(context.Background(), tag)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// Concurrent writers of distinct events, with listings that lag (shared or per replica) and
// manifest PUTs answered late: each event is recorded once, no record tag is written for two
// records or moved, and every record is read back.
func TestConcurrentWriters(t *testing.T) {
	t.Parallel()
	for name, opt := range map[string]func(seed uint64) ocitest.Option{
		"shared lag":      func(uint64) ocitest.Option { return ocitest.ListingLag(lag) },
		"per-replica lag": func(seed uint64) ocitest.Option { return ocitest.ReplicaLag(2, lag, seed) },
	} {
		for seed := range uint64(3) {
			t.Run(fmt.Sprintf("%s, seed %d", name, seed), func(t *testing.T) {
				t.Parallel()
				srv, reg := open(t, opt(seed), ocitest.PutLatency(30*time.Millisecond, seed))
				ctx := context.Background()
				const writers = 4
				var wg sync.WaitGroup
				errs := make([]error, writers)
				for i := range writers {
					wg.Go(func() {
						list, err := reg.Tags(ctx)
						if err == nil {
							_, err = pass.Write(ctx, reg, list, event(pass.Pass, i), pass.Options{Settle: settle, Pause: shortPause})
						}
						errs[i] = err
					})
				}
				wg.Wait()
				for i, err := range errs {
					if err != nil {
						t.Errorf("writer %d: %v", i, err)
					}
				}
				stored := records(srv)
				for tag, digests := range stored {
					if len(digests) != 1 {
						t.Errorf("%s written %d times: %v", tag, len(digests), digests)
					}
				}
				if moved := srv.Moved(); len(moved) != 0 {
					t.Errorf("tags moved: %v", moved)
				}
				time.Sleep(lag)
				hist, err := pass.History(ctx, reg, tagsOf(t, reg), "preprod", digest)
				if err != nil {
					t.Fatal(err)
				}
				events := map[string]int{}
				for _, e := range hist {
					events[e.Event]++
				}
				if len(hist) != writers || len(events) != writers {
					t.Errorf("%d records of %d events, want %d of %d: %v", len(hist), len(events), writers, writers, events)
				}
			})
		}
	}
}

// The same event delivered twice at once, by runs that write byte-identical records: one record.
func TestConcurrentReplays(t *testing.T) {
	t.Parallel()
	for seed := range uint64(3) {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			t.Parallel()
			srv, reg := open(t, ocitest.ReplicaLag(2, lag, seed), ocitest.PutLatency(30*time.Millisecond, seed))
			ctx := context.Background()
			var wg sync.WaitGroup
			errs := make([]error, 3)
			for i := range errs {
				wg.Go(func() {
					_, errs[i] = pass.Write(ctx, reg, nil, event(pass.Pass, 0), pass.Options{Settle: settle, Pause: shortPause})
				})
			}
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Errorf("delivery %d: %v", i, err)
				}
			}
			if stored := records(srv); len(stored) != 1 {
				t.Errorf("records %v, want one", stored)
			}
		})
	}
}

// A record write the registry acknowledges and loses once is written again and read back; one it
// always loses is reported, never taken for written.
func TestDroppedWrites(t *testing.T) {
	t.Parallel()
	t.Run("dropped once", func(t *testing.T) {
		t.Parallel()
		srv, reg := open(t, ocitest.DropFirstWrite(`^pass-`))
		w, err := pass.Write(context.Background(), reg, nil, event(pass.Pass, 0), pass.Options{})
		if err != nil || !w.Wrote {
			t.Fatalf("Write = %+v, %v", w, err)
		}
		if srv.Dropped() != 1 {
			t.Errorf("%d writes dropped, want 1", srv.Dropped())
		}
		if d := mustResolve(t, reg, w.Entry.Tag); d == "" {
			t.Errorf("%s is not stored", w.Entry.Tag)
		}
	})
	t.Run("always dropped", func(t *testing.T) {
		t.Parallel()
		_, reg := open(t, ocitest.DropWrites(`^pass-`))
		_, err := pass.Write(context.Background(), reg, nil, event(pass.Pass, 0), pass.Options{})
		var lost *oci.LostWriteError
		if !errors.As(err, &lost) {
			t.Fatalf("Write = %v, want a *oci.LostWriteError", err)
		}
	})
	t.Run("claim dropped", func(t *testing.T) {
		t.Parallel()
		_, reg := open(t, ocitest.DropWrites(`^claim-pass-`))
		_, err := pass.Write(context.Background(), reg, nil, event(pass.Pass, 0), pass.Options{Pause: shortPause})
		if err == nil || !strings.Contains(err.Error(), "missing from the listing") {
			t.Fatalf("Write = %v, want the claim reported missing", err)
		}
	})
}

// A registry that never answers the record's write: Write ends within the request timeout and its
// retries, with an error naming the request, and reports nothing written.
func TestStalledWriteIsBounded(t *testing.T) {
	t.Parallel()
	plain := ocitest.New(t)
	srv := ocitest.New(t, ocitest.Backend(plain), ocitest.Stall(http.MethodPut, `/manifests/pass-`))
	reg, err := oci.Open(srv.Host+"/acme/app", oci.Options{RequestTimeout: 100 * time.Millisecond, Retry: oci.RetryPolicy{Attempts: 2, Base: 10 * time.Millisecond, Max: 20 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	w, err := pass.Write(context.Background(), reg, nil, event(pass.Pass, 0), pass.Options{})
	var te *oci.TimeoutError
	if !errors.As(err, &te) || w.Wrote {
		t.Fatalf("Write = %+v, %v; want a *oci.TimeoutError", w, err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("Write took %s", took)
	}
	if !strings.Contains(err.Error(), "pass-preprod-0123456789ab-1") {
		t.Errorf("error %q does not name the record", err)
	}
}
