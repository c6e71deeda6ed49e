package sign

import (
	"strings"
	"testing"
)

func TestDecide(t *testing.T) {
	t.Parallel()
	const sha = "0123456789abcdef0123456789abcdef01234567"
	p, err := GitHubPolicy("acme/platform", "build.yml", "main@sha1:"+sha)
	if err != nil {
		t.Fatal(err)
	}
	good := Signer{Issuer: GitHubIssuer, Identity: "https://github.com/acme/platform/.github/workflows/build.yml@refs/heads/main",
		Repository: "https://github.com/acme/platform", Ref: "refs/heads/main", Commit: sha}
	with := func(f func(*Signer)) *Signer { s := good; f(&s); return &s }
	noCommit := p
	noCommit.Commit = ""
	tests := []struct {
		name     string
		policy   Policy
		findings []Finding
		want     Outcome
		reason   string // a substring of the reason
	}{
		{"nothing attached", p, nil, Unsigned, "no Sigstore bundle"},
		{"only an SBOM", p, []Finding{{Referrer: "sha256:a", ArtifactType: "application/spdx+json"}}, Unsigned, "1 other referrers"},
		{"good", p, []Finding{{Referrer: "sha256:a", Bundle: true, Signer: &good}}, Signed, "signed by https://github.com/acme/platform/"},
		{"good after a bad one", p, []Finding{{Referrer: "sha256:a", Bundle: true, Problem: "bad"}, {Referrer: "sha256:b", Bundle: true, Signer: &good}}, Signed, "signed by"},
		{"does not verify", p, []Finding{{Referrer: "sha256:a", Bundle: true, Problem: "no matching artifact digest"}}, UntrustedSigner, "bundle sha256:a does not verify: no matching artifact digest"},
		{"unreadable referrer", p, []Finding{{Referrer: "sha256:a", Bundle: true, Problem: "read referrer manifest: 500"}}, UntrustedSigner, "does not verify"},
		{"other branch", p, []Finding{{Referrer: "sha256:a", Bundle: true, Signer: with(func(s *Signer) {
			s.Ref = "refs/heads/feature"
			s.Identity = "https://github.com/acme/platform/.github/workflows/build.yml@refs/heads/feature"
		})}}, UntrustedSigner, `source ref "refs/heads/feature", want refs/heads/main`},
		{"other repository", p, []Finding{{Referrer: "sha256:a", Bundle: true, Signer: with(func(s *Signer) {
			s.Repository = "https://github.com/evil/fork"
			s.Identity = "https://github.com/evil/fork/.github/workflows/build.yml@refs/heads/main"
		})}}, UntrustedSigner, "identity"},
		{"our reusable workflow called from another repository", p, []Finding{{Referrer: "sha256:a", Bundle: true, Signer: with(func(s *Signer) {
			s.Repository = "https://github.com/evil/fork"
		})}}, UntrustedSigner, `source repository "https://github.com/evil/fork"`},
		{"other workflow", p, []Finding{{Referrer: "sha256:a", Bundle: true, Signer: with(func(s *Signer) {
			s.Identity = "https://github.com/acme/platform/.github/workflows/release.yml@refs/heads/main"
		})}}, UntrustedSigner, "identity"},
		{"other issuer", p, []Finding{{Referrer: "sha256:a", Bundle: true, Signer: with(func(s *Signer) { s.Issuer = "https://accounts.google.com" })}}, UntrustedSigner, "issuer"},
		{"other commit", p, []Finding{{Referrer: "sha256:a", Bundle: true, Signer: with(func(s *Signer) { s.Commit = strings.Repeat("f", 40) })}}, UntrustedSigner, "the artifact's revision"},
		{"artifact without revision", noCommit, []Finding{{Referrer: "sha256:a", Bundle: true, Signer: &good}}, UntrustedSigner, "no revision annotation"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v := Decide(tc.policy, tc.findings)
			if got, want := v.Outcome, tc.want; got != want {
				t.Fatalf("outcome = %q, want %q (reason: %s)", got, want, v.Reason)
			}
			if !strings.Contains(v.Reason, tc.reason) {
				t.Errorf("reason = %q, want it to contain %q", v.Reason, tc.reason)
			}
			if (v.Signer != nil) != (v.Outcome == Signed) {
				t.Errorf("signer = %v with outcome %q", v.Signer, v.Outcome)
			}
		})
	}
}

func TestGitHubPolicy(t *testing.T) {
	t.Parallel()
	tests := []struct {
		repo, workflow, revision string
		identity, err            string
	}{
		{"acme/platform", "build.yml", "", "https://github.com/acme/platform/.github/workflows/build.yml@refs/heads/main", ""},
		{"acme/platform", ".github/workflows/ci.yaml", "main@sha1:0123456789abcdef0123456789abcdef01234567", "https://github.com/acme/platform/.github/workflows/ci.yaml@refs/heads/main", ""},
		{"acme", "build.yml", "", "", "not OWNER/REPO"},
		{"acme/platform", "build.yml@refs/heads/x", "", "", "not a workflow file"},
		{"acme/platform", "build.yml", "main@abc", "", "revision annotation"},
	}
	for _, tc := range tests {
		p, err := GitHubPolicy(tc.repo, tc.workflow, tc.revision)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("GitHubPolicy(%q, %q, %q) error = %v, want %q", tc.repo, tc.workflow, tc.revision, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("GitHubPolicy(%q, %q, %q): %v", tc.repo, tc.workflow, tc.revision, err)
		}
		if got := p.Identity(); got != tc.identity {
			t.Errorf("identity = %q, want %q", got, tc.identity)
		}
	}
}
