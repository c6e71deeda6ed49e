package ref

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
)

// Each byte-by-byte matcher accepts exactly what the regular expression it replaces accepts.
func TestMatchersAgreeWithRegexps(t *testing.T) {
	t.Parallel()
	matchers := []struct {
		re    string
		match func(string) bool
	}{
		{`^sha256:[0-9a-f]{64}$`, isDigest},
		{`^[0-9a-f]{4,40}$`, isSha},
		{`^[0-9a-f]{40}$`, isFullSha},
		{`^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$`, isTag},
		{`^[A-Za-z][A-Za-z0-9+.-]*$`, isScheme},
		{`^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]{2,45}\])(?::[0-9]{1,5})?$`, isRegistryHost},
	}
	hex64 := strings.Repeat("0123456789abcdef", 4)
	inputs := []string{"", "a", "abc", "abcd", "ABCD", "abcg", hex64[:39], hex64[:40], hex64[:41], "sha256:" + hex64,
		"sha256:" + hex64[:63], "sha256:" + hex64 + "0", "sha256:" + strings.ToUpper(hex64), "sha512:" + hex64,
		"0.4.2-rc.3", "_x", ".x", "-x", "x y", "v1.0.0+build", strings.Repeat("a", 128), strings.Repeat("a", 129),
		"https", "oci", "git+ssh", "1http", "ht tp", "h\u00e9", "a\n", "\x00", "é",
		"ghcr.io", "localhost:5000", "[::1]:5000", "[::1]", "[::1", "::1", "[1]", "[" + strings.Repeat("a", 45) + "]",
		"[" + strings.Repeat("a", 46) + "]", "[::1]5000", "[::1]:", "[::1]:123456", "host:", "host:1:2", "a..b", ".a", "a.",
		"a-.b", "-a.b", "a-b.c-d:1", "127.0.0.1:65535", strings.Repeat("a", 63) + ".io", strings.Repeat("a", 64) + ".io",
		"x." + strings.Repeat("b", 63), "x." + strings.Repeat("b", 64), "[g::1]", "[]", "[]:1", "a:]", "a]:1"}
	// Every single byte, alone and after a valid first character, and before a valid rest.
	for c := 0; c < 256; c++ {
		inputs = append(inputs, string([]byte{byte(c)}), "a"+string([]byte{byte(c)}), string([]byte{byte(c)})+"bcd", "abc"+string([]byte{byte(c)}))
	}
	// And strings of a registry address's characters, as a fuzzer would make them.
	rnd := rand.New(rand.NewPCG(7, 7))
	const alphabet = "aZ09-.:[]f"
	for range 20000 {
		b := make([]byte, rnd.IntN(12))
		for i := range b {
			b[i] = alphabet[rnd.IntN(len(alphabet))]
		}
		inputs = append(inputs, string(b))
	}
	for _, m := range matchers {
		re := regexp.MustCompile(m.re)
		for _, s := range inputs {
			if got, want := m.match(s), re.MatchString(s); got != want {
				t.Errorf("matcher for %s on %q = %v, the regexp says %v", m.re, s, got, want)
			}
		}
	}
}
