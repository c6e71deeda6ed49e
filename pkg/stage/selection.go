package stage

import (
	"fmt"
	"regexp"

	"github.com/ocipromote/ocipromote/pkg/version"
)

// Selection is what a stage's Flux OCIRepository selects: spec.ref.semver and, when set,
// spec.ref.semverFilter (a Go regular expression the tag must match before its version counts).
type Selection struct {
	Semver       string `json:"semver"`
	SemverFilter string `json:"semver_filter,omitempty"`
}

// preReleaseConstraint counts every pre-release: Flux (Masterminds/semver) leaves pre-releases
// out of a constraint that has no pre-release part.
const preReleaseConstraint = ">= 0.0.0-0"

// Selection is the selection that picks exactly stage's tags (see ParseTag), whatever else the
// repository holds (markers, records, other stages' tags), for either prefix:
//   - the first stage: ">= 0.0.0-0" with a filter for X.Y.Z-rc.N. The default chain keeps the
//     shipped examples' ".*-rc.*" (version.IntegrationFilter), so nothing changes for it; in that
//     chain no other stage's tag has "-rc" in it, and tags other tools push that it lets through
//     are reported as foreign (Foreign). Another chain gets an anchored filter, since an
//     intermediate stage may be named rcsomething, and it keeps foreign tags out altogether;
//   - an intermediate stage s: ">= 0.0.0-0" with the anchored filter for X.Y.Z-s.N;
//   - the last stage: ">= 0.0.0" (version.StableConstraint) without a filter, as live today: the
//     constraint alone leaves every pre-release out.
func (c Chain) Selection(stage string) (Selection, error) {
	i, ok := c.Index(stage)
	switch {
	case !ok:
		return Selection{}, c.unknown(stage)
	case i == c.Len()-1:
		return Selection{Semver: version.StableConstraint}, nil
	case i == 0 && c.IsDefault():
		return Selection{Semver: version.IntegrationConstraint, SemverFilter: version.IntegrationFilter}, nil
	case i == 0:
		return Selection{Semver: preReleaseConstraint, SemverFilter: anchored(rcWord)}, nil
	}
	return Selection{Semver: preReleaseConstraint, SemverFilter: anchored(stage)}, nil
}

// anchored matches exactly the tags X.Y.Z-<word>.N (N from 1) with an optional "v". Stage names
// and "rc" are letters and digits, so the word needs no escaping.
func anchored(word string) string {
	return `^v?\d+\.\d+\.\d+-` + regexp.QuoteMeta(word) + `\.[1-9]\d*$`
}

// Select is the tag stage's selection picks among list, as Flux does (version.Select); "" for none.
func (c Chain) Select(list []string, stage string) (string, error) {
	s, err := c.Selection(stage)
	if err != nil {
		return "", err
	}
	return version.Select(list, s.Semver, s.SemverFilter)
}

// Foreign returns the tags of list that stage's selection would consider but that are not the
// stage's own tags (see ParseTag): tags other tools or people pushed, such as 0.5.0-rc1 or
// 0.9.0+build.5, which Flux selects like any other. For the default chain it answers as
// version.Foreign does for the integration and live selections.
func (c Chain) Foreign(list []string, stage string) ([]string, error) {
	s, err := c.Selection(stage)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, t := range list {
		if pt, ok := c.ParseTag(t); ok && pt.Stage == stage {
			continue
		}
		picked, err := version.Select([]string{t}, s.Semver, s.SemverFilter)
		if err != nil {
			return nil, err
		}
		if picked != "" {
			out = append(out, t)
		}
	}
	return out, nil
}

// Shadowing returns the foreign tags (see Foreign) that stage's selection would pick over tag,
// one of the stage's own: those at a version equal to or above it. While one exists, tag never
// reaches the stage's cluster.
func (c Chain) Shadowing(list []string, stage, tag string) ([]string, error) {
	own, ok := c.ParseTag(tag)
	if !ok || own.Stage != stage {
		return nil, fmt.Errorf("%q is not a tag of stage %s", tag, stage)
	}
	v, _ := version.Parse(tag)
	foreign, err := c.Foreign(list, stage)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, t := range foreign {
		if fv, _ := version.Parse(t); !fv.LessThan(v) {
			out = append(out, t)
		}
	}
	return out, nil
}
