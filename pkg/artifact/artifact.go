// Package artifact builds the OCI artifact Flux deploys from: one gzip-compressed tar layer of a
// directory, wrapped in an OCI image manifest with Flux's media types, the shape that
// `flux push artifact` produces and source-controller reads.
//
// `flux push artifact` already zeroes owners and times, but it keeps the checkout's permission
// bits and stamps the wall clock into the manifest. Here the build is reproducible: the same
// directory content gives byte-identical layer, config and manifest digests on any machine, in
// any time zone, under any umask and file times, on every run. The pipeline depends on that: a re-run for a commit must
// find the digest it already pushed, since tags are write-once.
//
// The layer's format, fixed here and pinned by a golden test:
//   - entries are the directory's regular files and directories (the root itself excluded),
//     sorted bytewise by their name in the archive; directory names end in "/", so empty
//     directories survive as they do with Flux;
//   - PAX-format headers carry only name, type, size and mode (a PAX record appears only for a
//     name a plain USTAR header cannot hold): mode 0755 for directories and for files with any
//     execute bit, 0644 for other files; uid and gid 0, no user or group names, modification
//     time the Unix epoch, no access or change time;
//   - gzip at the default level (Flux's; best compression is five times slower for 2% less), with
//     no file name, no modification time and OS "unknown" (255);
//   - .git, .hg, .svn, .bzr, .jj and _darcs entries are left out at any depth, as are paths
//     matched by the caller's gitignore-syntax patterns; .gitignore and .sourceignore files are
//     content and stay in;
//   - symlinks are left out, as Flux's own builder leaves them out and source-controller skips
//     them when it extracts. A symlink that leads outside the directory is refused, because
//     the content it stands for would silently be missing from the cluster; so is one whose
//     resolution leaves the directory on the way (even to come back) or has an absolute target,
//     because that verdict would depend on where the tree is checked out.
//
// The compressed bytes also depend on Go's compress/flate. The golden test pins the tar stream
// and the compressed layer separately, so it tells a format change from a compressor change.
package artifact

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

const (
	// ConfigMediaType is the media type of a Flux artifact's config blob.
	ConfigMediaType = "application/vnd.cncf.flux.config.v1+json"
	// ContentMediaType is the media type of the layer holding the packed directory.
	ContentMediaType = "application/vnd.cncf.flux.content.v1.tar+gzip"

	// AnnotationSource is the repository URL the artifact was built from.
	AnnotationSource = "org.opencontainers.image.source"
	// AnnotationRevision is "<ref>@sha1:<sha>", the form Flux reports as originRevision.
	AnnotationRevision = "org.opencontainers.image.revision"
	// AnnotationCreated is the commit time in RFC 3339, UTC.
	AnnotationCreated = "org.opencontainers.image.created"
	// AnnotationVersion is the version the artifact was built as; it orders candidates.
	AnnotationVersion = "org.opencontainers.image.version"
	// AnnotationVersionLine is the MAJOR.MINOR hotfix line a candidate was built for (build-rc's
	// version_line); absent on the main line. Promotion compares a hotfix candidate with its own
	// line's stable versions only, and a main-line candidate with every stable version.
	AnnotationVersionLine = "io.ocipromote.version-line"
)

// Metadata is what the manifest annotations carry.
type Metadata struct {
	Source   string
	Revision string // "<ref>@sha1:<sha>"
	// Created is the commit time, never the wall clock, so that a rebuild of a commit
	// reproduces its manifest digest.
	Created time.Time
	Version string
	// Line is the hotfix line, "MAJOR.MINOR", or "" for the main line.
	Line string
}

// Annotations returns the manifest annotations for m. Empty fields are left out rather than
// written as empty strings, so a reader can tell "not recorded" from a value.
func (m Metadata) Annotations() map[string]string {
	a := map[string]string{}
	if m.Source != "" {
		a[AnnotationSource] = m.Source
	}
	if m.Revision != "" {
		a[AnnotationRevision] = m.Revision
	}
	if !m.Created.IsZero() {
		a[AnnotationCreated] = m.Created.UTC().Format(time.RFC3339)
	}
	if m.Version != "" {
		a[AnnotationVersion] = m.Version
	}
	if m.Line != "" {
		a[AnnotationVersionLine] = m.Line
	}
	return a
}

// MetadataFrom reads Metadata back from manifest annotations. It is best effort because the
// manifest may have been written by another tool: a missing or unparseable value gives a zero
// field.
func MetadataFrom(annotations map[string]string) Metadata {
	m := Metadata{
		Source:   annotations[AnnotationSource],
		Revision: annotations[AnnotationRevision],
		Version:  annotations[AnnotationVersion],
		Line:     annotations[AnnotationVersionLine],
	}
	if t, err := time.Parse(time.RFC3339, annotations[AnnotationCreated]); err == nil {
		m.Created = t.UTC()
	}
	return m
}

// fluxConfigTemplate is the config blob `flux push artifact` writes. fluxcd/pkg/oci starts from
// go-containerregistry's empty.Image and appends the layer with mutate.Append, and every
// go-containerregistry before v0.21.6 (the versions Flux has shipped with) re-marshals that
// config with the layer's diff_id and one empty history entry, giving exactly these bytes.
// It is written out here instead of marshalled from v1.ConfigFile so that a dependency upgrade
// cannot change the artifact's digest.
const fluxConfigTemplate = `{"architecture":"","created":"0001-01-01T00:00:00Z",` +
	`"history":[{"created":"0001-01-01T00:00:00Z"}],"os":"",` +
	`"rootfs":{"type":"layers","diff_ids":["%s"]},"config":{}}`

// Image wraps a layer built by Pack into a Flux artifact: an OCI image manifest with the Flux
// config media type and the annotations of m. The layer is not read: its digests are asked for
// once, and for a layer from Pack they are already known.
func Image(layer v1.Layer, m Metadata) (v1.Image, error) {
	if layer == nil {
		return nil, errors.New("artifact: no layer to wrap; build one with Pack")
	}
	mt, err := layer.MediaType()
	if err != nil {
		return nil, fmt.Errorf("artifact: reading the layer's media type: %w", err)
	}
	if mt != ContentMediaType {
		return nil, fmt.Errorf("artifact: layer media type is %q, but Flux reads only %q; build the layer with Pack", mt, ContentMediaType)
	}
	digest, err := layer.Digest()
	if err != nil {
		return nil, fmt.Errorf("artifact: reading the layer's digest: %w", err)
	}
	diffID, err := layer.DiffID()
	if err != nil {
		return nil, fmt.Errorf("artifact: reading the layer's diff id: %w", err)
	}
	size, err := layer.Size()
	if err != nil {
		return nil, fmt.Errorf("artifact: reading the layer's size: %w", err)
	}

	config := []byte(fmt.Sprintf(fluxConfigTemplate, diffID))
	configDigest, configSize, err := v1.SHA256(bytes.NewReader(config))
	if err != nil {
		return nil, err
	}
	manifest := v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.OCIManifestSchema1,
		Config:        v1.Descriptor{MediaType: ConfigMediaType, Size: configSize, Digest: configDigest},
		Layers:        []v1.Descriptor{{MediaType: ContentMediaType, Size: size, Digest: digest}},
		Annotations:   m.Annotations(),
	}
	// encoding/json writes struct fields in declaration order and map keys sorted, so these
	// bytes are a function of the inputs alone.
	raw, err := json.Marshal(manifest)
	if err != nil {
		return nil, fmt.Errorf("artifact: encoding the manifest: %w", err)
	}
	manifestDigest, _, err := v1.SHA256(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	return &image{
		layer:          layer,
		layerDigest:    digest,
		layerDiffID:    diffID,
		config:         config,
		configDigest:   configDigest,
		manifest:       raw,
		manifestDigest: manifestDigest,
	}, nil
}

// image is a v1.Image whose blobs are all computed up front, so pushing it or asking for its
// digest never repeats work.
type image struct {
	layer          v1.Layer
	layerDigest    v1.Hash
	layerDiffID    v1.Hash
	config         []byte
	configDigest   v1.Hash
	manifest       []byte
	manifestDigest v1.Hash
}

var _ v1.Image = (*image)(nil)

func (i *image) Layers() ([]v1.Layer, error) { return []v1.Layer{i.layer}, nil }

func (i *image) MediaType() (types.MediaType, error) { return types.OCIManifestSchema1, nil }

func (i *image) Size() (int64, error) { return int64(len(i.manifest)), nil }

func (i *image) ConfigName() (v1.Hash, error) { return i.configDigest, nil }

func (i *image) ConfigFile() (*v1.ConfigFile, error) {
	return v1.ParseConfigFile(bytes.NewReader(i.config))
}

// RawConfigFile returns a copy so that a caller cannot change the bytes the digest was taken of.
func (i *image) RawConfigFile() ([]byte, error) { return bytes.Clone(i.config), nil }

func (i *image) Digest() (v1.Hash, error) { return i.manifestDigest, nil }

func (i *image) Manifest() (*v1.Manifest, error) {
	return v1.ParseManifest(bytes.NewReader(i.manifest))
}

func (i *image) RawManifest() ([]byte, error) { return bytes.Clone(i.manifest), nil }

func (i *image) LayerByDigest(h v1.Hash) (v1.Layer, error) {
	if h == i.layerDigest {
		return i.layer, nil
	}
	return nil, fmt.Errorf("artifact: no layer with digest %s in this artifact", h)
}

func (i *image) LayerByDiffID(h v1.Hash) (v1.Layer, error) {
	if h == i.layerDiffID {
		return i.layer, nil
	}
	return nil, fmt.Errorf("artifact: no layer with diff id %s in this artifact", h)
}
