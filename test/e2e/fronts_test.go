package e2e

import (
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ocipromote/ocipromote/pkg/oci/ocitest"
)

// behind puts a misbehaving front (ocitest's) before the shared real registry and returns the
// front and repo as the binaries reach it through the front: the same repository, another host.
func behind(t *testing.T, repo string, opts ...ocitest.Option) (*ocitest.Server, string) {
	t.Helper()
	proxy := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: registryAddr})
	srv := ocitest.New(t, append([]ocitest.Option{ocitest.Backend(proxy), ocitest.MaxPage(100)}, opts...)...)
	return srv, srv.Host + strings.TrimPrefix(repo, registryAddr)
}

// A registry that accepts a request and never answers (tags/list, a manifest PUT, a HEAD) ends
// every step with exit 1 and a message naming the registry, the request and the timeout, within
// the step's timeout: the issue found every binary still waiting after 600 s.
func TestStalledRegistryEndsEveryStep(t *testing.T) {
	t.Parallel()
	repo := newRepo(t)
	a := candidates(t, repo, "a")[0]
	bounds := []string{"--timeout", "4s", "--request-timeout", "500ms"}
	tests := []struct {
		name          string
		method, path  string
		bin           string
		args          func(repo string) []string
		env           func(t *testing.T, repo string) map[string]string
		wantInMessage string
	}{
		{"build-rc, listing", http.MethodGet, `/tags/list$`, "build-rc", func(repo string) []string {
			return []string{"--repository", repo, "--path", manifestsDir(t, "b"), "--sha", commit(t, "b"), "--ref", "main", "--source", source, "--created", created}
		}, nil, "/tags/list"},
		{"build-rc, manifest PUT", http.MethodPut, `/manifests/`, "build-rc", func(repo string) []string {
			return []string{"--repository", repo, "--path", manifestsDir(t, "c"), "--sha", commit(t, "c"), "--ref", "main", "--source", source, "--created", created}
		}, nil, "/manifests/"},
		{"tag-validated, listing", http.MethodGet, `/tags/list$`, "tag-validated", func(repo string) []string {
			return []string{"--repository", repo, "--revision", a["version"] + "@" + a["digest"]}
		}, nil, "/tags/list"},
		{"dispatch-receiver, listing", http.MethodGet, `/tags/list$`, "dispatch-receiver", func(repo string) []string {
			return []string{"--repository", repo}
		}, func(t *testing.T, _ string) map[string]string {
			return map[string]string{"GITHUB_EVENT_NAME": "repository_dispatch", "GITHUB_EVENT_PATH": dispatchEvent(t, a["version"]+"@"+a["digest"], commit(t, "a")),
				"INPUT_OBJECT": "Kustomization/platform.flux-system", "INPUT_CLUSTER": "integration"}
		}, "/tags/list"},
		{"status, listing", http.MethodGet, `/tags/list$`, "ocipromote", func(repo string) []string {
			return []string{"status", "--repository", repo}
		}, nil, "/tags/list"},
		{"rollback, HEAD", http.MethodHead, `/manifests/`, "ocipromote", func(repo string) []string {
			return []string{"rollback", "--repository", repo, "--to", a["digest"], "--reason", "stalled", "--actor", "oncall"}
		}, nil, "/manifests/"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, fronted := behind(t, repo, ocitest.Stall(tc.method, tc.path))
			var env map[string]string
			if tc.env != nil {
				env = tc.env(t, fronted)
			}
			start := time.Now()
			r := run(t, env, tc.bin, append(tc.args(fronted), bounds...)...)
			elapsed := time.Since(start)
			if r.code != 1 {
				t.Fatalf("exit %d, want 1 on a stalled registry\n%s", r.code, r)
			}
			if srv.Stalled() == 0 {
				t.Fatalf("no request was stalled: the test does not test a stall\n%s", r)
			}
			for _, want := range []string{srv.Host, tc.wantInMessage, "timeout"} {
				if !strings.Contains(r.stderr, want) {
					t.Errorf("message does not name %q:\n%s", want, r.stderr)
				}
			}
			if !strings.Contains(r.stderr, "attempt 1 of 5") {
				t.Errorf("no retry was logged:\n%s", r.stderr)
			}
			// The step's timeout is 4 s; the process must end soon after it, not at run's 90 s limit.
			if elapsed > 30*time.Second {
				t.Errorf("%s took %s with --timeout 4s", tc.bin, elapsed)
			}
		})
	}
}

// A registry (here a front before the real one) that answers 201 to a tag write and stores nothing
// never gets a step to report the tag: build-rc and tag-validated exit 1 naming it.
func TestDroppedWritesFailTheStep(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, dropped string
		promote       bool
	}{
		{"build-rc, sha tag", `^sha-`, false},
		{"build-rc, integration tag", `^integration-`, false},
		{"tag-validated, marker", `^validated-`, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			repo := newRepo(t)
			var a map[string]string
			if tc.promote {
				a = candidates(t, repo, "a")[0]
			}
			_, fronted := behind(t, repo, ocitest.DropWrites(tc.dropped))
			var r result
			if tc.promote {
				r = run(t, nil, "tag-validated", "--repository", fronted, "--revision", a["version"]+"@"+a["digest"])
			} else {
				r = run(t, nil, "build-rc", "--repository", fronted, "--path", manifestsDir(t, "a"), "--sha", commit(t, "a"), "--ref", "main", "--source", source, "--created", created)
			}
			if r.code != 1 {
				t.Fatalf("exit %d, want 1 when the registry drops writes\n%s", r.code, r)
			}
			for _, want := range []string{"acknowledged", "is missing after 3 writes"} {
				if !strings.Contains(r.stderr, want) {
					t.Errorf("message lacks %q:\n%s", want, r.stderr)
				}
			}
		})
	}
}

// A real registry behind a front that answers 405 to HEAD: the whole pipeline runs through GET.
func TestHeadNotAllowedRunsThePipeline(t *testing.T) {
	t.Parallel()
	repo := newRepo(t)
	srv, fronted := behind(t, repo, ocitest.HeadNotAllowed())
	a := buildRC(t, fronted, manifestsDir(t, "a"), commit(t, "a"))
	if a["version"] != "0.0.1-rc.1" {
		t.Errorf("build-rc = %v", a)
	}
	wantDecision(t, tagValidated(t, fronted, "--revision", a["version"]+"@"+a["digest"]), "true", "promoted", "0.0.1")
	heads := 0
	for _, r := range srv.Requests() {
		if strings.HasPrefix(r, "HEAD ") {
			heads++
		}
	}
	// Each step asks with HEAD once, then reads with GET only (status's reads run side by side, so
	// it may meet a few 405s at once).
	if heads > 2 {
		t.Errorf("%d HEAD requests for build-rc and tag-validated on a registry refusing HEAD, want one each: %q", heads, srv.Requests())
	}
	if s := selection(t, statusOf(t, fronted), "live"); s.Digest != a["digest"] {
		t.Errorf("live = %+v, want %s", s, a["digest"])
	}
}

// A wrong Docker-Content-Digest on HEAD is reported once: build-rc exits 1 with one claim
// written, not ten release candidates.
func TestWrongDigestHeaderIsReportedOnce(t *testing.T) {
	t.Parallel()
	repo := newRepo(t)
	_, fronted := behind(t, repo, ocitest.WrongDigest(http.MethodHead))
	r := run(t, nil, "build-rc", "--repository", fronted, "--path", manifestsDir(t, "a"), "--sha", commit(t, "a"), "--ref", "main", "--source", source, "--created", created)
	if r.code != 1 || !strings.Contains(r.stderr, "Docker-Content-Digest") {
		t.Fatalf("exit %d, want 1 naming the wrong header\n%s", r.code, r)
	}
	var rcs []string
	for _, tag := range listTags(t, repo) {
		if strings.Contains(tag, "-rc.") && !strings.HasPrefix(tag, "claim") {
			rcs = append(rcs, tag)
		}
	}
	if len(rcs) > 1 || len(withoutClaims(listTags(t, repo))) > 1 {
		t.Errorf("tags after the failed build: %v, want at most the first candidate", listTags(t, repo))
	}
}

// A tag list whose Link leads to a new page forever ends status with an error that says why.
func TestEndlessListingEndsTheStep(t *testing.T) {
	t.Parallel()
	repo := newRepo(t)
	candidates(t, repo, "a")
	srv, fronted := behind(t, repo, ocitest.EndlessLinks())
	r := run(t, nil, "ocipromote", "status", "--repository", fronted)
	if r.code != 1 || !strings.Contains(r.stderr, "never end") {
		t.Fatalf("exit %d, want 1 saying the listing would never end\n%s", r.code, r)
	}
	if n := len(srv.Requests()); n > 10 {
		t.Errorf("%d requests before stopping, want the listing stopped at its second page", n)
	}
}

// Foreign tags that integration would select over the next candidate make build-rc exit 1 naming
// them, with nothing written; status warns; dispatch-receiver explains an event for one.
func TestForeignTagsOnTheRealRegistry(t *testing.T) {
	t.Parallel()
	repo := newRepo(t)
	a := candidates(t, repo, "a")[0]
	tagValidated(t, repo, "--revision", a["version"]+"@"+a["digest"])
	craneTag(t, repo, a["digest"], "0.5.0-rc1")
	craneTag(t, repo, a["digest"], "0.0.9-rc.1-hotfix")
	before := listTags(t, repo)

	r := run(t, nil, "build-rc", "--repository", repo, "--path", manifestsDir(t, "b"), "--sha", commit(t, "b"), "--ref", "main", "--source", source, "--created", created)
	if r.code != 1 {
		t.Fatalf("exit %d, want 1\n%s", r.code, r)
	}
	for _, want := range []string{"0.5.0-rc1", "0.0.9-rc.1-hotfix", "nothing was written"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("build-rc's message lacks %q:\n%s", want, r.stderr)
		}
	}
	wantSameTags(t, repo, before)

	if s := selection(t, statusOf(t, repo), "integration"); s.Tag != "0.5.0-rc1" || len(s.Foreign) != 2 {
		t.Errorf("integration = %+v, want the foreign 0.5.0-rc1 selected and both foreign tags flagged", s)
	}
	text := run(t, nil, "ocipromote", "status", "--repository", repo)
	if !strings.Contains(text.stderr+text.stdout, "warning: integration selects 0.5.0-rc1") {
		t.Errorf("status prints no warning:\n%s", text)
	}

	d := run(t, map[string]string{"GITHUB_EVENT_NAME": "repository_dispatch", "GITHUB_EVENT_PATH": dispatchEvent(t, "0.5.0-rc1@"+a["digest"], commit(t, "a")),
		"INPUT_OBJECT": "Kustomization/platform.flux-system", "INPUT_CLUSTER": "integration"}, "dispatch-receiver", "--json")
	if d.code != 0 {
		t.Fatalf("%s", d)
	}
	if out := outputs(t, d); out["promote"] != "false" || !strings.Contains(out["reason"], `pre-release part "rc1" is not rc.N`) {
		t.Errorf("dispatch-receiver = %v, want an ignore that says what 0.5.0-rc1 is", out)
	}
}

// The lag fronts sit before the real registry too: a tag written through the front appears in
// its listing only after the lag, while HEAD sees it at once; build-rc and tag-validated still
// number and promote correctly through it (claims are confirmed by listing until they appear).
// Promotion comes after integration reconciled the candidate, which takes Flux far longer than
// the lag (its OCIRepository polls at an interval of a minute or more): the test waits the lag out
// before it, since tag-validated finds integration-<s> in the listing.
func TestListingLagBeforeTheRealRegistry(t *testing.T) {
	t.Parallel()
	for _, lag := range []ocitest.Option{ocitest.ListingLag(300 * time.Millisecond), ocitest.ReplicaLag(2, 300*time.Millisecond, 1)} {
		repo := newRepo(t)
		srv, fronted := behind(t, repo, lag)
		a := buildRC(t, fronted, manifestsDir(t, "a"), commit(t, "a"))
		b := buildRC(t, fronted, manifestsDir(t, "b"), commit(t, "b"))
		if a["version"] != "0.0.1-rc.1" || b["version"] != "0.0.1-rc.2" {
			t.Errorf("versions %s, %s; want 0.0.1-rc.1, 0.0.1-rc.2", a["version"], b["version"])
		}
		time.Sleep(300 * time.Millisecond)
		wantDecision(t, tagValidated(t, fronted, "--revision", b["version"]+"@"+b["digest"]), "true", "promoted", "0.0.1")
		if moved := srv.Moved(); len(moved) != 0 {
			t.Errorf("tags moved: %v", moved)
		}
	}
}
