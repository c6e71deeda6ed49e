package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ocipromote/ocipromote/pkg/stage"
	"github.com/ocipromote/ocipromote/pkg/step/steptest"
)

// The default stages print the shipped examples' selections (examples/flux/*/source.yaml).
func TestStagesDefault(t *testing.T) {
	t.Parallel()
	r := steptest.Invoke(t, binary, run, map[string]string{}, "stages")
	if r.Code != 0 {
		t.Fatalf("exit %d\n%s", r.Code, r.Stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.Stdout), "\n")
	want := [][]string{
		{"STAGE", "FROM", "TAG", "MARKER", "SEMVER", "SEMVER", "FILTER", "WINDOWS", "SOAK"},
		{"integration", "-", "X.Y.Z-rc.N", "integration-<sha>", ">=", "0.0.0-0", ".*-rc.*", "-", "-"},
		{"live", "integration", "X.Y.Z", "validated-<sha>", ">=", "0.0.0", "-", "-", "-"},
	}
	if len(lines) != len(want) {
		t.Fatalf("stdout:\n%s", r.Stdout)
	}
	for i, l := range lines {
		if got := strings.Fields(l); !slices.Equal(got, want[i]) {
			t.Errorf("line %d = %q, want %q", i, got, want[i])
		}
	}
	if !strings.Contains(r.Stderr, "stages: integration → live") {
		t.Errorf("stderr lacks the heading:\n%s", r.Stderr)
	}
}

// --format yaml prints each stage's spec.ref: single-quoted, so a filter's \d reaches Flux as is.
func TestStagesYAML(t *testing.T) {
	t.Parallel()
	r := steptest.Invoke(t, binary, run, map[string]string{}, "stages", "--stages", "dev,preprod,prod", "--format", "yaml")
	if r.Code != 0 {
		t.Fatalf("exit %d\n%s", r.Code, r.Stderr)
	}
	want := `# dev: the OCIRepository of the dev cluster selects its newest X.Y.Z-rc.N
ref:
  semver: '>= 0.0.0-0'
  semverFilter: '^v?\d+\.\d+\.\d+-rc\.[1-9]\d*$'
---
# preprod: the OCIRepository of the preprod cluster selects its newest X.Y.Z-preprod.N
ref:
  semver: '>= 0.0.0-0'
  semverFilter: '^v?\d+\.\d+\.\d+-preprod\.[1-9]\d*$'
---
# prod: the OCIRepository of the prod cluster selects its newest X.Y.Z
ref:
  semver: '>= 0.0.0'
`
	if r.Stdout != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", r.Stdout, want)
	}
}

// In a workflow the inputs come as INPUT_*, lists one per line; --json is typed and has a schema.
func TestStagesAsActionsStep(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	out := filepath.Join(dir, "output")
	env := map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": out, "GITHUB_STEP_SUMMARY": filepath.Join(dir, "summary"),
		"INPUT_STAGES": "dev, preprod, prod", "INPUT_WINDOWS": "prod=Mon-Thu 09:00-16:00 Europe/London\nprod=Fri 09:00-12:00 Europe/London\n",
		"INPUT_SOAK": "preprod=2h", "INPUT_TAG_PREFIX": "v"}
	r := steptest.Invoke(t, binary, run, env, "stages", "--json")
	if r.Code != 0 {
		t.Fatalf("exit %d\n%s", r.Code, r.Stderr)
	}
	steptest.CheckSchema(t, r.Stdout, filepath.Join("..", "..", "testdata", "schema", "ocipromote-stages.json"))
	var rep stage.Report
	if err := json.Unmarshal([]byte(r.Stdout), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Chain != "dev,preprod,prod" || len(rep.Stages) != 3 {
		t.Fatalf("report %+v", rep)
	}
	pre, prod := rep.Stages[1], rep.Stages[2]
	if pre.Tag != "vX.Y.Z-preprod.N" || pre.Marker != "preprod-<sha>" || pre.From != "dev" || pre.Soak != "2h0m0s" || len(pre.Windows) != 0 ||
		pre.Selection != (stage.Selection{Semver: ">= 0.0.0-0", SemverFilter: `^v?\d+\.\d+\.\d+-preprod\.[1-9]\d*$`}) {
		t.Errorf("preprod %+v", pre)
	}
	if want := []string{"Mon-Thu 09:00-16:00 Europe/London", "Fri 09:00-12:00 Europe/London"}; !slices.Equal(prod.Windows, want) || prod.Marker != "validated-<sha>" {
		t.Errorf("prod %+v", prod)
	}
	b, _ := os.ReadFile(out)
	for _, want := range []string{"stages<<", "dev,preprod,prod", "first<<", "last<<"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("GITHUB_OUTPUT lacks %q:\n%s", want, b)
		}
	}
}

// A malformed chain, window or soak is a usage error that names the input and the chain.
func TestStagesRefuses(t *testing.T) {
	t.Parallel()
	three := []string{"stages", "--stages", "dev,preprod,prod"}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"one stage", []string{"stages", "--stages", "prod"}, "at least two stages"},
		{"a reserved name", []string{"stages", "--stages", "dev,rc,prod"}, "already use"},
		{"a window of an unknown stage", append(three, "--windows", "prd=Mon 09:00-16:00 UTC"), `"prd" is not a stage of the chain dev,preprod,prod`},
		{"a window of the first stage", append(three, "--windows", "dev=Mon 09:00-16:00 UTC"), "dev is the first stage"},
		{"a window without a zone", append(three, "--windows", "prod=Mon 09:00-16:00"), "is not DAYS HH:MM-HH:MM ZONE"},
		{"a window ending before it opens", append(three, "--windows", "prod=Mon 16:00-09:00 Europe/London"), "not after it opens"},
		{"a soak of an unknown stage", append(three, "--soak", "staging=2h"), `"staging" is not a stage`},
		{"a soak of the last stage", append(three, "--soak", "prod=2h"), "prod is the last stage"},
		{"a soak without a unit", append(three, "--soak", "preprod=2"), "not a duration above zero"},
		{"a prefix Flux does not read", append(three, "--tag-prefix", "release-"), "Flux only reads"},
		{"an unknown format", append(three, "--format", "html"), "text or yaml"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := steptest.Invoke(t, binary, run, map[string]string{}, tc.args...)
			if r.Code != 2 || !strings.Contains(r.Stderr, tc.want) || r.Stdout != "" {
				t.Errorf("exit %d (want 2), stderr lacks %q?\n%s%s", r.Code, tc.want, r.Stdout, r.Stderr)
			}
		})
	}
}
