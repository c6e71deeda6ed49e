package status

import (
	"context"
	"fmt"
	"strings"

	"github.com/ocipromote/ocipromote/pkg/sign"
)

// Signature is what the signature check of tag-validated and rollback (docs/signing.md) says of
// an artifact: ocipromote status with verify shows it for each artifact.
type Signature struct {
	// Outcome is signed, unsigned or untrusted-signer, as tag-validated would decide now.
	Outcome sign.Outcome `json:"outcome"`
	// Signer is the signer the policy trusts, when Outcome is signed.
	Signer *sign.Signer `json:"signer,omitempty"`
	// Others are the signers of the other bundles that verified, whom the policy does not
	// trust (another workflow, branch, repository or commit).
	Others []sign.Signer `json:"others,omitempty"`
	// Reason says who signed what and, when refused, why.
	Reason string `json:"reason"`
}

// CheckSignatures sets the Signature of every artifact the report shows (after Limit), with one
// call of check for all of them: with sign.SignersFromInputs, one verify-bundles run per report.
func (r *Report) CheckSignatures(ctx context.Context, check sign.SignersFunc) error {
	if len(r.Artifacts) == 0 {
		return nil
	}
	arts := make([]sign.Artifact, len(r.Artifacts))
	for i, a := range r.Artifacts {
		arts[i] = sign.Artifact{Digest: a.Digest, Revision: a.Revision}
	}
	verdicts, err := check(ctx, arts)
	if err != nil {
		return err
	}
	if len(verdicts) != len(r.Artifacts) {
		return fmt.Errorf("checking the signatures of %d artifacts gave %d verdicts", len(r.Artifacts), len(verdicts))
	}
	for i, v := range verdicts {
		s := &Signature{Outcome: v.Outcome, Signer: v.Signer, Reason: v.Reason}
		for _, f := range v.Findings {
			if f.Signer != nil && (v.Signer == nil || *f.Signer != *v.Signer) {
				s.Others = append(s.Others, *f.Signer)
			}
		}
		r.Artifacts[i].Signature = s
	}
	return nil
}

// signatures reports whether the signatures were checked, so that the reports show them.
func (r Report) signatures() bool {
	for _, a := range r.Artifacts {
		if a.Signature != nil {
			return true
		}
	}
	return false
}

// Short is the signature in a table cell: the outcome and who signed, the workflow identity
// without its https://github.com/ prefix.
func (s *Signature) Short() string {
	if s == nil {
		return ""
	}
	switch {
	case s.Signer != nil:
		return string(s.Outcome) + " by " + strings.TrimPrefix(s.Signer.Identity, "https://github.com/")
	case len(s.Others) > 0:
		by := strings.TrimPrefix(s.Others[0].Identity, "https://github.com/")
		if s.Others[0].Commit != "" {
			by += " at " + s.Others[0].Commit
		}
		return string(s.Outcome) + ": signed by " + by
	case s.Outcome == sign.UntrustedSigner:
		return string(s.Outcome) + ": no bundle verifies"
	}
	return string(s.Outcome)
}
