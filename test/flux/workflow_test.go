package flux

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// repoRoot is the ocipromote repository, whose examples/ the scenarios run as shipped.
const repoRoot = "../.."

// workflow is one of examples/github/workflows as a runner would read it.
type workflow struct {
	On   map[string]any `yaml:"on"`
	Jobs map[string]struct {
		Steps []step `yaml:"steps"`
	} `yaml:"jobs"`
}

type step struct {
	Name string            `yaml:"name"`
	Uses string            `yaml:"uses"`
	With map[string]string `yaml:"with"`
	Env  map[string]string `yaml:"env"`
	Run  string            `yaml:"run"`
}

func readWorkflow(t *testing.T, name string) workflow {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(repoRoot, "examples", "github", "workflows", name))
	if err != nil {
		t.Fatal(err)
	}
	var w workflow
	if err := yaml.Unmarshal(raw, &w); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return w
}

// action returns the step of job that uses ocipromote's action (actions/<action>@…).
func (w workflow) action(t *testing.T, job, action string) step {
	t.Helper()
	for _, s := range w.Jobs[job].Steps {
		if strings.Contains(s.Uses, "/actions/"+action+"@") {
			return s
		}
	}
	t.Fatalf("job %s has no step using actions/%s", job, action)
	return step{}
}

// named returns the step of job with that name.
func (w workflow) named(t *testing.T, job, name string) step {
	t.Helper()
	for _, s := range w.Jobs[job].Steps {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("job %s has no step named %s", job, name)
	return step{}
}

var expression = regexp.MustCompile(`\$\{\{\s*(.*?)\s*\}\}`)

// expand evaluates the expressions the example workflows use, from values (keyed by the
// expression's text, e.g. "needs.decide.outputs.revision"); the repository variable falls back
// to values["vars.OCI_REPOSITORY"]. An expression the test does not know fails it, so a new one
// in the examples is noticed here.
func expand(t *testing.T, s string, values map[string]string) string {
	t.Helper()
	return expression.ReplaceAllStringFunc(s, func(m string) string {
		expr := expression.FindStringSubmatch(m)[1]
		if strings.HasPrefix(expr, "vars.OCI_REPOSITORY ||") {
			expr = "vars.OCI_REPOSITORY"
		}
		v, ok := values[expr]
		if !ok && strings.HasPrefix(expr, "needs.") {
			// GitHub gives an output a job did not set as the empty string.
			return ""
		}
		if !ok {
			t.Fatalf("example workflow expression %s has no value in the test", m)
		}
		return v
	})
}

// stepRun is how one workflow step ran.
type stepRun struct {
	Outputs map[string]string
	Stdout  string
}

// runStep runs binary as the composite action does: each `with:` input (expanded, then
// overridden) becomes INPUT_<NAME>, plus the GitHub context in github; outputs come back through
// GITHUB_OUTPUT.
func runStep(t *testing.T, bin, dir string, inputs map[string]string, github map[string]string, args ...string) stepRun {
	t.Helper()
	out := filepath.Join(t.TempDir(), "output")
	env := []string{"GITHUB_OUTPUT=" + out}
	for k, v := range inputs {
		env = append(env, "INPUT_"+strings.ToUpper(k)+"="+v)
	}
	for k, v := range github {
		env = append(env, k+"="+v)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	stdout, err := runIn(ctx, dir, env, bin, args...)
	if err != nil {
		t.Fatalf("%s %s: %v", filepath.Base(bin), strings.Join(args, " "), err)
	}
	return stepRun{Outputs: readOutputs(t, out), Stdout: stdout}
}

// readOutputs parses a GITHUB_OUTPUT file (name=value lines and name<<DELIM heredocs).
func readOutputs(t *testing.T, path string) map[string]string {
	t.Helper()
	outputs := map[string]string{}
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return outputs
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if name, delim, ok := strings.Cut(line, "<<"); ok {
			var value []string
			for sc.Scan() && sc.Text() != delim {
				value = append(value, sc.Text())
			}
			outputs[name] = strings.Join(value, "\n")
			continue
		}
		if name, value, ok := strings.Cut(line, "="); ok {
			outputs[name] = value
		}
	}
	return outputs
}

func writeJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "event.json")
	write(t, path, string(b)+"\n")
	return path
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func (r stepRun) String() string { return fmt.Sprintf("outputs %v", r.Outputs) }
