// Package registrytest runs a real CNCF distribution registry (Debian's docker-registry) on a free
// loopback port, so end-to-end tests talk to the registry implementation users deploy rather than
// an in-memory stand-in.
package registrytest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Binary is the registry executable the Debian package docker-registry installs.
const Binary = "docker-registry"

// InstallCommand installs Binary on Debian and Ubuntu (scripts/deps.sh runs it when needed).
const InstallCommand = "apt-get update && apt-get install -y docker-registry"

// ErrNotInstalled is returned by Launch when Binary is not on PATH.
var ErrNotInstalled = errors.New(Binary + " is not installed; install it with: " + InstallCommand)

// readyTimeout bounds how long a started registry may take to answer GET /v2/.
const readyTimeout = 10 * time.Second

// Registry is a running registry process.
type Registry struct {
	// Addr is host:port, e.g. 127.0.0.1:41234; repositories are Addr + "/name".
	Addr string
	// Dir holds the configuration, the storage (Dir/data) and the log (Dir/registry.log).
	Dir string

	cmd    *exec.Cmd
	exited chan struct{}
}

// Start launches a registry in a test's temporary directory and stops it when the test and its
// subtests finish. It fails the test (it never skips) when the registry is missing or does not
// come up.
func Start(t testing.TB) string {
	t.Helper()
	r, err := Launch(t.TempDir())
	if err != nil {
		t.Fatalf("start registry: %v", err)
	}
	t.Cleanup(func() {
		if err := r.Stop(); err != nil {
			t.Errorf("stop registry: %v", err)
		}
	})
	return r.Addr
}

// Launch starts a registry storing its data under dir and waits until it answers. The caller
// stops it with Stop. Distribution cannot listen on port 0 and report the port it got, so a free
// port is picked first; if another process takes it in between, Launch tries another.
func Launch(dir string) (*Registry, error) {
	bin, err := exec.LookPath(Binary)
	if err != nil {
		return nil, ErrNotInstalled
	}
	dir, err = filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(dir, "data"), 0o755); err != nil {
		return nil, err
	}
	var errs []error
	for attempt := 1; attempt <= 3; attempt++ {
		r, err := launch(bin, dir)
		if err == nil {
			return r, nil
		}
		errs = append(errs, fmt.Errorf("attempt %d: %w", attempt, err))
	}
	return nil, errors.Join(errs...)
}

func launch(bin, dir string) (*Registry, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	r := &Registry{Addr: fmt.Sprintf("127.0.0.1:%d", port), Dir: dir, exited: make(chan struct{})}
	config := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(config, []byte(configYAML(dir, r.Addr)), 0o644); err != nil {
		return nil, err
	}
	logPath := filepath.Join(dir, "registry.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	r.cmd = exec.Command(bin, "serve", config)
	// REGISTRY_* variables in the caller's environment would override the configuration.
	r.cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}
	r.cmd.Stdout, r.cmd.Stderr = logFile, logFile
	r.cmd.SysProcAttr = sysProcAttr()
	if err := r.cmd.Start(); err != nil {
		return nil, fmt.Errorf("run %s: %w", bin, err)
	}
	go func() {
		_ = r.cmd.Wait()
		close(r.exited)
	}()
	if err := r.waitReady(); err != nil {
		_ = r.Stop()
		log, _ := os.ReadFile(logPath)
		return nil, fmt.Errorf("registry on %s: %w; its log:\n%s", r.Addr, err, strings.TrimSpace(string(log)))
	}
	return r, nil
}

func configYAML(dir, addr string) string {
	return fmt.Sprintf(`version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: %s
`, filepath.Join(dir, "data"), addr)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free loopback port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// waitReady polls GET /v2/ until it answers 200, the process exits, or readyTimeout passes.
func (r *Registry) waitReady() error {
	client := &http.Client{Timeout: time.Second}
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	last := "no answer"
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+r.Addr+"/v2/", nil)
		if err != nil {
			return err
		}
		if resp, err := client.Do(req); err != nil {
			last = err.Error()
		} else {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = resp.Status
		}
		select {
		case <-r.exited:
			return fmt.Errorf("exited before answering GET /v2/ (%s)", r.cmd.ProcessState)
		case <-ctx.Done():
			return fmt.Errorf("GET http://%s/v2/ did not answer 200 within %s (last: %s)", r.Addr, readyTimeout, last)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Stop terminates the registry and waits for it to exit.
func (r *Registry) Stop() error {
	select {
	case <-r.exited:
		return nil
	default:
	}
	if err := r.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	select {
	case <-r.exited:
		return nil
	case <-time.After(5 * time.Second):
	}
	if err := r.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	<-r.exited
	return nil
}
