package records

import (
	"context"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/ocipromote/ocipromote/pkg/records/githubtest"
)

// documented reads the permissions table of docs/github.md: input -> "name: level" permissions.
func documented(t *testing.T) map[string][]string {
	t.Helper()
	doc, err := os.ReadFile("../../docs/github.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := regexp.MustCompile("(?m)^\\| `(\\w+)` \\| (.+) \\|$").FindAllStringSubmatch(string(doc), -1)
	out := map[string][]string{}
	for _, r := range rows {
		for _, p := range strings.Split(r[2], ",") {
			out[r[1]] = append(out[r[1]], strings.Trim(strings.TrimSpace(p), "`"))
		}
	}
	return out
}

// TestPermissionsTable: a token holding exactly what docs/github.md lists for the records
// switched on writes them all against the strict fake, and lacking any one of them warns.
func TestPermissionsTable(t *testing.T) {
	t.Parallel()
	table := documented(t)
	for _, in := range []string{"deployments", "release", "comment_prs"} {
		if len(table[in]) == 0 {
			t.Fatalf("docs/github.md documents no permission for %s", in)
		}
	}
	access := func(skip string) githubtest.Access {
		a := githubtest.Access{}
		for _, perms := range table {
			for _, p := range perms {
				name, level, _ := strings.Cut(p, ": ")
				name = strings.ReplaceAll(name, "-", "_")
				if p != skip && levels(level) > levels(a[name]) {
					a[name] = level
				}
			}
		}
		return a
	}
	run := func(a githubtest.Access) Report {
		srv := githubtest.New(t, "acme", "platform", githubtest.MaxPage(2), githubtest.Grant(jobToken, a))
		history(srv)
		return strictClient(t, srv, all).Promoted(context.Background(), secondRelease())
	}
	noWarnings(t, "documented permissions", run(access("")))
	for _, perms := range table {
		for _, p := range perms {
			if strings.HasSuffix(p, ": read") {
				continue // implied by write where both are listed
			}
			if rep := run(access(p)); len(rep.Warnings) == 0 {
				t.Errorf("without %s every record was written: the table lists more than the code needs", p)
			}
		}
	}
}

func levels(l string) int { return map[string]int{"read": 1, "write": 2, "admin": 3}[l] }
