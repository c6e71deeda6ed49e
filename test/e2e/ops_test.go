package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ocipromote/ocipromote/pkg/prune/packagestest"
	"github.com/ocipromote/ocipromote/pkg/status"
)

// statusOf runs ocipromote status --json.
func statusOf(t *testing.T, repo string, extra ...string) status.Report {
	t.Helper()
	r := run(t, nil, "ocipromote", append([]string{"status", "--repository", repo, "--json"}, extra...)...)
	if r.code != 0 {
		t.Fatalf("%s", r)
	}
	var rep status.Report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("status --json is not a report: %v\n%s", err, r)
	}
	return rep
}

func selection(t *testing.T, rep status.Report, name string) status.Selection {
	t.Helper()
	for _, s := range rep.Selections {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no selection %s in %+v", name, rep.Selections)
	return status.Selection{}
}

// dispatchEvent writes a repository_dispatch event as Flux's githubdispatch provider sends it,
// for a health check of revision on the integration cluster.
func dispatchEvent(t *testing.T, revision, sha string) string {
	t.Helper()
	payload := map[string]any{
		"action": "Kustomization/platform.flux-system",
		"client_payload": map[string]any{
			"involvedObject": map[string]any{"kind": "Kustomization", "namespace": "flux-system", "name": "platform"},
			"severity":       "info", "timestamp": "2026-11-22T10:00:00Z", "message": "Health check passed in 4.2s", "reason": "Progressing",
			"metadata":            map[string]any{"cluster": "integration", "originRevision": "main@sha1:" + sha, "revision": revision},
			"reportingController": "kustomize-controller",
		},
	}
	b, err := json.Marshal(payload)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "event.json")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestOpsStatus(t *testing.T) {
	t.Parallel()
	repo := newRepo(t)
	rcs := candidates(t, repo, "a", "b", "c")
	tagValidated(t, repo, "--digest", rcs[0]["digest"])
	tagValidated(t, repo, "--digest", rcs[2]["digest"])

	rep := statusOf(t, repo)
	var got []string
	for _, a := range rep.Artifacts {
		got = append(got, fmt.Sprintf("%s %s %v %v %s", a.Short, a.RC, a.Stable, a.Validated, a.SupersededBy))
	}
	want := []string{
		short(commit(t, "c")) + " 0.0.1-rc.3 [0.0.2] true ",
		short(commit(t, "b")) + " 0.0.1-rc.2 [] false 0.0.2",
		short(commit(t, "a")) + " 0.0.1-rc.1 [0.0.1] true ",
	}
	if !slices.Equal(got, want) {
		t.Errorf("artifacts, newest first:\n got %q\nwant %q", got, want)
	}
	// Integration takes release candidates only (semverFilter .*-rc.*, as the example cluster),
	// live stable versions: both on c's artifact.
	for name, tag := range map[string]string{"integration": "0.0.1-rc.3", "live": "0.0.2"} {
		if s := selection(t, rep, name); s.Tag != tag || s.Digest != rcs[2]["digest"] || s.Held {
			t.Errorf("%s = %+v, want %s on %s, not held", name, s, tag, rcs[2]["digest"])
		}
	}

	// The composite action's way: inputs as INPUT_*, Markdown to the job summary and stdout.
	summary := filepath.Join(t.TempDir(), "summary")
	if err := os.WriteFile(summary, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	r := run(t, map[string]string{"INPUT_REPOSITORY": repo, "INPUT_FORMAT": "markdown", "INPUT_SELECT": "candidates=>= 0.0.0-0;.*-rc.*\nlive=>= 0.0.0",
		"GITHUB_STEP_SUMMARY": summary}, "ocipromote", "status")
	if r.code != 0 {
		t.Fatalf("%s", r)
	}
	b, _ := os.ReadFile(summary)
	for _, want := range []string{"| candidates | `>= 0.0.0-0 filter .*-rc.*` | `0.0.1-rc.3` |", "| live | `>= 0.0.0` | `0.0.2` |", "superseded by 0.0.2"} {
		if !strings.Contains(string(b), want) || !strings.Contains(r.stdout, want) {
			t.Errorf("summary or stdout lacks %q:\n%s\n%s", want, b, r.stdout)
		}
	}
}

// The rollback promise: after it, a late validation event (replayed, or for a newer candidate)
// leaves live on the rolled-back artifact, until the hold is released.
func TestOpsRollbackThenLateValidation(t *testing.T) {
	t.Parallel()
	repo := newRepo(t)
	rcs := candidates(t, repo, "a", "b")
	a, b := rcs[0], rcs[1]
	tagValidated(t, repo, "--revision", a["version"]+"@"+a["digest"])
	tagValidated(t, repo, "--revision", b["version"]+"@"+b["digest"])
	if s := selection(t, statusOf(t, repo), "live"); s.Digest != b["digest"] {
		t.Fatalf("live = %+v, want b", s)
	}

	out := mustRun(t, map[string]string{"GITHUB_ACTOR": "oncall"}, "ocipromote", "rollback", "--repository", repo, "--to", short(commit(t, "a")), "--reason", "b broke checkout")
	for key, want := range map[string]string{"version": "0.0.3", "digest": a["digest"], "writes": "hold-1,0.0.3", "changed": "true", "validated": "true"} {
		if got := out[key]; got != want {
			t.Errorf("rollback %s = %q, want %q (%v)", key, got, want, out)
		}
	}
	wantTagsAt(t, repo, a["digest"], "0.0.1", "0.0.3")

	// A commit merged after the rollback is built and validated by integration: late events.
	c := candidates(t, repo, "c")[0]
	if got, want := c["version"], "0.0.4-rc.1"; got != want {
		t.Errorf("next candidate = %s, want %s", got, want)
	}
	before := listTags(t, repo)
	for _, rc := range []map[string]string{b, c} {
		held := tagValidated(t, repo, "--revision", rc["version"]+"@"+rc["digest"])
		wantDecision(t, held, "false", "held", "")
	}
	r := run(t, map[string]string{"GITHUB_EVENT_NAME": "repository_dispatch", "GITHUB_EVENT_PATH": dispatchEvent(t, c["version"]+"@"+c["digest"], commit(t, "c")),
		"INPUT_OBJECT": "Kustomization/platform.flux-system", "INPUT_CLUSTER": "integration", "INPUT_REPOSITORY": repo}, "dispatch-receiver", "--json")
	if r.code != 0 {
		t.Fatalf("%s", r)
	}
	if d := outputs(t, r); d["promote"] != "false" || !strings.HasPrefix(d["reason"], "held: ") || !strings.Contains(d["reason"], "b broke checkout") {
		t.Errorf("dispatch-receiver = %v, want promote=false and a held reason", d)
	}
	wantSameTags(t, repo, before)
	rep := statusOf(t, repo)
	if s := selection(t, rep, "live"); s.Tag != "0.0.3" || s.Digest != a["digest"] || !s.Held {
		t.Errorf("live after late events = %+v, want the rolled-back %s, held", s, a["digest"])
	}
	if !rep.Hold.Held() || rep.Hold.Actor != "oncall" || rep.Hold.Digest != a["digest"] {
		t.Errorf("hold = %+v", rep.Hold)
	}

	// Running the rollback again converges: nothing to write.
	again := mustRun(t, map[string]string{"GITHUB_ACTOR": "oncall"}, "ocipromote", "rollback", "--repository", repo, "--to", a["digest"], "--reason", "b broke checkout")
	if again["changed"] != "false" || again["writes"] != "" {
		t.Errorf("re-run = %v, want nothing written", again)
	}
	wantSameTags(t, repo, before)

	// Released, the fix goes live as the next patch above the rollback.
	released := mustRun(t, nil, "ocipromote", "hold", "release", "--repository", repo, "--actor", "oncall", "--reason", "fix in c")
	if released["hold"] != "off" || released["tag"] != "hold-2" {
		t.Errorf("release = %v", released)
	}
	wantDecision(t, tagValidated(t, repo, "--revision", c["version"]+"@"+c["digest"]), "true", "promoted", "0.0.4")
	if s := selection(t, statusOf(t, repo), "live"); s.Digest != c["digest"] || s.Held {
		t.Errorf("live after the release = %+v, want c", s)
	}
}

func TestOpsRollbackRefusesUnvalidated(t *testing.T) {
	t.Parallel()
	repo := newRepo(t)
	rcs := candidates(t, repo, "a", "b")
	tagValidated(t, repo, "--digest", rcs[0]["digest"])
	before := listTags(t, repo)
	r := run(t, nil, "ocipromote", "rollback", "--repository", repo, "--to", rcs[1]["version"], "--reason", "try b", "--actor", "oncall")
	if r.code != 1 || !strings.Contains(r.stderr, "never validated") || !strings.Contains(r.stderr, "--force") {
		t.Errorf("rollback to an unvalidated artifact:\n%s", r)
	}
	wantSameTags(t, repo, before)
	out := mustRun(t, nil, "ocipromote", "rollback", "--repository", repo, "--to", rcs[1]["version"], "--reason", "try b", "--actor", "oncall", "--force")
	if out["version"] != "0.0.2" || out["validated"] != "false" {
		t.Errorf("forced rollback = %v", out)
	}
	wantTagsAt(t, repo, rcs[1]["digest"], "0.0.2")
}

// A freeze by hand: promotion answers held until it is released.
func TestOpsHoldFreeze(t *testing.T) {
	t.Parallel()
	repo := newRepo(t)
	rc := candidates(t, repo, "a")[0]
	set := mustRun(t, nil, "ocipromote", "hold", "set", "--repository", repo, "--reason", "quarter-end freeze", "--actor", "release-manager")
	if set["hold"] != "on" || set["tag"] != "hold-1" || set["changed"] != "true" {
		t.Errorf("hold set = %v", set)
	}
	// A second reason joins the first (issue 14: it was dropped with "nothing to do"); the same
	// reason again writes nothing.
	if again := mustRun(t, nil, "ocipromote", "hold", "set", "--repository", repo, "--reason", "incident 7", "--actor", "x"); again["changed"] != "true" || again["reason"] != "quarter-end freeze; incident 7" {
		t.Errorf("second hold set = %v, want both reasons written", again)
	}
	if again := mustRun(t, nil, "ocipromote", "hold", "set", "--repository", repo, "--reason", "incident 7", "--actor", "x"); again["changed"] != "false" {
		t.Errorf("the same hold set again = %v, want nothing written", again)
	}
	wantDecision(t, tagValidated(t, repo, "--digest", rc["digest"]), "false", "held", "")
	mustRun(t, nil, "ocipromote", "hold", "release", "--repository", repo, "--actor", "release-manager")
	wantDecision(t, tagValidated(t, repo, "--digest", rc["digest"]), "true", "promoted", "0.0.1")
	if tags := listTags(t, repo); !slices.Contains(tags, "hold-1") || !slices.Contains(tags, "hold-2") || !slices.Contains(tags, "hold-3") {
		t.Errorf("hold records = %v, want hold-1 to hold-3 kept", tags)
	}
}

// old builds a, b, c (created in January) and promotes a and c, then freezes promotion, so the
// repository holds a superseded candidate, two stable versions and a hold record.
func old(t *testing.T, repo string) []map[string]string {
	t.Helper()
	var rcs []map[string]string
	for i, label := range []string{"a", "b", "c"} {
		rcs = append(rcs, buildRC(t, repo, manifestsDir(t, label), commit(t, label), "--created", fmt.Sprintf("2026-01-0%dT10:00:00Z", i+1)))
	}
	tagValidated(t, repo, "--digest", rcs[0]["digest"])
	tagValidated(t, repo, "--digest", rcs[2]["digest"])
	mustRun(t, nil, "ocipromote", "hold", "set", "--repository", repo, "--reason", "freeze", "--actor", "oncall")
	return rcs
}

// pruneResult runs ocipromote prune --json.
func pruneResult(t *testing.T, env map[string]string, repo string, extra ...string) (deleted []string) {
	t.Helper()
	args := append([]string{"prune", "--repository", repo, "--keep-stable", "1", "--keep-rc-days", "30", "--now", "2026-06-01T00:00:00Z", "--json"}, extra...)
	r := run(t, env, "ocipromote", args...)
	if r.code != 0 {
		t.Fatalf("%s", r)
	}
	var res struct {
		Deleted []struct {
			Digest string   `json:"digest"`
			Tags   []string `json:"tags"`
		} `json:"deleted"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatalf("prune --json: %v\n%s", err, r)
	}
	for _, it := range res.Deleted {
		deleted = append(deleted, it.Digest)
	}
	return deleted
}

func without(list []string, drop ...string) []string {
	return slices.DeleteFunc(slices.Clone(list), func(s string) bool { return slices.Contains(drop, s) })
}

// Prune on a real distribution registry: the dry run prints exactly what the run then deletes,
// with the OCI API, and nothing a kept tag points at goes.
func TestOpsPruneOCI(t *testing.T) {
	t.Parallel()
	repo := newRepo(t)
	rcs := old(t, repo)
	a, b := commit(t, "a"), commit(t, "b")
	before := listTags(t, repo)

	planned := pruneResult(t, nil, repo, "--dry-run")
	wantSameTags(t, repo, before)
	if want := []string{rcs[1]["digest"]}; !slices.Equal(planned, want) {
		t.Errorf("dry run would delete %v, want b's %v", planned, want)
	}
	if deleted := pruneResult(t, nil, repo); !slices.Equal(deleted, planned) {
		t.Errorf("deleted %v, want what the dry run printed, %v", deleted, planned)
	}
	bTags := []string{"0.0.1-rc.2", claimTag(t, "0.0.1-rc.2", b, rcs[1]["digest"]), "integration-" + short(b), "sha-" + short(b)}
	if got, want := listTags(t, repo), without(before, bTags...); !slices.Equal(got, want) {
		t.Errorf("tags after prune:\n got %q\nwant %q", got, want)
	}

	// With prune_stable, a's 0.0.1 (older than the newest 1) goes too; live's 0.0.2 and the hold
	// records stay; a second run finds nothing more.
	mid := listTags(t, repo)
	if deleted := pruneResult(t, nil, repo, "--prune-stable"); !slices.Equal(deleted, []string{rcs[0]["digest"]}) {
		t.Errorf("prune_stable deleted %v, want a's %s", deleted, rcs[0]["digest"])
	}
	aTags := []string{"0.0.1", "0.0.1-rc.1", claimTag(t, "0.0.1", a, rcs[0]["digest"]), claimTag(t, "0.0.1-rc.1", a, rcs[0]["digest"]),
		"integration-" + short(a), "sha-" + short(a), "validated-" + short(a)}
	if got, want := listTags(t, repo), without(mid, aTags...); !slices.Equal(got, want) {
		t.Errorf("tags after prune_stable:\n got %q\nwant %q", got, want)
	}
	if deleted := pruneResult(t, nil, repo, "--prune-stable"); len(deleted) != 0 {
		t.Errorf("second run deleted %v", deleted)
	}
	if s := selection(t, statusOf(t, repo), "live"); s.Digest != rcs[2]["digest"] {
		t.Errorf("live after prune = %+v", s)
	}
}

// Prune through GitHub's Packages API (as for ghcr.io), against a local fake of it that mirrors
// the real registry's content: the exact DELETE requests, all pages read.
func TestOpsPruneGitHubPackages(t *testing.T) {
	t.Parallel()
	repo := newRepo(t)
	rcs := old(t, repo)
	owner, pkg, _ := strings.Cut(strings.TrimPrefix(repo, registryAddr+"/"), "/")
	byDigest := map[string][]string{}
	for _, tag := range listTags(t, repo) {
		d := digestOf(t, repo, tag)
		byDigest[d] = append(byDigest[d], tag)
	}
	var versions []packagestest.Version
	ids := map[string]int64{}
	for _, d := range slices.Sorted(func(yield func(string) bool) {
		for d := range byDigest {
			if !yield(d) {
				return
			}
		}
	}) {
		id := int64(500 + len(versions))
		ids[d] = id
		versions = append(versions, packagestest.Version{ID: id, Digest: d, Tags: byDigest[d], Created: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)})
	}
	api := packagestest.New(t, owner, true, pkg, versions, packagestest.MaxPage(2), packagestest.Token("ghs_e2e"))
	env := map[string]string{"GITHUB_API_URL": api.URL, "GITHUB_TOKEN": "ghs_e2e"}

	planned := pruneResult(t, env, repo, "--delete-api", "github", "--dry-run")
	if len(api.Deletes()) != 0 {
		t.Errorf("dry run sent %v", api.Deletes())
	}
	deleted := pruneResult(t, env, repo, "--delete-api", "github")
	if want := []string{rcs[1]["digest"]}; !slices.Equal(deleted, want) || !slices.Equal(planned, want) {
		t.Errorf("deleted %v (dry run %v), want %v", deleted, planned, want)
	}
	wantDeletes := []string{fmt.Sprintf("DELETE /orgs/%s/packages/container/%s/versions/%d", owner, pkg, ids[rcs[1]["digest"]])}
	if got := api.Deletes(); !slices.Equal(got, wantDeletes) {
		t.Errorf("DELETE requests = %v, want %v", got, wantDeletes)
	}
	if got, want := len(api.Versions()), len(versions)-1; got != want {
		t.Errorf("%d package versions left, want %d", got, want)
	}
}

// After a rollback the highest tag overall is the rollback's stable tag, while the integration
// cluster runs the highest release candidate. Prune keeps that candidate: integration selects it,
// and, with only live's selection given, tag-validated would still promote it; status says
// integration runs it.
func TestOpsPruneAfterRollback(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		extra  []string
		reason string
	}{
		{"the clusters' selections", nil, "selected by integration"},
		{"live's selection only", []string{"--select", "live=>= 0.0.0"}, "pending"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			repo := newRepo(t)
			var rcs []map[string]string
			for i, label := range []string{"a", "b", "c", "d"} {
				rcs = append(rcs, buildRC(t, repo, manifestsDir(t, label), commit(t, label), "--created", fmt.Sprintf("2026-01-0%dT10:00:00Z", i+1)))
				if label == "a" || label == "c" {
					tagValidated(t, repo, "--digest", rcs[i]["digest"])
				}
			}
			d := rcs[3]
			if got, want := d["version"], "0.0.3-rc.1"; got != want {
				t.Fatalf("d built as %s, want %s", got, want)
			}
			mustRun(t, nil, "ocipromote", "rollback", "--repository", repo, "--to", short(commit(t, "a")), "--reason", "c broke checkout", "--actor", "oncall")
			wantTagsAt(t, repo, rcs[0]["digest"], "0.0.1", "0.0.3")
			if s := selection(t, statusOf(t, repo), "integration"); s.Tag != "0.0.3-rc.1" || s.Digest != d["digest"] {
				t.Errorf("integration after the rollback = %+v, want d's 0.0.3-rc.1", s)
			}

			dTags := []string{}
			for _, tag := range listTags(t, repo) {
				if digestOf(t, repo, tag) == d["digest"] {
					dTags = append(dTags, tag)
				}
			}
			r := run(t, nil, "ocipromote", append([]string{"prune", "--repository", repo, "--keep-stable", "1", "--keep-rc-days", "30", "--now", "2026-06-01T00:00:00Z", "--json"}, tc.extra...)...)
			if r.code != 0 {
				t.Fatalf("%s", r)
			}
			var res struct {
				Deleted []struct{ Digest string } `json:"deleted"`
				Plan    struct {
					Keep []struct {
						Digest string `json:"digest"`
						Reason string `json:"reason"`
					} `json:"keep"`
				} `json:"plan"`
			}
			if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
				t.Fatalf("prune --json: %v\n%s", err, r)
			}
			if len(res.Deleted) != 1 || res.Deleted[0].Digest != rcs[1]["digest"] {
				t.Errorf("deleted %+v, want only b's %s", res.Deleted, rcs[1]["digest"])
			}
			for _, k := range res.Plan.Keep {
				if k.Digest == d["digest"] && !strings.Contains(k.Reason, tc.reason) {
					t.Errorf("d kept for %q, want %q", k.Reason, tc.reason)
				}
			}
			tags := listTags(t, repo)
			for _, tag := range dTags {
				if !slices.Contains(tags, tag) {
					t.Errorf("integration's candidate lost %s: %q", tag, tags)
				}
			}
		})
	}
}
