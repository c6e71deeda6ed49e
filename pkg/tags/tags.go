// Package tags names the pipeline's tags (SPEC §1) and finds them in a tag list. Versions are the
// version package's business; this package covers the markers around them.
package tags

import (
	"fmt"
	"slices"
	"strings"

	"github.com/ocipromote/ocipromote/pkg/ref"
)

// The marker tag prefixes.
const (
	ShaPrefix         = "sha-"
	IntegrationPrefix = "integration-"
	ValidatedPrefix   = "validated-"
)

// Sha is the immutable reference to a commit's artifact.
func Sha(short string) string { return ShaPrefix + short }

// Integration marks the artifact offered to integration.
func Integration(short string) string { return IntegrationPrefix + short }

// Validated marks the artifact that passed integration; written only after its stable tag.
func Validated(short string) string { return ValidatedPrefix + short }

// ParseMarker reads a marker tag: sha-<s>, integration-<s> or validated-<s>, where <s> is a short
// sha of 4 to 40 lower-case hex characters. It returns the tag's prefix and <s>.
func ParseMarker(tag string) (prefix, short string, ok bool) {
	for _, p := range []string{ShaPrefix, IntegrationPrefix, ValidatedPrefix} {
		if s, ok := CutMarker(tag, p); ok {
			return p, s, true
		}
	}
	return "", "", false
}

// CutMarker reads tag as the marker prefix+<s>, <s> a short sha of 4 to 40 lower-case hex
// characters, and returns <s>. It is ParseMarker for one prefix, such as a stage's (package stage).
func CutMarker(tag, prefix string) (short string, ok bool) {
	s, found := strings.CutPrefix(tag, prefix)
	if !found || !ref.IsHex(s) || len(s) < 4 || len(s) > 40 {
		return "", false
	}
	return s, true
}

// Short is the first n characters of a full sha.
func Short(sha string, n int) (string, error) {
	if n < 4 || n > 40 {
		return "", fmt.Errorf("short sha length %d is outside 4..40", n)
	}
	if len(sha) < n {
		return "", fmt.Errorf("commit sha %q is shorter than the short sha length %d", sha, n)
	}
	return sha[:n], nil
}

// FindShort returns the short shas s for which prefix+s is in list and s and sha agree (one is a
// prefix of the other), sorted. More than one answer means the given sha is ambiguous.
func FindShort(list []string, prefix, sha string) []string {
	var out []string
	for _, t := range list {
		s, ok := strings.CutPrefix(t, prefix)
		if !ok || !ref.IsHex(s) || len(s) < 4 {
			continue
		}
		if strings.HasPrefix(sha, s) || strings.HasPrefix(s, sha) {
			out = append(out, s)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Set is a tag list for membership tests.
type Set map[string]struct{}

// NewSet indexes a tag list.
func NewSet(list []string) Set {
	s := make(Set, len(list))
	for _, t := range list {
		s[t] = struct{}{}
	}
	return s
}

// Has reports whether tag is in the set.
func (s Set) Has(tag string) bool { _, ok := s[tag]; return ok }
