package pipeline

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ocipromote/ocipromote/pkg/oci"
	"github.com/ocipromote/ocipromote/pkg/promote"
)

// PendingResult is what PromotePending did: the promotion it made, or the newest candidate's
// answer when none was made, and every candidate it weighed.
type PendingResult struct {
	// PromoteResult is the candidate promoted, else the first one weighed (what defers it), else
	// reason promote.NothingPending.
	PromoteResult
	// Weighed are the candidates weighed, in order.
	Weighed []Weighed
}

// Weighed is one candidate PromotePending weighed: its tag in the stage it leaves and the answer.
type Weighed struct {
	Tag    string
	Reason string
	Gate   string
	Until  time.Time
}

// String is the candidate as the output weighed lists it: TAG:REASON, the gate for a deferral.
func (w Weighed) String() string {
	if w.Reason == promote.Deferred {
		return w.Tag + ":" + w.Gate
	}
	return w.Tag + ":" + w.Reason
}

// PromotePending promotes into in.Stages' target stage a candidate that waits for it, for a
// scheduled run that finishes what gates deferred (a window that opens, a soak that ends, a hold
// released): the candidates of the stage before it, newest first (promote.Queue), each weighed
// by TagValidated with every rule and gate, until one is promoted; promote.After says what comes
// after each answer. At most promote.MaxPending are weighed. The identifiers of in are unused.
func PromotePending(ctx context.Context, reg Registry, in PromoteInput) (PendingResult, error) {
	if err := in.Stages.Check(); err != nil {
		return PendingResult{}, err
	}
	chain, to := in.Stages.chain(), in.Stages.to()
	if chain.IsDefault() {
		return PendingResult{}, fmt.Errorf("%w: promoting pending candidates weighs the evidence dispatch-receiver records for a chain other than the default; the default chain promotes on the event itself", ErrInvalidCandidate)
	}
	list, err := reg.Tags(ctx)
	if err != nil {
		return PendingResult{}, err
	}
	queue, err := promote.Queue(chain, to, list)
	if err != nil {
		return PendingResult{}, err
	}
	var out PendingResult
	settled := map[string]bool{} // the X.Y lines whose older candidates are in the stage or superseded
	for _, w := range queue {
		if len(out.Weighed) == promote.MaxPending {
			break
		}
		if settled[w.Line] {
			continue
		}
		digest, err := reg.Resolve(ctx, w.Tag)
		if errors.Is(err, oci.ErrNotFound) {
			continue // deleted since the listing (prune)
		}
		if err != nil {
			return out, err
		}
		one := in
		one.Revision, one.Digest, one.Sha = "", digest, ""
		// A refused signature stops the run as it stops a named promotion; a candidate refused
		// for what it is is skipped.
		unverified := false
		if in.Verify != nil {
			one.Verify = func(ctx context.Context, digest string, annotations map[string]string) error {
				err := in.Verify(ctx, digest, annotations)
				unverified = err != nil
				return err
			}
		}
		res, err := TagValidated(ctx, reg, one)
		if errors.Is(err, ErrInvalidCandidate) && !unverified {
			// Not a candidate of this chain (or not one at all): the others still are.
			logger(in.Log).Info("candidate refused, skipped", "tag", w.Tag, "why", err)
			res = PromoteResult{Reason: promote.Refused, Detail: err.Error(), Digest: digest, DryRun: in.DryRun, StageOutcome: StageOutcome{To: to}}
		} else if err != nil {
			return out, fmt.Errorf("candidate %s: %w", w.Tag, err)
		}
		out.Weighed = append(out.Weighed, Weighed{Tag: w.Tag, Reason: res.Reason, Gate: res.Gate, Until: res.Until})
		if len(out.Weighed) == 1 || res.Promoted || res.Reason == promote.WouldPromote {
			out.PromoteResult = res
		}
		switch promote.After(res.Reason, res.Gate) {
		case promote.Stop:
			return out, nil
		case promote.SkipLine:
			settled[w.Line] = true
		}
	}
	if len(out.Weighed) == 0 {
		out.PromoteResult = PromoteResult{Reason: promote.NothingPending, Detail: fmt.Sprintf("no candidate waits to enter %s", to), DryRun: in.DryRun, StageOutcome: StageOutcome{To: to}}
	}
	return out, nil
}
