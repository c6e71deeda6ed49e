package main

import (
	"context"
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
	"github.com/ocipromote/ocipromote/pkg/records/githubtest"
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
	r := steptest.Invoke(t, command, run, env)
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
	r = steptest.Invoke(t, command, run, map[string]string{}, "--repository", repo, "--sha", commit[:7], "--json")
	var got map[string]string
	if err := steptest.DecodeOutputs(r.Stdout, &got); err != nil || r.Code != 0 {
		t.Fatalf("replay: exit %d, stdout %q: %v\n%s", r.Code, r.Stdout, err, r.Stderr)
	}
	steptest.CheckSchema(t, r.Stdout, filepath.Join("..", "..", "testdata", "schema", "tag-validated.json"))
	if got["promoted"] != "false" || got["reason"] != "already-promoted" || got["version"] != "0.0.1" || got["sha"] != commit {
		t.Errorf("replay outputs = %v", got)
	}
	if w := srv.Writes()[writes:]; len(w) != 0 {
		t.Errorf("replay wrote %v", w)
	}
}

func TestTagValidatedUsage(t *testing.T) {
	t.Parallel()
	r := steptest.Invoke(t, command, run, map[string]string{}, "--help")
	if r.Code != 0 || !strings.Contains(r.Stdout+r.Stderr, "-revision") {
		t.Errorf("--help: exit %d, output lacks the -revision flag:\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
}

// buildAs pushes a release candidate of the same manifests for commit sha, with short length n.
func buildAs(t *testing.T, repo, sha string, n int) pipeline.BuildResult {
	t.Helper()
	reg, err := oci.Open(repo, oci.Options{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "app.yaml"), []byte("kind: ConfigMap\ndata: {sha: "+sha+"}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := pipeline.BuildRC(context.Background(), reg, pipeline.BuildInput{
		Dir: dir, Sha: sha, Ref: "main", Created: time.Unix(0, 0).UTC(), ShortLen: n, Rules: version.Rules{Bump: version.Patch},
	})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// Hostile and malformed inputs: each is refused with exit 1 or 2 and a message saying what is
// wrong and what to do, and the registry, which holds real candidates the inputs almost name,
// receives no write.
func TestTagValidatedBadInputsWriteNothing(t *testing.T) {
	t.Parallel()
	srv, repo, rc := built(t)
	// Two commits that share the short sha 9f2c4e1, built with 8-character short shas.
	const twinA, twinB = "9f2c4e1a00000000000000000000000000000001", "9f2c4e1b00000000000000000000000000000002"
	buildAs(t, repo, twinA, 8)
	other := buildAs(t, repo, twinB, 8)
	const token = "ghp_TagValidatedT0ken"
	zero := "sha256:" + strings.Repeat("0", 64)
	name := func(extra ...string) []string { return append([]string{"--repository", repo}, extra...) }
	revision := rc.Version + "@" + rc.Digest
	tests := []struct {
		name string
		env  map[string]string
		args []string
		code int
		want []string // what is wrong, and what to do
	}{
		{"nothing named", nil, name(), 2, []string{"name the validated artifact", "--revision, --digest or --sha"}},
		{"unknown digest", nil, name("--digest", zero), 1, []string{"looked up digest " + zero, "not found"}},
		{"unknown sha", nil, name("--sha", "abcdef0"), 1, []string{"no integration-abcdef0 tag", "was not built by build-rc, or not yet"}},
		{"ambiguous short sha", nil, name("--sha", "9f2c4e1"), 1, []string{"sha 9f2c4e1 is ambiguous", "integration-9f2c4e1a", "integration-9f2c4e1b", "give more characters or the full sha"}},
		{"three-character sha", nil, name("--sha", "9f2"), 2, []string{`commit sha "9f2" is not 4 to 40`, "hex"}},
		{"non-hex sha", nil, name("--sha", "zzzzzzz"), 2, []string{`"zzzzzzz"`, "4 to 40 lower-case hex"}},
		{"sha with a command", nil, name("--sha", "$(id)"), 2, []string{`"$(id)"`, "4 to 40 lower-case hex"}},
		{"revision and digest disagree", nil, name("--revision", revision, "--digest", other.Digest), 2, []string{"name different artifacts", "give one of them"}},
		{"revision and sha disagree", nil, name("--revision", revision, "--sha", twinB), 2, []string{"disagree", "the artifact was built from " + commit}},
		{"revision whose tag names another candidate", nil, name("--revision", other.Version+"@"+rc.Digest), 2, []string{"names release candidate " + other.Version, "give the revision Flux reported"}},
		{"hostile revision", nil, name("--revision", "0.0.1-rc.1@sha256:$(curl evil)\n::set-output"), 2, []string{`\n::set-output`, "want <tag>@sha256:<digest> or sha256:<digest>"}},
		{"revision with a newline", nil, name("--revision", revision+"\n::error::forged"), 2, []string{`\n::error:`, "is not sha256:<64 lower-case hex>", "want <tag>@sha256:<digest>"}},
		{"revision with shell metacharacters", nil, name("--revision", "$(reboot);x@"+rc.Digest), 2, []string{"is not a valid OCI tag", "$(reboot)"}},
		{"oversized revision", nil, name("--revision", strings.Repeat("1", 600)+"@"+rc.Digest), 2, []string{"bytes long, over the 512-byte limit", "a Flux revision is <tag>@sha256:<digest>"}},
		{"digest in upper case", nil, name("--digest", strings.ToUpper(rc.Digest)), 2, []string{"is not sha256:<64 lower-case hex>"}},
		{"malformed repository", nil, []string{"--repository", repo + "/../x;id", "--revision", revision}, 2, []string{"is not a valid OCI repository reference", "REGISTRY/PATH in lower case"}},
		{"repository with a newline", nil, []string{"--repository", repo + "\n::error::x", "--revision", revision}, 2, []string{"contains a control character", "give REGISTRY/PATH"}},
		{"repository with a command as its registry", nil, []string{"--repository", "$(id).io/acme/app", "--revision", revision}, 2, []string{`registry "$(id).io" is not a host name`, "give REGISTRY/PATH"}},
		{"repository with credentials", nil, []string{"--repository", "ci:" + token + "@" + repo, "--revision", revision}, 2, []string{"carries credentials", "pass the credentials as username and password"}},
		{"repository with a tag", nil, []string{"--repository", repo + ":0.0.1", "--revision", revision}, 2, []string{"has a tag", "give the repository only"}},
		{"bad dry_run", map[string]string{"INPUT_DRY_RUN": "maybe"}, name("--revision", revision), 2, []string{"--dry-run must be true or false", `"maybe"`}},
		{"validated_at not RFC 3339", map[string]string{"INPUT_VALIDATED_AT": "yesterday"}, name("--revision", revision), 2, []string{"--validated-at", "RFC 3339"}},
		{"bad release", map[string]string{"INPUT_RELEASE": "maybe"}, name("--revision", revision), 2, []string{"release must be true or false"}},
		{"GitHub API URL not a URL", map[string]string{"INPUT_DEPLOYMENTS": "true", "GITHUB_TOKEN": token, "GITHUB_REPOSITORY": "acme/platform", "INPUT_GITHUB_API_URL": "not-a-url"}, name("--revision", revision), 2, []string{`GitHub API URL "not-a-url" is not an http(s) URL`, "such as https://api.github.com"}},
		{"password without username", map[string]string{"INPUT_PASSWORD": token}, name("--revision", revision), 2, []string{"--username and --password go together", "give both, or neither"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			steptest.Refused(t, command, run, tc.env, tc.args, steptest.Refusal{Code: tc.code, Say: tc.want, Secret: token})
		})
	}
	// Every row has run once the parallel subtests are done; only the fixtures' builds wrote.
	writes := len(srv.Writes())
	t.Cleanup(func() {
		if w := srv.Writes()[writes:]; len(w) != 0 {
			t.Errorf("bad inputs reached the registry with writes: %v", w)
		}
	})
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
		r := steptest.Invoke(t, command, run, env, "--repository", repo, "--sha", commit, "--json")
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
		if !strings.Contains(r.Stderr, "refused the username and password given") && !strings.Contains(r.Stderr, "no credentials for") {
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
	if _, err := hold.Set(ctx, reg, nil, hold.Record{Reason: "change freeze", Actor: "alice", Time: time.Now()}, hold.Options{}); err != nil {
		t.Fatal(err)
	}
	writes := len(srv.Writes())
	args := []string{"--repository", repo, "--revision", rc.Version + "@" + rc.Digest, "--json"}
	r := steptest.Invoke(t, command, run, map[string]string{}, args...)
	var got map[string]string
	if err := steptest.DecodeOutputs(r.Stdout, &got); err != nil || r.Code != 0 {
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
	if _, err := hold.Release(ctx, reg, list, hold.Record{Actor: "alice", Time: time.Now()}, hold.Options{}); err != nil {
		t.Fatal(err)
	}
	r = steptest.Invoke(t, command, run, map[string]string{}, args...)
	if err := steptest.DecodeOutputs(r.Stdout, &got); err != nil || r.Code != 0 {
		t.Fatalf("released: exit %d, stdout %q: %v\n%s", r.Code, r.Stdout, err, r.Stderr)
	}
	if got["promoted"] != "true" || got["version"] != "0.0.1" {
		t.Errorf("after the release outputs = %v, want 0.0.1 promoted", got)
	}
}

// On a successful promotion with every record on, neither the registry password nor the GitHub
// token appears in stdout, stderr (but for the mask commands), GITHUB_OUTPUT, the job summary or
// --json, and both were really used.
func TestTagValidatedSuccessPrintsNoSecrets(t *testing.T) {
	t.Parallel()
	const password, token = "s3cr3t-Passw0rd-value", "ghs_JobT0kenValue"
	srv := ocitest.New(t, ocitest.TokenAuth("ci", password, "pull", "push"))
	repo := srv.Host + "/acme/app"
	reg, err := oci.Open(repo, oci.Options{Username: "ci", Password: password})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "app.yaml"), []byte("kind: ConfigMap\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	rc, err := pipeline.BuildRC(context.Background(), reg, pipeline.BuildInput{
		Dir: dir, Sha: commit, Ref: "main", Created: time.Unix(0, 0).UTC(), ShortLen: 7, Rules: version.Rules{Bump: version.Patch},
	})
	if err != nil {
		t.Fatal(err)
	}
	gh := githubtest.New(t, "acme", "platform", githubtest.Token(token))
	gh.AddCommit(githubtest.Commit{Sha: commit, Message: "change replicas", Author: "Alice", Date: time.Unix(0, 0).UTC()})
	tmp := t.TempDir()
	out, summary := filepath.Join(tmp, "output"), filepath.Join(tmp, "summary")
	env := map[string]string{
		"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": out, "GITHUB_STEP_SUMMARY": summary,
		"GITHUB_REPOSITORY": "acme/platform", "GITHUB_API_URL": gh.APIURL(), "GITHUB_TOKEN": token, "GITHUB_RUN_ID": "7",
		"INPUT_REPOSITORY": repo, "INPUT_REVISION": rc.Version + "@" + rc.Digest,
		"INPUT_USERNAME": "ci", "INPUT_PASSWORD": password,
		"INPUT_DEPLOYMENTS": "true", "INPUT_RELEASE": "true",
		"INPUT_VALIDATED_CLUSTER": "integration", "INPUT_VALIDATED_MESSAGE": "Health check passed in 4.2s", "INPUT_VALIDATED_AT": "2026-08-01T10:00:00Z",
	}
	r := steptest.Invoke(t, command, run, env, "--json")
	if r.Code != 0 {
		t.Fatalf("exit %d:\n%s", r.Code, r.Stderr)
	}
	var got map[string]string
	if err := steptest.DecodeOutputs(r.Stdout, &got); err != nil || got["promoted"] != "true" {
		t.Fatalf("outputs %q (%v), want promoted=true", r.Stdout, err)
	}
	if len(gh.Writes()) == 0 {
		t.Errorf("nothing was written to GitHub, so the token was not used; stderr:\n%s", r.Stderr)
	}
	for _, secret := range []string{password, token} {
		// Once: issue 14 found the token masked twice (as github_token and as GITHUB_TOKEN).
		if n := strings.Count(r.Stderr, "::add-mask::"+secret+"\n"); n != 1 {
			t.Errorf("%q is masked %d times in the Actions log, want once:\n%s", secret, n, r.Stderr)
		}
		if where := steptest.Leaks(t, r, secret, out, summary); len(where) != 0 {
			t.Errorf("%q leaked into %v:\nstdout:\n%s\nstderr:\n%s", secret, where, r.Stdout, r.Stderr)
		}
	}
}
