package examples

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

var (
	// examplePath is the first line of a README block that shows an example file.
	examplePath = regexp.MustCompile(`^# (examples/[A-Za-z0-9._/-]+)$`)
	// wholeFile marks a yaml block that shows a whole workflow or Kubernetes object: such a block
	// must name its file, or it could drift from every tested file unnoticed.
	wholeFile = regexp.MustCompile(`(?m)^(jobs|apiVersion):`)
)

// readmeBlock is one fenced yaml block of a README.
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

// exampleFiles are the files the README must show: every workflow of examples/github/workflows
// and every Flux object of examples/flux.
func exampleFiles(t *testing.T, root string) []string {
	t.Helper()
	files := findFiles(t, root, filepath.Join("examples", "github", "workflows"), ".yaml", ".yml")
	files = append(files, findFiles(t, root, filepath.Join("examples", "flux"), ".yaml", ".yml")...)
	if len(files) == 0 {
		t.Fatal("no example files under examples/github/workflows and examples/flux")
	}
	return files
}

// The README shows every example workflow and Flux object byte for byte, so what people copy
// from the README is what the tests check, and no example is left out of it.
func TestREADMEShowsExamplesAsTheyAre(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range readmeProblems(root, readme, exampleFiles(t, root)) {
		t.Errorf("README.md: %s", p)
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

func TestREADMEExampleBlocks(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "examples"), 0o755); err != nil {
		t.Fatal(err)
	}
	const content = "# examples/a.yaml\napiVersion: v1\nkind: A\n"
	if err := os.WriteFile(filepath.Join(root, "examples", "a.yaml"), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	required := []string{"examples/a.yaml"}
	tests := []struct {
		name    string
		readme  string
		wantErr string // "" when the README is consistent
	}{
		{"same", "text\n```yaml\n" + content + "```\n", ""},
		{"snippets are free", "```yaml\n" + content + "```\n```yaml\nkind: B\n```\n```yaml\n  jobs:\n```\n```sh\n# examples/a.yaml\n```\n", ""},
		{"differs", "```yaml\n# examples/a.yaml\napiVersion: v1\nkind: B\n```\n", "differs"},
		{"missing trailing line", "```yaml\n# examples/a.yaml\n```\n", "differs"},
		{"names a missing file", "```yaml\n" + content + "```\n```yml\n# examples/b.yaml\nkind: A\n```\n", "names examples/b.yaml"},
		{"unclosed", "```yaml\n# examples/a.yaml\nkind: A\n", "never closed"},
		{"block deleted", "text\n", "no yaml block shows examples/a.yaml"},
		{"header line deleted", "```yaml\napiVersion: v1\nkind: A\n```\n", "lacks its first line"},
		{"workflow without header", "```yaml\n" + content + "```\n```yaml\nname: x\njobs:\n  a: {}\n```\n", "lacks its first line"},
		{"header not first", "```yaml\n\n" + content + "```\n", "lacks its first line"},
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

// Every example file the README must show is found, wherever it sits under the two directories.
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
