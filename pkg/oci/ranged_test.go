package oci_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/random"

	"github.com/ocipromote/ocipromote/pkg/oci"
	"github.com/ocipromote/ocipromote/pkg/oci/ocitest"
)

// seeded is a registry behind opts whose repository acme/app holds tags, written in the order
// given (a registry listing in push order lists them so).
func seeded(t *testing.T, tags []string, opts ...ocitest.Option) *ocitest.Server {
	t.Helper()
	srv := ocitest.New(t, opts...)
	ctx := context.Background()
	reg := openFresh(t, srv, oci.Options{})
	img, err := random.Image(64, 1)
	if err != nil {
		t.Fatal(err)
	}
	m, err := reg.Push(ctx, img, tags[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, tag := range tags[1:] {
		if _, err := reg.Tag(ctx, tag, m, oci.Write{KnownAbsent: true}); err != nil {
			t.Fatal(err)
		}
	}
	return srv
}

// withPrefixes is what a full listing shows of the tags with one of prefixes, sorted.
func withPrefixes(all, prefixes []string) []string {
	var out []string
	for _, t := range all {
		if slices.ContainsFunc(prefixes, func(p string) bool { return strings.HasPrefix(t, p) }) {
			out = append(out, t)
		}
	}
	slices.Sort(out)
	return out
}

// TagsWith shows every tag with the prefixes that a full listing shows, whatever the registry
// does with last and whatever order it lists in; it lists by range (fewer requests than a full
// listing, and last= on the wire) only on the registry that orders lexically and honours last.
func TestTagsWithRangedOnlyWhereTheRegistryListsByRange(t *testing.T) {
	t.Parallel()
	// 300 tags of a long history, with hold records and claims on them and a claim spelled with
	// a v, written newest first so that push order is not lexical order.
	tags := append(ocitest.History(290), "hold-1", "hold-2", "hold-10", "claim-hold-2-abcdef0-abcdef012345",
		"claim-v1.0.50-abcdef0-abcdef012345", "v1.0.50", "latest", "zzz", "hold", "holdx")
	slices.Reverse(tags)
	prefixSets := [][]string{
		{"claim-1.0.50-", "claim-v1.0.50-", "hold-"},
		{"claim-1.0.1-", "claim-v1.0.1-", "hold-"},
		{"claim-hold-3-"},
		{"hold-"},
		{"zzz-"},
	}
	tests := []struct {
		name string
		opts []ocitest.Option
		// ranged: every TagsWith lists by range; triesOnce: the first tries, is caught and falls
		// back, and the others list every tag; lexical: Ranged() after them.
		ranged, triesOnce, lexical bool
	}{
		{name: "lexical order and last, paged by 100 (distribution, GHCR's page size)", ranged: true, lexical: true},
		{name: "lexical order, last ignored, paged by a cursor of its own (Quay)", opts: []ocitest.Option{ocitest.IgnoreLast()}, triesOnce: true},
		{name: "push order (Harbor)", opts: []ocitest.Option{ocitest.PushOrderListing()}},
		{name: "one page of every tag (distribution without a page limit)", opts: []ocitest.Option{ocitest.MaxPage(0)}, lexical: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := seeded(t, tags, tc.opts...)
			ctx := context.Background()
			rec := &pageRecorder{}
			reg := openFresh(t, srv, oci.Options{Transport: rec})
			all, err := reg.Tags(ctx)
			if err != nil {
				t.Fatal(err)
			}
			fullPages := len(rec.queries)
			for i, prefixes := range prefixSets {
				rec.queries = nil
				got, err := reg.TagsWith(ctx, prefixes...)
				if err != nil {
					t.Fatal(err)
				}
				slices.Sort(got)
				if want := withPrefixes(all, prefixes); !slices.Equal(got, want) {
					t.Errorf("TagsWith(%q) = %q, want %q", prefixes, got, want)
				}
				// A ranged listing asks from last= on its first request; a full one does not.
				ranged := len(rec.queries) > 0 && strings.Contains(rec.queries[0], "last=")
				if want := tc.ranged || (tc.triesOnce && i == 0); ranged != want {
					t.Errorf("TagsWith(%q) asked %q: ranged %v, want %v", prefixes, rec.queries, ranged, want)
				}
				if tc.ranged && len(rec.queries) >= fullPages {
					t.Errorf("TagsWith(%q) took %d requests %q, a full listing %d", prefixes, len(rec.queries), rec.queries, fullPages)
				}
			}
			if reg.Ranged() != tc.lexical {
				t.Errorf("Ranged() = %v after the listings, want %v", reg.Ranged(), tc.lexical)
			}
		})
	}
}
