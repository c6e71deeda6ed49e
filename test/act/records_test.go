package act

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ocipromote/ocipromote/pkg/records/githubtest"
)

// The example workflows switch the GitHub records on (deployments, release, comment_prs); the
// test points them at a fake of GitHub's REST API on loopback (pkg/records/githubtest) with
// act's --env GITHUB_API_URL, which act puts in every step's environment in place of
// https://api.github.com (its --github-instance would force https). The job's token is act's
// GITHUB_TOKEN secret, which the fake requires with the examples' permissions, so a token that
// does not reach the records, or lacks a permission they need, fails the run with a warning.
const githubToken = "ghs_acttestfaketoken0000000000000000"

// startGitHub serves the fake GitHub API for githubRepository until the test ends, and returns
// the act flags that route the workflows' records to it.
func startGitHub(t *testing.T) (*githubtest.Server, []string) {
	t.Helper()
	owner, name, _ := strings.Cut(githubRepository, "/")
	// The token holds only what the example workflows' jobs grant (build-rc: deployments: write;
	// promote: contents: write, deployments: write, issues: write, pull-requests: read), so a
	// record needing more warns, and the run fails.
	gh := githubtest.New(t, owner, name, githubtest.Grant(githubToken, githubtest.Access{
		"contents": "write", "deployments": "write", "issues": "write", "pull_requests": "read"}))
	return gh, []string{"--env", "GITHUB_API_URL=" + gh.APIURL(), "--secret", "GITHUB_TOKEN=" + githubToken}
}

// pullRequest is a pull request of the scenario, as GitHub holds it.
type pullRequest struct {
	number int
	title  string
	user   string
}

// merge commits files as the squash merge of pull request pr at date, and gives the fake GitHub
// the commit and the merged pull request (GET /commits/{sha}/pulls lists it for the commit).
func (p *pipeline) merge(t *testing.T, pr pullRequest, date time.Time, files map[string][]byte) string {
	t.Helper()
	sha := p.ws.commit(t, pr.title, date, files)
	p.addCommit(t, sha)
	p.gh.AddPullRequest(githubtest.PullRequest{
		Number: pr.number, Title: pr.title, User: pr.user, State: "closed",
		MergedAt: date, MergeCommit: sha, Commits: []string{sha},
	})
	return sha
}

// addCommit gives the fake GitHub a commit of the workspace, with its parents, message, author
// and date as git has them.
func (p *pipeline) addCommit(t *testing.T, sha string) {
	t.Helper()
	// NUL-separated: a root commit's parents are empty, which git's output trimmed would lose.
	out := p.ws.git(t, nil, "log", "-1", "--format=%P%x00%an%x00%aI%x00%B", sha)
	lines := strings.SplitN(out, "\x00", 4)
	if len(lines) < 4 {
		t.Fatalf("git log %s: %q", sha, out)
	}
	date, err := time.Parse(time.RFC3339, lines[2])
	if err != nil {
		t.Fatalf("git log %s: date %q: %v", sha, lines[2], err)
	}
	p.gh.AddCommit(githubtest.Commit{
		Sha: sha, Parents: strings.Fields(lines[0]), Author: lines[1], Date: date.UTC(),
		Message: strings.TrimSpace(lines[3]),
	})
}

// openPullRequest gives the fake GitHub a pull request still open whose branch holds commits:
// it is listed for those commits but released by none of the versions that carry them.
func (p *pipeline) openPullRequest(pr pullRequest, commits ...string) {
	p.gh.AddPullRequest(githubtest.PullRequest{Number: pr.number, Title: pr.title, User: pr.user, State: "open", Commits: commits})
}

// deploymentWant is a deployment the records must have written: one per environment and
// commit, its payload naming the artifact, and every status it has had, oldest first.
type deploymentWant struct {
	env, version, sha, digest string
	states                    []string
}

// wantDeployments checks every deployment of the fake GitHub, oldest first.
func (p *pipeline) wantDeployments(t *testing.T, want ...deploymentWant) {
	t.Helper()
	got := p.gh.Deployments()
	var problems []string
	if len(got) != len(want) {
		problems = append(problems, fmt.Sprintf("%d deployments, want %d", len(got), len(want)))
	}
	for i := range min(len(got), len(want)) {
		g, w := got[i], want[i]
		var pl struct{ Tool, Repository, Version, Digest string }
		if err := json.Unmarshal(g.Payload, &pl); err != nil {
			problems = append(problems, fmt.Sprintf("deployment %d: payload %s: %v", g.ID, g.Payload, err))
		}
		var states []string
		for _, s := range g.Statuses {
			states = append(states, s.State)
		}
		gs := fmt.Sprintf("%s %s@%s %s %s production=%v %v", g.Environment, pl.Version, short(g.Sha), pl.Digest, pl.Repository, g.Production, states)
		// The last stage is the production environment: live, or prod in the chain of three.
		production := w.env == "live" || w.env == "prod"
		ws := fmt.Sprintf("%s %s@%s %s %s production=%v %v", w.env, w.version, short(w.sha), w.digest, p.repo, production, w.states)
		if gs != ws || pl.Tool != "ocipromote" || g.Task != "deploy" {
			problems = append(problems, fmt.Sprintf("deployment %d:\n    got  %s (tool %q, task %q)\n    want %s", i, gs, pl.Tool, g.Task, ws))
		}
	}
	if len(problems) > 0 {
		t.Fatalf("GitHub deployments:\n  %s\nall: %s", strings.Join(problems, "\n  "), p.describeDeployments())
	}
}

func (p *pipeline) describeDeployments() string {
	var b strings.Builder
	for _, d := range p.gh.Deployments() {
		fmt.Fprintf(&b, "\n  %d %s %s %s", d.ID, d.Environment, short(d.Sha), d.Payload)
		for _, s := range d.Statuses {
			fmt.Fprintf(&b, "\n    %s %q", s.State, s.Description)
		}
	}
	return b.String()
}

// releaseWant is a release the records must have created at commit sha, with notes that contain
// each of notes.
type releaseWant struct {
	tag, sha string
	notes    []string
}

// wantReleases checks every release of the fake GitHub, oldest first.
func (p *pipeline) wantReleases(t *testing.T, want ...releaseWant) {
	t.Helper()
	got := p.gh.Releases()
	var problems []string
	if len(got) != len(want) {
		problems = append(problems, fmt.Sprintf("%d releases, want %d", len(got), len(want)))
	}
	for i := range min(len(got), len(want)) {
		g, w := got[i], want[i]
		if g.Tag != w.tag || g.Target != w.sha || g.Name != w.tag || g.Prerelease {
			problems = append(problems, fmt.Sprintf("release %d: %s %q at %s (prerelease %v), want %s at %s", i, g.Tag, g.Name, g.Target, g.Prerelease, w.tag, w.sha))
		}
		for _, n := range w.notes {
			if !strings.Contains(g.Body, n) {
				problems = append(problems, fmt.Sprintf("release %s: the notes do not contain %q:\n%s", g.Tag, n, g.Body))
			}
		}
	}
	if len(problems) > 0 {
		t.Fatalf("GitHub releases:\n  %s", strings.Join(problems, "\n  "))
	}
}

// wantPullRequests checks the comments and labels of the pull requests: those in released
// (number: stable version) have exactly one comment, linking that version's release, and the
// released label once; the others have neither.
func (p *pipeline) wantPullRequests(t *testing.T, prs []pullRequest, released map[int]string) {
	t.Helper()
	var problems []string
	for _, pr := range prs {
		comments, labels := p.gh.Comments(pr.number), p.gh.Labels(pr.number)
		v, ok := released[pr.number]
		if !ok {
			if len(comments) > 0 || slices.Contains(labels, "released") {
				problems = append(problems, fmt.Sprintf("#%d: %d comments, labels %q; want none", pr.number, len(comments), labels))
			}
			continue
		}
		want := fmt.Sprintf("Included in [%s](%s/releases/tag/v%s)", v, sourceURL, v)
		if len(comments) != 1 || !strings.Contains(comments[0].Body, want) {
			problems = append(problems, fmt.Sprintf("#%d: %d comments %+v, want one containing %q", pr.number, len(comments), comments, want))
		}
		if n := countOf(labels, "released"); n != 1 {
			problems = append(problems, fmt.Sprintf("#%d: labels %q, want released once", pr.number, labels))
		}
	}
	if len(problems) > 0 {
		t.Fatalf("GitHub pull requests:\n  %s", strings.Join(problems, "\n  "))
	}
}

func countOf(list []string, s string) int {
	n := 0
	for _, v := range list {
		if v == s {
			n++
		}
	}
	return n
}

// wantNoDuplicateWrites checks every write the fake GitHub received: each names a record (a
// deployment of a version to an environment, one state of one deployment, a release, the one edit
// that marks a release complete, a comment of one version on one pull request, a label on one pull
// request) and none names one twice.
func (p *pipeline) wantNoDuplicateWrites(t *testing.T) {
	t.Helper()
	seen := map[string]int{}
	var problems []string
	for i, r := range p.gh.Requests() {
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			continue
		}
		var body struct {
			Ref         string   `json:"ref"`
			Environment string   `json:"environment"`
			State       string   `json:"state"`
			Body        string   `json:"body"`
			TagName     string   `json:"tag_name"`
			Labels      []string `json:"labels"`
			Payload     struct {
				Version string `json:"version"`
			} `json:"payload"`
		}
		if err := json.Unmarshal(r.Body, &body); err != nil {
			// go-github sends the labels as a bare array.
			_ = json.Unmarshal(r.Body, &body.Labels)
		}
		rest, _ := strings.CutPrefix(r.Path, p.gh.RepoPath("/"))
		parts := strings.Split(rest, "/")
		var key string
		switch {
		case r.Method == http.MethodPatch && len(parts) == 2 && parts[0] == "releases":
			// Once every pull request has its comment and label, the release notes are marked
			// complete, so that a replay need not walk the pull requests again.
			key = "edit of release " + parts[1]
		case r.Method != http.MethodPost:
		case rest == "deployments":
			key = fmt.Sprintf("deployment of %s to %s at %s", body.Payload.Version, body.Environment, short(body.Ref))
		case len(parts) == 3 && parts[0] == "deployments" && parts[2] == "statuses":
			key = fmt.Sprintf("status %s of deployment %s", body.State, parts[1])
		case rest == "releases":
			key = "release " + body.TagName
		case len(parts) == 3 && parts[0] == "issues" && parts[2] == "comments":
			first, _, _ := strings.Cut(body.Body, "\n")
			key = fmt.Sprintf("comment %s on #%s", first, parts[1])
		case len(parts) == 3 && parts[0] == "issues" && parts[2] == "labels":
			key = fmt.Sprintf("labels %q on #%s", body.Labels, parts[1])
		}
		if key == "" {
			problems = append(problems, fmt.Sprintf("request %d: unexpected write %s", i, r))
			continue
		}
		if seen[key]++; seen[key] == 2 {
			problems = append(problems, fmt.Sprintf("request %d: %s written again (%s)", i, key, r))
		}
	}
	if len(problems) > 0 {
		t.Fatalf("GitHub writes:\n  %s\nall writes: %q", strings.Join(problems, "\n  "), p.gh.Writes())
	}
}

// writesSince returns the writes the fake GitHub received after the first n.
func (p *pipeline) writesSince(n int) []string {
	w := p.gh.Writes()
	return w[min(n, len(w)):]
}

// wantNoWritesSince fails when the fake GitHub received a write after the first n.
func (p *pipeline) wantNoWritesSince(t *testing.T, n int, what string) {
	t.Helper()
	if w := p.writesSince(n); len(w) > 0 {
		t.Fatalf("%s wrote to GitHub: %q", what, w)
	}
}

func short(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}
