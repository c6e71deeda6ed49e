package oci_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/ocipromote/ocipromote/pkg/oci"
)

// FuzzParseRepository: an accepted repository reference is REGISTRY/PATH without whitespace, a
// tag or a digest, its path is lower-case name components, and it parses again to the same name;
// a refused one is named (quoted) in its error. Seeds are in
// testdata/fuzz/FuzzParseRepository.
func FuzzParseRepository(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string, insecure bool) {
		r, err := oci.ParseRepository(s, insecure)
		if err != nil {
			// go-containerregistry's own message, appended, repeats the input unescaped (a "\r"
			// in it reaches the error raw); step.CheckRepository refuses control characters first.
			if !strings.Contains(err.Error(), fmt.Sprintf("%q", s)) {
				t.Errorf("ParseRepository(%q) error %q does not name the input", s, err)
			}
			return
		}
		// The registry part is only as strict as go-containerregistry, which takes any first
		// component with a dot or a colon for a registry ("$(id).io" included); the binaries check
		// it further in step.CheckRepository, fuzzed there.
		name := r.Name()
		if strings.ContainsAny(r.RepositoryStr(), "@ \t\r\n;$`|&<>'\"\\:") || r.RepositoryStr() == "" || r.RegistryStr() == "" {
			t.Errorf("ParseRepository(%q) accepted %q (registry %q, path %q)", s, name, r.RegistryStr(), r.RepositoryStr())
		}
		if strings.ContainsAny(name, " \t\r\n") {
			t.Errorf("ParseRepository(%q) accepted %q with whitespace", s, name)
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
