// Package pipeline runs the pipeline's steps against a registry: build-rc offers a commit's
// manifests to integration as a release candidate, and tag-validated gives a validated candidate
// its stable tag. The decisions themselves are pure functions in the version and promote
// packages; this package gathers what they need from the registry, and writes what they decide,
// in an order that a crash at any point can be repaired by running again.
package pipeline

import (
	"context"
	"log/slog"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/ocipromote/ocipromote/pkg/claim"
	"github.com/ocipromote/ocipromote/pkg/oci"
)

// Registry is what the steps need of one OCI repository; *oci.Repository implements it.
type Registry interface {
	Name() string
	Tags(ctx context.Context) ([]string, error)
	Resolve(ctx context.Context, tag string) (string, error)
	Get(ctx context.Context, digest string) (*oci.Manifest, error)
	GetTag(ctx context.Context, tag string) (*oci.Manifest, error)
	Push(ctx context.Context, img v1.Image, tag string) (*oci.Manifest, error)
	PrepareUploads(ctx context.Context, n int) *oci.Uploads
	Tag(ctx context.Context, tag string, m *oci.Manifest, w oci.Write) (bool, error)
}

var _ Registry = (*oci.Repository)(nil)

// Pause waits between attempts of a contested write; tests replace it.
type Pause = claim.Pause

func logger(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}

// together tells a registry that uses it (oci.Repository.WarmConnections) how many requests the
// step sends at once right after authenticating. Call it before the step's first request.
func together(reg Registry, n int) {
	if w, ok := reg.(interface{ WarmConnections(n int) }); ok {
		w.WarmConnections(n)
	}
}
