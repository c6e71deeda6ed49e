package signtest

import (
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/ocipromote/ocipromote/pkg/sign"
)

// VerifyBundlesDir builds cmd/verify-bundles (the binary sign.Helper runs) into a temporary
// directory and returns the directory, to give the code under test as its PATH: a test then runs
// the very program a step runs. Building reuses Go's build cache.
func VerifyBundlesDir(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command("go", "build", "-o", filepath.Join(dir, sign.HelperName), "github.com/ocipromote/ocipromote/cmd/"+sign.HelperName)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build %s: %v\n%s", sign.HelperName, err, out)
	}
	return dir
}
