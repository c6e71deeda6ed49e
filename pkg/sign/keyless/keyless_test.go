package keyless_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/ocipromote/ocipromote/pkg/oci/ocitest"
	"github.com/ocipromote/ocipromote/pkg/sign"
	"github.com/ocipromote/ocipromote/pkg/sign/keyless"
	"github.com/ocipromote/ocipromote/pkg/sign/signtest"
	"github.com/ocipromote/ocipromote/test/registrytest"
)

// sigstoreServices starts the offline Fulcio and Rekor over HTTP and returns a Keyless signer
// holding a GitHub Actions token for id.
const (
	repoName = "acme/platform"
	workflow = ".github/workflows/build.yml"
	sha      = "0123456789abcdef0123456789abcdef01234567"
)

var (
	newRegistry      = signtest.Registry
	pushCandidate    = signtest.PushCandidate
	verifierFromFile = signtest.VerifierFromFile
	repository       = signtest.Repository
)

func sigstoreServices(t testing.TB, ss *signtest.Sigstore, id signtest.Identity) *keyless.Keyless {
	t.Helper()
	fulcio, rekor := signtest.Serve(t, ss)
	tok, err := ss.Token(id, signtest.Audience)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := ss.TrustedRoot()
	if err != nil {
		t.Fatal(err)
	}
	return &keyless.Keyless{FulcioURL: fulcio, RekorURL: rekor, Token: tok, Trusted: tr}
}

// referrersOf lists the referrer manifests of d as the registry has them.
func referrersOf(t testing.TB, d name.Digest) []v1.Descriptor {
	t.Helper()
	idx, err := remote.Referrers(d)
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	return im.Manifests
}

// Keyless signs through Fulcio and Rekor as the real services answer, attaches the bundle as
// cosign v3 does on both registry kinds, finds it already there on a re-run and writes nothing,
// and the candidate then passes tag-validated's check.
func TestKeylessSign(t *testing.T) {
	t.Parallel()
	ss, err := signtest.New()
	if err != nil {
		t.Fatal(err)
	}
	v := verifierFromFile(t, ss)
	distribution := registrytest.Start(t)
	var next atomic.Int64
	kinds := []struct {
		name string
		repo func(t *testing.T) (*ocitest.Server, name.Repository)
	}{
		{"referrers API", func(t *testing.T) (*ocitest.Server, name.Repository) { return newRegistry(t, true) }},
		{"fallback tag", func(t *testing.T) (*ocitest.Server, name.Repository) { return newRegistry(t, false) }},
		{"distribution", func(t *testing.T) (*ocitest.Server, name.Repository) {
			srv := ocitest.New(t, ocitest.Backend(proxyTo(distribution)))
			return srv, repository(t, srv.Host, fmt.Sprintf("acme/manifests-%d", next.Add(1)))
		}},
	}
	for _, kind := range kinds {
		t.Run(kind.name, func(t *testing.T) {
			t.Parallel()
			srv, repo := kind.repo(t)
			desc := pushCandidate(t, repo, sha)
			d := repo.Digest(desc.Digest.String())
			k := sigstoreServices(t, ss, signtest.GitHub(repoName, workflow, sha))
			res, err := k.Sign(context.Background(), d)
			if err != nil {
				t.Fatal(err)
			}
			if !res.Written || res.Attaches != 1 || res.Signer == nil || res.Signer.Commit != sha {
				t.Fatalf("first sign = %+v, want written once by the build workflow at %s", res, sha)
			}
			refs := referrersOf(t, d)
			if len(refs) != 1 || refs[0].Digest.String() != res.Referrer {
				t.Fatalf("referrers = %v, want only %s", refs, res.Referrer)
			}
			// The referrer manifest is cosign v3's: bundle artifact type and layer, empty config.
			got, err := remote.Get(repo.Digest(res.Referrer))
			if err != nil {
				t.Fatal(err)
			}
			m, err := v1.ParseManifest(bytes.NewReader(got.Manifest))
			if err != nil {
				t.Fatal(err)
			}
			if m.ArtifactType != sign.BundleMediaType || len(m.Layers) != 1 || string(m.Layers[0].MediaType) != sign.BundleMediaType ||
				m.Config.MediaType != "application/vnd.oci.empty.v1+json" || m.Subject == nil || m.Subject.Digest != desc.Digest {
				t.Errorf("referrer manifest is not cosign v3's bundle referrer:\n%s", got.Manifest)
			}
			// Never a legacy .sig tag.
			tags, err := remote.List(repo)
			if err != nil {
				t.Fatal(err)
			}
			for _, tag := range tags {
				if strings.HasSuffix(tag, ".sig") {
					t.Errorf("a legacy signature tag %s was written", tag)
				}
			}
			p, err := sign.GitHubPolicy(repoName, workflow, "main@sha1:"+sha)
			if err != nil {
				t.Fatal(err)
			}
			verdict, err := sign.Check(context.Background(), v, d, p)
			if err != nil || verdict.Outcome != sign.Signed {
				t.Fatalf("Check after signing = %+v, %v", verdict, err)
			}

			writes := len(srv.Writes())
			again, err := k.Sign(context.Background(), d)
			if err != nil {
				t.Fatal(err)
			}
			if again.Written || again.Referrer != res.Referrer {
				t.Errorf("re-run = %+v, want nothing written and %s found", again, res.Referrer)
			}
			if w := srv.Writes()[writes:]; len(w) != 0 {
				t.Errorf("re-run wrote %v", w)
			}
		})
	}
}

func proxyTo(host string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r2 := r.Clone(r.Context())
		r2.URL.Scheme, r2.URL.Host, r2.RequestURI = "http", host, ""
		resp, err := http.DefaultTransport.RoundTrip(r2)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		for k, vs := range resp.Header {
			w.Header()[k] = vs
		}
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
	})
}

// staleWriter is a registry where another writer of the fallback index raced us: it read the
// index before our update and writes it back (with only what it held) right after ours, as an
// unconditional read-modify-write does.
type staleWriter struct {
	inner http.Handler
	mu    sync.Mutex
	raced int
}

func (s *staleWriter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	isFallback := r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/manifests/sha256-")
	s.mu.Lock()
	race := isFallback && s.raced == 0
	if race {
		s.raced++
	}
	s.mu.Unlock()
	if !race {
		s.inner.ServeHTTP(w, r)
		return
	}
	before := httptest.NewRecorder()
	get := httptest.NewRequest(http.MethodGet, r.URL.Path, nil)
	get.Header.Set("Accept", "application/vnd.oci.image.index.v1+json")
	s.inner.ServeHTTP(before, get)
	s.inner.ServeHTTP(w, r)
	if before.Code == http.StatusOK {
		put := httptest.NewRequest(http.MethodPut, r.URL.Path, bytes.NewReader(before.Body.Bytes()))
		put.Header.Set("Content-Type", "application/vnd.oci.image.index.v1+json")
		s.inner.ServeHTTP(httptest.NewRecorder(), put)
	}
}

// A concurrent writer of the fallback index drops our entry: Sign sees it missing from the
// listing, writes it again, and the candidate ends up signed and listed next to the other
// writer's referrer. A re-run after the entry was lost for good writes it again (repair).
func TestKeylessSignRepairsDroppedEntry(t *testing.T) {
	t.Parallel()
	ss, err := signtest.New()
	if err != nil {
		t.Fatal(err)
	}
	race := &staleWriter{inner: registry.New(registry.Logger(log.New(io.Discard, "", 0)))}
	srv := ocitest.New(t, ocitest.Backend(race))
	repo := repository(t, srv.Host, "acme/manifests")
	desc := pushCandidate(t, repo, sha)
	d := repo.Digest(desc.Digest.String())
	// The other writer's referrer: an SBOM attached before us, so the index it writes back holds it.
	sbom, err := signtest.AttachArtifact(repo, desc, "application/spdx+json", "application/spdx+json", []byte(`{"spdxVersion":"SPDX-2.3"}`), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	race.mu.Lock()
	race.raced = 0 // the SBOM's own index write was the first fallback write: race ours
	race.mu.Unlock()

	k := sigstoreServices(t, ss, signtest.GitHub(repoName, workflow, sha))
	res, err := k.Sign(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Written || res.Attaches != 2 {
		t.Fatalf("sign = %+v, want written in 2 attaches (the first dropped by the concurrent writer)", res)
	}
	listed := map[string]bool{}
	for _, r := range referrersOf(t, d) {
		listed[r.Digest.String()] = true
	}
	if !listed[res.Referrer] || !listed[sbom.String()] {
		t.Errorf("fallback index lists %v, want our bundle %s and the SBOM %s", listed, res.Referrer, sbom)
	}

	// Lost for good (the index rewritten without it): a re-run writes it again.
	index, err := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": []any{}})
	if err != nil {
		t.Fatal(err)
	}
	fallback := repo.Tag(strings.Replace(desc.Digest.String(), ":", "-", 1))
	req, err := http.NewRequest(http.MethodPut, srv.URL+"/v2/"+repo.RepositoryStr()+"/manifests/"+fallback.TagStr(), bytes.NewReader(index))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/vnd.oci.image.index.v1+json")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("empty the fallback index: %v %v", resp, err)
	}
	repaired, err := k.Sign(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	if !repaired.Written || repaired.Attaches != 1 {
		t.Errorf("re-run after the signature was lost = %+v, want it written again", repaired)
	}
}

// A signature of another signer does not count: the build workflow signs anyway.
func TestKeylessSignIgnoresOtherSigners(t *testing.T) {
	t.Parallel()
	ss, err := signtest.New()
	if err != nil {
		t.Fatal(err)
	}
	_, repo := newRegistry(t, false)
	desc := pushCandidate(t, repo, sha)
	d := repo.Digest(desc.Digest.String())
	wip := signtest.GitHub(repoName, workflow, sha)
	wip.Ref = "refs/heads/wip"
	if _, err := sigstoreServices(t, ss, wip).Sign(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	res, err := sigstoreServices(t, ss, signtest.GitHub(repoName, workflow, sha)).Sign(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Written || res.Signer.Ref != "refs/heads/main" {
		t.Errorf("sign = %+v, want main's signature written next to the wip one", res)
	}
	if n := len(referrersOf(t, d)); n != 2 {
		t.Errorf("%d referrers, want 2", n)
	}
}
