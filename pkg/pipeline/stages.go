package pipeline

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ocipromote/ocipromote/pkg/hold"
	"github.com/ocipromote/ocipromote/pkg/oci"
	"github.com/ocipromote/ocipromote/pkg/pass"
	"github.com/ocipromote/ocipromote/pkg/promote"
	"github.com/ocipromote/ocipromote/pkg/stage"
)

// chainOr is c, or the default chain (integration, live) when c is the zero Chain.
func chainOr(c stage.Chain) stage.Chain {
	if c.Len() == 0 {
		return stage.MustDefault()
	}
	return c
}

// StagePromotion is where tag-validated promotes a candidate in a chain of stages, and the gates
// it weighs. The zero value is today's promotion: integration to live, with no gate but the hold.
type StagePromotion struct {
	// Chain is the chain of stages (zero: the default, integration and live).
	Chain stage.Chain
	// To is the stage promoted into ("": the last).
	To string
	// Force goes through the soak, the evidence, the windows and a skipped stage (package stage,
	// Gate), never through a hold; what it went through is reported.
	Force   bool
	Windows stage.Windows
	Soaks   stage.Soaks
	// Now is the time the gates are weighed at (zero: the current time).
	Now time.Time
}

// StageOutcome is where a promotion went, or which gate defers it.
type StageOutcome struct {
	// From is the stage the candidate leaves (the highest it has reached below To), To the stage
	// it is promoted into.
	From, To string
	// Forced is set when force took the promotion through a gate or over a stage; Overridden
	// names the gates, Skipped the stages it did not pass through.
	Forced     bool
	Overridden []string
	Skipped    []string
	// Gate is the first gate that defers the promotion (package stage: unproven, soak, window),
	// Until when the gates with a time let it go (zero when none has one).
	Gate  string
	Until time.Time
	// Evidence is the newest healthy pass recorded in From, which the promotion rests on; nil
	// with the default chain, whose evidence is the event that called the step.
	Evidence *pass.Record
}

func (p StagePromotion) chain() stage.Chain { return chainOr(p.Chain) }

func (p StagePromotion) to() string {
	if p.To == "" {
		return p.chain().Last()
	}
	return p.To
}

// gated reports whether any gate but the hold applies: a chain of its own, a window or a soak,
// or force. Without one, a promotion is exactly the two-stage pipeline's.
func (p StagePromotion) gated() bool {
	return !p.chain().IsDefault() || len(p.Windows) > 0 || len(p.Soaks) > 0 || p.Force
}

// hold is the hold that guards the target stage.
func (p StagePromotion) hold() (hold.Stage, error) { return hold.StageOf(p.chain(), p.to()) }

// offered is the marker prefix of the chain's first stage, integration- by default.
func (p StagePromotion) offered() string {
	c := p.chain()
	prefix, _ := c.MarkerPrefix(c.First())
	return prefix
}

// Check refuses a target stage that no promotion enters: not in the chain, or the first.
func (p StagePromotion) Check() error {
	c := p.chain()
	i, ok := c.Index(p.to())
	switch {
	case !ok:
		return fmt.Errorf("%w: %q is not a stage of %s", stage.ErrInvalid, p.To, c)
	case i == 0:
		return fmt.Errorf("%w: %s is the first stage, which every build enters through build-rc; promote into one of %s", stage.ErrInvalid, p.To, strings.Join(c.Names()[1:], ", "))
	}
	return nil
}

// gate weighs the target stage's gates for candidate c: the stage it leaves (it never skips one
// without force), its evidence there (pass records) and soak, and the target's windows. It
// returns the outcome and whether the promotion may go now. The hold is weighed before, on the
// step's every path.
func gate(ctx context.Context, reg Registry, list []string, c candidate, p StagePromotion) (StageOutcome, stage.Verdict, error) {
	chain, to := p.chain(), p.to()
	out := StageOutcome{To: to}
	if !p.gated() {
		out.From = chain.First()
		return out, stage.Verdict{Promote: true}, nil
	}
	names := chain.Names()
	target, _ := chain.Index(to)
	reached := 0 // resolveCandidate checked that the first stage was offered the candidate
	for j := target - 1; j > 0; j-- {
		tag, err := chain.In(c.RCTag, names[j])
		if err != nil {
			return out, stage.Verdict{}, err
		}
		if !slices.Contains(list, tag) {
			continue
		}
		at, err := reg.Resolve(ctx, tag)
		if err != nil && !errors.Is(err, oci.ErrNotFound) {
			return out, stage.Verdict{}, err
		}
		if at == c.Digest {
			reached = j
			break
		}
	}
	out.From, out.Skipped = names[reached], names[reached+1:target]
	if len(out.Skipped) > 0 && !p.Force {
		return out, stage.Verdict{}, fmt.Errorf("%w: %s has not been promoted to %s: a promotion never skips a stage; promote it into %s first, or give force to skip %s (it is reported)",
			ErrInvalidCandidate, c.RCTag, names[target-1], out.Skipped[0], strings.Join(out.Skipped, ", "))
	}
	now := p.Now
	if now.IsZero() {
		now = time.Now()
	}
	// The default chain's evidence is the event that called the step, as in the two-stage
	// pipeline; any other chain's is what dispatch-receiver recorded.
	evidence := stage.Pass{At: now}
	if !chain.IsDefault() {
		ev, err := pass.Read(ctx, reg, list, out.From, c.Digest)
		if err != nil {
			return out, stage.Verdict{}, fmt.Errorf("%w; promotion stops until the evidence can be read", err)
		}
		evidence = stage.Pass{At: ev.PassedAt, Cancelled: ev.Cancelled}
		for i := len(ev.Records) - 1; i >= 0 && ev.Passed; i-- {
			if r := ev.Records[i].Record; r.Kind == pass.Pass {
				out.Evidence = &r
				break
			}
		}
	}
	v := stage.Gate(stage.GateInput{Now: now, Windows: p.Windows[to], Soak: p.Soaks[out.From], Pass: evidence, Force: p.Force})
	if !v.Promote {
		out.Gate, out.Until = v.Reason, v.At
		return out, v, nil
	}
	for _, d := range v.Overridden {
		out.Overridden = append(out.Overridden, d.Gate)
	}
	out.Forced = len(out.Overridden) > 0 || len(out.Skipped) > 0
	return out, v, nil
}

// forcedDetail says what force went through, for the step's detail ("" when nothing).
func (out StageOutcome) forcedDetail() string {
	var parts []string
	if len(out.Overridden) > 0 {
		parts = append(parts, "through "+strings.Join(out.Overridden, ", "))
	}
	if len(out.Skipped) > 0 {
		parts = append(parts, "over "+strings.Join(out.Skipped, ", "))
	}
	if len(parts) == 0 {
		return ""
	}
	return "; forced " + strings.Join(parts, " and ")
}

// deferred is the result of a promotion a gate defers: nothing written.
func deferred(out StageOutcome, c candidate, detail string, dryRun bool) PromoteResult {
	return PromoteResult{Reason: promote.Deferred, Detail: detail, Digest: c.Digest, Sha: c.sha, RC: c.RCTag, DryRun: dryRun, StageOutcome: out}
}

// promoteStage promotes candidate c into the intermediate stage to (promote.DecideStage): its tag
// there, then the stage's marker. The tag is the candidate's own, so it is written without a
// claim; a write that finds it at another artifact fails rather than move it.
func promoteStage(ctx context.Context, reg Registry, list []string, c candidate, chain stage.Chain, res PromoteResult, verify func(context.Context, string, map[string]string) error) (PromoteResult, error) {
	to := res.To
	target, err := chain.In(c.RCTag, to)
	if err != nil {
		return res, err
	}
	marker, err := chain.Marker(to, c.Short)
	if err != nil {
		return res, err
	}
	s := promote.StageState{List: list}
	for _, t := range []struct {
		tag string
		at  *string
	}{{target, &s.Target}, {marker, &s.Marker}} {
		if !slices.Contains(list, t.tag) {
			continue
		}
		if *t.at, err = reg.Resolve(ctx, t.tag); err != nil && !errors.Is(err, oci.ErrNotFound) {
			return res, err
		}
	}
	d, err := promote.DecideStage(c.Candidate, chain, to, s)
	if err != nil {
		return res, fmt.Errorf("%s: %w", reg.Name(), err)
	}
	res.Reason, res.Detail, res.Version, res.Writes = d.Reason, d.Detail+res.forcedDetail(), d.Version, d.Writes
	if d.Promote() && verify != nil {
		if err := verify(ctx, c.Digest, c.manifest.Annotations()); err != nil {
			return PromoteResult{Digest: c.Digest, Sha: c.sha}, fmt.Errorf("%w: %w; nothing written", ErrInvalidCandidate, err)
		}
	}
	if res.DryRun || !d.Promote() {
		if res.DryRun && d.Promote() {
			res.Reason = promote.WouldPromote
		}
		return res, nil
	}
	res.Writes = nil
	for _, t := range d.Writes {
		wrote, err := reg.Tag(ctx, t, c.manifest, oci.Write{KnownAbsent: !slices.Contains(list, t)})
		if err != nil {
			return res, err
		}
		if wrote {
			res.Writes = append(res.Writes, t)
		}
	}
	res.Promoted = len(res.Writes) > 0
	return res, nil
}
