package main

import (
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	fluxoci "github.com/fluxcd/pkg/oci"

	"github.com/ocipromote/ocipromote/pkg/artifact"
)

// BenchmarkArtifactBuild packs a 5,000-file, 50 MB manifests tree with ocipromote's builder and
// with Flux's (`flux build artifact`, then the file's digest), and fails if either gives another
// digest on another run. Run it with -benchtime=2x (or more) to see digests stable across runs;
// `make bench` also measures each builder's peak memory as a process.
func BenchmarkArtifactBuild(b *testing.B) {
	dir := filepath.Join(b.TempDir(), "tree")
	if err := writeTree(dir, 5000, 50<<20, 42); err != nil {
		b.Fatal(err)
	}
	builders := []struct {
		name  string
		build func(b *testing.B) string
	}{
		{"ocipromote", func(b *testing.B) string {
			layer, err := artifact.Pack(dir, nil)
			if err != nil {
				b.Fatal(err)
			}
			d, err := layer.Digest()
			if err != nil {
				b.Fatal(err)
			}
			return d.String()
		}},
		{"flux", func(b *testing.B) string {
			out := filepath.Join(b.TempDir(), "artifact.tgz")
			if err := fluxoci.NewClient(nil).Build(out, dir, nil); err != nil {
				b.Fatal(err)
			}
			f, err := os.Open(out)
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			h := sha256.New()
			if _, err := io.Copy(h, f); err != nil {
				b.Fatal(err)
			}
			return fmt.Sprintf("sha256:%x", h.Sum(nil))
		}},
	}
	for _, bl := range builders {
		b.Run(bl.name, func(b *testing.B) {
			b.ReportAllocs()
			var digests []string
			for b.Loop() {
				digests = append(digests, bl.build(b))
			}
			for _, d := range digests[1:] {
				if d != digests[0] {
					b.Fatalf("digests differ between runs: %v", digests)
				}
			}
			b.ReportMetric(float64(len(digests)), "stable-runs")
			b.Logf("%s: %s in %d runs", bl.name, digests[0], len(digests))
		})
	}
}
