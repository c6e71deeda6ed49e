package signtest

import (
	"io"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/ocipromote/ocipromote/pkg/oci/ocitest"
	"github.com/ocipromote/ocipromote/pkg/sign/bundleverify"
)

// The fixtures the signing and verifying tests share: a registry, a candidate in it, and a
// verifier of this Sigstore's signatures loaded from a trusted_root.json file.

// Registry is an in-memory registry (with or without the referrers API) behind an ocitest front,
// and a repository in it.
func Registry(t testing.TB, referrers bool) (*ocitest.Server, name.Repository) {
	t.Helper()
	srv := ocitest.New(t, ocitest.Backend(registry.New(registry.Logger(log.New(io.Discard, "", 0)), registry.WithReferrersSupport(referrers))))
	return srv, Repository(t, strings.TrimPrefix(srv.URL, "http://"), "acme/manifests")
}

// Repository parses addr/path, failing t on an error.
func Repository(t testing.TB, addr, path string) name.Repository {
	t.Helper()
	repo, err := name.NewRepository(addr + "/" + path)
	if err != nil {
		t.Fatal(err)
	}
	return repo
}

// PushCandidate pushes an artifact whose revision annotation names commit and returns its
// descriptor.
func PushCandidate(t testing.TB, repo name.Repository, commit string) v1.Descriptor {
	t.Helper()
	img, err := random.Image(256, 1)
	if err != nil {
		t.Fatal(err)
	}
	img = mutate.MediaType(img, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	img = mutate.Annotations(img, map[string]string{"org.opencontainers.image.revision": "main@sha1:" + commit}).(v1.Image)
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(repo.Tag("1.0.0-rc.1"), img); err != nil {
		t.Fatal(err)
	}
	raw, err := img.RawManifest()
	if err != nil {
		t.Fatal(err)
	}
	return v1.Descriptor{MediaType: types.OCIManifestSchema1, Digest: d, Size: int64(len(raw))}
}

// VerifierFromFile writes the trusted root to a file and loads it as a program verifying in process would.
func VerifierFromFile(t testing.TB, ss *Sigstore) *bundleverify.Verifier {
	t.Helper()
	tr, err := bundleverify.LoadTrustedRoot(TrustedRootFile(t, ss))
	if err != nil {
		t.Fatal(err)
	}
	v, err := bundleverify.NewVerifier(tr)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TrustedRootFile writes this Sigstore's trusted_root.json into a temporary directory of t and
// returns its path, as the steps take it in input trusted_root.
func TrustedRootFile(t testing.TB, ss *Sigstore) string {
	t.Helper()
	j, err := ss.TrustedRootJSON()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "trusted_root.json")
	if err := os.WriteFile(path, j, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// Serve serves ss's Fulcio and Rekor on loopback until the test ends and returns their URLs.
func Serve(t testing.TB, ss *Sigstore) (fulcioURL, rekorURL string) {
	t.Helper()
	fulcio := httptest.NewServer(ss.Fulcio())
	rekor := httptest.NewServer(ss.Rekor())
	t.Cleanup(fulcio.Close)
	t.Cleanup(rekor.Close)
	return fulcio.URL, rekor.URL
}
