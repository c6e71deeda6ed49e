package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ocipromote/ocipromote/pkg/oci"
	"github.com/ocipromote/ocipromote/pkg/oci/ocitest"
	"github.com/ocipromote/ocipromote/pkg/pipeline"
	"github.com/ocipromote/ocipromote/pkg/stage"
	"github.com/ocipromote/ocipromote/pkg/step/steptest"
	"github.com/ocipromote/ocipromote/pkg/version"
)

func TestTagValidatedStages(t *testing.T) {
	t.Parallel()
	srv, repo, _, _, rc := builtInChain(t, "acme/three")
	rev := rc.Version + "@" + rc.Digest
	writes := len(srv.Writes())

	// No pass recorded in dev: deferred, exit 0, nothing written.
	r := steptest.Invoke(t, command, run, map[string]string{}, "--repository", repo, "--revision", rev, "--stages", "dev,preprod,prod", "--to", "preprod", "--soak", "dev=1h", "--json")
	var got map[string]string
	if err := steptest.DecodeOutputs(r.Stdout, &got); err != nil || r.Code != 0 {
		t.Fatalf("exit %d, stdout %q: %v\n%s", r.Code, r.Stdout, err, r.Stderr)
	}
	steptest.CheckSchema(t, r.Stdout, filepath.Join("..", "..", "testdata", "schema", "tag-validated.json"))
	if got["promoted"] != "false" || got["reason"] != "deferred" || got["gate"] != "soak" || got["until"] != "" || got["from"] != "dev" || got["to"] != "preprod" {
		t.Errorf("outputs = %v, want deferred by dev's soak, from dev to preprod", got)
	}
	if w := srv.Writes()[writes:]; len(w) != 0 {
		t.Errorf("a deferred promotion wrote %v", w)
	}

	// Forced: preprod's tag and marker, and the gate it went through.
	r = steptest.Invoke(t, command, run, map[string]string{}, "--repository", repo, "--revision", rev, "--stages", "dev,preprod,prod", "--to", "preprod", "--force", "--json")
	got = nil
	if err := steptest.DecodeOutputs(r.Stdout, &got); err != nil || r.Code != 0 {
		t.Fatalf("forced: exit %d, stdout %q: %v\n%s", r.Code, r.Stdout, err, r.Stderr)
	}
	if got["promoted"] != "true" || got["version"] != "0.0.1-preprod.1" || got["forced"] != "true" {
		t.Errorf("forced outputs = %v, want 0.0.1-preprod.1 forced", got)
	}

	for _, tc := range []struct {
		name string
		args []string
		code int
		says string
	}{
		{"the first stage is no target", []string{"--stages", "dev,preprod,prod", "--to", "dev"}, 2, "first stage"},
		{"a stage not in the chain", []string{"--stages", "dev,preprod,prod", "--to", "live"}, 2, "not a stage"},
		{"a soak in the default chain", []string{"--soak", "integration=1h"}, 2, "pass records"},
		{"a window of the first stage", []string{"--stages", "dev,preprod,prod", "--windows", "dev=Mon 09:00-10:00 UTC"}, 2, "first stage"},
	} {
		r := steptest.Invoke(t, command, run, map[string]string{}, append([]string{"--repository", repo, "--revision", rev}, tc.args...)...)
		if r.Code != tc.code || !strings.Contains(r.Stderr, tc.says) {
			t.Errorf("%s: exit %d, want %d saying %q:\n%s", tc.name, r.Code, tc.code, tc.says, r.Stderr)
		}
	}
}

// builtInChain is a repository at path on an in-memory registry holding one build of commit,
// offered to dev, the first stage of dev,preprod,prod.
func builtInChain(t *testing.T, path string) (*ocitest.Server, string, *oci.Repository, stage.Chain, pipeline.BuildResult) {
	t.Helper()
	srv := ocitest.New(t)
	repo := srv.Host + "/" + path
	reg, err := oci.Open(repo, oci.Options{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "app.yaml"), []byte("kind: ConfigMap\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	chain, err := stage.Parse("dev,preprod,prod")
	if err != nil {
		t.Fatal(err)
	}
	rc, err := pipeline.BuildRC(context.Background(), reg, pipeline.BuildInput{
		Dir: dir, Sha: commit, Ref: "main", Created: time.Unix(0, 0).UTC(), ShortLen: 7, Rules: version.Rules{Bump: version.Patch}, Stages: chain,
	})
	if err != nil {
		t.Fatal(err)
	}
	return srv, repo, reg, chain, rc
}
