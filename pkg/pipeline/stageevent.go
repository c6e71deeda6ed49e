package pipeline

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ocipromote/ocipromote/pkg/event"
	"github.com/ocipromote/ocipromote/pkg/hold"
	"github.com/ocipromote/ocipromote/pkg/oci"
	"github.com/ocipromote/ocipromote/pkg/pass"
	"github.com/ocipromote/ocipromote/pkg/ref"
	"github.com/ocipromote/ocipromote/pkg/stage"
)

// EventInput is what dispatch-receiver decided about an event from a stage of a chain (event
// Criteria.Stages), for RecordEvent.
type EventInput struct {
	Decision event.Decision
	Chain    stage.Chain
	// Actor is who records the evidence (the workflow run's actor).
	Actor string
	// Now stands in for the event's time when the event carries none.
	Now    time.Time
	Settle time.Duration
	Pause  Pause
}

// EventResult is RecordEvent's outcome: the decision as it stands once the evidence is recorded,
// and the record (Written.Wrote is false for a replayed delivery, which writes nothing).
type EventResult struct {
	Decision event.Decision
	Written  *pass.Written
}

// RecordEvent records what an event from a stage proves, evidence first: a healthy event about
// the stage's own tag records that the candidate passed the stage, a failure event that it
// failed there (cancelling its pass, package pass). Only the artifact the stage was given counts:
// the revision's tag must point at the revision's digest in the repository, or nothing is
// recorded and nothing promoted. A promotion into a stage that is held is answered "held: …",
// with the pass recorded, so that nothing has to be proved again once the hold is released.
// An event that promotes nothing and reports no failure is returned as is.
func RecordEvent(ctx context.Context, reg Registry, in EventInput) (EventResult, error) {
	d := in.Decision
	revision, kind := d.Revision, pass.Pass
	if !d.Promote {
		revision, kind = d.Failed, pass.Fail
	}
	if revision == "" || d.Stage == "" {
		return EventResult{Decision: d}, nil
	}
	rev, err := ref.ParseRevision(revision)
	if err != nil {
		return EventResult{}, err
	}
	ignored := func(why string) EventResult {
		return EventResult{Decision: event.Decision{Stage: d.Stage, Cluster: d.Cluster, Message: d.Message, Time: d.Time, Reason: "ignored: " + why}}
	}
	// event.Decide reads events this way already; the evidence is checked again where it is
	// written, so that no caller records a pass on another stage's tag.
	if t, ok := in.Chain.ParseTag(rev.Tag); !ok || t.Stage != d.Stage {
		return ignored(fmt.Sprintf("stage %s reports %s, which is not a tag of %s; nothing recorded", d.Stage, rev, d.Stage)), nil
	}
	if d.Promote {
		var ok bool
		if d.Next, ok = in.Chain.Next(d.Stage); !ok {
			return ignored(fmt.Sprintf("%s is the last stage: nothing is promoted out of it", d.Stage)), nil
		}
	}
	list, err := reg.Tags(ctx)
	if err != nil {
		return EventResult{}, err
	}
	at, err := reg.Resolve(ctx, rev.Tag)
	if err != nil && !errors.Is(err, oci.ErrNotFound) {
		return EventResult{}, err
	}
	if at != rev.Digest {
		what := "is not in the repository"
		if at != "" {
			what = "is " + at
		}
		return ignored(fmt.Sprintf("stage %s reports %s, but %s:%s %s, so it did not run the artifact this pipeline gave it; nothing recorded", d.Stage, rev, reg.Name(), rev.Tag, what)), nil
	}
	when := in.Now
	if t, err := time.Parse(time.RFC3339, d.Time); err == nil {
		when = t
	}
	w, err := pass.Write(ctx, reg, list, pass.Record{Stage: d.Stage, Digest: rev.Digest, Kind: kind, Revision: rev.String(),
		Cluster: d.Cluster, Message: d.Message, Time: when, Actor: in.Actor}, pass.Options{Settle: in.Settle, Pause: in.Pause})
	if err != nil {
		return EventResult{}, fmt.Errorf("record the %s of %s in %s: %w", kind, rev, d.Stage, err)
	}
	res := EventResult{Decision: d, Written: &w}
	if !d.Promote {
		return res, nil
	}
	target, err := hold.StageOf(in.Chain, d.Next)
	if err != nil {
		return EventResult{}, err
	}
	after := w.After
	if after == nil {
		after = list
	}
	h, err := target.Read(ctx, reg, after)
	if err != nil {
		return EventResult{}, fmt.Errorf("check the hold of %s: %w; the pass is recorded (%s)", d.Next, err, w.Entry.Tag)
	}
	if h.Held() {
		res.Decision = event.Decision{Stage: d.Stage, Next: d.Next, Cluster: d.Cluster, Message: d.Message, Time: d.Time,
			Reason: fmt.Sprintf("held: %s is held: %s; the pass of %s in %s is recorded (%s), and it is promoted once the hold is released", d.Next, h.Describe(), rev.Tag, d.Stage, w.Entry.Tag)}
	}
	return res, nil
}
