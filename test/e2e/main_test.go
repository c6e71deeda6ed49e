package e2e

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/crane"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/ocipromote/ocipromote/pkg/claim"
	"github.com/ocipromote/ocipromote/pkg/step/steptest"
	"github.com/ocipromote/ocipromote/test/registrytest"
)

var (
	// binDir holds the binaries built from ./cmd/... by TestMain.
	binDir string
	// registryAddr is the shared registry, host:port.
	registryAddr string
	// homeDir is an empty HOME for the binaries, so no Docker config of the host is used.
	homeDir string
)

// Fixed inputs of the builds; the created time is given explicitly so digests do not depend on git.
const (
	source  = "https://github.com/acme/platform"
	created = "2026-08-01T10:00:00Z"
)

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	tmp, err := os.MkdirTemp("", "ocipromote-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(tmp)

	root, err := moduleRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	binDir = filepath.Join(tmp, "bin")
	build := exec.Command("go", "build", "-o", binDir+string(filepath.Separator), "./cmd/...")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: go build ./cmd/... in %s: %v\n%s", root, err, out)
		return 1
	}

	reg, err := registrytest.Launch(filepath.Join(tmp, "registry"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer reg.Stop()
	registryAddr = reg.Addr

	homeDir = filepath.Join(tmp, "home")
	if err := os.MkdirAll(filepath.Join(homeDir, ".docker"), 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	return m.Run()
}

// moduleRoot is the directory of the main module's go.mod.
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("go env GOMOD: not inside a module")
	}
	return filepath.Dir(gomod), nil
}

var (
	nonName = regexp.MustCompile(`[^a-z0-9]+`)
	repos   atomic.Int64
)

// newRepo names a new, empty repository for the test: 127.0.0.1:PORT/e2e/<test name>-<n>. The
// number keeps repositories apart when tests run more than once (go test -count).
func newRepo(t *testing.T) string {
	t.Helper()
	name := strings.Trim(nonName.ReplaceAllString(strings.ToLower(t.Name()), "-"), "-")
	return fmt.Sprintf("%s/e2e/%s-%d", registryAddr, name, repos.Add(1))
}

// commit returns a made-up, stable 40-hex commit sha for label in this test.
func commit(t *testing.T, label string) string {
	sum := sha1.Sum([]byte(t.Name() + "/" + label))
	return hex.EncodeToString(sum[:])
}

// manifestsDir writes YAML manifests whose content depends on label into a new temporary dir.
func manifestsDir(t *testing.T, label string) string {
	t.Helper()
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - apps/configmap.yaml\n",
		"apps/configmap.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: platform\n  namespace: default\n" +
			"data:\n  build: " + label + "\n",
	})
	return dir
}

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// result is what a binary did.
type result struct {
	cmd    string
	code   int
	stdout string
	stderr string
}

func (r result) String() string {
	return fmt.Sprintf("%s exited %d\nstdout:\n%s\nstderr:\n%s", r.cmd, r.code, r.stdout, r.stderr)
}

// run runs a built binary with a clean environment (PATH, an empty HOME and env, nothing from
// the host's GitHub Actions context) and returns what it did. It fails the test only when the
// binary cannot be run at all.
func run(t *testing.T, env map[string]string, bin string, args ...string) result {
	t.Helper()
	r, err := start(env, bin, args...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// start is run for goroutines other than the test's own: it reports instead of failing the test.
func start(env map[string]string, bin string, args ...string) (result, error) {
	const timeout = 90 * time.Second
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(binDir, bin), args...)
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + homeDir,
		"DOCKER_CONFIG=" + filepath.Join(homeDir, ".docker"),
		"TZ=UTC",
		// The distribution registry on loopback lists every write at once (its tag list reads
		// its storage), so the claim protocol needs no settle time; a test may set another.
		"INPUT_SETTLE=0s",
	}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{cmd: bin + " " + strings.Join(args, " "), stdout: stdout.String(), stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case ctx.Err() != nil:
		return r, fmt.Errorf("%s did not finish within %s\n%s", r.cmd, timeout, r)
	case errors.As(err, &exit):
		r.code = exit.ExitCode()
	case err != nil:
		return r, fmt.Errorf("run %s: %w\nstderr:\n%s", r.cmd, err, r.stderr)
	}
	return r, nil
}

// outputs parses the --json object a binary printed.
func outputs(t *testing.T, r result) map[string]string {
	t.Helper()
	var out map[string]string
	if err := steptest.DecodeOutputs(r.stdout, &out); err != nil {
		t.Fatalf("%s: stdout is not one JSON object of strings: %v\n%s", r.cmd, err, r)
	}
	return out
}

// mustRun runs a binary that must succeed with --json and returns its outputs.
func mustRun(t *testing.T, env map[string]string, bin string, args ...string) map[string]string {
	t.Helper()
	r := run(t, env, bin, append(args, "--json")...)
	if r.code != 0 {
		t.Fatalf("%s", r)
	}
	return outputs(t, r)
}

// buildRC runs build-rc for sha with the test's fixed metadata, plus extra flags.
func buildRC(t *testing.T, repo, dir, sha string, extra ...string) map[string]string {
	t.Helper()
	args := append([]string{"--repository", repo, "--path", dir, "--sha", sha, "--ref", "main",
		"--source", source, "--created", created}, extra...)
	return mustRun(t, nil, "build-rc", args...)
}

// tagValidated runs tag-validated with the given flags; it must succeed.
func tagValidated(t *testing.T, repo string, args ...string) map[string]string {
	t.Helper()
	return mustRun(t, nil, "tag-validated", append([]string{"--repository", repo}, args...)...)
}

// listTags returns the repository's tags, sorted; none for a repository that does not exist.
func listTags(t *testing.T, repo string) []string {
	t.Helper()
	tags, err := crane.ListTags(repo)
	var te *transport.Error
	if errors.As(err, &te) && slices.ContainsFunc(te.Errors, func(d transport.Diagnostic) bool { return d.Code == transport.NameUnknownErrorCode }) {
		return nil
	}
	if err != nil {
		t.Fatalf("list tags of %s: %v", repo, err)
	}
	slices.Sort(tags)
	return tags
}

// digestOf resolves a tag with crane.
func digestOf(t *testing.T, repo, tag string) string {
	t.Helper()
	d, err := crane.Digest(repo + ":" + tag)
	if err != nil {
		t.Fatalf("resolve %s:%s: %v", repo, tag, err)
	}
	return d
}

// manifestAt reads and parses the manifest with digest.
func manifestAt(t *testing.T, repo, digest string) *v1.Manifest {
	t.Helper()
	raw, err := crane.Manifest(repo + "@" + digest)
	if err != nil {
		t.Fatalf("read manifest %s@%s: %v", repo, digest, err)
	}
	m, err := v1.ParseManifest(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("parse manifest %s@%s: %v\n%s", repo, digest, err, raw)
	}
	return m
}

// craneTag points a new tag at digest, as an operator (or another tool) would by hand.
func craneTag(t *testing.T, repo, digest, tag string) {
	t.Helper()
	if err := crane.Tag(repo+"@"+digest, tag); err != nil {
		t.Fatalf("crane tag %s@%s %s: %v", repo, digest, tag, err)
	}
}

// wantTagsAt checks that every tag resolves to digest.
func wantTagsAt(t *testing.T, repo, digest string, tags ...string) {
	t.Helper()
	for _, tag := range tags {
		if got := digestOf(t, repo, tag); got != digest {
			t.Errorf("%s:%s = %s, want %s", repo, tag, got, digest)
		}
	}
}

// wantSameTags checks that a repository's tag list did not change.
func wantSameTags(t *testing.T, repo string, before []string) {
	t.Helper()
	if after := listTags(t, repo); !slices.Equal(after, before) {
		t.Errorf("tags of %s changed:\nbefore %q\nafter  %q", repo, before, after)
	}
}

// withoutClaims drops the claim-<version>-<s>-<digest> bookkeeping tags (package claim) from a
// sorted tag list.
func withoutClaims(tags []string) []string {
	return slices.DeleteFunc(slices.Clone(tags), func(t string) bool { _, ok := claim.Parse(t); return ok })
}

// claimTag is the tag with which the artifact digest of commit sha claims version.
func claimTag(t *testing.T, version, sha, digest string) string {
	t.Helper()
	c, err := claim.New(version, short(sha), digest)
	if err != nil {
		t.Fatal(err)
	}
	return c.Tag()
}

func short(sha string) string { return sha[:7] }

// craneCopy copies an artifact between references, blobs included.
func craneCopy(t *testing.T, src, dst string) {
	t.Helper()
	if err := crane.Copy(src, dst); err != nil {
		t.Fatalf("crane copy %s %s: %v", src, dst, err)
	}
}

// layerFile returns one file of the artifact's content layer, as source-controller unpacks it.
func layerFile(t *testing.T, repo string, m *v1.Manifest, name string) string {
	t.Helper()
	if len(m.Layers) != 1 {
		t.Fatalf("manifest has %d layers, want 1", len(m.Layers))
	}
	layer, err := crane.PullLayer(repo + "@" + m.Layers[0].Digest.String())
	if err != nil {
		t.Fatalf("pull layer %s: %v", m.Layers[0].Digest, err)
	}
	rc, err := layer.Uncompressed()
	if err != nil {
		t.Fatalf("gunzip layer %s: %v", m.Layers[0].Digest, err)
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			t.Fatalf("layer %s has no %s", m.Layers[0].Digest, name)
		}
		if err != nil {
			t.Fatalf("read layer %s: %v", m.Layers[0].Digest, err)
		}
		if h.Name == name {
			b, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			return string(b)
		}
	}
}
