package ocitest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
)

// TokenPath is where a server with TokenAuth hands out tokens.
const TokenPath = "/token"

// TokenAuth makes the server demand bearer tokens the way GHCR and Docker Hub do: GET /v2/ and
// every other request without a valid token answer 401 with a Bearer challenge whose realm is
// TokenPath; a token request with the Basic credentials user:password gets a token for the
// repository scopes it asks for. granted lists the actions these credentials have ("pull",
// "push"). A token request asking for an action beyond them is refused with 403, as the strictest
// token services do (others grant the subset). Token requests are requests like any other: they
// appear in Requests.
func TokenAuth(user, password string, granted ...string) Option {
	return func(s *Server) {
		s.auth = &tokenAuth{user: user, password: password, granted: granted, tokens: map[string][]string{}}
	}
}

type tokenAuth struct {
	user, password string
	granted        []string

	mu sync.Mutex
	// tokens maps a token to the scopes it grants, "repository:<name>:<action>".
	tokens map[string][]string
}

// allow answers token requests and challenges, and reports whether r may go on to the registry.
func (a *tokenAuth) allow(w http.ResponseWriter, r *http.Request, base string) bool {
	if r.URL.Path == TokenPath {
		a.issue(w, r)
		return false
	}
	scope, challengeScope := "", ""
	if repo, ok := repositoryOf(r.URL.Path); ok {
		scope, challengeScope = "repository:"+repo+":push", "repository:"+repo+":pull,push"
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			scope, challengeScope = "repository:"+repo+":pull", "repository:"+repo+":pull"
		}
	}
	token, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	a.mu.Lock()
	granted, known := a.tokens[token]
	a.mu.Unlock()
	if known && (scope == "" || slices.Contains(granted, scope)) {
		return true
	}
	challenge := fmt.Sprintf(`Bearer realm="%s%s",service="ocitest"`, base, TokenPath)
	if challengeScope != "" {
		challenge += fmt.Sprintf(`,scope="%s"`, challengeScope)
	}
	w.Header().Set("WWW-Authenticate", challenge)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusUnauthorized)
	w.Write([]byte(`{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`))
	return false
}

// issue answers GET /token?scope=repository:<name>:<actions>&service=ocitest.
func (a *tokenAuth) issue(w http.ResponseWriter, r *http.Request) {
	user, password, ok := r.BasicAuth()
	if !ok || user != a.user || password != a.password {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"errors":[{"code":"UNAUTHORIZED","message":"bad credentials"}]}`))
		return
	}
	var scopes []string
	for _, sc := range r.URL.Query()["scope"] {
		for _, one := range strings.Fields(sc) {
			i := strings.LastIndex(one, ":")
			if i < 0 {
				continue
			}
			for _, action := range strings.Split(one[i+1:], ",") {
				if !slices.Contains(a.granted, action) {
					w.Header().Set("Content-Type", "application/json")
					w.WriteHeader(http.StatusForbidden)
					w.Write([]byte(`{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}`))
					return
				}
				scopes = append(scopes, one[:i+1]+action)
			}
		}
	}
	b := make([]byte, 16)
	rand.Read(b)
	token := hex.EncodeToString(b)
	a.mu.Lock()
	a.tokens[token] = scopes
	a.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]string{"token": token})
}

// repositoryOf is the repository name of a /v2/<name>/{manifests,blobs,tags}/… path.
func repositoryOf(path string) (string, bool) {
	rest, ok := strings.CutPrefix(path, "/v2/")
	if !ok {
		return "", false
	}
	for _, kind := range []string{"/manifests/", "/blobs/", "/tags/"} {
		if i := strings.LastIndex(rest, kind); i > 0 {
			return rest[:i], true
		}
	}
	return "", false
}
