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
}

// State is what the registry says around the candidate.
type State struct {
	// Tags is the complete tag list.
	Tags []string
	// Stables maps each stable tag that Stables(c) named to the digest it points at.
	Stables map[string]string
	// BehindHighest is the release-candidate tag of the artifact behind the highest of those
	// stable tags, when it is not the candidate (see NeedsBehind).
	BehindHighest string
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

// Stables names the stable tags whose digests Decide needs: those in the candidate's MAJOR.MINOR
// line at or above its base. The candidate can only have been promoted to one of them, and only
// they can make it superseded; lower lines (hotfix lines) never interfere.
func Stables(list []string, c Candidate) ([]string, error) {
	base, _, err := parseRC(c)
	if err != nil {
		return nil, err
	}
	line := version.LineOf(base)
	var out []string
	for _, tv := range version.Versions(list) {
		if version.IsStable(tv.Version) && line.Contains(tv.Version) && !tv.Version.LessThan(base) {
			out = append(out, tv.Tag)
		}
	}
	return out, nil
}

// highest returns the highest of the resolved stable tags.
func highest(stables map[string]string) (string, *semver.Version) {
	var tag string
	var best *semver.Version
	for t := range stables {
		v, ok := version.Parse(t)
		if !ok {
			continue
		}
		if best == nil || v.GreaterThan(best) || (v.Equal(best) && t < tag) {
			tag, best = t, v
		}
	}
	return tag, best
}

// NeedsBehind names the stable tag whose artifact's release-candidate version Decide needs, or ""
// when none is needed (no stable at or above the base, or the highest is the candidate itself).
func NeedsBehind(c Candidate, stables map[string]string) string {
	tag, _ := highest(stables)
	if tag == "" || stables[tag] == c.Digest {
		return ""
	}
	return tag
}

// Decide applies the promotion rules:
//   - a stable tag in the candidate's line already at its digest: already promoted; only a
//     missing validated-<s> is written (a marker is written after its stable tag, never trusted
//     without it);
//   - the highest stable at or above the base belongs to a newer candidate: superseded;
//   - it belongs to an older candidate: the next patch above it, so live moves forward and no
//     stable tag moves;
//   - otherwise the candidate's own X.Y.Z.
func Decide(c Candidate, s State) (Decision, error) {
	base, rc, err := parseRC(c)
	if err != nil {
		return Decision{}, err
	}
	prefix := version.Prefix(c.RCTag)
	marker := tags.Validated(c.Short)
	for _, t := range sortedKeys(s.Stables) {
		if s.Stables[t] != c.Digest {
			continue
		}
		if s.Marker == c.Digest {
			return Decision{Reason: AlreadyPromoted, Version: t, Detail: fmt.Sprintf("%s is already stable %s and marked %s", c.RCTag, t, marker)}, nil
		}
		return Decision{Reason: Promoted, Version: t, Writes: []string{marker}, Detail: fmt.Sprintf("%s is stable %s; writing the missing marker %s", c.RCTag, t, marker)}, nil
	}
	top, topV := highest(s.Stables)
	if top == "" {
		target := version.StableTag(prefix, base)
		return Decision{Reason: Promoted, Version: target, Writes: []string{target, marker}, Detail: fmt.Sprintf("%s becomes %s", c.RCTag, target)}, nil
	}
	behind, ok := version.Parse(s.BehindHighest)
	if !ok {
		return Decision{}, fmt.Errorf("stable %s is taken by another artifact whose release-candidate version is unknown (%q); cannot tell whether %s is newer", top, s.BehindHighest, c.RCTag)
	}
	switch c := rc.Compare(behind); {
	case c < 0:
		return Decision{Reason: Superseded, Detail: fmt.Sprintf("%s is older than %s, which is already stable %s; nothing to write", rc.Original(), s.BehindHighest, top)}, nil
	case c == 0:
		return Decision{}, fmt.Errorf("stable %s points at another artifact with the same release-candidate version %s: the registry holds two artifacts for one version; inspect it before promoting", top, s.BehindHighest)
	}
	next := topV.IncPatch()
	target := version.StableTag(prefix, &next)
	return Decision{Reason: Promoted, Version: target, Writes: []string{target, marker},
		Detail: fmt.Sprintf("%s is newer than %s (stable %s); it becomes the next patch %s", c.RCTag, s.BehindHighest, top, target)}, nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for t := range m {
		keys = append(keys, t)
	}
	return version.SortTags(keys)
}
