package prune_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-github/v62/github"

	"github.com/ocipromote/ocipromote/pkg/claim"
	"github.com/ocipromote/ocipromote/pkg/hold"
	"github.com/ocipromote/ocipromote/pkg/oci"
	"github.com/ocipromote/ocipromote/pkg/oci/ocitest"
	"github.com/ocipromote/ocipromote/pkg/pass"
	"github.com/ocipromote/ocipromote/pkg/pipeline"
	"github.com/ocipromote/ocipromote/pkg/prune"
	"github.com/ocipromote/ocipromote/pkg/prune/packagestest"
	"github.com/ocipromote/ocipromote/pkg/status"
	"github.com/ocipromote/ocipromote/pkg/version"
)

// history builds a repository where a (0.0.1-rc.1, 60 days old) became 0.0.1, b (0.0.1-rc.2)
// was never validated, c (0.0.1-rc.3) became 0.0.2, and d (0.0.3-rc.1) is three days old.
func history(t *testing.T) (*ocitest.Server, *oci.Repository, map[string]string) {
	t.Helper()
	srv := ocitest.New(t, ocitest.MaxPage(5))
	reg, err := oci.Open(srv.Host+"/acme/team/app", oci.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	digests := map[string]string{}
	for i, label := range []string{"a", "b", "c", "d"} {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "app.yaml"), []byte("build: "+label+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		created := day.AddDate(0, 0, i)
		if label == "d" {
			created = now.AddDate(0, 0, -3)
		}
		res, err := pipeline.BuildRC(ctx, reg, pipeline.BuildInput{Dir: dir, Sha: strings.Repeat(label, 40), Ref: "main",
			Created: created, ShortLen: 7, Rules: version.Rules{Bump: version.Patch}})
		if err != nil {
			t.Fatal(err)
		}
		digests[label] = res.Digest
		if label == "a" || label == "c" {
			if _, err := pipeline.TagValidated(ctx, reg, pipeline.PromoteInput{Digest: res.Digest}); err != nil {
				t.Fatal(err)
			}
		}
	}
	return srv, reg, digests
}

// recorder is a Deleter that remembers what it was asked to delete.
type recorder struct {
	mu      sync.Mutex
	deleted []string
}

func (r *recorder) Check(context.Context, prune.Item) error { return nil }

func (r *recorder) Delete(_ context.Context, it prune.Item) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.deleted = append(r.deleted, it.Digest)
	return nil
}

func digestsOf(items []prune.Item) []string {
	var out []string
	for _, it := range items {
		out = append(out, it.Digest)
	}
	slices.Sort(out)
	return out
}

func labels(digests map[string]string, ls ...string) []string {
	var out []string
	for _, l := range ls {
		out = append(out, digests[l])
	}
	slices.Sort(out)
	return out
}

func TestRun(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		pruneStable bool
		gone        []string
	}{
		{"release candidates only", false, []string{"b"}},
		{"stable versions beyond the newest too", true, []string{"a", "b"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, reg, digests := history(t)
			o := prune.Options{Rules: prune.Rules{KeepStable: 1, KeepRCDays: 30, Now: now, PruneStable: tc.pruneStable}, Selectors: status.DefaultSelectors}

			dry := &recorder{}
			o.DryRun = true
			planned, err := prune.Run(context.Background(), reg, dry, o)
			if err != nil {
				t.Fatal(err)
			}
			if len(dry.deleted) != 0 {
				t.Errorf("dry run deleted %v", dry.deleted)
			}

			del := &recorder{}
			o.DryRun = false
			res, err := prune.Run(context.Background(), reg, del, o)
			if err != nil {
				t.Fatal(err)
			}
			want := labels(digests, tc.gone...)
			if got := digestsOf(res.Deleted); !slices.Equal(got, want) {
				t.Errorf("deleted %v, want %v", got, want)
			}
			if got := digestsOf(planned.Deleted); !slices.Equal(got, want) {
				t.Errorf("dry run would delete %v, want %v", got, want)
			}
			if got := slices.Sorted(slices.Values(del.deleted)); !slices.Equal(got, want) {
				t.Errorf("deleter was asked for %v, want %v", got, want)
			}
			for _, it := range res.Plan.Keep {
				if it.Digest == digests["c"] && !strings.Contains(it.Reason, "selected by live") {
					t.Errorf("live's artifact kept for %q, want because live selects it", it.Reason)
				}
				if it.Digest == digests["d"] && !strings.Contains(it.Reason, "selected by integration") {
					t.Errorf("integration's artifact kept for %q, want because integration selects it", it.Reason)
				}
			}
		})
	}
}

// mirror lists the repository as GitHub's Packages API would: one version per manifest, newest
// id first, with every tag on it.
func mirror(t *testing.T, reg *oci.Repository) ([]packagestest.Version, map[string]int64) {
	t.Helper()
	ctx := context.Background()
	list, err := reg.Tags(ctx)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := status.Resolve(ctx, reg, list, func(string) bool { return true })
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]int64{}
	var versions []packagestest.Version
	for d, ts := range idx.ByDigest() {
		versions = append(versions, packagestest.Version{Digest: d, Tags: ts, Created: day})
	}
	slices.SortFunc(versions, func(a, b packagestest.Version) int { return strings.Compare(a.Digest, b.Digest) })
	for i := range versions {
		versions[i].ID = int64(1000 + i)
		ids[versions[i].Digest] = versions[i].ID
	}
	return versions, ids
}

func TestRunOnGitHubPackages(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		org   bool
		scope string
		opts  []packagestest.Option
	}{
		{"organization", true, "orgs", nil},
		// Anyone lists a user's public package under /users/{username}/packages.
		{"public package of a user", false, "users", []packagestest.Option{packagestest.Public()}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, reg, digests := history(t)
			versions, ids := mirror(t, reg)
			// A tag written after the registry was listed: GitHub shows it on a's version, so a
			// stays although the plan would remove it.
			for i := range versions {
				if versions[i].Digest == digests["a"] {
					versions[i].Tags = append(versions[i].Tags, "pinned-by-hand")
				}
			}
			api := packagestest.New(t, "acme", tc.org, "team/app", versions, append(tc.opts, packagestest.MaxPage(2), packagestest.Token("t0ken"))...)
			o := prune.Options{Rules: prune.Rules{KeepStable: 1, KeepRCDays: 30, Now: now, PruneStable: true}, Selectors: status.DefaultSelectors}

			o.DryRun = true
			planned, err := prune.Run(context.Background(), reg, prune.NewGitHub(api.Client(), "acme", "team/app"), o)
			if err != nil {
				t.Fatal(err)
			}
			if d := api.Deletes(); len(d) != 0 {
				t.Errorf("dry run sent %v", d)
			}

			o.DryRun = false
			res, err := prune.Run(context.Background(), reg, prune.NewGitHub(api.Client(), "acme", "team/app"), o)
			if err != nil {
				t.Fatal(err)
			}
			wantDeletes := []string{fmt.Sprintf("DELETE /%s/acme/packages/container/team%%2Fapp/versions/%d", tc.scope, ids[digests["b"]])}
			if got := api.Deletes(); !slices.Equal(got, wantDeletes) {
				t.Errorf("DELETE requests = %v, want %v", got, wantDeletes)
			}
			if got, want := digestsOf(res.Deleted), labels(digests, "b"); !slices.Equal(got, want) {
				t.Errorf("deleted %v, want %v", got, want)
			}
			if got, want := digestsOf(planned.Deleted), labels(digests, "b"); !slices.Equal(got, want) {
				t.Errorf("dry run would delete %v, want exactly what the run deletes, %v", got, want)
			}
			if got, want := digestsOf(res.Skipped), labels(digests, "a"); !slices.Equal(got, want) || !strings.Contains(res.Skipped[0].Reason, "pinned-by-hand") {
				t.Errorf("skipped %v (%+v), want %v for its extra tag", got, res.Skipped, want)
			}
			// Every page was read, once by the dry run and once by the run: the listing spans
			// pages of 2.
			var pages int
			for _, r := range api.Requests() {
				if strings.HasPrefix(r, "GET "+api.VersionsPath()) {
					pages++
				}
			}
			if got, want := pages, 2*((len(versions)+1)/2); got != want || want < 4 {
				t.Errorf("read %d pages of versions, want %d", got, want)
			}
		})
	}
}

func TestGitHubRefusesBadToken(t *testing.T) {
	t.Parallel()
	api := packagestest.New(t, "acme", true, "app", nil, packagestest.Token("right"))
	c := github.NewClient(nil).WithAuthToken("wrong")
	c.BaseURL = api.Client().BaseURL
	err := prune.NewGitHub(c, "acme", "app").Check(context.Background(), prune.Item{Digest: digest("1")})
	if err == nil || !strings.Contains(err.Error(), "delete:packages") {
		t.Errorf("Check with a bad token = %v, want an error saying what the token needs", err)
	}
}

func TestPackageOf(t *testing.T) {
	t.Parallel()
	tests := []struct{ repo, owner, pkg string }{
		{"ghcr.io/acme/platform-manifests", "acme", "platform-manifests"},
		{"ghcr.io/acme/team/app", "acme", "team/app"},
	}
	for _, tc := range tests {
		t.Run(tc.repo, func(t *testing.T) {
			t.Parallel()
			r, err := name.NewRepository(tc.repo)
			if err != nil {
				t.Fatal(err)
			}
			owner, pkg, err := prune.PackageOf(r)
			if err != nil || owner != tc.owner || pkg != tc.pkg {
				t.Errorf("PackageOf(%s) = %q, %q, %v; want %q, %q", tc.repo, owner, pkg, err, tc.owner, tc.pkg)
			}
		})
	}
}

func TestOCIDelete(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		status  int
		body    string
		wantErr string
	}{
		{"accepted", http.StatusAccepted, "", ""},
		{"already gone", http.StatusNotFound, `{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}`, ""},
		{"deletion disabled", http.StatusMethodNotAllowed, `{"errors":[{"code":"UNSUPPORTED","message":"The operation is unsupported."}]}`, "storage.delete.enabled"},
		{"denied", http.StatusForbidden, `{"errors":[{"code":"DENIED","message":"denied"}]}`, "DENIED"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var got []string
			var mu sync.Mutex
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/v2/" {
					return
				}
				mu.Lock()
				got = append(got, r.Method+" "+r.URL.Path)
				mu.Unlock()
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tc.status)
				fmt.Fprint(w, tc.body)
			}))
			t.Cleanup(srv.Close)
			repo, err := oci.ParseRepository(strings.TrimPrefix(srv.URL, "http://")+"/acme/app", false)
			if err != nil {
				t.Fatal(err)
			}
			err = prune.NewOCI(repo, prune.OCIOptions{}).Delete(context.Background(), prune.Item{Digest: digest("1")})
			if tc.wantErr == "" && err != nil {
				t.Fatalf("Delete = %v", err)
			}
			if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("Delete = %v, want an error containing %q", err, tc.wantErr)
			}
			if want := []string{"DELETE /v2/acme/app/manifests/" + digest("1")}; !slices.Equal(got, want) {
				t.Errorf("requests = %v, want %v", got, want)
			}
		})
	}
}

// After a rollback the highest tag overall is the rollback's stable tag, while integration runs
// the highest release candidate: that candidate stays, because integration selects it and, on
// its own, because validating it would still promote it (tag-validated's rules). A stable claim
// of a promotion that backed off goes with its artifact.
func TestRunAfterRollback(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		selectors []status.Selector
		why       string
	}{
		{"the clusters' selections", status.DefaultSelectors, "selected by integration"},
		{"live's selection only", status.DefaultSelectors[1:], "pending"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, reg, digests := history(t)
			ctx := context.Background()
			if _, err := hold.Rollback(ctx, reg, hold.RollbackInput{To: "aaaaaaa", Record: hold.Record{Reason: "r", Actor: "a", Time: now}}); err != nil {
				t.Fatal(err)
			}
			backedOff := tagAt(t, reg, digests["b"], claimTag(t, "0.0.4", "bbbbbbb", digests["b"]))
			o := prune.Options{Rules: prune.Rules{KeepStable: 1, KeepRCDays: 1, Now: now}, Selectors: tc.selectors}
			res, err := prune.Run(ctx, reg, &recorder{}, o)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := digestsOf(res.Deleted), labels(digests, "b"); !slices.Equal(got, want) {
				t.Fatalf("deleted %v, want only b's %v", got, want)
			}
			if !slices.Contains(res.Deleted[0].Tags, backedOff) || !strings.Contains(res.Deleted[0].Reason, "superseded by stable 0.0.2") {
				t.Errorf("b deleted as %+v, want with its claim %s, as superseded", res.Deleted[0], backedOff)
			}
			for _, it := range res.Plan.Keep {
				if it.Digest == digests["d"] && !strings.Contains(it.Reason, tc.why) {
					t.Errorf("integration's candidate kept for %q, want %q", it.Reason, tc.why)
				}
			}
		})
	}
}

func tagAt(t *testing.T, reg *oci.Repository, digest, tag string) string {
	t.Helper()
	ctx := context.Background()
	m, err := reg.Get(ctx, digest)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Tag(ctx, tag, m, oci.Write{}); err != nil {
		t.Fatal(err)
	}
	return tag
}

func claimTag(t *testing.T, v, short, digest string) string {
	t.Helper()
	c, err := claim.New(v, short, digest)
	if err != nil {
		t.Fatal(err)
	}
	return c.Tag()
}

// writesAfterPlan is a repository where someone writes a tag after prune's plan listed it: the
// write runs just before the second listing, the one right before the first deletion.
type writesAfterPlan struct {
	*oci.Repository
	mu    sync.Mutex
	lists int
	write func()
}

func (w *writesAfterPlan) Tags(ctx context.Context) ([]string, error) {
	w.mu.Lock()
	if w.lists++; w.lists == 2 {
		w.write()
	}
	w.mu.Unlock()
	return w.Repository.Tags(ctx)
}

// A tag written at an artifact after the plan's listing (here a forced rollback to b, meanwhile)
// keeps the artifact, whichever way prune deletes: the registry is listed again before each
// deletion, and the DELETE that would take the new tag along is never sent.
func TestRunRechecksBeforeDeleting(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		api  string
	}{
		{"OCI API", prune.APIOCI},
		{"GitHub Packages API", prune.APIGitHub},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, reg, digests := history(t)
			ctx := context.Background()
			var del prune.Deleter
			var api *packagestest.Server
			if tc.api == prune.APIGitHub {
				versions, _ := mirror(t, reg)
				api = packagestest.New(t, "acme", true, "team/app", versions)
				del = prune.NewGitHub(api.Client(), "acme", "team/app")
			} else {
				repo, err := oci.ParseRepository(reg.Name(), false)
				if err != nil {
					t.Fatal(err)
				}
				del = prune.NewOCI(repo, prune.OCIOptions{})
			}
			w := &writesAfterPlan{Repository: reg, write: func() { tagAt(t, reg, digests["b"], "0.0.3") }}
			o := prune.Options{Rules: prune.Rules{KeepStable: 1, KeepRCDays: 30, Now: now}, Selectors: status.DefaultSelectors}
			res, err := prune.Run(ctx, w, del, o)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Deleted) != 0 {
				t.Errorf("deleted %+v, want nothing", res.Deleted)
			}
			if got, want := digestsOf(res.Skipped), labels(digests, "b"); !slices.Equal(got, want) || !strings.Contains(res.Skipped[0].Reason, "tag 0.0.3 was written") {
				t.Errorf("skipped %+v, want b for its new tag 0.0.3", res.Skipped)
			}
			for _, r := range srv.Requests() {
				if strings.HasPrefix(r, "DELETE ") {
					t.Errorf("sent %s", r)
				}
			}
			if api != nil && len(api.Deletes()) != 0 {
				t.Errorf("sent %v", api.Deletes())
			}
			if d, err := reg.Resolve(ctx, "0.0.3"); err != nil || d != digests["b"] {
				t.Errorf("0.0.3 = %s, %v; want b's artifact, still there", d, err)
			}
		})
	}
}

// Without anything written meanwhile, the OCI API deletes what the plan says: one DELETE of the
// manifest (test/e2e shows a distribution registry dropping its tags with it).
func TestRunDeletesWithTheOCIAPI(t *testing.T) {
	t.Parallel()
	srv, reg, digests := history(t)
	ctx := context.Background()
	del, err := prune.NewDeleter(reg.Name(), prune.DeleterOptions{API: prune.APIAuto})
	if err != nil {
		t.Fatal(err)
	}
	res, err := prune.Run(ctx, reg, del, prune.Options{Rules: prune.Rules{KeepStable: 1, KeepRCDays: 30, Now: now}, Selectors: status.DefaultSelectors})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := digestsOf(res.Deleted), labels(digests, "b"); !slices.Equal(got, want) {
		t.Fatalf("deleted %v, want %v", got, want)
	}
	var deletes []string
	for _, r := range srv.Requests() {
		if strings.HasPrefix(r, "DELETE ") {
			deletes = append(deletes, r)
		}
	}
	if want := []string{"DELETE /v2/acme/team/app/manifests/" + digests["b"]}; !slices.Equal(deletes, want) {
		t.Errorf("requests %v, want %v", deletes, want)
	}
}

func TestNewDeleter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, repo string
		o          prune.DeleterOptions
		want       string // the deleter's type, or the error
	}{
		{name: "auto on ghcr.io", repo: "ghcr.io/acme/app", o: prune.DeleterOptions{GitHubToken: "t"}, want: "*prune.GitHub"},
		{name: "auto elsewhere", repo: "registry.example.com/acme/app", want: "*prune.OCI"},
		{name: "oci on ghcr.io", repo: "ghcr.io/acme/app", o: prune.DeleterOptions{API: prune.APIOCI}, want: "*prune.OCI"},
		{name: "github elsewhere", repo: "registry.example.com/acme/app", o: prune.DeleterOptions{API: prune.APIGitHub, GitHubToken: "t"}, want: "*prune.GitHub"},
		{name: "github without a token", repo: "ghcr.io/acme/app", want: "needs github_token"},
		{name: "github with a bad API URL", repo: "ghcr.io/acme/app", o: prune.DeleterOptions{GitHubToken: "t", GitHubAPIURL: "ftp://x"}, want: "not an http(s) URL"},
		{name: "github without a package path", repo: "ghcr.io/acme", o: prune.DeleterOptions{GitHubToken: "t"}, want: "not ghcr.io/OWNER/PACKAGE"},
		{name: "unknown API", repo: "ghcr.io/acme/app", o: prune.DeleterOptions{API: "s3"}, want: `delete_api must be auto, oci or github, got "s3"`},
		{name: "bad repository", repo: "Not A Repository", want: "not REGISTRY/PATH"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			del, err := prune.NewDeleter(tc.repo, tc.o)
			got := fmt.Sprintf("%T", del)
			if err != nil {
				got = err.Error()
			}
			if !strings.Contains(got, tc.want) {
				t.Errorf("NewDeleter(%s, %+v) = %s, want %s", tc.repo, tc.o, got, tc.want)
			}
		})
	}
}

// A stage's hold and the pass records are never pruned, however old: a stage's hold that names
// an artifact (a rollback of that stage) keeps it as live's does, and the evidence of every stage
// stays with the claims on its numbers.
func TestRunKeepsStageRecords(t *testing.T) {
	t.Parallel()
	_, reg, digests := history(t)
	ctx := context.Background()
	list, err := reg.Tags(ctx)
	if err != nil {
		t.Fatal(err)
	}
	freeze, err := hold.Stage("preprod").Set(ctx, reg, list, hold.Record{Reason: "preprod rolled back", Actor: "a", Time: day, Digest: digests["b"]}, hold.Options{})
	if err != nil {
		t.Fatal(err)
	}
	evidence, err := pass.Write(ctx, reg, list, pass.Record{Stage: "dev", Digest: digests["d"], Kind: pass.Pass, Revision: "0.0.3-rc.1", Cluster: "dev", Time: day}, pass.Options{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := prune.Run(ctx, reg, &recorder{}, prune.Options{Rules: prune.Rules{KeepStable: 1, KeepRCDays: 1, Now: now}, Selectors: status.DefaultSelectors})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Deleted) != 0 {
		t.Errorf("deleted %+v, want nothing", res.Deleted)
	}
	reasons := map[string]string{}
	for _, it := range res.Plan.Keep {
		for _, tag := range it.Tags {
			reasons[tag] = it.Reason
		}
	}
	for tag, want := range map[string]string{
		freeze.State.Tag:   "hold record",
		evidence.Entry.Tag: "pass record",
		"sha-bbbbbbb":      "stage preprod was rolled back to it and the hold is on (hold-preprod-1)",
	} {
		if !strings.Contains(reasons[tag], want) {
			t.Errorf("%s kept for %q, want %q", tag, reasons[tag], want)
		}
	}
	claims := 0
	for tag, why := range reasons {
		if c, ok := claim.Parse(tag); ok && c.Record() {
			claims++
			if !strings.Contains(why, "record") {
				t.Errorf("claim %s kept for %q", tag, why)
			}
		}
	}
	if claims != 2 {
		t.Errorf("%d record claims kept, want 2 (one per record)", claims)
	}
}
