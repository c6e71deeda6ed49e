// Package promote decides what tag-validated writes for a validated release candidate. It is a
// pure function over tag names, digests and versions: the caller reads the registry, this package
// decides, the caller writes exactly the tags it returns, in order.
package promote

import (
	"fmt"

	"github.com/Masterminds/semver/v3"

	"github.com/ocipromote/ocipromote/pkg/tags"
	"github.com/ocipromote/ocipromote/pkg/version"
)

// Reasons reported in the reason output.
const (
	Promoted        = "promoted"
	AlreadyPromoted = "already-promoted"
	Superseded      = "superseded"
	// Held: an operator's hold (a freeze, or a rollback) stops automatic promotion; nothing is
	// written until it is released.
	Held = "held"
)

// Candidate is the artifact integration validated.
type Candidate struct {
	Digest string
	// Short is the short sha of its integration-<s>/validated-<s> tags.
	Short string
	// RCTag is its release-candidate tag, e.g. "0.4.2-rc.3" (or "v0.4.2-rc.3").
	RCTag string
	// Line is the hotfix line the candidate was built for (build-rc's version_line), nil on the
	// main line. See InScope.
	Line *version.Line
}

// State is what the registry says around the candidate.
type State struct {
	// Stables maps each stable tag in the candidate's scope (Stables names them) to the digest it
	// points at. Another artifact's claim on a stable version not written yet counts as that
	// version at the claimant's digest: the version is taken.
	Stables map[string]string
	// Behind maps stable tags of Stables to the release-candidate tag of the artifact behind them,
	// for each tag NeedsBehind named.
	Behind map[string]string
	// Marker is the digest validated-<s> points at ("" when absent).
	Marker string
}

// Decision is what to write.
type Decision struct {
	Reason string
	// Version is the stable tag the candidate has or gets ("" when superseded).
	Version string
	// Writes are the tags to point at the candidate's digest, in this order.
	Writes []string
	// SupersededBy is, when superseded, the stable tag of the newer candidate.
	SupersededBy string
	// Detail is a sentence for people.
	Detail string
}

// Promote reports whether the decision writes anything.
func (d Decision) Promote() bool { return len(d.Writes) > 0 }

func parseRC(c Candidate) (base *semver.Version, rc *semver.Version, err error) {
	v, ok := version.Parse(c.RCTag)
	if !ok {
		return nil, nil, fmt.Errorf("candidate %s has version %q, which is not a version", c.Digest, c.RCTag)
	}
	b, _, ok := version.RC(v)
	if !ok {
		return nil, nil, fmt.Errorf("candidate %s has version %s, which is not a release candidate X.Y.Z-rc.N", c.Digest, c.RCTag)
	}
	return b, v, nil
}

// InScope reports whether stable version v can bear on the candidate: it is at or above the
// candidate's base and, for a hotfix candidate, in its line. The candidate can only have been
// promoted to such a version, and only such versions can make it superseded: a main-line
// candidate that a later minor or major release overtook is superseded (never released below it),
// while a hotfix line's candidates never meet the main line's versions.
func InScope(c Candidate, v *semver.Version) bool {
	base, _, err := parseRC(c)
	if err != nil {
		return false
	}
	return version.IsStable(v) && !v.LessThan(base) && c.Line.Contains(v)
}

// Stables names the stable tags in the candidate's scope (see InScope), whose digests Decide needs.
func Stables(list []string, c Candidate) ([]string, error) {
	if _, _, err := parseRC(c); err != nil {
		return nil, err
	}
	var out []string
	for _, tv := range version.Versions(list) {
		if InScope(c, tv.Version) {
			out = append(out, tv.Tag)
		}
	}
	return out, nil
}

// promotedTo returns the stable tag of s already at the candidate's digest, highest first, or "".
func promotedTo(c Candidate, s State) string {
	for _, t := range sortedKeys(s.Stables) {
		if s.Stables[t] == c.Digest {
			return t
		}
	}
	return ""
}

// NeedsBehind names the next stable tag whose artifact's release-candidate version Decide needs,
// or "" when Decide has what it needs. Stable tags are asked for from the highest down, and only
// until one belongs to a newer candidate (the candidate is then superseded): usually one lookup,
// none when no stable version is in scope or the candidate already has one.
func NeedsBehind(c Candidate, s State) string {
	_, rc, err := parseRC(c)
	if err != nil || promotedTo(c, s) != "" {
		return ""
	}
	for _, t := range sortedKeys(s.Stables) {
		b, ok := s.Behind[t]
		if !ok {
			return t
		}
		if bv, ok := version.Parse(b); ok && bv.GreaterThan(rc) {
			return ""
		}
	}
	return ""
}

// Decide applies the promotion rules:
//   - a stable tag in scope already at the candidate's digest: already promoted; only a missing
//     validated-<s> is written (a marker is written after its stable tag, never trusted without
//     it);
//   - a stable version in scope belongs to a newer candidate: superseded, nothing written;
//   - stable versions in scope belong to older candidates only: the next patch above the highest,
//     so live moves forward and no stable tag moves;
//   - no stable version in scope: the candidate's own X.Y.Z.
func Decide(c Candidate, s State) (Decision, error) {
	base, rc, err := parseRC(c)
	if err != nil {
		return Decision{}, err
	}
	prefix := version.Prefix(c.RCTag)
	marker := tags.Validated(c.Short)
	if t := promotedTo(c, s); t != "" {
		if s.Marker == c.Digest {
			return Decision{Reason: AlreadyPromoted, Version: t, Detail: fmt.Sprintf("%s is already stable %s and marked %s", c.RCTag, t, marker)}, nil
		}
		return Decision{Reason: Promoted, Version: t, Writes: []string{marker}, Detail: fmt.Sprintf("%s is stable %s; writing the missing marker %s", c.RCTag, t, marker)}, nil
	}
	stables := sortedKeys(s.Stables)
	if len(stables) == 0 {
		target := version.StableTag(prefix, base)
		return Decision{Reason: Promoted, Version: target, Writes: []string{target, marker}, Detail: fmt.Sprintf("%s becomes %s", c.RCTag, target)}, nil
	}
	for _, t := range stables {
		behind, ok := version.Parse(s.Behind[t])
		if !ok {
			return Decision{}, fmt.Errorf("stable %s is taken by another artifact whose release-candidate version is unknown (%q); cannot tell whether %s is newer", t, s.Behind[t], c.RCTag)
		}
		switch cmp := rc.Compare(behind); {
		case cmp < 0:
			return Decision{Reason: Superseded, SupersededBy: t, Detail: fmt.Sprintf("%s is older than %s, which is already stable %s; nothing to write", c.RCTag, s.Behind[t], t)}, nil
		case cmp == 0:
			return Decision{}, fmt.Errorf("stable %s points at another artifact with the same release-candidate version %s: the registry holds two artifacts for one version; inspect it before promoting", t, s.Behind[t])
		}
	}
	top := stables[0]
	topV, _ := version.Parse(top)
	next := topV.IncPatch()
	target := version.StableTag(prefix, &next)
	return Decision{Reason: Promoted, Version: target, Writes: []string{target, marker},
		Detail: fmt.Sprintf("%s is newer than %s (stable %s); it becomes the next patch %s", c.RCTag, s.Behind[top], top, target)}, nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for t := range m {
		keys = append(keys, t)
	}
	return version.SortTags(keys)
}
