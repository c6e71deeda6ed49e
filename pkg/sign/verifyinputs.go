package sign

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/ocipromote/ocipromote/pkg/actionio"
	"github.com/ocipromote/ocipromote/pkg/artifact"
	"github.com/ocipromote/ocipromote/pkg/oci"
)

// VerifyInputs switch on the signature check of docs/signing.md, in every step that promotes
// (tag-validated) or puts an artifact live (rollback). verify is off by default so that a
// repository whose candidates are not signed yet (build-rc's sign off) keeps promoting; the
// examples turn it on.
var VerifyInputs = []actionio.Input{
	{Name: "verify", Bool: true, Usage: "refuse an artifact without a Sigstore signature from signer_workflow on main of signer_repository at its commit (exit 1, reason unsigned or untrusted-signer, nothing written); runs the verify-bundles binary; see docs/signing.md"},
	{Name: "trusted_root", Usage: "Sigstore trusted_root.json to verify against (default: the public-good one, fetched through Sigstore's TUF repository by verify-bundles; give it offline or for another Sigstore instance)"},
	{Name: "signer_workflow", Default: "build-rc.yaml", Usage: "workflow file (in .github/workflows/) that signs candidates"},
	{Name: "signer_repository", ContextEnv: "GITHUB_REPOSITORY", Usage: "OWNER/REPO whose main branch signs candidates (default GITHUB_REPOSITORY)"},
}

// StatusInputs are VerifyInputs for ocipromote status, whose verify shows each artifact's
// signature rather than refusing anything.
var StatusInputs = append([]actionio.Input{
	{Name: "verify", Bool: true, Usage: "show each artifact's signature: signed by signer_workflow on main of signer_repository at its commit, unsigned, or untrusted-signer and by whom, as tag-validated would decide now; runs the verify-bundles binary once for all the artifacts shown"},
}, VerifyInputs[1:]...)

// CheckFunc is a signature check before a write: nil, or a *RefusedError saying what was found, or
// an error when nothing could be decided.
type CheckFunc func(ctx context.Context, digest string, annotations map[string]string) error

// FromInputs returns the check VerifyInputs ask for, or nil when verify is off. Everything that
// can be known before the registry is read is checked here, as a usage error: the trusted root
// read (when given: else verify-bundles fetches the public-good one), the signer named, and
// verify-bundles found (on path, a PATH value, when it is not beside the running binary).
func FromInputs(v *actionio.Values, reg *oci.Repository, path string, log *slog.Logger) (CheckFunc, error) {
	h, err := helperFromInputs(v, path)
	if h == nil || err != nil {
		return nil, err
	}
	return Candidates(h, v.Get("signer_repository"), v.Get("signer_workflow"), reg, log), nil
}

// SignersFunc checks the signatures of several artifacts at once (ocipromote status): one
// verdict per artifact, in order; an error means none was decided.
type SignersFunc func(ctx context.Context, artifacts []Artifact) ([]Verdict, error)

// Artifact is an artifact whose signature is checked: its manifest digest and revision annotation.
type Artifact struct {
	Digest   string
	Revision string
}

// SignersFromInputs is FromInputs for a report: nil when verify is off, else a check of many
// artifacts that runs verify-bundles once for all of them (CheckAll).
func SignersFromInputs(v *actionio.Values, reg *oci.Repository, path string) (SignersFunc, error) {
	h, err := helperFromInputs(v, path)
	if h == nil || err != nil {
		return nil, err
	}
	repository, workflow := v.Get("signer_repository"), v.Get("signer_workflow")
	repo, opts := reg.Remote()
	return func(ctx context.Context, artifacts []Artifact) ([]Verdict, error) {
		targets := make([]Target, len(artifacts))
		for i, a := range artifacts {
			p, err := GitHubPolicy(repository, workflow, a.Revision)
			if err != nil {
				// An unreadable revision names no commit, which no signer matches.
				if p, err = GitHubPolicy(repository, workflow, ""); err != nil {
					return nil, err
				}
			}
			targets[i] = Target{Digest: a.Digest, Policy: p}
		}
		return CheckAll(ctx, h, repo, targets, opts...)
	}, nil
}

// helperFromInputs is the verify-bundles runner VerifyInputs ask for, nil when verify is off.
func helperFromInputs(v *actionio.Values, path string) (*Helper, error) {
	if !v.Bool("verify") {
		return nil, nil
	}
	if _, err := GitHubPolicy(v.Get("signer_repository"), v.Get("signer_workflow"), ""); err != nil {
		return nil, actionio.Usagef("%v", err)
	}
	var trustedRoot []byte
	if path := v.Get("trusted_root"); path != "" {
		b, err := readTrustedRoot(path)
		if err != nil {
			return nil, actionio.Usagef("input trusted_root: %v", err)
		}
		trustedRoot = b
	}
	helper, err := FindHelper(path)
	if err != nil {
		return nil, err
	}
	return &Helper{Path: helper, TrustedRoot: trustedRoot}, nil
}

// trustedRootMediaType starts the mediaType of every version of Sigstore's trusted root.
const trustedRootMediaType = "application/vnd.dev.sigstore.trustedroot"

// readTrustedRoot reads the file and checks it is a trusted root by its media type; verify-bundles
// parses the rest.
func readTrustedRoot(path string) ([]byte, error) {
	const hint = "give a Sigstore trusted_root.json (for the public-good instance: the trusted_root.json target of its TUF repository)"
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %s", err, hint)
	}
	var head struct {
		MediaType string `json:"mediaType"`
	}
	if err := json.Unmarshal(b, &head); err != nil || !strings.HasPrefix(head.MediaType, trustedRootMediaType) {
		return nil, fmt.Errorf("%s is not a trusted root (its mediaType is not %s…): %s", path, trustedRootMediaType, hint)
	}
	return b, nil
}

// Candidates checks, before a write, that the artifact with this digest (and these manifest
// annotations) is signed by workflow on main of repository at the commit of its revision
// annotation: a *RefusedError says what was found instead.
func Candidates(v BundleVerifier, repository, workflow string, reg *oci.Repository, log *slog.Logger) CheckFunc {
	repo, opts := reg.Remote()
	return func(ctx context.Context, digest string, annotations map[string]string) error {
		p, err := GitHubPolicy(repository, workflow, annotations[artifact.AnnotationRevision])
		if err != nil {
			return err
		}
		verdict, err := Check(ctx, v, repo.Digest(digest), p, opts...)
		if err != nil {
			return err
		}
		if verdict.Outcome != Signed {
			return &RefusedError{Digest: digest, Verdict: verdict}
		}
		log.Info("signature verified", "digest", digest, "signer", verdict.Signer.Identity, "commit", verdict.Signer.Commit)
		return nil
	}
}
