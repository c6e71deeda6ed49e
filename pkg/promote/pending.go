package promote

import (
	"fmt"

	"github.com/ocipromote/ocipromote/pkg/stage"
	"github.com/ocipromote/ocipromote/pkg/tags"
	"github.com/ocipromote/ocipromote/pkg/version"
)

// NothingPending is the reason when no candidate waits to enter the target stage: none of the
// tags of the stage before it is left to try.
const NothingPending = "nothing-pending"

// Refused is how promote-pending reports a candidate tag-validated refuses (one never offered to
// the chain's first stage, such as a build of the chain before it was changed): it is skipped.
const Refused = "refused"

// MaxPending bounds how many candidates one run of promote-pending weighs (each is a promotion
// of its own, with its reads): the newest ones, which are those a stage would select.
const MaxPending = 10

// Waiting is a candidate waiting to enter a stage: its tag in the stage it leaves.
type Waiting struct {
	// Tag is its tag in the stage it leaves: X.Y.Z-rc.N in the first, X.Y.Z-<stage>.N between.
	Tag string
	// Line is its X.Y, which Next's SkipLine names.
	Line string
}

// Queue lists the candidates waiting to enter stage to, in the order promote-pending weighs them:
// the tags in list of the stage before to, newest first. When to is an intermediate stage, the
// tag names say which are settled and these are left out: those already in to (their
// X.Y.Z-<to>.N is listed) and those superseded there whatever their version line (a higher tag of
// to with the same X.Y, at or above their X.Y.Z). Into the last stage, whose version a
// promotion decides (Decide: superseded, or the next patch), nothing is left out by name.
func Queue(chain stage.Chain, to string, list []string) ([]Waiting, error) {
	i, ok := chain.Index(to)
	if !ok || i == 0 {
		return nil, fmt.Errorf("%q is not a stage of %s that a promotion enters", to, chain)
	}
	from := chain.Names()[i-1]
	intermediate := i < chain.Len()-1
	listed := tags.NewSet(list)
	// newest maps X.Y to the highest tag of to in that line, for an intermediate target.
	newest := map[string]stage.Tag{}
	var waiting []version.Tagged
	for _, tv := range version.Versions(list) {
		t, ok := chain.ParseTag(tv.Tag)
		if !ok {
			continue
		}
		switch {
		case t.Stage == from:
			waiting = append(waiting, tv)
		case t.Stage == to && intermediate:
			if n, seen := newest[line(t)]; !seen || higher(t, n) {
				newest[line(t)] = t
			}
		}
	}
	version.Sort(waiting)
	var out []Waiting
	for _, tv := range waiting {
		t, _ := chain.ParseTag(tv.Tag)
		if intermediate {
			target, err := chain.Format(to, t.Prefix, t.Base, t.N)
			if err != nil {
				return nil, err
			}
			if listed.Has(target) {
				continue
			}
			if n, seen := newest[line(t)]; seen && higher(n, t) {
				continue
			}
		}
		out = append(out, Waiting{Tag: tv.Tag, Line: line(t)})
	}
	return out, nil
}

// line is a tag's X.Y.
func line(t stage.Tag) string { return fmt.Sprintf("%d.%d", t.Base.Major(), t.Base.Minor()) }

// higher reports whether a comes after b in one stage: a higher X.Y.Z, or the same and a higher N.
func higher(a, b stage.Tag) bool {
	if c := a.Base.Compare(b.Base); c != 0 {
		return c > 0
	}
	return a.N > b.N
}

// Next is what promote-pending does once it has weighed a candidate.
type Next int

const (
	// TryNext weighs the next candidate: this one's own evidence (its pass, its soak) defers it,
	// and an older one may have its own.
	TryNext Next = iota
	// SkipLine weighs the next candidate of another X.Y only: this one is in the stage or
	// superseded there, so the older ones of its line are too.
	SkipLine
	// Stop weighs no more: one was promoted (one promotion per run: the next run weighs the
	// rest with it counted), or what defers this one (a hold, a closed window) defers them all.
	Stop
)

// After decides what comes after a candidate weighed with reason and, when deferred or held,
// gate (package stage).
func After(reason, gate string) Next {
	switch reason {
	case Promoted, WouldPromote, Held:
		return Stop
	case AlreadyPromoted, Superseded:
		return SkipLine
	case Deferred:
		if gate == stage.GateWindow || gate == stage.GateHeld {
			return Stop
		}
	}
	return TryNext
}
