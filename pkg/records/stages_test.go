package records

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/ocipromote/ocipromote/pkg/actionio"
	"github.com/ocipromote/ocipromote/pkg/oci"
	"github.com/ocipromote/ocipromote/pkg/oci/ocitest"
	"github.com/ocipromote/ocipromote/pkg/pass"
	"github.com/ocipromote/ocipromote/pkg/pipeline"
	"github.com/ocipromote/ocipromote/pkg/promote"
	"github.com/ocipromote/ocipromote/pkg/records/githubtest"
	"github.com/ocipromote/ocipromote/pkg/stage"
)

// threeStages is the chain of the tests below: dev takes every build, prod is stable.
func threeStages(t *testing.T) stage.Chain {
	t.Helper()
	c, err := stage.Parse("dev,preprod,prod")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// passRegistry is a registry holding pass records only: the records read the evidence from it.
func passRegistry(t *testing.T) *oci.Repository {
	t.Helper()
	srv := ocitest.New(t)
	reg, err := oci.Open(srv.Host+"/acme/platform-manifests", oci.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

func listing(t *testing.T, reg *oci.Repository) []string {
	t.Helper()
	list, err := reg.Tags(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return list
}

// recordPass records that candidate n passed name, as dispatch-receiver does.
func recordPass(t *testing.T, reg *oci.Repository, kind, name string, n int, revision, cluster, message string, at time.Time) pass.Entry {
	t.Helper()
	w, err := pass.Write(context.Background(), reg, listing(t, reg), pass.Record{
		Stage: name, Digest: digest(n), Kind: kind, Revision: revision, Cluster: cluster, Message: message, Time: at, Actor: "dispatch-receiver",
	}, pass.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return w.Entry
}

// stageResult is what tag-validated reports for candidate n (1.3.0-rc.n) promoted from one stage
// into another.
func stageResult(t *testing.T, reg *oci.Repository, n int, from, to, version string) pipeline.PromoteResult {
	return pipeline.PromoteResult{
		Promoted: true, Reason: promote.Promoted, Version: version, Digest: digest(n), Sha: sha(n), RC: fmt.Sprintf("1.3.0-rc.%d", n),
		Tags: listing(t, reg), StageOutcome: pipeline.StageOutcome{From: from, To: to},
	}
}

// deploymentOf is the one deployment records wrote to env at version.
func deploymentOf(t *testing.T, srv *githubtest.Server, env, version string) githubtest.Deployment {
	t.Helper()
	var found []githubtest.Deployment
	for _, d := range srv.Deployments() {
		var p payload
		if json.Unmarshal(d.Payload, &p) == nil && d.Environment == env && p.Version == version {
			found = append(found, d)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d deployments of %s to %s, want 1: %+v", len(found), version, env, srv.Deployments())
	}
	return found[0]
}

func evidenceIn(t *testing.T, d githubtest.Deployment) Evidence {
	t.Helper()
	var p payload
	if err := json.Unmarshal(d.Payload, &p); err != nil || p.Evidence == nil {
		t.Fatalf("payload %s has no evidence (%v)", d.Payload, err)
	}
	return *p.Evidence
}

// TestStageDeployments follows candidate 1.3.0-rc.4 through dev, preprod and prod: each stage's
// environment (named after it) gets a deployment whose status carries the pass of the stage
// before, the release notes of prod list the evidence of every stage, and replays write nothing.
func TestStageDeployments(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	reg := passRegistry(t)
	srv := fakeGitHub(t)
	srv.AddCommit(githubtest.Commit{Sha: sha(4), Message: "feat: replicas", Author: "Alice", Date: day})
	c := client(t, srv, Options{Deployments: true, Release: true, Stages: threeStages(t)})

	noWarnings(t, "offer", c.Offered(ctx, offer(4, "1.3.0-rc.4")))
	devPass := recordPass(t, reg, pass.Pass, "dev", 4, "1.3.0-rc.4@"+digest(4), "dev-eu", "Health check passed in 3.1s", day)

	toPreprod := stageResult(t, reg, 4, "dev", "preprod", "1.3.0-preprod.4")
	noWarnings(t, "preprod", c.AfterPromote(ctx, reg, toPreprod, Validation{}))
	if got, want := states(t, srv), map[string]string{"dev 1.3.0-rc.4": "success", "preprod 1.3.0-preprod.4": "success"}; !maps.Equal(got, want) {
		t.Errorf("after preprod: %v, want %v", got, want)
	}
	pre := deploymentOf(t, srv, "preprod", "1.3.0-preprod.4")
	if got, want := pre.Statuses[len(pre.Statuses)-1].Description, "1.3.0-preprod.4 promoted to preprod; passed dev on dev-eu at 2026-08-01T10:00:00Z: Health check passed in 3.1s"; got != want {
		t.Errorf("preprod's status = %q, want %q", got, want)
	}
	if pre.Production {
		t.Error("preprod is recorded as a production environment; only the last stage is")
	}
	ev := evidenceIn(t, pre)
	if ev.Stage != "dev" || !ev.Passed || ev.Cluster != "dev-eu" || ev.Message != "Health check passed in 3.1s" || !ev.Time.Equal(day) ||
		ev.Revision != "1.3.0-rc.4@"+digest(4) || ev.Record != devPass.Tag {
		t.Errorf("preprod's payload evidence = %+v, want dev's pass %s", ev, devPass.Tag)
	}
	dev := deploymentOf(t, srv, "dev", "1.3.0-rc.4")
	if got := dev.Statuses[len(dev.Statuses)-1].Description; !strings.HasPrefix(got, "1.3.0-rc.4 passed dev on dev-eu at 2026-08-01T10:00:00Z") {
		t.Errorf("dev's status = %q, want it to say the candidate passed dev", got)
	}

	// A replayed event, or a re-run of the workflow: already promoted, nothing written.
	writes := len(srv.Writes())
	again := toPreprod
	again.Reason, again.Promoted = promote.AlreadyPromoted, false
	rep := c.AfterPromote(ctx, reg, again, Validation{})
	noWarnings(t, "preprod replayed", rep)
	if w := srv.Writes()[writes:]; len(w) != 0 {
		t.Errorf("a replay wrote %v", w)
	}
	if len(rep.Records) != 2 || rep.Records[0].Wrote || rep.Records[1].Wrote {
		t.Errorf("replay records = %+v, want both deployments found, none written", rep.Records)
	}

	// A failure in preprod, then a pass: the promotion to prod rests on the pass after it.
	recordPass(t, reg, pass.Fail, "preprod", 4, "1.3.0-preprod.4@"+digest(4), "preprod-eu", "Deployment/api not ready", day.Add(time.Hour))
	prePass := recordPass(t, reg, pass.Pass, "preprod", 4, "1.3.0-preprod.4@"+digest(4), "preprod-eu", "Kustomization/apps reconciled", day.Add(2*time.Hour))
	toProd := stageResult(t, reg, 4, "preprod", "prod", "1.3.0")
	noWarnings(t, "prod", c.AfterPromote(ctx, reg, toProd, Validation{Cluster: "preprod-eu"}))
	if got, want := states(t, srv), map[string]string{"dev 1.3.0-rc.4": "success", "preprod 1.3.0-preprod.4": "success", "prod 1.3.0": "success"}; !maps.Equal(got, want) {
		t.Errorf("after prod: %v, want %v", got, want)
	}
	prod := deploymentOf(t, srv, "prod", "1.3.0")
	if !prod.Production || !strings.HasPrefix(prod.Statuses[len(prod.Statuses)-1].Description, "1.3.0 promoted to prod; passed preprod on preprod-eu at 2026-08-01T12:00:00Z") {
		t.Errorf("prod deployment: production %v, status %q; want production with preprod's pass", prod.Production, prod.Statuses[len(prod.Statuses)-1].Description)
	}
	if ev := evidenceIn(t, prod); ev.Record != prePass.Tag {
		t.Errorf("prod's payload rests on %s, want the pass after the failure, %s", ev.Record, prePass.Tag)
	}
	rels := srv.Releases()
	if len(rels) != 1 {
		t.Fatalf("releases = %d, want 1", len(rels))
	}
	for _, want := range []string{
		"promoted to prod by ocipromote",
		"\n## Evidence\n",
		"- **dev**: passed on `dev-eu` at 2026-08-01T10:00:00Z: `Health check passed in 3.1s` (revision `1.3.0-rc.4@" + digest(4) + "`, record `" + devPass.Tag + "`)\n",
		"- **preprod**: passed on `preprod-eu` at 2026-08-01T12:00:00Z: `Kustomization/apps reconciled` (revision `1.3.0-preprod.4@" + digest(4) + "`, record `" + prePass.Tag + "`)\n",
	} {
		if !strings.Contains(rels[0].Body, want) {
			t.Errorf("release notes lack %q:\n%s", want, rels[0].Body)
		}
	}

	writes = len(srv.Writes())
	toProd.Reason, toProd.Promoted = promote.AlreadyPromoted, false
	noWarnings(t, "prod replayed", c.AfterPromote(ctx, reg, toProd, Validation{Cluster: "preprod-eu"}))
	if w := srv.Writes()[writes:]; len(w) != 0 {
		t.Errorf("a replay wrote %v", w)
	}
}

// TestStageEvidenceFitsGitHubsFields: a cluster's message as long as a pass record keeps, far from
// ASCII, is cut in the status to GitHub's 140 characters (the fake counts bytes, stricter than
// GitHub) and kept whole in the payload.
func TestStageEvidenceFitsGitHubsFields(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	reg := passRegistry(t)
	srv := fakeGitHub(t)
	srv.AddCommit(githubtest.Commit{Sha: sha(5), Message: "feat: replicas", Author: "Alice", Date: day})
	c := client(t, srv, Options{Deployments: true, Stages: threeStages(t)})
	message := strings.Repeat("é✓ ", 200)
	recorded := recordPass(t, reg, pass.Pass, "dev", 5, "1.3.0-rc.5@"+digest(5), "dev-eu", message, day)
	noWarnings(t, "preprod", c.AfterPromote(ctx, reg, stageResult(t, reg, 5, "dev", "preprod", "1.3.0-preprod.5"), Validation{}))
	d := deploymentOf(t, srv, "preprod", "1.3.0-preprod.5")
	desc := d.Statuses[len(d.Statuses)-1].Description
	if len(desc) > 140 || !strings.HasSuffix(desc, "…") || !utf8.ValidString(desc) {
		t.Errorf("status %q (%d bytes) is not cut to 140", desc, len(desc))
	}
	if got := evidenceIn(t, d).Message; got != recorded.Message || utf8.RuneCountInString(got) < pass.MaxMessage {
		t.Errorf("payload message has %d characters, want the record's whole message (%d)", utf8.RuneCountInString(got), utf8.RuneCountInString(recorded.Message))
	}
}

// failingPassReads fails reading the manifests of pass records.
type failingPassReads struct{ *oci.Repository }

func (f failingPassReads) GetTag(ctx context.Context, tag string) (*oci.Manifest, error) {
	if pass.IsTag(tag) {
		return nil, errors.New("503 Service Unavailable")
	}
	return f.Repository.GetTag(ctx, tag)
}

// TestUnreadableEvidenceWritesNothing: a status and release notes are never rewritten, so records
// without the evidence would miss it for good; they wait for a run that can read it.
func TestUnreadableEvidenceWritesNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	reg := passRegistry(t)
	srv := fakeGitHub(t)
	srv.AddCommit(githubtest.Commit{Sha: sha(6), Message: "feat: replicas", Author: "Alice", Date: day})
	c := client(t, srv, Options{Deployments: true, Release: true, Stages: threeStages(t)})
	recordPass(t, reg, pass.Pass, "dev", 6, "1.3.0-rc.6@"+digest(6), "dev-eu", "ok", day)
	res := stageResult(t, reg, 6, "dev", "preprod", "1.3.0-preprod.6")
	rep := c.AfterPromote(ctx, failingPassReads{reg}, res, Validation{})
	if len(rep.Warnings) != 1 || rep.Warnings[0].Kind != "evidence" || !strings.Contains(rep.Warnings[0].Error(), "503") || !strings.Contains(rep.Warnings[0].Error(), "wait for a run") {
		t.Errorf("warnings = %v, want one about the unreadable evidence", rep.Warnings)
	}
	if w := srv.Writes(); len(w) != 0 {
		t.Errorf("wrote %v without the evidence", w)
	}
	noWarnings(t, "re-run", c.AfterPromote(ctx, reg, res, Validation{}))
	if got := states(t, srv); got["preprod 1.3.0-preprod.6"] != "success" {
		t.Errorf("the re-run recorded %v, want preprod's deployment", got)
	}
}

// TestForcedOverAStage: force took the candidate from dev straight to prod; the notes say
// preprod was skipped, and prod's deployment carries dev's pass.
func TestForcedOverAStage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	reg := passRegistry(t)
	srv := fakeGitHub(t)
	srv.AddCommit(githubtest.Commit{Sha: sha(7), Message: "fix: hotfix", Author: "Bob", Date: day})
	c := client(t, srv, Options{Deployments: true, Release: true, Stages: threeStages(t)})
	recordPass(t, reg, pass.Pass, "dev", 7, "1.3.0-rc.7@"+digest(7), "dev-eu", "ok", day)
	res := stageResult(t, reg, 7, "dev", "prod", "1.3.0")
	res.Forced, res.Skipped = true, []string{"preprod"}
	noWarnings(t, "prod", c.AfterPromote(ctx, reg, res, Validation{}))
	if got, want := states(t, srv), map[string]string{"dev 1.3.0-rc.7": "success", "prod 1.3.0": "success"}; !maps.Equal(got, want) {
		t.Errorf("deployments %v, want %v (none to the skipped preprod)", got, want)
	}
	if ev := evidenceIn(t, deploymentOf(t, srv, "prod", "1.3.0")); ev.Stage != "dev" || !ev.Passed {
		t.Errorf("prod rests on %+v, want dev's pass", ev)
	}
	if body := srv.Releases()[0].Body; !strings.Contains(body, "- **preprod**: skipped with force: no pass record\n") {
		t.Errorf("notes do not say preprod was skipped:\n%s", body)
	}
}

// TestStageDeploymentsNeedTheirPermission: a token without deployments: write gets GitHub's own
// hint, as every record does, and a run with it completes the records once.
func TestStageDeploymentsNeedTheirPermission(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	reg := passRegistry(t)
	srv := githubtest.New(t, "acme", "platform", githubtest.MaxPage(2),
		githubtest.Grant(jobToken, without(granted, "deployments")), githubtest.Grant("ghs_fixed", granted))
	srv.AddCommit(githubtest.Commit{Sha: sha(8), Message: "feat: replicas", Author: "Alice", Date: day})
	recordPass(t, reg, pass.Pass, "dev", 8, "1.3.0-rc.8@"+digest(8), "dev-eu", "ok", day)
	res := stageResult(t, reg, 8, "dev", "preprod", "1.3.0-preprod.8")
	rep := strictClient(t, srv, Options{Deployments: true, Stages: threeStages(t)}).AfterPromote(ctx, reg, res, Validation{})
	if len(rep.Warnings) == 0 || !strings.Contains(rep.Warnings[0].Error(), "`deployments: read`") || !strings.Contains(rep.Warnings[0].Error(), "403") {
		t.Fatalf("warnings = %v, want GitHub's hint naming deployments", rep.Warnings)
	}
	c, err := New(Options{Deployments: true, Stages: threeStages(t), Token: "ghs_fixed", APIURL: srv.APIURL(), Repository: "acme/platform", PageSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	noWarnings(t, "with the permission", c.AfterPromote(ctx, reg, res, Validation{}))
	noWarnings(t, "replay", c.AfterPromote(ctx, reg, res, Validation{}))
	if got, want := states(t, srv), map[string]string{"dev 1.3.0-rc.8": "success", "preprod 1.3.0-preprod.8": "success"}; !maps.Equal(got, want) {
		t.Errorf("deployments %v, want %v", got, want)
	}
}

// TestStagesNameTheEnvironments: a chain of its own names every environment after its stage, so
// build-rc's offer goes to the first stage; the default chain keeps integration and live.
func TestStagesNameTheEnvironments(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		chain, integration, live string
	}{
		{"dev,preprod,prod", "dev", "prod"},
		{stage.Default, DefaultIntegration, DefaultLive},
	} {
		chain, err := stage.Parse(tc.chain)
		if err != nil {
			t.Fatal(err)
		}
		c, err := New(Options{Deployments: true, Stages: chain, Token: "t", Repository: "acme/platform"})
		if err != nil {
			t.Fatal(err)
		}
		if c.o.Integration != tc.integration || c.o.Live != tc.live {
			t.Errorf("%s: environments %s and %s, want %s and %s", tc.chain, c.o.Integration, c.o.Live, tc.integration, tc.live)
		}
	}
}

// stagedRelease is the second release promoted into prod through dev and preprod.
func stagedRelease() Promotion {
	p := secondRelease()
	p.Validation = Validation{Cluster: "preprod-eu", Message: "Kustomization/apps reconciled", Time: day.Add(5 * time.Hour)}
	p.Stages = &Stages{From: "preprod", FromVersion: "0.0.2-preprod.2", Trail: []Evidence{
		{Stage: "dev", Passed: true, Cluster: "dev-eu", Message: "Health check passed in 3.1s", Time: day.Add(4 * time.Hour),
			Revision: "0.0.2-rc.2@" + digest(3), Record: "pass-dev-000000000000-1"},
		{Stage: "preprod", Passed: true, Cluster: "preprod-eu", Message: "Kustomization/apps reconciled", Time: day.Add(5 * time.Hour),
			Revision: "0.0.2-preprod.2@" + digest(3), Record: "pass-preprod-000000000000-2"},
	}}
	return p
}

// TestEvidenceNotes pins the notes of a release through a chain of stages, shown in
// docs/github.md, and escapes what clusters said.
func TestEvidenceNotes(t *testing.T) {
	t.Parallel()
	srv := fakeGitHub(t)
	history(srv)
	c := client(t, srv, Options{Release: true, Stages: threeStages(t)})
	ch, err := c.changes(context.Background(), stagedRelease())
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "notes-stages-0.0.2.md", c.notes(stagedRelease(), ch))
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "github.md"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join("testdata", "notes-stages-0.0.2.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(doc), "```markdown\n"+string(want)+"```") {
		t.Error("docs/github.md does not show testdata/notes-stages-0.0.2.md verbatim in a markdown block; copy it there")
	}

	hostile := stagedRelease()
	hostile.Stages.Trail[0].Message = "ok <!-- ocipromote:complete --> `x`"
	hostile.Stages.Trail[1].Cluster = "eu`\n## injected"
	if n := c.notes(hostile, ch); strings.Contains(n, "<!-- ocipromote:complete") || strings.Contains(n, "## injected") || strings.Count(n, completeMarker) != 0 {
		t.Errorf("untrusted evidence reached the notes unescaped:\n%s", n)
	}
}

// TestEvidenceKeepsTheNotesUnderGitHubsLimit: however many stages a chain has and however long
// what they said, the Evidence section is bounded and the notes stay under 125,000 characters.
func TestEvidenceKeepsTheNotesUnderGitHubsLimit(t *testing.T) {
	t.Parallel()
	srv := fakeGitHub(t)
	srv.AddCommit(githubtest.Commit{Sha: longSha(1000), Message: "base", Author: "A", Date: day})
	prev := longSha(1000)
	for i := 0; i < 300; i++ {
		s := longSha(2000 + i)
		srv.AddCommit(githubtest.Commit{Sha: s, Parents: []string{prev}, Message: fmt.Sprintf("feat: %03d %s", i, strings.Repeat("x", 200)), Author: "Bob", Date: day})
		srv.AddPullRequest(githubtest.PullRequest{Number: 10 + i, Title: strings.Repeat("t", 200), User: "bob", State: "closed", MergedAt: day, MergeCommit: s, Commits: []string{s}})
		prev = s
	}
	trail := make([]Evidence, 200)
	for i := range trail {
		trail[i] = Evidence{Stage: fmt.Sprintf("s%d", i), Passed: true, Cluster: strings.Repeat("c", 100), Message: strings.Repeat("m", pass.MaxMessage),
			Time: day, Revision: strings.Repeat("r", pass.MaxRevision), Record: fmt.Sprintf("pass-s%d-000000000000-1", i)}
	}
	p := Promotion{Sha: prev, Stable: "0.0.2", Digest: digest(2), Latest: true, Previous: Previous{Version: "0.0.1", Sha: longSha(1000)},
		Stages: &Stages{From: "s199", FromVersion: "0.0.2-s199.1", Trail: trail}}
	c := client(t, srv, Options{Release: true})
	c.o.PageSize = 100
	noWarnings(t, "release", c.Promoted(context.Background(), p))
	rels := srv.Releases()
	if len(rels) != 1 {
		t.Fatalf("releases = %d, want 1", len(rels))
	}
	body := rels[0].Body
	if n := utf8.RuneCountInString(body); n > maxNotes {
		t.Errorf("notes have %d characters, over the %d budget", n, maxNotes)
	}
	if !strings.Contains(body, "more stages: see the pass records") || !strings.Contains(body, "- **s0**: passed") || !strings.Contains(body, "#10 ") {
		t.Errorf("cut notes lack the first stages, the cut, or the pull requests:\n%s", body[:2000])
	}
}

// TestStageRecordsStopOnRateLimit: a promotion into prod through a chain stops at GitHub's
// secondary limit as every record does, and the next runs complete it with nothing twice.
func TestStageRecordsStopOnRateLimit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	reg := passRegistry(t)
	clock := githubtest.NewManualClock(day)
	srv := githubtest.New(t, "acme", "platform", githubtest.Token(jobToken), githubtest.Clock(clock.Now),
		githubtest.Limit(githubtest.SecondaryLimit{PerMinute: 2, Status: http.StatusForbidden}))
	srv.AddCommit(githubtest.Commit{Sha: sha(9), Message: "feat: replicas", Author: "Alice", Date: day})
	recordPass(t, reg, pass.Pass, "preprod", 9, "1.3.0-preprod.9@"+digest(9), "preprod-eu", "ok", day)
	res := stageResult(t, reg, 9, "preprod", "prod", "1.3.0")
	o := Options{Deployments: true, Release: true, CommentPRs: true, Stages: threeStages(t), Now: clock.Now, Sleep: clock.Sleep}
	rep := strictClient(t, srv, o).AfterPromote(ctx, reg, res, Validation{})
	if !rep.Stopped || len(rep.Warnings) != 1 || !strings.Contains(rep.Warnings[0].Error(), "rate-limited") {
		t.Fatalf("report = %+v, want one warning that the run stopped", rep.Warnings)
	}
	for runs := 1; ; runs++ {
		clock.Advance(2 * time.Minute)
		if rep := strictClient(t, srv, o).AfterPromote(ctx, reg, res, Validation{}); !rep.Stopped {
			noWarnings(t, "last run", rep)
			break
		}
		if runs > 10 {
			t.Fatal("the records never completed")
		}
	}
	if got, want := states(t, srv), map[string]string{"preprod 1.3.0-preprod.9": "success", "prod 1.3.0": "success"}; !maps.Equal(got, want) {
		t.Errorf("deployments %v, want %v", got, want)
	}
	if rels := srv.Releases(); len(rels) != 1 || !strings.Contains(rels[0].Body, "- **preprod**: passed on `preprod-eu`") {
		t.Errorf("releases = %+v, want one with preprod's evidence", rels)
	}
	if st := srv.LimitStats(); st.Violations != 0 {
		t.Errorf("limit stats %+v: a request was sent while limited", st)
	}
}

// TestSupersededInAStage: a candidate a newer one overtook in preprod will never be promoted; its
// deployment in dev becomes inactive and says where it was overtaken.
func TestSupersededInAStage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	reg := passRegistry(t)
	srv := fakeGitHub(t)
	srv.AddCommit(githubtest.Commit{Sha: sha(3), Message: "feat: replicas", Author: "Alice", Date: day})
	c := client(t, srv, Options{Deployments: true, Stages: threeStages(t)})
	noWarnings(t, "offer", c.Offered(ctx, offer(3, "1.3.0-rc.3")))
	res := pipeline.PromoteResult{Reason: promote.Superseded, Digest: digest(3), Sha: sha(3), RC: "1.3.0-rc.3", StageOutcome: pipeline.StageOutcome{From: "dev", To: "preprod"}}
	noWarnings(t, "superseded", c.AfterPromote(ctx, reg, res, Validation{}))
	d := deploymentOf(t, srv, "dev", "1.3.0-rc.3")
	if got, want := d.Statuses[len(d.Statuses)-1].Description, "1.3.0-rc.3 superseded in preprod by a newer candidate; not promoted"; d.State() != "inactive" || got != want {
		t.Errorf("dev's deployment is %s saying %q, want inactive saying %q", d.State(), got, want)
	}
}

// TestOptionsFromStages: a step's stages input names the environments.
func TestOptionsFromStages(t *testing.T) {
	t.Parallel()
	a := action(map[string]string{"INPUT_STAGES": "dev, preprod, prod", "INPUT_DEPLOYMENTS": "true"}, io.Discard)
	cmd := actionio.Command{Name: "build-rc", Inputs: append([]actionio.Input{{Name: "stages", Default: stage.Default}}, BuildInputs...)}
	v, err := actionio.Parse(cmd, a, nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if got := OptionsFrom(a, v, nil).Stages.String(); got != "dev,preprod,prod" {
		t.Errorf("stages = %q, want dev,preprod,prod", got)
	}
}

// TestRolledBackAStage: a rollback of preprod gives preprod's environment a deployment of the
// artifact it rolled back to, a success that is no production one, and the deployment of the
// version it replaced becomes inactive; a rollback of prod is prod's, a production deployment;
// a replay writes nothing.
func TestRolledBackAStage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	reg := passRegistry(t)
	srv := fakeGitHub(t)
	c := client(t, srv, Options{Deployments: true, Stages: threeStages(t)})
	for _, n := range []int{4, 5} {
		srv.AddCommit(githubtest.Commit{Sha: sha(n), Message: fmt.Sprintf("feat: change %d", n), Author: "Alice", Date: day})
		recordPass(t, reg, pass.Pass, "dev", n, fmt.Sprintf("1.3.0-rc.%d@%s", n, digest(n)), "dev-eu", "Health check passed", day)
		res := stageResult(t, reg, n, "dev", "preprod", fmt.Sprintf("1.3.0-preprod.%d", n))
		noWarnings(t, fmt.Sprintf("candidate %d to preprod", n), c.AfterPromote(ctx, reg, res, Validation{}))
	}

	back := Offer{Sha: sha(4), Version: "1.3.0-preprod.6", Digest: digest(4), OCIRepository: "ghcr.io/acme/platform-manifests"}
	noWarnings(t, "preprod rollback", c.RolledBack(ctx, "preprod", back))
	got := states(t, srv)
	for k, want := range map[string]string{"preprod 1.3.0-preprod.4": "inactive", "preprod 1.3.0-preprod.5": "inactive", "preprod 1.3.0-preprod.6": "success"} {
		if got[k] != want {
			t.Errorf("%s is %q, want %q (all: %v)", k, got[k], want, got)
		}
	}
	d := deploymentOf(t, srv, "preprod", "1.3.0-preprod.6")
	if desc := d.Statuses[len(d.Statuses)-1].Description; d.Production || d.Sha != sha(4) || desc != "1.3.0-preprod.6: preprod rolled back to "+shortDigest(digest(4)) {
		t.Errorf("preprod's rollback deployment: production %v, sha %s, status %q; want candidate 4's, not production, saying preprod rolled back", d.Production, d.Sha, desc)
	}

	noWarnings(t, "prod rollback", c.RolledBack(ctx, "prod", Offer{Sha: sha(4), Version: "1.3.1", Digest: digest(4), OCIRepository: "ghcr.io/acme/platform-manifests"}))
	if p := deploymentOf(t, srv, "prod", "1.3.1"); !p.Production || p.State() != "success" {
		t.Errorf("prod's rollback deployment: production %v, state %s; want a production success", p.Production, p.State())
	}

	writes := len(srv.Writes())
	noWarnings(t, "replayed preprod rollback", c.RolledBack(ctx, "preprod", back))
	if w := srv.Writes()[writes:]; len(w) != 0 {
		t.Errorf("a replayed rollback wrote %v", w)
	}
}
