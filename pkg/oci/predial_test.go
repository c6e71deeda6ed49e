package oci_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ocipromote/ocipromote/pkg/oci"
	"github.com/ocipromote/ocipromote/pkg/oci/ocitest"
)

// connCounter serves h on loopback (plain HTTP, as a CI or kind registry is reached) and counts
// the connections clients open. With holdPing set, it answers the ping only once want
// connections are open (or after timeout, noted in waited).
type connCounter struct {
	*httptest.Server
	h        http.Handler
	opened   atomic.Int32
	want     int32
	holdPing bool
	timeout  time.Duration
	waited   atomic.Bool

	arrived chan struct{}
}

func newConnCounter(t *testing.T, h http.Handler, holdPing bool, want int32, readHeaderTimeout time.Duration) *connCounter {
	// The ping waits less than the 300 ms after which go-containerregistry pings a loopback
	// registry a second time (with plain HTTP, on a connection of its own).
	c := &connCounter{h: h, holdPing: holdPing, want: want, timeout: 250 * time.Millisecond, arrived: make(chan struct{}, 16)}
	c.Server = httptest.NewUnstartedServer(c)
	c.Config.ReadHeaderTimeout = readHeaderTimeout
	c.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			c.opened.Add(1)
			select {
			case c.arrived <- struct{}{}:
			default:
			}
		}
	}
	c.Start()
	t.Cleanup(c.Close)
	return c
}

func (c *connCounter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if c.holdPing && r.URL.Path == "/v2/" {
		deadline := time.After(c.timeout)
		for c.opened.Load() < c.want {
			select {
			case <-c.arrived:
			case <-deadline:
				c.waited.Store(true)
				c.h.ServeHTTP(w, r)
				return
			}
		}
		// The client has its end of the connection a moment after the registry has its own.
		time.Sleep(50 * time.Millisecond)
	}
	c.h.ServeHTTP(w, r)
}

// open opens a repository on c as a step does: go-containerregistry's transport, no other.
func (c *connCounter) open(t *testing.T, o oci.Options) *oci.Repository {
	t.Helper()
	reg, err := oci.Open(strings.TrimPrefix(c.URL, "http://")+"/acme/app", o)
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

// A step that sends two requests together after authenticating has its second connection
// dialled while it authenticates: here the registry answers the ping only once both connections
// are open. The two requests then need no third.
func TestWarmConnectionsDialWhileAuthenticating(t *testing.T) {
	t.Parallel()
	srv := newConnCounter(t, ocitest.New(t), true, 2, 0)
	reg := srv.open(t, oci.Options{})
	reg.WarmConnections(2)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make([]error, 2)
	wg.Go(func() { _, errs[0] = reg.Tags(ctx) })
	wg.Go(func() {
		if _, err := reg.Resolve(ctx, "integration-1234567"); err != nil && !strings.Contains(err.Error(), "not found") {
			errs[1] = err
		}
	})
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if srv.waited.Load() {
		t.Errorf("the ping waited %s for a second connection: none was dialled while authenticating", srv.timeout)
	}
	if n := srv.opened.Load(); n != 2 {
		t.Errorf("%d connections opened for two requests sent together; want 2", n)
	}
}

// A step that sends one request at a time dials one connection.
func TestNoWarmConnectionsForOneRequestAtATime(t *testing.T) {
	t.Parallel()
	srv := newConnCounter(t, ocitest.New(t), false, 0, 0)
	reg := srv.open(t, oci.Options{})
	if _, err := reg.Tags(context.Background()); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond) // a background dial would have arrived by now
	if n := srv.opened.Load(); n != 1 {
		t.Errorf("%d connections opened for one request; want 1", n)
	}
}

// A registry that closes a connection which carried no request (distribution's http.Server with
// a ReadHeaderTimeout does, as do proxies in front of registries) has closed the connection
// dialled ahead before the step uses it: the step dials anew, with no failed attempt.
func TestWarmConnectionClosedByTheRegistry(t *testing.T) {
	t.Parallel()
	srv := newConnCounter(t, ocitest.New(t), false, 0, 20*time.Millisecond)
	reg := srv.open(t, oci.Options{Retry: oci.RetryPolicy{Attempts: 1}})
	reg.WarmConnections(2)
	ctx := context.Background()
	if _, err := reg.Tags(ctx); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range errs {
		wg.Go(func() { _, errs[i] = reg.Tags(ctx) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Errorf("a request after the registry closed the connection dialled ahead: %v", err)
		}
	}
}
