package e2e

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ocipromote/ocipromote/pkg/records/githubtest"
)

// The GitHub context the binaries run in for the records: a job of acme/platform in Actions,
// whose API is the fake.
const (
	recordsToken = "ghs_e2e-records"
	runID        = "4242"
	runURL       = "https://github.com/acme/platform/actions/runs/" + runID
	validatedAt  = "2026-08-01T14:00:00Z"
)

// recordsFlags switch every record on; tag-validated also names the validating event.
var (
	buildRecords   = []string{"--deployments"}
	promoteRecords = []string{"--deployments", "--release", "--comment-prs",
		"--validated-cluster", "integration", "--validated-message", "Health check passed in 12.3s", "--validated-at", validatedAt}
)

// recordsEnv is the environment of a step of run 4242 of acme/platform whose API is gh.
func recordsEnv(gh *githubtest.Server) map[string]string {
	return map[string]string{
		"GITHUB_ACTIONS": "true", "GITHUB_TOKEN": recordsToken, "GITHUB_REPOSITORY": "acme/platform",
		"GITHUB_RUN_ID": runID, "GITHUB_SERVER_URL": "https://github.com", "GITHUB_API_URL": gh.APIURL(),
		"INPUT_GITHUB_WRITE_INTERVAL": "0s", // no pacing against the fake
	}
}

// recordsHistory gives the fake the history the builds stand for: a merged pull request per
// commit, #1 for a, #2 for b and #3 for c, and a few comments by people on #2.
func recordsHistory(t *testing.T, gh *githubtest.Server) (a, b, c string) {
	t.Helper()
	a, b, c = commit(t, "a"), commit(t, "b"), commit(t, "c")
	day := time.Date(2026, 8, 1, 10, 0, 0, 0, time.UTC)
	gh.AddCommit(
		githubtest.Commit{Sha: a, Message: "chore: initial manifests (#1)", Author: "Alice", Date: day},
		githubtest.Commit{Sha: b, Parents: []string{a}, Message: "feat: add ingress (#2)", Author: "Bob", Date: day.Add(time.Hour)},
		githubtest.Commit{Sha: c, Parents: []string{b}, Message: "fix: raise memory limits (#3)", Author: "Carol", Date: day.Add(2 * time.Hour)},
	)
	for n, sha := range []string{a, b, c} {
		gh.AddPullRequest(githubtest.PullRequest{Number: n + 1, Title: fmt.Sprintf("Change %d", n+1), User: "dev", State: "closed",
			MergedAt: day.Add(time.Duration(n) * time.Hour), MergeCommit: sha, Commits: []string{sha}})
	}
	for i := 0; i < 3; i++ {
		gh.AddComment(2, "dave", "LGTM")
	}
	return a, b, c
}

// step runs a binary with --json in env and returns what it did; it must exit 0 without a
// warning, since every record is expected to be written.
func step(t *testing.T, env map[string]string, bin string, args ...string) map[string]string {
	t.Helper()
	r := run(t, env, bin, append(args, "--json")...)
	if r.code != 0 {
		t.Fatalf("%s", r)
	}
	if strings.Contains(r.stderr, "::warning::") {
		t.Errorf("%s warned:\n%s", r.cmd, r.stderr)
	}
	return outputs(t, r)
}

// TestRecords runs the built binaries as the pipeline does, with every GitHub record on, against
// the registry and the fake GitHub API: build-rc of a and its promotion to 0.0.1, build-rc of b
// and c, and the promotion of c to 0.0.2. The whole pipeline then runs twice more, as re-run
// workflows and Flux's repeated success events do: the records must be those of one run, and a
// replayed promotion must not read the changes again.
func TestRecords(t *testing.T) {
	t.Parallel()
	repo := newRepo(t)
	gh := githubtest.New(t, "acme", "platform", githubtest.Token(recordsToken))
	a, b, c := recordsHistory(t, gh)
	env := recordsEnv(gh)
	dirs := map[string]string{a: manifestsDir(t, "a"), b: manifestsDir(t, "b"), c: manifestsDir(t, "c")}

	build := func(sha string) map[string]string {
		t.Helper()
		return step(t, env, "build-rc", append([]string{"--repository", repo, "--path", dirs[sha], "--sha", sha,
			"--ref", "main", "--source", source, "--created", created}, buildRecords...)...)
	}
	promote := func(rc map[string]string, wantReason string) {
		t.Helper()
		out := step(t, env, "tag-validated", append([]string{"--repository", repo, "--revision", rc["version"] + "@" + rc["digest"]}, promoteRecords...)...)
		if out["reason"] != wantReason {
			t.Fatalf("tag-validated %s: reason %q, want %q (outputs %v)", rc["version"], out["reason"], wantReason, out)
		}
	}
	pipeline := func(first bool) {
		t.Helper()
		reason := "already-promoted"
		if first {
			reason = "promoted"
		}
		promote(build(a), reason)
		build(b)
		rc := build(c)
		if first {
			// The replay measured below: the promotion of c, once every record exists.
			promote(rc, reason)
			return
		}
		replay := len(gh.Requests())
		promote(rc, reason)
		reqs := gh.Requests()[replay:]
		t.Logf("a replayed promotion of c made %d GitHub requests: %v", len(reqs), reqs)
		for _, r := range reqs {
			if strings.Contains(r.Path, "/compare/") || strings.HasSuffix(r.Path, "/pulls") || strings.HasSuffix(r.Path, "/comments") {
				t.Errorf("a replayed promotion read the changes again: %s", r)
			}
		}
		// The release look-up, then for integration and for live: the deployment, its status,
		// and the newest deployments down to the one already retired, with its status.
		if len(reqs) > 1+2*4 {
			t.Errorf("a replayed promotion made %d GitHub requests, want at most %d", len(reqs), 1+2*4)
		}
	}

	pipeline(true)
	writes := len(gh.Writes())
	pipeline(false)
	pipeline(false)
	if again := gh.Writes()[writes:]; len(again) != 0 {
		t.Errorf("the replays wrote to GitHub: %v", again)
	}

	rels := gh.Releases()
	if len(rels) != 2 || rels[0].Tag != "v0.0.1" || rels[0].Target != a || rels[1].Tag != "v0.0.2" || rels[1].Target != c {
		t.Fatalf("releases = %+v, want exactly v0.0.1 at a and v0.0.2 at c", rels)
	}
	notes := rels[1].Body
	for _, want := range []string{"#2 Change 2", "#3 Change 3", "## Commits since 0.0.1", "`0.0.2-rc.2`",
		"| Workflow run | " + runURL + " |", "on `integration` at " + validatedAt + ": `Health check passed in 12.3s`"} {
		if !strings.Contains(notes, want) {
			t.Errorf("release notes of v0.0.2 lack %q:\n%s", want, notes)
		}
	}
	if strings.Contains(notes, "#1 ") {
		t.Errorf("release notes of v0.0.2 list #1, released in 0.0.1:\n%s", notes)
	}
	if !strings.Contains(rels[0].Body, runURL) {
		t.Errorf("release notes of v0.0.1 lack the run %s:\n%s", runURL, rels[0].Body)
	}

	perCommit := map[string]int{}
	states := map[string]string{}
	for _, d := range gh.Deployments() {
		perCommit[d.Environment+" "+short(d.Sha)]++
		var p struct{ Version string }
		if err := json.Unmarshal(d.Payload, &p); err != nil {
			t.Fatalf("deployment %d payload: %v", d.ID, err)
		}
		states[d.Environment+" "+p.Version] = d.State()
		if last := d.Statuses[len(d.Statuses)-1]; last.State != "inactive" && last.LogURL != runURL {
			t.Errorf("deployment %s %s: log URL %q, want the run %s", d.Environment, p.Version, last.LogURL, runURL)
		}
	}
	wantPerCommit := map[string]int{"integration " + short(a): 1, "integration " + short(b): 1, "integration " + short(c): 1,
		"live " + short(a): 1, "live " + short(c): 1}
	if !maps.Equal(perCommit, wantPerCommit) {
		t.Errorf("deployments per environment and commit = %v, want %v", perCommit, wantPerCommit)
	}
	wantStates := map[string]string{"integration 0.0.1-rc.1": "inactive", "integration 0.0.2-rc.1": "inactive",
		"integration 0.0.2-rc.2": "success", "live 0.0.1": "inactive", "live 0.0.2": "success"}
	if !maps.Equal(states, wantStates) {
		t.Errorf("deployment states = %v, want %v", states, wantStates)
	}

	for n, want := range map[int]int{1: 0, 2: 1, 3: 1} {
		ours := 0
		for _, cm := range gh.Comments(n) {
			if strings.Contains(cm.Body, "<!-- ocipromote:released:") {
				ours++
				if !strings.Contains(cm.Body, "Included in [0.0.2](https://github.com/acme/platform/releases/tag/v0.0.2)") || !strings.Contains(cm.Body, runURL) {
					t.Errorf("comment on #%d = %q, want the release and the run linked", n, cm.Body)
				}
			}
		}
		if ours != want {
			t.Errorf("#%d has %d comments from ocipromote, want %d", n, ours, want)
		}
		if labeled := slices.Contains(gh.Labels(n), "released"); labeled != (want == 1) {
			t.Errorf("#%d labels = %v, want released: %v", n, gh.Labels(n), want == 1)
		}
	}
}

// TestRecordsGitHubDown: the records are a report, not part of the promotion. With a GitHub API
// that answers 500 to everything, build-rc and tag-validated still do their job and exit 0; each
// record that could not be written is a ::warning::, and the stable tag is in the registry.
func TestRecordsGitHubDown(t *testing.T) {
	t.Parallel()
	repo := newRepo(t)
	gh := githubtest.New(t, "acme", "platform", githubtest.Token(recordsToken), githubtest.Faults(func(*http.Request) githubtest.Fault {
		return githubtest.Fault{Status: http.StatusInternalServerError}
	}))
	a, _, _ := recordsHistory(t, gh)
	env := recordsEnv(gh)

	built := run(t, env, "build-rc", append([]string{"--repository", repo, "--path", manifestsDir(t, "a"), "--sha", a,
		"--ref", "main", "--source", source, "--created", created, "--json"}, buildRecords...)...)
	promoted := run(t, env, "tag-validated", append([]string{"--repository", repo, "--sha", a, "--json"}, promoteRecords...)...)
	for _, r := range []result{built, promoted} {
		if r.code != 0 {
			t.Fatalf("a GitHub outage failed the step:\n%s", r)
		}
		if !strings.Contains(r.stderr, "::warning::GitHub record not written: ") || !strings.Contains(r.stderr, "500") {
			t.Errorf("%s: no ::warning:: naming the 500:\n%s", r.cmd, r.stderr)
		}
		if strings.Contains(r.stderr, "::error::") {
			t.Errorf("%s: a GitHub outage is an error:\n%s", r.cmd, r.stderr)
		}
	}
	if out := outputs(t, promoted); out["reason"] != "promoted" || out["version"] != "0.0.1" {
		t.Errorf("tag-validated outputs = %v, want promoted 0.0.1", out)
	}
	wantTagsAt(t, repo, outputs(t, built)["digest"], "0.0.1", "validated-"+short(a))
	if len(gh.Requests()) == 0 {
		t.Error("no request reached the fake GitHub API: the records were not tried")
	}
}

// TestRecordsRefuseInvalidValidatedAt: a validated_at that is not RFC 3339 is a mistake in the
// workflow, refused as a usage error before anything is promoted, rather than silently missing
// from the release notes.
func TestRecordsRefuseInvalidValidatedAt(t *testing.T) {
	t.Parallel()
	repo := newRepo(t)
	gh := githubtest.New(t, "acme", "platform", githubtest.Token(recordsToken))
	a, _, _ := recordsHistory(t, gh)
	env := recordsEnv(gh)
	step(t, env, "build-rc", "--repository", repo, "--path", manifestsDir(t, "a"), "--sha", a, "--ref", "main", "--source", source, "--created", created)
	before := listTags(t, repo)

	r := run(t, env, "tag-validated", "--repository", repo, "--sha", a, "--release", "--validated-at", "yesterday")
	if r.code != 2 || !strings.Contains(r.stderr, "validated_at") || !strings.Contains(r.stderr, "RFC 3339") {
		t.Errorf("want exit 2 naming validated_at and RFC 3339:\n%s", r)
	}
	wantSameTags(t, repo, before)
	if w := gh.Writes(); len(w) != 0 {
		t.Errorf("GitHub was written to: %v", w)
	}
}
