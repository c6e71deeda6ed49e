package examples

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The README's "Inputs and outputs" section documents every input and output of each pipeline
// binary, in that binary's subsection: each name appears there in backticks.
func TestREADMEDocumentsEveryInputAndOutput(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	bin := buildBinaries(t, root)
	outputs := binaryOutputs(t, root, bin)
	for _, name := range []string{"build-rc", "dispatch-receiver", "tag-validated"} {
		section := readmeSection(string(readme), "### "+name)
		if section == "" {
			t.Errorf("README.md has no section ### %s", name)
			continue
		}
		specs, err := parseHelp(string(runBinary(t, bin, name, "--help")))
		if err != nil {
			t.Fatal(err)
		}
		for input := range specs {
			if !strings.Contains(section, "`"+input+"`") {
				t.Errorf("README.md ### %s does not document the input `%s`", name, input)
			}
		}
		for _, output := range outputs[name] {
			if !strings.Contains(section, "`"+output+"`") {
				t.Errorf("README.md ### %s does not document the output `%s`", name, output)
			}
		}
	}
}

// readmeSection is the text from a heading line to the next heading of the same or a higher
// level, or "" when there is no such heading.
func readmeSection(readme, heading string) string {
	start := strings.Index(readme, "\n"+heading+"\n")
	if start < 0 {
		return ""
	}
	rest := readme[start+1+len(heading):]
	level := strings.Count(strings.Fields(heading)[0], "#")
	for _, l := range []string{"\n## ", "\n### "}[:level-1] {
		if i := strings.Index(rest, l); i >= 0 {
			rest = rest[:i]
		}
	}
	return rest
}
