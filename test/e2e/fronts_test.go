package e2e

import (
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ocipromote/ocipromote/pkg/oci/ocitest"
)

// behind puts a misbehaving front (ocitest's) before the shared real registry and returns the
// front and repo as the binaries reach it through the front: the same repository, another host.
func behind(t *testing.T, repo string, opts ...ocitest.Option) (*ocitest.Server, string) {
	t.Helper()
	proxy := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: registryAddr})
	srv := ocitest.New(t, append([]ocitest.Option{ocitest.Backend(proxy), ocitest.MaxPage(100)}, opts...)...)
	return srv, srv.Host + strings.TrimPrefix(repo, registryAddr)
}

// A registry that accepts a request and never answers (tags/list, a manifest PUT, a HEAD) ends
// every step with exit 1 and a message naming the registry, the request and the timeout, within
// the step's timeout: the issue found every binary still waiting after 600 s.
func TestStalledRegistryEndsEveryStep(t *testing.T) {
	t.Parallel()
	repo := newRepo(t)
	a := candidates(t, repo, "a")[0]
	bounds := []string{"--timeout", "4s", "--request-timeout", "500ms"}
	tests := []struct {
		name          string
		method, path  string
		bin           string
		args          func(repo string) []string
		env           func(t *testing.T, repo string) map[string]string
		wantInMessage string
	}{
		{"build-rc, listing", http.MethodGet, `/tags/list$`, "build-rc", func(repo string) []string {
			return []string{"--repository", repo, "--path", manifestsDir(t, "b"), "--sha", commit(t, "b"), "--ref", "main", "--source", source, "--created", created}
		}, nil, "/tags/list"},
		{"build-rc, manifest PUT", http.MethodPut, `/manifests/`, "build-rc", func(repo string) []string {
			return []string{"--repository", repo, "--path", manifestsDir(t, "c"), "--sha", commit(t, "c"), "--ref", "main", "--source", source, "--created", created}
		}, nil, "/manifests/"},
		{"tag-validated, listing", http.MethodGet, `/tags/list$`, "tag-validated", func(repo string) []string {
			return []string{"--repository", repo, "--revision", a["version"] + "@" + a["digest"]}
		}, nil, "/tags/list"},
		{"dispatch-receiver, listing", http.MethodGet, `/tags/list$`, "dispatch-receiver", func(repo string) []string {
			return []string{"--repository", repo}
		}, func(t *testing.T, _ string) map[string]string {
			return map[string]string{"GITHUB_EVENT_NAME": "repository_dispatch", "GITHUB_EVENT_PATH": dispatchEvent(t, a["version"]+"@"+a["digest"], commit(t, "a")),
				"INPUT_OBJECT": "Kustomization/platform.flux-system", "INPUT_CLUSTER": "integration"}
		}, "/tags/list"},
		{"status, listing", http.MethodGet, `/tags/list$`, "ocipromote", func(repo string) []string {
			return []string{"status", "--repository", repo}
		}, nil, "/tags/list"},
		{"rollback, HEAD", http.MethodHead, `/manifests/`, "ocipromote", func(repo string) []string {
			return []string{"rollback", "--repository", repo, "--to", a["digest"], "--reason", "stalled", "--actor", "oncall"}
		}, nil, "/manifests/"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, fronted := behind(t, repo, ocitest.Stall(tc.method, tc.path))
			var env map[string]string
			if tc.env != nil {
				env = tc.env(t, fronted)
			}
			start := time.Now()
			r := run(t, env, tc.bin, append(tc.args(fronted), bounds...)...)
			elapsed := time.Since(start)
			if r.code != 1 {
				t.Fatalf("exit %d, want 1 on a stalled registry\n%s", r.code, r)
			}
			if srv.Stalled() == 0 {
				t.Fatalf("no request was stalled: the test does not test a stall\n%s", r)
			}
			for _, want := range []string{srv.Host, tc.wantInMessage, "timeout"} {
				if !strings.Contains(r.stderr, want) {
					t.Errorf("message does not name %q:\n%s", want, r.stderr)
				}
			}
			if !strings.Contains(r.stderr, "attempt 1 of 5") {
				t.Errorf("no retry was logged:\n%s", r.stderr)
			}
			// The step's timeout is 4 s; the process must end soon after it, not at run's 90 s limit.
			if elapsed > 30*time.Second {
				t.Errorf("%s took %s with --timeout 4s", tc.bin, elapsed)
			}
		})
	}
}
