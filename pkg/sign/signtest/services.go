package signtest

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/secure-systems-lab/go-securesystemslib/dsse"
	"github.com/sigstore/sigstore-go/pkg/tlog"

	"github.com/ocipromote/ocipromote/pkg/sign"
)

// The HTTP services below answer as the real ones do, for the requests sigstore-go's signer and
// the GitHub Actions runner's token client make; each checks what the real one checks before it
// issues anything, so a test that passes here sends what the real services accept.

// Audience is the audience Fulcio requires of an identity token.
const Audience = "sigstore"

// Token is a GitHub Actions OIDC identity token for id, as GitHub's token service issues it
// ("About security hardening with OpenID Connect", GitHub docs: the claims iss, sub, aud,
// repository, ref, sha, workflow_ref, job_workflow_ref, event_name, runner_environment), signed
// ES256 by this Sigstore's OIDC issuer, valid for ten minutes.
func (s *Sigstore) Token(id Identity, audience string) (string, error) {
	wfRepo := id.WorkflowRepository
	if wfRepo == "" {
		wfRepo = id.Repository
	}
	now := time.Now()
	workflowRef := wfRepo + "/" + id.Workflow + "@" + id.Ref
	claims := map[string]any{
		"iss": id.Issuer, "aud": audience,
		"sub": "repo:" + id.Repository + ":ref:" + id.Ref,
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(10 * time.Minute).Unix(),
		"repository": id.Repository, "repository_owner": strings.Split(id.Repository, "/")[0],
		"ref": id.Ref, "sha": id.Commit, "event_name": "push", "runner_environment": "github-hosted",
		"workflow_ref": workflowRef, "job_workflow_ref": workflowRef,
	}
	header, _ := json.Marshal(map[string]string{"alg": "ES256", "typ": "JWT"})
	body, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	signing := base64.RawURLEncoding.EncodeToString(header) + "." + base64.RawURLEncoding.EncodeToString(body)
	h := sha256.Sum256([]byte(signing))
	r, sv, err := ecdsa.Sign(rand.Reader, s.oidcKey, h[:])
	if err != nil {
		return "", err
	}
	// JWS ES256 signatures are R || S, each 32 bytes (RFC 7518 §3.4).
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	sv.FillBytes(sig[32:])
	return signing + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

// tokenClaims checks token's signature and expiry, as Fulcio does against the issuer's keys,
// and returns its claims.
func (s *Sigstore) tokenClaims(token string) (map[string]any, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, errors.New("not a JWT")
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || len(sig) != 64 {
		return nil, errors.New("bad JWT signature encoding")
	}
	h := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if !ecdsa.Verify(&s.oidcKey.PublicKey, h[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
		return nil, errors.New("JWT signature does not verify against the issuer's key")
	}
	body, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, err
	}
	var claims map[string]any
	if err := json.Unmarshal(body, &claims); err != nil {
		return nil, err
	}
	exp, _ := claims["exp"].(float64)
	if time.Now().Unix() > int64(exp) {
		return nil, errors.New("token expired")
	}
	return claims, nil
}

// TokenEndpoint is GitHub Actions' ID token endpoint for a job run as id: the runner gives a job
// with `id-token: write` its URL (ACTIONS_ID_TOKEN_REQUEST_URL) and a bearer token
// (ACTIONS_ID_TOKEN_REQUEST_TOKEN); GET URL&audience=AUD with "Authorization: bearer TOKEN"
// answers {"count": N, "value": "<JWT>"} (GitHub docs, "Configuring OpenID Connect in cloud
// providers": requesting the JWT with curl). job says which job asks, as the request token tells
// GitHub; requests counts the tokens issued.
func (s *Sigstore) TokenEndpoint(job func() (Identity, error), requestToken string, requests *int) http.Handler {
	var mu sync.Mutex
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		auth, ok := strings.CutPrefix(r.Header.Get("Authorization"), "bearer ")
		if !ok {
			auth, ok = strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		}
		if !ok || auth != requestToken {
			http.Error(w, `{"message":"Bad credentials"}`, http.StatusUnauthorized)
			return
		}
		id, err := job()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		aud := r.URL.Query().Get("audience")
		if aud == "" {
			aud = "https://github.com/" + strings.Split(id.Repository, "/")[0]
		}
		tok, err := s.Token(id, aud)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		if requests != nil {
			mu.Lock()
			*requests++
			mu.Unlock()
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"count": len(tok), "value": tok})
	})
}

// Fulcio is Fulcio's v2 HTTP API for certificates (fulcio's openapi, CA service
// CreateSigningCertificate): POST /api/v2/signingCert with "Authorization: Bearer <OIDC token>"
// and {"publicKeyRequest": {"publicKey": {"algorithm", "content": PEM}, "proofOfPossession":
// base64 signature of the token's sub claim}} answers {"signedCertificateEmbeddedSct": {"chain":
// {"certificates": [PEM leaf, PEM intermediate, PEM root]}}}. Like Fulcio it checks the token
// (signature, expiry, audience sigstore, issuer) and the proof of possession, then certifies the
// token's GitHub claims: SAN https://github.com/<job_workflow_ref>, repository, ref and sha in
// the extensions, with an embedded SCT.
func (s *Sigstore) Fulcio() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/api/v2/signingCert" {
			http.Error(w, `{"code":5,"message":"Not Found"}`, http.StatusNotFound)
			return
		}
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok {
			http.Error(w, `{"code":16,"message":"There was an error processing the identity token"}`, http.StatusUnauthorized)
			return
		}
		claims, err := s.tokenClaims(token)
		if err != nil || claims["aud"] != Audience || claims["iss"] != sign.GitHubIssuer {
			http.Error(w, fmt.Sprintf(`{"code":16,"message":"There was an error processing the identity token: %v"}`, orAudience(err, claims)), http.StatusUnauthorized)
			return
		}
		var req struct {
			PublicKeyRequest struct {
				PublicKey struct {
					Algorithm string `json:"algorithm"`
					Content   string `json:"content"`
				} `json:"publicKey"`
				ProofOfPossession []byte `json:"proofOfPossession"`
			} `json:"publicKeyRequest"`
		}
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req); err != nil {
			http.Error(w, `{"code":3,"message":"bad request"}`, http.StatusBadRequest)
			return
		}
		block, _ := pem.Decode([]byte(req.PublicKeyRequest.PublicKey.Content))
		if block == nil {
			http.Error(w, `{"code":3,"message":"The public key supplied in the request could not be parsed"}`, http.StatusBadRequest)
			return
		}
		pub, err := x509.ParsePKIXPublicKey(block.Bytes)
		ecPub, isEC := pub.(*ecdsa.PublicKey)
		if err != nil || !isEC {
			http.Error(w, `{"code":3,"message":"The public key supplied in the request could not be parsed"}`, http.StatusBadRequest)
			return
		}
		sub, _ := claims["sub"].(string)
		h := sha256.Sum256([]byte(sub))
		if !ecdsa.VerifyASN1(ecPub, h[:], req.PublicKeyRequest.ProofOfPossession) {
			http.Error(w, `{"code":3,"message":"The signature supplied in the request could not be verified"}`, http.StatusBadRequest)
			return
		}
		id, err := identityFromClaims(claims)
		if err != nil {
			http.Error(w, fmt.Sprintf(`{"code":3,"message":%q}`, err.Error()), http.StatusBadRequest)
			return
		}
		cert, err := s.certificate(id, ecPub, true)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		chain := []string{}
		for _, c := range []*x509.Certificate{cert, s.inter, s.root} {
			chain = append(chain, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})))
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"signedCertificateEmbeddedSct": map[string]any{"chain": map[string]any{"certificates": chain}}})
	})
}

func orAudience(err error, claims map[string]any) string {
	if err != nil {
		return err.Error()
	}
	return fmt.Sprintf("audience %v or issuer %v not accepted", claims["aud"], claims["iss"])
}

// identityFromClaims is the certificate Fulcio's GitHub principal makes of a token.
func identityFromClaims(c map[string]any) (Identity, error) {
	str := func(k string) string { v, _ := c[k].(string); return v }
	jwr := str("job_workflow_ref")
	repoAndPath, ref, ok := strings.Cut(jwr, "@")
	parts := strings.SplitN(repoAndPath, "/", 3)
	if !ok || len(parts) != 3 {
		return Identity{}, fmt.Errorf("job_workflow_ref %q is not OWNER/REPO/PATH@REF", jwr)
	}
	return Identity{
		Issuer: str("iss"), Repository: str("repository"), Workflow: parts[2],
		WorkflowRepository: parts[0] + "/" + parts[1], Ref: ref, Commit: str("sha"),
	}, nil
}

// rekorLog is what the Rekor service has logged, by entry UUID.
type rekorLog struct {
	mu      sync.Mutex
	entries map[string]json.RawMessage
}

// Rekor is Rekor's v1 HTTP API for writing entries (rekor's openapi.yaml, createLogEntry and
// getLogEntryByUUID): POST /api/v1/log/entries with a proposed dsse v0.0.1 entry ({"kind":
// "dsse", "apiVersion": "0.0.1", "spec": {"proposedContent": {"envelope": "<JSON>",
// "verifiers": [base64 PEM certificate]}}}) answers 201 Created, headers ETag: <uuid> and
// Location: /api/v1/log/entries/<uuid>, body {"<uuid>": {"body", "integratedTime", "logID",
// "logIndex", "verification": {"inclusionProof", "signedEntryTimestamp"}}}; the same entry again
// answers 409 Conflict with its Location, and GET of that Location answers the entry. Like Rekor
// it checks the envelope's signature against the certificate before it logs anything. The
// entries are VirtualSigstore's, so they verify against TrustedRoot.
func (s *Sigstore) Rekor() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		const prefix = "/api/v1/log/entries"
		switch {
		case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, prefix+"/"):
			uuid := strings.TrimPrefix(r.URL.Path, prefix+"/")
			s.rekorLog.mu.Lock()
			e, ok := s.rekorLog.entries[uuid]
			s.rekorLog.mu.Unlock()
			if !ok {
				rekorError(w, http.StatusNotFound, "entry not found")
				return
			}
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(map[string]json.RawMessage{uuid: e})
		case r.Method == http.MethodPost && r.URL.Path == prefix:
			s.rekorCreate(w, r)
		default:
			rekorError(w, http.StatusNotFound, "path "+r.URL.Path+" was not found")
		}
	})
}

func rekorError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]any{"code": code, "message": msg})
}

func (s *Sigstore) rekorCreate(w http.ResponseWriter, r *http.Request) {
	var pe struct {
		Kind       string `json:"kind"`
		APIVersion string `json:"apiVersion"`
		Spec       struct {
			ProposedContent struct {
				Envelope  string   `json:"envelope"`
				Verifiers [][]byte `json:"verifiers"`
			} `json:"proposedContent"`
		} `json:"spec"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&pe); err != nil || pe.Kind != "dsse" || pe.APIVersion != "0.0.1" {
		rekorError(w, http.StatusBadRequest, fmt.Sprintf("only dsse 0.0.1 entries are logged here (got %q %q, %v)", pe.Kind, pe.APIVersion, err))
		return
	}
	var env dsse.Envelope
	if err := json.Unmarshal([]byte(pe.Spec.ProposedContent.Envelope), &env); err != nil || len(env.Signatures) != 1 || len(pe.Spec.ProposedContent.Verifiers) != 1 {
		rekorError(w, http.StatusBadRequest, "the envelope must hold one signature, with one verifier")
		return
	}
	block, _ := pem.Decode(pe.Spec.ProposedContent.Verifiers[0])
	if block == nil {
		rekorError(w, http.StatusBadRequest, "verifier is not PEM")
		return
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		rekorError(w, http.StatusBadRequest, "verifier is not a certificate: "+err.Error())
		return
	}
	sig, err := base64.StdEncoding.DecodeString(env.Signatures[0].Sig)
	if err != nil {
		rekorError(w, http.StatusBadRequest, "signature is not base64")
		return
	}
	payload, err := base64.StdEncoding.DecodeString(env.Payload)
	if err != nil {
		rekorError(w, http.StatusBadRequest, "payload is not base64")
		return
	}
	pub, ok := cert.PublicKey.(*ecdsa.PublicKey)
	h := sha256.Sum256(dsse.PAE(env.PayloadType, payload))
	if !ok || !ecdsa.VerifyASN1(pub, h[:], sig) {
		rekorError(w, http.StatusBadRequest, "the envelope's signature does not verify against the verifier")
		return
	}
	entry, err := s.rekor.GenerateTlogEntry(cert, &env, sig, time.Now().Unix(), true)
	if err != nil {
		rekorError(w, http.StatusInternalServerError, err.Error())
		return
	}
	anon, uuid, err := s.logEntry(entry)
	if err != nil {
		rekorError(w, http.StatusInternalServerError, err.Error())
		return
	}
	location := "/api/v1/log/entries/" + uuid
	s.rekorLog.mu.Lock()
	if s.rekorLog.entries == nil {
		s.rekorLog.entries = map[string]json.RawMessage{}
	}
	_, dup := s.rekorLog.entries[uuid]
	if !dup {
		s.rekorLog.entries[uuid] = anon
	}
	s.rekorLog.mu.Unlock()
	w.Header().Set("Location", location)
	if dup {
		rekorError(w, http.StatusConflict, "an equivalent entry already exists in the transparency log with UUID "+uuid)
		return
	}
	w.Header().Set("ETag", uuid)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	json.NewEncoder(w).Encode(map[string]json.RawMessage{uuid: anon})
}

// logEntry renders entry as Rekor's LogEntryAnon, with a signed entry timestamp over it; the
// UUID is the entry's Merkle leaf hash, as Rekor's.
func (s *Sigstore) logEntry(entry *tlog.Entry) (json.RawMessage, string, error) {
	tle := entry.TransparencyLogEntry()
	body := base64.StdEncoding.EncodeToString(tle.CanonicalizedBody)
	logID := hex.EncodeToString(tle.LogId.KeyId)
	set, err := s.rekor.RekorSignPayload(tlog.RekorPayload{Body: body, IntegratedTime: tle.IntegratedTime, LogIndex: tle.LogIndex, LogID: logID})
	if err != nil {
		return nil, "", err
	}
	proof := tle.InclusionProof
	hashes := make([]string, len(proof.Hashes))
	for i, h := range proof.Hashes {
		hashes[i] = hex.EncodeToString(h)
	}
	leaf := sha256.Sum256(append([]byte{0}, tle.CanonicalizedBody...))
	anon, err := json.Marshal(map[string]any{
		"body": body, "integratedTime": tle.IntegratedTime, "logID": logID, "logIndex": tle.LogIndex,
		"verification": map[string]any{
			"signedEntryTimestamp": set,
			"inclusionProof": map[string]any{
				"checkpoint": proof.GetCheckpoint().GetEnvelope(), "hashes": hashes, "logIndex": proof.LogIndex,
				"rootHash": hex.EncodeToString(proof.RootHash), "treeSize": proof.TreeSize,
			},
		},
	})
	return anon, hex.EncodeToString(leaf[:]), err
}

// Job is the TokenEndpoint job of one fixed identity.
func Job(id Identity) func() (Identity, error) { return func() (Identity, error) { return id, nil } }
