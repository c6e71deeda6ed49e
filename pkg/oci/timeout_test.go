package oci_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/random"

	"github.com/ocipromote/ocipromote/pkg/oci"
	"github.com/ocipromote/ocipromote/pkg/oci/ocitest"
)

// logLines collects what a Repository logs.
type logLines struct {
	mu    sync.Mutex
	lines []string
}

func (l *logLines) logf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
}

func (l *logLines) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.lines...)
}

// A registry (or a proxy before it) that accepts a request and never answers, or stops in the
// middle of an answer, costs each attempt the request timeout, and the operation ends with an
// error naming the registry, the request and the timeout after the bounded retries, each logged.
func TestStalledRequestEndsWithItsTimeout(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		stall ocitest.Option
		do    func(ctx context.Context, r *oci.Repository, m *oci.Manifest) error
		path  string
	}{
		{"listing never answered", ocitest.Stall(http.MethodGet, `/tags/list$`),
			func(ctx context.Context, r *oci.Repository, _ *oci.Manifest) error {
				_, err := r.Tags(ctx)
				return err
			}, "/tags/list"},
		{"listing stops mid-body", ocitest.StallBody(http.MethodGet, `/tags/list$`),
			func(ctx context.Context, r *oci.Repository, _ *oci.Manifest) error {
				_, err := r.Tags(ctx)
				return err
			}, "/tags/list"},
		{"manifest PUT never answered", ocitest.Stall(http.MethodPut, `/manifests/`),
			func(ctx context.Context, r *oci.Repository, m *oci.Manifest) error {
				_, err := r.Tag(ctx, "sha-abc1234", m, oci.Write{KnownAbsent: true})
				return err
			}, "/manifests/sha-abc1234"},
		{"HEAD never answered", ocitest.Stall(http.MethodHead, `/manifests/`),
			func(ctx context.Context, r *oci.Repository, _ *oci.Manifest) error {
				_, err := r.Resolve(ctx, "0.0.1-rc.1")
				return err
			}, "/manifests/0.0.1-rc.1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			plain := ocitest.New(t)
			m := pushRandom(t, plain, "acme/app", "0.0.1-rc.1")
			srv := ocitest.New(t, ocitest.Backend(plain), tc.stall)
			var log logLines
			r, err := oci.Open(srv.Host+"/acme/app", oci.Options{
				RequestTimeout: 100 * time.Millisecond, Logf: log.logf,
				Retry: oci.RetryPolicy{Attempts: 3, Base: 10 * time.Millisecond, Max: 20 * time.Millisecond},
			})
			if err != nil {
				t.Fatal(err)
			}
			err = tc.do(context.Background(), r, m)
			var te *oci.TimeoutError
			if !errors.As(err, &te) || !te.Request {
				t.Fatalf("error %v, want a request *oci.TimeoutError", err)
			}
			for _, want := range []string{srv.Host, tc.path, "100ms", "request_timeout"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not name %q", err, want)
				}
			}
			if got, want := srv.Stalled(), 3; got != want {
				t.Errorf("%d requests stalled, want %d (three attempts)", got, want)
			}
			lines := log.all()
			if len(lines) != 2 {
				t.Fatalf("logged %d lines, want one per retry (2): %q", len(lines), lines)
			}
			for i, l := range lines {
				for _, want := range []string{srv.Host, tc.path, "no answer within 100ms", fmt.Sprintf("attempt %d of 3", i+1), "next in"} {
					if !strings.Contains(l, want) {
						t.Errorf("log line %q lacks %q", l, want)
					}
				}
			}
		})
	}
}

// The step's timeout ends a request that would otherwise wait out its own, longer timeout, and no
// retry starts after it.
func TestStepTimeoutEndsEveryRequest(t *testing.T) {
	t.Parallel()
	srv := ocitest.New(t, ocitest.Stall(http.MethodGet, `/tags/list$`))
	r, err := oci.Open(srv.Host+"/acme/app", oci.Options{RequestTimeout: time.Minute, Timeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = r.Tags(context.Background())
	var te *oci.TimeoutError
	if !errors.As(err, &te) || te.Request {
		t.Fatalf("error %v, want the step's *oci.TimeoutError", err)
	}
	for _, want := range []string{srv.Host, "/tags/list", "timeout of 300ms", "(input timeout)"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
	if elapsed := time.Since(start); elapsed > 30*time.Second {
		t.Errorf("listing took %s, beyond the step's timeout", elapsed)
	}
	if srv.Stalled() != 1 {
		t.Errorf("%d requests stalled, want 1: no retry after the deadline", srv.Stalled())
	}
}

// pushRandom writes a random image under tag in srv and returns its manifest.
func pushRandom(t *testing.T, srv *ocitest.Server, repo, tag string) *oci.Manifest {
	t.Helper()
	img, err := random.Image(64, 1)
	if err != nil {
		t.Fatal(err)
	}
	r, err := oci.Open(srv.Host+"/"+repo, oci.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m, err := r.Push(context.Background(), img, tag)
	if err != nil {
		t.Fatal(err)
	}
	return m
}
