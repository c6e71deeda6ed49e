// Package sign finds and verifies the Sigstore bundles attached to a manifest digest, and decides
// whether the artifact was signed by the build workflow the pipeline trusts; Keyless signs a
// digest the way cosign sign v3 does (keyless.go, token.go), deciding with the same check
// whether a signature is already there.
//
// Three parts, each testable alone: Find lists every referrer of the digest (OCI 1.1 referrers
// API, or the sha256-<hex> fallback tag where the registry has none, as on GHCR) and reads each
// Sigstore bundle; Verify checks each bundle cryptographically with sigstore-go (certificate chain
// to the trusted root, embedded SCT, transparency-log entry, and a signed statement naming this
// digest); Decide, a pure function, compares the signers found with the Policy and returns a
// Verdict.
package sign

import (
	"fmt"
	"strings"

	"github.com/ocipromote/ocipromote/pkg/ref"
)

// GitHubIssuer is the OIDC issuer of GitHub Actions' workflow tokens.
const GitHubIssuer = "https://token.actions.githubusercontent.com"

// BundleMediaType is the media type cosign v3 gives a Sigstore bundle v0.3 attached as a
// referrer: the referrer manifest's artifactType and its one layer's media type (cosign
// specs/BUNDLE_SPEC.md).
const BundleMediaType = "application/vnd.dev.sigstore.bundle.v0.3+json"

// Outcome is what Decide concluded.
type Outcome string

// The outcomes. Unsigned and UntrustedSigner are also the refusal reasons a caller reports.
const (
	// Signed: a bundle verified and its signer matches the policy.
	Signed Outcome = "signed"
	// Unsigned: no Sigstore bundle is attached to the digest.
	Unsigned Outcome = "unsigned"
	// UntrustedSigner: bundles are attached, but none both verifies and matches the policy.
	UntrustedSigner Outcome = "untrusted-signer"
)

// Signer is who signed a bundle, as its verified Fulcio certificate says.
type Signer struct {
	// Issuer is the OIDC issuer (certificate extension 1.3.6.1.4.1.57264.1.8).
	Issuer string `json:"issuer"`
	// Identity is the certificate's subject alternative name: for GitHub Actions the workflow,
	// https://github.com/OWNER/REPO/.github/workflows/FILE@REF.
	Identity string `json:"identity"`
	// Repository is the source repository URI (…57264.1.12), https://github.com/OWNER/REPO. It
	// differs from the identity's repository when another repository called a reusable workflow.
	Repository string `json:"repository"`
	// Ref is the source repository ref the workflow ran on (…57264.1.14), e.g. refs/heads/main.
	Ref string `json:"ref"`
	// Commit is the source repository digest (…57264.1.13): the commit the workflow ran on.
	Commit string `json:"commit"`
}

func (s Signer) String() string {
	return fmt.Sprintf("%s (issuer %s, repository %s, ref %s, commit %s)", s.Identity, s.Issuer, s.Repository, s.Ref, s.Commit)
}

// Finding is one referrer of the digest and what became of it.
type Finding struct {
	// Referrer is the digest of the referrer manifest.
	Referrer string `json:"referrer"`
	// ArtifactType is what the referrer manifest says it is (never trusted for a decision: GHCR's
	// fallback index reports a wrong one).
	ArtifactType string `json:"artifactType,omitempty"`
	// Bundle is set when the referrer holds a Sigstore bundle layer.
	Bundle bool `json:"bundle"`
	// Signer is set when sigstore-go verified the bundle against the trusted root for this digest.
	Signer *Signer `json:"signer,omitempty"`
	// Problem says why the referrer could not be read or the bundle did not verify.
	Problem string `json:"problem,omitempty"`
}

// Policy is the signer the pipeline trusts: the build workflow of this repository on its main
// branch, at the commit the artifact says it was built from.
type Policy struct {
	// Issuer is the OIDC issuer; GitHubIssuer for GitHub Actions.
	Issuer string `json:"issuer"`
	// Repository is OWNER/REPO.
	Repository string `json:"repository"`
	// Workflow is the build workflow's path in the repository, e.g. .github/workflows/build.yml.
	Workflow string `json:"workflow"`
	// Ref is the branch the workflow must have run on, e.g. refs/heads/main.
	Ref string `json:"ref"`
	// Commit is the 40-hex commit of the artifact's revision annotation; empty when the artifact
	// has none, and then nothing matches.
	Commit string `json:"commit"`
}

// GitHubPolicy is the policy for the workflow file (a path under .github/workflows/, or just its
// file name) of repository (OWNER/REPO) on branch refs/heads/main, at the commit of revision
// ("<ref>@sha1:<sha>", the artifact's org.opencontainers.image.revision annotation).
func GitHubPolicy(repository, workflow, revision string) (Policy, error) {
	if strings.Count(repository, "/") != 1 || strings.HasPrefix(repository, "/") || strings.HasSuffix(repository, "/") {
		return Policy{}, fmt.Errorf("signer repository %s is not OWNER/REPO: set input signer_repository or GITHUB_REPOSITORY", ref.Quote(repository))
	}
	if workflow == "" || strings.ContainsAny(workflow, "@ \t\n") {
		return Policy{}, fmt.Errorf("signer workflow %s is not a workflow file: give its path, e.g. .github/workflows/build.yml", ref.Quote(workflow))
	}
	if !strings.Contains(workflow, "/") {
		workflow = ".github/workflows/" + workflow
	}
	p := Policy{Issuer: GitHubIssuer, Repository: repository, Workflow: workflow, Ref: "refs/heads/main"}
	if revision != "" {
		o, err := ref.ParseOrigin(revision)
		if err != nil {
			return Policy{}, fmt.Errorf("artifact revision annotation: %w", err)
		}
		p.Commit = o.Sha
	}
	return p, nil
}

// Identity is the certificate subject alternative name the policy expects.
func (p Policy) Identity() string {
	return "https://github.com/" + p.Repository + "/" + p.Workflow + "@" + p.Ref
}

// Verdict is the decision over every referrer found.
type Verdict struct {
	Outcome Outcome `json:"outcome"`
	// Signer is the matching signer when Outcome is Signed.
	Signer *Signer `json:"signer,omitempty"`
	// Reason says what was found and, on refusal, what to do.
	Reason string `json:"reason"`
	// Findings are every referrer, in the registry's order.
	Findings []Finding `json:"findings"`
}

// Decide returns Signed when at least one verified bundle's signer matches the policy exactly
// (a commit-less policy matches nothing), Unsigned when no bundle is attached at all, and
// UntrustedSigner otherwise, saying who signed what and why it does not match.
func Decide(p Policy, findings []Finding) Verdict {
	v := Verdict{Findings: findings}
	var bundles int
	var why []string
	for _, f := range findings {
		if !f.Bundle {
			continue
		}
		bundles++
		if f.Signer == nil {
			why = append(why, fmt.Sprintf("bundle %s does not verify: %s", f.Referrer, f.Problem))
			continue
		}
		if m := p.Mismatch(*f.Signer); m != "" {
			why = append(why, fmt.Sprintf("bundle %s signed by %s: %s", f.Referrer, f.Signer.Identity, m))
			continue
		}
		s := *f.Signer
		v.Outcome, v.Signer = Signed, &s
		v.Reason = "signed by " + s.String()
		return v
	}
	if bundles == 0 {
		v.Outcome = Unsigned
		v.Reason = fmt.Sprintf("no Sigstore bundle is attached (%d other referrers; legacy cosign .sig tags are not accepted): sign the artifact with the build workflow %s (cosign sign v3, keyless) and run again", len(findings), p.Identity())
		return v
	}
	v.Outcome = UntrustedSigner
	v.Reason = fmt.Sprintf("no bundle is from %s on commit %s: %s", p.Identity(), orNone(p.Commit), strings.Join(why, "; "))
	return v
}

// RefusedError is a verdict that refuses the candidate (Unsigned or UntrustedSigner).
type RefusedError struct {
	Digest  string
	Verdict Verdict
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("%s is %s: %s", e.Digest, e.Verdict.Outcome, e.Verdict.Reason)
}

// Mismatch says how s differs from the policy, or "" when it matches.
func (p Policy) Mismatch(s Signer) string {
	var d []string
	if s.Issuer != p.Issuer {
		d = append(d, fmt.Sprintf("issuer %s, want %s", quote(s.Issuer), p.Issuer))
	}
	if s.Identity != p.Identity() {
		d = append(d, fmt.Sprintf("identity %s, want %s", quote(s.Identity), p.Identity()))
	}
	if want := "https://github.com/" + p.Repository; s.Repository != want {
		d = append(d, fmt.Sprintf("source repository %s, want %s", quote(s.Repository), want))
	}
	if s.Ref != p.Ref {
		d = append(d, fmt.Sprintf("source ref %s, want %s", quote(s.Ref), p.Ref))
	}
	switch {
	case p.Commit == "":
		d = append(d, "the artifact has no revision annotation to compare the commit with")
	case s.Commit != p.Commit:
		d = append(d, fmt.Sprintf("commit %s, want %s (the artifact's revision)", quote(s.Commit), p.Commit))
	}
	return strings.Join(d, ", ")
}

// quote renders certificate text for a message: quoted and escaped, and whole up to 300 bytes,
// since a workflow identity runs past ref.Quote's 80 and its end (the ref) is what differs.
func quote(s string) string {
	if len(s) > 300 {
		return ref.Quote(s)
	}
	return fmt.Sprintf("%q", s)
}

func orNone(s string) string {
	if s == "" {
		return "(none: no revision annotation)"
	}
	return s
}
