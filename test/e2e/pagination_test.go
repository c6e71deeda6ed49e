package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// maxPage is the page size the paging proxy enforces, as GHCR and Docker Hub cap theirs.
const maxPage = 100

// pagingProxy stands in front of the registry and pages tag lists the way the OCI distribution
// spec allows and large registries do: at most maxPage tags per response (also when the client
// asks for none or more), in lexical order, with a Link header naming the next page on the
// proxy's own host. Distribution 2.8 itself ignores n and last and returns every tag unsorted,
// so without this proxy a client that reads only the first page would go unnoticed. Every other
// request passes through unchanged.
type pagingProxy struct {
	upstream string // registry host:port
	proxy    *httputil.ReverseProxy

	mu    sync.Mutex
	pages map[string][][]string // repository -> pages served, in order
	// laterPageFaults are statuses to answer, one per request, for pages after the first; the
	// last one repeats when persistent is set.
	laterPageFaults []int
	persistent      bool
	faultsServed    int
}

func startPagingProxy(t *testing.T, upstream string) (addr string, p *pagingProxy) {
	t.Helper()
	target := &url.URL{Scheme: "http", Host: upstream}
	p = &pagingProxy{upstream: upstream, proxy: httputil.NewSingleHostReverseProxy(target), pages: map[string][][]string{}}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://"), p
}

func (p *pagingProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	repo, ok := strings.CutSuffix(strings.TrimPrefix(r.URL.Path, "/v2/"), "/tags/list")
	if !ok || r.Method != http.MethodGet || !strings.HasPrefix(r.URL.Path, "/v2/") {
		p.proxy.ServeHTTP(w, r)
		return
	}
	if last := r.URL.Query().Get("last"); last != "" {
		if status := p.fault(); status != 0 {
			http.Error(w, http.StatusText(status), status)
			return
		}
	}
	all, status, err := p.allTags(r, repo)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	if status != http.StatusOK {
		p.proxy.ServeHTTP(w, r) // let the registry answer its own error
		return
	}
	n := maxPage
	if s := r.URL.Query().Get("n"); s != "" {
		if v, err := strconv.Atoi(s); err == nil && v > 0 && v < n {
			n = v
		}
	}
	last := r.URL.Query().Get("last")
	slices.Sort(all)
	start, _ := slices.BinarySearch(all, last)
	if start < len(all) && all[start] == last {
		start++
	}
	if last == "" {
		start = 0
	}
	end := min(start+n, len(all))
	page := all[start:end]
	if end < len(all) {
		next := url.URL{Scheme: "http", Host: r.Host, Path: r.URL.Path,
			RawQuery: url.Values{"n": {strconv.Itoa(n)}, "last": {page[len(page)-1]}}.Encode()}
		w.Header().Set("Link", fmt.Sprintf("<%s>; rel=\"next\"", next.String()))
	}
	p.mu.Lock()
	p.pages[repo] = append(p.pages[repo], slices.Clone(page))
	p.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"name": repo, "tags": page})
}

// fault returns the status to fail a later page with, or 0.
func (p *pagingProxy) fault() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.laterPageFaults) == 0 {
		return 0
	}
	status := p.laterPageFaults[0]
	if len(p.laterPageFaults) > 1 || !p.persistent {
		p.laterPageFaults = p.laterPageFaults[1:]
	}
	p.faultsServed++
	return status
}

// allTags fetches the complete list from the registry, with the client's credentials.
func (p *pagingProxy) allTags(r *http.Request, repo string) ([]string, int, error) {
	req, err := http.NewRequestWithContext(r.Context(), http.MethodGet, "http://"+p.upstream+"/v2/"+repo+"/tags/list", nil)
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("Authorization", r.Header.Get("Authorization"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, resp.StatusCode, nil
	}
	var body struct {
		Tags []string `json:"tags"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, 0, fmt.Errorf("decode tag list of %s: %w", repo, err)
	}
	return body.Tags, http.StatusOK, nil
}

// servedPages returns the pages served for repository path (without the registry host) since
// the last call, and forgets them.
func (p *pagingProxy) servedPages(repoPath string) [][]string {
	p.mu.Lock()
	defer p.mu.Unlock()
	pages := p.pages[repoPath]
	delete(p.pages, repoPath)
	return pages
}

// More tags than one page holds: the release candidates (rc.1, rc.9, rc.10) sort after 120
// filler tags, so they are only on the second page, and a client that stops at the first page
// would start over at rc.1.
func TestManyTagsArePaged(t *testing.T) {
	t.Parallel()
	proxyAddr, proxy := startPagingProxy(t, registryAddr)
	direct := newRepo(t)
	repoPath := strings.TrimPrefix(direct, registryAddr+"/")
	viaProxy := proxyAddr + "/" + repoPath

	fillBeyondFirstPage(t, direct)
	proxy.servedPages(repoPath)

	b := commit(t, "b")
	second := buildRC(t, viaProxy, manifestsDir(t, "b"), b)
	if got, want := second["version"], "0.0.1-rc.11"; got != want {
		t.Errorf("version through the paging proxy = %q, want %q", got, want)
	}
	pages := proxy.servedPages(repoPath)
	if len(pages) < 2 {
		t.Fatalf("build-rc read %d tag pages through the proxy, want at least 2 (pagination not exercised)", len(pages))
	}
	for _, tag := range pages[0] {
		if strings.HasPrefix(tag, "0.0.1-rc.") {
			t.Fatalf("release candidate %s was on the first page; the test needs them on later pages", tag)
		}
	}
	wantTagsAt(t, direct, second["digest"], "0.0.1-rc.11", "sha-"+short(b), "integration-"+short(b))

	// Promotion through the proxy finds the candidates on the second page too, and the next
	// build finds the stable tag there.
	out := tagValidated(t, viaProxy, "--revision", "0.0.1-rc.11@"+second["digest"])
	wantDecision(t, out, "true", "promoted", "0.0.1")
	wantTagsAt(t, direct, second["digest"], "0.0.1", "validated-"+short(b))

	c := commit(t, "c")
	third := buildRC(t, viaProxy, manifestsDir(t, "c"), c)
	if got, want := third["version"], "0.0.2-rc.1"; got != want {
		t.Errorf("version after promotion through the paging proxy = %q, want %q", got, want)
	}

	// Directly against the registry (one unpaged list) the answer is the same.
	d := commit(t, "d")
	fourth := buildRC(t, direct, manifestsDir(t, "d"), d)
	if got, want := fourth["version"], "0.0.2-rc.2"; got != want {
		t.Errorf("version directly against the registry = %q, want %q", got, want)
	}
}

// fillBeyondFirstPage builds 0.0.1-rc.1 on repo and pushes tags that make the release
// candidates sort onto the second page: 120 fillers "0-filler-NNN" (they sort before
// "0.0.1-rc.N", since '-' < '.', and are not versions) and, on the same artifact, 0.0.1-rc.9 and
// 0.0.1-rc.10, which must compare as numbers. It returns the first build's outputs.
func fillBeyondFirstPage(t *testing.T, repo string) map[string]string {
	t.Helper()
	first := buildRC(t, repo, manifestsDir(t, "a"), commit(t, "a"))
	if got, want := first["version"], "0.0.1-rc.1"; got != want {
		t.Fatalf("first version = %q, want %q", got, want)
	}
	const fillers = 120
	for i := range fillers {
		craneTag(t, repo, first["digest"], fmt.Sprintf("0-filler-%03d", i))
	}
	craneTag(t, repo, first["digest"], "0.0.1-rc.9")
	craneTag(t, repo, first["digest"], "0.0.1-rc.10")
	if got := len(listTags(t, repo)); got <= maxPage {
		t.Fatalf("repository holds %d tags, want more than %d", got, maxPage)
	}
	return first
}

// A later page of the tag list that fails is retried when the failure is transient, and fails
// the build otherwise; it is never taken as the end of the list (which would restart numbering).
func TestTagListErrorsAreNotSwallowed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		faults     []int
		persistent bool
		wantCode   int
	}{
		{name: "transient 503", faults: []int{http.StatusServiceUnavailable, http.StatusServiceUnavailable}, wantCode: 0},
		{name: "persistent 403", faults: []int{http.StatusForbidden}, persistent: true, wantCode: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			proxyAddr, proxy := startPagingProxy(t, registryAddr)
			direct := newRepo(t)
			viaProxy := proxyAddr + strings.TrimPrefix(direct, registryAddr)
			fillBeyondFirstPage(t, direct)
			before := listTags(t, direct)
			proxy.mu.Lock()
			proxy.laterPageFaults, proxy.persistent = tc.faults, tc.persistent
			proxy.mu.Unlock()

			b := commit(t, "b")
			r := run(t, nil, "build-rc", "--repository", viaProxy, "--path", manifestsDir(t, "b"), "--sha", b,
				"--ref", "main", "--source", source, "--created", created, "--json")
			if got := r.code; got != tc.wantCode {
				t.Fatalf("exit code = %d, want %d\n%s", got, tc.wantCode, r)
			}
			proxy.mu.Lock()
			served := proxy.faultsServed
			proxy.mu.Unlock()
			if served == 0 {
				t.Fatalf("the proxy failed no page: the test did not exercise errors")
			}
			if tc.wantCode != 0 {
				if !strings.Contains(r.stderr, strings.TrimPrefix(viaProxy, proxyAddr+"/")) {
					t.Errorf("stderr does not name the repository:\n%s", r.stderr)
				}
				wantSameTags(t, direct, before)
				return
			}
			if got, want := outputs(t, r)["version"], "0.0.1-rc.11"; got != want {
				t.Errorf("version = %q, want %q", got, want)
			}
		})
	}
}
