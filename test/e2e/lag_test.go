package e2e

import (
	"encoding/json"
	"fmt"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ocipromote/ocipromote/pkg/hold"
	"github.com/ocipromote/ocipromote/pkg/oci/ocitest"
)

// runAll runs the binaries at once (each args[i] a binary and its arguments, --json added) and
// returns their results; it fails the test if one cannot be run.
func runAll(t *testing.T, cmds ...[]string) []result {
	t.Helper()
	results := make([]result, len(cmds))
	errs := make([]error, len(cmds))
	var wg sync.WaitGroup
	for i, c := range cmds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = start(nil, c[0], append(c[1:], "--json")...)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	return results
}

// The built binaries on the real registry behind a front whose listings come from two replicas
// each up to 300 ms behind, with manifest PUTs up to 50 ms late, given a settle time above the
// lag: three builds at once take three release candidates, their three promotions at once never
// share a stable version, and a hold release and a rollback at once write one record each, the
// rollback succeeding on its first run. No tag moves.
func TestClaimsOnALaggingRegistry(t *testing.T) {
	t.Parallel()
	const lag, settle = 300 * time.Millisecond, "450ms"
	front := ocitest.New(t, ocitest.Backend(httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: registryAddr})),
		ocitest.ReplicaLag(2, lag, 7), ocitest.PutLatency(50*time.Millisecond, 7))
	repo := strings.Replace(newRepo(t), registryAddr, front.Host, 1)

	labels := []string{"a", "b", "c"}
	var cmds [][]string
	for _, l := range labels {
		cmds = append(cmds, []string{"build-rc", "--repository", repo, "--path", manifestsDir(t, l), "--sha", commit(t, l), "--ref", "main",
			"--source", source, "--created", created, "--settle", settle})
	}
	builds := make([]map[string]string, len(labels))
	seen := map[string]bool{}
	for i, r := range runAll(t, cmds...) {
		if r.code != 0 {
			t.Fatalf("%s", r)
		}
		builds[i] = outputs(t, r)
		if v := builds[i]["version"]; seen[v] {
			t.Errorf("two builds took %s", v)
		}
		seen[builds[i]["version"]] = true
	}

	time.Sleep(lag) // integration selects from the listing: no event before the tags are listed
	cmds = nil
	for _, b := range builds {
		cmds = append(cmds, []string{"tag-validated", "--repository", repo, "--revision", b["version"] + "@" + b["digest"], "--settle", settle})
	}
	stable := map[string]bool{}
	for _, r := range runAll(t, cmds...) {
		if r.code != 0 {
			t.Fatalf("%s", r)
		}
		if out := outputs(t, r); out["promoted"] == "true" {
			if stable[out["version"]] {
				t.Errorf("two promotions wrote %s", out["version"])
			}
			stable[out["version"]] = true
		}
	}

	mustRun(t, nil, "ocipromote", "hold", "set", "--repository", repo, "--reason", "freeze", "--actor", "alice", "--settle", settle)
	rs := runAll(t,
		[]string{"ocipromote", "rollback", "--repository", repo, "--to", builds[0]["version"], "--force", "--reason", "bad", "--actor", "oncall", "--settle", settle},
		[]string{"ocipromote", "hold", "release", "--repository", repo, "--reason", "freeze over", "--actor", "bob", "--settle", settle})
	for _, r := range rs {
		if r.code != 0 {
			t.Errorf("%s", r)
		}
	}
	var rolled struct{ Digest string }
	if err := json.Unmarshal([]byte(rs[0].stdout), &rolled); err != nil || rolled.Digest != builds[0]["digest"] {
		t.Errorf("rollback outputs %s (%v), want the digest of %s", rs[0].stdout, err, builds[0]["version"])
	}

	if moved := front.Moved(); len(moved) != 0 {
		t.Errorf("tags moved: %v", moved)
	}
	records := map[string][]string{}
	for _, a := range front.Assignments() {
		if hold.IsTag(a.Tag) {
			records[a.Digest] = append(records[a.Digest], a.Tag)
		}
	}
	if len(records) != 3 {
		t.Errorf("hold records %v, want 3 (the freeze, the release, the rollback's)", records)
	}
	for d, tags := range records {
		if len(tags) != 1 {
			t.Errorf("hold record %s written as %s", d, fmt.Sprint(tags))
		}
	}
}
