package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	ggcrname "github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/ocipromote/ocipromote/pkg/sign"
	"github.com/ocipromote/ocipromote/pkg/sign/signtest"
	"github.com/ocipromote/ocipromote/pkg/status"
	"github.com/ocipromote/ocipromote/pkg/step/steptest"
)

// Issue 17: with verify, status shows each artifact's signer as tag-validated would judge it, in
// the text, Markdown and JSON reports, with one verify-bundles run for all the artifacts.
func TestStatusVerify(t *testing.T) {
	t.Parallel()
	ss, err := signtest.New()
	if err != nil {
		t.Fatal(err)
	}
	rootJSON, err := ss.TrustedRootJSON()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	trustedRoot := filepath.Join(dir, "trusted_root.json")
	if err := os.WriteFile(trustedRoot, rootJSON, 0o600); err != nil {
		t.Fatal(err)
	}
	// verify-bundles behind a wrapper that counts its runs.
	real := filepath.Join(signtest.VerifyBundlesDir(t), sign.HelperName)
	pathDir, runs := filepath.Join(dir, "bin"), filepath.Join(dir, "runs")
	if err := os.Mkdir(pathDir, 0o755); err != nil {
		t.Fatal(err)
	}
	wrapper := "#!/bin/sh\necho run >> '" + runs + "'\nexec '" + real + "' \"$@\"\n"
	if err := os.WriteFile(filepath.Join(pathDir, sign.HelperName), []byte(wrapper), 0o755); err != nil {
		t.Fatal(err)
	}

	_, repo, rcs := promoted(t) // artifacts a (commit aaa…) and b (bbb…)
	const workflow = ".github/workflows/build-rc.yaml"
	signers := []signtest.Identity{
		{Issuer: sign.GitHubIssuer, Repository: "acme/platform", Workflow: workflow, Ref: "refs/heads/main", Commit: strings.Repeat("a", 40)},
		{Issuer: sign.GitHubIssuer, Repository: "acme/platform", Workflow: workflow, Ref: "refs/heads/wip", Commit: strings.Repeat("b", 40)},
	}
	r, err := ggcrname.NewRepository(repo)
	if err != nil {
		t.Fatal(err)
	}
	for i, id := range signers {
		desc, err := remote.Head(r.Digest(rcs[i].Digest))
		if err != nil {
			t.Fatal(err)
		}
		s, err := ss.Sign(id, signtest.Statement(r.Name(), desc.Digest))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := signtest.Attach(r, v1.Descriptor{MediaType: desc.MediaType, Digest: desc.Digest, Size: desc.Size}, s.Bundle); err != nil {
			t.Fatal(err)
		}
	}
	env := map[string]string{"GITHUB_REPOSITORY": "acme/platform", "PATH": pathDir}
	args := []string{"status", "--repository", repo, "--verify", "--trusted-root", trustedRoot}

	js := steptest.Invoke(t, binary, run, env, append(args, "--json")...)
	if js.Code != 0 {
		t.Fatalf("status --verify --json: exit %d\n%s", js.Code, js.Stderr)
	}
	steptest.CheckSchema(t, js.Stdout, filepath.Join("..", "..", "testdata", "schema", "ocipromote-status.json"))
	var rep status.Report
	if err := json.Unmarshal([]byte(js.Stdout), &rep); err != nil {
		t.Fatal(err)
	}
	bySha := map[string]*status.Signature{}
	for _, a := range rep.Artifacts {
		bySha[a.Sha] = a.Signature
	}
	a, b := bySha[strings.Repeat("a", 40)], bySha[strings.Repeat("b", 40)]
	if a == nil || a.Outcome != sign.Signed || a.Signer == nil || a.Signer.Identity != "https://github.com/acme/platform/"+workflow+"@refs/heads/main" || len(a.Others) != 0 {
		t.Errorf("artifact a's signature = %+v, want signed by main's build workflow", a)
	}
	if b == nil || b.Outcome != sign.UntrustedSigner || b.Signer != nil || len(b.Others) != 1 || b.Others[0].Ref != "refs/heads/wip" || !strings.Contains(b.Reason, `source ref "refs/heads/wip"`) {
		t.Errorf("artifact b's signature = %+v, want untrusted-signer, signed on refs/heads/wip", b)
	}
	if got, _ := os.ReadFile(runs); strings.Count(string(got), "run") != 1 {
		t.Errorf("verify-bundles ran %d times for one status of two signed artifacts, want once", strings.Count(string(got), "run"))
	}

	text := steptest.Invoke(t, binary, run, env, args...)
	md := steptest.Invoke(t, binary, run, env, append(args, "--format", "markdown")...)
	for _, out := range []steptest.Result{text, md} {
		if out.Code != 0 {
			t.Fatalf("status --verify: exit %d\n%s", out.Code, out.Stderr)
		}
		for _, want := range []string{"signed by acme/platform/.github/workflows/build-rc.yaml@refs/heads/main", "untrusted-signer: signed by acme/platform/.github/workflows/build-rc.yaml@refs/heads/wip at " + strings.Repeat("b", 40)} {
			if !strings.Contains(out.Stdout, want) {
				t.Errorf("report lacks %q:\n%s", want, out.Stdout)
			}
		}
	}
	if !strings.Contains(text.Stdout, "SIGNATURE") || !strings.Contains(md.Stdout, "| signature |") {
		t.Errorf("the reports lack a signature column:\n%s\n%s", text.Stdout, md.Stdout)
	}

	// Without verify the reports are as before: no column, no signature in the JSON.
	plain := steptest.Invoke(t, binary, run, env, "status", "--repository", repo)
	if plain.Code != 0 || strings.Contains(plain.Stdout, "SIGNATURE") {
		t.Errorf("status without verify: exit %d, shows signatures:\n%s", plain.Code, plain.Stdout)
	}
}
