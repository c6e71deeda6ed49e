package githubtest

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Access is what one token may do: a permission ("contents", "deployments", "issues",
// "pull_requests", "workflows", "packages") and its level ("read", "write" or "admin"), as a
// workflow's `permissions:` grants them to GITHUB_TOKEN (with GitHub's underscore spelling).
type Access map[string]string

var levels = map[string]int{"read": 1, "write": 2, "admin": 3}

// Allows reports whether a holds every permission of set ("contents=write,workflows=write").
func (a Access) Allows(set string) bool {
	for _, p := range strings.Split(set, ",") {
		name, level, _ := strings.Cut(strings.TrimSpace(p), "=")
		if levels[a[name]] < levels[level] {
			return false
		}
	}
	return true
}

// AllowsAny reports whether a holds one of the sets of an X-Accepted-GitHub-Permissions value.
func (a Access) AllowsAny(accepted string) bool {
	for _, set := range strings.Split(accepted, ";") {
		if a.Allows(set) {
			return true
		}
	}
	return false
}

// full is the access of a token given with Token: everything, as a classic personal token of the
// repository's admin.
var full = Access{"contents": "write", "deployments": "write", "issues": "write", "pull_requests": "write", "workflows": "write", "packages": "admin"}

// Grant accepts token with access a, as an integration token (a workflow's GITHUB_TOKEN, a GitHub
// App's): a request it lacks the permission for is answered 403 "Resource not accessible by
// integration" with the X-Accepted-GitHub-Permissions header GitHub sends to fine-grained actors
// (https://github.blog/changelog/2023-08-10-x-accepted-github-permissions-header-for-fine-grained-permission-actors).
// Once any token is granted, a request with another token is answered 401.
func Grant(token string, a Access) Option {
	return func(s *Server) {
		if s.tokens == nil {
			s.tokens = map[string]Access{}
		}
		s.tokens[token] = a
	}
}

// Forbid writes GitHub's refusal of a fine-grained actor that lacks a permission.
func Forbid(w http.ResponseWriter, accepted, msg string) {
	w.Header().Set("X-Accepted-GitHub-Permissions", accepted)
	if msg == "" {
		msg = "Resource not accessible by integration"
	}
	writeError(w, http.StatusForbidden, msg)
}

// Authorize answers 401 for an unknown token and returns the access of a known one, or false
// when it answered. tokens nil accepts any request with full access; legacy, when set, is a token
// with full access.
func Authorize(w http.ResponseWriter, r *http.Request, legacy string, tokens map[string]Access) (Access, bool) {
	if legacy == "" && len(tokens) == 0 {
		return full, true
	}
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if ok && legacy != "" && tok == legacy {
		return full, true
	}
	if a, known := tokens[tok]; ok && known {
		return a, true
	}
	writeError(w, http.StatusUnauthorized, "Bad credentials")
	return nil, false
}

// SecondaryLimit models GitHub's secondary rate limit on content-creating requests: "No more
// than 80 content-generating requests per minute and no more than 500 content-generating requests
// per hour", answered with "a 403 or 429 response", with or without a retry-after header
// (https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api#about-secondary-rate-limits).
// A zero PerMinute or PerHour has no such limit.
type SecondaryLimit struct {
	PerMinute, PerHour int
	// Status is 403 (default) or 429.
	Status int
	// RetryAfter, when set, is sent as retry-after and is how long the fake refuses every request;
	// without it the fake refuses for a minute, the least GitHub asks a client to wait.
	RetryAfter time.Duration
}

// LimitStats is what a SecondaryLimit saw.
type LimitStats struct {
	// Writes is the content-creating requests served.
	Writes int
	// PeakMinute and PeakHour are the most served in any sliding minute and hour.
	PeakMinute, PeakHour int
	// Refused is how many requests were answered with the limit.
	Refused int
	// Violations is how many requests came while limited after the first refusal: GitHub warns
	// that "If you continue to make requests while you are rate limited, your integration may be
	// banned".
	Violations int
}

// Limiter applies a SecondaryLimit; the zero value (or a nil *Limiter) limits nothing.
type Limiter struct {
	cfg   SecondaryLimit
	mu    sync.Mutex
	times []time.Time
	until time.Time
	stats LimitStats
}

// NewLimiter applies cfg.
func NewLimiter(cfg SecondaryLimit) *Limiter { return &Limiter{cfg: cfg} }

// Admit counts a request at now and answers it with the limit when it is over; false when it
// answered.
func (l *Limiter) Admit(w http.ResponseWriter, r *http.Request, now time.Time) bool {
	if l == nil {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Before(l.until) {
		l.stats.Violations++
		l.refuse(w)
		return false
	}
	if !isContentCreating(r.Method) {
		return true
	}
	minute, hour := 0, 0
	for _, t := range l.times {
		if now.Sub(t) < time.Minute {
			minute++
		}
		if now.Sub(t) < time.Hour {
			hour++
		}
	}
	if (l.cfg.PerMinute > 0 && minute >= l.cfg.PerMinute) || (l.cfg.PerHour > 0 && hour >= l.cfg.PerHour) {
		wait := l.cfg.RetryAfter
		if wait <= 0 {
			wait = time.Minute
		}
		l.until = now.Add(wait)
		l.refuse(w)
		return false
	}
	l.times = append(l.times, now)
	l.stats.Writes++
	l.stats.PeakMinute = max(l.stats.PeakMinute, minute+1)
	l.stats.PeakHour = max(l.stats.PeakHour, hour+1)
	return true
}

func (l *Limiter) refuse(w http.ResponseWriter) {
	l.stats.Refused++
	if l.cfg.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(l.cfg.RetryAfter/time.Second)))
	}
	status := l.cfg.Status
	if status == 0 {
		status = http.StatusForbidden
	}
	// The message and documentation_url GitHub sends with a secondary rate limit.
	writeJSON(w, status, map[string]any{
		"message":           "You have exceeded a secondary rate limit and have been temporarily blocked from content creation. Please retry your request again later.",
		"documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits",
		"status":            strconv.Itoa(status),
	})
}

// Stats returns what the limiter saw.
func (l *Limiter) Stats() LimitStats {
	if l == nil {
		return LimitStats{}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.stats
}

func isContentCreating(method string) bool {
	switch method {
	case http.MethodPost, http.MethodPatch, http.MethodPut, http.MethodDelete:
		return true
	}
	return false
}

// ManualClock is a clock a test moves: Sleep advances it, so a client paced by it takes no time.
type ManualClock struct {
	mu sync.Mutex
	t  time.Time
}

// NewManualClock starts at t.
func NewManualClock(t time.Time) *ManualClock { return &ManualClock{t: t} }

// Now is the clock's time.
func (c *ManualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock by d.
func (c *ManualClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Sleep advances the clock by d, with the signature of a pacer's sleep.
func (c *ManualClock) Sleep(_ context.Context, d time.Duration) error {
	c.Advance(d)
	return nil
}
