// Package bundleverify verifies Sigstore bundles cryptographically with sigstore-go, for the
// verify-bundles binary (cmd/verify-bundles).
//
// It lives apart from package sign so that the step binaries do not link sigstore-go: its
// package initialisation and the 20 MB it adds cost every run of tag-validated, signed or not.
// They run verify-bundles (sign.Helper) only when a bundle is there to verify.
package bundleverify

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/tuf"
	"github.com/sigstore/sigstore-go/pkg/verify"

	"github.com/ocipromote/ocipromote/pkg/sign"
)

// ParseTrustedRoot reads a Sigstore trusted_root.json (the public-good one is the
// trusted_root.json target of Sigstore's TUF repository; `cosign trusted-root create` makes one
// for a private instance). sigstore-go embeds only the TUF root, not the trusted root, so an
// offline verifier needs this file.
func ParseTrustedRoot(trustedRootJSON []byte) (*root.TrustedRoot, error) {
	tr, err := root.NewTrustedRootFromJSON(trustedRootJSON)
	if err != nil {
		return nil, fmt.Errorf("trusted root: %w: give a Sigstore trusted_root.json (for the public-good instance: the trusted_root.json target of its TUF repository)", err)
	}
	return tr, nil
}

// LoadTrustedRoot reads and parses the trusted_root.json at path (ParseTrustedRoot).
func LoadTrustedRoot(path string) (*root.TrustedRoot, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("trusted root %s: %w: give a Sigstore trusted_root.json (for the public-good instance: the trusted_root.json target of its TUF repository)", path, err)
	}
	return ParseTrustedRoot(b)
}

// TrustedRoot loads the trusted_root.json at path or, for "", fetches the public-good
// instance's (FetchPublicGood).
func TrustedRoot(path string) (*root.TrustedRoot, error) {
	if path != "" {
		return LoadTrustedRoot(path)
	}
	return FetchPublicGood()
}

// FetchPublicGood fetches the public-good instance's trusted_root.json through Sigstore's TUF
// repository: sigstore-go embeds the TUF root that the fetched metadata must chain to, and caches
// what it fetched in ~/.sigstore/root. The error names input trusted_root, the way to verify
// offline or against another instance.
func FetchPublicGood() (*root.TrustedRoot, error) {
	tr, err := root.FetchTrustedRoot()
	if err != nil {
		return nil, fmt.Errorf("fetch the public-good Sigstore trusted root through Sigstore's TUF repository (%s): %w: offline, behind a proxy that blocks it, or for another Sigstore instance, give input trusted_root (the path of a Sigstore trusted_root.json)", tuf.DefaultMirror, err)
	}
	return tr, nil
}

// Verifier verifies bundles with sigstore-go against one trusted root. It is a
// sign.BundleVerifier working in this process.
type Verifier struct{ v *verify.Verifier }

var (
	_ sign.BundleVerifier   = (*Verifier)(nil)
	_ sign.SubjectsVerifier = (*Verifier)(nil)
)

// NewVerifier requires what Flux's keyless verification requires: a certificate chaining to the
// trusted root's Fulcio, an embedded SCT from one of its CT logs, and an entry in one of its
// transparency logs whose time falls in the certificate's validity.
func NewVerifier(trusted root.TrustedMaterial) (*Verifier, error) {
	v, err := verify.NewVerifier(trusted,
		verify.WithSignedCertificateTimestamps(1),
		verify.WithTransparencyLog(1),
		verify.WithObserverTimestamps(1))
	if err != nil {
		return nil, fmt.Errorf("sigstore verifier: %w", err)
	}
	return &Verifier{v: v}, nil
}

// Verify checks bundleJSON cryptographically for the manifest digest (sha256:<hex>) and returns
// its signer. The signed statement must name the digest (for a DSSE in-toto statement: one of
// its subjects). The identity is deliberately not checked here: sign.Decide compares it with the
// policy, so that a refusal can say who signed.
func (v *Verifier) Verify(digest string, bundleJSON []byte) (*sign.Signer, error) {
	var b bundle.Bundle
	if err := b.UnmarshalJSON(bundleJSON); err != nil {
		return nil, fmt.Errorf("not a valid Sigstore bundle: %w", err)
	}
	hash, err := v1.NewHash(digest)
	if err != nil || hash.Algorithm != "sha256" {
		return nil, fmt.Errorf("digest %s is not sha256", digest)
	}
	h, err := hex.DecodeString(hash.Hex)
	if err != nil {
		return nil, fmt.Errorf("digest %s: %w", digest, err)
	}
	res, err := v.v.Verify(&b, verify.NewPolicy(verify.WithArtifactDigest("sha256", h), verify.WithoutIdentitiesUnsafe()))
	if err != nil {
		return nil, err
	}
	if res.Signature == nil || res.Signature.Certificate == nil {
		return nil, errors.New("the bundle is signed with a key, not a Fulcio certificate: only keyless signatures name a workflow")
	}
	c := res.Signature.Certificate
	return &sign.Signer{
		Issuer:     c.Issuer,
		Identity:   c.SubjectAlternativeName,
		Repository: c.SourceRepositoryURI,
		Ref:        c.SourceRepositoryRef,
		Commit:     c.SourceRepositoryDigest,
	}, nil
}

// VerifyBundles verifies each bundle for digest: one result per bundle, in order.
func (v *Verifier) VerifyBundles(_ context.Context, digest string, bundles [][]byte) ([]sign.BundleResult, error) {
	out := make([]sign.BundleResult, len(bundles))
	for i, b := range bundles {
		s, err := v.Verify(digest, b)
		if err != nil {
			out[i].Problem = err.Error()
		}
		out[i].Signer = s
	}
	return out, nil
}

// VerifySubjects verifies the bundles of each subject: one result list per subject, in order.
func (v *Verifier) VerifySubjects(ctx context.Context, subjects []sign.Subject) ([][]sign.BundleResult, error) {
	out := make([][]sign.BundleResult, len(subjects))
	for i, s := range subjects {
		var err error
		if out[i], err = v.VerifyBundles(ctx, s.Digest, s.Bundles); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// maxRequest bounds what Serve reads: the trusted root (tens of KB) and the bundles,
// base64-encoded: at most sign.MaxReferrers of at most sign.MaxBundleSize each per digest, for a
// status report's many digests as much as cosign's 5 KB bundles take for thousands of them.
const maxRequest = 2*sign.MaxReferrers*sign.MaxBundleSize + 64<<20

// Serve answers one sign.BundlesRequest read from r with a sign.BundlesResponse written to w:
// the protocol of verify-bundles. A request without a trusted root is verified against the
// public-good one, fetched through TUF (FetchPublicGood). An error (an unreadable request, a
// trusted root that cannot be read or fetched) means no verdict at all.
func Serve(ctx context.Context, r io.Reader, w io.Writer) error {
	var req sign.BundlesRequest
	if err := json.NewDecoder(io.LimitReader(r, maxRequest)).Decode(&req); err != nil {
		return fmt.Errorf("read the request: %w", err)
	}
	var tr *root.TrustedRoot
	var err error
	if len(req.TrustedRoot) == 0 {
		tr, err = FetchPublicGood()
	} else {
		tr, err = ParseTrustedRoot(req.TrustedRoot)
	}
	if err != nil {
		return err
	}
	v, err := NewVerifier(tr)
	if err != nil {
		return err
	}
	var resp sign.BundlesResponse
	if req.Subjects != nil {
		resp.Subjects, err = v.VerifySubjects(ctx, req.Subjects)
	} else {
		resp.Results, err = v.VerifyBundles(ctx, req.Digest, req.Bundles)
	}
	if err != nil {
		return err
	}
	return json.NewEncoder(w).Encode(resp)
}
