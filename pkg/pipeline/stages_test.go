package pipeline

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ocipromote/ocipromote/pkg/event"
	"github.com/ocipromote/ocipromote/pkg/hold"
	"github.com/ocipromote/ocipromote/pkg/pass"
	"github.com/ocipromote/ocipromote/pkg/ref"
	"github.com/ocipromote/ocipromote/pkg/stage"
)

func mustChain(t *testing.T, s string) stage.Chain {
	t.Helper()
	c, err := stage.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// A build in a chain other than the default is offered to its first stage: the same candidate
// tag X.Y.Z-rc.N and sha-<s>, and the first stage's marker instead of integration-<s>.
func TestBuildRCOffersTheFirstStage(t *testing.T) {
	t.Parallel()
	reg := newFixture(t).repo("acme/stages-build")
	in := buildIn(manifests(t, "a"), sha(1))
	in.Stages = mustChain(t, "dev,preprod,prod")
	res := mustBuild(t, reg, in)
	short := sha(1)[:7]
	at := tagsAt(t, reg)
	for _, tag := range []string{"0.0.1-rc.1", "sha-" + short, "dev-" + short} {
		if got, want := at[tag], res.Digest; got != want {
			t.Errorf("%s -> %q, want %s", tag, got, want)
		}
	}
	if _, ok := at["integration-"+short]; ok {
		t.Errorf("integration-%s was written in a chain without integration", short)
	}
	if got, want := len(at), 4; got != want { // the three above and the claim
		t.Errorf("%d tags %v, want %d", len(at), at, want)
	}
	rerun := mustBuild(t, reg, in)
	if rerun.Pushed || rerun.Digest != res.Digest {
		t.Errorf("re-run = %+v, want the first build with pushed=false", rerun)
	}
}

var noPause = func(context.Context, int) error { return nil }

// eventFrom is dispatch-receiver's decision about a healthy event from stage s of chain (or a
// failure event, with failed) reporting revision.
func eventFrom(chain stage.Chain, s, revision string, failed bool, at string) event.Decision {
	d := event.Decision{Stage: s, Cluster: s, Message: "Health check passed", Time: at}
	if failed {
		d.Failed, d.Message = revision, "Health check failed"
		return d
	}
	rev, _ := ref.ParseRevision(revision)
	d.Promote, d.Revision, d.Digest, d.Version = true, revision, rev.Digest, rev.Tag
	d.Next, _ = chain.Next(s)
	return d
}

func TestRecordEvent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	chain := mustChain(t, "dev,preprod,prod")
	reg := newFixture(t).repo("acme/stages-events")
	in := buildIn(manifests(t, "a"), sha(1))
	in.Stages = chain
	built := mustBuild(t, reg, in)
	other := buildIn(manifests(t, "b"), sha(2))
	other.Stages = chain
	newer := mustBuild(t, reg, other)
	record := func(d event.Decision) EventResult {
		t.Helper()
		res, err := RecordEvent(ctx, reg, EventInput{Decision: d, Chain: chain, Actor: "flux", Pause: noPause})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	evidence := func() pass.Evidence {
		t.Helper()
		list, err := reg.Tags(ctx)
		if err != nil {
			t.Fatal(err)
		}
		ev, err := pass.Read(ctx, reg, list, "dev", built.Digest)
		if err != nil {
			t.Fatal(err)
		}
		return ev
	}

	// A revision whose tag is another artifact's is not what the stage ran: nothing recorded.
	forged := record(eventFrom(chain, "dev", built.Version+"@"+newer.Digest, false, "2026-12-02T10:00:00Z"))
	if forged.Decision.Promote || forged.Written != nil || !strings.Contains(forged.Decision.Reason, "did not run the artifact") {
		t.Fatalf("forged revision: %+v", forged.Decision)
	}
	if got := len(evidence().Records); got != 0 {
		t.Fatalf("forged revision recorded %d records", got)
	}

	healthy := eventFrom(chain, "dev", built.Version+"@"+built.Digest, false, "2026-12-02T10:00:00Z")
	res := record(healthy)
	if !res.Decision.Promote || res.Decision.Next != "preprod" || res.Written == nil || !res.Written.Wrote {
		t.Fatalf("healthy event: %+v, written %+v", res.Decision, res.Written)
	}
	ev := evidence()
	if !ev.Passed || !ev.PassedAt.Equal(time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)) || ev.Records[0].Cluster != "dev" || ev.Records[0].Revision != healthy.Revision {
		t.Fatalf("evidence after the pass: %+v", ev)
	}
	// A replayed delivery is one record.
	if again := record(healthy); !again.Decision.Promote || again.Written.Wrote {
		t.Errorf("replay: %+v, wrote %t", again.Decision, again.Written.Wrote)
	}
	if got, want := len(evidence().Records), 1; got != want {
		t.Errorf("%d records after a replay, want %d", got, want)
	}

	// A failure cancels the pass; the next pass counts from its own time.
	fail := record(eventFrom(chain, "dev", healthy.Revision, true, "2026-12-02T10:30:00Z"))
	if fail.Decision.Promote || fail.Written == nil || fail.Written.Entry.Kind != pass.Fail {
		t.Fatalf("failure: %+v", fail)
	}
	if ev := evidence(); ev.Passed || !ev.Cancelled {
		t.Errorf("after the failure: passed %t, cancelled %t; want false, true", ev.Passed, ev.Cancelled)
	}

	// A hold on the next stage: the pass is recorded, the answer is held.
	list, err := reg.Tags(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := hold.Stage("preprod").Set(ctx, reg, list, hold.Record{Reason: "freeze", Actor: "alice", Time: time.Now()}, hold.Options{Pause: noPause}); err != nil {
		t.Fatal(err)
	}
	held := record(eventFrom(chain, "dev", healthy.Revision, false, "2026-12-02T11:00:00Z"))
	if held.Decision.Promote || !strings.HasPrefix(held.Decision.Reason, "held: preprod is held") || held.Decision.Next != "preprod" || !held.Written.Wrote {
		t.Fatalf("held: %+v", held)
	}
	if ev := evidence(); !ev.Passed || !ev.PassedAt.Equal(time.Date(2026, 12, 2, 11, 0, 0, 0, time.UTC)) {
		t.Errorf("after the held pass: %+v", ev)
	}
}
