package oci_test

import (
	"strings"
	"testing"

	"github.com/ocipromote/ocipromote/pkg/oci"
	"github.com/ocipromote/ocipromote/pkg/ref"
)

// FuzzParseRepository: an accepted repository reference is REGISTRY/PATH whose registry is a
// plain host name with an optional port, without whitespace, control characters, a tag, a digest
// or credentials; its path is lower-case name components, and it parses again to the same name.
// A refused one is named in its error (quoted, credentials redacted) on one line, and credentials
// written into it never appear. Seeds are in testdata/fuzz/FuzzParseRepository.
func FuzzParseRepository(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string, insecure bool) {
		r, err := oci.ParseRepository(s, insecure)
		if err != nil {
			msg := err.Error()
			if !strings.Contains(msg, ref.Quote(ref.RedactUserinfo(s))) {
				t.Errorf("ParseRepository(%q) error %q does not name the input", s, err)
			}
			// (A userinfo as short as a token could never be is too common a string to look for.)
			if userinfo, ok := ref.Userinfo(s); ok && len(userinfo) >= 8 && strings.Contains(msg, userinfo) {
				t.Errorf("ParseRepository(%q) error %q repeats its credentials", s, err)
			}
			if strings.ContainsAny(msg, "\r\n") {
				t.Errorf("ParseRepository(%q) error %q is not one line", s, err)
			}
			return
		}
		name := r.Name()
		if _, err := ref.RegistryHost(r.RegistryStr()); err != nil {
			t.Errorf("ParseRepository(%q) accepted registry %q: %v", s, r.RegistryStr(), err)
		}
		if strings.ContainsAny(r.RepositoryStr(), "@ \t\r\n;$`|&<>'\"\\:") || r.RepositoryStr() == "" {
			t.Errorf("ParseRepository(%q) accepted %q (path %q)", s, name, r.RepositoryStr())
		}
		if strings.ContainsAny(s, "@") {
			t.Errorf("ParseRepository(%q) accepted a reference with an @ (credentials or a digest)", s)
		}
		again, err := oci.ParseRepository(name, insecure)
		if err != nil || again.Name() != name {
			t.Errorf("%q parses to %q, which parses again to %q, %v", s, name, again.Name(), err)
		}
	})
}
