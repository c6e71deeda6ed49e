package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// The demo builds the binaries, runs them as a user types them against a registry on loopback, and
// tells the story the README promises: the newest candidate reaches integration only; an event from
// the wrong cluster and an unhealthy one are ignored; the health check promotes exactly that
// candidate to live and Flux's repeat writes nothing; status shows it; a rollback moves live back
// and holds promotion; the release lifts the hold and a later candidate is promoted. Then a chain of
// three stages: dev's event promotes to preprod, preprod's is deferred by prod's closed window,
// and the pending run promotes to prod once a window is open.
func TestDemo(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	var out bytes.Buffer
	// run returns an error when a binary exits non-zero, so this is every step's exit code too.
	if err := run(ctx, &out, ""); err != nil {
		t.Fatalf("demo: %v\n%s", err, out.String())
	}
	text := out.String()

	for i, line := range strings.Split(text, "\n") {
		if len(line) > width {
			t.Errorf("line %d has %d columns, more than %d:\n%s", i+1, len(line), width, line)
		}
	}

	// Each step starts with its title, "## N. ...".
	steps := strings.Split(text, "\n## ")
	find := func(title string) (int, string) {
		t.Helper()
		for i, p := range steps {
			if first, _, _ := strings.Cut(p, "\n"); i > 0 && strings.Contains(first, title) {
				return i, p
			}
		}
		t.Fatalf("no step titled %q:\n%s", title, text)
		return 0, ""
	}
	const (
		integration = `Flux on integration semver ">= 0.0.0-0", semverFilter ".*-rc.*" selects `
		live        = `Flux on live        semver ">= 0.0.0"                          selects `
		dev         = "Flux on dev         selects "
		preprod     = "Flux on preprod     selects "
		prod        = "Flux on prod        selects "
	)
	tests := []struct {
		name, title string
		want, not   []string
	}{
		{"first merge", "(replicas: 2): CI runs build-rc", []string{
			"$ build-rc --repository 127.0.0.1:", "--path manifests", "--json",
			"build-rc: pushed 0.0.1-rc.1", integration + "0.0.1-rc.1", live + "(nothing yet)",
		}, nil},
		{"first promotion", `"Health check passed in 4.2s" for 0.0.1-rc.1`, []string{
			"$ dispatch-receiver --event-name repository_dispatch --event-path events/", "dispatch-receiver: promote:",
			"$ tag-validated --repository 127.0.0.1:", "--revision 0.0.1-rc.1@sha256:",
			"tag-validated: promoted (0.0.1-rc.1 becomes 0.0.1)", live + "0.0.1",
		}, nil},
		{"second merge", "(replicas: 3): CI runs build-rc", []string{
			"build-rc: pushed 0.0.2-rc.1", integration + "0.0.2-rc.1", live + "0.0.1",
		}, nil},
		{"not yet healthy", `"Deployment/podinfo/podinfo configured"`, []string{
			"dispatch-receiver: ignored: message", "is not a success signal", live + "0.0.1",
		}, []string{"$ tag-validated"}},
		{"wrong cluster", `Flux on live: "Health check passed in 3.9s"`, []string{
			"dispatch-receiver: ignored: event from cluster live, expected integration", live + "0.0.1",
		}, []string{"$ tag-validated"}},
		{"promotion", `"Health check passed in 4.4s" for 0.0.2-rc.1`, []string{
			"--revision 0.0.2-rc.1@sha256:", "tag-validated: promoted (0.0.2-rc.1 becomes 0.0.2)", live + "0.0.2",
		}, nil},
		{"repeat", `"Health check passed in 4.5s" for 0.0.2-rc.1`, []string{
			"tag-validated: already-promoted", live + "0.0.2",
		}, []string{"tag-validated: promoted"}},
		{"status", "on call: what runs where?", []string{
			"$ ocipromote status --repository 127.0.0.1:", "hold: off", "live selects 0.0.2",
		}, nil},
		{"rollback", "roll back to 0.0.1", []string{
			"$ ocipromote rollback --repository 127.0.0.1:", "--to 0.0.1", "--reason '0.0.2 breaks checkout'",
			"live selects 0.0.3", "held", live + "0.0.3",
		}, nil},
		{"merge during the hold", "(replicas: 4): CI runs build-rc", []string{
			"build-rc: pushed 0.0.4-rc.1", integration + "0.0.4-rc.1", live + "0.0.3",
		}, nil},
		{"held", `"Health check passed in 4.1s" for 0.0.4-rc.1`, []string{
			"dispatch-receiver: held: hold set by oncall", "0.0.2 breaks checkout", live + "0.0.3",
		}, []string{"$ tag-validated", "dispatch-receiver: promote:"}},
		{"release", "release the hold", []string{
			"$ ocipromote hold release --repository 127.0.0.1:", "hold released by oncall", live + "0.0.3",
		}, nil},
		{"later merge", "(replicas: 5): CI runs build-rc", []string{
			"build-rc: pushed 0.0.4-rc.2", integration + "0.0.4-rc.2", live + "0.0.3",
		}, nil},
		{"later promotion", `"Health check passed in 4.0s" for 0.0.4-rc.2`, []string{
			"tag-validated: promoted (0.0.4-rc.2 becomes 0.0.4)", integration + "0.0.4-rc.2", live + "0.0.4",
		}, []string{"held"}},
		{"final status", "where are we now?", []string{
			"hold: off: hold released by oncall", "live selects 0.0.4",
		}, nil},
		{"three stages: build", "(replicas: 6): CI runs build-rc", []string{
			"--stages dev,preprod,prod", "build-rc: pushed 0.0.1-rc.1 to 127.0.0.1:", "/acme/three-stages",
			dev + "0.0.1-rc.1", preprod + "(nothing yet)", prod + "(nothing yet)",
		}, nil},
		{"three stages: dev's event", `Flux on dev: "Health check passed in 3.8s" for 0.0.1-rc.1`, []string{
			"in stage dev, which promotes it to preprod", "--to preprod",
			"tag-validated: promoted (0.0.1-rc.1 becomes 0.0.1-preprod.1)", preprod + "0.0.1-preprod.1", prod + "(nothing yet)",
		}, nil},
		{"three stages: prod's window", `Flux on preprod: "Health check passed in 4.3s" for 0.0.1-preprod.1`, []string{
			"in stage preprod, which promotes it to prod", "--to prod", "tag-validated: deferred (outside the change windows",
			`"gate": "window"`, preprod + "0.0.1-preprod.1", prod + "(nothing yet)",
		}, []string{"tag-validated: promoted"}},
		{"three stages: pending", "promote-pending runs once prod's window is open", []string{
			"--pending", "tag-validated: promoted (0.0.1-rc.1 becomes 0.0.1)", `"0.0.1-preprod.1:promoted"`, prod + "0.0.1",
		}, nil},
	}
	var order []int
	for _, tc := range tests {
		i, p := find(tc.title)
		order = append(order, i)
		t.Run(tc.name, func(t *testing.T) {
			for _, w := range tc.want {
				if !strings.Contains(p, w) {
					t.Errorf("lacks %q:\n%s", w, p)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(p, n) {
					t.Errorf("has %q:\n%s", n, p)
				}
			}
			// One line says what happened and why: the selection follows it, not a folded rest.
			if _, why, found := strings.Cut(p, "\n=> "); !found {
				t.Errorf("no line says what happened and why:\n%s", p)
			} else if _, next, _ := strings.Cut(why, "\n"); !strings.HasPrefix(next, "   Flux on ") {
				t.Errorf("the why takes more than one line:\n%s", p)
			}
		})
	}
	t.Run("README", func(t *testing.T) { readmeShowsDemo(t, text) })
	if got, want := len(steps)-1, len(tests); got != want {
		t.Errorf("the demo has %d steps, the test checks %d: check each step", got, want)
	}
	if !slices.IsSorted(order) {
		t.Errorf("steps out of order (%v):\n%s", order, text)
	}
}

// readmeShowsDemo checks that the demo output the README quotes is what the demo prints: each line
// of a fenced block that is a demo step's title, why or selection, the registry's port aside.
func readmeShowsDemo(t *testing.T, demo string) {
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	port := regexp.MustCompile(`127\.0\.0\.1:[0-9]+`)
	printed := strings.Split(port.ReplaceAllString(demo, "127.0.0.1:PORT"), "\n")
	quoted := regexp.MustCompile(`^(## [0-9]+\. |=> |   Flux on )`)
	fenced := false
	for _, line := range strings.Split(string(readme), "\n") {
		if strings.HasPrefix(line, "```") {
			fenced = !fenced
			continue
		}
		if fenced && quoted.MatchString(line) && !slices.Contains(printed, line) {
			t.Errorf("README.md quotes a demo line the demo does not print:\n%s", line)
		}
	}
}

func TestCommandLine(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		argv []string
		want string
	}{
		{"short", []string{"ocipromote", "status", "--repository", "r"}, "$ ocipromote status --repository r"},
		{"quoted", []string{"ocipromote", "hold", "release", "--reason", "it's fixed"},
			`$ ocipromote hold release --reason 'it'\''s fixed'`},
		{"wrapped, a flag beside its value", []string{"tag-validated", "--repository", strings.Repeat("r", 40),
			"--revision", strings.Repeat("v", 60), "--json"},
			"$ tag-validated --repository " + strings.Repeat("r", 40) + " \\\n    --revision " + strings.Repeat("v", 60) + " --json"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := commandLine(tc.argv); got != tc.want {
				t.Errorf("commandLine(%q) =\n%s\nwant\n%s", tc.argv, got, tc.want)
			}
		})
	}
}

func TestFold(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("word ", 45) // 225 columns
	for _, line := range strings.Split(fold(long), "\n") {
		if len(line) > width {
			t.Errorf("folded line has %d columns: %q", len(line), line)
		}
	}
	if got, want := strings.Join(strings.Fields(fold(long)), " "), strings.TrimSpace(long); got != want {
		t.Errorf("folding lost words: %q", got)
	}
	if got := fold("short"); got != "short" {
		t.Errorf("fold(short) = %q", got)
	}
	unbroken := strings.Repeat("x", 230)
	if got := strings.ReplaceAll(strings.ReplaceAll(fold(unbroken), "\n", ""), " ", ""); got != unbroken {
		t.Errorf("folding a line without spaces lost characters")
	}
}
