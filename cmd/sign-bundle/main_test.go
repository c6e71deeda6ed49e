package main

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/ocipromote/ocipromote/pkg/oci/ocitest"
	"github.com/ocipromote/ocipromote/pkg/sign/signtest"
	"github.com/ocipromote/ocipromote/pkg/step/steptest"
)

const commit = "9f2c4e1a7b3d5f60718293a4b5c6d7e8f9012345"

// sigstore starts the offline token endpoint, Fulcio and Rekor, and writes the trusted root.
func sigstore(t *testing.T) (env map[string]string) {
	t.Helper()
	ss, err := signtest.New()
	if err != nil {
		t.Fatal(err)
	}
	id := signtest.GitHub("acme/platform", ".github/workflows/build-rc.yaml", commit)
	tokens := httptest.NewServer(ss.TokenEndpoint(signtest.Job(id), "request-token", nil))
	t.Cleanup(tokens.Close)
	fulcio, rekor := signtest.Serve(t, ss)
	trusted := signtest.TrustedRootFile(t, ss)
	return map[string]string{
		"GITHUB_ACTIONS": "true", "ACTIONS_ID_TOKEN_REQUEST_URL": tokens.URL + "/?api-version=2.0", "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "request-token",
		"INPUT_FULCIO_URL": fulcio, "INPUT_REKOR_URL": rekor, "INPUT_TRUSTED_ROOT": trusted,
	}
}

func pushed(t *testing.T, srv *ocitest.Server) (repo, digest string) {
	t.Helper()
	repo = srv.Host + "/acme/app"
	img, err := random.Image(128, 1)
	if err != nil {
		t.Fatal(err)
	}
	r, err := name.ParseReference(repo + ":1.0.0-rc.1")
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(r, img); err != nil {
		t.Fatal(err)
	}
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return repo, d.String()
}

// In a GitHub Actions job: the job's OIDC token, Fulcio, Rekor, the bundle attached; a re-run
// finds it and writes nothing.
func TestSignBundle(t *testing.T) {
	t.Parallel()
	env := sigstore(t)
	srv := ocitest.New(t)
	repo, digest := pushed(t, srv)
	env["INPUT_REPOSITORY"], env["INPUT_DIGEST"] = repo, digest
	var outs []map[string]string
	for i := range 2 {
		writes := len(srv.Writes())
		r := steptest.Invoke(t, command, run, env, "--json")
		if r.Code != 0 {
			t.Fatalf("run %d: exit %d:\n%s", i, r.Code, r.Stderr)
		}
		steptest.CheckSchema(t, r.Stdout, filepath.Join("..", "..", "testdata", "schema", "sign-bundle.json"))
		var o map[string]string
		if err := steptest.DecodeOutputs(r.Stdout, &o); err != nil {
			t.Fatal(err)
		}
		outs = append(outs, o)
		if i == 1 && len(srv.Writes()) != writes {
			t.Errorf("re-run wrote %v", srv.Writes()[writes:])
		}
	}
	want := "https://github.com/acme/platform/.github/workflows/build-rc.yaml@refs/heads/main"
	if o := outs[0]; o["signed"] != "true" || o["written"] != "true" || o["signer"] != want || !strings.HasPrefix(o["referrer"], "sha256:") {
		t.Errorf("first run = %v", o)
	}
	if o := outs[1]; o["signed"] != "true" || o["written"] != "false" || o["referrer"] != outs[0]["referrer"] {
		t.Errorf("re-run = %v, want the first run's referrer found and nothing written", o)
	}
}

func TestSignBundleRefuses(t *testing.T) {
	t.Parallel()
	srv := ocitest.New(t)
	repo, digest := pushed(t, srv)
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte("not-a-jwt\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"bad digest", map[string]string{"INPUT_DIGEST": "sha256:nope"}, "input digest \"sha256:nope\" is not a manifest digest"},
		{"no id-token permission", map[string]string{"INPUT_DIGEST": digest}, "id-token: write"},
		{"token file not a JWT", map[string]string{"INPUT_DIGEST": digest, "INPUT_IDENTITY_TOKEN_FILE": tokenFile}, "the identity token is not a JWT"},
	}
	for _, tc := range tests {
		env := map[string]string{"GITHUB_ACTIONS": "true", "INPUT_REPOSITORY": repo}
		for k, v := range tc.env {
			env[k] = v
		}
		writes := len(srv.Writes())
		r := steptest.Invoke(t, command, run, env)
		if r.Code == 0 || !strings.Contains(r.Stderr, tc.want) {
			t.Errorf("%s: exit %d, stderr lacks %q:\n%s", tc.name, r.Code, tc.want, r.Stderr)
		}
		if w := srv.Writes()[writes:]; len(w) != 0 {
			t.Errorf("%s: refused, yet wrote %v", tc.name, w)
		}
	}
}
