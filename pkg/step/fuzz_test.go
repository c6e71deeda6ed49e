package step

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/sethvargo/go-githubactions"

	"github.com/ocipromote/ocipromote/pkg/actionio"
	"github.com/ocipromote/ocipromote/pkg/oci"
	"github.com/ocipromote/ocipromote/pkg/ref"
)

// FuzzCheckRepository: a repository every binary accepts is REGISTRY/PATH whose registry is a
// plain host name and whose text carries nothing a shell, a log or Markdown could act on; a
// refused one is a one-line usage error that never repeats credentials written into it, and is
// never printed outside Actions. Seeds are in testdata/fuzz/FuzzCheckRepository.
func FuzzCheckRepository(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		var log bytes.Buffer
		a := githubactions.New(githubactions.WithGetenv(func(string) string { return "" }), githubactions.WithWriter(&log))
		const token = "XYZZY-t0ken"
		for _, withToken := range []string{"ci:" + token + "@" + s, "oci://" + token + "@" + s} {
			if err := CheckRepository(a, withToken); err == nil || strings.Contains(err.Error(), token) {
				t.Errorf("CheckRepository(%q) = %v; want it refused without repeating the token", withToken, err)
			}
		}
		err := CheckRepository(a, s)
		if log.Len() != 0 {
			t.Errorf("CheckRepository(%q) printed %q outside Actions", s, log.String())
		}
		if err != nil {
			if !errors.Is(err, actionio.ErrUsage) {
				t.Errorf("CheckRepository(%q) = %v, not a usage error", s, err)
			}
			if strings.ContainsAny(err.Error(), "\n\r") {
				t.Errorf("error carries a raw line break: %q", err)
			}
			return
		}
		// Surrounding whitespace is trimmed, as GitHub trims inputs.
		if strings.ContainsFunc(strings.TrimSpace(s), func(r rune) bool { return r < 0x20 || r == 0x7f || r > 0x7e }) || strings.ContainsAny(s, "@;$`|&<>'\"\\*!{}()") {
			t.Errorf("CheckRepository accepted %q", s)
		}
		r, err := oci.ParseRepository(s, false)
		if err != nil {
			t.Fatalf("accepted %q that ParseRepository refuses: %v", s, err)
		}
		if _, err := ref.RegistryHost(r.RegistryStr()); err != nil {
			t.Errorf("accepted %q with registry %q: %v", s, r.RegistryStr(), err)
		}
	})
}
