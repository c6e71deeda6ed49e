package sign

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/verify"

	"github.com/ocipromote/ocipromote/pkg/artifact"
	"github.com/ocipromote/ocipromote/pkg/oci"
)

// LoadTrustedRoot reads a Sigstore trusted_root.json (the public-good one is the
// trusted_root.json target of Sigstore's TUF repository; `cosign trusted-root create` makes one
// for a private instance). sigstore-go embeds only the TUF root, not the trusted root, so an
// offline verifier needs this file.
func LoadTrustedRoot(path string) (*root.TrustedRoot, error) {
	tr, err := root.NewTrustedRootFromPath(path)
	if err != nil {
		return nil, fmt.Errorf("trusted root %s: %w: give a Sigstore trusted_root.json (for the public-good instance: the trusted_root.json target of its TUF repository)", path, err)
	}
	return tr, nil
}

// Verifier verifies bundles with sigstore-go against one trusted root.
type Verifier struct{ v *verify.Verifier }

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

// Verify checks bundleJSON cryptographically for the manifest digest d and returns its signer.
// The signed statement must name d (for a DSSE in-toto statement: one of its subjects). The
// identity is deliberately not checked here: Decide compares it with the policy, so that a
// refusal can say who signed.
func (v *Verifier) Verify(d name.Digest, bundleJSON []byte) (*Signer, error) {
	var b bundle.Bundle
	if err := b.UnmarshalJSON(bundleJSON); err != nil {
		return nil, fmt.Errorf("not a valid Sigstore bundle: %w", err)
	}
	hash, err := v1.NewHash(d.DigestStr())
	if err != nil || hash.Algorithm != "sha256" {
		return nil, fmt.Errorf("digest %s is not sha256", d.DigestStr())
	}
	h, err := hex.DecodeString(hash.Hex)
	if err != nil {
		return nil, fmt.Errorf("digest %s: %w", d.DigestStr(), err)
	}
	res, err := v.v.Verify(&b, verify.NewPolicy(verify.WithArtifactDigest("sha256", h), verify.WithoutIdentitiesUnsafe()))
	if err != nil {
		return nil, err
	}
	if res.Signature == nil || res.Signature.Certificate == nil {
		return nil, errors.New("the bundle is signed with a key, not a Fulcio certificate: only keyless signatures name a workflow")
	}
	c := res.Signature.Certificate
	return &Signer{
		Issuer:     c.Issuer,
		Identity:   c.SubjectAlternativeName,
		Repository: c.SourceRepositoryURI,
		Ref:        c.SourceRepositoryRef,
		Commit:     c.SourceRepositoryDigest,
	}, nil
}

// Check finds every referrer of d, verifies each bundle, and decides against p. An error means
// the referrers could not be listed: the caller refuses, and nothing was decided.
func Check(ctx context.Context, v *Verifier, d name.Digest, p Policy, opts ...remote.Option) (Verdict, error) {
	refs, err := Find(ctx, d, opts...)
	if err != nil {
		return Verdict{}, err
	}
	return Decide(p, v.findings(d, refs)), nil
}

func (v *Verifier) findings(d name.Digest, refs []Referrer) []Finding {
	out := make([]Finding, 0, len(refs))
	for _, r := range refs {
		f := Finding{Referrer: r.Descriptor.Digest.String(), ArtifactType: r.Descriptor.ArtifactType, Problem: r.Problem}
		switch {
		case r.Bundle != nil:
			f.Bundle = true
			s, err := v.Verify(d, r.Bundle)
			if err != nil {
				f.Problem = err.Error()
			}
			f.Signer = s
		case r.Problem != "":
			// Unreadable: it may have held a bundle, so it counts as one that does not verify
			// rather than letting a broken referrer turn "untrusted" into "unsigned".
			f.Bundle = true
		}
		out = append(out, f)
	}
	return out
}

// Candidates checks, before a promotion writes, that the candidate with this digest (and these
// manifest annotations) is signed by workflow on main of repository at the commit of its revision
// annotation: a *RefusedError says what was found instead. trustedRoot is a trusted_root.json.
func Candidates(trustedRoot, repository, workflow string, reg *oci.Repository, log *slog.Logger) (func(ctx context.Context, digest string, annotations map[string]string) error, error) {
	tr, err := LoadTrustedRoot(trustedRoot)
	if err != nil {
		return nil, err
	}
	ver, err := NewVerifier(tr)
	if err != nil {
		return nil, err
	}
	repo, opts := reg.Remote()
	return func(ctx context.Context, digest string, annotations map[string]string) error {
		p, err := GitHubPolicy(repository, workflow, annotations[artifact.AnnotationRevision])
		if err != nil {
			return err
		}
		verdict, err := Check(ctx, ver, repo.Digest(digest), p, opts...)
		if err != nil {
			return err
		}
		if verdict.Outcome != Signed {
			return &RefusedError{Digest: digest, Verdict: verdict}
		}
		log.Info("signature verified", "digest", digest, "signer", verdict.Signer.Identity, "commit", verdict.Signer.Commit)
		return nil
	}, nil
}
