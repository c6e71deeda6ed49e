package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ocipromote/ocipromote/pkg/hold"
	"github.com/ocipromote/ocipromote/pkg/oci"
	"github.com/ocipromote/ocipromote/pkg/oci/ocitest"
	"github.com/ocipromote/ocipromote/pkg/pipeline"
	"github.com/ocipromote/ocipromote/pkg/step/steptest"
	"github.com/ocipromote/ocipromote/pkg/version"
)

const commit = "9f2c4e1a7b3d5f60718293a4b5c6d7e8f9012345"

func built(t *testing.T) (*ocitest.Server, string, pipeline.BuildResult) {
	t.Helper()
	srv := ocitest.New(t)
	repo := srv.Host + "/acme/app"
	reg, err := oci.Open(repo, oci.Options{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "app.yaml"), []byte("kind: ConfigMap\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := pipeline.BuildRC(context.Background(), reg, pipeline.BuildInput{
		Dir: dir, Sha: commit, Ref: "main", Created: time.Unix(0, 0).UTC(), ShortLen: 7, Rules: version.Rules{Bump: version.Patch},
	})
	if err != nil {
		t.Fatal(err)
	}
	return srv, repo, res
}

func TestTagValidatedAsActionsStepThenReplay(t *testing.T) {
	t.Parallel()
	srv, repo, rc := built(t)
	out := filepath.Join(t.TempDir(), "output")
	env := map[string]string{
		"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": out,
		"INPUT_REPOSITORY": repo, "INPUT_REVISION": rc.Version + "@" + rc.Digest,
	}
	r := steptest.Invoke(t, command.Name, run, env)
	if r.Code != 0 {
		t.Fatalf("exit %d:\n%s", r.Code, r.Stderr)
	}
	b, _ := os.ReadFile(out)
	for _, want := range []string{"promoted<<", "true", "reason<<", "promoted", "0.0.1", rc.Digest, commit} {
		if !strings.Contains(string(b), want) {
			t.Errorf("GITHUB_OUTPUT lacks %q:\n%s", want, b)
		}
	}
	writes := len(srv.Writes())
	r = steptest.Invoke(t, command.Name, run, map[string]string{}, "--repository", repo, "--sha", commit[:7], "--json")
	var got map[string]string
	if err := json.Unmarshal([]byte(r.Stdout), &got); err != nil || r.Code != 0 {
		t.Fatalf("replay: exit %d, stdout %q: %v\n%s", r.Code, r.Stdout, err, r.Stderr)
	}
	if got["promoted"] != "false" || got["reason"] != "already-promoted" || got["version"] != "0.0.1" || got["sha"] != commit {
		t.Errorf("replay outputs = %v", got)
	}
	if w := srv.Writes()[writes:]; len(w) != 0 {
		t.Errorf("replay wrote %v", w)
	}
}

func TestTagValidatedErrors(t *testing.T) {
	t.Parallel()
	_, repo, _ := built(t)
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"help", []string{"--help"}, 0, "-revision"},
		{"nothing named", []string{"--repository", repo}, 2, "--revision, --digest or --sha"},
		{"unknown artifact", []string{"--repository", repo, "--digest", "sha256:" + strings.Repeat("0", 64)}, 1, "looked up digest sha256:000"},
		{"hostile revision", []string{"--repository", repo, "--revision", "0.0.1-rc.1@sha256:$(curl evil)\n::set-output"}, 2, "revision"},
		{"non-hex sha", []string{"--repository", repo, "--sha", "zzzzzzz"}, 2, "hex"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := steptest.Invoke(t, command.Name, run, map[string]string{}, tc.args...)
			if r.Code != tc.code || !strings.Contains(r.Stdout+r.Stderr, tc.want) {
				t.Errorf("exit %d (want %d), output lacks %q?\n%s%s", r.Code, tc.code, tc.want, r.Stdout, r.Stderr)
			}
		})
	}
}

// A token is masked in the Actions log and appears in no error, summary or --json output, even
// when the registry refuses it.
func TestTagValidatedNeverPrintsSecrets(t *testing.T) {
	t.Parallel()
	const token = "ghp_s3cr3tT0k3nValue"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
		http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`, http.StatusUnauthorized)
	}))
	t.Cleanup(srv.Close)
	summary := filepath.Join(t.TempDir(), "summary")
	repo := strings.TrimPrefix(srv.URL, "http://") + "/acme/app"
	for _, env := range []map[string]string{
		{"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": summary, "INPUT_USERNAME": "ci", "INPUT_PASSWORD": token},
		{"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": summary, "GITHUB_TOKEN": token, "GITHUB_ACTOR": "ci"},
	} {
		r := steptest.Invoke(t, command.Name, run, env, "--repository", repo, "--sha", commit, "--json")
		if r.Code != 1 {
			t.Errorf("exit = %d, want 1", r.Code)
		}
		if !strings.Contains(r.Stderr, "::add-mask::"+token) {
			t.Errorf("token not masked:\n%s", r.Stderr)
		}
		rest := strings.ReplaceAll(r.Stderr, "::add-mask::"+token, "")
		b, _ := os.ReadFile(summary)
		for _, out := range []string{r.Stdout, rest, string(b)} {
			if strings.Contains(out, token) {
				t.Errorf("token printed: %s", out)
			}
		}
		if !strings.Contains(r.Stderr, "not authenticated") {
			t.Errorf("the error should say what to do about credentials:\n%s", r.Stderr)
		}
	}
}

// While a hold is on, tag-validated answers held, exits 0 and writes nothing; after the release
// the same event promotes.
func TestTagValidatedHeld(t *testing.T) {
	t.Parallel()
	srv, repo, rc := built(t)
	reg, err := oci.Open(repo, oci.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := hold.Set(ctx, reg, nil, hold.Record{Reason: "change freeze", Actor: "alice", Time: time.Now()}, false); err != nil {
		t.Fatal(err)
	}
	writes := len(srv.Writes())
	args := []string{"--repository", repo, "--revision", rc.Version + "@" + rc.Digest, "--json"}
	r := steptest.Invoke(t, command.Name, run, map[string]string{}, args...)
	var got map[string]string
	if err := json.Unmarshal([]byte(r.Stdout), &got); err != nil || r.Code != 0 {
		t.Fatalf("held: exit %d, stdout %q: %v\n%s", r.Code, r.Stdout, err, r.Stderr)
	}
	if got["promoted"] != "false" || got["reason"] != "held" {
		t.Errorf("held outputs = %v, want promoted=false reason=held", got)
	}
	if !strings.Contains(r.Stderr, "change freeze") {
		t.Errorf("stderr does not say why it is held:\n%s", r.Stderr)
	}
	if w := srv.Writes()[writes:]; len(w) != 0 {
		t.Errorf("a held promotion wrote %v", w)
	}

	list, err := reg.Tags(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := hold.Release(ctx, reg, list, hold.Record{Actor: "alice", Time: time.Now()}, false); err != nil {
		t.Fatal(err)
	}
	r = steptest.Invoke(t, command.Name, run, map[string]string{}, args...)
	if err := json.Unmarshal([]byte(r.Stdout), &got); err != nil || r.Code != 0 {
		t.Fatalf("released: exit %d, stdout %q: %v\n%s", r.Code, r.Stdout, err, r.Stderr)
	}
	if got["promoted"] != "true" || got["version"] != "0.0.1" {
		t.Errorf("after the release outputs = %v, want 0.0.1 promoted", got)
	}
}
