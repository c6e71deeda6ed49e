// Package ghapi builds the go-github clients of package records and package prune, and keeps
// them within what GitHub asks of an integration:
//
//   - content-creating requests (POST, PATCH, PUT, DELETE) are sent at least WriteInterval apart
//     ("If you are making a large number of POST, PATCH, PUT, or DELETE requests for a single
//     user or client ID, wait at least one second between each request", REST API best
//     practices, https://docs.github.com/rest/using-the-rest-api/best-practices-for-using-the-rest-api);
//   - a run sends at most MaxWrites of them, so that one run stays under the secondary limit of
//     500 content-generating requests an hour
//     (https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api#about-secondary-rate-limits);
//   - once GitHub answers a rate limit (429, or 403 with retry-after, x-ratelimit-remaining: 0 or
//     a secondary-rate-limit message) no further request is sent at all: "If you continue to make
//     requests while you are rate limited, your integration may be banned". The caller stops and
//     leaves the rest to the next run, which GitHub asks to come no sooner than retry-after, or a
//     minute when GitHub does not say.
//
// go-github v62 turns only a 403 whose documentation_url names the secondary limits into an
// AbuseRateLimitError; a 429 is a plain ErrorResponse there, so the rate limit is read here from
// the response itself.
package ghapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/go-github/v62/github"
)

// DefaultWriteInterval is the least time between two content-creating requests.
const DefaultWriteInterval = time.Second

// DefaultRetryAfter is how long to wait after a rate limit GitHub gave no retry-after for:
// "wait for at least one minute before retrying".
const DefaultRetryAfter = time.Minute

// Timeout bounds each request.
const Timeout = 30 * time.Second

// ErrStopped is wrapped by the error of every request ghapi did not send: GitHub rate-limited the
// run, or the run's budget of content-creating requests is spent. The caller stops and reports
// what is left for the next run.
var ErrStopped = errors.New("stopped")

// StopError says why requests stopped.
type StopError struct {
	// Budget is true when the run's MaxWrites were sent; else GitHub answered a rate limit.
	Budget bool
	// Status is GitHub's answer (403 or 429) to the request that hit the limit.
	Status int
	// RetryAfter is how long GitHub asked to wait (DefaultRetryAfter when it did not say).
	RetryAfter time.Duration
	// Message is GitHub's message.
	Message string
	max     int
}

func (e *StopError) Error() string {
	if e.Budget {
		return fmt.Sprintf("stopped after %d content-creating requests, this run's share of GitHub's secondary rate limit (github_max_writes); the next run goes on from here", e.max)
	}
	msg := ""
	if e.Message != "" {
		msg = ": " + e.Message
	}
	return fmt.Sprintf("GitHub rate-limited this run (HTTP %d%s); no further request was sent, as GitHub asks; run again in %s or later, it goes on from here", e.Status, msg, e.RetryAfter.Round(time.Second))
}

func (e *StopError) Unwrap() error { return ErrStopped }

// Options configure New.
type Options struct {
	// APIURL is the REST API root, default https://api.github.com/.
	APIURL string
	Token  string
	// WriteInterval is the least time between content-creating requests; 0 sends them at once
	// (tests). New callers should use DefaultWriteInterval.
	WriteInterval time.Duration
	// MaxWrites caps the content-creating requests of the client's life (one run); 0: no cap.
	MaxWrites int
	// Transport replaces the HTTP transport (tests).
	Transport http.RoundTripper
	// Sleep replaces time's sleep between writes (tests advance a fake clock with it).
	Sleep func(ctx context.Context, d time.Duration) error
	// Now replaces the clock the writes are spaced by.
	Now func() time.Time
}

// Client is a go-github client whose requests go through the pacing and stop rules.
type Client struct {
	*github.Client
	p *pacer
}

// New checks the API URL and returns the client.
func New(o Options) (*Client, error) {
	api := o.APIURL
	if api == "" {
		api = "https://api.github.com/"
	}
	base, err := url.Parse(strings.TrimSuffix(api, "/") + "/")
	if err != nil || (base.Scheme != "https" && base.Scheme != "http") || base.Host == "" {
		return nil, fmt.Errorf("GitHub API URL %q is not an http(s) URL such as https://api.github.com/ (GITHUB_API_URL)", api)
	}
	if o.WriteInterval < 0 || o.MaxWrites < 0 {
		return nil, fmt.Errorf("the interval between writes and the number of writes must not be negative")
	}
	p := &pacer{next: o.Transport, interval: o.WriteInterval, max: o.MaxWrites, sleep: o.Sleep, now: o.Now}
	if p.next == nil {
		p.next = http.DefaultTransport
	}
	if p.sleep == nil {
		p.sleep = sleep
	}
	if p.now == nil {
		p.now = time.Now
	}
	gh := github.NewClient(&http.Client{Transport: p, Timeout: Timeout})
	if o.Token != "" {
		gh = gh.WithAuthToken(o.Token)
	}
	gh.BaseURL = base
	gh.UserAgent = "ocipromote"
	return &Client{Client: gh, p: p}, nil
}

// Stopped is the reason requests stopped, nil while they go on.
func (c *Client) Stopped() *StopError {
	c.p.mu.Lock()
	defer c.p.mu.Unlock()
	return c.p.stop
}

// Writes is the number of content-creating requests sent.
func (c *Client) Writes() int {
	c.p.mu.Lock()
	defer c.p.mu.Unlock()
	return c.p.writes
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

type pacer struct {
	next     http.RoundTripper
	interval time.Duration
	max      int
	sleep    func(context.Context, time.Duration) error
	now      func() time.Time

	mu     sync.Mutex
	last   time.Time
	writes int
	stop   *StopError
}

// contentCreating are the methods GitHub counts against the content-creation limits.
func contentCreating(method string) bool {
	switch method {
	case http.MethodPost, http.MethodPatch, http.MethodPut, http.MethodDelete:
		return true
	}
	return false
}

func (p *pacer) RoundTrip(r *http.Request) (*http.Response, error) {
	write := contentCreating(r.Method)
	p.mu.Lock()
	if p.stop != nil && !p.stop.Budget {
		err := p.stop
		p.mu.Unlock()
		return nil, err
	}
	if write && p.max > 0 && p.writes >= p.max {
		p.stop = &StopError{Budget: true, max: p.max}
		err := p.stop
		p.mu.Unlock()
		return nil, err
	}
	var wait time.Duration
	if write && p.interval > 0 && !p.last.IsZero() {
		wait = p.last.Add(p.interval).Sub(p.now())
	}
	p.mu.Unlock()
	if wait > 0 {
		if err := p.sleep(r.Context(), wait); err != nil {
			return nil, err
		}
	}
	if write {
		p.mu.Lock()
		p.writes++
		p.last = p.now()
		p.mu.Unlock()
	}
	resp, err := p.next.RoundTrip(r)
	if err != nil {
		return resp, err
	}
	if stop := limited(resp); stop != nil {
		p.mu.Lock()
		p.stop = stop
		p.mu.Unlock()
	}
	return resp, nil
}

// Limited is the rate limit a go-github error reports (the answer that stopped the run), else nil.
func Limited(err error) *StopError {
	var ge *github.ErrorResponse
	var abuse *github.AbuseRateLimitError
	var rate *github.RateLimitError
	switch {
	case errors.As(err, &ge) && ge.Response != nil:
		return limitOf(ge.Response, ge.Message)
	case errors.As(err, &abuse) && abuse.Response != nil:
		return limitOf(abuse.Response, abuse.Message)
	case errors.As(err, &rate) && rate.Response != nil:
		return limitOf(rate.Response, rate.Message)
	}
	return nil
}

// limited reads a rate-limit answer: 429, or 403 with retry-after, x-ratelimit-remaining: 0 or a
// message about a rate limit (GitHub documents each of these forms for the primary and the
// secondary limits).
func limited(resp *http.Response) *StopError {
	if resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode != http.StatusForbidden {
		return nil
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	var e struct {
		Message string `json:"message"`
	}
	_ = json.Unmarshal(body, &e)
	return limitOf(resp, e.Message)
}

func limitOf(resp *http.Response, msg string) *StopError {
	if resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode != http.StatusForbidden {
		return nil
	}
	retry := resp.Header.Get("Retry-After")
	is := resp.StatusCode == http.StatusTooManyRequests || retry != "" ||
		resp.Header.Get("X-RateLimit-Remaining") == "0" || strings.Contains(strings.ToLower(msg), "rate limit")
	if !is {
		return nil
	}
	stop := &StopError{Status: resp.StatusCode, RetryAfter: DefaultRetryAfter, Message: msg}
	if s, err := strconv.Atoi(strings.TrimSpace(retry)); err == nil && s > 0 {
		stop.RetryAfter = time.Duration(s) * time.Second
	} else if reset, err := strconv.ParseInt(resp.Header.Get("X-RateLimit-Reset"), 10, 64); err == nil && resp.Header.Get("X-RateLimit-Remaining") == "0" {
		if d := time.Until(time.Unix(reset, 0)); d > stop.RetryAfter {
			stop.RetryAfter = d
		}
	}
	return stop
}
