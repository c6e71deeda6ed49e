package pipeline

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/ocipromote/ocipromote/pkg/artifact"
	"github.com/ocipromote/ocipromote/pkg/claim"
	"github.com/ocipromote/ocipromote/pkg/oci"
	"github.com/ocipromote/ocipromote/pkg/oci/ocitest"
	"github.com/ocipromote/ocipromote/pkg/tags"
	"github.com/ocipromote/ocipromote/pkg/version"
)

// memRegistry answers from memory, so that a benchmark measures the steps' own work over a long
// tag history and none of the network's.
type memRegistry struct {
	list      []string
	at        map[string]string
	manifests map[string]*oci.Manifest
}

func (m *memRegistry) Name() string                           { return "bench.example/acme/app" }
func (m *memRegistry) Tags(context.Context) ([]string, error) { return m.list, nil }
func (m *memRegistry) Push(context.Context, v1.Image, string) (*oci.Manifest, error) {
	return nil, fmt.Errorf("benchmark registry is read-only")
}
func (m *memRegistry) Tag(context.Context, string, *oci.Manifest, oci.Write) (bool, error) {
	return false, fmt.Errorf("benchmark registry is read-only")
}
func (m *memRegistry) PrepareUploads(context.Context, int) *oci.Uploads { return nil }

func (m *memRegistry) Resolve(_ context.Context, tag string) (string, error) {
	if d, ok := m.at[tag]; ok {
		return d, nil
	}
	return "", fmt.Errorf("%s: %w", tag, oci.ErrNotFound)
}

func (m *memRegistry) GetTag(ctx context.Context, tag string) (*oci.Manifest, error) {
	d, err := m.Resolve(ctx, tag)
	if err != nil {
		return nil, err
	}
	return m.Get(ctx, d)
}

func (m *memRegistry) Get(_ context.Context, digest string) (*oci.Manifest, error) {
	if man, ok := m.manifests[digest]; ok {
		return man, nil
	}
	return nil, fmt.Errorf("%s: %w", digest, oci.ErrNotFound)
}

// history is a registry holding n tags of ocitest.History whose newest release candidate, not
// yet promoted, is the candidate; it returns the registry and the candidate's revision.
func history(b *testing.B, n int) (*memRegistry, string) {
	b.Helper()
	reg := &memRegistry{list: ocitest.History(n), at: map[string]string{}, manifests: map[string]*oci.Manifest{}}
	rc := ""
	for _, t := range version.SortTags(reg.list) {
		if version.IsRCTag(t) {
			rc = t
			break
		}
	}
	short, claimTag := "", ""
	for _, c := range claim.In(reg.list) {
		if c.Version == rc {
			short, claimTag = c.Short, c.Tag()
		}
	}
	layer, err := artifact.Pack(manifestsDir(b), nil)
	if err != nil {
		b.Fatal(err)
	}
	img, err := artifact.Image(layer, artifact.Metadata{Version: rc, Revision: "main@sha1:" + short + strings.Repeat("0", 40-len(short))})
	if err != nil {
		b.Fatal(err)
	}
	m, err := oci.ManifestOf(img)
	if err != nil {
		b.Fatal(err)
	}
	reg.manifests[m.Digest] = m
	for _, t := range reg.list {
		reg.at[t] = "sha256:" + strings.Repeat("e", 64)
	}
	for _, t := range []string{rc, tags.Sha(short), tags.Integration(short), claimTag} {
		reg.at[t] = m.Digest
	}
	return reg, rc + "@" + m.Digest
}

func manifestsDir(b *testing.B) string {
	b.Helper()
	dir := b.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "app.yaml"), []byte("kind: ConfigMap\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	return dir
}

// Planning the next release candidate of a new commit over the whole history, as build-rc does
// before it writes anything (listing, claims, next version, the artifact of a small tree).
func BenchmarkPlanBuild(b *testing.B) {
	for _, n := range []int{1_000, 10_000, 100_000} {
		b.Run(fmt.Sprintf("tags=%d", n), func(b *testing.B) {
			reg, _ := history(b, n)
			in := buildIn(manifestsDir(b), sha(200))
			in.DryRun = true
			b.ReportAllocs()
			for b.Loop() {
				if _, err := BuildRC(context.Background(), reg, in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// Resolving the validated candidate and deciding its promotion over the whole history, as
// tag-validated does before it writes anything.
func BenchmarkResolveCandidate(b *testing.B) {
	for _, n := range []int{1_000, 10_000, 100_000} {
		b.Run(fmt.Sprintf("tags=%d", n), func(b *testing.B) {
			reg, revision := history(b, n)
			b.ReportAllocs()
			for b.Loop() {
				res, err := TagValidated(context.Background(), reg, PromoteInput{Revision: revision, DryRun: true})
				if err != nil {
					b.Fatal(err)
				}
				if len(res.Writes) != 2 {
					b.Fatalf("decision %+v, want a promotion", res)
				}
			}
		})
	}
}
