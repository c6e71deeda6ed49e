package examples

import (
	"fmt"
	"os"
	pathpkg "path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// actionFile is the part of an action.yml or a workflow file the checks read.
type actionFile struct {
	Inputs  map[string]actionInput  `json:"inputs"`
	Outputs map[string]actionOutput `json:"outputs"`
	Runs    *struct {
		Using string `json:"using"`
		Steps []step `json:"steps"`
	} `json:"runs"`
	Jobs        map[string]job `json:"jobs"`
	Permissions any            `json:"permissions"`
	Concurrency any            `json:"concurrency"`
}

type actionInput struct {
	Description string `json:"description"`
	Required    any    `json:"required"`
	Default     any    `json:"default"`
}

type actionOutput struct {
	Description string `json:"description"`
	Value       string `json:"value"`
}

type job struct {
	Uses        string         `json:"uses"`
	If          any            `json:"if"`
	Needs       any            `json:"needs"`
	Permissions any            `json:"permissions"`
	Concurrency any            `json:"concurrency"`
	Outputs     map[string]any `json:"outputs"`
	Steps       []step         `json:"steps"`
}

type step struct {
	ID   string         `json:"id"`
	Name string         `json:"name"`
	If   any            `json:"if"`
	Uses string         `json:"uses"`
	Run  *string        `json:"run"`
	Env  map[string]any `json:"env"`
	With map[string]any `json:"with"`
}

func (s step) label() string {
	switch {
	case s.Name != "":
		return s.Name
	case s.ID != "":
		return s.ID
	case s.Uses != "":
		return s.Uses
	}
	return "?"
}

// allSteps lists the steps of a composite action or of every job of a workflow.
func (a actionFile) allSteps() []step {
	if a.Runs != nil {
		return a.Runs.Steps
	}
	var steps []step
	for _, j := range a.Jobs {
		steps = append(steps, j.Steps...)
	}
	return steps
}

// actionsFiles are the files the Actions rules apply to, relative to the repository root: every
// action.yml or action.yaml and every .yml or .yaml file in a directory named workflows, anywhere
// in the repository but .git. Nothing is skipped: test/act's stand-ins for actions/checkout and
// actions/setup-go follow the rules too.
func actionsFiles(t *testing.T, root string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == ".git" {
				return filepath.SkipDir
			}
			return nil
		}
		if isActionsFile(filepath.ToSlash(path)) {
			rel, err := filepath.Rel(root, path)
			if err != nil {
				return err
			}
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// isActionsFile reports whether a slash-separated path names an action or a workflow file.
func isActionsFile(path string) bool {
	dir, name := pathpkg.Split(path)
	switch {
	case name == "action.yml" || name == "action.yaml":
		return true
	case pathpkg.Base(dir) == "workflows":
		return strings.HasSuffix(name, ".yml") || strings.HasSuffix(name, ".yaml")
	}
	return false
}

func loadActionFile(root, file string) (actionFile, []byte, error) {
	raw, err := os.ReadFile(filepath.Join(root, file))
	if err != nil {
		return actionFile{}, nil, err
	}
	var a actionFile
	if err := yaml.Unmarshal(raw, &a); err != nil {
		return actionFile{}, nil, err
	}
	return a, raw, nil
}

var (
	inputName = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	// A pinned action: owner/repo[/path]@<full commit sha>.
	pinnedUses = regexp.MustCompile(`^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+(/[^@\s]+)?@[0-9a-f]{40}$`)
	usesLine   = regexp.MustCompile(`^\s*(?:-\s+)?uses:\s*(\S+)(.*)$`)
	// The version a pin stands for, as a comment after it.
	versionComment = regexp.MustCompile(`^\s+# v[0-9]+(\.[0-9]+)*\b`)
)

// actionProblems applies the project's Actions rules to one parsed file.
func actionProblems(a actionFile, raw []byte) []string {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	for _, s := range a.allSteps() {
		if s.Run != nil && strings.Contains(*s.Run, "${{") {
			add("step %q has an expression inside run: (pass it through env:)", s.label())
		}
	}
	checkUses := func(where, uses string) {
		if uses == "" || strings.HasPrefix(uses, "./") {
			return
		}
		if !pinnedUses.MatchString(uses) {
			add("%s uses %q: pin it to a full 40-hex commit sha", where, uses)
		}
	}
	for _, s := range a.allSteps() {
		checkUses(fmt.Sprintf("step %q", s.label()), s.Uses)
	}
	for name, j := range a.Jobs {
		checkUses("job "+name, j.Uses)
	}
	for i, line := range strings.Split(string(raw), "\n") {
		m := usesLine.FindStringSubmatch(line)
		if m == nil || strings.HasPrefix(m[1], "./") {
			continue
		}
		if !versionComment.MatchString(m[2]) {
			add("line %d: uses %s needs the version it pins as a comment, e.g. # v1.2.3", i+1, m[1])
		}
	}

	if a.Runs == nil || a.Runs.Using != "composite" {
		return problems
	}
	mapped := map[string]bool{}
	for _, s := range a.Runs.Steps {
		if s.Run == nil {
			continue
		}
		for k, v := range s.Env {
			name, ok := strings.CutPrefix(k, "INPUT_")
			if !ok {
				continue
			}
			name = strings.ToLower(name)
			if _, declared := a.Inputs[name]; !declared {
				add("step %q sets %s, but there is no input %s", s.label(), k, name)
				continue
			}
			if want := "${{ inputs." + name + " }}"; fmt.Sprint(v) != want {
				add("step %q sets %s to %q, want %q", s.label(), k, v, want)
				continue
			}
			mapped[name] = true
		}
	}
	for name, in := range a.Inputs {
		if !inputName.MatchString(name) {
			add("input %q: input names are lower case with underscores", name)
		}
		if !mapped[name] {
			add("input %q is not mapped to INPUT_%s in a run step's env", name, strings.ToUpper(name))
		}
		if strings.TrimSpace(in.Description) == "" {
			add("input %q has no description", name)
		}
		if in.Default == nil {
			add("input %q has no default: (write default: '' where the binary decides)", name)
		}
	}
	for name, out := range a.Outputs {
		if strings.TrimSpace(out.Description) == "" {
			add("output %q has no description", name)
		}
		if !strings.Contains(out.Value, "steps.") {
			add("output %q: value %q is not taken from a step", name, out.Value)
		}
	}
	return problems
}

func TestActionFilesFollowTheRules(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	files := actionsFiles(t, root)
	if len(files) == 0 {
		t.Fatal("no action or workflow files found")
	}
	for _, file := range files {
		t.Run(file, func(t *testing.T) {
			t.Parallel()
			a, raw, err := loadActionFile(root, file)
			if err != nil {
				t.Fatal(err)
			}
			if a.Runs == nil && a.Jobs == nil {
				t.Fatalf("neither an action (runs:) nor a workflow (jobs:)")
			}
			for _, p := range actionProblems(a, raw) {
				t.Error(p)
			}
		})
	}
}

// Each rule must catch its own mistake.
func TestActionRulesCatchMistakes(t *testing.T) {
	t.Parallel()
	const good = `
inputs:
  repository:
    description: the repository
    default: ''
    required: true
outputs:
  digest:
    description: the digest
    value: ${{ steps.run.outputs.digest }}
runs:
  using: composite
  steps:
    - uses: actions/setup-go@0123456789abcdef0123456789abcdef01234567 # v5.5.0
    - id: run
      shell: bash
      env:
        INPUT_REPOSITORY: ${{ inputs.repository }}
      run: build-rc
`
	tests := []struct {
		name     string
		old, new string
		want     string
	}{
		{"expression in run", "run: build-rc", "run: build-rc --repository ${{ inputs.repository }}", "expression inside run"},
		{"input not mapped", "INPUT_REPOSITORY: ${{ inputs.repository }}", "REPOSITORY: ${{ inputs.repository }}", "not mapped"},
		{"input mapped to another input", "INPUT_REPOSITORY: ${{ inputs.repository }}", "INPUT_REPOSITORY: ${{ inputs.other }}", "want"},
		{"hyphen in input name", "  repository:\n    description", "  repo-sitory:\n    description", "underscores"},
		{"input without a description", "    description: the repository\n", "", "no description"},
		{"input without a default", "    default: ''\n", "", "no default"},
		{"tag instead of sha", "@0123456789abcdef0123456789abcdef01234567", "@v5", "full 40-hex"},
		{"short sha", "@0123456789abcdef0123456789abcdef01234567", "@0123456", "full 40-hex"},
		{"no version comment", " # v5.5.0", "", "version it pins"},
		{"output not from a step", "${{ steps.run.outputs.digest }}", "sha256:0", "not taken from a step"},
	}
	if p := actionProblems(mustParse(t, good), []byte(good)); len(p) != 0 {
		t.Fatalf("the good action has problems: %v", p)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			bad := strings.Replace(good, tc.old, tc.new, 1)
			if bad == good {
				t.Fatalf("%q is not in the good action", tc.old)
			}
			problems := actionProblems(mustParse(t, bad), []byte(bad))
			if !strings.Contains(strings.Join(problems, "\n"), tc.want) {
				t.Errorf("problems %q, want one saying %q", problems, tc.want)
			}
		})
	}
}

func mustParse(t *testing.T, s string) actionFile {
	t.Helper()
	var a actionFile
	if err := yaml.Unmarshal([]byte(s), &a); err != nil {
		t.Fatal(err)
	}
	return a
}

func TestActionsFilesAreFound(t *testing.T) {
	t.Parallel()
	tests := []struct {
		path string
		want bool
	}{
		{"action.yml", true},
		{"actions/build-rc/action.yml", true},
		{"deep/down/somewhere/action.yaml", true},
		{".github/workflows/ci.yml", true},
		{"examples/github/workflows/promote.yaml", true},
		{"anything/workflows/x.yaml", true},
		{"test/act/testdata/stand-ins/checkout/action.yml", true},
		{"examples/flux/integration/alert.yaml", false},
		{"workflows.yaml", false},
		{"actions/checksums.txt", false},
		{"docs/workflows/README.md", false},
	}
	for _, tc := range tests {
		if got := isActionsFile(tc.path); got != tc.want {
			t.Errorf("isActionsFile(%q) = %v, want %v", tc.path, got, tc.want)
		}
	}
	// The walk finds the repository's own files, wherever they are.
	files := actionsFiles(t, repoRoot(t))
	for _, want := range []string{"action.yml", "actions/build-rc/action.yml", ".github/workflows/release.yml", "examples/github/workflows/promote.yaml", "test/act/testdata/stand-ins/setup-go/action.yml"} {
		if !slices.Contains(files, want) {
			t.Errorf("actionsFiles does not find %s (found %q)", want, files)
		}
	}
}
