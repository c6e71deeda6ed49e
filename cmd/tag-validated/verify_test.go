package main

import (
	"fmt"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/ocipromote/ocipromote/pkg/oci/ocitest"
	"github.com/ocipromote/ocipromote/pkg/pipeline"
	"github.com/ocipromote/ocipromote/pkg/sign/signtest"
	"github.com/ocipromote/ocipromote/pkg/step/steptest"
	"github.com/ocipromote/ocipromote/test/registrytest"
)

// With verify on, tag-validated promotes only a candidate signed by the build workflow on main
// of this repository at the candidate's commit; anything else exits 1 with reason unsigned or
// untrusted-signer and writes nothing.
func TestTagValidatedVerify(t *testing.T) {
	t.Parallel()
	ss, err := signtest.New()
	if err != nil {
		t.Fatal(err)
	}
	trustedRoot := signtest.TrustedRootFile(t, ss)
	// tag-validated runs verify-bundles, found on PATH here (beside the binary in a release).
	helperDir := signtest.VerifyBundlesDir(t)
	const workflow = ".github/workflows/build-rc.yaml"
	tests := []struct {
		name   string
		signer *signtest.Identity
		code   int
		reason string
		stderr string
	}{
		{"signed by main's build workflow", &signtest.Identity{Issuer: "https://token.actions.githubusercontent.com", Repository: "acme/platform", Workflow: workflow, Ref: "refs/heads/main", Commit: commit}, 0, "promoted", "signature verified"},
		{"pushed by hand", nil, 1, "unsigned", "is unsigned: no Sigstore bundle is attached"},
		{"signed on another branch", &signtest.Identity{Issuer: "https://token.actions.githubusercontent.com", Repository: "acme/platform", Workflow: workflow, Ref: "refs/heads/wip", Commit: commit}, 1, "untrusted-signer", `source ref "refs/heads/wip", want refs/heads/main`},
	}
	// Both registry kinds: the in-memory registry without referrers API, and Debian's
	// distribution behind a counting proxy.
	distribution := registrytest.Start(t)
	var next atomic.Int64
	kinds := []struct {
		name  string
		build func(t *testing.T) (*ocitest.Server, string, pipeline.BuildResult)
	}{
		{"in-memory", built},
		{"distribution", func(t *testing.T) (*ocitest.Server, string, pipeline.BuildResult) {
			srv := ocitest.New(t, ocitest.Backend(httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: distribution})))
			repo := fmt.Sprintf("%s/acme/app-%d", srv.Host, next.Add(1))
			return srv, repo, buildAs(t, repo, commit, 7)
		}},
	}
	for _, kind := range kinds {
		for _, tc := range tests {
			t.Run(kind.name+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				srv, repo, rc := kind.build(t)
				if tc.signer != nil {
					r, err := name.NewRepository(repo)
					if err != nil {
						t.Fatal(err)
					}
					d := r.Digest(rc.Digest)
					desc, err := remote.Head(d)
					if err != nil {
						t.Fatal(err)
					}
					s, err := ss.Sign(*tc.signer, signtest.Statement(r.Name(), desc.Digest))
					if err != nil {
						t.Fatal(err)
					}
					if _, err := signtest.Attach(r, v1.Descriptor{MediaType: desc.MediaType, Digest: desc.Digest, Size: desc.Size}, s.Bundle); err != nil {
						t.Fatal(err)
					}
				}
				writes := len(srv.Writes())
				out := filepath.Join(t.TempDir(), "output")
				env := map[string]string{
					"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": out, "GITHUB_REPOSITORY": "acme/platform",
					"INPUT_REPOSITORY": repo, "INPUT_REVISION": rc.Version + "@" + rc.Digest,
					"INPUT_VERIFY": "true", "INPUT_TRUSTED_ROOT": trustedRoot,
					"PATH": helperDir,
				}
				r := steptest.Invoke(t, command, run, env)
				if r.Code != tc.code {
					t.Fatalf("exit %d, want %d:\n%s", r.Code, tc.code, r.Stderr)
				}
				if !strings.Contains(r.Stderr, tc.stderr) {
					t.Errorf("stderr lacks %q:\n%s", tc.stderr, r.Stderr)
				}
				b, _ := os.ReadFile(out)
				if !strings.Contains(string(b), "reason<<") || !strings.Contains(string(b), "\n"+tc.reason+"\n") {
					t.Errorf("GITHUB_OUTPUT reason is not %q:\n%s", tc.reason, b)
				}
				if w := srv.Writes()[writes:]; tc.code != 0 && len(w) != 0 {
					t.Errorf("refused, yet wrote %v", w)
				}
			})
		}
	}
}

func TestTagValidatedVerifyUsage(t *testing.T) {
	t.Parallel()
	_, repo, rc := built(t)
	notARoot := filepath.Join(t.TempDir(), "not-a-root.json")
	if err := os.WriteFile(notARoot, []byte(`{"mediaType":"application/vnd.in-toto+json"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	ss, err := signtest.New()
	if err != nil {
		t.Fatal(err)
	}
	trustedRoot := signtest.TrustedRootFile(t, ss)
	tests := []struct {
		name string
		args []string
		want string
	}{
		// Without trusted_root verify-bundles fetches the public-good root: the step only needs it.
		{"no trusted root", []string{"--verify", "--signer-repository", "acme/platform"}, "verify-bundles not found beside this binary or on PATH"},
		{"no signer repository", []string{"--verify", "--trusted-root", "x.json"}, "signer repository \"\" is not OWNER/REPO"},
		{"unreadable trusted root", []string{"--verify", "--trusted-root", filepath.Join(t.TempDir(), "missing.json"), "--signer-repository", "acme/platform"}, "give a Sigstore trusted_root.json"},
		{"not a trusted root", []string{"--verify", "--trusted-root", notARoot, "--signer-repository", "acme/platform"}, "is not a trusted root"},
		// No PATH in this environment, and the test binary has no verify-bundles beside it.
		{"no verify-bundles", []string{"--verify", "--trusted-root", trustedRoot, "--signer-repository", "acme/platform"}, "verify-bundles not found beside this binary or on PATH: --verify runs it"},
	}
	for _, tc := range tests {
		r := steptest.Invoke(t, command, run, map[string]string{}, append([]string{"--repository", repo, "--revision", rc.Version + "@" + rc.Digest}, tc.args...)...)
		if r.Code == 0 || !strings.Contains(r.Stderr, tc.want) {
			t.Errorf("%s: exit %d, stderr lacks %q:\n%s", tc.name, r.Code, tc.want, r.Stderr)
		}
	}
}
