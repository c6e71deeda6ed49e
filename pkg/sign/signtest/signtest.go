// Package signtest is an offline Sigstore for tests: a Fulcio that issues GitHub-Actions-shaped
// certificates with an embedded SCT, a CT log, and sigstore-go's VirtualSigstore as Rekor; it
// makes Sigstore bundles v0.3 and attaches them to manifests exactly as cosign v3 does.
//
// VirtualSigstore (sigstore-go pkg/testing/ca) alone issues e-mail certificates without an SCT,
// and its Fulcio key is unexported, so the certificate authority and CT log here are our own
// (built with its exported GenerateRootCa and GenerateFulcioIntermediate) and only the Rekor
// entries come from it. The shape of the certificates follows Fulcio's GitHub Actions
// certificates (docs/oid-info.md in sigstore/fulcio): URI SAN
// https://github.com/OWNER/REPO/.github/workflows/FILE@REF, issuer extensions 1.1 and 1.8, source
// repository URI, digest and ref (1.12–1.14), and the SCT list extension of RFC 6962 §3.3.
package signtest

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"net/url"
	"strings"
	"time"

	ct "github.com/google/certificate-transparency-go"
	cttls "github.com/google/certificate-transparency-go/tls"
	ctx509 "github.com/google/certificate-transparency-go/x509"
	"github.com/google/certificate-transparency-go/x509util"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/secure-systems-lab/go-securesystemslib/dsse"
	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protodsse "github.com/sigstore/protobuf-specs/gen/pb-go/dsse"
	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/testing/ca"
	"github.com/sigstore/sigstore-go/pkg/tlog"
	"github.com/sigstore/sigstore/pkg/signature"
	sigdsse "github.com/sigstore/sigstore/pkg/signature/dsse"

	"github.com/ocipromote/ocipromote/pkg/sign"
	"github.com/ocipromote/ocipromote/pkg/sign/keyless"
)

// Sigstore is an in-process Fulcio, CT log and Rekor.
type Sigstore struct {
	rekor     *ca.VirtualSigstore
	root      *x509.Certificate
	inter     *x509.Certificate
	interKey  *ecdsa.PrivateKey
	ctKey     *ecdsa.PrivateKey
	oidcKey   *ecdsa.PrivateKey
	notBefore time.Time
	rekorLog  rekorLog
}

// New starts an offline Sigstore.
func New() (*Sigstore, error) {
	vs, err := ca.NewVirtualSigstore()
	if err != nil {
		return nil, err
	}
	rootCert, rootKey, err := ca.GenerateRootCa()
	if err != nil {
		return nil, err
	}
	inter, interKey, err := ca.GenerateFulcioIntermediate(rootCert, rootKey)
	if err != nil {
		return nil, err
	}
	ctKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	oidcKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	return &Sigstore{rekor: vs, root: rootCert, inter: inter, interKey: interKey, ctKey: ctKey, oidcKey: oidcKey, notBefore: time.Now().Add(-time.Hour)}, nil
}

func keyID(pub crypto.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	h := sha256.Sum256(der)
	return h[:], nil
}

// TrustedRoot is this Sigstore's trusted root: its Fulcio, CT log and Rekor.
func (s *Sigstore) TrustedRoot() (*root.TrustedRoot, error) {
	end := time.Now().Add(24 * time.Hour)
	ctID, err := keyID(s.ctKey.Public())
	if err != nil {
		return nil, err
	}
	ctlogs := map[string]*root.TransparencyLog{hex.EncodeToString(ctID): {
		BaseURL: "https://ctfe.signtest.invalid", ID: ctID, ValidityPeriodStart: s.notBefore, ValidityPeriodEnd: end,
		HashFunc: crypto.SHA256, PublicKey: s.ctKey.Public(), SignatureHashFunc: crypto.SHA256,
	}}
	rekor := map[string]*root.TransparencyLog{}
	for id, l := range s.rekor.RekorLogs() {
		// VirtualSigstore gives the hex string as the ID; a trusted_root.json holds the raw key ID.
		raw, err := hex.DecodeString(id)
		if err != nil {
			return nil, err
		}
		l.ID, l.ValidityPeriodStart, l.ValidityPeriodEnd = raw, s.notBefore, end
		rekor[id] = l
	}
	fulcio := &root.FulcioCertificateAuthority{
		Root: s.root, Intermediates: []*x509.Certificate{s.inter}, URI: "https://fulcio.signtest.invalid",
		ValidityPeriodStart: s.notBefore, ValidityPeriodEnd: end,
	}
	return root.NewTrustedRoot(root.TrustedRootMediaType01, []root.CertificateAuthority{fulcio}, ctlogs, nil, rekor)
}

// TrustedRootJSON is TrustedRoot as a trusted_root.json file holds it.
func (s *Sigstore) TrustedRootJSON() ([]byte, error) {
	tr, err := s.TrustedRoot()
	if err != nil {
		return nil, err
	}
	return tr.MarshalJSON()
}

// Identity is a GitHub Actions workflow run, as Fulcio puts it in a certificate.
type Identity struct {
	Issuer     string // OIDC issuer
	Repository string // OWNER/REPO the workflow ran in (source repository)
	Workflow   string // workflow path in WorkflowRepository, e.g. .github/workflows/build.yml
	// WorkflowRepository is the repository holding the workflow file (the SAN's); it differs from
	// Repository for a reusable workflow called from another repository. Empty means Repository.
	WorkflowRepository string
	Ref                string // refs/heads/main
	Commit             string // 40 hex
}

// GitHub is the build workflow of repository on refs/heads/main at commit.
func GitHub(repository, workflow, commit string) Identity {
	return Identity{Issuer: sign.GitHubIssuer, Repository: repository, Workflow: workflow, Ref: "refs/heads/main", Commit: commit}
}

func utf8Ext(oid asn1.ObjectIdentifier, v string) (pkix.Extension, error) {
	b, err := asn1.MarshalWithParams(v, "utf8")
	return pkix.Extension{Id: oid, Value: b}, err
}

// certificate issues a GitHub-shaped leaf certificate for key with an embedded SCT.
func (s *Sigstore) certificate(id Identity, pub crypto.PublicKey, withSCT bool) (*x509.Certificate, error) {
	wfRepo := id.WorkflowRepository
	if wfRepo == "" {
		wfRepo = id.Repository
	}
	san, err := url.Parse("https://github.com/" + wfRepo + "/" + id.Workflow + "@" + id.Ref)
	if err != nil {
		return nil, err
	}
	oid := func(n int) asn1.ObjectIdentifier { return asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, n} }
	// Extension 1.1 (deprecated) holds the raw issuer; the later ones are DER UTF8Strings.
	exts := []pkix.Extension{{Id: oid(1), Value: []byte(id.Issuer)}}
	for _, e := range []struct {
		n int
		v string
	}{
		{8, id.Issuer},
		{9, san.String()},
		{11, "github-hosted"},
		{12, "https://github.com/" + id.Repository},
		{13, id.Commit},
		{14, id.Ref},
		{20, "push"},
	} {
		ext, err := utf8Ext(oid(e.n), e.v)
		if err != nil {
			return nil, err
		}
		exts = append(exts, ext)
	}
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:    serial,
		URIs:            []*url.URL{san},
		NotBefore:       now.Add(-time.Minute),
		NotAfter:        now.Add(10 * time.Minute),
		KeyUsage:        x509.KeyUsageDigitalSignature,
		ExtKeyUsage:     []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
		ExtraExtensions: exts,
	}
	pre, err := issue(tmpl, s.inter, pub, s.interKey)
	if err != nil || !withSCT {
		return pre, err
	}
	sct, err := s.signSCT(pre, uint64(now.UnixMilli()))
	if err != nil {
		return nil, err
	}
	tmpl.ExtraExtensions = append(tmpl.ExtraExtensions, sct)
	return issue(tmpl, s.inter, pub, s.interKey)
}

func issue(tmpl, parent *x509.Certificate, pub crypto.PublicKey, key crypto.Signer) (*x509.Certificate, error) {
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, key)
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}

// signSCT signs, as the CT log, the precertificate entry of pre (RFC 6962 §3.2: the TBS without
// the SCT list, and the issuer's key hash) and returns the SCT list extension to embed.
func (s *Sigstore) signSCT(pre *x509.Certificate, timestamp uint64) (pkix.Extension, error) {
	// pre has no SCT list yet, so its TBS is what the verifier gets back by removing the list.
	leaf := &ct.MerkleTreeLeaf{
		Version:  ct.V1,
		LeafType: ct.TimestampedEntryLeafType,
		TimestampedEntry: &ct.TimestampedEntry{
			EntryType: ct.PrecertLogEntryType,
			Timestamp: timestamp,
			PrecertEntry: &ct.PreCert{
				IssuerKeyHash:  sha256.Sum256(s.inter.RawSubjectPublicKeyInfo),
				TBSCertificate: pre.RawTBSCertificate,
			},
		},
	}
	id, err := keyID(s.ctKey.Public())
	if err != nil {
		return pkix.Extension{}, err
	}
	sct := ct.SignedCertificateTimestamp{SCTVersion: ct.V1, Timestamp: timestamp}
	copy(sct.LogID.KeyID[:], id)
	input, err := ct.SerializeSCTSignatureInput(sct, ct.LogEntry{Leaf: *leaf})
	if err != nil {
		return pkix.Extension{}, err
	}
	h := sha256.Sum256(input)
	sig, err := ecdsa.SignASN1(rand.Reader, s.ctKey, h[:])
	if err != nil {
		return pkix.Extension{}, err
	}
	sct.Signature = ct.DigitallySigned{Algorithm: cttls.SignatureAndHashAlgorithm{Hash: cttls.SHA256, Signature: cttls.ECDSA}, Signature: sig}
	list, err := x509util.MarshalSCTsIntoSCTList([]*ct.SignedCertificateTimestamp{&sct})
	if err != nil {
		return pkix.Extension{}, err
	}
	raw, err := cttls.Marshal(*list)
	if err != nil {
		return pkix.Extension{}, err
	}
	value, err := asn1.Marshal(raw)
	if err != nil {
		return pkix.Extension{}, err
	}
	return pkix.Extension{Id: asn1.ObjectIdentifier(ctx509.OIDExtensionCTSCT), Value: value}, nil
}

// Statement is the in-toto statement cosign v3 signs for an image (keyless.Statement).
func Statement(repository string, digest v1.Hash) []byte {
	return keyless.Statement(repository, digest)
}

// Signed is a bundle and the pieces a forger could reuse.
type Signed struct {
	Bundle      []byte // Sigstore bundle v0.3 JSON
	Payload     []byte // the DSSE payload (the in-toto statement)
	Signature   []byte // the DSSE signature
	Certificate *x509.Certificate
}

// Option changes what Sign makes, to build bundles that Flux and sigstore-go must refuse.
type Option func(*options)

type options struct{ noSCT, noTlog bool }

// WithoutSCT issues the certificate without its embedded SCT (Flux requires one).
func WithoutSCT() Option { return func(o *options) { o.noSCT = true } }

// WithoutTlog leaves the transparency-log entry out of the bundle (Flux requires one).
func WithoutTlog() Option { return func(o *options) { o.noTlog = true } }

// Sign makes a bundle v0.3: a DSSE envelope over statement, signed by a fresh key certified for
// id, with a Rekor dsse entry, its inclusion proof and its signed entry timestamp.
func (s *Sigstore) Sign(id Identity, statement []byte, opts ...Option) (*Signed, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	cert, err := s.certificate(id, &key.PublicKey, !o.noSCT)
	if err != nil {
		return nil, err
	}
	signer, err := signature.LoadECDSASignerVerifier(key, crypto.SHA256)
	if err != nil {
		return nil, err
	}
	env, err := dsse.NewEnvelopeSigner(&sigdsse.SignerAdapter{SignatureSigner: signer, Pub: &key.PublicKey})
	if err != nil {
		return nil, err
	}
	const payloadType = "application/vnd.in-toto+json"
	e, err := env.SignPayload(context.Background(), payloadType, statement)
	if err != nil {
		return nil, err
	}
	sig, err := base64.StdEncoding.DecodeString(e.Signatures[0].Sig)
	if err != nil {
		return nil, err
	}
	entry, err := s.rekor.GenerateTlogEntry(cert, e, sig, time.Now().Unix(), true)
	if err != nil {
		return nil, err
	}
	// tlog.NewEntry leaves the kind out of its protobuf form; a bundle names it.
	tle := entry.TransparencyLogEntry()
	tle.KindVersion = &protorekor.KindVersion{Kind: "dsse", Version: "0.0.1"}
	// Its signed entry timestamp (the inclusion promise) is what makes the integrated time a
	// verified observer timestamp for a Rekor v1 entry.
	set, err := s.rekor.RekorSignPayload(tlog.RekorPayload{
		Body:           base64.StdEncoding.EncodeToString(tle.CanonicalizedBody),
		IntegratedTime: tle.IntegratedTime,
		LogIndex:       tle.LogIndex,
		LogID:          hex.EncodeToString(tle.LogId.KeyId),
	})
	if err != nil {
		return nil, err
	}
	tle.InclusionPromise = &protorekor.InclusionPromise{SignedEntryTimestamp: set}
	pb := &protobundle.Bundle{
		MediaType: sign.BundleMediaType,
		VerificationMaterial: &protobundle.VerificationMaterial{
			Content:     &protobundle.VerificationMaterial_Certificate{Certificate: &protocommon.X509Certificate{RawBytes: cert.Raw}},
			TlogEntries: []*protorekor.TransparencyLogEntry{tle},
		},
		Content: &protobundle.Bundle_DsseEnvelope{DsseEnvelope: &protodsse.Envelope{
			Payload: statement, PayloadType: payloadType, Signatures: []*protodsse.Signature{{Sig: sig}},
		}},
	}
	if o.noTlog {
		pb.VerificationMaterial.TlogEntries = nil
	}
	b, err := bundle.NewBundle(pb)
	if err != nil {
		return nil, fmt.Errorf("signtest made an invalid bundle: %w", err)
	}
	j, err := b.MarshalJSON()
	if err != nil {
		return nil, err
	}
	return &Signed{Bundle: j, Payload: statement, Signature: sig, Certificate: cert}, nil
}

// emptyConfig is the OCI empty descriptor's content, the config of every artifact manifest here.
var emptyConfig = []byte("{}")

const emptyMediaType = "application/vnd.oci.empty.v1+json"

// Attach attaches bundleJSON to subject as cosign v3 and sign.Keyless do (keyless.Attach): a
// referrer manifest with artifactType and layer media type
// application/vnd.dev.sigstore.bundle.v0.3+json, listed in the sha256-<hex> fallback index when
// the registry has no referrers API. It returns the referrer manifest's digest.
func Attach(repo name.Repository, subject v1.Descriptor, bundleJSON []byte, opts ...remote.Option) (v1.Hash, error) {
	return keyless.Attach(repo, subject, bundleJSON, opts...)
}

// AttachArtifact attaches any one-layer artifact (an SBOM, an attestation) to subject the same
// way, with the layer and manifest annotations given.
func AttachArtifact(repo name.Repository, subject v1.Descriptor, artifactType, layerMediaType string, content []byte, layerAnnotations, annotations map[string]string, opts ...remote.Option) (v1.Hash, error) {
	layer := descriptorOf(content, layerMediaType)
	if layerAnnotations != nil {
		layer["annotations"] = layerAnnotations
	}
	m := map[string]any{
		"schemaVersion": 2,
		"mediaType":     types.OCIManifestSchema1,
		"artifactType":  artifactType,
		"config":        descriptorOf(emptyConfig, emptyMediaType),
		"layers":        []any{layer},
		"subject":       map[string]any{"mediaType": subject.MediaType, "digest": subject.Digest.String(), "size": subject.Size},
		"annotations":   annotations,
	}
	return putArtifact(repo, nil, m, [][]byte{emptyConfig, content}, []string{emptyMediaType, layerMediaType}, opts)
}

// AttachLegacySignature writes a legacy cosign signature under the tag sha256-<hex>.sig of
// target: a simple-signing layer payload with the signature and certificate in its annotations
// (cosign's pre-bundle format, which Flux still reads). Forgery tests use it to copy a
// signature made for another digest.
func AttachLegacySignature(repo name.Repository, target v1.Hash, payload, sig []byte, cert *x509.Certificate, opts ...remote.Option) error {
	const simpleSigning = "application/vnd.dev.cosign.simplesigning.v1+json"
	certPEM := "-----BEGIN CERTIFICATE-----\n" + base64.StdEncoding.EncodeToString(cert.Raw) + "\n-----END CERTIFICATE-----\n"
	pd := descriptorOf(payload, simpleSigning)
	pd["annotations"] = map[string]string{
		"dev.cosignproject.cosign/signature": base64.StdEncoding.EncodeToString(sig),
		"dev.sigstore.cosign/certificate":    certPEM,
	}
	m := map[string]any{
		"schemaVersion": 2,
		"mediaType":     types.OCIManifestSchema1,
		"config":        descriptorOf(emptyConfig, emptyMediaType),
		"layers":        []any{pd},
	}
	tag := repo.Tag(strings.Replace(target.String(), ":", "-", 1) + ".sig")
	_, err := putArtifact(repo, &tag, m, [][]byte{emptyConfig, payload}, []string{emptyMediaType, simpleSigning}, opts)
	return err
}

func descriptorOf(b []byte, mediaType string) map[string]any {
	h := sha256.Sum256(b)
	return map[string]any{"mediaType": mediaType, "digest": "sha256:" + hex.EncodeToString(h[:]), "size": len(b)}
}

func putArtifact(repo name.Repository, tag *name.Tag, manifest map[string]any, blobs [][]byte, mediaTypes []string, opts []remote.Option) (v1.Hash, error) {
	for i, b := range blobs {
		if err := remote.WriteLayer(repo, static.NewLayer(b, types.MediaType(mediaTypes[i])), opts...); err != nil {
			return v1.Hash{}, fmt.Errorf("upload blob: %w", err)
		}
	}
	raw, err := json.Marshal(manifest)
	if err != nil {
		return v1.Hash{}, err
	}
	h, _, err := v1.SHA256(strings.NewReader(string(raw)))
	if err != nil {
		return v1.Hash{}, err
	}
	var r name.Reference = repo.Digest(h.String())
	if tag != nil {
		r = *tag
	}
	if err := remote.Put(r, rawManifest{raw: raw, mediaType: types.OCIManifestSchema1}, opts...); err != nil {
		return v1.Hash{}, fmt.Errorf("put manifest %s: %w", r, err)
	}
	return h, nil
}

type rawManifest struct {
	raw       []byte
	mediaType types.MediaType
}

func (m rawManifest) RawManifest() ([]byte, error)        { return m.raw, nil }
func (m rawManifest) MediaType() (types.MediaType, error) { return m.mediaType, nil }
