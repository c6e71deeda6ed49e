// Package prune keeps an artifact repository from filling up. It removes the artifacts of old
// release candidates and, beyond the newest N, old stable versions, and never what a cluster
// selects, what is still pending (a release candidate tag-validated would still promote, by the
// promote package's rules), what is young, what carries a tag the pipeline did not write, a hold
// record of any stage, or a pass record.
//
// Registries delete whole manifests, not single tags: distribution's DELETE of a manifest takes
// every tag on it along, and GitHub's Packages API deletes a package version with all its tags.
// So an artifact goes only when every tag on it is prunable; a single kept tag keeps it whole.
// The plan is a pure function (Decide) over what the registry holds; Run gathers that, and hands
// the deletions to a Deleter for the registry at hand (the OCI API, or GitHub's Packages API for
// ghcr.io, which does not implement manifest deletion), after listing the tags again: a tag
// written since the plan keeps its artifact.
package prune

import (
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/ocipromote/ocipromote/pkg/claim"
	"github.com/ocipromote/ocipromote/pkg/hold"
	"github.com/ocipromote/ocipromote/pkg/pass"
	"github.com/ocipromote/ocipromote/pkg/stage"
	"github.com/ocipromote/ocipromote/pkg/tags"
	"github.com/ocipromote/ocipromote/pkg/version"
)

// Rules are what to keep.
type Rules struct {
	// KeepStable is how many stable versions to keep, newest first (at least 1).
	KeepStable int
	// KeepRCDays keeps every artifact created less than this many days before Now.
	KeepRCDays int
	// Now is the time ages are measured from.
	Now time.Time
	// PruneStable also removes stable versions older than the newest KeepStable. Without it a
	// stable tag is never removed, so the artifact it points at stays.
	PruneStable bool
	// Protect maps digests that must stay to the reason (what a cluster selects, the current
	// rollback target, a candidate pending for a stage).
	Protect map[string]string
	// Chain is the chain of stages the repository's tags follow; the zero Chain is the default
	// two stages. The tags of its stages between the first and the last (X.Y.Z-<stage>.N) and the
	// marker tags of every stage (<stage>-<s>) are the pipeline's, not foreign.
	Chain stage.Chain
}

// Validate rejects rules that could remove what live runs.
func (r Rules) Validate() error {
	if r.KeepStable < 1 {
		return fmt.Errorf("keep_stable must be at least 1 (live runs the newest stable version), got %d", r.KeepStable)
	}
	if r.KeepRCDays < 0 {
		return fmt.Errorf("keep_rc_days must not be negative, got %d", r.KeepRCDays)
	}
	if r.Now.IsZero() {
		return fmt.Errorf("no time to measure ages from")
	}
	return nil
}

// Entry is one manifest in the repository and every tag that points at it.
type Entry struct {
	Digest string
	Tags   []string
	// Created is the artifact's created annotation (zero when it has none).
	Created time.Time
	// Version is its version annotation: the release candidate build-rc built it as.
	Version string
	// SupersededBy is, for a release candidate without a stable version, the stable tag of a
	// newer candidate that makes it superseded by tag-validated's rules (status.Index.SupersededBy);
	// "" when validating it would still promote it, so it is pending.
	SupersededBy string
}

// Item is an entry with the plan's verdict.
type Item struct {
	Digest  string    `json:"digest"`
	Tags    []string  `json:"tags"`
	Created time.Time `json:"created,omitzero"`
	Reason  string    `json:"reason"`
}

// Plan is what goes and what stays, each sorted by digest.
type Plan struct {
	Delete []Item `json:"delete"`
	Keep   []Item `json:"keep"`
}

// Tags lists the tags the plan removes, sorted.
func (p Plan) Tags() []string {
	var out []string
	for _, it := range p.Delete {
		out = append(out, it.Tags...)
	}
	sort.Strings(out)
	return out
}

// Decide applies the rules to every manifest of the repository; list is its complete tag list.
// An entry stays, with the first reason that applies, when:
//   - a tag on it is a hold record of any stage (hold-<n>, hold-<stage>-<n>) or a pass record
//     (pass-<stage>-<hex>-<n>), or a claim on one;
//   - it is protected (a selection picks it, it is the current rollback target of a stage, or
//     it is pending for a stage);
//   - a tag on it is not one the pipeline writes (anything but X.Y.Z-rc.N, X.Y.Z, sha-,
//     integration-, validated- and claim- tags, and with a Chain its stages' tags and markers),
//     since another tool or a person relies on it;
//   - it is younger than KeepRCDays, or its age is unknown;
//   - it carries one of the newest KeepStable stable versions or the highest stable version of a
//     MAJOR.MINOR line (build-rc counts from it), or any stable version unless PruneStable;
//   - it is a pending release candidate: it has no stable version and is not SupersededBy, so a
//     validation would still promote it (integration may be running it, or about to pass it).
//
// Everything else goes, with all its tags.
func Decide(list []string, entries []Entry, r Rules) (Plan, error) {
	if err := r.Validate(); err != nil {
		return Plan{}, err
	}
	newest := newestStable(list, r.KeepStable)
	for _, k := range lineHighest(list) {
		newest[k] = true
	}
	p := Plan{Delete: []Item{}, Keep: []Item{}}
	for _, e := range entries {
		it := Item{Digest: e.Digest, Tags: append([]string(nil), e.Tags...), Created: e.Created}
		sort.Strings(it.Tags)
		if it.Reason = keepReason(list, e, r, newest); it.Reason != "" {
			p.Keep = append(p.Keep, it)
			continue
		}
		it.Reason = fmt.Sprintf("created %s, more than %d days before %s; %s", e.Created.UTC().Format(time.RFC3339), r.KeepRCDays, r.Now.UTC().Format(time.RFC3339), settled(e))
		p.Delete = append(p.Delete, it)
	}
	sort.Slice(p.Delete, func(i, j int) bool { return p.Delete[i].Digest < p.Delete[j].Digest })
	sort.Slice(p.Keep, func(i, j int) bool { return p.Keep[i].Digest < p.Keep[j].Digest })
	return p, nil
}

func keepReason(list []string, e Entry, r Rules, newest map[string]bool) string {
	for _, t := range e.Tags {
		c, ok := claim.Parse(t)
		switch {
		case hold.IsTag(t) || ok && c.Record() && hold.IsTag(c.Version):
			return "hold record " + t + " (hold records are never removed)"
		case pass.IsTag(t) || ok && c.Record():
			return "pass record " + t + " (pass records are never removed: promotions rest on them)"
		}
	}
	if why, ok := r.Protect[e.Digest]; ok {
		return why
	}
	for _, t := range e.Tags {
		if kind(t) == foreign && !r.stageTag(t) {
			return fmt.Sprintf("tag %s is not one the pipeline writes", t)
		}
	}
	switch age := r.Now.Sub(e.Created); {
	case e.Created.IsZero():
		return "no created annotation, so its age is unknown"
	case age < time.Duration(r.KeepRCDays)*24*time.Hour:
		return fmt.Sprintf("created %s, less than %d days ago", e.Created.UTC().Format(time.RFC3339), r.KeepRCDays)
	}
	for _, t := range e.Tags {
		if kind(t) != stable {
			continue
		}
		if newest[versionKey(t)] {
			return fmt.Sprintf("stable %s is among the newest %d stable versions, or the highest of its MAJOR.MINOR line", t, r.KeepStable)
		}
		if !r.PruneStable {
			return fmt.Sprintf("stable %s (stable versions stay unless prune_stable is set)", t)
		}
	}
	if rc := rcOf(e); rc != "" && !hasStable(e) && e.SupersededBy == "" {
		return fmt.Sprintf("release candidate %s is pending: validating it would still promote it", rc)
	}
	return ""
}

func settled(e Entry) string {
	for _, t := range e.Tags {
		if kind(t) == stable {
			return "stable " + t + " is older than the versions kept"
		}
	}
	if rc := rcOf(e); rc != "" && e.SupersededBy != "" {
		return fmt.Sprintf("release candidate %s is superseded by stable %s", rc, e.SupersededBy)
	}
	return "not a kept stable version or a pending release candidate"
}

func hasStable(e Entry) bool {
	return slices.ContainsFunc(e.Tags, func(t string) bool { return kind(t) == stable })
}

type tagKind int

const (
	foreign tagKind = iota
	stable
	candidate
	marker
)

// kind sorts a tag into what the pipeline writes: stable versions, release candidates, and the
// marker and claim tags around them (see packages version, tags and claim).
func kind(t string) tagKind {
	if v, ok := version.Parse(t); ok {
		switch {
		case version.IsStable(v) && v.Metadata() == "":
			return stable
		case version.IsRCTag(t):
			return candidate
		}
		return foreign
	}
	if _, _, ok := tags.ParseMarker(t); ok {
		return marker
	}
	if _, ok := claim.Parse(t); ok {
		return marker
	}
	return foreign
}

// stageTag reports whether t is a tag the chain's stages add to the two-stage pipeline's: a
// version tag of a stage between the first and the last, or a stage's marker.
func (r Rules) stageTag(t string) bool {
	if r.Chain.Len() == 0 {
		return false
	}
	if pt, ok := r.Chain.ParseTag(t); ok && pt.Stage != r.Chain.First() && pt.Stage != r.Chain.Last() {
		return true
	}
	_, _, ok := r.Chain.ParseMarker(t)
	return ok
}

// versionKey is a version's X.Y.Z, so that v1.0.0 and 1.0.0 count as one version.
func versionKey(t string) string {
	v, _ := version.Parse(t)
	return version.StableTag("", v)
}

// newestStable returns the keys of the newest n distinct stable versions in list.
func newestStable(list []string, n int) map[string]bool {
	keep := map[string]bool{}
	for _, t := range version.SortTags(list) {
		if len(keep) == n {
			break
		}
		if kind(t) == stable {
			keep[versionKey(t)] = true
		}
	}
	return keep
}

// lineHighest returns the key of the highest stable version of each MAJOR.MINOR line: build-rc
// counts the next version of a line from it, so removing it would hand a version out twice.
func lineHighest(list []string) []string {
	lines := map[string]bool{}
	var out []string
	for _, t := range version.SortTags(list) {
		if kind(t) != stable {
			continue
		}
		v, _ := version.Parse(t)
		if l := version.LineOf(v).String(); !lines[l] {
			lines[l] = true
			out = append(out, versionKey(t))
		}
	}
	return out
}

// rcOf is the release candidate an entry was built as: its version annotation, else an RC tag on it.
func rcOf(e Entry) string {
	if kind(e.Version) == candidate {
		return e.Version
	}
	for _, t := range e.Tags {
		if kind(t) == candidate {
			return t
		}
		if c, ok := claim.Parse(t); ok && !c.Stable() && !c.Record() {
			return c.Version
		}
	}
	return ""
}
