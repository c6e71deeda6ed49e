package act

import (
	"bytes"
	"context"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

const rootModule = "module github.com/ocipromote/ocipromote\n"

// repoRoot returns the ocipromote repository this module sits in (test/act).
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	mod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil || !bytes.HasPrefix(mod, []byte(rootModule)) {
		t.Fatalf("%s is not the ocipromote repository (go.mod: %v); run the tests from test/act", root, err)
	}
	return root
}

// workflowsDir holds the example workflows, relative to the repository root; stagesDir those of
// a chain of three stages.
const (
	workflowsDir = "examples/github/workflows"
	stagesDir    = "examples/github/stages/workflows"
)

// exampleWorkflows reads every example workflow of dir, checking that the test has a scenario for
// each (the names in scenarios). README.md links them (test/examples checks that), so
// what people copy from it is what runs here.
func exampleWorkflows(t *testing.T, root, dir string, scenarios []string) map[string][]byte {
	t.Helper()
	workflows := map[string][]byte{}
	for _, pattern := range []string{"*.yaml", "*.yml"} {
		paths, err := filepath.Glob(filepath.Join(root, filepath.FromSlash(dir), pattern))
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range paths {
			name := filepath.Base(p)
			if !slices.Contains(scenarios, name) {
				t.Errorf("%s/%s: no scenario of test/act runs this workflow; add one", dir, name)
			}
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			workflows[name] = b
		}
	}
	for _, name := range scenarios {
		if workflows[name] == nil {
			t.Errorf("%s/%s is gone; update the scenarios of test/act", dir, name)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	return workflows
}

// actionSource lists what the ocipromote actions use from their own checkout: the action files,
// install.sh and the Go source they build the binaries from.
var actionSource = []string{"action.yml", "actions", "cmd", "pkg", "go.mod", "go.sum"}

// copyActionSource copies the actions and their source from root into dst, standing in for the
// checkout of ocipromote at the pinned commit that GitHub makes for a remote action, and
// downloads the Go modules the build needs, so the workflows build with GOPROXY=off.
func copyActionSource(t *testing.T, root, dst string) {
	t.Helper()
	for _, name := range actionSource {
		src := filepath.Join(root, name)
		fi, err := os.Stat(src)
		if err != nil {
			t.Fatal(err)
		}
		if fi.IsDir() {
			err = os.CopyFS(filepath.Join(dst, name), os.DirFS(src))
		} else {
			err = copyFile(src, filepath.Join(dst, name), fi.Mode())
		}
		if err != nil {
			t.Fatalf("copy %s: %v", name, err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), installTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "mod", "download")
	cmd.Dir = dst
	cmd.Env = append(os.Environ(), "GOFLAGS=", "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go mod download in the copy of ocipromote: %v\n%s", err, out)
	}
}

func copyFile(src, dst string, mode os.FileMode) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	return os.WriteFile(dst, b, mode.Perm())
}

// usesLine matches the action of a `uses:` key in a workflow or an action file.
var usesLine = regexp.MustCompile(`(?m)^[\t ]*(?:-[\t ]+)?uses:[\t ]*['"]?([^'"\s#]+)`)

// remoteRepositories maps every remote action the workflows and the ocipromote actions use, as
// owner/repo@ref, to the directory act takes it from instead of fetching it: ocipromote itself
// to its copy, and actions/checkout and actions/setup-go to stand-ins that fail if they run.
func remoteRepositories(t *testing.T, ocipromote, standIns string, files map[string][]byte) map[string]string {
	t.Helper()
	replace := map[string]string{
		"ocipromote/ocipromote": ocipromote,
		"actions/checkout":      filepath.Join(standIns, "checkout"),
		"actions/setup-go":      filepath.Join(standIns, "setup-go"),
	}
	repos := map[string]string{}
	for _, name := range slices.Sorted(maps.Keys(files)) {
		for _, m := range usesLine.FindAllStringSubmatch(string(files[name]), -1) {
			uses := m[1]
			if strings.HasPrefix(uses, "./") || strings.HasPrefix(uses, "docker://") {
				continue
			}
			action, ref, ok := strings.Cut(uses, "@")
			parts := strings.SplitN(action, "/", 3)
			if !ok || ref == "" || len(parts) < 2 {
				t.Fatalf("%s: uses %q, not owner/repo[/path]@ref", name, uses)
			}
			repo := parts[0] + "/" + parts[1]
			dir, ok := replace[repo]
			if !ok {
				t.Fatalf("%s uses %s: test/act has no offline replacement for %s; add one to remoteRepositories", name, uses, repo)
			}
			repos[repo+"@"+ref] = dir
		}
	}
	return repos
}

// actionFiles reads the action files of the copy of ocipromote, keyed by their path in it.
func actionFiles(t *testing.T, ocipromote string) map[string][]byte {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(ocipromote, "actions", "*", "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, p := range append(paths, filepath.Join(ocipromote, "action.yml")) {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(ocipromote, p)
		files[filepath.ToSlash(rel)] = b
	}
	return files
}

// workspace is the git repository that holds the manifests and the workflows, as on GitHub.
type workspace struct {
	dir  string
	env  []string // git's environment: no system or user configuration
	last string   // the newest commit
}

// The repository the workflows run in, as act reads it from the origin remote.
const (
	githubRepository = "acme/platform"
	sourceURL        = "https://github.com/" + githubRepository
)

func newWorkspace(t *testing.T, dir, home string) *workspace {
	t.Helper()
	w := &workspace{dir: dir, env: append(os.Environ(),
		"HOME="+home, "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL="+os.DevNull,
		"GIT_AUTHOR_NAME=dev", "GIT_AUTHOR_EMAIL=dev@acme.example",
		"GIT_COMMITTER_NAME=dev", "GIT_COMMITTER_EMAIL=dev@acme.example",
	)}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	w.git(t, nil, "init", "-q", "--initial-branch=main")
	w.git(t, nil, "remote", "add", "origin", sourceURL+".git")
	return w
}

func (w *workspace) git(t *testing.T, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = w.dir
	cmd.Env = append(slices.Clone(w.env), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// commit writes files (path relative to the workspace: content) and commits them at date.
func (w *workspace) commit(t *testing.T, message string, date time.Time, files map[string][]byte) string {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(w.dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, content, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	stamp := date.UTC().Format(time.RFC3339)
	w.git(t, nil, "add", "-A")
	w.git(t, []string{"GIT_AUTHOR_DATE=" + stamp, "GIT_COMMITTER_DATE=" + stamp}, "commit", "-q", "-m", message)
	w.last = w.git(t, nil, "rev-parse", "HEAD")
	return w.last
}

// changes lists the files commit sha added, modified and removed, as a push event's commit does.
func (w *workspace) changes(t *testing.T, sha string) (added, modified, removed []string) {
	t.Helper()
	added, modified, removed = []string{}, []string{}, []string{}
	out := w.git(t, nil, "diff-tree", "--root", "--no-commit-id", "--name-status", "-r", sha)
	for line := range strings.Lines(out) {
		status, name, ok := strings.Cut(strings.TrimSpace(line), "\t")
		switch {
		case !ok:
			t.Fatalf("git diff-tree: unexpected line %q", line)
		case status == "A":
			added = append(added, name)
		case status == "M":
			modified = append(modified, name)
		case status == "D":
			removed = append(removed, name)
		default:
			t.Fatalf("git diff-tree: unexpected status %q of %s", status, name)
		}
	}
	return added, modified, removed
}

// read returns a file of the workspace.
func (w *workspace) read(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(w.dir, filepath.FromSlash(name)))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
