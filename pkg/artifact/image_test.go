package artifact_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"maps"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/ocipromote/ocipromote/pkg/artifact"
)

// fakeLayer stands in for a layer with known digests and counts every read of its content.
type fakeLayer struct {
	content   []byte
	mediaType types.MediaType
	reads     atomic.Int32
}

func (l *fakeLayer) hash() v1.Hash {
	sum := sha256.Sum256(l.content)
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(sum[:])}
}

func (l *fakeLayer) Digest() (v1.Hash, error) { return l.hash(), nil }
func (l *fakeLayer) DiffID() (v1.Hash, error) { return l.hash(), nil }
func (l *fakeLayer) Size() (int64, error)     { return int64(len(l.content)), nil }
func (l *fakeLayer) MediaType() (types.MediaType, error) {
	return l.mediaType, nil
}

func (l *fakeLayer) Compressed() (io.ReadCloser, error) {
	l.reads.Add(1)
	return io.NopCloser(bytes.NewReader(l.content)), nil
}

func (l *fakeLayer) Uncompressed() (io.ReadCloser, error) { return l.Compressed() }

// TestImageMatchesFluxPush compares Image with what fluxcd/pkg/oci's Push builds around the same
// layer: mutate.MediaType(empty.Image, OCIManifestSchema1), mutate.ConfigMediaType,
// mutate.Annotations, then mutate.Append of the layer. The expected bytes were produced by
// running exactly that with go-containerregistry v0.20.6, for a layer of the five bytes
// "hello" whose digest and diff id are both sha256("hello").
func TestImageMatchesFluxPush(t *testing.T) {
	t.Parallel()
	const (
		fluxConfig   = `{"architecture":"","created":"0001-01-01T00:00:00Z","history":[{"created":"0001-01-01T00:00:00Z"}],"os":"","rootfs":{"type":"layers","diff_ids":["sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"]},"config":{}}`
		fluxManifest = `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.cncf.flux.config.v1+json","size":233,"digest":"sha256:5c6252906e515b45399e41fda0307669c92e15d7745ea0d49670fe37c5c1b568"},"layers":[{"mediaType":"application/vnd.cncf.flux.content.v1.tar+gzip","size":5,"digest":"sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"}],"annotations":{"org.opencontainers.image.created":"2026-08-01T10:00:00Z","org.opencontainers.image.revision":"main@sha1:0123456789abcdef0123456789abcdef01234567","org.opencontainers.image.source":"https://github.com/acme/platform","org.opencontainers.image.version":"0.4.2-rc.3"}}`
	)
	img, err := artifact.Image(&fakeLayer{content: []byte("hello"), mediaType: artifact.ContentMediaType}, fixedMetadata)
	if err != nil {
		t.Fatal(err)
	}
	config, err := img.RawConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(config), fluxConfig; got != want {
		t.Errorf("config:\n got %s\nwant %s", got, want)
	}
	manifest, err := img.RawManifest()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(manifest), fluxManifest; got != want {
		t.Errorf("manifest:\n got %s\nwant %s", got, want)
	}
}

func TestImageShape(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	writeTree(t, root, sampleTree)
	layer := pack(t, root)
	img, err := artifact.Image(layer, fixedMetadata)
	if err != nil {
		t.Fatal(err)
	}
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	mt, err := img.MediaType()
	if err != nil {
		t.Fatal(err)
	}
	layerMT, err := layer.MediaType()
	if err != nil {
		t.Fatal(err)
	}
	digest, _ := layer.Digest()
	diffID, _ := layer.DiffID()
	size, _ := layer.Size()

	if got, want := m.SchemaVersion, int64(2); got != want {
		t.Errorf("schemaVersion = %d, want %d", got, want)
	}
	for _, c := range []struct{ what, got, want string }{
		{"image media type", string(mt), "application/vnd.oci.image.manifest.v1+json"},
		{"manifest media type", string(m.MediaType), "application/vnd.oci.image.manifest.v1+json"},
		{"config media type", string(m.Config.MediaType), artifact.ConfigMediaType},
		{"layer media type", string(layerMT), artifact.ContentMediaType},
	} {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.what, c.got, c.want)
		}
	}
	if got, want := len(m.Layers), 1; got != want {
		t.Fatalf("manifest has %d layers, want %d", got, want)
	}
	if got, want := m.Layers[0], (v1.Descriptor{MediaType: artifact.ContentMediaType, Size: size, Digest: digest}); got.MediaType != want.MediaType || got.Size != want.Size || got.Digest != want.Digest {
		t.Errorf("layer descriptor = %+v, want %+v", got, want)
	}
	if got, want := m.Annotations, fixedMetadata.Annotations(); !maps.Equal(got, want) {
		t.Errorf("annotations = %v, want %v", got, want)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := cfg.RootFS.DiffIDs, []v1.Hash{diffID}; len(got) != 1 || got[0] != want[0] {
		t.Errorf("config diff_ids = %v, want %v", got, want)
	}
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(layers), 1; got != want || layers[0] != layer {
		t.Errorf("Layers() = %v, want the packed layer", layers)
	}
}

func TestImageDigestsAreOfItsBytes(t *testing.T) {
	t.Parallel()
	layer := &fakeLayer{content: []byte("content"), mediaType: artifact.ContentMediaType}
	img, err := artifact.Image(layer, fixedMetadata)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := img.RawManifest()
	digest, _ := img.Digest()
	size, _ := img.Size()
	if got, want := digest, sha(raw); got != want {
		t.Errorf("Digest() = %s, want sha256 of the raw manifest %s", got, want)
	}
	if got, want := size, int64(len(raw)); got != want {
		t.Errorf("Size() = %d, want %d", got, want)
	}
	config, _ := img.RawConfigFile()
	name, _ := img.ConfigName()
	if got, want := name, sha(config); got != want {
		t.Errorf("ConfigName() = %s, want sha256 of the raw config %s", got, want)
	}

	// Callers may scribble on what they are handed; the image must not change.
	raw[0], config[0] = 'x', 'x'
	if again, _ := img.Digest(); again != digest {
		t.Errorf("Digest() changed to %s after the caller edited RawManifest's bytes", again)
	}
	if again, _ := img.RawManifest(); again[0] != '{' {
		t.Errorf("RawManifest() shares its bytes with callers")
	}
	if again, _ := img.RawConfigFile(); again[0] != '{' {
		t.Errorf("RawConfigFile() shares its bytes with callers")
	}

	if got, err := img.LayerByDigest(layer.hash()); err != nil || got != layer {
		t.Errorf("LayerByDigest(layer digest) = %v, %v; want the layer", got, err)
	}
	if got, err := img.LayerByDiffID(layer.hash()); err != nil || got != layer {
		t.Errorf("LayerByDiffID(layer diff id) = %v, %v; want the layer", got, err)
	}
	if _, err := img.LayerByDigest(sha([]byte("other"))); err == nil {
		t.Error("LayerByDigest(unknown) succeeded, want an error")
	}
	if _, err := img.LayerByDiffID(sha([]byte("other"))); err == nil {
		t.Error("LayerByDiffID(unknown) succeeded, want an error")
	}
}

func TestImageDoesNotReadTheLayer(t *testing.T) {
	t.Parallel()
	layer := &fakeLayer{content: []byte("content"), mediaType: artifact.ContentMediaType}
	img, err := artifact.Image(layer, fixedMetadata)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := img.Digest(); err != nil {
			t.Fatal(err)
		}
		if _, err := img.RawManifest(); err != nil {
			t.Fatal(err)
		}
		if _, err := img.ConfigFile(); err != nil {
			t.Fatal(err)
		}
	}
	if got := layer.reads.Load(); got != 0 {
		t.Errorf("the layer's content was read %d times, want 0", got)
	}
}

func TestPackedLayerDigestsAreOfItsBytes(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	writeTree(t, root, sampleTree)
	layer := pack(t, root)

	compressed := readAll(t, layer.Compressed)
	uncompressed := readAll(t, layer.Uncompressed)
	digest, _ := layer.Digest()
	diffID, _ := layer.DiffID()
	size, _ := layer.Size()
	if got, want := digest, sha(compressed); got != want {
		t.Errorf("Digest() = %s, want sha256 of the compressed bytes %s", got, want)
	}
	if got, want := diffID, sha(uncompressed); got != want {
		t.Errorf("DiffID() = %s, want sha256 of the tar stream %s", got, want)
	}
	if got, want := size, int64(len(compressed)); got != want {
		t.Errorf("Size() = %d, want %d", got, want)
	}
	if again := readAll(t, layer.Compressed); !bytes.Equal(again, compressed) {
		t.Error("a second Compressed() read gave different bytes")
	}
}

func TestImageRefusesWhatFluxCannotRead(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		layer v1.Layer
		want  string
	}{
		{"no layer", nil, "no layer"},
		{"another media type", &fakeLayer{content: []byte("x"), mediaType: types.OCILayer}, artifact.ContentMediaType},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := artifact.Image(tc.layer, fixedMetadata)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Image error = %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}

func TestMetadataAnnotations(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		m    artifact.Metadata
		want map[string]string
	}{
		{
			name: "all fields",
			m:    fixedMetadata,
			want: map[string]string{
				artifact.AnnotationSource:   "https://github.com/acme/platform",
				artifact.AnnotationRevision: "main@sha1:0123456789abcdef0123456789abcdef01234567",
				artifact.AnnotationCreated:  "2026-08-01T10:00:00Z",
				artifact.AnnotationVersion:  "0.4.2-rc.3",
			},
		},
		{
			name: "created in another zone is written in UTC",
			m:    artifact.Metadata{Created: time.Date(2026, 8, 1, 12, 0, 0, 0, time.FixedZone("CEST", 2*3600))},
			want: map[string]string{artifact.AnnotationCreated: "2026-08-01T10:00:00Z"},
		},
		{
			name: "created keeps whole seconds",
			m:    artifact.Metadata{Created: time.Date(2026, 8, 1, 10, 0, 0, 999_999_999, time.UTC)},
			want: map[string]string{artifact.AnnotationCreated: "2026-08-01T10:00:00Z"},
		},
		{
			name: "empty fields are left out",
			m:    artifact.Metadata{Version: "1.0.0"},
			want: map[string]string{artifact.AnnotationVersion: "1.0.0"},
		},
		{
			name: "zero metadata",
			m:    artifact.Metadata{},
			want: map[string]string{},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got, want := tc.m.Annotations(), tc.want; !maps.Equal(got, want) {
				t.Errorf("Annotations() = %v, want %v", got, want)
			}
		})
	}
}

func TestMetadataRoundTrip(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		m    artifact.Metadata
	}{
		{"all fields", fixedMetadata},
		{"only a revision", artifact.Metadata{Revision: "v1.2.3@sha1:0123456789abcdef0123456789abcdef01234567"}},
		{"zero", artifact.Metadata{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got, want := artifact.MetadataFrom(tc.m.Annotations()), tc.m; got != want {
				t.Errorf("MetadataFrom(Annotations()) = %+v, want %+v", got, want)
			}
		})
	}

	// Through a real image, as the pipeline reads it back from the registry.
	img, err := artifact.Image(&fakeLayer{content: []byte("x"), mediaType: artifact.ContentMediaType}, fixedMetadata)
	if err != nil {
		t.Fatal(err)
	}
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := artifact.MetadataFrom(m.Annotations), fixedMetadata; got != want {
		t.Errorf("MetadataFrom(manifest annotations) = %+v, want %+v", got, want)
	}
}

func TestMetadataFromIsBestEffort(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		annotations map[string]string
		want        artifact.Metadata
	}{
		{"nil", nil, artifact.Metadata{}},
		{
			name:        "unparseable created is zero, the rest is kept",
			annotations: map[string]string{artifact.AnnotationCreated: "yesterday", artifact.AnnotationSource: "https://example.com/x"},
			want:        artifact.Metadata{Source: "https://example.com/x"},
		},
		{
			name:        "created with an offset and fractions, as other tools write it",
			annotations: map[string]string{artifact.AnnotationCreated: "2026-08-01T12:00:00.5+02:00"},
			want:        artifact.Metadata{Created: time.Date(2026, 8, 1, 10, 0, 0, 500_000_000, time.UTC)},
		},
		{
			name:        "unrelated annotations are ignored",
			annotations: map[string]string{"org.opencontainers.image.title": "x", artifact.AnnotationVersion: "1.0.0"},
			want:        artifact.Metadata{Version: "1.0.0"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := artifact.MetadataFrom(tc.annotations)
			if got != tc.want {
				t.Errorf("MetadataFrom(%v) = %+v, want %+v", tc.annotations, got, tc.want)
			}
			if got.Created.Location() != time.UTC {
				t.Errorf("MetadataFrom(%v).Created is in %v, want UTC", tc.annotations, got.Created.Location())
			}
		})
	}
}

func sha(b []byte) v1.Hash {
	sum := sha256.Sum256(b)
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(sum[:])}
}

func readAll(t *testing.T, open func() (io.ReadCloser, error)) []byte {
	t.Helper()
	rc, err := open()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
