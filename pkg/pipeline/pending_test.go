package pipeline

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ocipromote/ocipromote/pkg/hold"
	"github.com/ocipromote/ocipromote/pkg/promote"
	"github.com/ocipromote/ocipromote/pkg/stage"
)

// weighed is what PromotePending weighed, as its output lists it.
func weighed(res PendingResult) []string {
	var out []string
	for _, w := range res.Weighed {
		out = append(out, w.String())
	}
	return out
}

// A scheduled run promotes what the gates deferred once they let it: newest first, every rule
// applied again. A newer candidate arrives in preprod while an older one waits for prod's
// window; when the window opens the newer one goes to prod, and the older is superseded there.
func TestPromotePendingWindowOpensOnANewerCandidate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	reg := newFixture(t).repo("acme/pending")
	p := threeStages(t) // preprod soaks 2h, prod's window is Mon-Fri 09:00-17:00 UTC
	chain := p.Chain
	monday := time.Date(2026, 12, 7, 6, 0, 0, 0, time.UTC)
	var rcs []BuildResult
	for n, content := range []string{"a", "b"} {
		in := buildIn(manifests(t, content), sha(n+1))
		in.Stages = chain
		rcs = append(rcs, mustBuild(t, reg, in))
	}
	pending := func(to string, now time.Time) PendingResult {
		t.Helper()
		q := p
		q.To, q.Now = to, now
		res, err := PromotePending(ctx, reg, PromoteInput{Stages: q, Pause: noPause})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	passed := func(rc BuildResult, s, tag string, at time.Time) {
		t.Helper()
		if _, err := RecordEvent(ctx, reg, EventInput{Decision: eventFrom(chain, s, tag+"@"+rc.Digest, false, at.Format(time.RFC3339)), Chain: chain, Pause: noPause}); err != nil {
			t.Fatal(err)
		}
	}
	check := func(what string, res PendingResult, want []string, reason string, promoted bool) {
		t.Helper()
		if got := weighed(res); !slices.Equal(got, want) || res.Reason != reason || res.Promoted != promoted {
			t.Fatalf("%s: weighed %q, reason %s, promoted %v; want %q, %s, %v (%+v)", what, got, res.Reason, res.Promoted, want, reason, promoted, res.PromoteResult)
		}
	}

	// Nothing has passed dev: both wait, the newest is reported.
	res := pending("preprod", monday)
	check("preprod before any pass", res, []string{"0.0.1-rc.2:unproven", "0.0.1-rc.1:unproven"}, promote.Deferred, false)
	if res.RC != "0.0.1-rc.2" || res.Gate != stage.GateUnproven {
		t.Errorf("preprod before any pass reports %s deferred by %s, want 0.0.1-rc.2 by unproven", res.RC, res.Gate)
	}
	// The older one passes dev: the newer still waits, the older goes.
	passed(rcs[0], "dev", rcs[0].Version, monday)
	res = pending("preprod", monday)
	check("preprod after the older's pass", res, []string{"0.0.1-rc.2:unproven", "0.0.1-rc.1:promoted"}, promote.Promoted, true)
	if res.Version != "0.0.1-preprod.1" || res.RC != "0.0.1-rc.1" {
		t.Errorf("preprod promoted %s as %s, want 0.0.1-rc.1 as 0.0.1-preprod.1", res.RC, res.Version)
	}
	// It soaks in preprod; prod waits for the soak, then for the window.
	passed(rcs[0], "preprod", "0.0.1-preprod.1", monday.Add(10*time.Minute))
	res = pending("prod", monday.Add(time.Hour))
	check("prod during the soak", res, []string{"0.0.1-preprod.1:soak"}, promote.Deferred, false)
	if want := monday.Add(3 * time.Hour); !res.Until.Equal(want) {
		t.Errorf("prod during the soak until %v, want %v (the soak ends at 08:10, the window opens at 09:00)", res.Until, want)
	}
	// The newer candidate passes dev and goes to preprod meanwhile; the older is already there.
	passed(rcs[1], "dev", rcs[1].Version, monday.Add(time.Hour))
	res = pending("preprod", monday.Add(time.Hour))
	check("preprod for the newer", res, []string{"0.0.1-rc.2:promoted"}, promote.Promoted, true)
	passed(rcs[1], "preprod", "0.0.1-preprod.2", monday.Add(65*time.Minute))
	// Before the window both wait: the newer soaks, the older waits for the window, which holds
	// every candidate, so nothing more is weighed.
	res = pending("prod", monday.Add(150*time.Minute))
	check("prod before the window", res, []string{"0.0.1-preprod.2:soak", "0.0.1-preprod.1:window"}, promote.Deferred, false)
	nothing := tagsAt(t, reg)

	// The window is open and both have soaked: the newer goes, once.
	res = pending("prod", monday.Add(3*time.Hour+10*time.Minute))
	check("prod in the window", res, []string{"0.0.1-preprod.2:promoted"}, promote.Promoted, true)
	if e := res.Evidence; e == nil || e.Stage != "preprod" || e.Cluster != "preprod" || e.Digest != rcs[1].Digest || e.Kind != "pass" {
		t.Errorf("prod in the window rests on %+v, want preprod's pass of the newer", e)
	}
	if res.Version != "0.0.1" || res.Digest != rcs[1].Digest || res.From != "preprod" || res.To != "prod" {
		t.Errorf("prod in the window = %+v, want the newer as 0.0.1 from preprod", res.PromoteResult)
	}
	if got := tagsAt(t, reg); len(got) <= len(nothing) {
		t.Errorf("prod in the window wrote nothing")
	}
	selects(t, reg, chain, map[string]string{"dev": "0.0.1-rc.2", "preprod": "0.0.1-preprod.2", "prod": "0.0.1"})
	// The next run finds the newest in prod and weighs no older one of its line.
	before := tagsAt(t, reg)
	res = pending("prod", monday.Add(4*time.Hour))
	check("prod again", res, []string{"0.0.1-preprod.2:already-promoted"}, promote.AlreadyPromoted, false)
	if !equalMaps(before, tagsAt(t, reg)) {
		t.Errorf("a run with nothing pending wrote tags")
	}
	// The older one is superseded in prod.
	q := p
	q.To, q.Now = "prod", monday.Add(4*time.Hour)
	if older, err := TagValidated(ctx, reg, PromoteInput{Digest: rcs[0].Digest, Stages: q, Pause: noPause}); err != nil || older.Reason != promote.Superseded {
		t.Errorf("the older into prod = %+v, %v; want superseded", older, err)
	}
	if res := pending("preprod", monday.Add(4*time.Hour)); res.Reason != promote.NothingPending || len(res.Weighed) != 0 || res.To != "preprod" {
		t.Errorf("preprod with every candidate in it = %+v, want nothing pending", res)
	}
}

// A hold on the target stage stops the run at the first candidate; the default chain has no
// recorded evidence to weigh, so it is refused.
func TestPromotePendingHeldAndDefault(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	reg := newFixture(t).repo("acme/pending-held")
	p := threeStages(t)
	for n, content := range []string{"a", "b"} {
		passedDev(t, reg, p, content, n+1)
	}
	list, err := reg.Tags(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := hold.Stage("preprod").Set(ctx, reg, list, hold.Record{Reason: "change freeze", Actor: "alice", Time: time.Now()}, hold.Options{Pause: noPause}); err != nil {
		t.Fatal(err)
	}
	q := p
	q.To, q.Now = "preprod", time.Date(2026, 12, 7, 11, 0, 0, 0, time.UTC)
	res, err := PromotePending(ctx, reg, PromoteInput{Stages: q, Pause: noPause})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := weighed(res), []string{"0.0.1-rc.2:held"}; !slices.Equal(got, want) || res.Reason != promote.Held || res.Promoted {
		t.Errorf("held preprod: weighed %q, %+v; want %q and held", got, res.PromoteResult, want)
	}
	if _, err := PromotePending(ctx, reg, PromoteInput{Pause: noPause}); !errors.Is(err, ErrInvalidCandidate) {
		t.Errorf("pending on the default chain = %v, want a refusal", err)
	}
}

// A release candidate of another chain (built before the stages were named, so never offered to
// dev) is refused and skipped: the candidates of the chain are weighed on.
func TestPromotePendingSkipsRefusedCandidates(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	reg := newFixture(t).repo("acme/pending-refused")
	p := threeStages(t)
	old := mustBuild(t, reg, buildIn(manifests(t, "a"), sha(1))) // the default chain: integration-<s>
	rc := passedDev(t, reg, p, "b", 2)
	if old.Version != "0.0.1-rc.1" || rc.Version != "0.0.1-rc.2" {
		t.Fatalf("built %s and %s, want 0.0.1-rc.1 and 0.0.1-rc.2", old.Version, rc.Version)
	}
	q := p
	q.To, q.Now = "preprod", time.Date(2026, 12, 7, 11, 0, 0, 0, time.UTC)
	// Newest first, rc.2 is promoted; rc.1 is never weighed: it is superseded in preprod by name.
	res, err := PromotePending(ctx, reg, PromoteInput{Stages: q, Pause: noPause})
	if err != nil || !slices.Equal(weighed(res), []string{"0.0.1-rc.2:promoted"}) {
		t.Fatalf("pending into preprod = %q, %v; want rc.2 promoted", weighed(res), err)
	}
	// A newer build of the default chain is weighed first, refused and skipped.
	next := passedDev(t, reg, p, "c", 3)
	foreign := mustBuild(t, reg, buildIn(manifests(t, "d"), sha(4)))
	res, err = PromotePending(ctx, reg, PromoteInput{Stages: q, Pause: noPause})
	want := []string{foreign.Version + ":refused", next.Version + ":promoted"}
	if err != nil || !slices.Equal(weighed(res), want) || res.Version != "0.0.1-preprod.3" || !res.Promoted {
		t.Fatalf("pending with a newer foreign candidate = %q (%s), %v; want %q", weighed(res), res.Version, err, want)
	}
	// A refused signature is no candidate to skip: it stops the run, as it stops a named one.
	passedDev(t, reg, p, "e", 5)
	before := tagsAt(t, reg)
	refuse := func(context.Context, string, map[string]string) error { return errors.New("no signature") }
	if _, err := PromotePending(ctx, reg, PromoteInput{Stages: q, Pause: noPause, Verify: refuse}); !errors.Is(err, ErrInvalidCandidate) || !strings.Contains(err.Error(), "no signature") {
		t.Errorf("pending with an unsigned candidate = %v, want the refusal", err)
	}
	if !equalMaps(before, tagsAt(t, reg)) {
		t.Errorf("an unsigned candidate was promoted")
	}
}

// A scheduled pending run killed after any of its requests, then run again, leaves the tags a
// clean run leaves: the promotion it makes is TagValidated's, whose writes converge.
func TestPromotePendingConvergesAfterACrashAtEveryRequest(t *testing.T) {
	t.Parallel()
	p := threeStages(t)
	dirA, dirB := manifests(t, "a"), manifests(t, "b")
	monday := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC) // in prod's window
	to := func(stage string) PromoteInput {
		q := p
		q.To, q.Now = stage, monday
		return PromoteInput{Stages: q, Pause: noPause}
	}
	crashAtEveryStep(t, "tag-validated --pending into prod",
		func(t *testing.T, reg Registry) error {
			ctx := context.Background()
			for n, dir := range []string{dirA, dirB} {
				in := buildIn(dir, sha(n+1))
				in.Stages = p.Chain
				rc, err := BuildRC(ctx, reg, in)
				if err != nil {
					return err
				}
				if _, err := RecordEvent(ctx, reg, EventInput{Decision: eventFrom(p.Chain, "dev", revision(rc), false, "2026-12-07T06:00:00Z"), Chain: p.Chain, Pause: noPause}); err != nil {
					return err
				}
				if _, err := PromotePending(ctx, reg, to("preprod")); err != nil {
					return err
				}
				tag, err := p.Chain.In(rc.Version, "preprod")
				if err != nil {
					return err
				}
				if _, err := RecordEvent(ctx, reg, EventInput{Decision: eventFrom(p.Chain, "preprod", tag+"@"+rc.Digest, false, "2026-12-07T07:00:00Z"), Chain: p.Chain, Pause: noPause}); err != nil {
					return err
				}
			}
			return nil
		},
		func(t *testing.T, reg Registry) error {
			_, err := PromotePending(context.Background(), reg, to("prod"))
			return err
		}, nil)
}

// passedDev builds commit n of content in p's chain and records dev's pass of it, as dev's
// healthy event does: a candidate pending for preprod.
func passedDev(t *testing.T, reg Registry, p StagePromotion, content string, n int) BuildResult {
	t.Helper()
	in := buildIn(manifests(t, content), sha(n))
	in.Stages = p.Chain
	rc := mustBuild(t, reg, in)
	if _, err := RecordEvent(context.Background(), reg, EventInput{Decision: eventFrom(p.Chain, "dev", revision(rc), false, "2026-12-07T10:00:00Z"), Chain: p.Chain, Pause: noPause}); err != nil {
		t.Fatal(err)
	}
	return rc
}
