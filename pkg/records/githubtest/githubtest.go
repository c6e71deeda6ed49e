// Package githubtest runs a fake of the parts of GitHub's REST API that package records uses, for
// one repository, with the request and response shapes documented at https://docs.github.com/rest:
//
//	GET  /repos/{owner}/{repo}/deployments                      (sha, ref, task, environment; paged)
//	POST /repos/{owner}/{repo}/deployments
//	GET  /repos/{owner}/{repo}/deployments/{id}/statuses         (newest first, or see StatusesOldestFirst; paged)
//	POST /repos/{owner}/{repo}/deployments/{id}/statuses         (auto_inactive as documented)
//	GET  /repos/{owner}/{repo}/releases/tags/{tag}
//	POST /repos/{owner}/{repo}/releases                          (422 already_exists; creates the tag)
//	PATCH /repos/{owner}/{repo}/releases/{id}                    (name, body, make_latest)
//	GET  /repos/{owner}/{repo}/git/ref/tags/{tag}
//	GET  /repos/{owner}/{repo}/git/tags/{sha}
//	GET  /repos/{owner}/{repo}/compare/{base}...{head}           (commits oldest first; paged)
//	GET  /repos/{owner}/{repo}/commits/{sha}/pulls               (paged)
//	GET  /repos/{owner}/{repo}/issues/{number}/comments          (oldest first; paged)
//	POST /repos/{owner}/{repo}/issues/{number}/comments
//	PATCH /repos/{owner}/{repo}/issues/comments/{id}
//	POST /repos/{owner}/{repo}/issues/{number}/labels            (creates missing labels with issues: write)
//
// As strict as GitHub where the records meet its limits (strict.go): tokens granted with Grant
// hold only their permissions and are refused with X-Accepted-GitHub-Permissions; a label that
// does not exist yet is created only with issues: write; a release at a commit whose
// .github/workflows differ from the default branch's needs workflows: write; a release body over
// 125,000 characters is refused; and a SecondaryLimit refuses content-creating requests over its
// rates.
//
// Lists are paged with page and per_page (default 30, capped at 100 as GitHub does, or lower with
// MaxPage so that a small fixture spans pages) and a Link header with next, prev, first and last.
// State is kept in memory; every request is logged with its body so a test can assert exactly what
// was asked, and faults can be injected per request.
package githubtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Commit is one commit of the fake repository.
type Commit struct {
	Sha     string
	Parents []string
	Message string
	Author  string // name; the login is the lower-cased name
	Date    time.Time
	// Workflows stands for the content of the commit's .github/workflows ("" for the same as
	// every other commit's ""): a tag or release at a commit whose Workflows differ from the
	// default branch head's needs the workflows permission.
	Workflows string
}

// PullRequest is one pull request. Merged pull requests name their merge commit; Commits are the
// commits that list the pull request (GET /commits/{sha}/pulls), the merge commit included.
type PullRequest struct {
	Number      int
	Title       string
	User        string
	State       string // open or closed
	MergedAt    time.Time
	MergeCommit string
	Commits     []string
	Labels      []string
}

// Deployment is a deployment as the fake stores it.
type Deployment struct {
	ID          int64
	Sha         string
	Ref         string
	Task        string
	Environment string
	Description string
	Payload     json.RawMessage
	Transient   bool
	Production  bool
	Created     time.Time
	// Statuses, oldest first.
	Statuses []Status
}

// State is the deployment's latest state ("" when it has no status).
func (d Deployment) State() string {
	if len(d.Statuses) == 0 {
		return ""
	}
	return d.Statuses[len(d.Statuses)-1].State
}

// Status is one deployment status.
type Status struct {
	ID             int64
	State          string
	Description    string
	Environment    string
	EnvironmentURL string
	LogURL         string
	Created        time.Time
}

// Release is a published release.
type Release struct {
	ID         int64
	Tag        string
	Target     string
	Name       string
	Body       string
	Prerelease bool
	MakeLatest string
	Created    time.Time
}

// Comment is an issue or pull request comment.
type Comment struct {
	ID     int64
	Issue  int
	Body   string
	User   string
	Create time.Time
}

// Request is one logged request.
type Request struct {
	Method string
	// Path is the escaped path; Query the raw query.
	Path  string
	Query string
	Body  []byte
}

// String is "METHOD /path?query".
func (r Request) String() string {
	s := r.Method + " " + r.Path
	if r.Query != "" {
		s += "?" + r.Query
	}
	return s
}

// Fault answers a request with status instead of serving it, when Status is not 0.
type Fault struct {
	Status  int
	Message string
}

// Server is the fake API for one repository.
type Server struct {
	*httptest.Server
	// Token, when set, must come as "Authorization: Bearer <Token>".
	Token string
	// Owner and Repo name the repository.
	Owner, Repo string

	maxPage int
	tokens  map[string]Access
	limit   *Limiter
	head    string
	// access is the access of the request being served (under mu).
	access Access
	fault  func(r *http.Request) Fault
	now    func() time.Time
	// statusesOldestFirst lists deployment statuses in the order they were created.
	statusesOldestFirst bool

	mu          sync.Mutex
	commits     map[string]Commit
	order       []string // commits in the order added
	pulls       []*PullRequest
	deployments []*Deployment
	releases    []*Release
	tags        map[string]tagRef // tag name -> ref
	annotated   map[string]string // tag object sha -> commit sha
	comments    []Comment
	labels      map[string]bool
	nextID      int64
	requests    []Request
}

type tagRef struct {
	typ, sha string
}

// Option configures New.
type Option func(*Server)

// MaxPage caps pages at n entries (GitHub's cap is 100).
func MaxPage(n int) Option { return func(s *Server) { s.maxPage = n } }

// Token requires this bearer token.
func Token(tok string) Option { return func(s *Server) { s.Token = tok } }

// Faults answers the requests for which fault returns a non-zero Status with that status.
func Faults(fault func(r *http.Request) Fault) Option { return func(s *Server) { s.fault = fault } }

// StatusesOldestFirst lists deployment statuses oldest first. GitHub's documentation of "List
// deployment statuses" does not say in which order they come; a client must not depend on it.
func StatusesOldestFirst() Option { return func(s *Server) { s.statusesOldestFirst = true } }

// Limit applies GitHub's secondary rate limit on content-creating requests, as configured.
func Limit(cfg SecondaryLimit) Option { return func(s *Server) { s.limit = NewLimiter(cfg) } }

// LimitStats is what the secondary limit saw (zero without Limit).
func (s *Server) LimitStats() LimitStats { return s.limit.Stats() }

// SetDefaultBranch makes sha the head of the default branch (by default the last commit added).
func (s *Server) SetDefaultBranch(sha string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.head = sha
}

// Clock replaces the time the fake stamps on what it creates.
func Clock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// Start serves repository owner/repo; the caller closes it.
func Start(owner, repo string, opts ...Option) *Server {
	s := &Server{
		Owner: owner, Repo: repo, maxPage: 100,
		now:     func() time.Time { return time.Date(2026, 8, 1, 12, 0, 0, 0, time.UTC) },
		commits: map[string]Commit{}, tags: map[string]tagRef{}, annotated: map[string]string{},
		labels: map[string]bool{}, nextID: 1000,
	}
	for _, o := range opts {
		o(s)
	}
	s.Server = httptest.NewServer(s)
	return s
}

// New serves repository owner/repo until the test ends.
func New(t interface{ Cleanup(func()) }, owner, repo string, opts ...Option) *Server {
	s := Start(owner, repo, opts...)
	t.Cleanup(s.Close)
	return s
}

// APIURL is the base URL to give a client, with the trailing slash go-github needs.
func (s *Server) APIURL() string { return s.URL + "/" }

// AddCommit adds commits to the history.
func (s *Server) AddCommit(cs ...Commit) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range cs {
		if _, ok := s.commits[c.Sha]; !ok {
			s.order = append(s.order, c.Sha)
		}
		s.commits[c.Sha] = c
	}
}

// AddPullRequest adds pull requests.
func (s *Server) AddPullRequest(ps ...PullRequest) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range ps {
		p := p
		p.Labels = slices.Clone(p.Labels)
		for _, l := range p.Labels {
			s.labels[l] = true
		}
		s.pulls = append(s.pulls, &p)
	}
}

// AddTag adds a lightweight tag, or an annotated one when object is not "".
func (s *Server) AddTag(name, commit, object string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if object == "" {
		s.tags[name] = tagRef{"commit", commit}
		return
	}
	s.tags[name] = tagRef{"tag", object}
	s.annotated[object] = commit
}

// AddDeployment adds a deployment as another tool would have created it; ID and Created are
// filled in when zero.
func (s *Server) AddDeployment(d Deployment) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d.ID == 0 {
		d.ID = s.id()
	}
	if d.Created.IsZero() {
		d.Created = s.now()
	}
	d.Statuses = slices.Clone(d.Statuses)
	s.deployments = append(s.deployments, &d)
}

// Requests returns every request so far, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// Writes returns "METHOD /path" of every request that is not a GET, in order.
func (s *Server) Writes() []string {
	var out []string
	for _, r := range s.Requests() {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			out = append(out, r.Method+" "+r.Path)
		}
	}
	return out
}

// Count is the number of requests with method whose path is path.
func (s *Server) Count(method, path string) int {
	n := 0
	for _, r := range s.Requests() {
		if r.Method == method && r.Path == path {
			n++
		}
	}
	return n
}

// RepoPath is "/repos/{owner}/{repo}" + rest.
func (s *Server) RepoPath(rest string) string { return "/repos/" + s.Owner + "/" + s.Repo + rest }

// Deployments returns the deployments, oldest first.
func (s *Server) Deployments() []Deployment {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Deployment, len(s.deployments))
	for i, d := range s.deployments {
		out[i] = *d
		out[i].Statuses = slices.Clone(d.Statuses)
	}
	return out
}

// Releases returns the releases, oldest first.
func (s *Server) Releases() []Release {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Release, len(s.releases))
	for i, r := range s.releases {
		out[i] = *r
	}
	return out
}

// Comments returns the comments on issue (pull request) number, oldest first.
func (s *Server) Comments(number int) []Comment {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Comment
	for _, c := range s.comments {
		if c.Issue == number {
			out = append(out, c)
		}
	}
	return out
}

// Labels returns the labels of pull request number.
func (s *Server) Labels(number int) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p := s.pull(number); p != nil {
		return slices.Clone(p.Labels)
	}
	return nil
}

// ServeHTTP logs the request, applies faults and routes it.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	r.Body = io.NopCloser(bytes.NewReader(body))
	s.mu.Lock()
	s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.EscapedPath(), Query: r.URL.RawQuery, Body: body})
	s.mu.Unlock()
	access, ok := Authorize(w, r, s.Token, s.tokens)
	if !ok {
		return
	}
	if !s.limit.Admit(w, r, s.now()) {
		return
	}
	if s.fault != nil {
		if f := s.fault(r); f.Status != 0 {
			msg := f.Message
			if msg == "" {
				msg = http.StatusText(f.Status)
			}
			writeError(w, f.Status, msg)
			return
		}
	}
	prefix := s.RepoPath("/")
	path := r.URL.EscapedPath()
	if !strings.HasPrefix(path, prefix) {
		writeError(w, http.StatusNotFound, "Not Found")
		return
	}
	parts := strings.Split(strings.TrimPrefix(path, prefix), "/")
	for i, p := range parts {
		if u, err := url.PathUnescape(p); err == nil {
			parts[i] = u
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if need := required(r.Method, parts); need != "" && !access.AllowsAny(need) {
		Forbid(w, need, "")
		return
	}
	s.access = access
	get, post := r.Method == http.MethodGet, r.Method == http.MethodPost
	switch {
	case match(parts, "deployments") && get:
		s.listDeployments(w, r)
	case match(parts, "deployments") && post:
		s.createDeployment(w, body)
	case match(parts, "deployments", "*", "statuses") && get:
		s.listStatuses(w, r, parts[1])
	case match(parts, "deployments", "*", "statuses") && post:
		s.createStatus(w, parts[1], body)
	case len(parts) >= 3 && parts[0] == "releases" && parts[1] == "tags" && get:
		s.releaseByTag(w, strings.Join(parts[2:], "/"))
	case match(parts, "releases") && post:
		s.createRelease(w, body)
	case match(parts, "releases", "*") && r.Method == http.MethodPatch:
		s.updateRelease(w, parts[1], body)
	case len(parts) >= 4 && parts[0] == "git" && parts[1] == "ref" && parts[2] == "tags" && get:
		s.getTagRef(w, strings.Join(parts[3:], "/"))
	case match(parts, "git", "tags", "*") && get:
		s.getTagObject(w, parts[2])
	case match(parts, "compare", "*") && get:
		s.compare(w, r, parts[1])
	case match(parts, "commits", "*", "pulls") && get:
		s.pullsOfCommit(w, r, parts[1])
	case match(parts, "issues", "*", "comments") && get:
		s.listComments(w, r, parts[1])
	case match(parts, "issues", "*", "comments") && post:
		s.createComment(w, parts[1], body)
	case match(parts, "issues", "*", "labels") && post:
		s.addLabels(w, parts[1], body)
	case match(parts, "issues", "comments", "*") && r.Method == http.MethodPatch:
		s.editComment(w, parts[2], body)
	default:
		writeError(w, http.StatusNotFound, "Not Found")
	}
}

// required is the X-Accepted-GitHub-Permissions of a route, as GitHub's "Permissions required
// for GitHub Apps" lists them (https://docs.github.com/rest/authentication/permissions-required-for-github-apps):
// deployments under Deployments, releases, tags and compare under Contents, the pull requests
// of a commit under Pull requests, and comments and labels of a pull request under Issues or Pull
// requests.
func required(method string, parts []string) string {
	level := "read"
	if isContentCreating(method) {
		level = "write"
	}
	if len(parts) == 0 {
		return ""
	}
	switch parts[0] {
	case "deployments":
		return "deployments=" + level
	case "releases", "git", "compare":
		return "contents=" + level
	case "commits":
		return "contents=read,pull_requests=read"
	case "issues":
		return "issues=" + level + "; pull_requests=" + level
	}
	return ""
}

// match reports whether parts equal pattern, "*" matching any one non-empty part.
func match(parts []string, pattern ...string) bool {
	if len(parts) != len(pattern) {
		return false
	}
	for i, p := range pattern {
		if parts[i] == "" || (p != "*" && p != parts[i]) {
			return false
		}
	}
	return true
}

func (s *Server) id() int64 { s.nextID++; return s.nextID }

func (s *Server) repoURL() string { return s.URL + s.RepoPath("") }

func (s *Server) htmlURL() string { return "https://github.com/" + s.Owner + "/" + s.Repo }

func (s *Server) user(login string) map[string]any {
	login = strings.ToLower(strings.ReplaceAll(login, " ", "-"))
	return map[string]any{"login": login, "id": 1, "type": "User", "site_admin": false,
		"url": s.URL + "/users/" + login, "html_url": "https://github.com/" + login}
}

// page writes items[page] with GitHub's Link header.
func (s *Server) page(w http.ResponseWriter, r *http.Request, n int, encode func(lo, hi int) any) {
	lo, hi, ok := s.pageBounds(w, r, n, 30)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, encode(lo, hi))
}

// pageBounds reads page and per_page, sets the Link header and returns the slice bounds.
func (s *Server) pageBounds(w http.ResponseWriter, r *http.Request, n, defaultPerPage int) (lo, hi int, ok bool) {
	q := r.URL.Query()
	per := defaultPerPage
	if v := q.Get("per_page"); v != "" {
		p, err := strconv.Atoi(v)
		if err != nil || p < 1 {
			writeError(w, http.StatusUnprocessableEntity, "Invalid per_page")
			return 0, 0, false
		}
		per = p
	}
	per = min(per, 100, s.maxPage)
	pg := 1
	if v := q.Get("page"); v != "" {
		p, err := strconv.Atoi(v)
		if err != nil || p < 1 {
			writeError(w, http.StatusUnprocessableEntity, "Invalid page")
			return 0, 0, false
		}
		pg = p
	}
	last := max(1, (n+per-1)/per)
	link := func(p int, rel string) string {
		v := r.URL.Query()
		v.Set("per_page", strconv.Itoa(per))
		v.Set("page", strconv.Itoa(p))
		return fmt.Sprintf(`<%s%s?%s>; rel="%s"`, s.URL, r.URL.EscapedPath(), v.Encode(), rel)
	}
	var links []string
	if pg < last {
		links = append(links, link(pg+1, "next"), link(last, "last"))
	}
	if pg > 1 {
		links = append(links, link(1, "first"), link(pg-1, "prev"))
	}
	if len(links) > 0 {
		w.Header().Set("Link", strings.Join(links, ", "))
	}
	lo = min((pg-1)*per, n)
	return lo, min(lo+per, n), true
}

func (s *Server) deploymentJSON(d *Deployment) map[string]any {
	u := fmt.Sprintf("%s/deployments/%d", s.repoURL(), d.ID)
	var payload any = map[string]any{}
	if len(d.Payload) > 0 {
		payload = d.Payload
	}
	return map[string]any{
		"url": u, "id": d.ID, "node_id": fmt.Sprintf("DE_%d", d.ID), "sha": d.Sha, "ref": d.Ref, "task": d.Task,
		"payload": payload, "original_environment": d.Environment, "environment": d.Environment,
		"description": d.Description, "creator": s.user("github-actions"),
		"created_at": d.Created, "updated_at": d.Created, "statuses_url": u + "/statuses",
		"repository_url": s.repoURL(), "transient_environment": d.Transient, "production_environment": d.Production,
	}
}

func (s *Server) listDeployments(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var found []*Deployment
	// GitHub lists deployments newest first.
	for i := len(s.deployments) - 1; i >= 0; i-- {
		d := s.deployments[i]
		if (q.Get("sha") == "" || q.Get("sha") == d.Sha) && (q.Get("ref") == "" || q.Get("ref") == d.Ref) &&
			(q.Get("task") == "" || q.Get("task") == d.Task) && (q.Get("environment") == "" || q.Get("environment") == d.Environment) {
			found = append(found, d)
		}
	}
	s.page(w, r, len(found), func(lo, hi int) any {
		out := []map[string]any{}
		for _, d := range found[lo:hi] {
			out = append(out, s.deploymentJSON(d))
		}
		return out
	})
}

func (s *Server) createDeployment(w http.ResponseWriter, body []byte) {
	var req struct {
		Ref                   string          `json:"ref"`
		Task                  *string         `json:"task"`
		AutoMerge             *bool           `json:"auto_merge"`
		RequiredContexts      *[]string       `json:"required_contexts"`
		Payload               json.RawMessage `json:"payload"`
		Environment           *string         `json:"environment"`
		Description           *string         `json:"description"`
		TransientEnvironment  *bool           `json:"transient_environment"`
		ProductionEnvironment *bool           `json:"production_environment"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		writeError(w, http.StatusBadRequest, "Problems parsing JSON")
		return
	}
	sha := s.resolve(req.Ref)
	if sha == "" {
		writeValidation(w, "Deployment", "ref", "invalid", "No ref found for: "+req.Ref)
		return
	}
	// GitHub merges the default branch into a ref that is behind it unless auto_merge is false,
	// and refuses a ref whose commit statuses are not all successful unless required_contexts
	// says which to wait for. A fake cannot merge, so it insists on the two settings that make
	// GitHub deploy exactly this commit.
	if req.AutoMerge == nil || *req.AutoMerge {
		writeError(w, http.StatusConflict, "Conflict merging main into "+req.Ref+" (the fake serves only auto_merge: false)")
		return
	}
	if req.RequiredContexts == nil {
		writeError(w, http.StatusConflict, "Conflict: Commit status checks failed for "+req.Ref+" (the fake serves only required_contexts: [])")
		return
	}
	if req.Payload != nil && !isJSONObjectOrString(req.Payload) {
		writeValidation(w, "Deployment", "payload", "invalid", "payload must be an object or a JSON string")
		return
	}
	d := &Deployment{ID: s.id(), Sha: sha, Ref: req.Ref, Task: "deploy", Environment: "production", Created: s.now()}
	if req.Task != nil {
		d.Task = *req.Task
	}
	if req.Environment != nil {
		d.Environment = *req.Environment
	}
	if req.Description != nil {
		d.Description = *req.Description
	}
	if req.TransientEnvironment != nil {
		d.Transient = *req.TransientEnvironment
	}
	d.Production = d.Environment == "production"
	if req.ProductionEnvironment != nil {
		d.Production = *req.ProductionEnvironment
	}
	if len(req.Payload) > 0 && req.Payload[0] == '"' {
		var str string
		_ = json.Unmarshal(req.Payload, &str)
		req.Payload = json.RawMessage(str)
	}
	d.Payload = req.Payload
	s.deployments = append(s.deployments, d)
	writeJSON(w, http.StatusCreated, s.deploymentJSON(d))
}

func isJSONObjectOrString(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) > 0 && (t[0] == '{' || t[0] == '"')
}

// resolve maps a ref (a full sha, or a tag) to a commit sha of the history.
func (s *Server) resolve(ref string) string {
	if _, ok := s.commits[ref]; ok {
		return ref
	}
	if t, ok := s.tags[ref]; ok {
		if t.typ == "tag" {
			return s.annotated[t.sha]
		}
		return t.sha
	}
	return ""
}

func (s *Server) deployment(id string) *Deployment {
	for _, d := range s.deployments {
		if strconv.FormatInt(d.ID, 10) == id {
			return d
		}
	}
	return nil
}

func (s *Server) statusJSON(d *Deployment, st Status) map[string]any {
	du := fmt.Sprintf("%s/deployments/%d", s.repoURL(), d.ID)
	return map[string]any{
		"url": fmt.Sprintf("%s/statuses/%d", du, st.ID), "id": st.ID, "node_id": fmt.Sprintf("DES_%d", st.ID),
		"state": st.State, "creator": s.user("github-actions"), "description": st.Description,
		"environment": st.Environment, "target_url": st.LogURL, "created_at": st.Created, "updated_at": st.Created,
		"deployment_url": du, "repository_url": s.repoURL(), "environment_url": st.EnvironmentURL, "log_url": st.LogURL,
	}
}

func (s *Server) listStatuses(w http.ResponseWriter, r *http.Request, id string) {
	d := s.deployment(id)
	if d == nil {
		writeError(w, http.StatusNotFound, "Not Found")
		return
	}
	// Newest first, as GitHub lists them in practice, unless StatusesOldestFirst.
	sts := slices.Clone(d.Statuses)
	if !s.statusesOldestFirst {
		slices.Reverse(sts)
	}
	s.page(w, r, len(sts), func(lo, hi int) any {
		out := []map[string]any{}
		for _, st := range sts[lo:hi] {
			out = append(out, s.statusJSON(d, st))
		}
		return out
	})
}

var deploymentStates = []string{"error", "failure", "inactive", "in_progress", "queued", "pending", "success"}

func (s *Server) createStatus(w http.ResponseWriter, id string, body []byte) {
	d := s.deployment(id)
	if d == nil {
		writeError(w, http.StatusNotFound, "Not Found")
		return
	}
	var req struct {
		State          string  `json:"state"`
		TargetURL      *string `json:"target_url"`
		LogURL         *string `json:"log_url"`
		Description    *string `json:"description"`
		Environment    *string `json:"environment"`
		EnvironmentURL *string `json:"environment_url"`
		AutoInactive   *bool   `json:"auto_inactive"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		writeError(w, http.StatusBadRequest, "Problems parsing JSON")
		return
	}
	if !slices.Contains(deploymentStates, req.State) {
		writeValidation(w, "DeploymentStatus", "state", "invalid", "state is not included in the list")
		return
	}
	st := Status{ID: s.id(), State: req.State, Environment: d.Environment, Created: s.now()}
	if req.Description != nil {
		if len(*req.Description) > 140 {
			writeValidation(w, "DeploymentStatus", "description", "custom", "description is too long (maximum is 140 characters)")
			return
		}
		st.Description = *req.Description
	}
	if req.TargetURL != nil {
		st.LogURL = *req.TargetURL
	}
	if req.LogURL != nil {
		st.LogURL = *req.LogURL
	}
	if req.EnvironmentURL != nil {
		st.EnvironmentURL = *req.EnvironmentURL
	}
	if req.Environment != nil {
		d.Environment, st.Environment = *req.Environment, *req.Environment
	}
	d.Statuses = append(d.Statuses, st)
	// "auto_inactive: Adds a new inactive status to all prior non-transient, non-production
	// environment deployments with the same repository and environment name as the created
	// status's deployment. An inactive status is only added to deployments that had a success
	// state. Default: true"
	if req.State == "success" && (req.AutoInactive == nil || *req.AutoInactive) {
		for _, o := range s.deployments {
			if o.ID < d.ID && o.Environment == d.Environment && !o.Transient && !o.Production && o.State() == "success" {
				o.Statuses = append(o.Statuses, Status{ID: s.id(), State: "inactive", Environment: o.Environment, Created: s.now()})
			}
		}
	}
	writeJSON(w, http.StatusCreated, s.statusJSON(d, st))
}

func (s *Server) releaseJSON(r *Release) map[string]any {
	u := fmt.Sprintf("%s/releases/%d", s.repoURL(), r.ID)
	return map[string]any{
		"url": u, "html_url": s.htmlURL() + "/releases/tag/" + r.Tag, "assets_url": u + "/assets",
		"upload_url": u + "/assets{?name,label}", "tarball_url": s.repoURL() + "/tarball/" + r.Tag,
		"zipball_url": s.repoURL() + "/zipball/" + r.Tag, "id": r.ID, "node_id": fmt.Sprintf("RE_%d", r.ID),
		"tag_name": r.Tag, "target_commitish": r.Target, "name": r.Name, "body": r.Body, "draft": false,
		"prerelease": r.Prerelease, "created_at": r.Created, "published_at": r.Created,
		"author": s.user("github-actions"), "assets": []any{},
	}
}

func (s *Server) releaseByTag(w http.ResponseWriter, tag string) {
	for _, r := range s.releases {
		if r.Tag == tag {
			writeJSON(w, http.StatusOK, s.releaseJSON(r))
			return
		}
	}
	writeError(w, http.StatusNotFound, "Not Found")
}

func (s *Server) createRelease(w http.ResponseWriter, body []byte) {
	var req struct {
		TagName         string  `json:"tag_name"`
		TargetCommitish *string `json:"target_commitish"`
		Name            *string `json:"name"`
		Body            *string `json:"body"`
		Draft           *bool   `json:"draft"`
		Prerelease      *bool   `json:"prerelease"`
		MakeLatest      *string `json:"make_latest"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		writeError(w, http.StatusBadRequest, "Problems parsing JSON")
		return
	}
	if req.TagName == "" {
		writeValidation(w, "Release", "tag_name", "missing_field", "")
		return
	}
	if req.MakeLatest != nil && !slices.Contains([]string{"true", "false", "legacy"}, *req.MakeLatest) {
		writeValidation(w, "Release", "make_latest", "invalid", "make_latest must be true, false or legacy")
		return
	}
	if req.Body != nil && tooLong(w, *req.Body) {
		return
	}
	for _, r := range s.releases {
		if r.Tag == req.TagName {
			writeValidation(w, "Release", "tag_name", "already_exists", "")
			return
		}
	}
	rel := &Release{ID: s.id(), Tag: req.TagName, Target: "main", Created: s.now(), MakeLatest: "true"}
	if req.TargetCommitish != nil {
		rel.Target = *req.TargetCommitish
	}
	if _, ok := s.tags[req.TagName]; !ok {
		// GitHub creates the tag from target_commitish when it does not exist; an existing tag
		// wins over target_commitish.
		sha := s.resolve(rel.Target)
		if sha == "" {
			writeValidation(w, "Release", "target_commitish", "invalid", "")
			return
		}
		// Creating a tag at a commit whose .github/workflows differ from the default branch's
		// is refused to an integration without the workflows permission, which a workflow's
		// GITHUB_TOKEN can never hold: 403 "Resource not accessible by integration" with
		// x-accepted-github-permissions: contents=write,workflows=write (reported for GITHUB_TOKEN
		// in release-please-action and semantic-release; the same rule as "refusing to allow a
		// GitHub App to create or update workflow ... without workflows permission" on a push,
		// peter-evans/create-pull-request#1713).
		if s.commits[sha].Workflows != s.commits[s.defaultHead()].Workflows && !s.access.Allows("workflows=write") {
			Forbid(w, "contents=write,workflows=write", "")
			return
		}
		s.tags[req.TagName] = tagRef{"commit", sha}
	}
	if req.Name != nil {
		rel.Name = *req.Name
	}
	if req.Body != nil {
		rel.Body = *req.Body
	}
	if req.Prerelease != nil {
		rel.Prerelease = *req.Prerelease
	}
	if req.MakeLatest != nil {
		rel.MakeLatest = *req.MakeLatest
	}
	if req.Draft != nil && *req.Draft {
		writeValidation(w, "Release", "draft", "invalid", "the fake serves published releases only")
		return
	}
	s.releases = append(s.releases, rel)
	writeJSON(w, http.StatusCreated, s.releaseJSON(rel))
}

// updateRelease changes a release's name, body or make_latest; the fake keeps its tag and target.
func (s *Server) updateRelease(w http.ResponseWriter, id string, body []byte) {
	var rel *Release
	for _, r := range s.releases {
		if strconv.FormatInt(r.ID, 10) == id {
			rel = r
		}
	}
	if rel == nil {
		writeError(w, http.StatusNotFound, "Not Found")
		return
	}
	var req struct {
		Name       *string `json:"name"`
		Body       *string `json:"body"`
		MakeLatest *string `json:"make_latest"`
		TagName    *string `json:"tag_name"`
		Draft      *bool   `json:"draft"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		writeError(w, http.StatusBadRequest, "Problems parsing JSON")
		return
	}
	if req.MakeLatest != nil && !slices.Contains([]string{"true", "false", "legacy"}, *req.MakeLatest) {
		writeValidation(w, "Release", "make_latest", "invalid", "make_latest must be true, false or legacy")
		return
	}
	if req.Body != nil && tooLong(w, *req.Body) {
		return
	}
	if (req.TagName != nil && *req.TagName != rel.Tag) || (req.Draft != nil && *req.Draft) {
		writeValidation(w, "Release", "tag_name", "invalid", "the fake does not move or unpublish releases")
		return
	}
	if req.Name != nil {
		rel.Name = *req.Name
	}
	if req.Body != nil {
		rel.Body = *req.Body
	}
	if req.MakeLatest != nil {
		rel.MakeLatest = *req.MakeLatest
	}
	writeJSON(w, http.StatusOK, s.releaseJSON(rel))
}

// maxBody is GitHub's limit on a release body: 422 "body is too long (maximum is 125000
// characters)" (angular/dev-infra#174, softprops/action-gh-release#374, ncipollo/release-action#493).
const maxBody = 125000

func tooLong(w http.ResponseWriter, body string) bool {
	if utf8.RuneCountInString(body) <= maxBody {
		return false
	}
	writeValidation(w, "Release", "body", "custom", "body is too long (maximum is 125000 characters)")
	return true
}

func (s *Server) defaultHead() string {
	if s.head != "" || len(s.order) == 0 {
		return s.head
	}
	return s.order[len(s.order)-1]
}

func (s *Server) getTagRef(w http.ResponseWriter, tag string) {
	t, ok := s.tags[tag]
	if !ok {
		writeError(w, http.StatusNotFound, "Not Found")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"ref": "refs/tags/" + tag, "node_id": "REF_" + tag, "url": s.repoURL() + "/git/refs/tags/" + tag,
		"object": map[string]any{"type": t.typ, "sha": t.sha, "url": s.repoURL() + "/git/" + t.typ + "s/" + t.sha},
	})
}

func (s *Server) getTagObject(w http.ResponseWriter, sha string) {
	commit, ok := s.annotated[sha]
	if !ok {
		writeError(w, http.StatusNotFound, "Not Found")
		return
	}
	var name string
	for n, t := range s.tags {
		if t.typ == "tag" && t.sha == sha {
			name = n
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"node_id": "TAG_" + sha, "tag": name, "sha": sha, "url": s.repoURL() + "/git/tags/" + sha, "message": name,
		"tagger": map[string]any{"name": "Tagger", "email": "tagger@example.com", "date": s.now()},
		"object": map[string]any{"type": "commit", "sha": commit, "url": s.repoURL() + "/git/commits/" + commit},
	})
}

func (s *Server) commitJSON(sha string) map[string]any {
	c := s.commits[sha]
	parents := []map[string]any{}
	for _, p := range c.Parents {
		parents = append(parents, map[string]any{"sha": p, "url": s.repoURL() + "/commits/" + p, "html_url": s.htmlURL() + "/commit/" + p})
	}
	person := map[string]any{"name": c.Author, "email": strings.ToLower(c.Author) + "@example.com", "date": c.Date}
	return map[string]any{
		"url": s.repoURL() + "/commits/" + sha, "sha": sha, "node_id": "C_" + sha,
		"html_url": s.htmlURL() + "/commit/" + sha, "comments_url": s.repoURL() + "/commits/" + sha + "/comments",
		"commit": map[string]any{
			"url": s.repoURL() + "/git/commits/" + sha, "author": person, "committer": person,
			"message": c.Message, "tree": map[string]any{"sha": sha, "url": s.repoURL() + "/git/trees/" + sha},
			"comment_count": 0,
		},
		"author": s.user(c.Author), "committer": s.user(c.Author), "parents": parents,
	}
}

// ancestors is the set of commits reachable from sha, sha included.
func (s *Server) ancestors(sha string) map[string]bool {
	seen := map[string]bool{}
	stack := []string{sha}
	for len(stack) > 0 {
		c := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[c] {
			continue
		}
		seen[c] = true
		stack = append(stack, s.commits[c].Parents...)
	}
	return seen
}

func (s *Server) compare(w http.ResponseWriter, r *http.Request, basehead string) {
	base, head, ok := strings.Cut(basehead, "...")
	if !ok {
		writeError(w, http.StatusNotFound, "Not Found")
		return
	}
	base, head = s.resolve(base), s.resolve(head)
	if base == "" || head == "" {
		writeError(w, http.StatusNotFound, "Not Found")
		return
	}
	inHead, inBase := s.ancestors(head), s.ancestors(base)
	var ahead []string
	behind := 0
	for _, c := range s.order { // the order commits were added is a topological order, oldest first
		switch {
		case inHead[c] && !inBase[c]:
			ahead = append(ahead, c)
		case inBase[c] && !inHead[c]:
			behind++
		}
	}
	status := "identical"
	switch {
	case len(ahead) > 0 && behind > 0:
		status = "diverged"
	case len(ahead) > 0:
		status = "ahead"
	case behind > 0:
		status = "behind"
	}
	// "When calling this endpoint without any paging parameter (per_page or page), the returned
	// list is limited to 250 commits"; with paging, each page lists commits oldest first.
	lo, hi, ok := s.pageBounds(w, r, len(ahead), 250)
	if !ok {
		return
	}
	commits := []map[string]any{}
	for _, c := range ahead[lo:hi] {
		commits = append(commits, s.commitJSON(c))
	}
	u := fmt.Sprintf("%s/compare/%s...%s", s.htmlURL(), base, head)
	writeJSON(w, http.StatusOK, map[string]any{
		"url": s.repoURL() + "/compare/" + basehead, "html_url": u, "permalink_url": u,
		"diff_url": u + ".diff", "patch_url": u + ".patch", "base_commit": s.commitJSON(base),
		"merge_base_commit": s.commitJSON(base), "status": status, "ahead_by": len(ahead), "behind_by": behind,
		"total_commits": len(ahead), "commits": commits, "files": []any{},
	})
}

func (s *Server) pull(number int) *PullRequest {
	for _, p := range s.pulls {
		if p.Number == number {
			return p
		}
	}
	return nil
}

func (s *Server) labelJSON(name string) map[string]any {
	return map[string]any{"id": len(name), "node_id": "LA_" + name, "url": s.repoURL() + "/labels/" + url.PathEscape(name),
		"name": name, "color": "ededed", "default": false, "description": nil}
}

func (s *Server) pullJSON(p *PullRequest) map[string]any {
	labels := []map[string]any{}
	for _, l := range p.Labels {
		labels = append(labels, s.labelJSON(l))
	}
	var merged, closed any
	if !p.MergedAt.IsZero() {
		merged, closed = p.MergedAt, p.MergedAt
	}
	var mergeCommit any
	if p.MergeCommit != "" {
		mergeCommit = p.MergeCommit
	}
	return map[string]any{
		"url": fmt.Sprintf("%s/pulls/%d", s.repoURL(), p.Number), "id": p.Number * 10, "node_id": fmt.Sprintf("PR_%d", p.Number),
		"html_url": fmt.Sprintf("%s/pull/%d", s.htmlURL(), p.Number), "number": p.Number, "state": p.State,
		"locked": false, "title": p.Title, "user": s.user(p.User), "body": "", "labels": labels,
		"created_at": s.now(), "updated_at": s.now(), "closed_at": closed, "merged_at": merged,
		"merge_commit_sha": mergeCommit, "draft": false, "author_association": "MEMBER",
		"issue_url": fmt.Sprintf("%s/issues/%d", s.repoURL(), p.Number),
		"base":      map[string]any{"label": s.Owner + ":main", "ref": "main", "sha": ""},
		"head":      map[string]any{"label": s.Owner + ":topic", "ref": "topic", "sha": ""},
	}
}

func (s *Server) pullsOfCommit(w http.ResponseWriter, r *http.Request, sha string) {
	if _, ok := s.commits[sha]; !ok {
		writeValidation(w, "Commit", "commit_sha", "invalid", "No commit found for SHA: "+sha)
		return
	}
	var found []*PullRequest
	for _, p := range s.pulls {
		if slices.Contains(p.Commits, sha) || p.MergeCommit == sha {
			found = append(found, p)
		}
	}
	s.page(w, r, len(found), func(lo, hi int) any {
		out := []map[string]any{}
		for _, p := range found[lo:hi] {
			out = append(out, s.pullJSON(p))
		}
		return out
	})
}

func (s *Server) issue(w http.ResponseWriter, n string) *PullRequest {
	num, err := strconv.Atoi(n)
	if p := s.pull(num); err == nil && p != nil {
		return p
	}
	writeError(w, http.StatusNotFound, "Not Found")
	return nil
}

func (s *Server) commentJSON(c Comment) map[string]any {
	return map[string]any{
		"id": c.ID, "node_id": fmt.Sprintf("IC_%d", c.ID), "url": fmt.Sprintf("%s/issues/comments/%d", s.repoURL(), c.ID),
		"html_url":  fmt.Sprintf("%s/pull/%d#issuecomment-%d", s.htmlURL(), c.Issue, c.ID),
		"issue_url": fmt.Sprintf("%s/issues/%d", s.repoURL(), c.Issue), "body": c.Body, "user": s.user(c.User),
		"created_at": c.Create, "updated_at": c.Create, "author_association": "NONE",
	}
}

func (s *Server) listComments(w http.ResponseWriter, r *http.Request, n string) {
	p := s.issue(w, n)
	if p == nil {
		return
	}
	var cs []Comment
	for _, c := range s.comments {
		if c.Issue == p.Number {
			cs = append(cs, c)
		}
	}
	s.page(w, r, len(cs), func(lo, hi int) any {
		out := []map[string]any{}
		for _, c := range cs[lo:hi] {
			out = append(out, s.commentJSON(c))
		}
		return out
	})
}

// AddComment adds a comment as user, as a person would.
func (s *Server) AddComment(number int, user, body string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.comments = append(s.comments, Comment{ID: s.id(), Issue: number, Body: body, User: user, Create: s.now()})
}

func (s *Server) createComment(w http.ResponseWriter, n string, body []byte) {
	p := s.issue(w, n)
	if p == nil {
		return
	}
	var req struct {
		Body *string `json:"body"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		writeError(w, http.StatusBadRequest, "Problems parsing JSON")
		return
	}
	if req.Body == nil || *req.Body == "" {
		writeValidation(w, "IssueComment", "body", "missing_field", "")
		return
	}
	c := Comment{ID: s.id(), Issue: p.Number, Body: *req.Body, User: "github-actions[bot]", Create: s.now()}
	s.comments = append(s.comments, c)
	writeJSON(w, http.StatusCreated, s.commentJSON(c))
}

func (s *Server) editComment(w http.ResponseWriter, id string, body []byte) {
	var req struct {
		Body *string `json:"body"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		writeError(w, http.StatusBadRequest, "Problems parsing JSON")
		return
	}
	for i := range s.comments {
		if strconv.FormatInt(s.comments[i].ID, 10) == id {
			if req.Body == nil || *req.Body == "" {
				writeValidation(w, "IssueComment", "body", "missing_field", "")
				return
			}
			s.comments[i].Body = *req.Body
			writeJSON(w, http.StatusOK, s.commentJSON(s.comments[i]))
			return
		}
	}
	writeError(w, http.StatusNotFound, "Not Found")
}

// AddLabel adds a label to the repository, as a person who created it once would have.
func (s *Server) AddLabel(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.labels[name] = true
}

func (s *Server) addLabels(w http.ResponseWriter, n string, body []byte) {
	p := s.issue(w, n)
	if p == nil {
		return
	}
	// The documented body is {"labels": [...]}; a bare array is accepted too.
	var req struct {
		Labels []string `json:"labels"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		if err := json.Unmarshal(body, &req.Labels); err != nil {
			writeError(w, http.StatusBadRequest, "Problems parsing JSON")
			return
		}
	}
	if len(req.Labels) == 0 {
		writeValidation(w, "Label", "labels", "missing_field", "")
		return
	}
	for _, l := range req.Labels {
		// Since early 2025 GitHub creates a missing label only for a token with issues: write
		// (actions/labeler#870, community discussion 156181): 403 "You do not have permission to
		// create labels on this repository." The header names the permission.
		if !s.labels[l] && !s.access.Allows("issues=write") {
			w.Header().Set("X-Accepted-GitHub-Permissions", "issues=write")
			writeJSON(w, http.StatusForbidden, map[string]any{"message": "You do not have permission to create labels on this repository.",
				"errors":            []any{map[string]any{"resource": "Repository", "field": "label", "code": "unauthorized"}},
				"documentation_url": "https://docs.github.com/rest/issues/labels#add-labels-to-an-issue", "status": "403"})
			return
		}
	}
	for _, l := range req.Labels {
		s.labels[l] = true
		if !slices.Contains(p.Labels, l) {
			p.Labels = append(p.Labels, l)
		}
	}
	out := []map[string]any{}
	for _, l := range p.Labels {
		out = append(out, s.labelJSON(l))
	}
	writeJSON(w, http.StatusOK, out)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-GitHub-Media-Type", "github.v3; format=json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{"message": msg, "documentation_url": "https://docs.github.com/rest", "status": strconv.Itoa(status)})
}

func writeValidation(w http.ResponseWriter, resource, field, code, msg string) {
	e := map[string]any{"resource": resource, "field": field, "code": code}
	if msg != "" {
		e["message"] = msg
	}
	writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"message": "Validation Failed", "errors": []any{e},
		"documentation_url": "https://docs.github.com/rest", "status": "422"})
}
