package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	ggcrname "github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/ocipromote/ocipromote/pkg/sign/signtest"
	"github.com/ocipromote/ocipromote/pkg/step/steptest"
)

// With verify on, a rollback puts live back only on an artifact signed by the build workflow on
// main at its commit, with the inputs tag-validated takes; anything else exits 1, saying unsigned
// or untrusted-signer, and writes nothing: a rollback is no way round verification.
func TestRollbackVerify(t *testing.T) {
	t.Parallel()
	ss, err := signtest.New()
	if err != nil {
		t.Fatal(err)
	}
	trustedRoot := signtest.TrustedRootFile(t, ss)
	helperDir := signtest.VerifyBundlesDir(t)
	const workflow = ".github/workflows/build-rc.yaml"
	commit := strings.Repeat("a", 40) // the commit promoted builds artifact a from
	tests := []struct {
		name   string
		signer *signtest.Identity
		dryRun bool
		code   int
		reason string
		stderr string
	}{
		{"signed by main's build workflow", &signtest.Identity{Issuer: "https://token.actions.githubusercontent.com", Repository: "acme/platform", Workflow: workflow, Ref: "refs/heads/main", Commit: commit}, false, 0, "", "signature verified"},
		{"pushed by hand", nil, false, 1, "unsigned", "is unsigned: no Sigstore bundle is attached"},
		{"pushed by hand, dry run", nil, true, 1, "unsigned", "is unsigned: no Sigstore bundle is attached"},
		{"signed on another branch", &signtest.Identity{Issuer: "https://token.actions.githubusercontent.com", Repository: "acme/platform", Workflow: workflow, Ref: "refs/heads/wip", Commit: commit}, false, 1, "untrusted-signer", `source ref "refs/heads/wip", want refs/heads/main`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, repo, rcs := promoted(t)
			if tc.signer != nil {
				r, err := ggcrname.NewRepository(repo)
				if err != nil {
					t.Fatal(err)
				}
				desc, err := remote.Head(r.Digest(rcs[0].Digest))
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
				"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": out, "GITHUB_REPOSITORY": "acme/platform", "GITHUB_ACTOR": "oncall",
				"INPUT_REPOSITORY": repo, "INPUT_TO": "aaaaaaa", "INPUT_REASON": "b broke login",
				"INPUT_VERIFY": "true", "INPUT_TRUSTED_ROOT": trustedRoot, "INPUT_DRY_RUN": "false",
				"PATH": helperDir,
			}
			if tc.dryRun {
				env["INPUT_DRY_RUN"] = "true"
			}
			r := steptest.Invoke(t, binary, run, env, "rollback")
			if r.Code != tc.code {
				t.Fatalf("exit %d, want %d:\n%s", r.Code, tc.code, r.Stderr)
			}
			if !strings.Contains(r.Stderr, tc.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tc.stderr, r.Stderr)
			}
			b, _ := os.ReadFile(out)
			w := srv.Writes()[writes:]
			if tc.code == 0 {
				if !strings.Contains(string(b), "\n0.0.3\n") || len(w) == 0 {
					t.Errorf("signed, yet not rolled back to 0.0.3: writes %v, outputs:\n%s", w, b)
				}
				return
			}
			if want := "rollback refused (" + tc.reason + ")"; !strings.Contains(r.Stderr, want) {
				t.Errorf("stderr lacks %q:\n%s", want, r.Stderr)
			}
			if len(b) != 0 {
				t.Errorf("refused, yet set outputs:\n%s", b)
			}
			if len(w) != 0 {
				t.Errorf("refused, yet wrote %v", w)
			}
		})
	}
}
