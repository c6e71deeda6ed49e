// Package version holds the pipeline's version rules: which tags count as versions (exactly as
// Flux's source-controller decides), the highest stable version, and the next release candidate.
// Everything here is a pure function over tag names.
package version

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/Masterminds/semver/v3"
)

// Parse reads a tag the way Flux's source-controller does: strict semver (three numeric parts,
// optional pre-release and build metadata) with an optional leading "v". Tags that fail, such as
// "latest", "1.2", "sha-abc1234" or cosign's ".sig" tags, are not versions.
func Parse(tag string) (*semver.Version, bool) {
	plain, hasV := strings.CutPrefix(tag, "v")
	// Most tags of a pipeline repository (sha-…, integration-…, claim-…) fail on the first byte.
	if plain == "" || plain[0] < '0' || plain[0] > '9' {
		return nil, false
	}
	v, err := semver.StrictNewVersion(plain)
	if err != nil {
		return nil, false
	}
	if hasV {
		// Parse again to keep the tag, "v" included, as the version's Original.
		if v, err = semver.NewVersion(tag); err != nil {
			return nil, false
		}
	}
	return v, true
}

// RC splits a release-candidate version "X.Y.Z-rc.N" into its base X.Y.Z and N. Any other
// pre-release (or none) is not a release candidate of this pipeline.
func RC(v *semver.Version) (base *semver.Version, n uint64, ok bool) {
	rest, found := strings.CutPrefix(v.Prerelease(), "rc.")
	if !found || v.Metadata() != "" {
		return nil, 0, false
	}
	n, err := strconv.ParseUint(rest, 10, 64)
	if err != nil || n == 0 || strconv.FormatUint(n, 10) != rest {
		return nil, 0, false
	}
	b := Base(v)
	return b, n, true
}

// WhyNotRC says in a few words why a pre-release version is not a release candidate (see RC).
func WhyNotRC(v *semver.Version) string {
	if v.Metadata() != "" {
		return fmt.Sprintf("it carries build metadata +%s", v.Metadata())
	}
	return fmt.Sprintf("its pre-release part %q is not rc.N, N a whole number from 1 with nothing after it", v.Prerelease())
}

// IsRCTag reports whether tag is a release-candidate version tag X.Y.Z-rc.N (see RC).
func IsRCTag(tag string) bool {
	v, ok := Parse(tag)
	if !ok {
		return false
	}
	_, _, ok = RC(v)
	return ok
}

// Base is v without pre-release and build metadata.
func Base(v *semver.Version) *semver.Version {
	return semver.New(v.Major(), v.Minor(), v.Patch(), "", "")
}

// IsStable reports whether v has no pre-release part (build metadata does not count).
func IsStable(v *semver.Version) bool { return v.Prerelease() == "" }

// Tagged is a tag that parsed as a version.
type Tagged struct {
	Tag     string
	Version *semver.Version
}

// Versions returns the tags that parse as versions, in the order given.
func Versions(tags []string) []Tagged {
	out := make([]Tagged, 0, len(tags))
	for _, t := range tags {
		if v, ok := Parse(t); ok {
			out = append(out, Tagged{Tag: t, Version: v})
		}
	}
	return out
}

// Select answers "which tag would a Flux OCIRepository with this semver constraint (and optional
// semverFilter regular expression) pick?" with source-controller's rules: filter tags by the
// expression, keep those that parse as versions and satisfy the constraint, take the highest.
// It returns "" when nothing matches.
func Select(tags []string, constraint, filter string) (string, error) {
	c, err := semver.NewConstraint(constraint)
	if err != nil {
		return "", fmt.Errorf("semver constraint %q: %w", constraint, err)
	}
	var re *regexp.Regexp
	if filter != "" {
		if re, err = regexp.Compile(filter); err != nil {
			return "", fmt.Errorf("semver filter %q: %w", filter, err)
		}
	}
	var best *Tagged
	for _, tv := range Versions(tags) {
		if re != nil && !re.MatchString(tv.Tag) {
			continue
		}
		if !c.Check(tv.Version) {
			continue
		}
		if best == nil || tv.Version.GreaterThan(best.Version) {
			best = &tv
		}
	}
	if best == nil {
		return "", nil
	}
	return best.Tag, nil
}

// Bump is the part of the highest stable version a new release increments.
type Bump string

// The bump levels.
const (
	Patch Bump = "patch"
	Minor Bump = "minor"
	Major Bump = "major"
)

// ParseBump validates a bump level; "" means patch.
func ParseBump(s string) (Bump, error) {
	switch b := Bump(strings.ToLower(strings.TrimSpace(s))); b {
	case "":
		return Patch, nil
	case Patch, Minor, Major, Auto:
		return b, nil
	}
	return "", fmt.Errorf("bump %q is not one of patch, minor, major, auto", s)
}

// Line restricts versions to one MAJOR.MINOR series, so a hotfix line (e.g. 1.4) can run the same
// pipeline while main moves on.
type Line struct{ Major, Minor uint64 }

var lineRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^v?(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$`) })

// ParseLine reads "MAJOR.MINOR" (e.g. "1.4"); "" means no line.
func ParseLine(s string) (*Line, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	m := lineRE().FindStringSubmatch(s)
	if m == nil {
		return nil, fmt.Errorf("version line %q is not MAJOR.MINOR (for example 1.4)", s)
	}
	major, err1 := strconv.ParseUint(m[1], 10, 64)
	minor, err2 := strconv.ParseUint(m[2], 10, 64)
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("version line %q: numbers out of range", s)
	}
	return &Line{Major: major, Minor: minor}, nil
}

// Contains reports whether v belongs to the line; a nil line contains every version.
func (l *Line) Contains(v *semver.Version) bool {
	return l == nil || (v.Major() == l.Major && v.Minor() == l.Minor)
}

func (l *Line) String() string { return fmt.Sprintf("%d.%d", l.Major, l.Minor) }

// LineOf is the MAJOR.MINOR line v belongs to.
func LineOf(v *semver.Version) *Line { return &Line{Major: v.Major(), Minor: v.Minor()} }

// ParseInitial reads the initial version (the highest stable of an empty repository); "" is 0.0.0.
func ParseInitial(s string) (*semver.Version, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return semver.New(0, 0, 0, "", ""), nil
	}
	v, ok := Parse(s)
	if !ok || !IsStable(v) || v.Metadata() != "" {
		return nil, fmt.Errorf("initial version %q is not a stable X.Y.Z version", s)
	}
	return Base(v), nil
}

// ErrBumpOutsideLine is returned when a minor or major bump is asked for inside a version line.
var ErrBumpOutsideLine = errors.New("a version line only takes patch releases")

// HighestStable is the highest stable version among tags within line, or nil when there is none.
func HighestStable(tags []string, line *Line) *Tagged {
	return highestStable(Versions(tags), line)
}

func highestStable(versions []Tagged, line *Line) *Tagged {
	var best *Tagged
	for i := range versions {
		tv := &versions[i]
		if !IsStable(tv.Version) || !line.Contains(tv.Version) {
			continue
		}
		// Equal versions (1.0.0 and v1.0.0) tie-break on the tag, so the answer does not depend
		// on the registry's listing order.
		if best == nil || tv.Version.GreaterThan(best.Version) || (tv.Version.Equal(best.Version) && tv.Tag < best.Tag) {
			best = tv
		}
	}
	return best
}

// Plan is the outcome of NextRC.
type Plan struct {
	// Highest is the highest stable version the base was bumped from ("" for none).
	Highest string
	// Base is the X.Y.Z the candidate releases.
	Base *semver.Version
	// N is the release-candidate number.
	N uint64
	// Tag is the release-candidate tag, prefix included.
	Tag string
}

// Rules are the inputs of NextRC other than the tags.
type Rules struct {
	Bump    Bump
	Line    *Line
	Initial *semver.Version // nil means 0.0.0
	Prefix  string          // "" or "v"
	// Reserved are RC tags (prefix included) to treat as taken though no tag exists yet, such as
	// numbers another build has claimed. They only raise N: the base comes from real tags, so a
	// claim a crashed build left behind never moves the version line.
	Reserved []string
}

// Validate rejects rules that contradict each other.
func (r Rules) Validate() error {
	if r.Bump == Auto {
		return errors.New("bump auto must be resolved to patch, minor or major before planning")
	}
	if r.Line != nil && r.Bump != Patch && r.Bump != "" {
		return fmt.Errorf("%w: bump %s with version line %s", ErrBumpOutsideLine, r.Bump, r.Line)
	}
	return nil
}

// NextRC computes the next release candidate:
//   - H is the highest stable version (within the line, if any), or the initial version;
//   - B is H bumped; within a line only patch bumps are allowed and an empty line starts at
//     MAJOR.MINOR.0;
//   - if a release candidate of a higher base already exists (within the line), B is that base, so
//     the newest build is always the highest candidate and integration always picks it up;
//   - N is one more than the highest existing or reserved B-rc.N, compared as numbers.
func NextRC(tags []string, r Rules) (Plan, error) {
	if err := r.Validate(); err != nil {
		return Plan{}, err
	}
	initial := r.Initial
	if initial == nil {
		initial = semver.New(0, 0, 0, "", "")
	}
	var p Plan
	// Each tag is parsed once: this runs over a repository's whole history on every merge.
	versions := Versions(tags)
	h := highestStable(versions, r.Line)
	var base semver.Version
	switch {
	case h != nil && !h.Version.LessThan(initial):
		p.Highest = h.Tag
		b, err := Bumped(Base(h.Version), r.Bump)
		if err != nil {
			return Plan{}, fmt.Errorf("highest stable version %s: %w", h.Tag, err)
		}
		base = *b
	case r.Line != nil && !r.Line.Contains(initial):
		base = *semver.New(r.Line.Major, r.Line.Minor, 0, "", "")
	default:
		b, err := Bumped(initial, r.Bump)
		if err != nil {
			return Plan{}, fmt.Errorf("initial version: %w", err)
		}
		base = *b
	}
	type rc struct {
		base *semver.Version
		n    uint64
	}
	var rcs []rc
	for _, tv := range versions {
		if b, k, ok := RC(tv.Version); ok && r.Line.Contains(b) {
			rcs = append(rcs, rc{b, k})
			if b.GreaterThan(&base) {
				base = *b
			}
		}
	}
	for _, tv := range Versions(r.Reserved) {
		if b, k, ok := RC(tv.Version); ok && r.Line.Contains(b) {
			rcs = append(rcs, rc{b, k})
		}
	}
	var n uint64
	for _, x := range rcs {
		if x.base.Equal(&base) && x.n > n {
			n = x.n
		}
	}
	if n == math.MaxUint64 {
		return Plan{}, fmt.Errorf("%w: release candidate %s-rc.%d", ErrOverflow, base.String(), n)
	}
	p.Base = &base
	p.N = n + 1
	p.Tag = RCTag(r.Prefix, &base, p.N)
	return p, nil
}

// ErrOverflow is returned when a version part to bump is already the largest number a version
// can hold: a tag such as 0.0.18446744073709551615, which anyone with push access could write.
var ErrOverflow = errors.New("version cannot be bumped: the part to raise is at its maximum")

// Bumped returns v raised by b (patch, minor or major), without pre-release or metadata. Unlike
// semver's Inc methods it never panics: a part at its maximum is ErrOverflow.
func Bumped(v *semver.Version, b Bump) (*semver.Version, error) {
	part := map[Bump]uint64{Major: v.Major(), Minor: v.Minor()}[b]
	if b != Major && b != Minor {
		part = v.Patch()
	}
	if part == math.MaxUint64 {
		return nil, fmt.Errorf("%w: %s (bump %s)", ErrOverflow, v.Original(), b)
	}
	var next semver.Version
	switch b {
	case Major:
		next = v.IncMajor()
	case Minor:
		next = v.IncMinor()
	default:
		next = Base(v).IncPatch()
	}
	return &next, nil
}

// RCTag formats the release-candidate tag for base and n.
func RCTag(prefix string, base *semver.Version, n uint64) string {
	return fmt.Sprintf("%s%d.%d.%d-rc.%d", prefix, base.Major(), base.Minor(), base.Patch(), n)
}

// StableTag formats the stable tag for a version, keeping prefix.
func StableTag(prefix string, v *semver.Version) string {
	return fmt.Sprintf("%s%d.%d.%d", prefix, v.Major(), v.Minor(), v.Patch())
}

// Prefix returns the "v" a tag starts with, if any.
func Prefix(tag string) string {
	if strings.HasPrefix(tag, "v") {
		return "v"
	}
	return ""
}

// ParsePrefix validates the tag prefix input: empty or "v", the only prefix Flux reads.
func ParsePrefix(s string) (string, error) {
	switch s {
	case "", "v":
		return s, nil
	}
	return "", fmt.Errorf("tag prefix %q: Flux only reads versions with no prefix or with \"v\"", s)
}

// Sort orders tagged versions from highest to lowest, tags breaking ties for a stable order.
func Sort(tv []Tagged) {
	sort.SliceStable(tv, func(i, j int) bool {
		if c := tv[i].Version.Compare(tv[j].Version); c != 0 {
			return c > 0
		}
		return tv[i].Tag < tv[j].Tag
	})
}

// SortTags returns the tags that are versions, highest first.
func SortTags(tags []string) []string {
	tv := Versions(tags)
	Sort(tv)
	out := make([]string, len(tv))
	for i, x := range tv {
		out[i] = x.Tag
	}
	return out
}

// The integration cluster's selection in the shipped Flux examples: the highest release
// candidate. A semverFilter of ".*-rc.*" keeps it on candidates, but it also lets through any tag
// with "-rc" in it that parses as a version.
const (
	IntegrationConstraint = ">= 0.0.0-0"
	IntegrationFilter     = ".*-rc.*"
)

// StableConstraint is the live cluster's selection in the shipped Flux examples, and the last
// stage's in any chain: the highest stable version, with no semverFilter.
const StableConstraint = ">= 0.0.0"

// Foreign returns the tags a selection (constraint and optional semverFilter, as Select takes
// them) would consider that the pipeline did not write in its own forms: a release candidate is
// X.Y.Z-rc.N (N from 1, no build metadata) and a stable version X.Y.Z, each with an optional "v".
// Other tools, or people, push tags such as 0.5.0-rc1, 0.5.0-rc, 0.0.9-rc.1.1 or
// 0.0.9-rc.1-hotfix into the same repository; Flux selects them like any other.
func Foreign(tags []string, constraint, filter string) ([]string, error) {
	var out []string
	for _, t := range tags {
		v, ok := Parse(t)
		if !ok || IsRCTag(t) || (IsStable(v) && v.Metadata() == "") {
			continue
		}
		picked, err := Select([]string{t}, constraint, filter)
		if err != nil {
			return nil, err
		}
		if picked != "" {
			out = append(out, t)
		}
	}
	return out, nil
}

// Shadowing returns the foreign tags (see Foreign) that a selection would pick over candidate:
// those at a version equal to or above it. While one exists, a new candidate never reaches the
// cluster, and nothing else fails.
func Shadowing(tags []string, candidate, constraint, filter string) ([]string, error) {
	c, ok := Parse(candidate)
	if !ok {
		return nil, fmt.Errorf("candidate %q is not a version", candidate)
	}
	foreign, err := Foreign(tags, constraint, filter)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, t := range foreign {
		if v, _ := Parse(t); !v.LessThan(c) {
			out = append(out, t)
		}
	}
	return out, nil
}
