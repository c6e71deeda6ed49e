package examples

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// referenceDoc is where every input and output of each binary is documented: docs/reference.md,
// which README.md links.
const referenceDoc = "docs/reference.md"

// docs/reference.md documents every input and output of each binary and ocipromote subcommand,
// in that command's subsection: each name appears there in backticks. The commands and their
// outputs are read from the code (codeOutputs), the inputs from each command's --help; an output
// whose name is built at run time (status's <selection>_tag) is checked under the names a run
// with the default selections prints.
func TestReferenceDocumentsEveryInputAndOutput(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	doc, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(referenceDoc)))
	if err != nil {
		t.Fatal(err)
	}
	bin := buildBinaries(t, root)
	code := codeOutputs(t, root)
	printed := binaryOutputs(t, root, bin)
	if len(code) < 7 {
		t.Errorf("the code has %d commands with outputs (%v); want build-rc, dispatch-receiver, tag-validated and ocipromote's status, rollback, hold and prune at least", len(code), code)
	}
	for name, outputs := range code {
		section := readmeSection(string(doc), "### "+name)
		if section == "" {
			t.Errorf("%s has no section ### %s", referenceDoc, name)
			continue
		}
		argv := strings.Fields(name)
		specs, err := parseHelp(string(runBinary(t, bin, argv[0], append(argv[1:], "--help")...)))
		if err != nil {
			t.Fatal(err)
		}
		if len(specs) == 0 {
			t.Errorf("%s --help lists no input: the check would pass on nothing", name)
		}
		for input := range specs {
			if !strings.Contains(section, "`"+input+"`") {
				t.Errorf("%s ### %s does not document the input `%s`", referenceDoc, name, input)
			}
		}
		for _, output := range outputs {
			names := []string{output}
			if suffix, built := strings.CutPrefix(output, "*"); built {
				names = nil
				for _, o := range printed[name] {
					if strings.HasSuffix(o, suffix) {
						names = append(names, o)
					}
				}
				if len(names) == 0 {
					t.Errorf("%s sets outputs named …%s, but a run printed none to check %s against", name, suffix, referenceDoc)
				}
			}
			for _, o := range names {
				if !strings.Contains(section, "`"+o+"`") {
					t.Errorf("%s ### %s does not document the output `%s`", referenceDoc, name, o)
				}
			}
		}
	}
}

// README.md links the reference, so a reader finds every input from it.
func TestREADMELinksTheReference(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile(filepath.Join(repoRoot(t), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), "]("+referenceDoc+")") {
		t.Errorf("README.md does not link %s", referenceDoc)
	}
}

// readmeSection is the text of a Markdown file from a heading line to the next heading of the same or a higher
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
