// Package packagestest runs a fake of GitHub's Packages API for one container package, as
// documented at https://docs.github.com/rest/packages/packages: GET /users/{owner} (the owner's
// type), the list of package versions for an organization (/orgs/{org}/…) or a user
// (/users/{username}/…) with page/per_page paging and a Link header, and the DELETE of a package
// version. Versions have the documented shape: id, name (the manifest digest), url, html_url,
// package_html_url, created_at, updated_at and metadata.container.tags. It records every request,
// so a test can assert exactly what was deleted.
//
// As strict as GitHub where prune meets its limits: without NoAdmin's Admin access the DELETE of a
// version answers 404 "Package not found." while listing works; GitHub refuses (400) to delete
// the last tagged version of a package and a public version with more than 5,000 downloads; a
// user's private package is listed and deleted only under /user/packages (the caller's own), not
// under /users/{username}/packages; and a githubtest.SecondaryLimit refuses DELETEs over its rates.
package packagestest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/go-github/v62/github"

	"github.com/ocipromote/ocipromote/pkg/records/githubtest"
)

// Version is one package version: one manifest and its tags.
type Version struct {
	ID      int64
	Digest  string
	Tags    []string
	Created time.Time
	// Downloads counts the version's pulls: GitHub refuses to delete a public version with more
	// than 5,000.
	Downloads int
}

// Server is the fake API.
type Server struct {
	*httptest.Server
	// Token, when set, must come as "Authorization: Bearer <Token>".
	Token string

	owner   string
	org     bool
	pkg     string
	maxPage int
	noAdmin bool
	public  bool
	caller  string
	limit   *githubtest.Limiter
	now     func() time.Time

	mu       sync.Mutex
	versions []Version
	requests []string
}

// Option configures New.
type Option func(*Server)

// MaxPage caps pages at n versions (GitHub's cap is 100), so a small fixture spans pages.
func MaxPage(n int) Option { return func(s *Server) { s.maxPage = n } }

// NoAdmin serves a token without Admin access to the package: it lists the versions, and every
// DELETE answers 404 "Package not found." Deleting a container version needs "admin permissions
// to the container" (https://docs.github.com/rest/packages/packages#delete-package-version-for-an-organization);
// a workflow's GITHUB_TOKEN gets it only when the repository is given the Admin role in the
// package's settings, and without it GitHub answers 404, not 403 (vlaurin/action-ghcr-prune#8
// and #64, bots-house/ghcr-delete-image-action#105, actions/delete-package-versions#57).
func NoAdmin() Option { return func(s *Server) { s.noAdmin = true } }

// Public makes the package public: GitHub then lists a user's package under
// /users/{username}/packages to anyone, and refuses to delete a version with more than 5,000
// downloads ("a specific version of a public package, if the package version doesn't have more
// than 5,000 downloads", https://docs.github.com/packages/learn-github-packages/deleting-and-restoring-a-package).
func Public() Option { return func(s *Server) { s.public = true } }

// Caller is the login of the authenticated user (GET /user). Without it GET /user answers 403
// "Resource not accessible by integration", as it does for a workflow's GITHUB_TOKEN.
func Caller(login string) Option { return func(s *Server) { s.caller = login } }

// Limit applies GitHub's secondary rate limit to the DELETEs, on the clock now.
func Limit(cfg githubtest.SecondaryLimit, now func() time.Time) Option {
	return func(s *Server) { s.limit, s.now = githubtest.NewLimiter(cfg), now }
}

// LimitStats is what the secondary limit saw.
func (s *Server) LimitStats() githubtest.LimitStats { return s.limit.Stats() }

// Token requires this bearer token.
func Token(tok string) Option { return func(s *Server) { s.Token = tok } }

// New serves package pkg of owner (an organization when org) with versions, listed in the order
// given (GitHub lists newest first). It stops when the test ends.
func New(t interface{ Cleanup(func()) }, owner string, org bool, pkg string, versions []Version, opts ...Option) *Server {
	s := &Server{owner: owner, org: org, pkg: pkg, maxPage: 100, versions: slices.Clone(versions), now: time.Now}
	for _, o := range opts {
		o(s)
	}
	s.Server = httptest.NewServer(s)
	t.Cleanup(s.Close)
	return s
}

// Client is a go-github client for this server.
func (s *Server) Client() *github.Client {
	c := github.NewClient(s.Server.Client())
	if s.Token != "" {
		c = c.WithAuthToken(s.Token)
	}
	u, _ := url.Parse(s.URL + "/")
	c.BaseURL = u
	return c
}

// Requests returns "METHOD /escaped/path?query" for every request, in order.
func (s *Server) Requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// Deletes returns the DELETE requests, in order.
func (s *Server) Deletes() []string {
	var out []string
	for _, r := range s.Requests() {
		if strings.HasPrefix(r, http.MethodDelete+" ") {
			out = append(out, r)
		}
	}
	return out
}

// Versions returns the versions not deleted, in order.
func (s *Server) Versions() []Version {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.versions)
}

// VersionsPath is the escaped path of the package's versions, as GitHub spells it for anyone:
// /orgs/{org}/… or /users/{username}/….
func (s *Server) VersionsPath() string {
	scope := "users"
	if s.org {
		scope = "orgs"
	}
	return fmt.Sprintf("/%s/%s/packages/container/%s/versions", scope, s.owner, url.PathEscape(s.pkg))
}

// OwnVersionsPath is the path of the versions of the caller's own package, /user/packages/….
func (s *Server) OwnVersionsPath() string {
	return fmt.Sprintf("/user/packages/container/%s/versions", url.PathEscape(s.pkg))
}

// versionsPath is the path the request may use for the versions: a user's private package is
// reachable only by its owner, under /user/packages.
func (s *Server) versionsPath(path string) (string, bool) {
	switch {
	case !s.org && s.caller == s.owner && strings.HasPrefix(path, s.OwnVersionsPath()):
		return s.OwnVersionsPath(), true
	case strings.HasPrefix(path, s.VersionsPath()) && (s.org || s.public):
		return s.VersionsPath(), true
	}
	return "", false
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.EscapedPath()
	s.mu.Lock()
	req := r.Method + " " + path
	if r.URL.RawQuery != "" {
		req += "?" + r.URL.RawQuery
	}
	s.requests = append(s.requests, req)
	s.mu.Unlock()
	if s.Token != "" && r.Header.Get("Authorization") != "Bearer "+s.Token {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"})
		return
	}
	if !s.limit.Admit(w, r, s.now()) {
		return
	}
	base, reachable := s.versionsPath(path)
	switch {
	case r.Method == http.MethodGet && path == "/user":
		if s.caller == "" {
			w.Header().Set("X-Accepted-GitHub-Permissions", "")
			writeJSON(w, http.StatusForbidden, map[string]string{"message": "Resource not accessible by integration", "documentation_url": "https://docs.github.com/rest/users/users#get-the-authenticated-user"})
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"login": s.caller, "id": 2, "type": "User"})
	case r.Method == http.MethodGet && path == "/users/"+s.owner:
		typ := "User"
		if s.org {
			typ = "Organization"
		}
		writeJSON(w, http.StatusOK, map[string]any{"login": s.owner, "id": 1, "type": typ, "site_admin": false,
			"url": s.URL + "/users/" + s.owner, "html_url": "https://github.com/" + s.owner})
	case r.Method == http.MethodGet && reachable && path == base:
		s.list(w, r)
	case r.Method == http.MethodDelete && reachable && strings.HasPrefix(path, base+"/"):
		id, err := strconv.ParseInt(strings.TrimPrefix(path, base+"/"), 10, 64)
		if err != nil || s.noAdmin {
			notFound(w)
			return
		}
		if status, msg := s.remove(id); status != http.StatusNoContent {
			writeJSON(w, status, map[string]string{"message": msg, "documentation_url": "https://docs.github.com/rest/packages/packages"})
			return
		}
		w.WriteHeader(http.StatusNoContent)
	default:
		notFound(w)
	}
}

func notFound(w http.ResponseWriter) {
	writeJSON(w, http.StatusNotFound, map[string]string{"message": "Package not found.", "documentation_url": "https://docs.github.com/rest/packages/packages"})
}

// remove deletes version id, or says why GitHub would not: 404 when there is none, 400 for the
// last tagged version ("You cannot delete the last tagged version of a package. You must delete
// the package instead.", as ghcr-cleanup-action and action-ghcr-prune users report it) and for a
// public version over 5,000 downloads.
func (s *Server) remove(id int64) (int, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := slices.IndexFunc(s.versions, func(v Version) bool { return v.ID == id })
	if i < 0 {
		return http.StatusNotFound, "Package not found."
	}
	v := s.versions[i]
	tagged := 0
	for _, o := range s.versions {
		if len(o.Tags) > 0 {
			tagged++
		}
	}
	if len(v.Tags) > 0 && tagged == 1 {
		return http.StatusBadRequest, "You cannot delete the last tagged version of a package. You must delete the package instead."
	}
	if s.public && v.Downloads > 5000 {
		return http.StatusBadRequest, "Publicly visible package versions with more than 5000 downloads cannot be deleted. Contact GitHub support for further assistance."
	}
	s.versions = slices.Delete(s.versions, i, i+1)
	return http.StatusNoContent, ""
}

// list serves one page; per_page defaults to 30 as on GitHub, and pages count from 1.
func (s *Server) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	perPage := 30
	if n, err := strconv.Atoi(q.Get("per_page")); err == nil && n > 0 {
		perPage = n
	}
	perPage = min(perPage, s.maxPage)
	page := 1
	if n, err := strconv.Atoi(q.Get("page")); err == nil && n > 0 {
		page = n
	}
	all := s.Versions()
	last := max(1, (len(all)+perPage-1)/perPage)
	start := min((page-1)*perPage, len(all))
	end := min(start+perPage, len(all))
	link := func(p int, rel string) string {
		v := url.Values{"page": {strconv.Itoa(p)}, "per_page": {strconv.Itoa(perPage)}}
		return fmt.Sprintf(`<%s%s?%s>; rel="%s"`, s.URL, s.VersionsPath(), v.Encode(), rel)
	}
	var links []string
	if page < last {
		links = append(links, link(page+1, "next"), link(last, "last"))
	}
	if page > 1 {
		links = append(links, link(1, "first"), link(page-1, "prev"))
	}
	if len(links) > 0 {
		w.Header().Set("Link", strings.Join(links, ", "))
	}
	scope := "users"
	if s.org {
		scope = "orgs"
	}
	out := []map[string]any{}
	for _, v := range all[start:end] {
		created := v.Created.UTC().Format(time.RFC3339)
		tags := v.Tags
		if tags == nil {
			tags = []string{}
		}
		out = append(out, map[string]any{
			"id":               v.ID,
			"name":             v.Digest,
			"url":              fmt.Sprintf("%s%s/%d", s.URL, s.VersionsPath(), v.ID),
			"package_html_url": fmt.Sprintf("https://github.com/%s/%s/packages/container/package/%s", scope, s.owner, url.PathEscape(s.pkg)),
			"html_url":         fmt.Sprintf("https://github.com/%s/%s/packages/container/%s/%d", scope, s.owner, url.PathEscape(s.pkg), v.ID),
			"created_at":       created,
			"updated_at":       created,
			"metadata":         map[string]any{"package_type": "container", "container": map[string]any{"tags": tags}},
		})
	}
	writeJSON(w, http.StatusOK, out)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}
