package examples

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// examplePath is the first line of a README block that shows an example file.
var examplePath = regexp.MustCompile(`^# (examples/[A-Za-z0-9._/-]+)$`)

// readmeExamples returns, for each fenced yaml block of a README whose first line is
// "# examples/<path>", the path and the block's content (every line up to the closing fence).
func readmeExamples(readme []byte) (map[int]string, map[int][]byte, error) {
	paths, blocks := map[int]string{}, map[int][]byte{}
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
			return nil, nil, fmt.Errorf("line %d: the yaml block is never closed", i+1)
		}
		if start < end {
			if m := examplePath.FindStringSubmatch(strings.TrimRight(lines[start], "\r\n")); m != nil {
				paths[start+1] = m[1]
				blocks[start+1] = []byte(strings.Join(lines[start:end], ""))
			}
		}
		i = end
	}
	return paths, blocks, nil
}

// Blocks in the README that name an example file show that file byte for byte, so what people
// copy from the README is what the tests check.
func TestREADMEShowsExamplesAsTheyAre(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	paths, blocks, err := readmeExamples(readme)
	if err != nil {
		t.Fatalf("README.md: %v", err)
	}
	for line, path := range paths {
		if err := sameAsFile(root, path, blocks[line]); err != nil {
			t.Errorf("README.md line %d: %v", line, err)
		}
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
	const content = "# examples/a.yaml\nkind: A\n"
	if err := os.WriteFile(filepath.Join(root, "examples", "a.yaml"), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		readme  string
		wantErr string // "" when the README is consistent
	}{
		{"same", "text\n```yaml\n" + content + "```\n", ""},
		{"other blocks are free", "```yaml\nkind: B\n```\n```sh\n# examples/a.yaml\n```\n", ""},
		{"differs", "```yaml\n# examples/a.yaml\nkind: B\n```\n", "differs"},
		{"missing trailing line", "```yaml\n# examples/a.yaml\n```\n", "differs"},
		{"names a missing file", "```yml\n# examples/b.yaml\nkind: A\n```\n", "names examples/b.yaml"},
		{"unclosed", "```yaml\n# examples/a.yaml\nkind: A\n", "never closed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			paths, blocks, err := readmeExamples([]byte(tc.readme))
			var errs []string
			if err != nil {
				errs = append(errs, err.Error())
			}
			for line, path := range paths {
				if err := sameAsFile(root, path, blocks[line]); err != nil {
					errs = append(errs, err.Error())
				}
			}
			got := strings.Join(errs, "\n")
			if tc.wantErr == "" && got != "" || tc.wantErr != "" && !strings.Contains(got, tc.wantErr) {
				t.Errorf("errors %q, want %q", got, tc.wantErr)
			}
		})
	}
}
