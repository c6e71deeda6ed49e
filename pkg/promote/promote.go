// Package promote decides what tag-validated writes for a validated release candidate. It is a
// pure function over tag names, digests and versions: the caller reads the registry, this package
// decides, the caller writes exactly the tags it returns, in order.
package promote

import (
	"fmt"
	"slices"
	"strings"

	"github.com/Masterminds/semver/v3"

	"github.com/ocipromote/ocipromote/pkg/claim"
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
	// WouldPromote is a dry run's answer where a run would write: promoted stays false, since
	// nothing was written, and the reason does not claim otherwise.
	WouldPromote = "would-promote"
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
	// points at.
	Stables map[string]string
	// Claims are other artifacts' claims on stable versions in scope that are not written yet
	// (package claim): each counts as that version taken by the claimant, as a stable tag would.
	// One version may have several claimants.
	Claims []Holder
	// Behind maps the digests of Stables and Claims to the release-candidate tag of the artifact,
	// for each digest NeedsBehind named.
	Behind map[string]string
	// Marker is the digest validated-<s> points at ("" when absent).
	Marker string
}

// Holder is an artifact that holds (or claims) a stable version.
type Holder struct {
	Version string
	Digest  string
}

// holders are the stable versions in scope, written or claimed, highest first.
func (s State) holders() []Holder {
	var out []Holder
	for _, t := range sortedKeys(s.Stables) {
		out = append(out, Holder{t, s.Stables[t]})
	}
	out = append(out, s.Claims...)
	slices.SortStableFunc(out, func(a, b Holder) int {
		va, _ := version.Parse(a.Version)
		vb, _ := version.Parse(b.Version)
		if c := vb.Compare(va); c != 0 {
			return c
		}
		return strings.Compare(a.Version, b.Version)
	})
	return out
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

// Claims names the other artifacts' claims on stable versions in the candidate's scope that no tag
// has yet (claim.Set.Unwritten): each counts as its version taken by the claimant, as a stable tag
// would (State.Claims). The candidate's own claims are left out.
func Claims(list []string, c Candidate) claim.Set {
	return claim.In(list).Unwritten(list).Filter(func(cl claim.Claim) bool {
		return InScope(c, cl.SemVer()) && !(cl.Short == c.Short && cl.Of(c.Digest))
	})
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

// NeedsBehind names the next digest whose artifact's release-candidate version Decide needs, or
// "" when Decide has what it needs. Holders are asked for from the highest version down, and only
// until one is a newer candidate (the candidate is then superseded): usually one lookup, none
// when no stable version is in scope or the candidate already has one.
func NeedsBehind(c Candidate, s State) string {
	_, rc, err := parseRC(c)
	if err != nil || promotedTo(c, s) != "" {
		return ""
	}
	for _, h := range s.holders() {
		b, ok := s.Behind[h.Digest]
		if !ok {
			return h.Digest
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
	holders := s.holders()
	if len(holders) == 0 {
		target := version.StableTag(prefix, base)
		return Decision{Reason: Promoted, Version: target, Writes: []string{target, marker}, Detail: fmt.Sprintf("%s becomes %s", c.RCTag, target)}, nil
	}
	for _, h := range holders {
		held := h.Version
		if _, written := s.Stables[h.Version]; !written {
			held = h.Version + " (claimed)"
		}
		behind, ok := version.Parse(s.Behind[h.Digest])
		if !ok {
			return Decision{}, fmt.Errorf("stable %s is taken by another artifact whose release-candidate version is unknown (%q); cannot tell whether %s is newer", held, s.Behind[h.Digest], c.RCTag)
		}
		switch cmp := rc.Compare(behind); {
		case cmp < 0:
			return Decision{Reason: Superseded, SupersededBy: h.Version, Detail: fmt.Sprintf("%s is older than %s, which is already stable %s; nothing to write", c.RCTag, s.Behind[h.Digest], held)}, nil
		case cmp == 0:
			return Decision{}, fmt.Errorf("stable %s points at another artifact with the same release-candidate version %s: the registry holds two artifacts for one version; inspect it before promoting", held, s.Behind[h.Digest])
		}
	}
	top := holders[0]
	topV, _ := version.Parse(top.Version)
	next, err := version.Bumped(topV, version.Patch)
	if err != nil {
		return Decision{}, fmt.Errorf("the next patch above stable %s: %w", top.Version, err)
	}
	target := version.StableTag(prefix, next)
	return Decision{Reason: Promoted, Version: target, Writes: []string{target, marker},
		Detail: fmt.Sprintf("%s is newer than %s (stable %s); it becomes the next patch %s", c.RCTag, s.Behind[top.Digest], top.Version, target)}, nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for t := range m {
		keys = append(keys, t)
	}
	return version.SortTags(keys)
}
