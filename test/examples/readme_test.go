package examples

import (
	"bytes"
	"fmt"
	"maps"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

var (
	// examplePath is the first line of a README or docs/ block that shows an example file.
	examplePath = regexp.MustCompile(`^# (examples/[A-Za-z0-9._/-]+)$`)
	// wholeFile marks a yaml block that shows a whole workflow or Kubernetes object: such a block
	// must name its file, or it could drift from every tested file unnoticed.
	wholeFile = regexp.MustCompile(`(?m)^(jobs|apiVersion):`)
)

// readmeBlock is one fenced yaml block of a README or docs/ page.
type readmeBlock struct {
	line    int    // the line of its first content line, 1-based
	path    string // the example file its first line names, "" when it names none
	content []byte // every line up to the closing fence
}

// readmeBlocks returns the fenced yaml blocks of a README.
func readmeBlocks(readme []byte) ([]readmeBlock, error) {
	var blocks []readmeBlock
	lines := strings.SplitAfter(string(readme), "\n")
	for i := 0; i < len(lines); i++ {
		fence := strings.TrimRight(lines[i], "\r\n")
		if fence != "```yaml" && fence != "```yml" {
			continue
		}
		start := i + 1
		end := start
		for end < len(lines) && strings.TrimRight(lines[end], "\r\n") != "```" {
			end++
		}
		if end == len(lines) {
			return nil, fmt.Errorf("line %d: the yaml block is never closed", i+1)
		}
		b := readmeBlock{line: start + 1, content: []byte(strings.Join(lines[start:end], ""))}
		if start < end {
			if m := examplePath.FindStringSubmatch(strings.TrimRight(lines[start], "\r\n")); m != nil {
				b.path = m[1]
			}
		}
		blocks = append(blocks, b)
		i = end
	}
	return blocks, nil
}

// readmeProblems checks a README against the example files under root: every block that names a
// file shows it byte for byte, every block that shows a whole workflow or object names its file,
// and every file of required has a block.
func readmeProblems(root string, readme []byte, required []string) []string {
	blocks, err := readmeBlocks(readme)
	if err != nil {
		return []string{err.Error()}
	}
	var problems []string
	shown := map[string]bool{}
	for _, b := range blocks {
		switch {
		case b.path != "":
			shown[b.path] = true
			if err := sameAsFile(root, b.path, b.content); err != nil {
				problems = append(problems, fmt.Sprintf("line %d: %v", b.line, err))
			}
		case wholeFile.Match(b.content):
			problems = append(problems, fmt.Sprintf("line %d: a yaml block with a top-level jobs: or apiVersion: lacks its first line \"# examples/<path>\" naming the file it shows", b.line))
		}
	}
	for _, path := range required {
		if !shown[path] {
			problems = append(problems, fmt.Sprintf("no yaml block shows %s (its first line \"# %s\")", path, path))
		}
	}
	return problems
}

// exampleFiles are the files README.md must link, and docs/ show or link: every workflow of
// examples/github/workflows and every Flux object of examples/flux.
func exampleFiles(t *testing.T, root string) []string {
	t.Helper()
	files := findFiles(t, root, filepath.Join("examples", "github", "workflows"), ".yaml", ".yml")
	files = append(files, findFiles(t, root, filepath.Join("examples", "flux"), ".yaml", ".yml")...)
	if len(files) == 0 {
		t.Fatal("no example files under examples/github/workflows and examples/flux")
	}
	return files
}

// mdLink matches the target of a Markdown link: [text](target).
var mdLink = regexp.MustCompile(`\]\(([^)\s]+)\)`)

// linked returns the repository paths a Markdown file at dir (relative to the repository root,
// "." for the root) links to, anchors left off.
func linked(dir string, doc []byte) map[string]bool {
	out := map[string]bool{}
	for _, m := range mdLink.FindAllSubmatch(doc, -1) {
		target, _, _ := strings.Cut(string(m[1]), "#")
		if target == "" || strings.Contains(target, "://") {
			continue
		}
		out[path.Clean(path.Join(dir, target))] = true
	}
	return out
}

// docsProblems checks README.md and the docs/ pages against the example files under root: in
// every page, each block that names a file shows it byte for byte and each block that shows a
// whole workflow or object names its file (readmeProblems); README.md links every file of
// required, so what people copy is the tested file itself; and docs/ shows or links each one.
// pages maps a page's repository path to its content.
func docsProblems(root string, pages map[string][]byte, required []string) []string {
	var problems []string
	inDocs := map[string]bool{}
	for _, name := range slices.Sorted(maps.Keys(pages)) {
		for _, p := range readmeProblems(root, pages[name], nil) {
			problems = append(problems, name+": "+p)
		}
		if !strings.HasPrefix(name, "docs/") {
			continue
		}
		for l := range linked(path.Dir(name), pages[name]) {
			inDocs[l] = true
		}
		blocks, _ := readmeBlocks(pages[name])
		for _, b := range blocks {
			if b.path != "" {
				inDocs[b.path] = true
			}
		}
	}
	readme := linked(".", pages["README.md"])
	for _, f := range required {
		if !readme[f] {
			problems = append(problems, fmt.Sprintf("README.md: no link to %s (write [...](%s))", f, f))
		}
		if !inDocs[f] {
			problems = append(problems, fmt.Sprintf("docs/: no page shows or links %s", f))
		}
	}
	return problems
}

// README.md links every example workflow and Flux object, docs/ shows or links each, and any
// block of README.md or docs/ that shows one shows it byte for byte: what people copy is what the
// tests check, and no example is left out.
func TestDocsShowExamplesAsTheyAre(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	pages := map[string][]byte{}
	names := []string{"README.md"}
	docs, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range docs {
		names = append(names, "docs/"+filepath.Base(d))
	}
	for _, name := range names {
		b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(name)))
		if err != nil {
			t.Fatal(err)
		}
		pages[name] = b
	}
	for _, p := range docsProblems(root, pages, exampleFiles(t, root)) {
		t.Error(p)
	}
}

func sameAsFile(root, path string, block []byte) error {
	file, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(path)))
	if err != nil {
		return fmt.Errorf("the block names %s: %v", path, err)
	}
	if bytes.Equal(file, block) {
		return nil
	}
	fl, bl := strings.SplitAfter(string(file), "\n"), strings.SplitAfter(string(block), "\n")
	for i := 0; i < len(fl) || i < len(bl); i++ {
		var f, b string
		if i < len(fl) {
			f = fl[i]
		}
		if i < len(bl) {
			b = bl[i]
		}
		if f != b {
			return fmt.Errorf("the block differs from %s at its line %d: README has %q, the file has %q", path, i+1, b, f)
		}
	}
	return fmt.Errorf("the block differs from %s", path)
}

// exampleContent is the one example file of exampleRoot, examples/a.yaml.
const exampleContent = "# examples/a.yaml\napiVersion: v1\nkind: A\n"

// exampleRoot is a repository holding one example file, examples/a.yaml.
func exampleRoot(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "examples"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "examples", "a.yaml"), []byte(exampleContent), 0o644); err != nil {
		t.Fatal(err)
	}
	return root
}

func TestREADMEExampleBlocks(t *testing.T) {
	t.Parallel()
	root := exampleRoot(t)
	required := []string{"examples/a.yaml"}
	tests := []struct {
		name    string
		readme  string
		wantErr string // "" when the README is consistent
	}{
		{"same", "text\n```yaml\n" + exampleContent + "```\n", ""},
		{"snippets are free", "```yaml\n" + exampleContent + "```\n```yaml\nkind: B\n```\n```yaml\n  jobs:\n```\n```sh\n# examples/a.yaml\n```\n", ""},
		{"differs", "```yaml\n# examples/a.yaml\napiVersion: v1\nkind: B\n```\n", "differs"},
		{"missing trailing line", "```yaml\n# examples/a.yaml\n```\n", "differs"},
		{"names a missing file", "```yaml\n" + exampleContent + "```\n```yml\n# examples/b.yaml\nkind: A\n```\n", "names examples/b.yaml"},
		{"unclosed", "```yaml\n# examples/a.yaml\nkind: A\n", "never closed"},
		{"block deleted", "text\n", "no yaml block shows examples/a.yaml"},
		{"header line deleted", "```yaml\napiVersion: v1\nkind: A\n```\n", "lacks its first line"},
		{"workflow without header", "```yaml\n" + exampleContent + "```\n```yaml\nname: x\njobs:\n  a: {}\n```\n", "lacks its first line"},
		{"header not first", "```yaml\n\n" + exampleContent + "```\n", "lacks its first line"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := strings.Join(readmeProblems(root, []byte(tc.readme), required), "\n")
			if tc.wantErr == "" && got != "" || tc.wantErr != "" && !strings.Contains(got, tc.wantErr) {
				t.Errorf("problems %q, want %q", got, tc.wantErr)
			}
		})
	}
}

func TestDocsExampleLinks(t *testing.T) {
	t.Parallel()
	root := exampleRoot(t)
	required := []string{"examples/a.yaml"}
	tests := []struct {
		name         string
		readme, docs string
		wantErr      string // "" when the pages are consistent
	}{
		{"linked from both", "see [a](examples/a.yaml)\n", "see [a](../examples/a.yaml#L2)\n", ""},
		{"shown in docs", "[a](examples/a.yaml)\n", "```yaml\n" + exampleContent + "```\n", ""},
		{"not linked from README", "examples/a.yaml\n", "[a](../examples/a.yaml)\n", "README.md: no link to examples/a.yaml"},
		{"README links it relative to docs", "[a](../examples/a.yaml)\n", "[a](../examples/a.yaml)\n", "README.md: no link"},
		{"docs link it relative to the root", "[a](examples/a.yaml)\n", "[a](examples/a.yaml)\n", "docs/: no page shows or links"},
		{"docs show it wrong", "[a](examples/a.yaml)\n", "```yaml\n# examples/a.yaml\nkind: B\n```\n", "docs/x.md: line 2: the block differs"},
		{"README shows a whole file unnamed", "[a](examples/a.yaml)\n```yaml\napiVersion: v1\n```\n", "[a](../examples/a.yaml)\n", "README.md: line 3: a yaml block"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			pages := map[string][]byte{"README.md": []byte(tc.readme), "docs/x.md": []byte(tc.docs)}
			got := strings.Join(docsProblems(root, pages, required), "\n")
			if tc.wantErr == "" && got != "" || tc.wantErr != "" && !strings.Contains(got, tc.wantErr) {
				t.Errorf("problems %q, want %q", got, tc.wantErr)
			}
		})
	}
}

// Every example file README.md must link is found, wherever it sits under the two directories.
func TestExampleFilesAreRequired(t *testing.T) {
	t.Parallel()
	files := exampleFiles(t, repoRoot(t))
	for _, want := range []string{
		"examples/github/workflows/build-rc.yaml",
		"examples/github/workflows/promote.yaml",
		"examples/github/workflows/rollback.yaml",
		"examples/github/workflows/hold.yaml",
		"examples/github/workflows/prune.yaml",
		"examples/flux/integration-status/provider.yaml",
		"examples/flux/live/sync.yaml",
	} {
		if !slices.Contains(files, want) {
			t.Errorf("exampleFiles = %q, lacks %s", files, want)
		}
	}
}
