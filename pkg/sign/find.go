package sign

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// MaxReferrers bounds how many referrers of one digest are read: a registry writer could attach
// thousands to slow every promotion down. Past it the rest are reported and not read, which can
// only refuse (never accept) a candidate.
const MaxReferrers = 32

// MaxBundleSize bounds the bundle blob read (cosign's bundles are about 5 KB).
const MaxBundleSize = 1 << 20

// Referrer is one manifest attached to the digest and, when it holds one, its bundle.
type Referrer struct {
	Descriptor v1.Descriptor
	// Bundle is the Sigstore bundle JSON, nil when the referrer holds none.
	Bundle []byte
	// Problem says why the referrer could not be read (it may have held a bundle); empty for a
	// referrer read and found to hold no bundle.
	Problem string
}

// Find lists every referrer of d — through the OCI 1.1 referrers API, or the sha256-<hex>
// fallback tag where the registry has none (remote.Referrers tries both) — unfiltered: GHCR's
// fallback index reports a wrong artifactType, so a referrer is a bundle by its layer's media
// type, not by what the index says. A referrer that cannot be read is reported, not fatal; an
// error means the listing itself failed.
func Find(ctx context.Context, d name.Digest, opts ...remote.Option) ([]Referrer, error) {
	opts = append(opts, remote.WithContext(ctx))
	// One puller for every read: the registry is pinged and authenticated once, not per read.
	puller, err := remote.NewPuller(opts...)
	if err != nil {
		return nil, err
	}
	opts = append(opts, remote.Reuse(puller))
	idx, err := remote.Referrers(d, opts...)
	if err != nil {
		return nil, fmt.Errorf("list the referrers of %s (referrers API, then the %s tag): %w", d, strings.Replace(d.DigestStr(), ":", "-", 1), err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("read the referrers index of %s: %w", d, err)
	}
	var out []Referrer
	for i, desc := range im.Manifests {
		if i == MaxReferrers {
			out = append(out, Referrer{Descriptor: desc, Problem: fmt.Sprintf("%d referrers, only the first %d were read", len(im.Manifests), MaxReferrers)})
			break
		}
		r := Referrer{Descriptor: desc}
		r.Bundle, err = readBundle(d.Context(), desc, opts)
		if err != nil && !errors.Is(err, errNotBundle) {
			r.Problem = err.Error()
		}
		out = append(out, r)
	}
	return out, nil
}

// errNotBundle: the referrer holds no Sigstore bundle layer (an SBOM, another attestation kind).
var errNotBundle = errors.New("not a Sigstore bundle")

func readBundle(repo name.Repository, desc v1.Descriptor, opts []remote.Option) ([]byte, error) {
	if desc.MediaType != types.OCIManifestSchema1 && desc.MediaType != types.DockerManifestSchema2 {
		return nil, errNotBundle
	}
	got, err := remote.Get(repo.Digest(desc.Digest.String()), opts...)
	if err != nil {
		return nil, fmt.Errorf("read referrer manifest %s: %w", desc.Digest, err)
	}
	m, err := v1.ParseManifest(strings.NewReader(string(got.Manifest)))
	if err != nil {
		return nil, fmt.Errorf("referrer %s is not a valid manifest: %w", desc.Digest, err)
	}
	for _, l := range m.Layers {
		if string(l.MediaType) != BundleMediaType {
			continue
		}
		if l.Size > MaxBundleSize {
			return nil, fmt.Errorf("bundle %s is %d bytes, over the %d-byte limit", l.Digest, l.Size, MaxBundleSize)
		}
		layer, err := remote.Layer(repo.Digest(l.Digest.String()), opts...)
		if err != nil {
			return nil, fmt.Errorf("read bundle %s: %w", l.Digest, err)
		}
		rc, err := layer.Compressed()
		if err != nil {
			return nil, fmt.Errorf("read bundle %s: %w", l.Digest, err)
		}
		defer rc.Close()
		// The reader checks the blob against its digest at EOF.
		b, err := io.ReadAll(io.LimitReader(rc, MaxBundleSize+1))
		if err != nil {
			return nil, fmt.Errorf("read bundle %s: %w", l.Digest, err)
		}
		return b, nil
	}
	return nil, errNotBundle
}
