package sign

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// HelperName is the binary that verifies bundles (cmd/verify-bundles). The step binaries run it
// rather than link sigstore-go, whose package initialisation and size would slow every run down,
// verify or not.
const HelperName = "verify-bundles"

// Helper is a BundleVerifier that runs the verify-bundles binary at Path, one process per
// Check, bounded by the Check's context.
type Helper struct {
	Path string
	// TrustedRoot is the content of a Sigstore trusted_root.json; nil verifies against the
	// public-good one, which verify-bundles fetches through Sigstore's TUF repository.
	TrustedRoot []byte
}

var (
	_ BundleVerifier   = (*Helper)(nil)
	_ SubjectsVerifier = (*Helper)(nil)
)

// ErrNoHelper is returned by FindHelper when verify-bundles is neither beside the running
// binary nor on PATH.
var ErrNoHelper = errors.New(HelperName + " not found")

// FindHelper returns the path of verify-bundles: the one beside the running executable (where
// make build, a release archive and the actions put it), else the first on path (a PATH value).
func FindHelper(path string) (string, error) {
	var dirs []string
	if exe, err := os.Executable(); err == nil {
		dirs = append(dirs, filepath.Dir(exe))
	}
	dirs = append(dirs, filepath.SplitList(path)...)
	for _, dir := range dirs {
		if dir == "" {
			continue
		}
		p := filepath.Join(dir, HelperName)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%w beside this binary or on PATH: input verify runs it to check signatures; it comes with every other ocipromote binary (make build, the release archive, or go install github.com/ocipromote/ocipromote/cmd/%s), and the actions install it when verify is true", ErrNoHelper, HelperName)
}

// helperWait bounds how long the helper's output is waited for after its context ends.
const helperWait = 2 * time.Second

// VerifyBundles runs verify-bundles once for all the bundles.
func (h *Helper) VerifyBundles(ctx context.Context, digest string, bundles [][]byte) ([]BundleResult, error) {
	resp, err := h.run(ctx, "the signatures of "+digest, BundlesRequest{TrustedRoot: h.TrustedRoot, Digest: digest, Bundles: bundles})
	if err != nil {
		return nil, err
	}
	return resp.Results, nil
}

// VerifySubjects runs verify-bundles once for the bundles of every subject.
func (h *Helper) VerifySubjects(ctx context.Context, subjects []Subject) ([][]BundleResult, error) {
	resp, err := h.run(ctx, fmt.Sprintf("the signatures of %d artifacts", len(subjects)), BundlesRequest{TrustedRoot: h.TrustedRoot, Subjects: subjects})
	if err != nil {
		return nil, err
	}
	return resp.Subjects, nil
}

func (h *Helper) run(ctx context.Context, what string, r BundlesRequest) (BundlesResponse, error) {
	req, err := json.Marshal(r)
	if err != nil {
		return BundlesResponse{}, err
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, h.Path)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = bytes.NewReader(req), &stdout, &stderr
	cmd.WaitDelay = helperWait
	if err := cmd.Run(); err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return BundlesResponse{}, fmt.Errorf("verify %s with %s: %w", what, h.Path, ctxErr)
		}
		return BundlesResponse{}, fmt.Errorf("verify %s with %s: %w: %s", what, h.Path, err, strings.TrimSpace(stderr.String()))
	}
	var resp BundlesResponse
	if err := json.Unmarshal(stdout.Bytes(), &resp); err != nil {
		return BundlesResponse{}, fmt.Errorf("verify %s: %s answered what is not a verdict: %w", what, h.Path, err)
	}
	return resp, nil
}
