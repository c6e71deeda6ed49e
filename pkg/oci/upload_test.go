package oci_test

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/ocipromote/ocipromote/pkg/artifact"
	"github.com/ocipromote/ocipromote/pkg/oci"
	"github.com/ocipromote/ocipromote/pkg/oci/ocitest"
)

// fileLayer is a layer whose compressed bytes are a file, read afresh on every Compressed(), as
// a layer spooled by artifact.Pack is: it lets a benchmark push a 1 GiB layer without packing one.
// Its diff ID is its digest: no registry checks diff IDs.
type fileLayer struct {
	path   string
	digest v1.Hash
	size   int64
}

func (l *fileLayer) Digest() (v1.Hash, error)             { return l.digest, nil }
func (l *fileLayer) DiffID() (v1.Hash, error)             { return l.digest, nil }
func (l *fileLayer) Compressed() (io.ReadCloser, error)   { return os.Open(l.path) }
func (l *fileLayer) Uncompressed() (io.ReadCloser, error) { return nil, fmt.Errorf("not needed") }
func (l *fileLayer) Size() (int64, error)                 { return l.size, nil }
func (l *fileLayer) MediaType() (types.MediaType, error)  { return artifact.ContentMediaType, nil }

// randomLayer writes size pseudo-random bytes to a file under dir and returns them as a layer.
func randomLayer(tb testing.TB, dir string, size int64) *fileLayer {
	tb.Helper()
	p := filepath.Join(dir, "layer.bin")
	f, err := os.Create(p)
	if err != nil {
		tb.Fatal(err)
	}
	h := sha256.New()
	w := bufio.NewWriterSize(io.MultiWriter(f, h), 1<<20)
	r := rand.New(rand.NewPCG(3, 4))
	var word [8]byte
	for n := int64(0); n < size; n += 8 {
		v := r.Uint64()
		for i := range word {
			word[i] = byte(v >> (8 * i))
		}
		w.Write(word[:])
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
	return &fileLayer{path: p, size: size, digest: v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(h.Sum(nil))}}
}

// Issue 14: the upload read the whole compressed layer into memory, so a large file cost its size
// in heap again after packing had learnt to stream. A 64 MiB layer read from a file (as a layer
// artifact.Pack spooled is) must now push in well under its size, to a registry that
// keeps blobs on disk and checks the digest of what arrives; and a long upload says how far it got.
//
// Not parallel: the heap is the process's.
func TestPushStreamsTheLayer(t *testing.T) {
	dir := t.TempDir()
	const size = 64 << 20
	layer := randomLayer(t, dir, size)
	img, err := artifact.Image(layer, artifact.Metadata{Source: "https://example.com/acme/app", Revision: "main@sha1:0123456789abcdef0123456789abcdef01234567"})
	if err != nil {
		t.Fatal(err)
	}
	srv := ocitest.New(t, ocitest.DiskBlobs(t.TempDir()))
	var log logLines
	reg, err := oci.Open(srv.Host+"/acme/big", oci.Options{Logf: log.logf, ProgressEvery: time.Nanosecond})
	if err != nil {
		t.Fatal(err)
	}
	var m *oci.Manifest
	peak := ocitest.PeakHeap(func() { m, err = reg.Push(context.Background(), img, "big") })
	if err != nil {
		t.Fatal(err)
	}
	if limit := uint64(size / 2); peak > limit {
		t.Errorf("pushing a %d MiB layer raised the heap by %d MiB, want under %d MiB", size>>20, peak>>20, limit>>20)
	} else {
		t.Logf("pushing a %d MiB layer raised the heap by %d MiB", size>>20, peak>>20)
	}
	if got, err := reg.Resolve(context.Background(), "big"); err != nil || got != m.Digest {
		t.Errorf("Resolve(big) = %s, %v; want %s", got, err, m.Digest)
	}
	if want := fmt.Sprintf("uploading blob %s: %d of %d MiB sent", layer.digest, size>>20, size>>20); !strings.Contains(strings.Join(log.all(), "\n"), want) {
		t.Errorf("log lacks %q:\n%.2000s", want, strings.Join(log.all(), "\n"))
	}
}

// A streamed upload that the registry refuses midway (503) is sent again from the start: the
// registry takes the blob only if every byte of it arrives, since it checks the digest.
func TestPushRetriesAStreamedUploadFromTheStart(t *testing.T) {
	t.Parallel()
	layer := randomLayer(t, t.TempDir(), 3<<20)
	img, err := artifact.Image(layer, artifact.Metadata{Source: "https://example.com/acme/app", Revision: "main@sha1:0123456789abcdef0123456789abcdef01234567"})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	refused := 0
	srv := ocitest.New(t, ocitest.DiskBlobs(t.TempDir()), ocitest.Faults(func(_ int, r *http.Request) ocitest.Fault {
		mu.Lock()
		defer mu.Unlock()
		if r.Method == http.MethodPut && strings.Contains(r.URL.RawQuery, layer.digest.Hex) && refused < 2 {
			refused++
			return ocitest.Unavailable
		}
		return ocitest.None
	}))
	reg := open(t, srv, "acme/flaky-upload", 5, &sleeps{})
	m, err := reg.Push(context.Background(), img, "v1")
	if err != nil {
		t.Fatal(err)
	}
	if refused != 2 {
		t.Errorf("the registry refused %d uploads, want 2", refused)
	}
	if got, err := reg.Resolve(context.Background(), "v1"); err != nil || got != m.Digest {
		t.Errorf("Resolve(v1) = %s, %v; want %s", got, err, m.Digest)
	}
}

// BenchmarkPushLargeFile pushes a 1 GiB layer read from a file, as a spooled layer from
// artifact.Pack is, to a registry that keeps blobs on disk, and reports the peak heap growth: the
// figure must not follow the layer's size.
func BenchmarkPushLargeFile(b *testing.B) {
	layer := randomLayer(b, b.TempDir(), 1<<30)
	img, err := artifact.Image(layer, artifact.Metadata{Source: "https://example.com/acme/app", Revision: "main@sha1:0123456789abcdef0123456789abcdef01234567"})
	if err != nil {
		b.Fatal(err)
	}
	var peak uint64
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		srv := ocitest.New(b, ocitest.DiskBlobs(b.TempDir()))
		reg, err := oci.Open(srv.Host+"/acme/big", oci.Options{})
		if err != nil {
			b.Fatal(err)
		}
		peak = max(peak, ocitest.PeakHeap(func() { _, err = reg.Push(context.Background(), img, fmt.Sprint("v", i)) }))
		if err != nil {
			b.Fatal(err)
		}
		srv.Close()
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
}

// Sessions opened ahead of a push (PrepareUploads) may be gone by the time the push comes: a
// registry purges idle upload sessions (distribution's storage.maintenance.uploadpurging) and
// answers BLOB_UPLOAD_UNKNOWN for them. The push then opens sessions of its own, and the step
// leaves none open.
func TestPushOpensNewSessionsWhenPreparedOnesExpired(t *testing.T) {
	t.Parallel()
	// A second's age: the sessions the push opens itself are used at once, well within it
	// even on a loaded machine.
	srv := ocitest.New(t, ocitest.ExpireUploads(time.Second))
	reg := openFresh(t, srv, oci.Options{})
	img := smallImage(t, "expired")
	uploads := reg.PrepareUploads(context.Background(), 2)
	time.Sleep(1100 * time.Millisecond)
	before := len(srv.Requests())
	m, err := reg.Push(context.Background(), img, "v1")
	if err != nil {
		t.Fatalf("Push with expired sessions: %v", err)
	}
	uploads.End(context.Background())
	got := kinds(srv, before)
	if at, err := reg.Resolve(context.Background(), "v1"); err != nil || at != m.Digest {
		t.Errorf("Resolve(v1) = %s, %v; want %s", at, err, m.Digest)
	}
	// Each blob's upload (side by side): its expired session answers 404, then a new one is
	// opened and takes the blob; then the manifest.
	want := [][]string{{"PUT upload", "PUT upload", "POST upload", "POST upload", "PUT upload", "PUT upload"}, {"PUT manifest v1"}}
	if !inSteps(got, want) {
		t.Errorf("requests %q, want %q", got, want)
	}
	if n := srv.OpenUploads(); n != 0 {
		t.Errorf("%d upload sessions left open", n)
	}
}

// A registry that will not cancel an upload session (GHCR does not document DELETE of one) costs
// a log line, never the step: an unused session holds nothing and expires.
func TestUnusedSessionsTheRegistryWillNotCancel(t *testing.T) {
	t.Parallel()
	inner := ocitest.New(t)
	refuse := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodDelete && strings.Contains(r.URL.Path, "/blobs/uploads/") {
			http.Error(w, `{"errors":[{"code":"UNSUPPORTED","message":"unsupported"}]}`, http.StatusMethodNotAllowed)
			return
		}
		inner.ServeHTTP(w, r)
	})
	srv := ocitest.New(t, ocitest.Backend(refuse))
	var log logLines
	reg, err := oci.Open(srv.Host+"/acme/app", oci.Options{Logf: log.logf, Retry: oci.RetryPolicy{Attempts: 1}})
	if err != nil {
		t.Fatal(err)
	}
	reg.PrepareUploads(context.Background(), 2).End(context.Background())
	if want := "could not cancel an unused upload session"; !strings.Contains(strings.Join(log.all(), "\n"), want) {
		t.Errorf("log lacks %q: %q", want, log.all())
	}
	if _, err := reg.Push(context.Background(), smallImage(t, "after"), "v1"); err != nil {
		t.Errorf("Push after a refused cancel: %v", err)
	}
}

// smallImage is an artifact of one small file.
func smallImage(t *testing.T, content string) v1.Image {
	t.Helper()
	layer, err := artifact.Pack(tree(t, content), nil)
	if err != nil {
		t.Fatal(err)
	}
	img, err := artifact.Image(layer, artifact.Metadata{Source: "https://example.com/acme/app", Revision: "main@sha1:0123456789abcdef0123456789abcdef01234567"})
	if err != nil {
		t.Fatal(err)
	}
	return img
}
