package oci_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/random"

	"github.com/ocipromote/ocipromote/pkg/oci"
	"github.com/ocipromote/ocipromote/pkg/oci/ocitest"
	"github.com/ocipromote/ocipromote/pkg/pipeline"
)

// filled is an in-memory registry paging tags by 100, as GHCR does, whose repository holds the n
// tags of ocitest.History, all on one artifact.
func filled(b *testing.B, n int) *ocitest.Server {
	b.Helper()
	srv := ocitest.New(b, ocitest.MaxPage(100))
	ctx := context.Background()
	reg, err := oci.Open(srv.Host+"/acme/app", oci.Options{})
	if err != nil {
		b.Fatal(err)
	}
	img, err := random.Image(256, 1)
	if err != nil {
		b.Fatal(err)
	}
	m, err := reg.Push(ctx, img, "seed")
	if err != nil {
		b.Fatal(err)
	}
	for _, tag := range ocitest.History(n) {
		if _, err := reg.Tag(ctx, tag, m, oci.Write{KnownAbsent: true}); err != nil {
			b.Fatal(err)
		}
	}
	return srv
}

// Listing every tag at GHCR's page size: the requests a listing costs, and its time on loopback.
func BenchmarkTags(b *testing.B) {
	for _, n := range []int{1_000, 10_000} {
		b.Run(fmt.Sprintf("tags=%d", n), func(b *testing.B) {
			srv := filled(b, n)
			ctx := context.Background()
			before := len(srv.Requests())
			b.ReportAllocs()
			for b.Loop() {
				reg, err := oci.Open(srv.Host+"/acme/app", oci.Options{})
				if err != nil {
					b.Fatal(err)
				}
				if tags, err := reg.Tags(ctx); err != nil || len(tags) != n+1 {
					b.Fatalf("Tags() = %d tags, %v; want %d", len(tags), err, n+1)
				}
			}
			b.ReportMetric(float64(len(srv.Requests())-before)/float64(b.N), "requests/op")
		})
	}
}

// A whole build-rc of a new commit in a repository with a long history: the listing pages (twice:
// before and after the claim) dominate its requests.
func BenchmarkBuildRC(b *testing.B) {
	for _, n := range []int{300, 1_000, 3_000, 10_000} {
		b.Run(fmt.Sprintf("tags=%d", n), func(b *testing.B) {
			srv := filled(b, n)
			before := len(srv.Requests())
			i := 0
			b.ReportAllocs()
			for b.Loop() {
				i++
				reg, err := oci.Open(srv.Host+"/acme/app", oci.Options{})
				if err != nil {
					b.Fatal(err)
				}
				build(b, reg, benchTree(b, fmt.Sprint(i)), 100+i)
			}
			b.ReportMetric(float64(len(srv.Requests())-before)/float64(b.N), "requests/op")
		})
	}
}

// A whole tag-validated of a new candidate in a repository with a long history, each on a fresh
// registry (set up off the clock) so that every promotion meets n tags: one full listing for the
// decision, and a ranged listing of rival claims and hold records to confirm the claim
// (package claim), since the in-memory registry lists lexically and honours last.
func BenchmarkTagValidated(b *testing.B) {
	for _, n := range []int{300, 3_000} {
		b.Run(fmt.Sprintf("tags=%d", n), func(b *testing.B) {
			requests := 0
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				srv := filled(b, n)
				rc := build(b, openBench(b, srv), benchTree(b, "a"), 1_000_000)
				before := len(srv.Requests())
				b.StartTimer()
				res, err := pipeline.TagValidated(context.Background(), openBench(b, srv), pipeline.PromoteInput{Revision: rc.Version + "@" + rc.Digest})
				if err != nil || !res.Promoted {
					b.Fatalf("TagValidated = %+v, %v", res, err)
				}
				requests += len(srv.Requests()) - before
			}
			b.ReportMetric(float64(requests)/float64(b.N), "requests/op")
		})
	}
}

func openBench(b *testing.B, srv *ocitest.Server) *oci.Repository {
	b.Helper()
	reg, err := oci.Open(srv.Host+"/acme/app", oci.Options{})
	if err != nil {
		b.Fatal(err)
	}
	return reg
}
