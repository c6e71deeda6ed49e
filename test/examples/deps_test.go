package examples

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Issue 14: `make test` could run `sudo apt-get` unasked. As a user other than root,
// scripts/deps.sh only says what to install; it runs neither sudo nor apt-get.
func TestDepsNeverRunsSudo(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	ran := filepath.Join(t.TempDir(), "ran")
	for name, script := range map[string]string{
		"id":      "echo 1000\n",
		"sudo":    "echo sudo \"$@\" >> " + ran + "\n",
		"apt-get": "echo apt-get \"$@\" >> " + ran + "\n",
	} {
		if err := os.WriteFile(filepath.Join(bin, name), []byte("#!"+bash+"\n"+script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(bash, filepath.Join(root, "scripts", "deps.sh"))
	cmd.Env = []string{"PATH=" + bin} // neither docker-registry nor git is found
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Errorf("deps.sh succeeded with nothing installed:\n%s", out)
	}
	if b, _ := os.ReadFile(ran); len(b) != 0 {
		t.Errorf("deps.sh ran, as a user other than root:\n%s", b)
	}
	if want := "sudo apt-get install --no-install-recommends docker-registry git"; !strings.Contains(string(out), want) {
		t.Errorf("deps.sh output lacks what to install (%q):\n%s", want, out)
	}
}
