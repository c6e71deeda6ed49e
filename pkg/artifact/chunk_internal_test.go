package artifact

import (
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// The compressed layer is the same whatever the size of the chunks the tar stream is cut into:
// a small tree is packed in one chunk sized to it (chunkSize), a large one in 1 MiB chunks, and
// a tree between the two must not get another digest for it. The tree here is about 3 MiB of
// text that compresses as manifests do, so that 64 KiB chunks cut it in about 50 places.
func TestLayerBytesDoNotDependOnTheChunkSize(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	rng := rand.New(rand.NewPCG(7, 7))
	for i := range 60 {
		var b []byte
		for len(b) < 50<<10 {
			b = fmt.Appendf(b, "  - name: app-%d\n    image: ghcr.io/acme/app@sha256:%016x%016x\n", rng.IntN(1000), rng.Uint64(), rng.Uint64())
		}
		path := filepath.Join(root, fmt.Sprintf("team-%d", i%7), fmt.Sprintf("m-%03d.yaml", i))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	w := &walker{root: root, ignore: compileIgnore(nil)}
	if err := w.walk(""); err != nil {
		t.Fatal(err)
	}
	digest := map[int]string{}
	for _, chunk := range []int{64 << 10, 100 << 10, 1 << 20, chunkSize(w.bytes, len(w.entries))} {
		p := &progress{log: slog.New(slog.DiscardHandler), every: time.Hour, start: time.Now(), files: len(w.entries), bytes: w.bytes}
		l, err := writeLayer(w.entries, p, chunk)
		if err != nil {
			t.Fatal(err)
		}
		d, err := l.Digest()
		if err != nil {
			t.Fatal(err)
		}
		digest[chunk] = d.String()
	}
	want := digest[1<<20]
	for chunk, d := range digest {
		if d != want {
			t.Errorf("layer packed in %d-byte chunks is %s; in 1 MiB chunks %s", chunk, d, want)
		}
	}
}
