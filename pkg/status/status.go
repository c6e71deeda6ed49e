// Package status answers the on-call questions about one artifact repository: where is each
// commit in the pipeline (release candidate, stable version, validated, superseded), what does a
// Flux OCIRepository with a given semver constraint select right now, and is automatic promotion
// held. It reads the registry and writes nothing; the rules it applies are the version and
// promote packages', so its answers are the pipeline's.
package status

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/Masterminds/semver/v3"

	"github.com/ocipromote/ocipromote/pkg/artifact"
	"github.com/ocipromote/ocipromote/pkg/claim"
	"github.com/ocipromote/ocipromote/pkg/hold"
	"github.com/ocipromote/ocipromote/pkg/pass"
	"github.com/ocipromote/ocipromote/pkg/promote"
	"github.com/ocipromote/ocipromote/pkg/ref"
	"github.com/ocipromote/ocipromote/pkg/stage"
	"github.com/ocipromote/ocipromote/pkg/tags"
	"github.com/ocipromote/ocipromote/pkg/version"
)

// Selector is a Flux OCIRepository's tag selection: a name for people, the semver constraint and
// the optional semverFilter regular expression.
type Selector struct {
	Name       string `json:"name"`
	Constraint string `json:"constraint"`
	Filter     string `json:"filter,omitempty"`
}

// DefaultSelectors are the pipeline's two clusters, as the shipped Flux examples select:
// integration takes the highest release candidate (the semverFilter keeps it on candidates, so a
// stable tag, such as a rollback's, never moves it); live takes the highest stable version.
var DefaultSelectors = []Selector{
	{Name: "integration", Constraint: version.IntegrationConstraint, Filter: version.IntegrationFilter},
	{Name: "live", Constraint: hold.LiveConstraint},
}

// ParseSelector reads NAME=CONSTRAINT, or NAME=CONSTRAINT;FILTER for an OCIRepository with a
// semverFilter (for example integration=>= 0.0.0-0;.*-rc.*). The constraint and the expression
// are checked as Flux would check them.
func ParseSelector(s string) (Selector, error) {
	name, rest, ok := strings.Cut(strings.TrimSpace(s), "=")
	name = strings.TrimSpace(name)
	if !ok || name == "" || strings.TrimSpace(rest) == "" {
		return Selector{}, fmt.Errorf("input select: selection %q is not NAME=CONSTRAINT (for example live=>= 0.0.0)", s)
	}
	constraint, filter, _ := strings.Cut(rest, ";")
	sel := Selector{Name: name, Constraint: strings.TrimSpace(constraint), Filter: strings.TrimSpace(filter)}
	if _, err := version.Select(nil, sel.Constraint, sel.Filter); err != nil {
		return Selector{}, fmt.Errorf("input select: selection %s: %w", name, err)
	}
	return sel, nil
}

// ParseSelectors reads one selection per non-empty line; none gives DefaultSelectors.
func ParseSelectors(s string) ([]Selector, error) {
	var out []Selector
	seen := map[string]bool{}
	for _, line := range strings.Split(s, "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		sel, err := ParseSelector(line)
		if err != nil {
			return nil, err
		}
		if seen[sel.Name] {
			return nil, fmt.Errorf("input select: selection %s is given twice", sel.Name)
		}
		seen[sel.Name] = true
		out = append(out, sel)
	}
	if len(out) == 0 {
		return slices.Clone(DefaultSelectors), nil
	}
	return out, nil
}

// Artifact is one commit's artifact: the manifest a sha-<s> tag points at.
type Artifact struct {
	Short string `json:"short_sha"`
	Sha   string `json:"sha,omitempty"`
	// RC is the release-candidate version it was built as.
	RC string `json:"rc,omitempty"`
	// Stable lists its stable tags, highest first (a rolled-back artifact can have two).
	Stable    []string  `json:"stable,omitempty"`
	Validated bool      `json:"validated"`
	Digest    string    `json:"digest"`
	Created   time.Time `json:"created,omitzero"`
	Revision  string    `json:"revision,omitempty"`
	// SupersededBy is the stable tag of a newer candidate that makes this one superseded: by
	// pkg/promote's rules, validating it now would write nothing.
	SupersededBy string `json:"superseded_by,omitempty"`
	// SelectedBy names the selections that pick it now.
	SelectedBy []string `json:"selected_by,omitempty"`
	// Signature is set when the signatures were checked (CheckSignatures).
	Signature *Signature `json:"signature,omitempty"`
}

// Selection is what one selector picks now.
type Selection struct {
	Selector
	// Tag is the selected tag ("" when nothing matches), Digest its manifest and Short the
	// commit of that artifact when it is one.
	Tag    string `json:"tag"`
	Digest string `json:"digest,omitempty"`
	Short  string `json:"short_sha,omitempty"`
	// Held is true when a hold is on and the selection does not take release candidates: it
	// moves only when promotion writes a stable version, so it stays until the hold is released.
	Held bool `json:"held"`
	// Foreign are tags this selection considers that the pipeline did not write in its own forms
	// (version.Foreign), such as 0.5.0-rc1 pushed by another tool: Flux selects them like any
	// other, so one at or above the pipeline's newest tag holds the cluster on it.
	Foreign []string `json:"foreign,omitempty"`
}

// Report is the whole answer.
type Report struct {
	Repository string      `json:"repository"`
	Artifacts  []Artifact  `json:"artifacts"`
	Selections []Selection `json:"selections"`
	Hold       hold.State  `json:"hold"`
	// HoldRecords are every hold record, highest number (the current hold) first.
	HoldRecords []hold.State `json:"hold_records"`
	// StageHolds are the current holds of the other stages of a chain (hold-<stage>-<n>), one
	// for each stage that has a hold record, by stage name; Hold is the last stage's.
	StageHolds []StageHold `json:"stage_holds"`
	// Chain and Stages report every stage of a chain of stages (GatherChain): what each selects,
	// its gates and the candidates pending for it. Absent from Gather's report.
	Chain  string  `json:"chain,omitempty"`
	Stages []Stage `json:"stages,omitempty"`
	// Omitted counts the older artifacts left out by a limit.
	Omitted int `json:"omitted,omitempty"`
}

// StageHold is the current hold of a stage other than the last: a change freeze on promotions
// into it.
type StageHold struct {
	Stage string `json:"stage"`
	hold.State
}

// ErrNoRepository is returned by Gather for a repository with no tag: registries answer so for a
// repository that does not exist, and a mistyped name is far likelier than an emptied one.
var ErrNoRepository = errors.New("no such repository")

// Gather reads the repository once: one tag listing, a HEAD for each sha-<s>, validated-<s>, stable
// and selected tag (and for each claim on a stable version not written yet), a GET for each
// distinct manifest, every hold record of the last stage and the current one of each other stage
// (one GET each).
func Gather(ctx context.Context, reg Registry, selectors []Selector) (Report, error) {
	return gather(ctx, reg, selectors, nil)
}

// GatherChain is Gather, with every stage of ch reported (Report.Stages): it also resolves the
// tags of the stages between the first and the last, and reads the pass records of the candidates
// in every stage but the last (one GET each). A selection named after a stage before the
// last is held by that stage's hold rather than the last stage's.
func GatherChain(ctx context.Context, reg Registry, selectors []Selector, ch Chain) (Report, error) {
	return gather(ctx, reg, selectors, &ch)
}

// ChainSelectors are the selections of the stages of c, named after them: what each stage's
// OCIRepository selects (stage.Chain.Selection).
func ChainSelectors(c stage.Chain) []Selector {
	var out []Selector
	for _, name := range c.Names() {
		s, _ := c.Selection(name)
		out = append(out, Selector{Name: name, Constraint: s.Semver, Filter: s.SemverFilter})
	}
	return out
}

func gather(ctx context.Context, reg Registry, selectors []Selector, ch *Chain) (Report, error) {
	list, err := reg.Tags(ctx)
	if err != nil {
		return Report{}, err
	}
	if len(list) == 0 {
		return Report{}, fmt.Errorf("%w: %s lists no tag at all, so it does not exist (or nothing was ever pushed to it): check the repository name; build-rc creates it with the first release candidate", ErrNoRepository, reg.Name())
	}
	picked := make([]string, len(selectors))
	for i, s := range selectors {
		if picked[i], err = version.Select(list, s.Constraint, s.Filter); err != nil {
			return Report{}, err
		}
	}
	pending := tags.NewSet(claim.In(list).Unwritten(list).Tags())
	idx, err := Resolve(ctx, reg, list, func(t string) bool {
		prefix, _, marker := tags.ParseMarker(t)
		return (marker && prefix != tags.IntegrationPrefix) || isStable(t) || slices.Contains(picked, t) || pending.Has(t) || (ch != nil && between(ch.Stages, t))
	})
	if err != nil {
		return Report{}, err
	}
	records, err := hold.History(ctx, reg, list)
	if err != nil {
		return Report{}, err
	}
	h := hold.State{Record: hold.Record{State: hold.Off}}
	if len(records) > 0 {
		h = records[0]
	}
	r := Report{Repository: reg.Name(), Hold: h, HoldRecords: records, Artifacts: artifacts(idx)}
	for _, st := range hold.Stages(list) {
		if st == hold.Last {
			continue
		}
		cur, err := st.Read(ctx, reg, list)
		if err != nil {
			return Report{}, err
		}
		r.StageHolds = append(r.StageHolds, StageHold{Stage: string(st), State: cur})
	}
	byDigest := map[string]*Artifact{}
	for i := range r.Artifacts {
		byDigest[r.Artifacts[i].Digest] = &r.Artifacts[i]
	}
	chainSel := map[string]stage.Selection{}
	if ch != nil {
		for _, name := range ch.Stages.Names() {
			chainSel[name], _ = ch.Stages.Selection(name)
		}
	}
	for i, s := range selectors {
		sel := Selection{Selector: s, Tag: picked[i]}
		if ch != nil && ch.Stages.Has(s.Name) && s.Constraint == chainSel[s.Name].Semver && s.Filter == chainSel[s.Name].SemverFilter {
			// A stage's own selection: the tags of its own form are the pipeline's.
			sel.Foreign, err = ch.Stages.Foreign(list, s.Name)
		} else {
			sel.Foreign, err = version.Foreign(list, s.Constraint, s.Filter)
		}
		if err != nil {
			return Report{}, err
		}
		if sel.Tag != "" {
			sel.Digest = idx.Digests[sel.Tag]
			if a := byDigest[sel.Digest]; a != nil {
				sel.Short = a.Short
				a.SelectedBy = append(a.SelectedBy, s.Name)
			}
		}
		sel.Held = r.holdOf(ch, s.Name).Held() && !tracksCandidates(s, sel.Tag)
		r.Selections = append(r.Selections, sel)
	}
	if ch == nil {
		return r, nil
	}
	holds := map[string]hold.State{}
	for _, name := range ch.Stages.Names() {
		holds[name] = r.holdOf(ch, name)
	}
	if r.Stages, err = chainStages(ctx, reg, list, idx, r.Artifacts, holds, *ch); err != nil {
		return Report{}, err
	}
	r.Chain = ch.Stages.String()
	return r, nil
}

// ChainStages reports every stage of ch (Stages) from a tag listing and an index of it that
// resolves at least the commit artifacts (sha-<s>), the stable tags and the tags of the stages
// between the first and the last, as Gather's and prune's indexes do. It reads each stage's
// hold, and the pass records of the candidates in every stage but the last.
func ChainStages(ctx context.Context, reg Registry, list []string, idx *Index, ch Chain) ([]Stage, error) {
	holds := map[string]hold.State{}
	for _, name := range ch.Stages.Names() {
		st, err := hold.StageOf(ch.Stages, name)
		if err != nil {
			return nil, err
		}
		if holds[name], err = st.Read(ctx, reg, list); err != nil {
			return nil, err
		}
	}
	return chainStages(ctx, reg, list, idx, artifacts(idx), holds, ch)
}

func chainStages(ctx context.Context, reg Registry, list []string, idx *Index, arts []Artifact, holds map[string]hold.State, ch Chain) ([]Stage, error) {
	f := ChainFacts{Chain: ch, Tags: list, Digests: idx.Digests, Artifacts: arts, Holds: holds}
	var err error
	if f.Evidence, err = evidence(ctx, reg, f); err != nil {
		return nil, err
	}
	return Stages(f)
}

// between reports whether t is the tag of a stage between the first and the last of c.
func between(c stage.Chain, t string) bool {
	pt, ok := c.ParseTag(t)
	return ok && pt.Stage != c.First() && pt.Stage != c.Last()
}

// holdOf is the current hold of stage name: the last stage's (Report.Hold) for the last stage, for
// a name outside the chain and without a chain; else the stage's own, off when it never had one.
func (r Report) holdOf(ch *Chain, name string) hold.State {
	if ch == nil || !ch.Stages.Has(name) || name == ch.Stages.Last() {
		return r.Hold
	}
	for _, h := range r.StageHolds {
		if h.Stage == name {
			return h.State
		}
	}
	return hold.State{Record: hold.Record{State: hold.Off}}
}

// evidence reads the pass records that can make a candidate pending: for each stage after the
// first, those in the stage before of the artifacts awaiting it (awaiting), one pass.Read each
// that has a record tag. The records of a candidate that is in the next stage already, or could
// no longer move it, are not read: a long history of passes costs nothing.
func evidence(ctx context.Context, reg Registry, f ChainFacts) ([]pass.Evidence, error) {
	c := f.Chain.Stages
	type key struct{ stage, hex string }
	recorded := map[key]bool{}
	for _, t := range f.Tags {
		if name, hex, _, ok := pass.ParseTag(t); ok {
			recorded[key{name, hex}] = true
		}
	}
	var out []pass.Evidence
	for _, name := range c.Names()[1:] {
		from, _ := c.Previous(name)
		sel, err := c.Selection(name)
		if err != nil {
			return nil, err
		}
		picked, err := version.Select(f.Tags, sel.Semver, sel.SemverFilter)
		if err != nil {
			return nil, err
		}
		aw := awaiting(f, name, picked)
		for _, d := range slices.Sorted(maps.Keys(aw)) {
			hex := strings.TrimPrefix(d, "sha256:")
			if len(hex) < 12 || !recorded[key{from, hex[:12]}] {
				continue
			}
			ev, err := pass.Read(ctx, reg, f.Tags, from, d)
			if err != nil {
				return nil, err
			}
			out = append(out, ev)
		}
	}
	return out, nil
}

// tracksCandidates reports whether a new release candidate above the selected tag would be
// selected, so that build-rc, which a hold does not stop, moves this selection.
func tracksCandidates(s Selector, picked string) bool {
	base := semver.New(0, 0, 0, "", "")
	if v, ok := version.Parse(picked); ok {
		base = version.Base(v)
	}
	next, err := version.Bumped(base, version.Patch)
	if err != nil {
		return false
	}
	got, err := version.Select([]string{version.RCTag(version.Prefix(picked), next, 1)}, s.Constraint, s.Filter)
	return err == nil && got != ""
}

// Limit keeps the n newest artifacts (all when n <= 0).
func (r *Report) Limit(n int) {
	if n > 0 && len(r.Artifacts) > n {
		r.Omitted += len(r.Artifacts) - n
		r.Artifacts = r.Artifacts[:n]
	}
}

func isStable(t string) bool {
	v, ok := version.Parse(t)
	return ok && version.IsStable(v)
}

// artifacts builds one row per commit artifact, newest first.
func artifacts(idx *Index) []Artifact {
	byDigest := idx.ByDigest()
	var out []Artifact
	for _, d := range idx.digests() {
		short := ShortOf(byDigest[d])
		if short == "" {
			continue
		}
		meta := artifact.MetadataFrom(idx.Manifests[d].Annotations())
		a := Artifact{Short: short, Digest: d, Created: meta.Created, Validated: idx.Digests[tags.Validated(short)] == d}
		// The annotations are anyone's who can push: only a revision build-rc would write is shown.
		if o, err := ref.ParseOrigin(meta.Revision); err == nil {
			a.Sha = o.Sha
			if _, err := ref.NewOrigin(o.Ref, o.Sha); err == nil {
				a.Revision = o.String()
			}
		}
		if version.IsRCTag(meta.Version) {
			a.RC = meta.Version
		}
		for _, t := range byDigest[d] {
			if isStable(t) {
				a.Stable = append(a.Stable, t)
			}
		}
		a.Stable = version.SortTags(a.Stable)
		if a.RC != "" && len(a.Stable) == 0 {
			a.SupersededBy = idx.SupersededBy(d, short, a.RC)
		}
		out = append(out, a)
	}
	sort.SliceStable(out, func(i, j int) bool { return newer(out[i], out[j]) })
	return out
}

// ShortOf is the commit of an artifact from the tags on it: the shortest <s> of its sha-<s> tags,
// or "" when it has none (it is no commit artifact).
func ShortOf(onArtifact []string) string {
	var short string
	for _, t := range onArtifact {
		if prefix, s, ok := tags.ParseMarker(t); ok && prefix == tags.ShaPrefix && (short == "" || len(s) < len(short)) {
			short = s
		}
	}
	return short
}

// newer orders artifacts by release-candidate version, then creation time, then commit.
func newer(a, b Artifact) bool {
	va, oka := version.Parse(a.RC)
	vb, okb := version.Parse(b.RC)
	switch {
	case oka && okb && !va.Equal(vb):
		return va.GreaterThan(vb)
	case oka != okb:
		return oka
	case !a.Created.Equal(b.Created):
		return a.Created.After(b.Created)
	}
	return a.Short < b.Short
}

// SupersededBy applies tag-validated's rules (promote.Decide) to the unpromoted release candidate
// rc at digest, built from commit short: the stable tag of a newer candidate that makes it
// superseded, or "" when validating it now would still promote it, so it is pending. As for
// tag-validated, another artifact's claim on a stable version not written yet counts as that
// version. It reads only idx, which must hold the stable tags and those claims resolved (Gather's
// and prune's indexes do); whatever it cannot tell answers "" (pending), the answer that keeps an
// artifact.
func (idx *Index) SupersededBy(digest, short, rc string) string {
	meta := artifact.MetadataFrom(idx.Manifests[digest].Annotations())
	line, err := version.ParseLine(meta.Line)
	if err != nil {
		return ""
	}
	c := promote.Candidate{Digest: digest, Short: short, RCTag: rc, Line: line}
	names, err := promote.Stables(idx.Tags, c)
	if err != nil {
		return ""
	}
	st := promote.State{Stables: map[string]string{}, Behind: map[string]string{}}
	for _, n := range names {
		if d, ok := idx.Digests[n]; ok {
			st.Stables[n] = d
		}
	}
	for _, cl := range promote.Claims(idx.Tags, c) {
		if d, ok := idx.Digests[cl.Tag()]; ok {
			st.Claims = append(st.Claims, promote.Holder{Version: cl.Version, Digest: d})
		}
	}
	for d := promote.NeedsBehind(c, st); d != ""; d = promote.NeedsBehind(c, st) {
		st.Behind[d] = artifact.MetadataFrom(idx.Manifests[d].Annotations()).Version
	}
	d, err := promote.Decide(c, st)
	if err != nil || d.Reason != promote.Superseded {
		return ""
	}
	return d.SupersededBy
}
