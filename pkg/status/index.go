package status

import (
	"context"
	"errors"
	"sort"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/ocipromote/ocipromote/pkg/oci"
)

// Registry is what reading the pipeline's state needs of a repository; *oci.Repository
// implements it.
type Registry interface {
	Name() string
	Tags(ctx context.Context) ([]string, error)
	Resolve(ctx context.Context, tag string) (string, error)
	Get(ctx context.Context, digest string) (*oci.Manifest, error)
	GetTag(ctx context.Context, tag string) (*oci.Manifest, error)
}

var _ Registry = (*oci.Repository)(nil)

// Concurrency bounds the registry requests Resolve has in flight.
const Concurrency = 8

// Index is what a repository holds: its tag list, the digests of the tags that were resolved and
// the manifests of those digests.
type Index struct {
	Tags []string
	// Digests maps each resolved tag to its manifest digest.
	Digests map[string]string
	// Manifests maps each of those digests to its manifest.
	Manifests map[string]*oci.Manifest
}

// Resolve reads the manifests behind the tags of list that want selects: one HEAD per tag, then
// one GET per distinct digest, at most Concurrency at a time. A tag removed since the listing is
// left out; any other failure is an error, never a partial index.
func Resolve(ctx context.Context, reg Registry, list []string, want func(tag string) bool) (*Index, error) {
	idx := &Index{Tags: list, Digests: map[string]string{}, Manifests: map[string]*oci.Manifest{}}
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(Concurrency)
	for _, t := range list {
		if !want(t) {
			continue
		}
		g.Go(func() error {
			d, err := reg.Resolve(gctx, t)
			if errors.Is(err, oci.ErrNotFound) {
				return nil
			}
			if err != nil {
				return err
			}
			mu.Lock()
			idx.Digests[t] = d
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	if err := idx.fetch(ctx, reg, idx.digests()); err != nil {
		return nil, err
	}
	return idx, nil
}

func (idx *Index) fetch(ctx context.Context, reg Registry, digests []string) error {
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(Concurrency)
	for _, d := range digests {
		if _, ok := idx.Manifests[d]; ok {
			continue
		}
		g.Go(func() error {
			m, err := reg.Get(gctx, d)
			if err != nil {
				return err
			}
			mu.Lock()
			idx.Manifests[d] = m
			mu.Unlock()
			return nil
		})
	}
	return g.Wait()
}

// digests lists the distinct digests of the resolved tags, sorted.
func (idx *Index) digests() []string {
	seen := map[string]bool{}
	var out []string
	for _, d := range idx.Digests {
		if !seen[d] {
			seen[d] = true
			out = append(out, d)
		}
	}
	sort.Strings(out)
	return out
}

// ByDigest groups the resolved tags by digest, each group sorted.
func (idx *Index) ByDigest() map[string][]string {
	out := map[string][]string{}
	for t, d := range idx.Digests {
		out[d] = append(out[d], t)
	}
	for _, ts := range out {
		sort.Strings(ts)
	}
	return out
}
