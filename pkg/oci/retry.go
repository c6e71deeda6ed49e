package oci

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"
)

// RetryPolicy bounds how a request is retried on 429, 5xx and dropped connections.
type RetryPolicy struct {
	// Attempts is the total number of tries of one request (1 means no retry).
	Attempts int
	// Base is the first backoff; each retry doubles it, with jitter, up to Max.
	Base time.Duration
	Max  time.Duration
	// MaxRetryAfter caps how long a registry's Retry-After may make us wait.
	MaxRetryAfter time.Duration
	// Sleep waits; tests replace it to run without real time.
	Sleep func(context.Context, time.Duration) error
}

// DefaultRetry is what the binaries use: five tries over about fifteen seconds, longer when a
// registry asks for it with Retry-After (GHCR does on 429), but never more than a minute at once.
var DefaultRetry = RetryPolicy{Attempts: 5, Base: 500 * time.Millisecond, Max: 8 * time.Second, MaxRetryAfter: time.Minute}

// retryTransport retries idempotent registry requests and bounds each in time. Request bodies are
// buffered so that a retry sends the same bytes; PATCH (a blob chunk) is never retried here
// because a registry may have kept part of it: the caller retries the whole upload instead.
//
// Every attempt has bounds.request to answer, body included (a registry or proxy may accept a
// request and never answer, or stop in the middle of a body); no attempt and no wait runs past
// bounds.deadline, the step's. An attempt that timed out is retried like a dropped connection;
// each retry is logged with what failed and when the next attempt comes.
type retryTransport struct {
	next    http.RoundTripper
	policy  RetryPolicy
	retries *atomic.Int64
	bounds  bounds
	logf    func(format string, args ...any)
	// answersOnly retries what the registry answered (429, 5xx) but not a failed connection:
	// plainFirst's plain-HTTP attempt, whose failure means asking with HTTPS instead.
	answersOnly bool
}

const maxBufferedBody = 512 << 20

func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	attempts := t.policy.Attempts
	if req.Method == http.MethodPatch || attempts < 1 {
		attempts = 1
	}
	var body []byte
	// A body that can be had again (bytes the caller holds) is not copied; any other is
	// buffered, so that a retry sends the same bytes.
	replay := req.GetBody
	if attempts > 1 && req.Body != nil && req.Body != http.NoBody && replay == nil {
		b, err := io.ReadAll(io.LimitReader(req.Body, maxBufferedBody+1))
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		if len(b) > maxBufferedBody {
			return nil, errors.New("request body too large to retry safely")
		}
		body = b
	}
	for attempt := 1; ; attempt++ {
		r := req
		switch {
		case body != nil:
			r = req.Clone(req.Context())
			r.Body = io.NopCloser(bytes.NewReader(body))
			r.ContentLength = int64(len(body))
		case replay != nil && attempt > 1:
			b, err := replay()
			if err != nil {
				return nil, err
			}
			r = req.Clone(req.Context())
			r.Body = b
		}
		resp, err := t.bounds.roundTrip(t.next, r)
		wait, retry := t.shouldRetry(attempt, attempts, resp, err)
		if retry {
			retry = t.bounds.waitFits(wait)
		}
		if !retry {
			if err != nil {
				if cause := context.Cause(req.Context()); cause != nil {
					// The caller's context ended (the step's deadline, an interrupt): say so rather
					// than the bare "context canceled" of the request.
					return nil, cause
				}
			}
			return resp, err
		}
		what := failure(resp, err)
		if resp != nil {
			io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
		}
		t.retries.Add(1)
		if t.logf != nil {
			t.logf("registry %s: %s %s %s; attempt %d of %d failed, next in %s", req.URL.Host, req.Method, req.URL.Redacted(), what, attempt, attempts, wait.Round(time.Millisecond))
		}
		if serr := t.policy.sleep(req.Context(), wait); serr != nil {
			if cause := context.Cause(req.Context()); cause != nil {
				return nil, cause
			}
			if err == nil {
				err = serr
			}
			return nil, err
		}
	}
}

// failure says in a few words what went wrong with one attempt.
func failure(resp *http.Response, err error) string {
	if err != nil {
		var te *TimeoutError
		if errors.As(err, &te) {
			return fmt.Sprintf("got no answer within %s", te.Timeout)
		}
		return "failed: " + err.Error()
	}
	return "answered " + resp.Status
}

// sleep waits d, or less when ctx ends (with its error).
func (p RetryPolicy) sleep(ctx context.Context, d time.Duration) error {
	if p.Sleep != nil {
		return p.Sleep(ctx, d)
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}

func (t *retryTransport) shouldRetry(attempt, attempts int, resp *http.Response, err error) (time.Duration, bool) {
	if attempt >= attempts {
		return 0, false
	}
	backoff := t.policy.Base << (attempt - 1)
	if backoff > t.policy.Max || backoff <= 0 {
		backoff = t.policy.Max
	}
	backoff = backoff/2 + time.Duration(rand.Int64N(int64(backoff/2)+1))
	if err != nil {
		return backoff, transient(err) && !t.answersOnly
	}
	switch resp.StatusCode {
	case http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		if d, ok := retryAfter(resp.Header.Get("Retry-After")); ok {
			if d > t.policy.MaxRetryAfter {
				d = t.policy.MaxRetryAfter
			}
			return d, true
		}
		return backoff, true
	}
	return 0, false
}

// transient reports connection failures worth another try; a cancelled context is not one.
func transient(err error) bool {
	var te *TimeoutError
	if errors.As(err, &te) {
		return te.Request // a request that was not answered in time; a missed deadline is final
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var ne net.Error
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		(errors.As(err, &ne) && ne.Timeout())
}

func retryAfter(v string) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		d := time.Until(t)
		if d < 0 {
			d = 0
		}
		return d, true
	}
	return 0, false
}
