package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/ocipromote/ocipromote/pkg/sign/signtest"
)

// The pipeline with signatures on the real registry (no referrers API: the fallback tag), with
// the built binaries: build-rc --sign runs sign-bundle (found next to it) against the offline
// Fulcio and Rekor, tag-validated --verify promotes the signed candidate, and refuses one pushed
// without a signature, writing nothing. A re-run of build-rc finds the signature and adds none.
func TestSignedCandidateIsPromotedUnsignedIsRefused(t *testing.T) {
	t.Parallel()
	repo := newRepo(t)
	ss, err := signtest.New()
	if err != nil {
		t.Fatal(err)
	}
	fulcioURL, rekorURL := signtest.Serve(t, ss)
	dir := t.TempDir()
	trusted := signtest.TrustedRootFile(t, ss)
	signed := commit(t, "signed")
	tok, err := ss.Token(signtest.GitHub("acme/platform", ".github/workflows/build-rc.yaml", signed), signtest.Audience)
	if err != nil {
		t.Fatal(err)
	}
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte(tok), 0o600); err != nil {
		t.Fatal(err)
	}
	signFlags := []string{"--sign", "--fulcio-url", fulcioURL, "--rekor-url", rekorURL, "--trusted-root", trusted, "--identity-token-file", tokenFile}
	verifyFlags := []string{"--verify", "--trusted-root", trusted, "--signer-repository", "acme/platform", "--signer-workflow", "build-rc.yaml"}

	a := buildRC(t, repo, manifestsDir(t, "signed"), signed, signFlags...)
	if a["signed"] != "true" {
		t.Fatalf("build-rc --sign: signed = %q", a["signed"])
	}
	r, err := name.NewRepository(repo)
	if err != nil {
		t.Fatal(err)
	}
	referrers := func() int {
		idx, err := remote.Referrers(r.Digest(a["digest"]))
		if err != nil {
			t.Fatal(err)
		}
		im, err := idx.IndexManifest()
		if err != nil {
			t.Fatal(err)
		}
		return len(im.Manifests)
	}
	if n := referrers(); n != 1 {
		t.Fatalf("%d referrers after signing, want 1", n)
	}
	again := buildRC(t, repo, manifestsDir(t, "signed"), signed, signFlags...)
	if again["signed"] != "true" || again["pushed"] != "false" || referrers() != 1 {
		t.Errorf("re-run = %v with %d referrers, want signed, nothing pushed and still 1 referrer", again, referrers())
	}

	p := tagValidated(t, repo, append([]string{"--revision", a["version"] + "@" + a["digest"]}, verifyFlags...)...)
	if p["promoted"] != "true" || p["version"] != "0.0.1" {
		t.Errorf("tag-validated --verify of the signed candidate = %v", p)
	}

	unsigned := commit(t, "unsigned")
	b := buildRC(t, repo, manifestsDir(t, "unsigned"), unsigned)
	if b["signed"] != "false" {
		t.Errorf("build-rc without --sign: signed = %q", b["signed"])
	}
	before := listTags(t, repo)
	res := run(t, nil, "tag-validated", append([]string{"--repository", repo, "--revision", b["version"] + "@" + b["digest"], "--json"}, verifyFlags...)...)
	if res.code != 1 || !strings.Contains(res.stderr, "unsigned") {
		t.Errorf("tag-validated --verify of an unsigned candidate:\n%s", res)
	}
	if after := listTags(t, repo); strings.Join(after, ",") != strings.Join(before, ",") {
		t.Errorf("refused, yet tags changed: %v -> %v", before, after)
	}
}
