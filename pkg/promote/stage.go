package promote

import (
	"fmt"

	"github.com/ocipromote/ocipromote/pkg/stage"
	"github.com/ocipromote/ocipromote/pkg/version"
)

// Deferred is the reason when a gate of the target stage (a change window, a soak, missing
// evidence) defers the promotion: nothing is written, and the step succeeds.
const Deferred = "deferred"

// StageState is what the registry says around a candidate about to enter an intermediate stage
// (neither the first nor the last) of a chain.
type StageState struct {
	// List is the repository's tag listing.
	List []string
	// Target is the digest the candidate's tag in the stage (X.Y.Z-<stage>.N) points at, "" when
	// absent; Marker the digest of the stage's marker <stage>-<s>.
	Target string
	Marker string
}

// DecideStage applies the promotion rules to an intermediate stage to. The candidate's tag there
// is its own, X.Y.Z-<to>.N with the N of its X.Y.Z-rc.N (stage.Chain.In), so no two candidates
// ever want one tag and no claim is needed:
//   - the tag already at the candidate's digest: already promoted; only a missing marker is
//     written (after its version tag, never trusted without it);
//   - the tag at another digest: an error, since the registry holds two artifacts for one
//     version;
//   - a higher tag of the stage in the candidate's scope (InScope's rule: at or above its base,
//     in its version line): superseded, since the stage's selection would never pick it;
//   - otherwise the tag, then the marker.
func DecideStage(c Candidate, chain stage.Chain, to string, s StageState) (Decision, error) {
	i, ok := chain.Index(to)
	if !ok || i == 0 || i == chain.Len()-1 {
		return Decision{}, fmt.Errorf("%q is not an intermediate stage of %s", to, chain)
	}
	base, _, err := parseRC(c)
	if err != nil {
		return Decision{}, err
	}
	target, err := chain.In(c.RCTag, to)
	if err != nil {
		return Decision{}, err
	}
	marker, err := chain.Marker(to, c.Short)
	if err != nil {
		return Decision{}, err
	}
	switch {
	case s.Target == c.Digest && s.Marker == c.Digest:
		return Decision{Reason: AlreadyPromoted, Version: target, Detail: fmt.Sprintf("%s is already %s and marked %s", c.RCTag, target, marker)}, nil
	case s.Target == c.Digest:
		return Decision{Reason: Promoted, Version: target, Writes: []string{marker}, Detail: fmt.Sprintf("%s is %s; writing the missing marker %s", c.RCTag, target, marker)}, nil
	case s.Target != "":
		return Decision{}, fmt.Errorf("%s points at another artifact (%s) than candidate %s (%s): the registry holds two artifacts for one version; inspect it before promoting", target, s.Target, c.RCTag, c.Digest)
	}
	mine, _ := version.Parse(target)
	newest := ""
	var newestV = mine
	for _, t := range s.List {
		st, ok := chain.ParseTag(t)
		if !ok || st.Stage != to || st.Base.LessThan(base) || !c.Line.Contains(st.Base) {
			continue
		}
		if v, _ := version.Parse(t); v.GreaterThan(newestV) {
			newest, newestV = t, v
		}
	}
	if newest != "" {
		return Decision{Reason: Superseded, SupersededBy: newest, Detail: fmt.Sprintf("%s is older than %s, already in %s; nothing to write", c.RCTag, newest, to)}, nil
	}
	return Decision{Reason: Promoted, Version: target, Writes: []string{target, marker}, Detail: fmt.Sprintf("%s becomes %s", c.RCTag, target)}, nil
}
