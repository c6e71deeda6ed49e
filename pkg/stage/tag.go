package stage

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/Masterminds/semver/v3"

	"github.com/ocipromote/ocipromote/pkg/tags"
	"github.com/ocipromote/ocipromote/pkg/version"
)

// rcWord is the pre-release word of the first stage's tags, the release candidates X.Y.Z-rc.N.
const rcWord = "rc"

// Tag is a candidate's version tag in one stage: X.Y.Z-rc.N in the first stage (a release
// candidate, exactly version.RCTag), X.Y.Z-<stage>.N in an intermediate stage (the same N as
// the candidate's rc.N) and X.Y.Z in the last, each with the repository's prefix ("" or "v").
type Tag struct {
	Stage  string
	Prefix string
	Base   *semver.Version
	// Pre is the word of the pre-release part: "rc" in the first stage, the stage's name in an
	// intermediate one, "" in the last.
	Pre string
	// N is the candidate number; 0 in the last stage, whose tags have none.
	N uint64
}

// String is the tag as it is written to the registry.
func (t Tag) String() string {
	if t.Base == nil {
		return ""
	}
	switch t.Pre {
	case "":
		return version.StableTag(t.Prefix, t.Base)
	case rcWord:
		return version.RCTag(t.Prefix, t.Base, t.N)
	}
	return fmt.Sprintf("%s%d.%d.%d-%s.%d", t.Prefix, t.Base.Major(), t.Base.Minor(), t.Base.Patch(), t.Pre, t.N)
}

// Format is the tag of candidate base-rc.n (prefix included) in stage: the release-candidate tag
// itself in the first stage, X.Y.Z-<stage>.N in an intermediate one, X.Y.Z in the last. The last
// stage's tag is the candidate's own version; the promotion rules may give it a later patch.
func (c Chain) Format(stage, prefix string, base *semver.Version, n uint64) (string, error) {
	t, err := c.tag(stage, prefix, base, n)
	if err != nil {
		return "", err
	}
	return t.String(), nil
}

func (c Chain) tag(stage, prefix string, base *semver.Version, n uint64) (Tag, error) {
	if _, err := version.ParsePrefix(prefix); err != nil {
		return Tag{}, err
	}
	if n == 0 {
		return Tag{}, fmt.Errorf("candidate %s: its number N counts from 1", version.StableTag(prefix, base))
	}
	i, ok := c.Index(stage)
	if !ok {
		return Tag{}, c.unknown(stage)
	}
	t := Tag{Stage: stage, Prefix: prefix, Base: version.Base(base), Pre: stage, N: n}
	switch i {
	case 0:
		t.Pre = rcWord
	case c.Len() - 1:
		t.Pre, t.N = "", 0
	}
	return t, nil
}

// In is the tag in stage of the release candidate rcTag (X.Y.Z-rc.N, with its prefix):
// In("1.3.0-rc.4", "preprod") is "1.3.0-preprod.4".
func (c Chain) In(rcTag, stage string) (string, error) {
	v, ok := version.Parse(rcTag)
	if !ok {
		return "", fmt.Errorf("candidate %q is not a version", rcTag)
	}
	base, n, ok := version.RC(v)
	if !ok {
		return "", fmt.Errorf("candidate %s is not a release candidate X.Y.Z-rc.N: %s", rcTag, version.WhyNotRC(v))
	}
	return c.Format(stage, version.Prefix(rcTag), base, n)
}

// ParseTag reads a version tag as one stage's: X.Y.Z-rc.N is the first stage's, X.Y.Z-<s>.N an
// intermediate stage s's (N a whole number from 1, written without leading zeros), X.Y.Z the
// last stage's; each with an optional "v" and no build metadata. Any other tag is no stage's
// (WhyNot says why). Tag.Stage is always set, the first stage's name included.
func (c Chain) ParseTag(tag string) (Tag, bool) {
	t, why := c.parseTag(tag)
	return t, why == ""
}

// WhyNot says in a few words why tag is no stage's tag (see ParseTag), or "" when it is one.
func (c Chain) WhyNot(tag string) string {
	_, why := c.parseTag(tag)
	return why
}

func (c Chain) parseTag(tag string) (Tag, string) {
	v, ok := version.Parse(tag)
	if !ok {
		return Tag{}, "it is not a version X.Y.Z (with an optional v)"
	}
	if v.Metadata() != "" {
		return Tag{}, fmt.Sprintf("it carries build metadata +%s", v.Metadata())
	}
	t := Tag{Prefix: version.Prefix(tag), Base: version.Base(v)}
	if version.IsStable(v) {
		t.Stage = c.Last()
		return t, ""
	}
	if _, n, ok := version.RC(v); ok {
		t.Stage, t.Pre, t.N = c.First(), rcWord, n
		return t, ""
	}
	name, rest, _ := strings.Cut(v.Prerelease(), ".")
	if i, ok := c.Index(name); ok && i > 0 && i < c.Len()-1 {
		if n, err := strconv.ParseUint(rest, 10, 64); err == nil && n > 0 && strconv.FormatUint(n, 10) == rest {
			t.Stage, t.Pre, t.N = name, name, n
			return t, ""
		}
	}
	return Tag{}, fmt.Sprintf("its pre-release part %q is not %s (N a whole number from 1 with nothing after it)", v.Prerelease(), c.preReleases())
}

// preReleases names the pre-release parts of the chain's tags, for messages.
func (c Chain) preReleases() string {
	forms := []string{"rc.N (" + c.First() + ")"}
	for _, s := range c.names[1 : len(c.names)-1] {
		forms = append(forms, s+".N")
	}
	return strings.Join(forms, " or ")
}

// MarkerPrefix starts the marker tags of stage, <prefix><short sha>, which name the artifact a
// commit offered to or promoted into it: the first stage's is "<first>-" (integration-<s> in the
// default chain, tags.IntegrationPrefix), an intermediate stage's "<stage>-", and the last
// stage's is always tags.ValidatedPrefix, as today.
func (c Chain) MarkerPrefix(stage string) (string, error) {
	i, ok := c.Index(stage)
	switch {
	case !ok:
		return "", c.unknown(stage)
	case i == c.Len()-1:
		return tags.ValidatedPrefix, nil
	}
	return stage + "-", nil
}

// Marker is stage's marker tag for the commit whose short sha is short.
func (c Chain) Marker(stage, short string) (string, error) {
	p, err := c.MarkerPrefix(stage)
	if err != nil {
		return "", err
	}
	if _, ok := tags.CutMarker(p+short, p); !ok {
		return "", fmt.Errorf("short sha %q is not 4 to 40 lower-case hex characters", short)
	}
	return p + short, nil
}

// ParseMarker reads tag as a stage's marker tag, returning the stage and the short sha.
func (c Chain) ParseMarker(tag string) (stage, short string, ok bool) {
	for _, s := range c.names {
		p, _ := c.MarkerPrefix(s)
		if short, ok := tags.CutMarker(tag, p); ok {
			return s, short, true
		}
	}
	return "", "", false
}

// unknown is the error for a stage name not in the chain.
func (c Chain) unknown(stage string) error {
	return fmt.Errorf("%w: %q is not a stage of the chain %s", ErrInvalid, stage, c)
}
