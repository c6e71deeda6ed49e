package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ocipromote/ocipromote/pkg/event"
	"github.com/ocipromote/ocipromote/pkg/pipeline"
	"github.com/ocipromote/ocipromote/pkg/records/githubtest"
	"github.com/ocipromote/ocipromote/pkg/step/steptest"
)

// pending finds the candidates itself: no candidate waits with a pass in dev, so nothing is
// written and the candidate weighed is reported; naming a candidate with pending, or pending
// on the default chain, is a mistake.
func TestTagValidatedPending(t *testing.T) {
	t.Parallel()
	srv, repo, _, _, rc := builtInChain(t, "acme/pending")
	writes := len(srv.Writes())
	r := steptest.Invoke(t, command, run, map[string]string{}, "--repository", repo, "--stages", "dev,preprod,prod", "--to", "preprod", "--pending", "--json")
	var got map[string]string
	if err := steptest.DecodeOutputs(r.Stdout, &got); err != nil || r.Code != 0 {
		t.Fatalf("exit %d, stdout %q: %v\n%s", r.Code, r.Stdout, err, r.Stderr)
	}
	steptest.CheckSchema(t, r.Stdout, filepath.Join("..", "..", "testdata", "schema", "tag-validated.json"))
	if got["promoted"] != "false" || got["reason"] != "deferred" || got["gate"] != "unproven" || got["digest"] != rc.Digest || got["weighed"] != rc.Version+":unproven" {
		t.Errorf("outputs = %v, want %s deferred as unproven", got, rc.Version)
	}
	if w := srv.Writes()[writes:]; len(w) != 0 {
		t.Errorf("pending with nothing proven wrote %v", w)
	}
	for _, tc := range []struct {
		name string
		args []string
		says string
	}{
		{"a candidate named with pending", []string{"--stages", "dev,preprod,prod", "--to", "preprod", "--pending", "--revision", rc.Version + "@" + rc.Digest}, "without revision"},
		{"no candidate and no pending", []string{"--stages", "dev,preprod,prod", "--to", "preprod"}, "pending"},
	} {
		r := steptest.Invoke(t, command, run, map[string]string{}, append([]string{"--repository", repo}, tc.args...)...)
		if r.Code != 2 || !strings.Contains(r.Stderr, tc.says) {
			t.Errorf("%s: exit %d, want 2 saying %q:\n%s", tc.name, r.Code, tc.says, r.Stderr)
		}
	}
	if r := steptest.Invoke(t, command, run, map[string]string{}, "--repository", repo, "--pending"); r.Code != 1 || !strings.Contains(r.Stderr, "default chain") {
		t.Errorf("pending on the default chain: exit %d, want 1 saying why:\n%s", r.Code, r.Stderr)
	}
}

// A pending run into the last stage names no event: the release cites the pass recorded in the
// stage the candidate left.
func TestTagValidatedPendingReleaseCitesTheStagesPass(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, repo, reg, chain, rc := builtInChain(t, "acme/pending-release")
	passed := func(s, tag, message string) {
		t.Helper()
		d := event.Decision{Stage: s, Cluster: s, Message: message, Time: "2026-08-01T10:00:00Z", Promote: true,
			Revision: tag + "@" + rc.Digest, Digest: rc.Digest, Version: tag}
		d.Next, _ = chain.Next(s)
		if _, err := pipeline.RecordEvent(ctx, reg, pipeline.EventInput{Decision: d, Chain: chain}); err != nil {
			t.Fatal(err)
		}
	}
	passed("dev", rc.Version, "Health check passed in 2.0s")
	if _, err := pipeline.TagValidated(ctx, reg, pipeline.PromoteInput{Digest: rc.Digest, Stages: pipeline.StagePromotion{Chain: chain, To: "preprod"}}); err != nil {
		t.Fatal(err)
	}
	passed("preprod", "0.0.1-preprod.1", "Health check passed in 7.5s")

	gh := githubtest.New(t, "acme", "platform", githubtest.Token("gh-token"))
	gh.AddCommit(githubtest.Commit{Sha: commit, Message: "change replicas", Author: "Alice", Date: time.Unix(0, 0).UTC()})
	env := map[string]string{
		"GITHUB_REPOSITORY": "acme/platform", "GITHUB_API_URL": gh.APIURL(), "GITHUB_TOKEN": "gh-token",
		"INPUT_REPOSITORY": repo, "INPUT_STAGES": "dev,preprod,prod", "INPUT_TO": "prod", "INPUT_PENDING": "true", "INPUT_RELEASE": "true",
	}
	r := steptest.Invoke(t, command, run, env, "--json")
	var got map[string]string
	if err := steptest.DecodeOutputs(r.Stdout, &got); err != nil || r.Code != 0 || got["version"] != "0.0.1" {
		t.Fatalf("exit %d, outputs %q (%v), want 0.0.1:\n%s", r.Code, r.Stdout, err, r.Stderr)
	}
	releases := gh.Releases()
	if len(releases) != 1 || !strings.Contains(releases[0].Body, "preprod") || !strings.Contains(releases[0].Body, "Health check passed in 7.5s") {
		t.Errorf("releases %+v, want v0.0.1 citing preprod's pass", releases)
	}
}
