package oci

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"time"
)

// DefaultRequestTimeout bounds one request when Options.RequestTimeout is 0: the whole exchange,
// from sending to the last byte of the answer (a request with a body of n bytes gets n / 1 MiB
// seconds more, see uploadFloor). GHCR answers a manifest PUT or a page of a thousand
// tags in well under two seconds; an artifact of manifests (a few megabytes at most) uploads in a
// few seconds on a hosted runner. Thirty seconds is ten times what a healthy registry needs and
// short enough that a stalled one costs minutes, not the six hours of a GitHub job.
const DefaultRequestTimeout = 30 * time.Second

// TimeoutError: the registry did not answer a request in time. Request tells which bound passed:
// the request timeout (the request is retried like a dropped connection) or the step's deadline
// (final). The request itself (method and URL) is named by the *url.Error around it.
type TimeoutError struct {
	Timeout time.Duration
	Request bool
}

func (e *TimeoutError) Error() string {
	if e.Request {
		return fmt.Sprintf("the registry accepted the request and did not answer within the request timeout of %s (input request_timeout): check the registry (or the proxy before it) and run the step again; raise request_timeout only if it is slow, not stalled", e.Timeout)
	}
	return fmt.Sprintf("the step's timeout of %s (input timeout) ran out while waiting for the registry: check the registry (or the proxy before it) and run the step again; every step is safe to re-run", e.Timeout)
}

// bounds are the time limits of every request of a Repository.
type bounds struct {
	// request bounds one attempt; deadline (zero: none) ends every attempt and wait, and step is
	// the duration it was set from, for messages.
	request  time.Duration
	deadline time.Time
	step     time.Duration
}

// roundTrip sends one attempt of r within the bounds. An attempt that runs out of time returns
// a *TimeoutError, also when that happens while the body is read.
func (b bounds) roundTrip(next http.RoundTripper, r *http.Request) (*http.Response, error) {
	parent := r.Context()
	ctx, cancel := context.WithCancel(parent)
	request := b.request
	if request > 0 && r.ContentLength > 0 {
		// Sending a large blob takes time the request timeout, sized for answers, does not hold.
		request += time.Duration(r.ContentLength/uploadFloor) * time.Second
	}
	if request > 0 {
		cancel()
		ctx, cancel = context.WithTimeoutCause(parent, request, &TimeoutError{Timeout: request, Request: true})
	}
	if !b.deadline.IsZero() && (request <= 0 || b.deadline.Before(time.Now().Add(request))) {
		cancel()
		ctx, cancel = context.WithDeadlineCause(parent, b.deadline, &TimeoutError{Timeout: b.step})
	}
	resp, err := next.RoundTrip(r.WithContext(ctx))
	if err != nil {
		defer cancel()
		if ctx.Err() != nil && parent.Err() == nil {
			return nil, context.Cause(ctx)
		}
		return nil, err
	}
	body := &timedBody{ReadCloser: resp.Body, ctx: ctx, parent: parent, cancel: cancel}
	resp.Body = body
	if r.Method != http.MethodGet {
		return resp, nil
	}
	// A GET's answer (a page of tags, a manifest) counts once it has arrived whole, so that an
	// answer stopping midway is an attempt that failed, retried like one that never came.
	defer body.Close()
	raw, err := io.ReadAll(io.LimitReader(body, maxBufferedGet))
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(raw))
	return resp, nil
}

// uploadFloor is the slowest upload, in bytes a second, that an attempt waits for on top of the
// request timeout: a 1 GiB layer gets about 17 minutes more, still within the step's timeout.
const uploadFloor = 1 << 20

// maxBufferedGet bounds the answer read whole within an attempt: more than a manifest may be.
const maxBufferedGet = manifestLimit + 1

// waitFits tells whether a wait before another attempt ends before the deadline.
func (b bounds) waitFits(wait time.Duration) bool {
	return b.deadline.IsZero() || time.Now().Add(wait).Before(b.deadline)
}

// timedBody is an answer's body read within its attempt's bounds; closing it releases them.
type timedBody struct {
	io.ReadCloser
	ctx, parent context.Context
	cancel      context.CancelFunc
}

func (t *timedBody) Read(p []byte) (int, error) {
	n, err := t.ReadCloser.Read(p)
	if err != nil && err != io.EOF && t.ctx.Err() != nil && t.parent.Err() == nil {
		err = context.Cause(t.ctx)
	}
	return n, err
}

func (t *timedBody) Close() error {
	defer t.cancel()
	return t.ReadCloser.Close()
}
