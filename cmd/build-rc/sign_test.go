package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ocipromote/ocipromote/pkg/oci/ocitest"
)

// build-rc must stay small and quick to start: the Sigstore code lives in sign-bundle, which
// build-rc runs as a process when it signs.
func TestBuildRCLinksNoSigstore(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	deps := strings.Fields(string(out))
	if !slices.Contains(deps, "github.com/ocipromote/ocipromote/pkg/sign/signexec") {
		t.Fatalf("build-rc does not import signexec; the listing is not of build-rc:\n%s", out)
	}
	for _, d := range deps {
		if strings.HasPrefix(d, "github.com/sigstore/") {
			t.Errorf("build-rc depends on %s: keep Sigstore code in cmd/sign-bundle", d)
		}
	}
}

// fakeSigner writes a stand-in sign-bundle that records its arguments and environment and
// answers as the real one (or fails with its error line, as the real one does in Actions).
func fakeSigner(t *testing.T, fail bool) (bin, record string) {
	t.Helper()
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	record = filepath.Join(dir, "record")
	script := "#!" + sh + "\necho \"args: $*\" > " + record + "\nenv >> " + record + "\necho 'signing (log line)' >&2\n"
	if fail {
		script += "echo '::error::sign-bundle: Fulcio returned 401: token expired' >&2\nexit 1\n"
	} else {
		script += `echo '{"signed":true,"written":true,"referrer":"sha256:` + strings.Repeat("ab", 32) + `","signer":"https://github.com/acme/platform/.github/workflows/build-rc.yaml@refs/heads/main"}'` + "\n"
	}
	bin = filepath.Join(dir, "sign-bundle")
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return bin, record
}

// With sign, build-rc hands sign-bundle the digest and the registry's credentials through its
// environment (never its command line), reports signed, and writes the release-candidate tag
// only once the candidate is signed: a failed signature leaves no candidate for integration.
func TestBuildRCSignRunsSignBundle(t *testing.T) {
	t.Parallel()
	for _, fail := range []bool{false, true} {
		srv := ocitest.New(t)
		bin, record := fakeSigner(t, fail)
		out := filepath.Join(t.TempDir(), "output")
		const password = "s3cr3t-registry-token"
		env := map[string]string{
			"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": out,
			"ACTIONS_ID_TOKEN_REQUEST_URL": "https://token.example/id?api-version=2.0", "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "req-token",
			"INPUT_REPOSITORY": srv.Host + "/acme/app", "INPUT_PATH": manifestsDir(t), "INPUT_SHA": commit, "INPUT_REF": "main",
			"INPUT_CREATED": "2026-08-01T10:00:00Z", "INPUT_USERNAME": "ci", "INPUT_PASSWORD": password,
			"INPUT_SIGN": "true", "OCIPROMOTE_SIGN_BUNDLE": bin,
		}
		r := invoke(t, env)
		rec, err := os.ReadFile(record)
		if err != nil {
			t.Fatalf("fail=%v: sign-bundle did not run: %v\n%s", fail, err, r.Stderr)
		}
		if !strings.HasPrefix(string(rec), "args: --json\n") {
			t.Errorf("fail=%v: sign-bundle's command line is not just --json:\n%s", fail, strings.SplitN(string(rec), "\n", 2)[0])
		}
		for _, want := range []string{"INPUT_PASSWORD=" + password, "INPUT_USERNAME=ci", "INPUT_DIGEST=sha256:", "INPUT_REPOSITORY=" + srv.Host + "/acme/app",
			"INPUT_FULCIO_URL=https://fulcio.sigstore.dev", "INPUT_REKOR_URL=https://rekor.sigstore.dev", "ACTIONS_ID_TOKEN_REQUEST_TOKEN=req-token"} {
			if !strings.Contains(string(rec), "\n"+want) {
				t.Errorf("fail=%v: sign-bundle's environment lacks %s", fail, want)
			}
		}
		if strings.Contains(string(rec), "GITHUB_OUTPUT=") {
			t.Errorf("fail=%v: sign-bundle was handed build-rc's GITHUB_OUTPUT", fail)
		}
		var tags []string // the tags written, in order
		for _, w := range srv.Writes() {
			if _, tag, ok := strings.Cut(w, "/manifests/"); ok && strings.HasPrefix(w, "PUT ") && !strings.HasPrefix(tag, "sha256:") {
				tags = append(tags, tag)
			}
		}
		b, _ := os.ReadFile(out)
		if fail {
			if r.Code != 1 || !strings.Contains(r.Stderr, "Fulcio returned 401: token expired") || !strings.Contains(r.Stderr, "run build-rc again") {
				t.Errorf("failed signature: exit %d, stderr:\n%s", r.Code, r.Stderr)
			}
			if slices.Contains(tags, "0.0.1-rc.1") || slices.ContainsFunc(tags, func(t string) bool { return strings.HasPrefix(t, "integration-") }) {
				t.Errorf("failed signature, yet the candidate is tagged for integration: %v", tags)
			}
			continue
		}
		if r.Code != 0 {
			t.Fatalf("exit %d:\n%s", r.Code, r.Stderr)
		}
		if !strings.Contains(string(b), "signed<<") || !strings.Contains(r.Stderr, "signing (log line)") {
			t.Errorf("signed output or sign-bundle's log missing:\n%s\n%s", b, r.Stderr)
		}
		if !slices.Contains(tags, "0.0.1-rc.1") {
			t.Errorf("tags written = %v, want the release candidate", tags)
		}
	}
}

// sign-bundle runs within the step's time budget: one that hangs is ended with the step, which
// fails naming the timeout, and nothing is tagged for integration.
func TestBuildRCSignIsBoundedByTheStep(t *testing.T) {
	t.Parallel()
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "sign-bundle")
	if err := os.WriteFile(bin, []byte("#!"+sh+"\nexec sleep 60\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	srv := ocitest.New(t)
	start := time.Now()
	r := invoke(t, map[string]string{
		"INPUT_REPOSITORY": srv.Host + "/acme/app", "INPUT_PATH": manifestsDir(t), "INPUT_SHA": commit,
		"INPUT_CREATED": "2026-08-01T10:00:00Z", "INPUT_SIGN": "true", "INPUT_TIMEOUT": "2s", "OCIPROMOTE_SIGN_BUNDLE": bin,
	})
	if took := time.Since(start); r.Code != 1 || took > 15*time.Second || !strings.Contains(r.Stderr, "2s") {
		t.Errorf("exit %d after %s, want 1 within the 2s timeout (and its 5s wait for the process); stderr:\n%s", r.Code, took, r.Stderr)
	}
	for _, w := range srv.Writes() {
		if strings.HasSuffix(w, "/manifests/0.0.1-rc.1") {
			t.Errorf("the release candidate was tagged although signing never finished: %s", w)
		}
	}
}
