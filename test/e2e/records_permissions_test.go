package e2e

import (
	"encoding/json"
	"maps"
	"strings"
	"testing"

	"github.com/ocipromote/ocipromote/pkg/records/githubtest"
)

// exampleGrants is what examples/github/workflows/promote.yaml's promote job grants the records
// (docs/github.md), with GitHub's spelling.
var exampleGrants = githubtest.Access{"contents": "write", "deployments": "write", "issues": "write", "pull_requests": "read"}

// TestRecordsLackingOnePermission runs the built binaries against the strict fake GitHub with a
// token lacking one permission at a time: the step still promotes (records are warnings), the
// warning names what GitHub's X-Accepted-GitHub-Permissions header accepts, and a later run
// with the permission completes the records without duplicates.
func TestRecordsLackingOnePermission(t *testing.T) {
	t.Parallel()
	tests := []struct{ lack, want string }{
		{"deployments", "`deployments: read`"},
		{"contents", "`contents: read`"},
		{"issues", "`issues: write`"},
		{"pull_requests", "`pull-requests: read`"},
	}
	for _, tc := range tests {
		t.Run(tc.lack, func(t *testing.T) {
			t.Parallel()
			lacking := maps.Clone(exampleGrants)
			delete(lacking, tc.lack)
			const full = "ghs_e2e-full"
			gh := githubtest.New(t, "acme", "platform", githubtest.Grant(recordsToken, lacking), githubtest.Grant(full, exampleGrants))
			a, b, c := recordsHistory(t, gh)
			repo := newRepo(t)
			env := recordsEnv(gh)
			pace := []string{"--github-write-interval", "0s"}
			var rcs []map[string]string
			for _, sha := range []string{a, b, c} {
				r := run(t, env, "build-rc", append(append([]string{"--repository", repo, "--path", manifestsDir(t, map[string]string{a: "a", b: "b", c: "c"}[sha]),
					"--sha", sha, "--ref", "main", "--source", source, "--created", created, "--json"}, buildRecords...), pace...)...)
				if r.code != 0 {
					t.Fatalf("%s", r)
				}
				rcs = append(rcs, outputs(t, r))
			}
			var warned string
			for i, rc := range []map[string]string{rcs[0], rcs[2]} {
				r := run(t, env, "tag-validated", append(append([]string{"--repository", repo, "--revision", rc["version"] + "@" + rc["digest"], "--json"}, promoteRecords...), pace...)...)
				if r.code != 0 {
					t.Fatalf("without %s the promotion failed: %s", tc.lack, r)
				}
				if out := outputs(t, r); out["reason"] != "promoted" {
					t.Fatalf("promotion %d: %v, want promoted", i, out)
				}
				warned += r.stderr
			}
			if !strings.Contains(warned, "::warning::") || !strings.Contains(warned, tc.want) {
				t.Errorf("without %s, want a warning naming %s from GitHub's header; stderr:\n%s", tc.lack, tc.want, warned)
			}

			env["GITHUB_TOKEN"] = full
			for _, rc := range []map[string]string{rcs[0], rcs[2]} {
				step(t, env, "tag-validated", append(append([]string{"--repository", repo, "--revision", rc["version"] + "@" + rc["digest"]}, promoteRecords...), pace...)...)
			}
			rels := gh.Releases()
			if len(rels) != 2 || !strings.Contains(rels[1].Body, "<!-- ocipromote:complete -->") {
				t.Errorf("releases %+v, want v0.0.1 and v0.0.2, complete", rels)
			}
			for _, n := range []int{2, 3} {
				ours := 0
				for _, cm := range gh.Comments(n) {
					if strings.Contains(cm.Body, "ocipromote:released") {
						ours++
					}
				}
				if ours != 1 || len(gh.Labels(n)) != 1 {
					t.Errorf("#%d: %d comments of ours and labels %v, want one and released", n, ours, gh.Labels(n))
				}
			}
			per := map[string]int{}
			for _, d := range gh.Deployments() {
				per[d.Environment+" "+d.Sha]++
			}
			for k, n := range per {
				if n != 1 {
					t.Errorf("%d deployments for %s, want 1", n, k)
				}
			}
			// b's integration deployment is build-rc's alone; its run is not repeated here.
			for _, k := range []string{"integration " + a, "integration " + c, "live " + a, "live " + c} {
				if per[k] != 1 {
					t.Errorf("deployments %v, want one for %s", per, k)
				}
			}
		})
	}
}

// TestRollbackRecordsLiveDeployment: with deployments on, a rollback makes the rolled-back-to
// artifact live's active deployment and the one it replaced inactive; a re-run writes nothing.
func TestRollbackRecordsLiveDeployment(t *testing.T) {
	t.Parallel()
	gh := githubtest.New(t, "acme", "platform", githubtest.Grant(recordsToken, exampleGrants))
	a, b, _ := recordsHistory(t, gh)
	repo := newRepo(t)
	env := recordsEnv(gh)
	env["GITHUB_ACTOR"] = "oncall"
	rcs := candidates(t, repo, "a", "b")
	for _, rc := range rcs {
		step(t, env, "tag-validated", "--repository", repo, "--revision", rc["version"]+"@"+rc["digest"], "--deployments")
	}
	out := step(t, env, "ocipromote", "rollback", "--repository", repo, "--to", short(a), "--reason", "b broke checkout", "--deployments")
	if out["version"] != "0.0.3" {
		t.Fatalf("rollback = %v, want 0.0.3", out)
	}
	writes := len(gh.Writes())
	step(t, env, "ocipromote", "rollback", "--repository", repo, "--to", short(a), "--reason", "b broke checkout", "--deployments")
	if again := gh.Writes()[writes:]; len(again) != 0 {
		t.Errorf("a re-run of the rollback wrote %v", again)
	}
	states := map[string]string{}
	for _, d := range gh.Deployments() {
		if d.Environment == "live" {
			var p struct{ Version, Digest string }
			_ = json.Unmarshal(d.Payload, &p)
			states[p.Version] = d.State()
			if p.Version == "0.0.3" && (d.Sha != a || p.Digest != rcs[0]["digest"]) {
				t.Errorf("live 0.0.3 deployment at %s with %s, want a's commit and digest", d.Sha, p.Digest)
			}
		}
	}
	if states["0.0.3"] != "success" || states["0.0.2"] != "inactive" || states["0.0.1"] != "inactive" {
		t.Errorf("live deployments %v, want 0.0.3 (the rollback to a) success and the rest inactive; b is %s", states, short(b))
	}
}
