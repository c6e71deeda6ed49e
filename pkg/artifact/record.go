package artifact

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Record is the artifact that stores a record of the pipeline's (a hold, a pass): an OCI manifest
// with no layers, config as its config blob (of configMediaType) and annotations. The bytes are
// a function of the arguments alone, so one record is one artifact, byte for byte.
func Record(configMediaType string, config []byte, annotations map[string]string) (v1.Image, error) {
	digest, size, err := v1.SHA256(bytes.NewReader(config))
	if err != nil {
		return nil, err
	}
	raw, err := json.Marshal(v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.OCIManifestSchema1,
		Config:        v1.Descriptor{MediaType: types.MediaType(configMediaType), Size: size, Digest: digest},
		Layers:        []v1.Descriptor{},
		Annotations:   annotations,
	})
	if err != nil {
		return nil, err
	}
	return partial.CompressedToImage(recordImage{config: config, manifest: raw, kind: configMediaType})
}

// recordImage is the core partial.CompressedToImage completes into a v1.Image.
type recordImage struct {
	config, manifest []byte
	kind             string
}

func (r recordImage) RawConfigFile() ([]byte, error)      { return slices.Clone(r.config), nil }
func (r recordImage) MediaType() (types.MediaType, error) { return types.OCIManifestSchema1, nil }
func (r recordImage) RawManifest() ([]byte, error)        { return slices.Clone(r.manifest), nil }
func (r recordImage) LayerByDigest(h v1.Hash) (partial.CompressedLayer, error) {
	return nil, fmt.Errorf("a record (%s) has no layer %s", r.kind, h)
}
