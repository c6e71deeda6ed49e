package examples

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Issue 14: there was no LICENSE file, and many organisations cannot trial a tool without one.
// The repository carries the Apache License 2.0 (as Flux and go-containerregistry do), whole,
// and README.md links it.
func TestLicenseIsApache2(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	b, err := os.ReadFile(filepath.Join(root, "LICENSE"))
	if err != nil {
		t.Fatalf("no LICENSE file: %v", err)
	}
	text := strings.Join(strings.Fields(string(b)), " ")
	for _, want := range []string{
		"Apache License Version 2.0, January 2004 http://www.apache.org/licenses/",
		"TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION",
		"9. Accepting Warranty or Additional Liability.",
		"END OF TERMS AND CONDITIONS",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("LICENSE lacks %q: it is not the whole Apache License 2.0", want)
		}
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), "](LICENSE)") {
		t.Error("README.md does not link LICENSE")
	}
}
