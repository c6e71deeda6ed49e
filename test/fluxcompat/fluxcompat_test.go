// Package fluxcompat checks ocipromote's artifacts with Flux's own OCI client
// (github.com/fluxcd/pkg/oci, the library the flux CLI and source-controller use): Flux pulls
// what build-rc pushed to a real distribution registry and gets back exactly the source files and
// metadata, and Flux's version rules select the tags ocipromote wrote. It is a separate module so
// that Flux's dependencies never enter ocipromote's own go.mod.
package fluxcompat

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/Masterminds/semver/v3"
	fluxoci "github.com/fluxcd/pkg/oci"
	fluxtar "github.com/fluxcd/pkg/tar"
	fluxversion "github.com/fluxcd/pkg/version"
	"github.com/google/go-containerregistry/pkg/crane"

	"github.com/ocipromote/ocipromote/pkg/version"
	"github.com/ocipromote/ocipromote/test/registrytest"
)

const (
	source  = "https://github.com/acme/platform"
	created = "2026-08-01T10:00:00Z"
	// ignore is build-rc's ignore input: one pattern per line.
	ignore = "secrets/\n*.bak"
)

// Commits of the two builds.
const (
	shaOne = "1111111aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	shaTwo = "2222222bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
)

func TestFluxPullsWhatBuildRCPushed(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	bin := buildBinaries(t)
	addr := registrytest.Start(t)
	repo := addr + "/flux/compat"
	src := sourceTree(t, "one")

	out := runJSON(t, filepath.Join(bin, "build-rc"), "--repository", repo, "--path", src, "--sha", shaOne,
		"--ref", "main", "--source", source, "--created", created, "--ignore", ignore, "--json")
	if got, want := out["version"], "0.0.1-rc.1"; got != want {
		t.Fatalf("build-rc version = %q, want %q", got, want)
	}
	rcTag, digest := out["version"], out["digest"]

	// Flux parses the URL of an OCIRepository and pulls the tag like source-controller does.
	url, err := fluxoci.ParseArtifactURL("oci://" + repo + ":" + rcTag)
	if err != nil {
		t.Fatalf("Flux ParseArtifactURL: %v", err)
	}
	if got, want := url, repo+":"+rcTag; got != want {
		t.Errorf("ParseArtifactURL = %q, want %q", got, want)
	}
	client := fluxoci.NewClient(fluxoci.DefaultOptions())
	pulled := filepath.Join(t.TempDir(), "pulled")
	meta, err := client.Pull(ctx, url, pulled)
	if err != nil {
		t.Fatalf("Flux Pull %s: %v", url, err)
	}
	for _, field := range []struct{ name, got, want string }{
		{"source", meta.Source, source},
		{"revision", meta.Revision, "main@sha1:" + shaOne},
		{"created", meta.Created, created},
		{"digest", meta.Digest, repo + "@" + digest},
	} {
		if field.got != field.want {
			t.Errorf("Flux metadata %s = %q, want %q", field.name, field.got, field.want)
		}
	}
	if got, want := meta.Annotations["org.opencontainers.image.version"], rcTag; got != want {
		t.Errorf("version annotation = %q, want %q", got, want)
	}

	want := expectedTree(t, src)
	if got := readTree(t, pulled); !equalTrees(t, "Flux Pull of "+rcTag, got, want) {
		t.Logf("pulled tree: %v", got.names())
	}

	// Pinned by digest, as an OCIRepository with spec.ref.digest, the content is the same.
	byDigest := filepath.Join(t.TempDir(), "by-digest")
	if _, err := client.Pull(ctx, repo+"@"+digest, byDigest); err != nil {
		t.Fatalf("Flux Pull by digest: %v", err)
	}
	equalTrees(t, "Flux Pull by digest", readTree(t, byDigest), want)

	// `flux push artifact` builds with Flux's own Build; unpacked, its archive of the same source
	// with the same ignore rules (and .git left out, as build-rc always does) is the same tree.
	fluxArchive := filepath.Join(t.TempDir(), "flux.tgz")
	if err := client.Build(fluxArchive, src, []string{".git/", "secrets/", "*.bak"}); err != nil {
		t.Fatalf("Flux Build: %v", err)
	}
	fluxTree := filepath.Join(t.TempDir(), "flux")
	f, err := os.Open(fluxArchive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := fluxtar.Untar(f, fluxTree, fluxtar.WithMaxUntarSize(-1), fluxtar.WithSkipSymlinks()); err != nil {
		t.Fatalf("untar Flux's own archive: %v", err)
	}
	equalTrees(t, "build-rc artifact against flux push artifact", readTree(t, pulled), readTree(t, fluxTree))
}

// Flux's tag selection (fluxcd/pkg/version, as source-controller uses it) picks the tags
// ocipromote writes, and agrees with ocipromote's own version.Select.
func TestFluxSelectsOcipromoteTags(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	bin := buildBinaries(t)
	addr := registrytest.Start(t)
	repo := addr + "/flux/select"
	client := fluxoci.NewClient(fluxoci.DefaultOptions())

	one := runJSON(t, filepath.Join(bin, "build-rc"), "--repository", repo, "--path", sourceTree(t, "one"), "--sha", shaOne,
		"--ref", "main", "--source", source, "--created", created, "--json")
	two := runJSON(t, filepath.Join(bin, "build-rc"), "--repository", repo, "--path", sourceTree(t, "two"), "--sha", shaTwo,
		"--ref", "main", "--source", source, "--created", created, "--json")

	// Integration: OCIRepository semver ">= 0.0.0-0" (with semverFilter ".*-rc.*").
	integration := selectTag(ctx, t, client, repo, ">= 0.0.0-0", ".*-rc.*")
	if got, want := integration.tag, two["version"]; got != want {
		t.Errorf("integration selects %q, want the newest candidate %q", got, want)
	}
	if got, want := integration.meta.Revision, "main@sha1:"+shaTwo; got != want {
		t.Errorf("integration's revision = %q, want %q", got, want)
	}
	if got, want := integration.meta.Digest, two["digest"]; got != want {
		t.Errorf("integration's digest = %q, want %q", got, want)
	}
	// Live: semver ">= 0.0.0" sees no stable version yet.
	if live := selectTag(ctx, t, client, repo, ">= 0.0.0", ""); live.tag != "" {
		t.Errorf("live selects %q before any promotion, want nothing", live.tag)
	}

	// Promote the first candidate, as its Flux revision names it.
	promoted := runJSON(t, filepath.Join(bin, "tag-validated"), "--repository", repo,
		"--revision", one["version"]+"@"+one["digest"], "--json")
	if got, want := promoted["version"], "0.0.1"; got != want {
		t.Fatalf("tag-validated version = %q, want %q", got, want)
	}
	live := selectTag(ctx, t, client, repo, ">= 0.0.0", "")
	if got, want := live.tag, "0.0.1"; got != want {
		t.Errorf("live selects %q, want %q", got, want)
	}
	if got, want := live.meta.Digest, one["digest"]; got != want {
		t.Errorf("live's digest = %q, want the validated %q", got, want)
	}
	// Integration keeps the newest candidate: the stable tag is not a pre-release.
	if got, want := selectTag(ctx, t, client, repo, ">= 0.0.0-0", ".*-rc.*").tag, two["version"]; got != want {
		t.Errorf("integration selects %q after promotion, want %q", got, want)
	}
}

type selected struct {
	tag  string
	meta fluxoci.Metadata
}

// selectTag answers "what does an OCIRepository with this semver (and semverFilter) pick?" with
// Flux's code: list the tags, filter and sort them with fluxcd/pkg/version, take the highest. It
// checks that Flux's List and ocipromote's version.Select agree.
func selectTag(ctx context.Context, t *testing.T, client *fluxoci.Client, repo, constraint, filter string) selected {
	t.Helper()
	tags, err := crane.ListTags(repo)
	if err != nil {
		t.Fatalf("list tags of %s: %v", repo, err)
	}
	s := selected{tag: fluxPick(t, tags, constraint, filter)}

	all, err := crane.ListTags(repo)
	if err != nil {
		t.Fatal(err)
	}
	ours, err := version.Select(all, constraint, filter)
	if err != nil {
		t.Fatalf("version.Select: %v", err)
	}
	if ours != s.tag {
		t.Errorf("constraint %q filter %q: ocipromote selects %q, Flux selects %q", constraint, filter, ours, s.tag)
	}

	metas, err := client.List(ctx, repo, fluxoci.ListOptions{SemverFilter: constraint, RegexFilter: filter})
	if err != nil {
		t.Fatalf("Flux List %s: %v", repo, err)
	}
	var listed []string
	for _, m := range metas {
		tag := m.URL[strings.LastIndex(m.URL, ":")+1:]
		listed = append(listed, tag)
		if tag == s.tag {
			s.meta = m
		}
	}
	if s.tag != "" && s.meta.URL == "" {
		t.Errorf("Flux List with %q does not list %q: %q", constraint, s.tag, listed)
	}
	for _, tag := range listed {
		if slices.ContainsFunc([]string{"sha-", "integration-", "validated-", "claim-", "pass-", "dev-", "preprod-", "hold-"}, func(p string) bool { return strings.HasPrefix(tag, p) }) {
			t.Errorf("Flux List with semver %q lists the marker tag %q", constraint, tag)
		}
	}
	return s
}

// fluxPick is the tag an OCIRepository with this semver (and semverFilter) picks among tags, by
// Flux's code: the filter first, then fluxcd/pkg/version's parse, constraint check and sort.
func fluxPick(t *testing.T, tags []string, constraint, filter string) string {
	t.Helper()
	if filter != "" {
		re := regexp.MustCompile(filter)
		tags = slices.DeleteFunc(slices.Clone(tags), func(tag string) bool { return !re.MatchString(tag) })
	}
	c, err := semver.NewConstraint(constraint)
	if err != nil {
		t.Fatal(err)
	}
	if sorted := fluxversion.Sort(c, tags); len(sorted) > 0 {
		return sorted[0]
	}
	return ""
}

// buildBinaries builds the shipped binaries from the main module (with its own go.mod and
// dependency versions), as the composite actions run them.
func buildBinaries(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(root, "go.mod")); err != nil || !bytes.Contains(b, []byte("module github.com/ocipromote/ocipromote\n")) {
		t.Fatalf("%s is not the ocipromote module root (go.mod: %v)", root, err)
	}
	bin := t.TempDir()
	cmd := exec.Command("go", "build", "-o", bin+string(filepath.Separator), "./cmd/build-rc", "./cmd/tag-validated", "./cmd/dispatch-receiver", "./cmd/ocipromote")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build in %s: %v\n%s", root, err, out)
	}
	return bin
}

// runJSON runs a binary with a clean environment (runOut) and returns its --json outputs.
func runJSON(t *testing.T, bin string, args ...string) map[string]string {
	t.Helper()
	stdout := runOut(t, bin, args...)
	// --json is typed (booleans, lists); the strings the tests compare are taken as they are.
	var typed map[string]any
	if err := json.Unmarshal(stdout, &typed); err != nil {
		t.Fatalf("%s: stdout is not a JSON object: %v\n%s", filepath.Base(bin), err, stdout)
	}
	out := map[string]string{}
	for k, v := range typed {
		out[k] = fmt.Sprint(v)
	}
	return out
}

// sourceTree writes a checkout-like directory: manifests in nested directories, an empty
// directory, an executable script, content build-rc must leave out (ignored paths, a .git
// directory, a symlink) and a .sourceignore file, which is content.
func sourceTree(t *testing.T, label string) string {
	t.Helper()
	dir := t.TempDir()
	files := []struct {
		name    string
		content string
		mode    os.FileMode
	}{
		{"kustomization.yaml", "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - apps/podinfo\n", 0o644},
		{"apps/podinfo/kustomization.yaml", "resources:\n  - deployment.yaml\n", 0o644},
		{"apps/podinfo/deployment.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: podinfo\n  annotations:\n    build: " + label + "\n", 0o644},
		{"apps/podinfo/config/values.yaml", "replicas: 2\n", 0o644},
		{"scripts/check.sh", "#!/bin/sh\nkubectl kustomize . >/dev/null\n", 0o755},
		{".sourceignore", "# source-controller reads this in the cluster\n*.md\n", 0o644},
		{"README.md", "# platform\n", 0o644},
		{"secrets/dev.env", "TOKEN=do-not-ship\n", 0o600},
		{"apps/podinfo/deployment.yaml.bak", "stale\n", 0o644},
		{".git/HEAD", "ref: refs/heads/main\n", 0o644},
		{".git/config", "[core]\n\tbare = false\n", 0o644},
	}
	for _, f := range files {
		p := filepath.Join(dir, filepath.FromSlash(f.name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(f.content), f.mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, f.mode); err != nil { // past the umask
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "apps", "empty"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("deployment.yaml", filepath.Join(dir, "apps", "podinfo", "current.yaml")); err != nil {
		t.Fatal(err)
	}
	return dir
}

// entry is one path of a tree: a directory, or a file with its content and executable bit.
type entry struct {
	dir        bool
	executable bool
	content    []byte
}

type tree map[string]entry

func (tr tree) names() []string {
	names := make([]string, 0, len(tr))
	for n := range tr {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// readTree reads every directory and regular file below root (symlinks are recorded as such so a
// comparison notices them).
func readTree(t *testing.T, root string) tree {
	t.Helper()
	tr := tree{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil || rel == "." {
			return err
		}
		rel = filepath.ToSlash(rel)
		switch {
		case d.IsDir():
			tr[rel] = entry{dir: true}
		case d.Type().IsRegular():
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			info, err := d.Info()
			if err != nil {
				return err
			}
			tr[rel] = entry{content: b, executable: info.Mode()&0o111 != 0}
		default:
			tr[rel] = entry{content: []byte("<" + d.Type().String() + ">")}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("read %s: %v", root, err)
	}
	return tr
}

// expectedTree is the source as a cluster must receive it: without .git, the ignored paths and
// symlinks; everything else byte for byte, executables executable.
func expectedTree(t *testing.T, src string) tree {
	t.Helper()
	tr := readTree(t, src)
	for name := range tr {
		top, _, _ := strings.Cut(name, "/")
		switch {
		case top == ".git", top == "secrets", strings.HasSuffix(name, ".bak"), name == "apps/podinfo/current.yaml":
			delete(tr, name)
		}
	}
	if _, ok := tr["scripts/check.sh"]; !ok || !tr["scripts/check.sh"].executable {
		t.Fatalf("source tree lacks the executable scripts/check.sh: %v", tr.names())
	}
	return tr
}

// equalTrees reports every difference between got and want and whether there was none.
func equalTrees(t *testing.T, what string, got, want tree) bool {
	t.Helper()
	var diffs []error
	for _, name := range want.names() {
		g, ok := got[name]
		w := want[name]
		switch {
		case !ok:
			diffs = append(diffs, fmt.Errorf("%s is missing", name))
		case g.dir != w.dir:
			diffs = append(diffs, fmt.Errorf("%s: directory = %v, want %v", name, g.dir, w.dir))
		case !bytes.Equal(g.content, w.content):
			diffs = append(diffs, fmt.Errorf("%s: content %q, want %q", name, g.content, w.content))
		case g.executable != w.executable:
			diffs = append(diffs, fmt.Errorf("%s: executable = %v, want %v", name, g.executable, w.executable))
		}
	}
	for _, name := range got.names() {
		if _, ok := want[name]; !ok {
			diffs = append(diffs, fmt.Errorf("%s should not be there", name))
		}
	}
	if err := errors.Join(diffs...); err != nil {
		t.Errorf("%s differs:\n%v", what, err)
		return false
	}
	return true
}
