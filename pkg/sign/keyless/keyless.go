// Package keyless signs candidates as cosign sign v3 does (a Fulcio certificate for the OIDC
// identity token, a Rekor entry, a Sigstore bundle v0.3 attached as a referrer). It links
// sigstore-go, so only the sign-bundle binary imports it: the steps run that binary.
package keyless

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/ocipromote/ocipromote/pkg/sign"
	"github.com/ocipromote/ocipromote/pkg/sign/bundleverify"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	sgsign "github.com/sigstore/sigstore-go/pkg/sign"
)

// MaxAttach bounds how often Keyless writes its referrer: a registry without the referrers API
// keeps the sha256-<hex> fallback index, updated by an unconditional read-modify-write, so a
// concurrent writer that read the index before our write drops our entry when it writes.
const MaxAttach = 3

// inTotoPayloadType is the DSSE payload type of an in-toto statement.
const inTotoPayloadType = "application/vnd.in-toto+json"

// Statement is the in-toto statement cosign v3 signs for an image: its subject is the manifest
// digest (named by the repository), its predicate type https://sigstore.dev/cosign/sign/v1.
func Statement(repository string, digest v1.Hash) []byte {
	b, _ := json.Marshal(map[string]any{
		"_type":         "https://in-toto.io/Statement/v1",
		"subject":       []any{map[string]any{"name": repository, "digest": map[string]string{digest.Algorithm: digest.Hex}}},
		"predicateType": "https://sigstore.dev/cosign/sign/v1",
		"predicate":     map[string]any{},
	})
	return b
}

// Keyless signs manifests as cosign sign v3 does by default: a fresh key, certified by Fulcio
// for the OIDC identity token, signs a DSSE envelope holding Statement; the signature is logged
// in Rekor; the Sigstore bundle v0.3 is attached as a referrer of the manifest. No legacy
// sha256-<hex>.sig tag is ever written: Flux reads one, and a registry writer can copy it to
// another digest's tag (docs/signing.md).
type Keyless struct {
	FulcioURL, RekorURL string
	// Token is the OIDC identity token (audience sigstore).
	Token string
	// Trusted verifies the signatures already attached and the one written.
	Trusted root.TrustedMaterial
	// Transport carries Fulcio's requests (nil: the default).
	Transport http.RoundTripper
	// Timeout bounds each Fulcio and Rekor request (0: 30 s).
	Timeout time.Duration
	Log     *slog.Logger
}

// SignResult is what Sign did.
type SignResult struct {
	// Written is false when a valid signature of the token's signer was already attached.
	Written bool `json:"written"`
	// Referrer is the digest of the referrer manifest holding the signer's bundle.
	Referrer string       `json:"referrer"`
	Signer   *sign.Signer `json:"signer"`
	// Attaches counts the writes of the referrer (more than one when a concurrent writer of
	// the fallback index dropped it).
	Attaches int `json:"attaches"`
}

// Sign makes sure a valid bundle of the token's signer is attached to d and listed among its
// referrers. It writes nothing when one already is (the decision is Check's, with the signer
// the token's certificate would name), and after writing it lists the referrers again and
// verifies the new bundle as Check finds it, writing the referrer again (at most MaxAttach
// times in all) when the listing lacks it.
func (k *Keyless) Sign(ctx context.Context, d name.Digest, opts ...remote.Option) (SignResult, error) {
	log := k.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	claims, err := sign.ParseClaims(k.Token)
	if err != nil {
		return SignResult{}, err
	}
	policy, err := claims.Policy()
	if err != nil {
		return SignResult{}, err
	}
	ver, err := bundleverify.NewVerifier(k.Trusted)
	if err != nil {
		return SignResult{}, err
	}
	verdict, err := sign.Check(ctx, ver, d, policy, opts...)
	if err != nil {
		return SignResult{}, err
	}
	if ref := matching(policy, verdict); ref != "" {
		log.Info("already signed: nothing written", "digest", d.DigestStr(), "referrer", ref, "signer", verdict.Signer.Identity)
		return SignResult{Referrer: ref, Signer: verdict.Signer}, nil
	}
	opts = append(opts, remote.WithContext(ctx))
	subject, err := remote.Head(d, opts...)
	if err != nil {
		return SignResult{}, fmt.Errorf("read the manifest to sign, %s: %w", d, err)
	}
	bundleJSON, err := k.bundle(ctx, d.Context().Name(), subject.Digest)
	if err != nil {
		return SignResult{}, err
	}
	ref, err := newReferrer(d.Context(), v1.Descriptor{MediaType: subject.MediaType, Digest: subject.Digest, Size: subject.Size}, bundleJSON, time.Now())
	if err != nil {
		return SignResult{}, err
	}
	for attempt := 1; ; attempt++ {
		if err := ref.put(opts); err != nil {
			return SignResult{}, err
		}
		verdict, err := sign.Check(ctx, ver, d, policy, opts...)
		if err != nil {
			return SignResult{}, err
		}
		for _, f := range verdict.Findings {
			if f.Referrer != ref.digest.String() {
				continue
			}
			if f.Signer == nil || policy.Mismatch(*f.Signer) != "" {
				return SignResult{}, fmt.Errorf("the bundle written as referrer %s of %s does not verify as %s's: %s", ref.digest, d.DigestStr(), policy.Identity(), verdict.Reason)
			}
			log.Info("signed", "digest", d.DigestStr(), "referrer", ref.digest.String(), "signer", f.Signer.Identity, "attaches", attempt)
			return SignResult{Written: true, Referrer: ref.digest.String(), Signer: f.Signer, Attaches: attempt}, nil
		}
		if attempt == MaxAttach {
			return SignResult{}, fmt.Errorf("referrer %s of %s was written %d times and is still not listed (%d referrers listed, through the referrers API or the %s tag): concurrent writers keep replacing the fallback index; run again", ref.digest, d.DigestStr(), attempt, len(verdict.Findings), fallbackTag(subject.Digest))
		}
		log.Info("the signature is not listed among the referrers (a concurrent writer of the fallback index dropped it): attaching it again", "digest", d.DigestStr(), "referrer", ref.digest.String(), "attempt", attempt)
	}
}

// matching is the referrer of a bundle that verified and whose signer matches p, or "".
func matching(p sign.Policy, v sign.Verdict) string {
	if v.Outcome != sign.Signed {
		return ""
	}
	for _, f := range v.Findings {
		if f.Signer != nil && p.Mismatch(*f.Signer) == "" {
			return f.Referrer
		}
	}
	return ""
}

func fallbackTag(h v1.Hash) string { return strings.Replace(h.String(), ":", "-", 1) }

// bundle signs Statement(repository, digest) keylessly and returns the bundle v0.3 JSON,
// verified against the trusted root by sigstore-go before it is returned.
func (k *Keyless) bundle(ctx context.Context, repository string, digest v1.Hash) ([]byte, error) {
	kp, err := sgsign.NewEphemeralKeypair(nil)
	if err != nil {
		return nil, err
	}
	pb, err := sgsign.Bundle(&sgsign.DSSEData{Data: Statement(repository, digest), PayloadType: inTotoPayloadType}, kp, sgsign.BundleOptions{
		CertificateProvider:        sgsign.NewFulcio(&sgsign.FulcioOptions{BaseURL: strings.TrimSuffix(k.FulcioURL, "/"), Timeout: k.Timeout, Retries: 2, Transport: k.Transport}),
		CertificateProviderOptions: &sgsign.CertificateProviderOptions{IDToken: k.Token},
		TransparencyLogs:           []sgsign.Transparency{sgsign.NewRekor(&sgsign.RekorOptions{BaseURL: strings.TrimSuffix(k.RekorURL, "/"), Timeout: k.Timeout, Retries: 2})},
		Context:                    ctx,
		TrustedRoot:                k.Trusted,
	})
	if err != nil {
		return nil, fmt.Errorf("sign %s keyless (Fulcio %s, Rekor %s): %w", digest, k.FulcioURL, k.RekorURL, err)
	}
	b, err := bundle.NewBundle(pb)
	if err != nil {
		return nil, fmt.Errorf("the signed bundle is invalid: %w", err)
	}
	return b.MarshalJSON()
}

// referrer is a bundle's referrer manifest, made once so that writing it again writes the same
// digest.
type referrer struct {
	repo     name.Repository
	manifest []byte
	digest   v1.Hash
	blobs    []v1.Layer
}

// emptyJSON is the OCI empty descriptor's content, the config of an artifact manifest.
var emptyJSON = []byte("{}")

const emptyMediaType = "application/vnd.oci.empty.v1+json"

// newReferrer lays out the referrer manifest cosign v3 writes for a bundle (cosign
// specs/BUNDLE_SPEC.md): artifactType and its one layer's media type sign.BundleMediaType, the empty
// config, the subject, and the annotations dev.sigstore.bundle.content and
// dev.sigstore.bundle.predicateType.
func newReferrer(repo name.Repository, subject v1.Descriptor, bundleJSON []byte, created time.Time) (*referrer, error) {
	sum := sha256.Sum256(bundleJSON)
	layer := descriptor(bundleJSON, sign.BundleMediaType)
	layer["annotations"] = map[string]string{"org.opencontainers.image.title": "sha256-" + hex.EncodeToString(sum[:]) + ".sigstore.json"}
	m, err := json.Marshal(map[string]any{
		"schemaVersion": 2,
		"mediaType":     types.OCIManifestSchema1,
		"artifactType":  sign.BundleMediaType,
		"config":        descriptor(emptyJSON, emptyMediaType),
		"layers":        []any{layer},
		"subject":       map[string]any{"mediaType": subject.MediaType, "digest": subject.Digest.String(), "size": subject.Size},
		"annotations": map[string]string{
			"dev.sigstore.bundle.content":       "dsse-envelope",
			"dev.sigstore.bundle.predicateType": "https://sigstore.dev/cosign/sign/v1",
			"org.opencontainers.image.created":  created.UTC().Format(time.RFC3339),
		},
	})
	if err != nil {
		return nil, err
	}
	h, _, err := v1.SHA256(strings.NewReader(string(m)))
	if err != nil {
		return nil, err
	}
	return &referrer{repo: repo, manifest: m, digest: h, blobs: []v1.Layer{
		static.NewLayer(emptyJSON, emptyMediaType), static.NewLayer(bundleJSON, sign.BundleMediaType),
	}}, nil
}

func descriptor(b []byte, mediaType string) map[string]any {
	h := sha256.Sum256(b)
	return map[string]any{"mediaType": mediaType, "digest": "sha256:" + hex.EncodeToString(h[:]), "size": len(b)}
}

// put uploads the blobs and the manifest by digest. go-containerregistry then adds it to the
// subject's sha256-<hex> fallback index when the registry has no referrers API (reading the
// index, appending, writing it back), every time it is put.
func (r *referrer) put(opts []remote.Option) error {
	for _, b := range r.blobs {
		if err := remote.WriteLayer(r.repo, b, opts...); err != nil {
			return fmt.Errorf("upload the signature's blobs to %s: %w", r.repo, err)
		}
	}
	if err := remote.Put(r.repo.Digest(r.digest.String()), rawManifest(r.manifest), opts...); err != nil {
		return fmt.Errorf("attach the signature %s to %s: %w", r.digest, r.repo, err)
	}
	return nil
}

type rawManifest []byte

func (m rawManifest) RawManifest() ([]byte, error)        { return m, nil }
func (m rawManifest) MediaType() (types.MediaType, error) { return types.OCIManifestSchema1, nil }

// Attach writes bundleJSON as a referrer of subject, exactly as Keyless does, and returns the
// referrer manifest's digest: for tests that attach bundles made elsewhere.
func Attach(repo name.Repository, subject v1.Descriptor, bundleJSON []byte, opts ...remote.Option) (v1.Hash, error) {
	r, err := newReferrer(repo, subject, bundleJSON, time.Now())
	if err != nil {
		return v1.Hash{}, err
	}
	return r.digest, r.put(opts)
}
