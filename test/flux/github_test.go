package flux

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// githubAPI stands in for the GitHub REST API that Flux's githubdispatch and github Providers
// call. notification-controller reaches it through the Provider secret's address: for a host
// other than github.com it builds an enterprise client (go-github WithEnterpriseURLs), whose
// paths start with /api/v3/.
type githubAPI struct {
	server *httptest.Server
	token  string
	repo   string // owner/name the Providers' address names

	mu         sync.Mutex
	deliveries []delivery
	statuses   map[string][]repoStatus // by sha, newest first
}

// delivery is one event that reached "GitHub": a repository dispatch or a commit status.
type delivery struct {
	// Name is the GitHub event it starts: repository_dispatch or status.
	Name string
	// Payload is the webhook payload GitHub writes to GITHUB_EVENT_PATH for it.
	Payload map[string]any
	// Request is the body notification-controller sent.
	Request map[string]any
}

type repoStatus struct {
	ID          int    `json:"id"`
	State       string `json:"state"`
	Description string `json:"description"`
	Context     string `json:"context"`
	TargetURL   any    `json:"target_url"`
	CreatedAt   string `json:"created_at"`
	UpdatedAt   string `json:"updated_at"`
}

var (
	dispatchPath = regexp.MustCompile(`^/repos/([^/]+)/([^/]+)/dispatches$`)
	statusesPath = regexp.MustCompile(`^/repos/([^/]+)/([^/]+)/statuses/([0-9a-f]{40})$`)
	listPath     = regexp.MustCompile(`^/repos/([^/]+)/([^/]+)/commits/([0-9a-f]{40})/statuses$`)
)

func newGitHubAPI(t *testing.T, repo string) *githubAPI {
	g := &githubAPI{token: randomHex(t, 12), repo: repo, statuses: map[string][]repoStatus{}}
	g.server = httptest.NewServer(http.HandlerFunc(g.serve))
	t.Cleanup(g.server.Close)
	return g
}

// address is the Provider address to put in its secret: the stand-in, then owner/name.
func (g *githubAPI) address() string { return g.server.URL + "/" + g.repo }

func (g *githubAPI) serve(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimPrefix(r.URL.Path, "/api/v3")
	// GitHub answers 401 to a request without the token (docs.github.com/rest/overview/authenticating-to-the-rest-api).
	if auth := r.Header.Get("Authorization"); auth != "Bearer "+g.token && auth != "token "+g.token {
		apiError(w, http.StatusUnauthorized, "Bad credentials")
		return
	}
	if m := dispatchPath.FindStringSubmatch(path); m != nil && r.Method == http.MethodPost {
		g.dispatch(w, r, m[1]+"/"+m[2])
		return
	}
	if m := statusesPath.FindStringSubmatch(path); m != nil && r.Method == http.MethodPost {
		g.createStatus(w, r, m[1]+"/"+m[2], m[3])
		return
	}
	if m := listPath.FindStringSubmatch(path); m != nil && r.Method == http.MethodGet {
		g.mu.Lock()
		list := append([]repoStatus{}, g.statuses[m[3]]...)
		g.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(list)
		return
	}
	apiError(w, http.StatusNotFound, "Not Found: "+r.Method+" "+r.URL.Path)
}

// dispatch models POST /repos/{owner}/{repo}/dispatches: event_type is required and at most 100
// characters, client_payload at most 10 top-level properties, else 422; 204 on success
// (docs.github.com/rest/repos/repos#create-a-repository-dispatch-event).
func (g *githubAPI) dispatch(w http.ResponseWriter, r *http.Request, repo string) {
	var body struct {
		EventType     string         `json:"event_type"`
		ClientPayload map[string]any `json:"client_payload"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		apiError(w, http.StatusBadRequest, "Problems parsing JSON")
		return
	}
	if repo != g.repo {
		apiError(w, http.StatusNotFound, "Not Found")
		return
	}
	if body.EventType == "" || len(body.EventType) > 100 || len(body.ClientPayload) > 10 {
		apiError(w, http.StatusUnprocessableEntity, "Invalid request: event_type 1 to 100 characters, client_payload at most 10 properties")
		return
	}
	g.record(delivery{Name: "repository_dispatch",
		Request: map[string]any{"event_type": body.EventType, "client_payload": body.ClientPayload},
		Payload: map[string]any{
			"action": body.EventType, "branch": "main", "client_payload": body.ClientPayload,
			"repository": g.repositoryPayload(), "sender": map[string]any{"login": "flux-bot", "type": "User"},
		}})
	w.WriteHeader(http.StatusNoContent)
}

// createStatus models POST /repos/{owner}/{repo}/statuses/{sha}: state one of error, failure,
// pending, success, else 422; context defaults to "default"; 201 with the status
// (docs.github.com/rest/commits/statuses#create-a-commit-status). GitHub then sends the status
// webhook event, whose payload is modelled on the captured one in testdata/events.
func (g *githubAPI) createStatus(w http.ResponseWriter, r *http.Request, repo, sha string) {
	var body struct {
		State       string `json:"state"`
		TargetURL   any    `json:"target_url"`
		Description string `json:"description"`
		Context     string `json:"context"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		apiError(w, http.StatusBadRequest, "Problems parsing JSON")
		return
	}
	if repo != g.repo {
		apiError(w, http.StatusNotFound, "Not Found")
		return
	}
	switch body.State {
	case "error", "failure", "pending", "success":
	default:
		apiError(w, http.StatusUnprocessableEntity, "Validation Failed: state")
		return
	}
	if body.Context == "" {
		body.Context = "default"
	}
	now := time.Now().UTC().Format(time.RFC3339)
	g.mu.Lock()
	st := repoStatus{ID: len(g.deliveries) + 1, State: body.State, Description: body.Description,
		Context: body.Context, TargetURL: body.TargetURL, CreatedAt: now, UpdatedAt: now}
	g.statuses[sha] = append([]repoStatus{st}, g.statuses[sha]...)
	g.mu.Unlock()
	g.record(delivery{Name: "status",
		Request: map[string]any{"sha": sha, "state": body.State, "description": body.Description, "context": body.Context},
		Payload: map[string]any{
			"id": st.ID, "sha": sha, "name": g.repo, "target_url": body.TargetURL, "context": body.Context,
			"description": body.Description, "state": body.State, "commit": map[string]any{"sha": sha},
			"branches": []any{}, "created_at": now, "updated_at": now,
			"repository": g.repositoryPayload(), "sender": map[string]any{"login": "flux-bot", "type": "User"},
		}})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(st)
}

func (g *githubAPI) repositoryPayload() map[string]any {
	owner, name, _ := strings.Cut(g.repo, "/")
	return map[string]any{"full_name": g.repo, "name": name, "default_branch": "main",
		"owner": map[string]any{"login": owner}}
}

func (g *githubAPI) record(d delivery) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.deliveries = append(g.deliveries, d)
}

// since returns the deliveries from index from on, and the index after them.
func (g *githubAPI) since(from int) ([]delivery, int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]delivery{}, g.deliveries[from:]...), len(g.deliveries)
}

// count is the number of deliveries so far (a mark for since).
func (g *githubAPI) count() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.deliveries)
}

func apiError(w http.ResponseWriter, code int, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	fmt.Fprintf(w, `{"message":%q,"documentation_url":"https://docs.github.com/rest"}`, message)
}
