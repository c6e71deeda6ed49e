// Package ref parses the identifiers the pipeline is handed: Flux revisions, manifest digests,
// commit shas and the revision annotation. Every input here is untrusted, so each parser accepts
// exactly one strict form and says what it expected.
package ref

import (
	"fmt"
	"strings"
	"unicode"
)

// The identifiers' forms are checked byte by byte, not with regexps: a regexp compiled at package
// initialisation costs every process start of every binary, and these forms are simple. The tests
// hold each matcher to the regular expression it implements (match_test.go).

// isLowerHex reports whether s is made of lower-case hex digits only.
func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// isDigest: ^sha256:[0-9a-f]{64}$
func isDigest(s string) bool {
	hex, ok := strings.CutPrefix(s, "sha256:")
	return ok && len(hex) == 64 && isLowerHex(hex)
}

// isSha: ^[0-9a-f]{4,40}$
func isSha(s string) bool { return len(s) >= 4 && len(s) <= 40 && isLowerHex(s) }

// isFullSha: ^[0-9a-f]{40}$
func isFullSha(s string) bool { return len(s) == 40 && isLowerHex(s) }

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// isTag: an OCI tag, ^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$
// (https://github.com/opencontainers/distribution-spec/blob/main/spec.md#pulling-manifests).
func isTag(s string) bool {
	if len(s) == 0 || len(s) > 128 || !isAlnum(s[0]) && s[0] != '_' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) && c != '_' && c != '.' && c != '-' {
			return false
		}
	}
	return true
}

// MaxInputLen bounds every identifier so a hostile payload cannot make us carry megabytes around.
const MaxInputLen = 512

// Digest validates a manifest digest "sha256:<64 lower-case hex>".
func Digest(s string) (string, error) {
	if !isDigest(s) {
		return "", fmt.Errorf("digest %s is not sha256:<64 lower-case hex>", Quote(s))
	}
	return s, nil
}

// Sha validates a commit sha: 4 to 40 lower-case hex characters (a full or short sha).
func Sha(s string) (string, error) {
	if !isSha(s) {
		return "", fmt.Errorf("commit sha %s is not 4 to 40 lower-case hex characters", Quote(s))
	}
	return s, nil
}

// Tag validates an OCI tag name.
func Tag(s string) (string, error) {
	if !isTag(s) {
		return "", fmt.Errorf("tag %s is not a valid OCI tag", Quote(s))
	}
	return s, nil
}

// Revision is what Flux reports as an OCIRepository's revision: "<tag>@sha256:<digest>", or only
// "sha256:<digest>" when the source was pinned by digest.
type Revision struct {
	Tag    string // "" for a digest-only revision
	Digest string
}

func (r Revision) String() string {
	if r.Tag == "" {
		return r.Digest
	}
	return r.Tag + "@" + r.Digest
}

// ParseRevision reads a Flux OCI revision.
func ParseRevision(s string) (Revision, error) {
	if len(s) > MaxInputLen {
		return Revision{}, fmt.Errorf("revision %s is %d bytes long, over the %d-byte limit; a Flux revision is <tag>@sha256:<digest>", Quote(s), len(s), MaxInputLen)
	}
	tag, digest, found := strings.Cut(s, "@")
	if !found {
		tag, digest = "", s
	}
	if _, err := Digest(digest); err != nil {
		return Revision{}, fmt.Errorf("revision %s: want <tag>@sha256:<digest> or sha256:<digest>: %w", Quote(s), err)
	}
	if found {
		if _, err := Tag(tag); err != nil {
			return Revision{}, fmt.Errorf("revision %s: %w", Quote(s), err)
		}
	}
	return Revision{Tag: tag, Digest: digest}, nil
}

// Origin is the source commit an artifact was built from, as in the
// org.opencontainers.image.revision annotation and Flux's originRevision: "<ref>@sha1:<sha>".
type Origin struct {
	Ref string
	Sha string
}

func (o Origin) String() string {
	if o.Ref == "" {
		return "sha1:" + o.Sha
	}
	return o.Ref + "@sha1:" + o.Sha
}

// ParseOrigin reads "<ref>@sha1:<40 hex>" (the ref may be empty: "sha1:<40 hex>").
func ParseOrigin(s string) (Origin, error) {
	if len(s) > MaxInputLen {
		return Origin{}, fmt.Errorf("revision %s is %d bytes long, over the %d-byte limit; want <ref>@sha1:<40 hex>", Quote(s), len(s), MaxInputLen)
	}
	i := strings.LastIndex(s, "sha1:")
	// "@sha1:<sha>" (an empty ref with its "@") is refused: it would not print back as written.
	if i < 0 || i == 1 || (i > 0 && s[i-1] != '@') || !isFullSha(s[i+len("sha1:"):]) {
		return Origin{}, fmt.Errorf("revision %s is not <ref>@sha1:<40 hex>", Quote(s))
	}
	o := Origin{Sha: s[i+len("sha1:"):]}
	if i > 0 {
		o.Ref = s[:i-1]
	}
	return o, nil
}

// Quote renders untrusted text for an error message: quoted, escaped, and cut to a readable length.
func Quote(s string) string {
	const max = 80
	if len(s) > max {
		return fmt.Sprintf("%q… (%d bytes)", s[:max], len(s))
	}
	return fmt.Sprintf("%q", s)
}

// IsHex reports whether s is one or more lower-case hexadecimal digits, as in shas and digests.
func IsHex(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// PlainLine makes untrusted text one line: line breaks and other control or format characters
// (bidi overrides, zero-width characters) become spaces, so the text cannot start a line of its
// own in a log (a workflow command) or hide what it says. With max > 0, text longer than max
// characters is cut there and ends in "…".
func PlainLine(s string, max int) string {
	var b strings.Builder
	n := 0
	for _, r := range s {
		if max > 0 && n == max {
			b.WriteString("…")
			break
		}
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029' {
			r = ' '
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}
