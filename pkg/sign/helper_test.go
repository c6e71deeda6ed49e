package sign_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/ocipromote/ocipromote/pkg/oci/ocitest"
	"github.com/ocipromote/ocipromote/pkg/sign"
	"github.com/ocipromote/ocipromote/pkg/sign/signtest"
)

const (
	helperRepo   = "acme/platform"
	helperFlow   = ".github/workflows/build.yml"
	helperCommit = "0123456789abcdef0123456789abcdef01234567"
)

// The step binaries verify through verify-bundles: one process judges every bundle found, and
// its verdicts reach Decide in the referrers' order.
func TestHelper(t *testing.T) {
	t.Parallel()
	dir := signtest.VerifyBundlesDir(t)
	path, err := sign.FindHelper(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := path, filepath.Join(dir, sign.HelperName); got != want {
		t.Errorf("FindHelper = %s, want %s", got, want)
	}
	ss, err := signtest.New()
	if err != nil {
		t.Fatal(err)
	}
	other, err := signtest.New()
	if err != nil {
		t.Fatal(err)
	}
	rootJSON, err := ss.TrustedRootJSON()
	if err != nil {
		t.Fatal(err)
	}
	srv := ocitest.New(t, ocitest.Backend(registry.New(registry.Logger(log.New(io.Discard, "", 0)), registry.WithReferrersSupport(true))))
	repo, err := name.NewRepository(srv.Host + "/acme/manifests")
	if err != nil {
		t.Fatal(err)
	}
	img, err := random.Image(64, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(repo.Tag("1.0.0-rc.1"), img); err != nil {
		t.Fatal(err)
	}
	desc, err := remote.Head(repo.Tag("1.0.0-rc.1"))
	if err != nil {
		t.Fatal(err)
	}
	d := repo.Digest(desc.Digest.String())
	p, err := sign.GitHubPolicy(helperRepo, helperFlow, "main@sha1:"+helperCommit)
	if err != nil {
		t.Fatal(err)
	}
	h := &sign.Helper{Path: path, TrustedRoot: rootJSON}

	// No bundle yet: decided without running the helper at all (a broken helper is not run).
	unsigned, err := sign.Check(context.Background(), &sign.Helper{Path: filepath.Join(t.TempDir(), "absent")}, d, p)
	if err != nil || unsigned.Outcome != sign.Unsigned {
		t.Fatalf("Check without bundles = %+v, %v; want unsigned without running the helper", unsigned, err)
	}

	for _, s := range []*signtest.Sigstore{other, ss} {
		signed, err := s.Sign(signtest.GitHub(helperRepo, helperFlow, helperCommit), signtest.Statement(repo.Name(), desc.Digest))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := signtest.Attach(repo, v1.Descriptor{MediaType: desc.MediaType, Digest: desc.Digest, Size: desc.Size}, signed.Bundle); err != nil {
			t.Fatal(err)
		}
	}
	verdict, err := sign.Check(context.Background(), h, d, p)
	if err != nil {
		t.Fatal(err)
	}
	if verdict.Outcome != sign.Signed || verdict.Signer.Commit != helperCommit {
		t.Fatalf("verdict = %+v, want signed at %s", verdict, helperCommit)
	}
	var foreign, ours int
	for _, f := range verdict.Findings {
		switch {
		case f.Signer != nil:
			ours++
		case f.Problem != "":
			foreign++
		}
	}
	if foreign != 1 || ours != 1 {
		t.Errorf("findings = %+v, want one verified and one that does not verify, saying why", verdict.Findings)
	}

	t.Run("a trusted root verify-bundles cannot load", func(t *testing.T) {
		t.Parallel()
		bad := &sign.Helper{Path: path, TrustedRoot: []byte(`{"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1","tlogs":"not a list"}`)}
		_, err := sign.Check(context.Background(), bad, d, p)
		if err == nil || !strings.Contains(err.Error(), "give a Sigstore trusted_root.json") {
			t.Errorf("err = %v, want verify-bundles' message about the trusted root", err)
		}
	})
	t.Run("the step's context ends", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := h.VerifyBundles(ctx, d.DigestStr(), [][]byte{[]byte("{}")})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
	})
}

func TestFindHelperMissing(t *testing.T) {
	t.Parallel()
	_, err := sign.FindHelper(t.TempDir())
	if !errors.Is(err, sign.ErrNoHelper) || !strings.Contains(err.Error(), "go install github.com/ocipromote/ocipromote/cmd/verify-bundles") {
		t.Errorf("err = %v, want ErrNoHelper saying how to install it", err)
	}
}

// What running verify-bundles costs per check beside verifying in process (bundleverify's
// BenchmarkVerify): the process start of a binary that links sigstore-go, paid only by a check
// that found a bundle.
func BenchmarkHelper(b *testing.B) {
	dir := signtest.VerifyBundlesDir(b)
	ss, err := signtest.New()
	if err != nil {
		b.Fatal(err)
	}
	rootJSON, err := ss.TrustedRootJSON()
	if err != nil {
		b.Fatal(err)
	}
	repo, err := name.NewRepository("registry.example/acme/manifests")
	if err != nil {
		b.Fatal(err)
	}
	d, err := v1.NewHash("sha256:" + strings.Repeat("ab", 32))
	if err != nil {
		b.Fatal(err)
	}
	signed, err := ss.Sign(signtest.GitHub(helperRepo, helperFlow, helperCommit), signtest.Statement(repo.Name(), d))
	if err != nil {
		b.Fatal(err)
	}
	h := &sign.Helper{Path: filepath.Join(dir, sign.HelperName), TrustedRoot: rootJSON}
	for b.Loop() {
		res, err := h.VerifyBundles(context.Background(), d.String(), [][]byte{signed.Bundle})
		if err != nil || len(res) != 1 || res[0].Signer == nil {
			b.Fatalf("VerifyBundles = %+v, %v; want one verified signer", res, err)
		}
	}
}

// What ocipromote status --verify pays for 20 signed artifacts: one verify-bundles run for all
// of them (VerifySubjects), against 20 runs were it to check each as tag-validated does.
func BenchmarkHelperStatus20(b *testing.B) {
	dir := signtest.VerifyBundlesDir(b)
	ss, err := signtest.New()
	if err != nil {
		b.Fatal(err)
	}
	rootJSON, err := ss.TrustedRootJSON()
	if err != nil {
		b.Fatal(err)
	}
	repo, err := name.NewRepository("registry.example/acme/manifests")
	if err != nil {
		b.Fatal(err)
	}
	subjects := make([]sign.Subject, 20)
	for i := range subjects {
		d, err := v1.NewHash(fmt.Sprintf("sha256:%064x", i+1))
		if err != nil {
			b.Fatal(err)
		}
		signed, err := ss.Sign(signtest.GitHub(helperRepo, helperFlow, helperCommit), signtest.Statement(repo.Name(), d))
		if err != nil {
			b.Fatal(err)
		}
		subjects[i] = sign.Subject{Digest: d.String(), Bundles: [][]byte{signed.Bundle}}
	}
	h := &sign.Helper{Path: filepath.Join(dir, sign.HelperName), TrustedRoot: rootJSON}
	for b.Loop() {
		res, err := h.VerifySubjects(context.Background(), subjects)
		if err != nil || len(res) != len(subjects) {
			b.Fatalf("VerifySubjects = %d results, %v; want %d", len(res), err, len(subjects))
		}
		for i, r := range res {
			if len(r) != 1 || r[0].Signer == nil {
				b.Fatalf("subject %d: %+v, want one verified signer", i, r)
			}
		}
	}
}
