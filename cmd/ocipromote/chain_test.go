package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ocipromote/ocipromote/pkg/oci"
	"github.com/ocipromote/ocipromote/pkg/oci/ocitest"
	"github.com/ocipromote/ocipromote/pkg/pass"
	"github.com/ocipromote/ocipromote/pkg/pipeline"
	"github.com/ocipromote/ocipromote/pkg/records/githubtest"
	"github.com/ocipromote/ocipromote/pkg/status"
	"github.com/ocipromote/ocipromote/pkg/step/steptest"
	"github.com/ocipromote/ocipromote/pkg/version"
)

// chainRepo is a dev → preprod → prod repository: a (0.0.1-rc.1) is in prod as 0.0.1; b
// (0.0.2-rc.1) is in preprod as 0.0.2-preprod.1 and passed there at 08:00; c (0.0.2-rc.2)
// passed dev at 09:00.
func chainRepo(t *testing.T) (repo string, rcs map[string]pipeline.BuildResult) {
	t.Helper()
	srv := ocitest.New(t)
	repo = srv.Host + "/acme/app"
	reg, err := oci.Open(repo, oci.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	rcs = map[string]pipeline.BuildResult{}
	for i, label := range []string{"a", "b", "c"} {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "app.yaml"), []byte("build: "+label+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		rc, err := pipeline.BuildRC(ctx, reg, pipeline.BuildInput{Dir: dir, Sha: strings.Repeat(label, 40), Ref: "main",
			Created: time.Date(2026, 8, 1+i, 0, 0, 0, 0, time.UTC), ShortLen: 7, Rules: version.Rules{Bump: version.Patch}})
		if err != nil {
			t.Fatal(err)
		}
		rcs[label] = rc
		if label == "a" {
			if _, err := pipeline.TagValidated(ctx, reg, pipeline.PromoteInput{Digest: rc.Digest}); err != nil {
				t.Fatal(err)
			}
		}
	}
	m, err := reg.Get(ctx, rcs["b"].Digest)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Tag(ctx, "0.0.2-preprod.1", m, oci.Write{}); err != nil {
		t.Fatal(err)
	}
	for _, rec := range []pass.Record{
		{Stage: "preprod", Digest: rcs["b"].Digest, Revision: "0.0.2-preprod.1@" + rcs["b"].Digest, Time: time.Date(2026, 8, 5, 8, 0, 0, 0, time.UTC)},
		{Stage: "dev", Digest: rcs["c"].Digest, Revision: "0.0.2-rc.2@" + rcs["c"].Digest, Time: time.Date(2026, 8, 5, 9, 0, 0, 0, time.UTC)},
	} {
		rec.Kind, rec.Cluster, rec.Message = pass.Pass, rec.Stage, "Health check passed in 3s"
		list, err := reg.Tags(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := pass.Write(ctx, reg, list, rec, pass.Options{}); err != nil {
			t.Fatal(err)
		}
	}
	return repo, rcs
}

// status --stages shows every stage: what it selects (the selection `ocipromote stages` prints),
// the candidates pending for it by their pass records, and the gates that hold them.
func TestStatusStages(t *testing.T) {
	t.Parallel()
	repo, rcs := chainRepo(t)
	args := []string{"status", "--repository", repo, "--stages", "dev,preprod,prod", "--soak", "preprod=2h",
		"--windows", "prod=Mon-Thu 09:00-16:00 Europe/London", "--now", "2026-08-05T09:30:00Z"}
	r := steptest.Invoke(t, binary, run, map[string]string{}, append(args, "--json")...)
	if r.Code != 0 {
		t.Fatalf("exit %d\n%s", r.Code, r.Stderr)
	}
	steptest.CheckSchema(t, r.Stdout, filepath.Join("..", "..", "testdata", "schema", "ocipromote-status.json"))
	var rep status.Report
	if err := json.Unmarshal([]byte(r.Stdout), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Chain != "dev,preprod,prod" || len(rep.Stages) != 3 || len(rep.Selections) != 3 {
		t.Fatalf("chain %q, %d stages, %d selections:\n%s", rep.Chain, len(rep.Stages), len(rep.Selections), r.Stdout)
	}
	want := []struct{ tag, digest, pending, gate string }{
		{"0.0.2-rc.2", rcs["c"].Digest, "", ""},
		{"0.0.2-preprod.1", rcs["b"].Digest, "0.0.2-preprod.2", ""},
		{"0.0.1", rcs["a"].Digest, "0.0.2", "soak"},
	}
	for i, s := range rep.Stages {
		w := want[i]
		if len(rep.Selections[i].Foreign) > 0 {
			t.Errorf("%s calls its own tags foreign: %v", s.Name, rep.Selections[i].Foreign)
		}
		if s.Tag != w.tag || s.Digest != w.digest || rep.Selections[i].Name != s.Name || rep.Selections[i].Tag != s.Tag {
			t.Errorf("%s selects %s (%s), selection %+v; want %s (%s)", s.Name, s.Tag, s.Digest, rep.Selections[i], w.tag, w.digest)
		}
		switch {
		case w.pending == "" && len(s.Pending) != 0:
			t.Errorf("%s pending %+v, want none", s.Name, s.Pending)
		case w.pending != "" && (len(s.Pending) != 1 || s.Pending[0].Target != w.pending || s.Pending[0].Verdict.Reason != w.gate):
			t.Errorf("%s pending %+v, want %s held by %q", s.Name, s.Pending, w.pending, w.gate)
		}
	}
	if got := rep.Stages[2].Pending; len(got) == 1 && !got[0].Verdict.At.Equal(time.Date(2026, 8, 5, 10, 0, 0, 0, time.UTC)) {
		t.Errorf("prod's candidate may go at %s, want when the soak ends, 10:00", got[0].Verdict.At)
	}
	if !strings.Contains(r.Stderr, "1 pending for preprod; 1 pending for prod") {
		t.Errorf("heading lacks the pending counts:\n%s", r.Stderr)
	}
	out := filepath.Join(t.TempDir(), "output")
	md := steptest.Invoke(t, binary, run, map[string]string{"GITHUB_OUTPUT": out}, append(args, "--format", "markdown")...)
	if md.Code != 0 || !strings.Contains(md.Stdout, "```mermaid\nflowchart LR\n") || !strings.Contains(md.Stdout, "| preprod | `0.0.2-rc.2` | `0.0.2-preprod.2` | `ccccccc` | open") {
		t.Errorf("markdown: exit %d\n%s%s", md.Code, md.Stdout, md.Stderr)
	}
	b, _ := os.ReadFile(out)
	if !strings.Contains(string(b), "preprod_tag<<") || !strings.Contains(string(b), "\n0.0.2-preprod.1\n") {
		t.Errorf("GITHUB_OUTPUT lacks preprod_tag:\n%s", b)
	}

	// The default chain is reported as it always was: no stages.
	if rep := statusOf(t, repo); rep.Stages != nil || rep.Chain != "" || len(rep.Selections) != 2 {
		t.Errorf("default status: chain %q, stages %+v, selections %+v", rep.Chain, rep.Stages, rep.Selections)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--stages", "dev"}, "at least two stages"},
		{[]string{"--stages", "dev,prod", "--soak", "prod=1h"}, "prod is the last stage"},
		{[]string{"--now", "yesterday"}, "not an RFC 3339 time"},
	} {
		r := steptest.Invoke(t, binary, run, map[string]string{}, append([]string{"status", "--repository", "127.0.0.1:1/none"}, tc.args...)...)
		if r.Code != 2 || !strings.Contains(r.Stderr, tc.want) {
			t.Errorf("status %v: exit %d, want 2 saying %q; stderr:\n%s", tc.args, r.Code, tc.want, r.Stderr)
		}
	}
}

// rollback --stage puts one stage of a chain back on its previous version and holds it.
func TestRollbackStageCommand(t *testing.T) {
	t.Parallel()
	repo, rcs := chainRepo(t)
	reg, err := oci.Open(repo, oci.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m, err := reg.Get(context.Background(), rcs["a"].Digest)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Tag(context.Background(), "0.0.1-preprod.1", m, oci.Write{}); err != nil {
		t.Fatal(err)
	}
	const token = "ghs_RollbackStageT0ken"
	gh := githubtest.New(t, "acme", "platform", githubtest.Token(token))
	gh.AddCommit(githubtest.Commit{Sha: strings.Repeat("a", 40), Message: "build a", Author: "Alice", Date: time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC)})
	env := map[string]string{
		"GITHUB_REPOSITORY": "acme/platform", "GITHUB_API_URL": gh.APIURL(), "GITHUB_TOKEN": token,
		"INPUT_DEPLOYMENTS": "true", "INPUT_GITHUB_WRITE_INTERVAL": "0s",
	}
	r := steptest.Invoke(t, binary, run, env, "rollback", "--repository", repo, "--stages", "dev,preprod,prod", "--stage", "preprod",
		"--reason", "load test failed", "--actor", "oncall", "--json")
	var got map[string]any
	if err := json.Unmarshal([]byte(r.Stdout), &got); err != nil || r.Code != 0 {
		t.Fatalf("exit %d, %v\n%s%s", r.Code, err, r.Stdout, r.Stderr)
	}
	steptest.CheckSchema(t, r.Stdout, filepath.Join("..", "..", "testdata", "schema", "ocipromote-rollback.json"))
	if got["stage"] != "preprod" || got["hold"] != "hold-preprod-1" || got["version"] != "0.0.2-preprod.3" || got["digest"] != rcs["a"].Digest {
		t.Errorf("rollback = %v", got)
	}
	if !strings.Contains(r.Stderr, "preprod selects 0.0.2-preprod.3") || !strings.Contains(r.Stderr, "ocipromote hold release --stage preprod") {
		t.Errorf("heading:\n%s", r.Stderr)
	}
	// GitHub's preprod environment shows what preprod runs now.
	deps := gh.Deployments()
	if len(deps) != 1 || deps[0].Environment != "preprod" || deps[0].Sha != strings.Repeat("a", 40) || deps[0].Production || deps[0].State() != "success" {
		t.Errorf("deployments = %+v, want one to preprod of a's commit, a success and no production one", deps)
	} else if p := string(deps[0].Payload); !strings.Contains(p, `"version":"0.0.2-preprod.3"`) || !strings.Contains(p, rcs["a"].Digest) {
		t.Errorf("preprod's deployment payload %s, want 0.0.2-preprod.3 of %s", p, rcs["a"].Digest)
	}
	if strings.Contains(r.Stderr, "GitHub record not written") {
		t.Errorf("a record was not written:\n%s", r.Stderr)
	}
	if r := steptest.Invoke(t, binary, run, map[string]string{}, "rollback", "--repository", repo, "--stage", "preprod", "--reason", "r", "--actor", "a"); r.Code != 2 || !strings.Contains(r.Stderr, `"preprod" is not a stage of "integration,live"`) {
		t.Errorf("a stage outside the chain: exit %d\n%s", r.Code, r.Stderr)
	}
}

// prune --stages keeps what the stages select and what is pending for them.
func TestPruneStages(t *testing.T) {
	t.Parallel()
	repo, rcs := chainRepo(t)
	r := steptest.Invoke(t, binary, run, map[string]string{}, "prune", "--repository", repo, "--stages", "dev,preprod,prod",
		"--keep-stable", "1", "--keep-rc-days", "0", "--now", "2026-12-01T00:00:00Z", "--dry-run", "--json")
	if r.Code != 0 {
		t.Fatalf("exit %d\n%s", r.Code, r.Stderr)
	}
	steptest.CheckSchema(t, r.Stdout, filepath.Join("..", "..", "testdata", "schema", "ocipromote-prune.json"))
	var res struct {
		Plan struct {
			Keep []struct{ Digest, Reason string }
		}
	}
	if err := json.Unmarshal([]byte(r.Stdout), &res); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		rcs["b"].Digest: "selected by preprod",
		rcs["c"].Digest: "selected by dev",
	}
	for _, k := range res.Plan.Keep {
		if w, ok := want[k.Digest]; ok {
			if !strings.HasPrefix(k.Reason, w) {
				t.Errorf("%s kept because %q, want %q", k.Digest, k.Reason, w)
			}
			delete(want, k.Digest)
		}
	}
	if len(want) > 0 {
		t.Errorf("not kept: %v\n%s", want, r.Stdout)
	}
}
