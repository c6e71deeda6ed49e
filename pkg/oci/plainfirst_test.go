package oci_test

import (
	"context"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/registry"

	"github.com/ocipromote/ocipromote/pkg/oci"
	"github.com/ocipromote/ocipromote/pkg/oci/ocitest"
)

// schemeRecorder remembers the scheme of every request it sends.
type schemeRecorder struct {
	next    http.RoundTripper
	mu      sync.Mutex
	schemes []string
}

func (s *schemeRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	s.mu.Lock()
	s.schemes = append(s.schemes, r.URL.Scheme)
	s.mu.Unlock()
	return s.next.RoundTrip(r)
}

func (s *schemeRecorder) count(scheme string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, got := range s.schemes {
		if got == scheme {
			n++
		}
	}
	return n
}

// A plain-HTTP registry on loopback is asked with plain HTTP from the ping on: no TLS handshake
// that can only fail, and no request more than before. A TLS registry on loopback (behind
// kubectl port-forward, say) still works: its refusal of plain HTTP sends the ping over HTTPS.
func TestLoopbackPingTriesPlainHTTPFirst(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t.Run("plain HTTP registry", func(t *testing.T) {
		t.Parallel()
		for _, o := range []ocitest.Option{nil, ocitest.TokenAuth("ci", "secret", "pull", "push")} {
			var opts []ocitest.Option
			creds := oci.Options{}
			if o != nil {
				opts, creds = append(opts, o), oci.Options{Username: "ci", Password: "secret"}
			}
			srv := ocitest.New(t, opts...)
			rec := &schemeRecorder{next: http.DefaultTransport}
			creds.Transport = rec
			before := len(srv.Requests())
			if _, err := openFresh(t, srv, creds).Tags(ctx); err != nil {
				t.Fatal(err)
			}
			if n := rec.count("https"); n != 0 {
				t.Errorf("%d HTTPS requests to a plain-HTTP registry on loopback (%q), want none", n, rec.schemes)
			}
			got := kinds(srv, before)
			want := []string{"ping", "list"}
			if o != nil {
				want = []string{"ping", "token", "list"}
			}
			if !inSteps(got, [][]string{want}) || got[0] != "ping" {
				t.Errorf("requests = %q, want %q", got, want)
			}
		}
	})
	t.Run("TLS registry", func(t *testing.T) {
		t.Parallel()
		quiet := log.New(io.Discard, "", 0)
		srv := httptest.NewUnstartedServer(registry.New(registry.Logger(quiet)))
		srv.Config.ErrorLog = quiet // the plain attempt's "client sent an HTTP request to an HTTPS server"
		srv.StartTLS()
		t.Cleanup(srv.Close)
		rec := &schemeRecorder{next: srv.Client().Transport}
		reg, err := oci.Open(srv.Listener.Addr().String()+"/acme/app", oci.Options{Transport: rec, Retry: oci.RetryPolicy{Attempts: 1}})
		if err != nil {
			t.Fatal(err)
		}
		if tags, err := reg.Tags(ctx); err != nil || len(tags) != 0 {
			t.Fatalf("Tags() = %q, %v; want an empty repository over HTTPS", tags, err)
		}
		if rec.count("http") != 1 || rec.count("https") < 2 {
			t.Errorf("schemes %q: want one plain HTTP attempt, then HTTPS for the ping and the listing", rec.schemes)
		}
	})
}
