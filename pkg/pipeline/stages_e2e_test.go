package pipeline

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ocipromote/ocipromote/pkg/event"
	"github.com/ocipromote/ocipromote/pkg/hold"
	"github.com/ocipromote/ocipromote/pkg/oci/ocitest"
	"github.com/ocipromote/ocipromote/pkg/pass"
	"github.com/ocipromote/ocipromote/pkg/promote"
	"github.com/ocipromote/ocipromote/pkg/stage"
)

// threeStages is the chain of the tests below, with a soak in preprod and office hours for prod.
func threeStages(t *testing.T) StagePromotion {
	t.Helper()
	chain := mustChain(t, "dev,preprod,prod")
	windows, err := stage.ParseWindows(chain, []string{"prod=Mon-Fri 09:00-17:00 UTC"})
	if err != nil {
		t.Fatal(err)
	}
	soaks, err := stage.ParseSoak(chain, []string{"preprod=2h"})
	if err != nil {
		t.Fatal(err)
	}
	return StagePromotion{Chain: chain, Windows: windows, Soaks: soaks}
}

// selects checks what each stage's Flux selection picks in reg.
func selects(t *testing.T, reg Registry, chain stage.Chain, want map[string]string) {
	t.Helper()
	list, err := reg.Tags(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range chain.Names() {
		got, err := chain.Select(list, s)
		if err != nil {
			t.Fatal(err)
		}
		if got != want[s] {
			t.Errorf("stage %s selects %q, want %q", s, got, want[s])
		}
	}
}

// A candidate goes through dev, preprod and prod: each stage's event records its pass and names
// the next stage, and tag-validated writes that stage's tag once its gates let it: the soak in
// preprod defers prod, then prod's window; a stage is never skipped without force.
func TestThreeStagesEndToEnd(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	reg := f.repo("acme/three")
	p := threeStages(t)
	chain := p.Chain
	in := buildIn(manifests(t, "a"), sha(1))
	in.Stages = chain
	rc1 := mustBuild(t, reg, in)
	selects(t, reg, chain, map[string]string{"dev": "0.0.1-rc.1"})

	monday := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC) // a Monday
	promoteAt := func(to string, now time.Time, force bool) (PromoteResult, error) {
		q := p
		q.To, q.Now, q.Force = to, now, force
		return TagValidated(ctx, reg, PromoteInput{Revision: revision(rc1), Stages: q, Pause: noPause})
	}
	record := func(d event.Decision) event.Decision {
		t.Helper()
		res, err := RecordEvent(ctx, reg, EventInput{Decision: d, Chain: chain, Pause: noPause})
		if err != nil {
			t.Fatal(err)
		}
		return res.Decision
	}

	// Before dev proved it, nothing goes to preprod.
	res, err := promoteAt("preprod", monday, false)
	if err != nil || res.Reason != promote.Deferred || res.Gate != stage.GateUnproven || !res.Until.IsZero() || res.From != "dev" {
		t.Fatalf("preprod before dev's pass = %+v, %v; want deferred, unproven, from dev", res, err)
	}
	// Nor does it skip preprod.
	if _, err := promoteAt("prod", monday, false); !errors.Is(err, ErrInvalidCandidate) || !strings.Contains(err.Error(), "never skips a stage") {
		t.Fatalf("prod from dev = %v, want a refusal to skip preprod", err)
	}

	// An event from preprod about a tag not written yet (out of order, or forged) proves nothing.
	if early := record(eventFrom(chain, "preprod", "0.0.1-preprod.1@"+rc1.Digest, false, monday.Format(time.RFC3339))); early.Promote || !strings.Contains(early.Reason, "is not in the repository") {
		t.Errorf("preprod event before preprod has the candidate = %+v, want ignored", early)
	}
	d := record(eventFrom(chain, "dev", revision(rc1), false, monday.Format(time.RFC3339)))
	if !d.Promote || d.Stage != "dev" || d.Next != "preprod" {
		t.Fatalf("dev event = %+v, want a promotion from dev to preprod", d)
	}
	res, err = promoteAt(d.Next, monday.Add(time.Minute), false)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Promoted || res.Version != "0.0.1-preprod.1" || res.From != "dev" || res.To != "preprod" || res.Forced || !slices.Equal(res.Writes, []string{"0.0.1-preprod.1", "preprod-" + rc1.Short}) {
		t.Fatalf("preprod = %+v, want 0.0.1-preprod.1 and its marker written, from dev", res)
	}
	selects(t, reg, chain, map[string]string{"dev": "0.0.1-rc.1", "preprod": "0.0.1-preprod.1"})
	// A replay writes nothing.
	if again, err := promoteAt("preprod", monday.Add(2*time.Minute), false); err != nil || again.Promoted || again.Reason != promote.AlreadyPromoted {
		t.Errorf("preprod replay = %+v, %v; want already-promoted", again, err)
	}

	// preprod has a soak: without a pass there, prod waits for one, with no time.
	res, err = promoteAt("prod", monday.Add(time.Minute), false)
	if err != nil || res.Reason != promote.Deferred || res.Gate != stage.GateSoak || !res.Until.IsZero() || res.From != "preprod" {
		t.Fatalf("prod before preprod's pass = %+v, %v; want deferred by the soak, from preprod", res, err)
	}
	// An event from preprod about dev's tag is no evidence about preprod.
	if wrong := record(eventFrom(chain, "dev", "0.0.1-preprod.1@"+rc1.Digest, false, monday.Format(time.RFC3339))); wrong.Promote {
		t.Errorf("dev reporting preprod's tag promoted: %+v", wrong)
	}
	d = record(eventFrom(chain, "preprod", "0.0.1-preprod.1@"+rc1.Digest, false, monday.Add(time.Hour).Format(time.RFC3339)))
	if !d.Promote || d.Next != "prod" {
		t.Fatalf("preprod event = %+v, want a promotion to prod", d)
	}

	// A failure during the soak cancels the pass: prod waits for a new one, with no time.
	failed := record(eventFrom(chain, "preprod", "0.0.1-preprod.1@"+rc1.Digest, true, monday.Add(90*time.Minute).Format(time.RFC3339)))
	if failed.Promote || failed.Failed == "" {
		t.Fatalf("preprod failure = %+v", failed)
	}
	res, err = promoteAt("prod", monday.Add(100*time.Minute), false)
	if err != nil || res.Reason != promote.Deferred || res.Gate != stage.GateSoak || !res.Until.IsZero() {
		t.Fatalf("prod after a failure in the soak = %+v, %v; want deferred by the soak with no time", res, err)
	}
	// The soak counts from the next pass.
	record(eventFrom(chain, "preprod", "0.0.1-preprod.1@"+rc1.Digest, false, monday.Add(2*time.Hour).Format(time.RFC3339)))

	before := tagsAt(t, reg)
	soakEnds := monday.Add(4 * time.Hour)
	res, err = promoteAt("prod", monday.Add(3*time.Hour), false)
	if err != nil || res.Reason != promote.Deferred || res.Gate != stage.GateSoak || !res.Until.Equal(soakEnds) || res.Promoted {
		t.Fatalf("prod during the soak = %+v, %v; want deferred by the soak until %s", res, err, soakEnds)
	}
	// After the soak, outside prod's window: deferred until it opens on Tuesday.
	tuesday := time.Date(2026, 12, 8, 9, 0, 0, 0, time.UTC)
	res, err = promoteAt("prod", monday.Add(8*time.Hour), false)
	if err != nil || res.Reason != promote.Deferred || res.Gate != stage.GateWindow || !res.Until.Equal(tuesday) {
		t.Fatalf("prod out of hours = %+v, %v; want deferred by the window until %s", res, err, tuesday)
	}
	if after := tagsAt(t, reg); !maps.Equal(before, after) {
		t.Errorf("deferrals wrote tags: before %v, after %v", before, after)
	}

	res, err = promoteAt("prod", tuesday.Add(30*time.Minute), false)
	if err != nil || !res.Promoted || res.Version != "0.0.1" || res.From != "preprod" || res.To != "prod" {
		t.Fatalf("prod in the window = %+v, %v; want 0.0.1 promoted from preprod", res, err)
	}
	at := tagsAt(t, reg)
	if at["0.0.1"] != rc1.Digest || at["validated-"+rc1.Short] != rc1.Digest {
		t.Errorf("prod tags: 0.0.1 -> %s, validated -> %s; want %s", at["0.0.1"], at["validated-"+rc1.Short], rc1.Digest)
	}
	selects(t, reg, chain, map[string]string{"dev": "0.0.1-rc.1", "preprod": "0.0.1-preprod.1", "prod": "0.0.1"})

	// An event from the last stage promotes nothing.
	if last := record(eventFrom(chain, "prod", "0.0.1@"+rc1.Digest, false, tuesday.Format(time.RFC3339))); last.Promote || last.Next != "" {
		t.Errorf("prod event = %+v, want no promotion", last)
	}
}

// A hold on the middle stage defers promotions into it, forced or not; the evidence stays, and
// the candidate goes once the hold is released.
func TestThreeStagesHoldOnTheMiddleStage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	reg := newFixture(t).repo("acme/three-hold")
	p := threeStages(t)
	in := buildIn(manifests(t, "a"), sha(1))
	in.Stages = p.Chain
	rc1 := mustBuild(t, reg, in)
	list, err := reg.Tags(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := hold.Stage("preprod").Set(ctx, reg, list, hold.Record{Reason: "change freeze", Actor: "alice", Time: time.Now()}, hold.Options{Pause: noPause}); err != nil {
		t.Fatal(err)
	}
	ev, err := RecordEvent(ctx, reg, EventInput{Decision: eventFrom(p.Chain, "dev", revision(rc1), false, "2026-12-07T10:00:00Z"), Chain: p.Chain, Pause: noPause})
	if err != nil || ev.Decision.Promote || !strings.HasPrefix(ev.Decision.Reason, "held: preprod is held") {
		t.Fatalf("dev event while preprod is held = %+v, %v", ev.Decision, err)
	}
	p.To, p.Now = "preprod", time.Date(2026, 12, 7, 10, 5, 0, 0, time.UTC)
	for _, force := range []bool{false, true} {
		p.Force = force
		res, err := TagValidated(ctx, reg, PromoteInput{Revision: revision(rc1), Stages: p, Pause: noPause})
		if err != nil || res.Promoted || res.Reason != promote.Held || res.Gate != stage.GateHeld || res.To != "preprod" {
			t.Fatalf("into held preprod (force %t) = %+v, %v; want held", force, res, err)
		}
	}
	// Released, the pass recorded while held is enough.
	if list, err = reg.Tags(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := hold.Stage("preprod").Release(ctx, reg, list, hold.Record{Reason: "freeze over", Actor: "alice", Time: time.Now()}, hold.Options{Pause: noPause}); err != nil {
		t.Fatal(err)
	}
	p.Force = false
	res, err := TagValidated(ctx, reg, PromoteInput{Revision: revision(rc1), Stages: p, Pause: noPause})
	if err != nil || !res.Promoted || res.Version != "0.0.1-preprod.1" {
		t.Fatalf("into preprod after the release = %+v, %v; want promoted on the pass recorded while held", res, err)
	}
}

// A forced promotion goes over a stage and through the gates, never through a hold, and says so.
func TestThreeStagesForce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	reg := newFixture(t).repo("acme/three-force")
	p := threeStages(t)
	in := buildIn(manifests(t, "a"), sha(1))
	in.Stages = p.Chain
	rc1 := mustBuild(t, reg, in)
	p.To, p.Force, p.Now = "prod", true, time.Date(2026, 12, 5, 23, 0, 0, 0, time.UTC) // a Saturday night
	res, err := TagValidated(ctx, reg, PromoteInput{Revision: revision(rc1), Stages: p, Pause: noPause})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Promoted || res.Version != "0.0.1" || !res.Forced || !slices.Equal(res.Skipped, []string{"preprod"}) || res.From != "dev" ||
		!slices.Equal(res.Overridden, []string{stage.GateUnproven, stage.GateWindow}) || !strings.Contains(res.Detail, "forced through unproven, window and over preprod") {
		t.Fatalf("forced = %+v; want 0.0.1 forced over preprod through unproven and window", res)
	}
}

// The default chain keeps today's answers: integration to live, on the event alone.
func TestDefaultChainOutcome(t *testing.T) {
	t.Parallel()
	reg := newFixture(t).repo("acme/default-chain")
	rc1 := mustBuild(t, reg, buildIn(manifests(t, "a"), sha(1)))
	res := mustPromote(t, reg, PromoteInput{Revision: revision(rc1)})
	if !res.Promoted || res.Version != "0.0.1" || res.From != "integration" || res.To != "live" || res.Forced || res.Gate != "" {
		t.Errorf("default chain = %+v, want 0.0.1 from integration to live, no gate", res)
	}
}

// tag-validated into an intermediate stage converges whatever request a crash interrupts.
func TestCrashPromoteIntoIntermediateStage(t *testing.T) {
	t.Parallel()
	p := threeStages(t)
	p.To, p.Now = "preprod", time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	var rc BuildResult
	setup := func(t *testing.T, reg Registry) error {
		in := buildIn(manifests(t, "a"), sha(1))
		in.Stages = p.Chain
		rc = mustBuild(t, reg, in)
		_, err := RecordEvent(context.Background(), reg, EventInput{Decision: eventFrom(p.Chain, "dev", revision(rc), false, "2026-12-07T09:00:00Z"), Chain: p.Chain, Pause: noPause})
		return err
	}
	step := func(t *testing.T, reg Registry) error {
		_, err := TagValidated(context.Background(), reg, PromoteInput{Revision: revision(rc), Stages: p, Pause: noPause})
		return err
	}
	crashAtEveryStep(t, "promote into preprod", setup, step, nil)
}

// Recording a stage's evidence converges whatever request a crash interrupts: after a crash, a
// crashed re-run and a re-run, the candidate has exactly one record of the event, and no tag
// moved. A crash after a record number was claimed leaves that claim, so the record may take the
// next number (package pass): the tags need not equal a clean run's, the evidence must.
func TestCrashRecordEvent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	chain := mustChain(t, "dev,preprod,prod")
	setup := func(t *testing.T, reg Registry) BuildResult {
		in := buildIn(manifests(t, "a"), sha(1))
		in.Stages = chain
		return mustBuild(t, reg, in)
	}
	step := func(reg Registry, rc BuildResult) error {
		_, err := RecordEvent(ctx, reg, EventInput{Decision: eventFrom(chain, "dev", revision(rc), false, "2026-12-07T09:00:00Z"), Chain: chain, Pause: noPause})
		return err
	}
	clean := newFixture(t)
	rc := setup(t, clean.repo("acme/crash"))
	before := len(clean.srv.Requests())
	if err := step(clean.repo("acme/crash"), rc); err != nil {
		t.Fatal(err)
	}
	requests := len(clean.srv.Requests()) - before
	converged, moved := 0, 0
	for k := 1; k <= requests; k++ {
		fr := &ocitest.Freezer{}
		f := newFixture(t, ocitest.Faults(fr.Fault))
		rc := setup(t, f.repo("acme/crash"))
		for range 2 {
			fr.FreezeAfter(len(f.srv.Requests()) + k)
			_ = step(f.repo("acme/crash"), rc) // killed mid-step: any outcome
			fr.Thaw()
		}
		if err := step(f.repo("acme/crash"), rc); err != nil {
			t.Errorf("crash after request %d of %d: re-run failed: %v", k, requests, err)
			continue
		}
		if m := f.srv.Moved(); len(m) != 0 {
			moved += len(m)
			t.Errorf("crash after request %d: tags moved: %v", k, m)
		}
		reg := f.repo("acme/crash")
		list, err := reg.Tags(ctx)
		if err != nil {
			t.Fatal(err)
		}
		records, err := pass.History(ctx, reg, list, "dev", rc.Digest)
		if err != nil {
			t.Fatal(err)
		}
		if len(records) != 1 || records[0].Kind != pass.Pass || records[0].Revision != revision(rc) {
			t.Errorf("crash after request %d of %d: records %+v, want the one pass", k, requests, records)
			continue
		}
		converged++
	}
	t.Logf("reliability: recording a pass killed after each request, then re-run | crash points tried %d, converged to one record %d, tags moved %d", requests, converged, moved)
}

// Every rule applies in every stage: an older candidate whose dev event arrives after a newer one
// entered preprod is superseded there, and the newer one waits for prod's window, then goes.
func TestThreeStagesWindowOpensOnANewerCandidate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	reg := newFixture(t).repo("acme/three-newer")
	p := threeStages(t)
	chain := p.Chain
	monday := time.Date(2026, 12, 7, 6, 0, 0, 0, time.UTC) // before prod's window
	var rcs []BuildResult
	for n, content := range []string{"a", "b"} {
		in := buildIn(manifests(t, content), sha(n+1))
		in.Stages = chain
		rcs = append(rcs, mustBuild(t, reg, in))
	}
	promoteAt := func(rc BuildResult, to string, now time.Time) PromoteResult {
		t.Helper()
		q := p
		q.To, q.Now = to, now
		res, err := TagValidated(ctx, reg, PromoteInput{Revision: revision(rc), Stages: q, Pause: noPause})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	pass := func(rc BuildResult, s, tag string, at time.Time) {
		t.Helper()
		if _, err := RecordEvent(ctx, reg, EventInput{Decision: eventFrom(chain, s, tag+"@"+rc.Digest, false, at.Format(time.RFC3339)), Chain: chain, Pause: noPause}); err != nil {
			t.Fatal(err)
		}
	}
	// The newer candidate goes through dev and preprod first.
	pass(rcs[1], "dev", rcs[1].Version, monday)
	if res := promoteAt(rcs[1], "preprod", monday); !res.Promoted || res.Version != "0.0.1-preprod.2" {
		t.Fatalf("newer into preprod = %+v", res)
	}
	// The older one's dev event arrives late: preprod already runs a newer candidate.
	pass(rcs[0], "dev", rcs[0].Version, monday)
	if res := promoteAt(rcs[0], "preprod", monday); res.Promoted || res.Reason != promote.Superseded {
		t.Fatalf("older into preprod after the newer = %+v, want superseded", res)
	}
	pass(rcs[1], "preprod", "0.0.1-preprod.2", monday)
	if res := promoteAt(rcs[1], "prod", monday.Add(2*time.Hour)); res.Reason != promote.Deferred || res.Gate != stage.GateWindow {
		t.Fatalf("newer into prod before the window = %+v, want deferred by the window", res)
	}
	if res := promoteAt(rcs[1], "prod", monday.Add(3*time.Hour)); !res.Promoted || res.Version != "0.0.1" {
		t.Fatalf("newer into prod in the window = %+v, want 0.0.1", res)
	}
	selects(t, reg, chain, map[string]string{"dev": "0.0.1-rc.2", "preprod": "0.0.1-preprod.2", "prod": "0.0.1"})
}
