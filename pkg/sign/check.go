package sign

import (
	"context"
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// BundleVerifier verifies Sigstore bundles cryptographically for a manifest digest: one result
// per bundle, in order. Helper runs the verify-bundles binary; package bundleverify does it in
// process. An error means no bundle was judged.
type BundleVerifier interface {
	VerifyBundles(ctx context.Context, digest string, bundles [][]byte) ([]BundleResult, error)
}

// SubjectsVerifier verifies the bundles of several manifest digests at once: one result list per
// subject, in order, each with one result per bundle. Helper runs verify-bundles once for all of
// them (ocipromote status: one process and one trusted-root fetch per report, not per artifact).
type SubjectsVerifier interface {
	VerifySubjects(ctx context.Context, subjects []Subject) ([][]BundleResult, error)
}

// Subject is one manifest digest and the bundles attached to it.
type Subject struct {
	// Digest is the manifest digest the bundles' statements must name, sha256:<hex>.
	Digest string `json:"digest"`
	// Bundles are the bundles' JSON as read from the registry.
	Bundles [][]byte `json:"bundles"`
}

// BundleResult is the verdict on one bundle: its signer when it verified, else why not.
type BundleResult struct {
	Signer  *Signer `json:"signer,omitempty"`
	Problem string  `json:"problem,omitempty"`
}

// BundlesRequest is what verify-bundles reads on its standard input.
type BundlesRequest struct {
	// TrustedRoot is the content of a Sigstore trusted_root.json; absent, verify-bundles
	// fetches the public-good one through Sigstore's TUF repository.
	TrustedRoot []byte `json:"trustedRoot,omitempty"`
	// Digest is the manifest digest the bundles' statements must name, sha256:<hex>.
	Digest string `json:"digest"`
	// Bundles are the bundles' JSON as read from the registry (bytes: a registry writer may
	// have put anything there).
	Bundles [][]byte `json:"bundles"`
	// Subjects, when set, are verified instead of Digest and Bundles: the answer's Subjects
	// hold their results, in order.
	Subjects []Subject `json:"subjects,omitempty"`
}

// BundlesResponse is what verify-bundles writes on its standard output.
type BundlesResponse struct {
	Results []BundleResult `json:"results"`
	// Subjects answers a request's Subjects.
	Subjects [][]BundleResult `json:"subjects,omitempty"`
}

// Check finds every referrer of d, verifies each bundle with v, and decides against p. An error
// means the referrers could not be listed or the bundles not verified: the caller refuses, and
// nothing was decided. v is not called when no bundle is attached.
func Check(ctx context.Context, v BundleVerifier, d name.Digest, p Policy, opts ...remote.Option) (Verdict, error) {
	refs, err := Find(ctx, d, opts...)
	if err != nil {
		return Verdict{}, err
	}
	var bundles [][]byte
	for _, r := range refs {
		if r.Bundle != nil {
			bundles = append(bundles, r.Bundle)
		}
	}
	var results []BundleResult
	if len(bundles) > 0 {
		if results, err = v.VerifyBundles(ctx, d.DigestStr(), bundles); err != nil {
			return Verdict{}, err
		}
		if len(results) != len(bundles) {
			return Verdict{}, fmt.Errorf("verifying %d bundles of %s gave %d results", len(bundles), d, len(results))
		}
	}
	return Decide(p, findings(refs, results)), nil
}

// Target is one artifact to check: its manifest digest and the policy its signer must match.
type Target struct {
	Digest string
	Policy Policy
}

// CheckAll is Check for several artifacts of repo: it finds every referrer of each, verifies the
// bundles of all of them in one VerifySubjects call, and decides each against its policy. The
// verdicts are in the order of targets. v is not called when no bundle is attached to any.
func CheckAll(ctx context.Context, v SubjectsVerifier, repo name.Repository, targets []Target, opts ...remote.Option) ([]Verdict, error) {
	refs := make([][]Referrer, len(targets))
	var subjects []Subject
	for i, t := range targets {
		var err error
		if refs[i], err = Find(ctx, repo.Digest(t.Digest), opts...); err != nil {
			return nil, err
		}
		s := Subject{Digest: t.Digest}
		for _, r := range refs[i] {
			if r.Bundle != nil {
				s.Bundles = append(s.Bundles, r.Bundle)
			}
		}
		if len(s.Bundles) > 0 {
			subjects = append(subjects, s)
		}
	}
	var results [][]BundleResult
	if len(subjects) > 0 {
		var err error
		if results, err = v.VerifySubjects(ctx, subjects); err != nil {
			return nil, err
		}
		if len(results) != len(subjects) {
			return nil, fmt.Errorf("verifying the bundles of %d artifacts gave results for %d", len(subjects), len(results))
		}
	}
	out := make([]Verdict, len(targets))
	for i, t := range targets {
		var mine []BundleResult
		if n := bundlesIn(refs[i]); n > 0 {
			mine, results = results[0], results[1:]
			if len(mine) != n {
				return nil, fmt.Errorf("verifying %d bundles of %s gave %d results", n, t.Digest, len(mine))
			}
		}
		out[i] = Decide(t.Policy, findings(refs[i], mine))
	}
	return out, nil
}

func bundlesIn(refs []Referrer) int {
	var n int
	for _, r := range refs {
		if r.Bundle != nil {
			n++
		}
	}
	return n
}

// findings pairs each referrer with its bundle's result (results are in the order of the
// referrers that hold a bundle).
func findings(refs []Referrer, results []BundleResult) []Finding {
	out := make([]Finding, 0, len(refs))
	for _, r := range refs {
		f := Finding{Referrer: r.Descriptor.Digest.String(), ArtifactType: r.Descriptor.ArtifactType, Problem: r.Problem}
		switch {
		case r.Bundle != nil:
			f.Bundle = true
			f.Signer, f.Problem = results[0].Signer, results[0].Problem
			results = results[1:]
		case r.Problem != "":
			// Unreadable: it may have held a bundle, so it counts as one that does not verify
			// rather than letting a broken referrer turn "untrusted" into "unsigned".
			f.Bundle = true
		}
		out = append(out, f)
	}
	return out
}
