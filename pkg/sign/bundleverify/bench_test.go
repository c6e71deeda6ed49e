package bundleverify_test

import (
	"context"
	"testing"

	"github.com/ocipromote/ocipromote/pkg/sign"
	"github.com/ocipromote/ocipromote/pkg/sign/signtest"
)

// What verification adds to one promotion: the requests Check makes (list the referrers, read
// each referrer manifest, read each bundle; a registry without the referrers API answers the
// listing with 404 and costs one more request for the fallback tag) and its time on loopback,
// which is sigstore-go's verification plus the in-memory registry. Multiply the requests by the
// round trip to the registry (GHCR from a hosted runner: tens of ms) for the network's share.
func BenchmarkCheck(b *testing.B) {
	ss, err := signtest.New()
	if err != nil {
		b.Fatal(err)
	}
	v := verifierFromFile(b, ss)
	for _, kind := range []struct {
		name      string
		referrers bool
	}{{"referrers API", true}, {"fallback tag", false}} {
		b.Run(kind.name, func(b *testing.B) {
			srv, repo := newRegistry(b, kind.referrers)
			cand := pushCandidate(b, repo, sha)
			signAndAttach(b, ss, repo, signtest.GitHub(repoName, workflow, sha), cand.Digest, cand)
			p, err := sign.GitHubPolicy(repoName, workflow, "main@sha1:"+sha)
			if err != nil {
				b.Fatal(err)
			}
			d := repo.Digest(cand.Digest.String())
			before := len(srv.Requests())
			b.ReportAllocs()
			for b.Loop() {
				verdict, err := sign.Check(context.Background(), v, d, p)
				if err != nil || verdict.Outcome != sign.Signed {
					b.Fatalf("Check = %+v, %v; want signed", verdict, err)
				}
			}
			b.ReportMetric(float64(len(srv.Requests())-before)/float64(b.N), "requests/op")
		})
	}
}

// The cost of Verify alone (no registry): sigstore-go's checks of one bundle.
func BenchmarkVerify(b *testing.B) {
	ss, err := signtest.New()
	if err != nil {
		b.Fatal(err)
	}
	v := verifierFromFile(b, ss)
	_, repo := newRegistry(b, true)
	cand := pushCandidate(b, repo, sha)
	s, err := ss.Sign(signtest.GitHub(repoName, workflow, sha), signtest.Statement(repo.Name(), cand.Digest))
	if err != nil {
		b.Fatal(err)
	}
	d := cand.Digest.String()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(d, s.Bundle); err != nil {
			b.Fatal(err)
		}
	}
}
