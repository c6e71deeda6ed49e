package pipeline

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ocipromote/ocipromote/pkg/artifact"
	"github.com/ocipromote/ocipromote/pkg/claim"
	"github.com/ocipromote/ocipromote/pkg/hold"
	"github.com/ocipromote/ocipromote/pkg/oci"
	"github.com/ocipromote/ocipromote/pkg/promote"
	"github.com/ocipromote/ocipromote/pkg/version"
)

// rigged is a registry whose listings can be doctored: hide drops tags from a listing, and add
// appends tags to it, standing for a registry whose listing lags behind writes and for rivals
// that write at the worst moment.
type rigged struct {
	Registry
	mu   sync.Mutex
	hide func(call int, tag string) bool
	add  func(ctx context.Context, call int, list []string) []string
	call int
}

func (r *rigged) Tags(ctx context.Context) ([]string, error) {
	list, err := r.Registry.Tags(ctx)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.call++
	call := r.call
	r.mu.Unlock()
	if r.hide != nil {
		list = slices.DeleteFunc(list, func(t string) bool { return r.hide(call, t) })
	}
	if r.add != nil {
		list = r.add(ctx, call, list)
	}
	return list, nil
}

// Two builds of different commits against a registry whose listing lags one listing behind its
// writes: each waits until its own claim is listed before it looks for rivals, so they still get
// different numbers and nothing moves.
func TestBuildRCOnALaggingRegistry(t *testing.T) {
	t.Parallel()
	for round := range 10 {
		f := newFixture(t)
		var wg sync.WaitGroup
		results := make([]BuildResult, 2)
		for i := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var mu sync.Mutex
				var previous []string
				lag := &rigged{Registry: f.repo("acme/lag")}
				lag.add = func(_ context.Context, _ int, list []string) []string {
					mu.Lock()
					defer mu.Unlock()
					stale := previous
					previous = list
					if stale == nil {
						return list
					}
					return stale
				}
				in := buildIn(manifests(t, string(rune('a'+i))), sha(i))
				in.Pause = claim.JitteredPause
				var err error
				if results[i], err = BuildRC(context.Background(), lag, in); err != nil {
					t.Errorf("round %d: build %d: %v", round, i, err)
				}
			}()
		}
		wg.Wait()
		if moved := f.srv.Moved(); len(moved) != 0 {
			t.Fatalf("round %d: tags moved: %v", round, moved)
		}
		if results[0].Version == results[1].Version {
			t.Fatalf("round %d: both builds took %s", round, results[0].Version)
		}
	}
}

// A listing that never shows the claim just written stops the build before it writes anything
// else: without that listing, rivals could be missed.
func TestBuildRCStopsWhenItsClaimIsNeverListed(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	blind := &rigged{Registry: f.repo("acme/blind"), hide: func(_ int, t string) bool { _, ok := claim.Parse(t); return ok }}
	_, err := BuildRC(context.Background(), blind, buildIn(manifests(t, "a"), sha(1)))
	if !errors.Is(err, claim.ErrNotListed) {
		t.Fatalf("BuildRC = %v, want ErrNotListed", err)
	}
	wantOnlyClaims(t, f, "after its claim was never listed")
}

// A rival that claims every number right after us makes the build give up, bounded, with
// ErrContended, having written nothing but claims.
func TestBuildRCGivesUpWhenAlwaysContended(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	reg := f.repo("acme/contended")
	rival := &rigged{Registry: reg}
	rival.add = func(_ context.Context, _ int, list []string) []string {
		for _, c := range claim.In(list) {
			if c.Short == sha(1)[:7] {
				list = append(list, claim.Prefix+c.Version+"-"+sha(9)[:7]+"-eeeeeeeeeeee")
			}
		}
		return list
	}
	in := buildIn(manifests(t, "a"), sha(1))
	in.Attempts = 3
	_, err := BuildRC(context.Background(), rival, in)
	if !errors.Is(err, ErrContended) {
		t.Fatalf("BuildRC = %v, want ErrContended", err)
	}
	wantOnlyClaims(t, f, "while every number it claimed was contended")
}

// wantOnlyClaims fails for every tag other than a claim the registry was given.
func wantOnlyClaims(t *testing.T, f *fixture, when string) {
	t.Helper()
	for _, a := range f.srv.Assignments() {
		if _, ok := claim.Parse(a.Tag); !ok {
			t.Errorf("wrote %s %s", a.Tag, when)
		}
	}
}

// A release candidate someone wrote without claiming it, hidden from the first listing, is never
// moved: the build's read before writing finds it, and the build takes the next number.
func TestBuildRCTakesTheNextNumberWhenItsCandidateWasTaken(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	reg := f.repo("acme/taken")
	other := mustBuild(t, reg, buildIn(manifests(t, "other"), sha(9)))
	m, err := reg.Get(context.Background(), other.Digest)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Tag(context.Background(), "0.0.1-rc.2", m, oci.Write{}); err != nil {
		t.Fatal(err)
	}
	lag := &rigged{Registry: reg, hide: func(call int, t string) bool { return call <= 2 && t == "0.0.1-rc.2" }}
	res := mustBuild(t, lag, buildIn(manifests(t, "a"), sha(1)))
	if got, want := res.Version, "0.0.1-rc.3"; got != want {
		t.Errorf("version = %s, want %s", got, want)
	}
	if moved := f.srv.Moved(); len(moved) != 0 {
		t.Errorf("tags moved: %v", moved)
	}
}

// The same commit built twice at once with different inputs (here, from two branches): the
// claims name both artifacts, so the commit's tags are never moved: a build either stops with
// ErrConflictingBuild or, finding the commit already built, reports that one artifact.
func TestBuildRCSameCommitOtherContent(t *testing.T) {
	t.Parallel()
	conflicts := 0
	for round := range 10 {
		f := newFixture(t)
		dir := manifests(t, "a")
		var wg sync.WaitGroup
		errs := make([]error, 2)
		results := make([]BuildResult, 2)
		for i, ref := range []string{"main", "release-1.4"} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				in := buildIn(dir, sha(1))
				in.Ref = ref
				in.Pause = claim.JitteredPause
				results[i], errs[i] = BuildRC(context.Background(), f.repo("acme/twice"), in)
			}()
		}
		wg.Wait()
		if moved := f.srv.Moved(); len(moved) != 0 {
			t.Fatalf("round %d: tags moved: %v", round, moved)
		}
		var digests []string
		for i, err := range errs {
			switch {
			case err == nil:
				digests = append(digests, results[i].Digest)
			case errors.Is(err, ErrConflictingBuild):
				conflicts++
			default:
				t.Fatalf("round %d: %v", round, err)
			}
		}
		if len(digests) == 2 && digests[0] != digests[1] {
			t.Fatalf("round %d: one commit offered as two artifacts, %v", round, digests)
		}
	}
	t.Logf("%d of the 20 builds stopped with ErrConflictingBuild; the others found the commit built", conflicts)
}

// A re-run finds its own claim from a crashed run, but the claim's base was released meanwhile:
// resuming would offer a candidate below a stable version. It takes a fresh number of the new
// base, and the old claim stays unused.
func TestBuildRCDoesNotResumeAnOutdatedClaim(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	reg := f.repo("acme/outdated")
	ctx := context.Background()
	first := mustBuild(t, reg, buildIn(manifests(t, "a"), sha(1)))
	// Commit 2's run claimed 0.0.1-rc.2, then died.
	dir := manifests(t, "b")
	in := buildIn(dir, sha(2))
	layer, err := artifact.Pack(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	img, err := artifact.Image(layer, artifact.Metadata{Version: "0.0.1-rc.2", Source: in.Source, Revision: "main@sha1:" + sha(2), Created: in.Created})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Push(ctx, img, claimTag(t, img, "0.0.1-rc.2", sha(2))); err != nil {
		t.Fatal(err)
	}
	// Meanwhile 0.0.1 was released.
	mustPromote(t, reg, PromoteInput{Revision: revision(first)})

	res := mustBuild(t, reg, in)
	if got, want := res.Version, "0.0.2-rc.1"; got != want {
		t.Errorf("re-run took %s, want %s (not the outdated claim on 0.0.1-rc.2)", got, want)
	}
}

// BuildRC itself refuses a ref or source whose annotation would not read back, before writing
// anything, whoever calls it (the binary checks them too, with its flags' names).
func TestBuildRCRefusesAnnotationsThatWouldNotReadBack(t *testing.T) {
	t.Parallel()
	for name, edit := range map[string]func(*BuildInput){
		"ref with a newline": func(in *BuildInput) { in.Ref = "main\n::error::x" },
		"ref of 600 bytes":   func(in *BuildInput) { in.Ref = strings.Repeat("r", 600) },
		"source with a user": func(in *BuildInput) { in.Source = "https://user:token@github.com/acme/platform" },
		"short sha":          func(in *BuildInput) { in.Sha = sha(1)[:12] },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			in := buildIn(manifests(t, "a"), sha(1))
			edit(&in)
			if _, err := BuildRC(context.Background(), f.repo("acme/refused"), in); err == nil {
				t.Fatal("BuildRC accepted it")
			}
			if w := f.srv.Writes(); len(w) != 0 {
				t.Errorf("wrote %v", w)
			}
		})
	}
}

// holdOnClaim sets a hold (as a rollback does first) right after the promotion writes its claim
// on a stable version: the hold check made at the start of the run passed, but the listing that
// confirms the claim shows the hold.
type holdOnClaim struct {
	Registry
	t    *testing.T
	once sync.Once
}

func (h *holdOnClaim) Tag(ctx context.Context, tag string, m *oci.Manifest, w oci.Write) (bool, error) {
	wrote, err := h.Registry.Tag(ctx, tag, m, w)
	if c, ok := claim.Parse(tag); ok && c.Stable() {
		h.once.Do(func() {
			list, err := h.Registry.Tags(ctx)
			if err != nil {
				h.t.Error(err)
				return
			}
			rec := hold.Record{Reason: "rollback to 0.0.1", Actor: "oncall", Time: time.Date(2026, 8, 2, 9, 0, 0, 0, time.UTC)}
			if _, err := hold.Set(ctx, h.Registry, list, rec, hold.Options{}); err != nil {
				h.t.Error(err)
			}
		})
	}
	return wrote, err
}

func TestTagValidatedStopsWhenAHoldAppearsDuringItsClaim(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	reg := f.repo("acme/held-meanwhile")
	rc := mustBuild(t, reg, buildIn(manifests(t, "a"), sha(1)))
	res := mustPromote(t, &holdOnClaim{Registry: reg, t: t}, PromoteInput{Revision: revision(rc)})
	if res.Reason != promote.Held || res.Promoted {
		t.Fatalf("promotion = %+v, want held with nothing written", res)
	}
	for _, a := range f.srv.Assignments() {
		if a.Tag == "0.0.1" || a.Tag == "validated-"+rc.Short {
			t.Errorf("wrote %s although a hold was set before it could", a.Tag)
		}
	}
}

// rangedHoldOnClaim is holdOnClaim on a registry that lists by range: the confirmation lists
// rival claims and hold records only.
type rangedHoldOnClaim struct {
	*holdOnClaim
	reg *oci.Repository
}

func (r rangedHoldOnClaim) TagsWith(ctx context.Context, prefixes ...string) ([]string, error) {
	return r.reg.TagsWith(ctx, prefixes...)
}

// The same on a 300-tag repository paged by 100, where the claim is confirmed on a ranged listing:
// it shows the hold record, so the promotion stops as it does on a full listing.
func TestTagValidatedStopsWhenAHoldAppearsDuringItsRangedClaim(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	counter := &lastCounter{}
	reg, err := oci.Open(f.srv.Host+"/acme/held-meanwhile", oci.Options{Retry: oci.RetryPolicy{Attempts: 1}, Transport: counter})
	if err != nil {
		t.Fatal(err)
	}
	seedHistory(t, reg, 300)
	rc := mustBuild(t, reg, buildIn(manifests(t, "a"), sha(1)))
	before := counter.n.Load()
	res := mustPromote(t, rangedHoldOnClaim{&holdOnClaim{Registry: reg, t: t}, reg}, PromoteInput{Revision: revision(rc)})
	if res.Reason != promote.Held || res.Promoted {
		t.Fatalf("promotion = %+v, want held with nothing written", res)
	}
	if counter.n.Load() == before {
		t.Error("the claim was not confirmed on a ranged listing")
	}
	for _, a := range f.srv.Assignments() {
		v, isVersion := version.Parse(a.Tag)
		if a.Digest == rc.Digest && (a.Tag == "validated-"+rc.Short || isVersion && version.IsStable(v)) {
			t.Errorf("wrote %s although a hold was set before it could", a.Tag)
		}
	}
}
