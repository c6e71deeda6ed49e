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

// CheckFunc is a signature check before a write: nil, or a *RefusedError saying what was found, or
// an error when nothing could be decided.
type CheckFunc func(ctx context.Context, digest string, annotations map[string]string) error

// FromInputs returns the check VerifyInputs ask for, or nil when verify is off. Everything that
// can be known before the registry is read is checked here, as a usage error: the trusted root
// read (when given: else verify-bundles fetches the public-good one), the signer named, and
// verify-bundles found (on path, a PATH value, when it is not beside the running binary).
func FromInputs(v *actionio.Values, reg *oci.Repository, path string, log *slog.Logger) (CheckFunc, error) {
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
	return Candidates(&Helper{Path: helper, TrustedRoot: trustedRoot}, v.Get("signer_repository"), v.Get("signer_workflow"), reg, log), nil
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
