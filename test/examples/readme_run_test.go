package examples

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// readmeByHand is the README.md section whose sh block takes a newcomer from this checkout to a
// promoted stable version on a local registry.
const readmeByHand = "### By hand, on a local registry"

// readmeRegistry is the address that block's registry listens on; the test moves it to a free
// port, so that a registry already on it (another run, a service) cannot answer instead.
const readmeRegistry = "127.0.0.1:5001"

// Issue 14: a newcomer following only README.md reaches a promoted stable version on a local
// registry, with the binaries, in commands copied from it. The block runs as written with bash,
// in a fresh git repository holding this checkout's files (what a clone gives), with the
// registry README.md names (Debian's docker-registry, a real distribution registry); then the
// registry's own storage must hold the stable tag 0.0.1, whatever the binaries printed.
func TestREADMEByHandPromotesAStableVersion(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	if _, err := exec.LookPath("docker-registry"); err != nil {
		t.Fatalf("README.md's walkthrough needs docker-registry: sudo apt-get install docker-registry (make deps installs it as root)")
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	block := firstShellBlock(readmeSection(string(readme), readmeByHand))
	if !strings.Contains(block, readmeRegistry) || !strings.Contains(block, "tag-validated") {
		t.Fatalf("README.md %s has no sh block running tag-validated against %s:\n%s", readmeByHand, readmeRegistry, block)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	script := strings.ReplaceAll(block, readmeRegistry, addr)

	clone := cloneCheckout(t, root)
	tmp := t.TempDir()
	home := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-e", "-o", "pipefail", "-c", script)
	cmd.Dir = clone
	cmd.Env = append(newcomerEnv(), "HOME="+home, "DOCKER_CONFIG="+home, "TMPDIR="+tmp,
		"GOCACHE="+goEnv(t, "GOCACHE"), "GOMODCACHE="+goEnv(t, "GOMODCACHE"), "GOWORK=off", "GOTOOLCHAIN=local")
	// The block starts the registry in the background and stops it at its end; the process group
	// is killed too, so that a block failing half-way leaves no registry behind.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	if err != nil {
		t.Fatalf("README.md %s, run as written, failed: %v\n%s", readmeByHand, err, out.String())
	}
	for _, want := range []string{"build-rc: pushed 0.0.1-rc.1", "tag-validated: promoted (0.0.1-rc.1 becomes 0.0.1)", "live selects 0.0.1"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("README.md %s printed no %q:\n%s", readmeByHand, want, out.String())
		}
	}
	tags, err := filepath.Glob(filepath.Join(tmp, "*", "docker", "registry", "v2", "repositories", "acme", "platform-manifests", "_manifests", "tags", "*"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tag := range tags {
		names = append(names, filepath.Base(tag))
	}
	if !strings.Contains(" "+strings.Join(names, " ")+" ", " 0.0.1 ") {
		t.Errorf("the registry's storage holds tags %v, no stable 0.0.1", names)
	}
}

// firstShellBlock is the content of the first ```sh block of a Markdown text, "" when none.
func firstShellBlock(md string) string {
	_, rest, ok := strings.Cut(md, "\n```sh\n")
	if !ok {
		return ""
	}
	block, _, _ := strings.Cut(rest, "\n```\n")
	return block + "\n"
}

// cloneCheckout copies the files of the checkout at root that git tracks or would track (edits
// included, ignored files left out) into a new git repository with one commit: what a newcomer's
// clone holds, as the working tree now has it.
func cloneCheckout(t *testing.T, root string) string {
	t.Helper()
	list, err := exec.Command("git", "-C", root, "ls-files", "-z", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	clone := t.TempDir()
	for _, rel := range strings.Split(strings.TrimRight(string(list), "\x00"), "\x00") {
		src := filepath.Join(root, rel)
		fi, err := os.Lstat(src)
		if os.IsNotExist(err) {
			continue // deleted in the working tree
		}
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(clone, rel)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if fi.Mode()&os.ModeSymlink != 0 {
			target, err := os.Readlink(src)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(target, dst); err != nil {
				t.Fatal(err)
			}
			continue
		}
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, b, fi.Mode().Perm()); err != nil {
			t.Fatal(err)
		}
	}
	for _, args := range [][]string{
		{"init", "-q", "-b", "main"},
		{"add", "-A"},
		{"-c", "user.name=Newcomer", "-c", "user.email=newcomer@example.com", "-c", "commit.gpgsign=false", "commit", "-q", "-m", "clone"},
	} {
		cmd := exec.Command("git", args...)
		cmd.Dir = clone
		cmd.Env = newcomerEnv()
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	return clone
}

// newcomerEnv is this process's environment without what only a GitHub Actions runner sets
// (GITHUB_*, INPUT_*, RUNNER_*): a terminal's.
func newcomerEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GITHUB_") && !strings.HasPrefix(kv, "INPUT_") && !strings.HasPrefix(kv, "RUNNER_") {
			env = append(env, kv)
		}
	}
	return env
}

func goEnv(t *testing.T, name string) string {
	t.Helper()
	out, err := exec.Command("go", "env", name).Output()
	if err != nil {
		t.Fatalf("go env %s: %v", name, err)
	}
	return strings.TrimSpace(string(out))
}
