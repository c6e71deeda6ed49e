package artifact_test

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ocipromote/ocipromote/pkg/artifact"
	"github.com/ocipromote/ocipromote/pkg/oci/ocitest"
)

// incompressible writes size bytes gzip cannot shrink (the worst case for memory: the compressed
// layer is as large as the file) to dir/name.
func incompressible(t testing.TB, dir, name string, size int64) {
	t.Helper()
	f, err := os.Create(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	r := rand.New(rand.NewPCG(1, 2))
	var word [8]byte
	for n := int64(0); n < size; n += 8 {
		v := r.Uint64()
		for i := range word {
			word[i] = byte(v >> (8 * i))
		}
		w.Write(word[:])
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// Issue 14: a 300 MB file cost 1.56 GB of memory. Packing now holds a few MiB of chunks and
// spools the compressed layer to a temporary file, so the heap does not grow with the file:
// 64 MiB of incompressible data (which the old in-memory layer had to hold whole) must pack in
// well under that.
//
// Not parallel: the heap is the process's, so the test runs while no other test does.
func TestPackMemoryDoesNotGrowWithFileSize(t *testing.T) {
	dir := t.TempDir()
	const size = 64 << 20
	incompressible(t, dir, "blob.bin", size)
	var layer interface{ Size() (int64, error) }
	var err error
	peak := ocitest.PeakHeap(func() { layer, err = artifact.Pack(dir, nil) })
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := layer.Size(); n < size {
		t.Fatalf("layer is %d bytes, want at least %d (the data is incompressible)", n, size)
	}
	if limit := uint64(size / 2); peak > limit {
		t.Errorf("packing a %d MiB file raised the heap by %d MiB, want under %d MiB", size>>20, peak>>20, limit>>20)
	} else {
		t.Logf("packing a %d MiB incompressible file raised the heap by %d MiB", size>>20, peak>>20)
	}
}

// A spooled layer reads back to the same bytes and digest as one held in memory would: the
// content and the digest are those of the compressed stream, wherever it is kept.
func TestPackSpooledLayerReadsBack(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	incompressible(t, dir, "blob.bin", 12<<20)
	layer, err := artifact.Pack(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	want, err := layer.Digest()
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 { // readers are independent: a retried upload reads from the start
		rc, err := layer.Compressed()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		if n, _ := layer.Size(); int64(len(b)) != n {
			t.Errorf("read %d: %d bytes, Size says %d", i, len(b), n)
		}
		if got := sha256Hex(b); got != want.Hex {
			t.Errorf("read %d: digest %s, want %s", i, got, want.Hex)
		}
	}
	entries := readLayer(t, layer)
	if len(entries) != 1 || entries[0].name != "blob.bin" {
		t.Errorf("entries = %v", names(entries))
	}
}

// A long pack says how far it got; symlinks left out are named.
func TestPackLogs(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeTree(t, dir, map[string]file{"app.yaml": regular("a"), "link.yaml": symlink("app.yaml")})
	var log bytes.Buffer
	_, err := artifact.PackWith(dir, artifact.Options{Log: slog.New(slog.NewTextHandler(&log, nil)), ProgressEvery: time.Nanosecond})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"symlink left out", "path=link.yaml", "msg=packing files=1/1", "msg=packed"} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, log.String())
		}
	}
}

// BenchmarkPackLargeFile packs a 1 GiB sparse file (zeros: the tar stream is 1 GiB, the layer a
// few MiB) and a 256 MiB incompressible one, and reports the peak heap growth of each: the
// figure must not follow the file size.
func BenchmarkPackLargeFile(b *testing.B) {
	for _, bc := range []struct {
		name string
		make func(b *testing.B, dir string)
	}{
		{"sparse-1GiB", func(b *testing.B, dir string) {
			f, err := os.Create(filepath.Join(dir, "sparse.bin"))
			if err != nil {
				b.Fatal(err)
			}
			if err := f.Truncate(1 << 30); err != nil {
				b.Fatal(err)
			}
			f.Close()
		}},
		{"incompressible-256MiB", func(b *testing.B, dir string) { incompressible(b, dir, "random.bin", 256<<20) }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			dir := b.TempDir()
			bc.make(b, dir)
			b.ResetTimer()
			var peak uint64
			for b.Loop() {
				var err error
				p := ocitest.PeakHeap(func() { _, err = artifact.Pack(dir, nil) })
				if err != nil {
					b.Fatal(err)
				}
				peak = max(peak, p)
			}
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
		})
	}
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
