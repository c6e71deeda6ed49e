package oci

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// dockerConfig stands in for the Docker config keychain: credentials per registry host.
type dockerConfig map[string]authn.AuthConfig

func (d dockerConfig) Resolve(res authn.Resource) (authn.Authenticator, error) {
	if c, ok := d[res.RegistryStr()]; ok {
		return authn.FromConfig(c), nil
	}
	return authn.Anonymous, nil
}

const (
	jobToken = "ghs_J0bT0kenValue"
	actor    = "octocat"
)

// The credentials of a repository come from, in order: the username and password inputs (and
// nothing else is tried), then the Docker config, then GITHUB_TOKEN with GITHUB_ACTOR, and the
// token only ever for ghcr.io.
func TestKeychainOrder(t *testing.T) {
	t.Parallel()
	docker := dockerConfig{
		"ghcr.io":              {Username: "docker-user", Password: "docker-pass"},
		"registry.example.com": {Username: "docker-user", Password: "docker-pass"},
	}
	tests := []struct {
		name       string
		repository string
		opts       Options
		user, pass string // "" for anonymous
	}{
		{"inputs beat the Docker config and the token on ghcr.io", "ghcr.io/acme/app",
			Options{Username: "ci", Password: "input-pass", Keychain: docker, GitHubToken: jobToken, GitHubActor: actor}, "ci", "input-pass"},
		{"inputs on another registry", "registry.example.com/acme/app",
			Options{Username: "ci", Password: "input-pass", Keychain: docker, GitHubToken: jobToken}, "ci", "input-pass"},
		{"inputs on a registry the Docker config does not know", "quay.io/acme/app",
			Options{Username: "ci", Password: "input-pass", Keychain: dockerConfig{}}, "ci", "input-pass"},
		{"Docker config beats the token on ghcr.io", "ghcr.io/acme/app",
			Options{Keychain: docker, GitHubToken: jobToken, GitHubActor: actor}, "docker-user", "docker-pass"},
		{"Docker config on another registry", "registry.example.com/acme/app",
			Options{Keychain: docker, GitHubToken: jobToken, GitHubActor: actor}, "docker-user", "docker-pass"},
		{"token with the actor on ghcr.io", "ghcr.io/acme/app",
			Options{Keychain: dockerConfig{"registry.example.com": {Username: "u", Password: "p"}}, GitHubToken: jobToken, GitHubActor: actor}, actor, jobToken},
		{"token without an actor on ghcr.io", "oci://ghcr.io/acme/app",
			Options{Keychain: dockerConfig{}, GitHubToken: jobToken}, "x-access-token", jobToken},
		{"no credentials at all", "ghcr.io/acme/app", Options{Keychain: dockerConfig{}}, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, err := Open(tc.repository, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			user, pass := resolve(t, r)
			if user != tc.user || pass != tc.pass {
				t.Errorf("credentials for %s = %q/%q, want %q/%q", tc.repository, user, pass, tc.user, tc.pass)
			}
		})
	}
}

// GITHUB_TOKEN is offered to ghcr.io and to no other registry, however much its name looks like it.
func TestGitHubTokenOnlyForGHCR(t *testing.T) {
	t.Parallel()
	for _, repository := range []string{
		"registry.example.com/acme/app",
		"docker.io/acme/app",
		"ghcr.io.evil.example/acme/app",
		"evil-ghcr.io/acme/app",
		"ghcr.io:443/acme/app",
		"ghcr.io.localhost:5000/acme/app",
		"127.0.0.1:5000/acme/app",
		"localhost:5000/ghcr.io/app",
	} {
		t.Run(repository, func(t *testing.T) {
			t.Parallel()
			r, err := Open(repository, Options{Keychain: dockerConfig{}, GitHubToken: jobToken, GitHubActor: actor})
			if err != nil {
				t.Fatal(err)
			}
			if user, pass := resolve(t, r); user != "" || pass != "" {
				t.Errorf("%s was offered %q/%q, want anonymous", repository, user, pass)
			}
		})
	}
}

// resolve returns the Basic credentials r would present ("" when anonymous).
func resolve(t *testing.T, r *Repository) (user, pass string) {
	t.Helper()
	auth, err := authn.Resolve(context.Background(), r.keychain, r.ref)
	if err != nil {
		t.Fatal(err)
	}
	c, err := authn.Authorization(context.Background(), auth)
	if err != nil {
		t.Fatal(err)
	}
	return c.Username, c.Password
}

// authLog is a transport that sends every request to one test registry, whatever host it names,
// and records each Authorization header with the host the client meant.
type authLog struct {
	target string // host:port of the test registry
	mu     sync.Mutex
	seen   []string // "host Authorization"
}

func (l *authLog) RoundTrip(req *http.Request) (*http.Response, error) {
	l.mu.Lock()
	l.seen = append(l.seen, req.URL.Host+" "+req.Header.Get("Authorization"))
	l.mu.Unlock()
	out := req.Clone(req.Context())
	out.URL.Scheme, out.URL.Host, out.Host = "http", l.target, ""
	return http.DefaultTransport.RoundTrip(out)
}

func (l *authLog) carries(secret string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, s := range l.seen {
		_, h, _ := strings.Cut(s, " ")
		if strings.Contains(h, secret) {
			return true
		}
		if b, ok := strings.CutPrefix(h, "Basic "); ok {
			if dec, err := base64.StdEncoding.DecodeString(b); err == nil && strings.Contains(string(dec), secret) {
				return true
			}
		}
	}
	return false
}

// basicAuthRegistry answers /v2/ and tag lists to user:password with Basic auth, as some
// registries do, and challenges everyone else. (A token-auth registry cannot play ghcr.io here:
// go-containerregistry refuses a token realm on a loopback address for a public host.)
func basicAuthRegistry(user, password string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != user || p != password {
			w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(`{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if strings.HasSuffix(r.URL.Path, "/tags/list") {
			w.Write([]byte(`{"name":"acme/app","tags":["0.0.1"]}`))
			return
		}
		w.Write([]byte(`{}`))
	})
}

// On the wire: a registry that is not ghcr.io never sees the job token, even when it asks for
// credentials, while ghcr.io (played here by the same test registry) gets it with the actor.
func TestGitHubTokenOnTheWire(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, repository string
		wantToken        bool
	}{
		{"ghcr.io", "ghcr.io/acme/app", true},
		{"another registry", "registry.example.com/acme/app", false},
		{"a lookalike", "ghcr.io.evil.example/acme/app", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(basicAuthRegistry(actor, jobToken))
			t.Cleanup(srv.Close)
			log := &authLog{target: strings.TrimPrefix(srv.URL, "http://")}
			r, err := Open(tc.repository, Options{Keychain: dockerConfig{}, GitHubToken: jobToken, GitHubActor: actor, Transport: log, Retry: RetryPolicy{Attempts: 1}})
			if err != nil {
				t.Fatal(err)
			}
			_, err = r.Tags(context.Background())
			if tc.wantToken {
				if err != nil {
					t.Fatalf("ghcr.io with the job token: %v", err)
				}
				if !log.carries(jobToken) {
					t.Errorf("the job token was not sent to ghcr.io: %v", log.seen)
				}
				return
			}
			if err == nil {
				t.Errorf("%s listed tags anonymously from a registry that demands credentials", tc.repository)
			}
			if log.carries(jobToken) {
				t.Errorf("the job token was sent to %s: %v", tc.repository, log.seen)
			}
		})
	}
}

// Issue 14: the authentication error ended with a Go map dump, and a wrong password read like
// none at all. Each case now says what was tried and what to do, and the registry's error is
// still inspectable with errors.As.
func TestAuthenticationErrors(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); ok && u == "ci" && p == "right" {
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"name":"acme/app","tags":["0.0.1"]}`))
			return
		}
		w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		// distribution's body, detail included (registry/api/errcode).
		w.Write([]byte(`{"errors":[{"code":"UNAUTHORIZED","message":"authentication required","detail":[{"Type":"repository","Class":"","Name":"acme/app","Action":"pull"}]}]}`))
	}))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	tests := []struct {
		name string
		o    Options
		say  string
	}{
		{"no credentials", Options{Keychain: dockerConfig{}}, "no credentials for " + host + " were found"},
		{"a wrong password", Options{Username: "ci", Password: "wrong"}, "refused the username and password given: the password or token is wrong"},
		{"stale Docker config", Options{Keychain: dockerConfig{host: {Username: "ci", Password: "old"}}}, "refused the credentials found for " + host},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.o.Retry = RetryPolicy{Attempts: 1}
			r, err := Open(host+"/acme/app", tc.o)
			if err != nil {
				t.Fatal(err)
			}
			_, err = r.Tags(context.Background())
			if err == nil || !strings.Contains(err.Error(), tc.say) || !strings.Contains(err.Error(), "UNAUTHORIZED: authentication required") {
				t.Errorf("err = %v, want it to say %q and the registry's code", err, tc.say)
			}
			if err != nil && strings.Contains(err.Error(), "map[") {
				t.Errorf("err = %v: a Go map dump", err)
			}
			var te *transport.Error
			if !errors.As(err, &te) || te.StatusCode != http.StatusUnauthorized {
				t.Errorf("err = %v, want a *transport.Error with status 401 inside", err)
			}
		})
	}
}
