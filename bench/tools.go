package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/ocipromote/ocipromote/pkg/oci/ocitest"
	"github.com/ocipromote/ocipromote/test/registrytest"
)

// craneVersion is the crane the comparison installs; it is the go-containerregistry release
// ocipromote itself builds on.
const craneVersion = "v0.22.1"

// The credentials of the token front.
const (
	user     = "bench"
	password = "bench-secret"
)

// tools are the binaries the benchmark runs.
type tools struct {
	buildRC, tagValidated string
	fluxpeer, artifact    string
	crane                 string
}

// buildTools builds ocipromote's binaries from the root module, the Flux-client peer and the
// artifact packer from this module, and installs crane (unless one is given).
func buildTools(ctx context.Context, root, bin, crane string) (tools, error) {
	if err := os.MkdirAll(bin, 0o755); err != nil {
		return tools{}, err
	}
	t := tools{
		buildRC: filepath.Join(bin, "build-rc"), tagValidated: filepath.Join(bin, "tag-validated"),
		fluxpeer: filepath.Join(bin, "fluxpeer"), artifact: filepath.Join(bin, "artifact"),
		crane: crane,
	}
	// Built as releases are (scripts/release-archives.sh): static, without cgo, so that the
	// binaries measured start as the ones users run (cgo's resolver and libc loading cost each
	// process start). The Flux-client peer and the packer are built the same way, as Flux's own
	// release binaries are.
	static := []string{"CGO_ENABLED=0"}
	if _, err := goCmd(ctx, root, static, "build", "-trimpath", "-o", bin+string(filepath.Separator), "./cmd/build-rc", "./cmd/tag-validated"); err != nil {
		return t, err
	}
	if _, err := goCmd(ctx, filepath.Join(root, "bench"), static, "build", "-trimpath", "-o", bin+string(filepath.Separator), "./cmd/fluxpeer", "./cmd/artifact"); err != nil {
		return t, err
	}
	if t.crane == "" {
		t.crane = filepath.Join(bin, "crane")
		if _, err := goCmd(ctx, os.TempDir(), []string{"GOBIN=" + bin, "GOFLAGS=", "GO111MODULE=on", "CGO_ENABLED=0"}, "install", "github.com/google/go-containerregistry/cmd/crane@"+craneVersion); err != nil {
			return t, fmt.Errorf("install crane: %w", err)
		}
	}
	return t, nil
}

// goCmd runs the go command in dir and returns its standard output.
func goCmd(ctx context.Context, dir string, env []string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("go %s in %s: %w\n%s", strings.Join(args, " "), dir, err, stderr.String())
	}
	return stdout.Bytes(), nil
}

// moduleRoot is the directory of the root module (the parent of this one).
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if !strings.HasSuffix(gomod, filepath.Join("bench", "go.mod")) {
		return "", fmt.Errorf("run the benchmark from the bench directory (go env GOMOD is %q)", gomod)
	}
	return filepath.Dir(filepath.Dir(gomod)), nil
}

// registry is the real registry and the counting fronts the tools talk to.
type registry struct {
	// direct is the registry's own host:port, for seeding repositories uncounted.
	direct string
	// loopback answers at once; remote answers each request a round trip late.
	loopback, remote *ocitest.Server
	// backend is the registry as the fronts reach it; it adds up the time the registry spends.
	backend *timed
}

// timed adds up the time its handler spends answering: the registry's own share of a step,
// which no client can save.
type timed struct {
	h    http.Handler
	busy atomic.Int64

	mu    sync.Mutex
	spans []span
}

// span is one request as the registry saw it: for -trace's timelines.
type span struct {
	start, end time.Time
	request    string // "METHOD path?query"
}

func (t *timed) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	t.h.ServeHTTP(w, r)
	end := time.Now()
	t.busy.Add(int64(end.Sub(start)))
	t.mu.Lock()
	t.spans = append(t.spans, span{start, end, r.Method + " " + r.URL.RequestURI()})
	t.mu.Unlock()
}

// since returns the requests that started at or after from.
func (t *timed) since(from time.Time) []span {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []span
	for _, s := range t.spans {
		if !s.start.Before(from) {
			out = append(out, s)
		}
	}
	return out
}

// spent is the registry's time so far.
func (t *timed) spent() time.Duration { return time.Duration(t.busy.Load()) }

// startRegistry launches docker-registry and puts ocitest's fronts before it: every request is
// recorded, tokens are required as on GHCR, and tag lists are paged by 100. The remote front
// also delays every answer by rtt, as a hosted runner talking to GHCR waits for each.
func startRegistry(dir string, rtt time.Duration, cleanup *cleanups) (*registry, error) {
	r, err := registrytest.Launch(dir)
	if err != nil {
		return nil, err
	}
	cleanup.Cleanup(func() { r.Stop() })
	// The fronts reach the registry through one proxy, which keeps as many idle connections as
	// the tools' requests in flight: Go's default keeps 2, and a step's third request sent
	// together with two others would wait for a connection the tool did not ask for.
	proxy := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: r.Addr})
	pool := http.DefaultTransport.(*http.Transport).Clone()
	pool.MaxIdleConnsPerHost = 16
	proxy.Transport = pool
	backend := &timed{h: proxy}
	front := func(extra ...ocitest.Option) *ocitest.Server {
		return ocitest.New(cleanup, append([]ocitest.Option{ocitest.Backend(backend), ocitest.MaxPage(100), ocitest.TokenAuth(user, password, "pull", "push")}, extra...)...)
	}
	return &registry{direct: r.Addr, loopback: front(), remote: front(ocitest.Latency(rtt)), backend: backend}, nil
}

// registryVersion is what docker-registry --version says, without the binary's name.
func registryVersion() string {
	out, err := exec.Command(registrytest.Binary, "--version").Output()
	if err != nil {
		return "unknown version"
	}
	f := strings.Fields(string(out))
	return f[len(f)-1]
}

// clientEnv is the environment of every tool's process: an empty HOME and a Docker config with
// the front's credentials, which all three tools read.
func clientEnv(tmp string, hosts ...string) ([]string, error) {
	home := filepath.Join(tmp, "home")
	docker := filepath.Join(home, ".docker")
	if err := os.MkdirAll(docker, 0o700); err != nil {
		return nil, err
	}
	auths := map[string]any{}
	for _, h := range hosts {
		auths[h] = map[string]string{"auth": base64.StdEncoding.EncodeToString([]byte(user + ":" + password))}
	}
	config, err := json.Marshal(map[string]any{"auths": auths})
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(docker, "config.json"), config, 0o600); err != nil {
		return nil, err
	}
	return []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "DOCKER_CONFIG=" + docker, "TZ=UTC"}, nil
}

// process is one finished process.
type process struct {
	stdout  string
	elapsed time.Duration
	maxRSS  int64 // bytes
}

// runProcess runs bin with args and env; a failure is an error carrying its output.
func runProcess(ctx context.Context, env []string, bin string, args ...string) (process, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	p := process{stdout: stdout.String(), elapsed: time.Since(start)}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok && ru != nil {
		p.maxRSS = ru.Maxrss << 10
	}
	if err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) || ctx.Err() != nil {
			return p, fmt.Errorf("%s %s: %v\nstdout:\n%s\nstderr:\n%s", filepath.Base(bin), strings.Join(args, " "), err, stdout.String(), stderr.String())
		}
		return p, err
	}
	return p, nil
}
