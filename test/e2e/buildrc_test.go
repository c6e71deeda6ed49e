package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// Flux's artifact format, as source-controller reads it.
const (
	fluxConfigMediaType  = "application/vnd.cncf.flux.config.v1+json"
	fluxContentMediaType = "application/vnd.cncf.flux.content.v1.tar+gzip"
	ociManifestMediaType = "application/vnd.oci.image.manifest.v1+json"
)

func TestBuildRCFirstBuild(t *testing.T) {
	t.Parallel()
	repo := newRepo(t)
	sha := commit(t, "a")
	dir := manifestsDir(t, "a")

	out := buildRC(t, repo, dir, sha)

	s := short(sha)
	rcTag, shaTag, integrationTag := "0.0.1-rc.1", "sha-"+s, "integration-"+s
	if got, want := out["version"], rcTag; got != want {
		t.Errorf("version = %q, want %q", got, want)
	}
	if got, want := out["pushed"], "true"; got != want {
		t.Errorf("pushed = %q, want %q", got, want)
	}
	if got, want := out["short_sha"], s; got != want {
		t.Errorf("short_sha = %q, want %q", got, want)
	}
	if got, want := out["tags"], strings.Join([]string{rcTag, shaTag, integrationTag}, ","); got != want {
		t.Errorf("tags = %q, want %q", got, want)
	}
	digest := out["digest"]
	if !strings.HasPrefix(digest, "sha256:") {
		t.Fatalf("digest = %q, want sha256:...", digest)
	}
	if got, want := withoutClaims(listTags(t, repo)), []string{rcTag, integrationTag, shaTag}; !slices.Equal(got, want) {
		t.Errorf("tags in registry (without claims) = %q, want %q", got, want)
	}
	wantTagsAt(t, repo, digest, rcTag, shaTag, integrationTag)

	m := manifestAt(t, repo, digest)
	if got, want := string(m.MediaType), ociManifestMediaType; got != want {
		t.Errorf("manifest media type = %q, want %q", got, want)
	}
	if got, want := string(m.Config.MediaType), fluxConfigMediaType; got != want {
		t.Errorf("config media type = %q, want %q", got, want)
	}
	if len(m.Layers) != 1 {
		t.Fatalf("manifest has %d layers, want 1", len(m.Layers))
	}
	if got, want := string(m.Layers[0].MediaType), fluxContentMediaType; got != want {
		t.Errorf("layer media type = %q, want %q", got, want)
	}
	for key, want := range map[string]string{
		"org.opencontainers.image.source":   source,
		"org.opencontainers.image.revision": "main@sha1:" + sha,
		"org.opencontainers.image.created":  created,
		"org.opencontainers.image.version":  rcTag,
	} {
		if got := m.Annotations[key]; got != want {
			t.Errorf("annotation %s = %q, want %q", key, got, want)
		}
	}
}

// The artifact is reproducible: a copy of the directory with other file times and permissions
// bits (but the same executable bits) plans the same digest in another, empty repository.
func TestBuildRCReproducible(t *testing.T) {
	t.Parallel()
	sha := commit(t, "a")
	dir := manifestsDir(t, "a")
	repo := newRepo(t)
	first := buildRC(t, repo+"-first", dir, sha)

	copied := t.TempDir()
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		dst := filepath.Join(copied, rel)
		if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
			return err
		}
		return os.WriteFile(dst, b, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
	second := buildRC(t, repo+"-second", copied, sha, "--dry-run")
	if got, want := second["digest"], first["digest"]; got != want {
		t.Errorf("digest of the copied directory = %s, want %s (the same content must give the same artifact)", got, want)
	}
	if got, want := second["pushed"], "false"; got != want {
		t.Errorf("dry run pushed = %q, want %q", got, want)
	}
	if tags := listTags(t, repo+"-second"); len(tags) != 0 {
		t.Errorf("dry run wrote tags %q", tags)
	}
}

func TestBuildRCSecondCommit(t *testing.T) {
	t.Parallel()
	repo := newRepo(t)
	a, b := commit(t, "a"), commit(t, "b")
	first := buildRC(t, repo, manifestsDir(t, "a"), a)
	second := buildRC(t, repo, manifestsDir(t, "b"), b)

	if got, want := second["version"], "0.0.1-rc.2"; got != want {
		t.Errorf("version = %q, want %q", got, want)
	}
	if got, want := second["pushed"], "true"; got != want {
		t.Errorf("pushed = %q, want %q", got, want)
	}
	if second["digest"] == first["digest"] {
		t.Errorf("different content gave the same digest %s", first["digest"])
	}
	wantTagsAt(t, repo, second["digest"], "0.0.1-rc.2", "sha-"+short(b), "integration-"+short(b))
	wantTagsAt(t, repo, first["digest"], "0.0.1-rc.1", "sha-"+short(a), "integration-"+short(a))
}

func TestBuildRCRerunIsNoOp(t *testing.T) {
	t.Parallel()
	repo := newRepo(t)
	sha := commit(t, "a")
	dir := manifestsDir(t, "a")
	first := buildRC(t, repo, dir, sha)
	before := listTags(t, repo)

	again := buildRC(t, repo, dir, sha)

	for _, key := range []string{"version", "digest", "tags", "short_sha"} {
		if got, want := again[key], first[key]; got != want {
			t.Errorf("re-run %s = %q, want %q as in the first run", key, got, want)
		}
	}
	if got, want := again["pushed"], "false"; got != want {
		t.Errorf("re-run pushed = %q, want %q", got, want)
	}
	wantSameTags(t, repo, before)
}

// A re-run of a commit with different content (path or ignore changed) must fail, never push a
// second artifact for the commit.
func TestBuildRCRerunWithOtherContentFails(t *testing.T) {
	t.Parallel()
	repo := newRepo(t)
	sha := commit(t, "a")
	buildRC(t, repo, manifestsDir(t, "a"), sha)
	before := listTags(t, repo)

	r := run(t, nil, "build-rc", "--repository", repo, "--path", manifestsDir(t, "changed"), "--sha", sha,
		"--ref", "main", "--source", source, "--created", created, "--json")
	if got, want := r.code, 1; got != want {
		t.Errorf("exit code = %d, want %d\n%s", got, want, r)
	}
	if !strings.Contains(r.stderr, sha) {
		t.Errorf("stderr does not name the commit %s:\n%s", sha, r.stderr)
	}
	wantSameTags(t, repo, before)
}

func TestBuildRCVersions(t *testing.T) {
	t.Parallel()

	// promote builds a commit and promotes it with tag-validated --sha, returning the stable version.
	promote := func(t *testing.T, repo, label string, extra ...string) string {
		t.Helper()
		sha := commit(t, label)
		buildRC(t, repo, manifestsDir(t, label), sha, extra...)
		out := tagValidated(t, repo, "--sha", sha)
		if out["promoted"] != "true" {
			t.Fatalf("promoting %s: promoted = %q (reason %q), want true", label, out["promoted"], out["reason"])
		}
		return out["version"]
	}

	tests := []struct {
		name string
		// setup builds and promotes what the repository holds before the build under test.
		setup func(t *testing.T, repo string)
		args  []string
		want  string
	}{
		{
			name: "patch after promotion",
			setup: func(t *testing.T, repo string) {
				if got, want := promote(t, repo, "a"), "0.0.1"; got != want {
					t.Fatalf("promoted version = %q, want %q", got, want)
				}
			},
			want: "0.0.2-rc.1",
		},
		{
			name: "minor bump",
			setup: func(t *testing.T, repo string) {
				promote(t, repo, "a")
			},
			args: []string{"--bump", "minor"},
			want: "0.1.0-rc.1",
		},
		{
			name: "major bump",
			setup: func(t *testing.T, repo string) {
				promote(t, repo, "a")
			},
			args: []string{"--bump", "major"},
			want: "1.0.0-rc.1",
		},
		{
			name:  "initial version on an empty repository",
			setup: func(t *testing.T, repo string) {},
			args:  []string{"--initial-version", "2.3.4"},
			want:  "2.3.5-rc.1",
		},
		{
			name: "hotfix on version line 1.4 while 1.5.0 is live",
			setup: func(t *testing.T, repo string) {
				if got, want := promote(t, repo, "a", "--initial-version", "1.4.1"), "1.4.2"; got != want {
					t.Fatalf("promoted version = %q, want %q", got, want)
				}
				if got, want := promote(t, repo, "b", "--bump", "minor"), "1.5.0"; got != want {
					t.Fatalf("promoted version = %q, want %q", got, want)
				}
			},
			args: []string{"--version-line", "1.4"},
			want: "1.4.3-rc.1",
		},
		{
			name: "main line while 1.4.2 and 1.5.0 are stable",
			setup: func(t *testing.T, repo string) {
				promote(t, repo, "a", "--initial-version", "1.4.1")
				promote(t, repo, "b", "--bump", "minor")
			},
			want: "1.5.1-rc.1",
		},
		{
			name: "stable tags written by hand count too",
			setup: func(t *testing.T, repo string) {
				out := buildRC(t, repo, manifestsDir(t, "a"), commit(t, "a"))
				craneTag(t, repo, out["digest"], "1.4.2")
				craneTag(t, repo, out["digest"], "1.5.0")
			},
			args: []string{"--version-line", "1.4"},
			want: "1.4.3-rc.1",
		},
		{
			name: "v prefix",
			setup: func(t *testing.T, repo string) {
				out := buildRC(t, repo, manifestsDir(t, "a"), commit(t, "a"), "--tag-prefix", "v")
				if got, want := out["version"], "v0.0.1-rc.1"; got != want {
					t.Fatalf("first version = %q, want %q", got, want)
				}
			},
			args: []string{"--tag-prefix", "v"},
			want: "v0.0.1-rc.2",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			repo := newRepo(t)
			tc.setup(t, repo)
			sha := commit(t, "next")
			out := buildRC(t, repo, manifestsDir(t, "next"), sha, tc.args...)
			if got := out["version"]; got != tc.want {
				t.Errorf("version = %q, want %q", got, tc.want)
			}
			wantTagsAt(t, repo, out["digest"], tc.want, "sha-"+short(sha), "integration-"+short(sha))
		})
	}
}

// Eight builds of eight commits race on one repository: each must get its own release
// candidate, and every tag must point at its own commit's artifact.
func TestBuildRCConcurrent(t *testing.T) {
	t.Parallel()
	repo := newRepo(t)
	const builds = 8
	shas := make([]string, builds)
	dirs := make([]string, builds)
	labels := make([]string, builds)
	for i := range builds {
		labels[i] = fmt.Sprintf("concurrent-%d", i)
		shas[i], dirs[i] = commit(t, labels[i]), manifestsDir(t, labels[i])
	}

	results := make([]result, builds)
	errs := make([]error, builds)
	var wg sync.WaitGroup
	for i := range builds {
		wg.Go(func() {
			results[i], errs[i] = start(nil, "build-rc", "--repository", repo, "--path", dirs[i], "--sha", shas[i],
				"--ref", "main", "--source", source, "--created", created, "--json")
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}

	versions := map[string]string{} // version -> sha
	digests := map[string]string{}  // digest -> sha
	for i, r := range results {
		if r.code != 0 {
			t.Errorf("build %d failed:\n%s", i, r)
			continue
		}
		out := outputs(t, r)
		v, d, s := out["version"], out["digest"], short(shas[i])
		if !strings.HasPrefix(v, "0.0.1-rc.") {
			t.Errorf("build %d: version = %q, want 0.0.1-rc.N", i, v)
		}
		if other, dup := versions[v]; dup {
			t.Errorf("builds of %s and %s both got %s", other, shas[i], v)
		}
		versions[v] = shas[i]
		if other, dup := digests[d]; dup {
			t.Errorf("builds of %s and %s both got digest %s", other, shas[i], d)
		}
		digests[d] = shas[i]
		if got, want := out["pushed"], "true"; got != want {
			t.Errorf("build %d: pushed = %q, want %q", i, got, want)
		}
		wantTagsAt(t, repo, d, v, "sha-"+s, "integration-"+s)
		m := manifestAt(t, repo, digestOf(t, repo, "sha-"+s))
		if got, want := m.Annotations["org.opencontainers.image.revision"], "main@sha1:"+shas[i]; got != want {
			t.Errorf("sha-%s: revision annotation = %q, want %q", s, got, want)
		}
		if got, want := m.Annotations["org.opencontainers.image.version"], v; got != want {
			t.Errorf("sha-%s: version annotation = %q, want %q", s, got, want)
		}
		if got, want := layerFile(t, repo, m, "apps/configmap.yaml"), "build: "+labels[i]+"\n"; !strings.HasSuffix(got, want) {
			t.Errorf("sha-%s holds apps/configmap.yaml\n%s\nwant it to end in %q", s, got, want)
		}
	}
	if t.Failed() {
		return
	}
	// No release candidate in the registry beyond the eight reported, and each at its build.
	var rcs []string
	for _, tag := range listTags(t, repo) {
		if strings.HasPrefix(tag, "0.0.1-rc.") {
			rcs = append(rcs, tag)
		}
	}
	if got, want := len(rcs), builds; got != want {
		t.Errorf("registry holds %d release candidates %q, want %d", got, rcs, want)
	}
	for _, rc := range rcs {
		sha, ok := versions[rc]
		if !ok {
			t.Errorf("release candidate %s in the registry was reported by no build", rc)
			continue
		}
		if got, want := digestOf(t, repo, rc), digestOf(t, repo, "sha-"+short(sha)); got != want {
			t.Errorf("%s = %s, want the digest of sha-%s, %s", rc, got, short(sha), want)
		}
	}
}
