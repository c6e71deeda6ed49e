package examples

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Every job of every example workflow, of the two stages and of the chain of three, grants the
// permissions docs/github.md's table lists for each record input its ocipromote steps switch on.
func TestExampleJobsGrantWhatTheirRecordsNeed(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	doc, err := os.ReadFile(filepath.Join(root, "docs", "github.md"))
	if err != nil {
		t.Fatal(err)
	}
	// input: the permissions its row names, e.g. "contents: write".
	needs := map[string][]string{}
	perm := regexp.MustCompile("`([a-z-]+: (?:read|write))`")
	for _, row := range regexp.MustCompile("(?m)^\\| `(\\w+)`(?: \\([^)]*\\))? \\| (.+) \\|$").FindAllStringSubmatch(string(doc), -1) {
		for _, m := range perm.FindAllStringSubmatch(row[2], -1) {
			needs[row[1]] = append(needs[row[1]], m[1])
		}
	}
	if len(needs["deployments"]) == 0 || len(needs["release"]) == 0 || len(needs["comment_prs"]) == 0 {
		t.Fatalf("docs/github.md's permissions table reads as %v", needs)
	}
	files, _ := filepath.Glob(filepath.Join(root, "examples", "github", "workflows", "*.yaml"))
	more, _ := filepath.Glob(filepath.Join(root, "examples", "github", "*", "workflows", "*.yaml"))
	files = append(files, more...)
	checked := 0
	for _, f := range files {
		rel, _ := filepath.Rel(root, f)
		w := loadWorkflow(t, root, rel)
		for jn, j := range w.Jobs {
			granted, _ := j.Permissions.(map[string]any)
			for _, s := range j.Steps {
				if !strings.HasPrefix(s.Uses, "ocipromote/ocipromote/actions/") {
					continue
				}
				for input, perms := range needs {
					if fmt.Sprint(s.With[input]) != "true" {
						continue
					}
					checked++
					for _, p := range perms {
						name, level, _ := strings.Cut(p, ": ")
						if got := fmt.Sprint(granted[name]); got != level && !(level == "read" && got == "write") {
							t.Errorf("%s: job %s grants %s: %s, docs/github.md says %s needs %s", rel, jn, name, got, input, level)
						}
					}
				}
			}
		}
	}
	if checked < 10 {
		t.Errorf("%d record inputs checked in %d workflows; the examples switch on more", checked, len(files))
	}
}
