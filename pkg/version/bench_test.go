package version_test

import (
	"fmt"
	"testing"

	"github.com/ocipromote/ocipromote/pkg/oci/ocitest"
	"github.com/ocipromote/ocipromote/pkg/version"
)

// The next release candidate over a repository's whole history, as build-rc computes it on every
// merge. Target: under 100 ms at 100k tags.
func BenchmarkNextRC(b *testing.B) {
	for _, n := range []int{1_000, 10_000, 100_000} {
		list := ocitest.History(n)
		b.Run(fmt.Sprintf("tags=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := version.NextRC(list, version.Rules{Bump: version.Patch}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// What a cluster with a semver constraint selects, as status and the examples' checks ask.
func BenchmarkSelect(b *testing.B) {
	for _, n := range []int{1_000, 10_000, 100_000} {
		list := ocitest.History(n)
		b.Run(fmt.Sprintf("tags=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := version.Select(list, ">= 0.0.0-0", ""); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
