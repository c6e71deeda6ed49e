package bundleverify_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/ocipromote/ocipromote/pkg/oci/ocitest"
	"github.com/ocipromote/ocipromote/pkg/sign"
	"github.com/ocipromote/ocipromote/pkg/sign/bundleverify"
	"github.com/ocipromote/ocipromote/pkg/sign/signtest"
	"github.com/ocipromote/ocipromote/test/registrytest"
)

const (
	repoName = "acme/platform"
	workflow = ".github/workflows/build.yml"
	sha      = "0123456789abcdef0123456789abcdef01234567"
	otherSha = "fedcba9876543210fedcba9876543210fedcba98"
)

func newRegistry(t testing.TB, referrers bool) (*ocitest.Server, name.Repository) {
	return signtest.Registry(t, referrers)
}

func repository(t testing.TB, addr, path string) name.Repository {
	return signtest.Repository(t, addr, path)
}

func pushCandidate(t testing.TB, repo name.Repository, commit string) v1.Descriptor {
	return signtest.PushCandidate(t, repo, commit)
}

func verifierFromFile(t testing.TB, ss *signtest.Sigstore) *bundleverify.Verifier {
	return signtest.VerifierFromFile(t, ss)
}

func signAndAttach(t testing.TB, ss *signtest.Sigstore, repo name.Repository, id signtest.Identity, statementFor v1.Hash, attachTo v1.Descriptor) *signtest.Signed {
	t.Helper()
	s, err := ss.Sign(id, signtest.Statement(repo.Name(), statementFor))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := signtest.Attach(repo, attachTo, s.Bundle); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestCheck(t *testing.T) {
	t.Parallel()
	ss, err := signtest.New()
	if err != nil {
		t.Fatal(err)
	}
	other, err := signtest.New()
	if err != nil {
		t.Fatal(err)
	}
	v := verifierFromFile(t, ss)
	ours := signtest.GitHub(repoName, workflow, sha)
	// The registry kinds: the OCI 1.1 referrers API; none, where writers keep the sha256-<hex>
	// fallback index (GHCR); and Debian's distribution 2.8, which has no referrers API either.
	distribution := registrytest.Start(t)
	var next atomic.Int64
	kinds := []struct {
		name string
		repo func(t *testing.T) name.Repository
	}{
		{"referrers API", func(t *testing.T) name.Repository { _, r := newRegistry(t, true); return r }},
		{"fallback tag", func(t *testing.T) name.Repository { _, r := newRegistry(t, false); return r }},
		{"distribution", func(t *testing.T) name.Repository {
			return repository(t, distribution, fmt.Sprintf("acme/manifests-%d", next.Add(1)))
		}},
	}

	tests := []struct {
		name string
		// setup attaches whatever the case needs to the candidate (and may push another artifact).
		setup   func(t *testing.T, repo name.Repository, cand v1.Descriptor)
		want    sign.Outcome
		reason  string
		signer  bool
		commits string // the candidate's revision commit; sha when empty
	}{
		{name: "signed by main's build workflow", want: sign.Signed, reason: "signed by https://github.com/acme/platform/.github/workflows/build.yml@refs/heads/main",
			setup: func(t *testing.T, repo name.Repository, cand v1.Descriptor) {
				signAndAttach(t, ss, repo, ours, cand.Digest, cand)
			}},
		{name: "unsigned", want: sign.Unsigned, reason: "no Sigstore bundle",
			setup: func(*testing.T, name.Repository, v1.Descriptor) {}},
		{name: "another branch", want: sign.UntrustedSigner, reason: `source ref "refs/heads/feature"`,
			setup: func(t *testing.T, repo name.Repository, cand v1.Descriptor) {
				id := ours
				id.Ref = "refs/heads/feature"
				signAndAttach(t, ss, repo, id, cand.Digest, cand)
			}},
		{name: "another repository", want: sign.UntrustedSigner, reason: `source repository "https://github.com/evil/fork"`,
			setup: func(t *testing.T, repo name.Repository, cand v1.Descriptor) {
				signAndAttach(t, ss, repo, signtest.GitHub("evil/fork", workflow, sha), cand.Digest, cand)
			}},
		{name: "our reusable workflow called by another repository", want: sign.UntrustedSigner, reason: `source repository "https://github.com/evil/fork"`,
			setup: func(t *testing.T, repo name.Repository, cand v1.Descriptor) {
				id := signtest.GitHub("evil/fork", workflow, sha)
				id.WorkflowRepository = repoName
				signAndAttach(t, ss, repo, id, cand.Digest, cand)
			}},
		{name: "another commit", want: sign.UntrustedSigner, reason: "commit \"" + otherSha,
			setup: func(t *testing.T, repo name.Repository, cand v1.Descriptor) {
				signAndAttach(t, ss, repo, signtest.GitHub(repoName, workflow, otherSha), cand.Digest, cand)
			}},
		{name: "a bundle for another artifact's digest", want: sign.UntrustedSigner, reason: "artifact digest does not match any digest in statement",
			setup: func(t *testing.T, repo name.Repository, cand v1.Descriptor) {
				elsewhere := pushCandidate(t, repo, sha)
				signAndAttach(t, ss, repo, ours, elsewhere.Digest, cand)
			}},
		{name: "another Sigstore's certificate", want: sign.UntrustedSigner, reason: "does not verify",
			setup: func(t *testing.T, repo name.Repository, cand v1.Descriptor) {
				signAndAttach(t, other, repo, ours, cand.Digest, cand)
			}},
		{name: "legacy .sig copied from another digest", want: sign.Unsigned, reason: "legacy cosign .sig tags are not accepted",
			setup: func(t *testing.T, repo name.Repository, cand v1.Descriptor) {
				// A genuine signature of another artifact, copied by a registry writer to the
				// candidate's legacy tag: Flux's key-based verification accepts this (issue 17).
				elsewhere := pushCandidate(t, repo, sha)
				s := signAndAttach(t, ss, repo, ours, elsewhere.Digest, elsewhere)
				simple, _ := json.Marshal(map[string]any{"critical": map[string]any{"image": map[string]string{"docker-manifest-digest": elsewhere.Digest.String()}, "type": "cosign container image signature"}})
				if err := signtest.AttachLegacySignature(repo, cand.Digest, simple, s.Signature, s.Certificate); err != nil {
					t.Fatal(err)
				}
			}},
		{name: "a bundle's signature re-wrapped as a legacy .sig", want: sign.Unsigned, reason: "no Sigstore bundle",
			setup: func(t *testing.T, repo name.Repository, cand v1.Descriptor) {
				elsewhere := pushCandidate(t, repo, sha)
				s := signAndAttach(t, ss, repo, ours, elsewhere.Digest, elsewhere)
				if err := signtest.AttachLegacySignature(repo, cand.Digest, s.Payload, s.Signature, s.Certificate); err != nil {
					t.Fatal(err)
				}
			}},
		{name: "no embedded SCT", want: sign.UntrustedSigner, reason: "signed certificate timestamp",
			setup: func(t *testing.T, repo name.Repository, cand v1.Descriptor) {
				s, err := ss.Sign(ours, signtest.Statement(repo.Name(), cand.Digest), signtest.WithoutSCT())
				if err != nil {
					t.Fatal(err)
				}
				if _, err := signtest.Attach(repo, cand, s.Bundle); err != nil {
					t.Fatal(err)
				}
			}},
		{name: "no transparency-log entry", want: sign.UntrustedSigner, reason: "transparency log",
			setup: func(t *testing.T, repo name.Repository, cand v1.Descriptor) {
				s, err := ss.Sign(ours, signtest.Statement(repo.Name(), cand.Digest), signtest.WithoutTlog())
				if err != nil {
					t.Fatal(err)
				}
				if _, err := signtest.Attach(repo, cand, s.Bundle); err != nil {
					t.Fatal(err)
				}
			}},
		{name: "only an SBOM attached", want: sign.Unsigned, reason: "1 other referrers",
			setup: func(t *testing.T, repo name.Repository, cand v1.Descriptor) {
				attachSBOM(t, repo, cand)
			}},
		{name: "an SBOM beside our bundle", want: sign.Signed, reason: "signed by",
			setup: func(t *testing.T, repo name.Repository, cand v1.Descriptor) {
				attachSBOM(t, repo, cand)
				signAndAttach(t, ss, repo, ours, cand.Digest, cand)
			}},
		{name: "a foreign bundle beside ours", want: sign.Signed, reason: "signed by",
			setup: func(t *testing.T, repo name.Repository, cand v1.Descriptor) {
				signAndAttach(t, other, repo, ours, cand.Digest, cand)
				signAndAttach(t, ss, repo, ours, cand.Digest, cand)
			}},
	}
	for _, kind := range kinds {
		for _, tc := range tests {
			t.Run(kind.name+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				repo := kind.repo(t)
				cand := pushCandidate(t, repo, sha)
				tc.setup(t, repo, cand)
				p, err := sign.GitHubPolicy(repoName, workflow, "main@sha1:"+sha)
				if err != nil {
					t.Fatal(err)
				}
				verdict, err := sign.Check(context.Background(), v, repo.Digest(cand.Digest.String()), p)
				if err != nil {
					t.Fatal(err)
				}
				t.Logf("reason: %s", verdict.Reason)
				if got, want := verdict.Outcome, tc.want; got != want {
					t.Fatalf("outcome = %q, want %q\nreason: %s\nfindings: %+v", got, want, verdict.Reason, verdict.Findings)
				}
				if !strings.Contains(verdict.Reason, tc.reason) {
					t.Errorf("reason = %q, want it to contain %q", verdict.Reason, tc.reason)
				}
				if tc.want == sign.Signed && (verdict.Signer == nil || verdict.Signer.Commit != sha) {
					t.Errorf("signer = %+v, want commit %s", verdict.Signer, sha)
				}
			})
		}
	}
}

func attachSBOM(t *testing.T, repo name.Repository, cand v1.Descriptor) {
	t.Helper()
	const spdx = "application/spdx+json"
	if _, err := signtest.AttachArtifact(repo, cand, spdx, spdx, []byte(`{"spdxVersion":"SPDX-2.3"}`), nil, nil); err != nil {
		t.Fatal(err)
	}
}

// TestCheckWrongArtifactTypeInFallbackIndex: GHCR's fallback index reports a wrong artifactType
// (issue 17); a bundle is recognised by its layer, so the candidate still verifies.
func TestCheckWrongArtifactTypeInFallbackIndex(t *testing.T) {
	t.Parallel()
	ss, err := signtest.New()
	if err != nil {
		t.Fatal(err)
	}
	_, repo := newRegistry(t, false)
	cand := pushCandidate(t, repo, sha)
	signAndAttach(t, ss, repo, signtest.GitHub(repoName, workflow, sha), cand.Digest, cand)

	fallback := repo.Tag(strings.Replace(cand.Digest.String(), ":", "-", 1))
	desc, err := remote.Get(fallback)
	if err != nil {
		t.Fatalf("no fallback index written: %v", err)
	}
	var idx map[string]any
	if err := json.Unmarshal(desc.Manifest, &idx); err != nil {
		t.Fatal(err)
	}
	for _, m := range idx["manifests"].([]any) {
		m.(map[string]any)["artifactType"] = "application/vnd.oci.empty.v1+json"
	}
	raw, _ := json.Marshal(idx)
	req, _ := http.NewRequest(http.MethodPut, "http://"+repo.RegistryStr()+"/v2/"+repo.RepositoryStr()+"/manifests/"+fallback.TagStr(), strings.NewReader(string(raw)))
	req.Header.Set("Content-Type", string(types.OCIImageIndex))
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("rewrite the fallback index: %v %v", resp, err)
	}
	resp.Body.Close()

	p, _ := sign.GitHubPolicy(repoName, workflow, "main@sha1:"+sha)
	verdict, err := sign.Check(context.Background(), verifierFromFile(t, ss), repo.Digest(cand.Digest.String()), p)
	if err != nil {
		t.Fatal(err)
	}
	if verdict.Outcome != sign.Signed {
		t.Fatalf("outcome = %q, want signed: %s", verdict.Outcome, verdict.Reason)
	}
	if got := verdict.Findings[0].ArtifactType; got != "application/vnd.oci.empty.v1+json" {
		t.Errorf("finding artifactType = %q, want the index's wrong one reported as found", got)
	}
}
