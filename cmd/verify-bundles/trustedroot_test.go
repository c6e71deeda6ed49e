package main

import (
	"bytes"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ocipromote/ocipromote/pkg/sign"
	"github.com/ocipromote/ocipromote/pkg/sign/signtest"
)

// Without a trusted root in the request, verify-bundles fetches the public-good one through
// Sigstore's TUF repository; when it cannot (here a proxy that refuses every connection stands
// for a machine offline), it says so and names input trusted_root, the way out.
func TestNoTrustedRootOfflineNamesTheInput(t *testing.T) {
	t.Parallel()
	bin := filepath.Join(signtest.VerifyBundlesDir(t), sign.HelperName)
	cmd := exec.Command(bin)
	cmd.Env = []string{
		"HOME=" + t.TempDir(), // an empty TUF cache
		"HTTPS_PROXY=http://127.0.0.1:1", "https_proxy=http://127.0.0.1:1",
		"HTTP_PROXY=http://127.0.0.1:1", "http_proxy=http://127.0.0.1:1",
	}
	cmd.Stdin = strings.NewReader(`{"digest":"sha256:` + strings.Repeat("0", 64) + `","bundles":[]}`)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("verify-bundles without a trusted root, offline: %v, want exit 1; stderr: %s", err, stderr.String())
	}
	for _, want := range []string{"public-good Sigstore trusted root", "give input trusted_root"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr %q does not say %q", stderr.String(), want)
		}
	}
	if stdout.Len() != 0 {
		t.Errorf("stdout = %q, want no verdict", stdout.String())
	}
}
