package keyless_test

import (
	"context"
	"testing"

	"github.com/ocipromote/ocipromote/pkg/sign/signtest"
)

// What signing adds to one build: the registry requests of Keyless.Sign for a new candidate
// (check for an existing signature, upload the bundle and its referrer, list and verify it
// again) and of a re-run that finds the signature and writes nothing, with Fulcio and Rekor on
// loopback (two more requests per signature, to them).
func BenchmarkKeylessSign(b *testing.B) {
	ss, err := signtest.New()
	if err != nil {
		b.Fatal(err)
	}
	for _, kind := range []struct {
		name      string
		referrers bool
	}{{"referrers API", true}, {"fallback tag", false}} {
		b.Run(kind.name+"/new", func(b *testing.B) {
			srv, repo := newRegistry(b, kind.referrers)
			k := sigstoreServices(b, ss, signtest.GitHub(repoName, workflow, sha))
			var requests int
			for b.Loop() {
				b.StopTimer()
				cand := pushCandidate(b, repo, sha) // a random image: a new digest each time
				before := len(srv.Requests())
				b.StartTimer()
				res, err := k.Sign(context.Background(), repo.Digest(cand.Digest.String()))
				if err != nil || !res.Written {
					b.Fatalf("Sign = %+v, %v", res, err)
				}
				requests += len(srv.Requests()) - before
			}
			b.ReportMetric(float64(requests)/float64(b.N), "requests/op")
		})
		b.Run(kind.name+"/already-signed", func(b *testing.B) {
			srv, repo := newRegistry(b, kind.referrers)
			k := sigstoreServices(b, ss, signtest.GitHub(repoName, workflow, sha))
			cand := pushCandidate(b, repo, sha)
			d := repo.Digest(cand.Digest.String())
			if _, err := k.Sign(context.Background(), d); err != nil {
				b.Fatal(err)
			}
			before := len(srv.Requests())
			for b.Loop() {
				if res, err := k.Sign(context.Background(), d); err != nil || res.Written {
					b.Fatalf("Sign = %+v, %v", res, err)
				}
			}
			b.ReportMetric(float64(len(srv.Requests())-before)/float64(b.N), "requests/op")
		})
	}
}
