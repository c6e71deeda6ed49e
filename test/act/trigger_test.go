package act

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// githubWouldRun reports why GitHub would not start workflow for event with payload, or nil when
// it would. act ignores a trigger's filters (branches, paths, types) and runs whatever it is given,
// so without this check a run could pass that GitHub never makes.
func githubWouldRun(workflow []byte, event string, payload map[string]any) error {
	var doc struct {
		On yaml.Node `yaml:"on"`
	}
	if err := yaml.Unmarshal(workflow, &doc); err != nil {
		return err
	}
	var filters map[string]any
	switch doc.On.Kind {
	case yaml.ScalarNode:
		if doc.On.Value != event {
			return fmt.Errorf("on: %s, not %s", doc.On.Value, event)
		}
	case yaml.SequenceNode:
		var events []string
		if err := doc.On.Decode(&events); err != nil {
			return err
		}
		if !slices.Contains(events, event) {
			return fmt.Errorf("on: %v has no %s", events, event)
		}
	case yaml.MappingNode:
		// An event's value is a map of filters, or a list (schedule's cron entries).
		var events map[string]yaml.Node
		if err := doc.On.Decode(&events); err != nil {
			return err
		}
		node, ok := events[event]
		if !ok {
			return fmt.Errorf("on: has no %s", event)
		}
		if node.Kind == yaml.MappingNode {
			if err := node.Decode(&filters); err != nil {
				return err
			}
		}
	default:
		return fmt.Errorf("no on: key")
	}

	for key, value := range filters {
		switch {
		case event == "push" && key == "branches":
			branch, _ := strings.CutPrefix(fmt.Sprint(payload["ref"]), "refs/heads/")
			if ok, err := anyMatch(value, []string{branch}); err != nil || !ok {
				return fmt.Errorf("branch %s matches no pattern of on.push.branches %v (%v)", branch, value, err)
			}
		case event == "push" && key == "paths":
			files := pushedFiles(payload)
			if ok, err := anyMatch(value, files); err != nil || !ok {
				return fmt.Errorf("no pushed file (%q) matches on.push.paths %v (%v)", files, value, err)
			}
		case event == "repository_dispatch" && key == "types":
			types, _ := value.([]any)
			if !slices.ContainsFunc(types, func(v any) bool { return v == payload["action"] }) {
				return fmt.Errorf("event type %v is not in on.repository_dispatch.types %v", payload["action"], value)
			}
		case event == "workflow_dispatch" && key == "inputs":
			declared, _ := value.(map[string]any)
			given, _ := payload["inputs"].(map[string]any)
			for name := range given {
				if _, ok := declared[name]; !ok {
					return fmt.Errorf("input %s is not declared (GitHub refuses the run)", name)
				}
			}
			for name, spec := range declared {
				if s, _ := spec.(map[string]any); s["required"] == true && fmt.Sprint(given[name]) == "" {
					return fmt.Errorf("required input %s is empty", name)
				}
			}
		default:
			return fmt.Errorf("the test does not know GitHub's on.%s.%s filter", event, key)
		}
	}
	return nil
}

// pushedFiles lists the files a push event's commits added, modified or removed.
func pushedFiles(payload map[string]any) []string {
	var files []string
	commits, _ := payload["commits"].([]any)
	for _, c := range commits {
		commit, _ := c.(map[string]any)
		for _, key := range []string{"added", "modified", "removed"} {
			switch list := commit[key].(type) {
			case []string:
				files = append(files, list...)
			case []any:
				for _, f := range list {
					files = append(files, fmt.Sprint(f))
				}
			}
		}
	}
	return files
}

// anyMatch reports whether one of names matches one of patterns, a list of GitHub filter
// patterns where * matches anything but / and ** anything. Other special characters (negation
// with !, ?, +, [...]) are refused rather than misread.
func anyMatch(patterns any, names []string) (bool, error) {
	list, ok := patterns.([]any)
	if !ok {
		return false, fmt.Errorf("not a list: %v", patterns)
	}
	for _, p := range list {
		pattern := fmt.Sprint(p)
		if strings.ContainsAny(pattern, "!?+[]") {
			return false, fmt.Errorf("the test cannot read the pattern %q", pattern)
		}
		var b strings.Builder
		b.WriteString("^")
		for i := 0; i < len(pattern); i++ {
			switch {
			case strings.HasPrefix(pattern[i:], "**"):
				b.WriteString(".*")
				i++
			case pattern[i] == '*':
				b.WriteString("[^/]*")
			default:
				b.WriteString(regexp.QuoteMeta(pattern[i : i+1]))
			}
		}
		b.WriteString("$")
		if slices.ContainsFunc(names, regexp.MustCompile(b.String()).MatchString) {
			return true, nil
		}
	}
	return false, nil
}

// The check refuses the events GitHub would not deliver to the example workflows, which act would
// run anyway.
func TestGitHubWouldRun(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(workflowsDir), name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	buildRC, promote, prune := read(buildRCWorkflow), read(promoteWorkflow), read(pruneWorkflow)
	push := func(ref string, files ...string) map[string]any {
		return map[string]any{"ref": ref, "commits": []any{map[string]any{"modified": files}}}
	}
	tests := []struct {
		name     string
		workflow []byte
		event    string
		payload  map[string]any
		ok       bool
	}{
		{"push to main touching deploy/", buildRC, "push", push("refs/heads/main", "deploy/deployment.yaml"), true},
		{"push to main touching only the README", buildRC, "push", push("refs/heads/main", "README.md"), false},
		{"push to another branch", buildRC, "push", push("refs/heads/feature", "deploy/deployment.yaml"), false},
		{"build-rc on a dispatch", buildRC, "repository_dispatch", map[string]any{"action": "Kustomization/platform.flux-system"}, false},
		{"dispatch of the platform Kustomization", promote, "repository_dispatch", map[string]any{"action": "Kustomization/platform.flux-system"}, true},
		{"dispatch of another Kustomization", promote, "repository_dispatch", map[string]any{"action": "Kustomization/apps.flux-system"}, false},
		{"any commit status", promote, "status", map[string]any{"context": "ci/build"}, true},
		{"manual run with a sha", promote, "workflow_dispatch", map[string]any{"inputs": map[string]any{"sha": "abc"}}, true},
		{"manual run with an undeclared input", promote, "workflow_dispatch", map[string]any{"inputs": map[string]any{"to": "0.0.1"}}, false},
		{"prune on its schedule", prune, "schedule", map[string]any{}, true},
		{"prune by hand", prune, "workflow_dispatch", map[string]any{"inputs": map[string]any{"dry_run": "true"}}, true},
		{"prune on a push", prune, "push", push("refs/heads/main", "deploy/deployment.yaml"), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if err := githubWouldRun(tc.workflow, tc.event, tc.payload); (err == nil) != tc.ok {
				t.Errorf("githubWouldRun = %v, want ok %v", err, tc.ok)
			}
		})
	}
}
