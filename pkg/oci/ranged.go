package oci

import (
	"context"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// The order a registry was seen to list tags in (Repository.order).
const (
	orderUnknown int32 = iota
	// orderLexical: every full listing so far was in byte-wise lexical order.
	orderLexical
	// orderOther: a listing was out of that order, or a ranged one did not answer from last on.
	orderOther
)

// fullListing is what the last full listing showed of the registry: its tags (sorted), the pages
// they took, and the registry's page size (the first page's, when more followed).
type fullListing struct {
	mu       sync.Mutex
	tags     []string
	pages    int
	pageSize int
}

// noteListing records a full listing and its order: one listing out of lexical order is enough
// to never list by range on this Repository.
func (r *Repository) noteListing(tags []string, pages, first int) {
	if !slices.IsSorted(tags) {
		r.order.Store(orderOther)
		return
	}
	r.order.CompareAndSwap(orderUnknown, orderLexical)
	size := r.pageSize
	if pages > 1 && first > 0 {
		size = first
	}
	r.full.mu.Lock()
	r.full.tags, r.full.pages, r.full.pageSize = tags, pages, size
	r.full.mu.Unlock()
}

// Ranged reports whether TagsWith lists by range: a full listing was in lexical order and no
// ranged one has shown otherwise.
func (r *Repository) Ranged() bool { return r.order.Load() == orderLexical }

// TagsWith returns every tag that starts with one of prefixes: what Tags filtered by them returns.
// The distribution API lists tags "lexically after" a last parameter
// (GET tags/list?n=N&last=T, opencontainers/distribution-spec, "Listing Tags"), so on a registry
// that does, a prefix costs one request (a page) instead of the whole listing. That is detected,
// never assumed: the spec asks for lexical order, yet the OCI conformance suite did not check it
// (opencontainers/distribution-spec#583 adds the check, and its first run failed on a registry),
// Harbor ordered tags by push time (goharbor/harbor#151), GHCR's order is undocumented and tools
// sort its answers themselves (crazy-max/diun#518), some registries page by a cursor of their own
// instead of last (Quay's next_page, camallo/dkregistry-rs#236), and distribution itself honours
// last on tags/list only since distribution/distribution#3143; a registry that ignores last
// answers from its first tag. So the
// ranged listing is used only after a full listing of this Repository came back in byte-wise
// lexical order, and every ranged answer is checked: each tag after last and after the one before
// it. Anything else falls back to a full listing, for this call and every later one.
//
// A ranged listing costs a request per range at least, so it is used only where the last full
// listing says it takes fewer requests than a full one: prefixes close together in lexical order
// share a range (spans), and on a repository that fits one page a full listing is as cheap.
func (r *Repository) TagsWith(ctx context.Context, prefixes ...string) ([]string, error) {
	if spans, ok := r.spans(prefixes); ok {
		var out []string
		inOrder := true
		for _, span := range spans {
			tags, ok, err := r.listRange(ctx, span)
			if err != nil {
				if hasCode(err, transport.NameUnknownErrorCode) {
					return nil, nil
				}
				return nil, r.wrap(err, "list tags of")
			}
			if !ok {
				inOrder = false
				break
			}
			out = append(out, tags...)
		}
		if inOrder {
			return out, nil
		}
		r.order.Store(orderOther)
		if r.logf != nil {
			r.logf("%s answered a ranged tag listing (last=) out of lexical order; listing every tag from now on", r.Name())
		}
	}
	all, err := r.Tags(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, t := range all {
		if slices.ContainsFunc(prefixes, func(p string) bool { return strings.HasPrefix(t, p) }) {
			out = append(out, t)
		}
	}
	return out, nil
}

// spans groups prefixes (sorted) into ranges listed with one ranged listing each: a prefix joins
// the range before it when the tags between them, in the last full listing, cost no more pages
// than listing it apart. ok is false when ranged listing is not to be used: the registry is not
// known to list by range, or the ranges would take as many requests as a full listing.
func (r *Repository) spans(prefixes []string) (spans [][]string, ok bool) {
	if !r.Ranged() || len(prefixes) == 0 || slices.Contains(prefixes, "") {
		return nil, false
	}
	r.full.mu.Lock()
	full, fullPages, size := r.full.tags, r.full.pages, max(r.full.pageSize, 1)
	r.full.mu.Unlock()
	sorted := slices.Clone(prefixes)
	slices.Sort(sorted)
	sorted = slices.Compact(sorted)
	// pages is what listing the tags of full from index lo up to hi costs: the page that shows
	// the first tag past them included.
	pages := func(lo, hi int) int { return (hi-lo)/size + 1 }
	from := func(p string) int { return sort.SearchStrings(full, p) }
	to := func(p string) int {
		i := from(p)
		for i < len(full) && strings.HasPrefix(full[i], p) {
			i++
		}
		return i
	}
	cost := 0
	lo, hi := from(sorted[0]), to(sorted[0])
	span := []string{sorted[0]}
	for _, p := range sorted[1:] {
		plo, phi := from(p), to(p)
		if pages(lo, phi) <= pages(lo, hi)+pages(plo, phi) {
			span, hi = append(span, p), phi
			continue
		}
		spans, cost = append(spans, span), cost+pages(lo, hi)
		span, lo, hi = []string{p}, plo, phi
	}
	spans, cost = append(spans, span), cost+pages(lo, hi)
	return spans, cost < fullPages
}

// listRange lists the tags that start with one of span's prefixes (sorted): from last = the first
// prefix without its final byte (a prefix of the pipeline ends in '-', the lowest byte a tag may
// hold after its first, so the first tag after last is the first with the prefix) up to the page
// that holds a tag past the last prefix. inOrder is false when the registry answered a tag not
// after last, or out of lexical order: it does not list by range, and the answer is not to be
// used.
func (r *Repository) listRange(ctx context.Context, span []string) (tags []string, inOrder bool, err error) {
	last := span[0][:len(span[0])-1]
	end := span[len(span)-1]
	prev := last
	inOrder = true
	err = r.listPages(ctx, last, func(page []string) bool {
		// The whole page is checked, not only up to the end of the range: a registry listing in
		// another order is caught by every tag it answers.
		past := false
		for _, t := range page {
			if t <= prev {
				inOrder = false
				return false
			}
			prev = t
			if slices.ContainsFunc(span, func(p string) bool { return strings.HasPrefix(t, p) }) {
				tags = append(tags, t)
			} else if t > end {
				past = true
			}
		}
		return !past
	})
	return tags, inOrder, err
}
