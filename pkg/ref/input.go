package ref

import (
	"fmt"
	"net/url"
	"strings"
	"unicode"
)

// MaxRefLen bounds the ref recorded in the revision annotation. Git has no hard limit, but the
// annotation is read back with ParseOrigin (at most MaxInputLen bytes), and no branch or tag a
// person names comes near this.
const MaxRefLen = 255

// refPunct is the punctuation a ref name may carry besides letters and digits: what branch and tag
// names use in practice. Git also allows shell metacharacters ($, `, ;, |, &, quotes, parentheses,
// <, >), but the ref is copied into annotations, Flux events and job summaries that scripts and
// people read, so a name carrying them is refused rather than passed on.
const refPunct = "._-/+@=,#"

// GitRef validates a branch or tag name (such as main, release/1.4 or refs/heads/main) for the
// revision annotation "<ref>@sha1:<sha>". It follows git's ref-name rules (git check-ref-format)
// as far as they matter here: no whitespace or control characters, no "..", no "@{", no
// component that starts with "." or ends with ".lock", not ending with "/" or ".", and at most
// MaxRefLen bytes; on top of that, no shell metacharacters. The empty ref is valid (no ref).
func GitRef(s string) (string, error) {
	const want = "a git branch or tag name such as main or release/1.4"
	switch {
	case s == "":
		return s, nil
	case len(s) > MaxRefLen:
		return "", fmt.Errorf("ref %s is %d bytes, over the %d-byte limit: give %s", Quote(s), len(s), MaxRefLen, want)
	case s == "@":
		return "", fmt.Errorf(`ref "@" is git's name for HEAD, not a branch or tag: give %s`, want)
	case strings.Contains(s, ".."):
		return "", fmt.Errorf(`ref %s contains "..", which git refuses in a ref name: give %s`, Quote(s), want)
	case strings.Contains(s, "@{"):
		return "", fmt.Errorf(`ref %s contains "@{", which git refuses in a ref name: give %s`, Quote(s), want)
	}
	for _, c := range s {
		if unicode.IsLetter(c) || unicode.IsDigit(c) || strings.ContainsRune(refPunct, c) {
			continue
		}
		what := fmt.Sprintf("the character %q", c)
		switch {
		case unicode.IsControl(c) || unicode.Is(unicode.Cf, c):
			what = fmt.Sprintf("a control character (%U)", c)
		case unicode.IsSpace(c):
			what = "whitespace"
		}
		return "", fmt.Errorf("ref %s contains %s; a ref name here is letters, digits and %s only: give %s", Quote(s), what, refPunct, want)
	}
	switch {
	case strings.Contains(s, "//"):
		return "", fmt.Errorf(`ref %s contains "//", an empty path component: give %s`, Quote(s), want)
	case strings.HasPrefix(s, "/") || strings.HasSuffix(s, "/"):
		return "", fmt.Errorf(`ref %s starts or ends with "/": give %s`, Quote(s), want)
	case strings.HasSuffix(s, "."):
		return "", fmt.Errorf(`ref %s ends with ".", which git refuses: give %s`, Quote(s), want)
	case strings.HasPrefix(s, "-"):
		return "", fmt.Errorf(`ref %s starts with "-", which git refuses for a branch name: give %s`, Quote(s), want)
	}
	for _, part := range strings.Split(s, "/") {
		if strings.HasPrefix(part, ".") || strings.HasSuffix(part, ".lock") {
			return "", fmt.Errorf(`ref %s has a component %s that starts with "." or ends with ".lock", which git refuses: give %s`, Quote(s), Quote(part), want)
		}
	}
	return s, nil
}

// NewOrigin checks a ref and a full commit sha for the revision annotation and proves that the
// annotation reads back as written (ParseOrigin), before anything is pushed with it: an annotation
// that does not read back would make every later step refuse the artifact.
func NewOrigin(refName, sha string) (Origin, error) {
	if _, err := GitRef(refName); err != nil {
		return Origin{}, err
	}
	if !isFullSha(sha) {
		return Origin{}, fmt.Errorf("commit sha %s is not the full 40 lower-case hex characters: give the full sha", Quote(sha))
	}
	o := Origin{Ref: refName, Sha: sha}
	back, err := ParseOrigin(o.String())
	if err != nil || back != o {
		return Origin{}, fmt.Errorf("ref %s does not read back from the revision annotation %s: give %s", Quote(refName), Quote(o.String()), "a plain branch or tag name")
	}
	return o, nil
}

// SourceURL validates the repository URL for the org.opencontainers.image.source annotation: an
// absolute http or https URL with a host, on one line, without credentials, and at most
// MaxInputLen bytes. The empty string is valid (no annotation). A URL carrying credentials is
// refused without repeating them, since the annotation is readable by anyone who can pull.
func SourceURL(s string) (string, error) {
	const want = "give the repository's web address, such as https://github.com/acme/platform"
	if s == "" {
		return s, nil
	}
	shown := Quote(RedactUserinfo(s))
	if len(s) > MaxInputLen {
		return "", fmt.Errorf("source URL %s is %d bytes, over the %d-byte limit: %s", shown, len(s), MaxInputLen, want)
	}
	if i := strings.IndexFunc(s, func(c rune) bool { return unicode.IsSpace(c) || unicode.IsControl(c) || unicode.Is(unicode.Cf, c) }); i >= 0 {
		return "", fmt.Errorf("source URL %s contains whitespace or a control character: %s", shown, want)
	}
	if HasUserinfo(s) {
		return "", fmt.Errorf("source URL %s carries credentials before the host, and the annotation is public to anyone who can pull: %s", shown, want)
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Opaque != "" || u.User != nil {
		return "", fmt.Errorf("source URL %s is not an absolute http(s) URL: %s", shown, want)
	}
	return s, nil
}

// RedactUserinfo replaces credentials written into a URL or registry reference
// ("https://user:token@host/…", "user:token@ghcr.io/acme/app") with "***", so the rest can be
// shown in a message. Text without them is returned unchanged.
func RedactUserinfo(s string) string {
	scheme, _, rest, found := splitUserinfo(s)
	if !found {
		return s
	}
	return scheme + "***@" + rest
}

// HasUserinfo reports whether s carries credentials before its host (see RedactUserinfo).
func HasUserinfo(s string) bool {
	_, found := Userinfo(s)
	return found
}

// Userinfo returns the credentials written before the host of s (see RedactUserinfo), so a
// caller can mask them.
func Userinfo(s string) (string, bool) {
	_, userinfo, _, found := splitUserinfo(s)
	return userinfo, found
}

// isScheme: a URL scheme (RFC 3986) such as https or oci, ^[A-Za-z][A-Za-z0-9+.-]*$
func isScheme(s string) bool {
	if len(s) == 0 || !(s[0] >= 'a' && s[0] <= 'z' || s[0] >= 'A' && s[0] <= 'Z') {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) && c != '+' && c != '.' && c != '-' {
			return false
		}
	}
	return true
}

// splitUserinfo cuts "scheme://userinfo@host/path" (scheme optional) into the scheme with its
// "://", the userinfo, and the host and everything after it.
func splitUserinfo(s string) (scheme, userinfo, rest string, found bool) {
	rest = s
	if i := strings.Index(s, "://"); i > 0 && isScheme(s[:i]) {
		scheme, rest = s[:i+3], s[i+3:]
	}
	authority, _, _ := strings.Cut(rest, "/")
	at := strings.LastIndex(authority, "@")
	if at < 0 {
		return "", "", s, false
	}
	return scheme, rest[:at], rest[at+1:], true
}

// NormalizeSha reads a commit sha as a person types or pastes it: surrounding spaces are dropped
// and upper-case hex is lowered (git prints lower case; GitHub's web pages accept either). The
// result is what Sha accepts.
func NormalizeSha(s string) (string, error) {
	s = strings.TrimSpace(s)
	lower := strings.ToLower(s)
	if !isSha(lower) {
		return "", fmt.Errorf("commit sha %s is not 4 to 40 hex characters", Quote(s))
	}
	return lower, nil
}

// isRegistryHost reports whether s is a registry address: a DNS name or IPv4 address (labels of
// 1 to 63 letters, digits and inner hyphens, separated by dots), or a bracketed IPv6 address (2 to
// 45 hex digits, colons and dots), with an optional port of 1 to 5 digits. Compiled, the regexp
// it replaces (match_test.go) cost every step a quarter of a millisecond at start-up.
func isRegistryHost(s string) bool {
	host, port, hasPort := s, "", false
	if rest, ok := strings.CutPrefix(s, "["); ok {
		addr, after, closed := strings.Cut(rest, "]")
		if !closed || len(addr) < 2 || len(addr) > 45 || strings.TrimLeft(addr, "0123456789abcdefABCDEF:.") != "" {
			return false
		}
		if after != "" {
			port, hasPort = strings.CutPrefix(after, ":")
			if !hasPort {
				return false
			}
		}
		host = ""
	} else {
		host, port, hasPort = strings.Cut(s, ":")
	}
	if hasPort && (len(port) < 1 || len(port) > 5 || strings.TrimLeft(port, "0123456789") != "") {
		return false
	}
	if host == "" {
		return strings.HasPrefix(s, "[")
	}
	for _, label := range strings.Split(host, ".") {
		if len(label) < 1 || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			if c := label[i]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// RegistryHost validates the registry part of a repository reference (ghcr.io, localhost:5000,
// [::1]:5000). go-containerregistry takes any first component with a dot or a colon for a
// registry, shell metacharacters, quotes and bidi overrides included; such a name would then be
// printed in every log line, output and summary of the step.
func RegistryHost(s string) (string, error) {
	if len(s) > 253 || !isRegistryHost(s) {
		return "", fmt.Errorf("registry %s is not a host name with an optional port (for example ghcr.io or localhost:5000)", Quote(s))
	}
	return s, nil
}
