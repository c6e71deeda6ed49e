package oci

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync/atomic"

	"github.com/google/go-containerregistry/pkg/name"
)

// plainFirst asks a registry on a loopback host (or one the caller declared plain HTTP with
// Options.Insecure) with plain HTTP before HTTPS when go-containerregistry pings it.
//
// go-containerregistry pings such a registry with HTTPS first and with HTTP once that fails:
// against the plain-HTTP registry every local setup runs (localhost:5000 in CI, kind), each step
// paid a TLS handshake that could only fail, on a connection of its own (about 0.7 ms on
// loopback, more in a fresh process). Here the ping's HTTPS request is first sent over plain
// HTTP. A registry speaking plain HTTP answers it, and its answer is the ping's:
// go-containerregistry reads the scheme from the request that got the answer (as after a
// redirect) and talks HTTP from then on, or reports the failure. A TLS server answers plain HTTP
// with 400 (Go's and nginx's "plain HTTP request sent to an HTTPS port") or drops the
// connection; then the HTTPS request goes out as before, so a TLS registry on loopback (behind
// kubectl port-forward, say) works as it did. The plain request carries no credentials (a ping
// never does), and it is only tried where go-containerregistry falls back to HTTP anyway; a
// private-network address (its RFC 1918 rule) keeps HTTPS first, since its traffic leaves the
// machine.
type plainFirst struct {
	// next sends everything, with retries; probe sends the plain attempt within the same time
	// bounds, retrying what a busy registry answers (429, 5xx, honouring Retry-After) but not a
	// dropped connection, so that a TLS registry that drops it is asked with HTTPS at once.
	next, probe http.RoundTripper
	host        string
	// failed is set when the registry answered the plain attempt with a failure, retries spent:
	// go-containerregistry then tries plain HTTP itself, which would only ask and wait again.
	failed atomic.Bool
}

func (p *plainFirst) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method != http.MethodGet || req.URL.Host != p.host || req.URL.Path != "/v2/" || req.URL.RawQuery != "" {
		return p.next.RoundTrip(req)
	}
	if req.URL.Scheme != "https" {
		if p.failed.Load() {
			return nil, fmt.Errorf("GET %s: not asked again: the registry answered it with plain HTTP already", req.URL.Redacted())
		}
		return p.next.RoundTrip(req)
	}
	p.failed.Store(false)
	plain := req.Clone(req.Context())
	plain.URL.Scheme = "http"
	resp, err := p.probe.RoundTrip(plain)
	if err == nil {
		if resp.StatusCode != http.StatusBadRequest {
			p.failed.Store(resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusUnauthorized)
			if resp.Request == nil {
				resp.Request = plain
			}
			return resp, nil
		}
		drain(resp)
	}
	if cause := context.Cause(req.Context()); cause != nil {
		// The step ended while the plain attempt ran: there is no time for another.
		if err == nil {
			err = cause
		}
		return nil, err
	}
	return p.next.RoundTrip(req)
}

// plainFirstFor tells whether a repository's pings should try plain HTTP first: declared insecure
// by the caller, or on a loopback host.
func plainFirstFor(ref name.Repository, insecure bool) bool {
	if ref.Scheme() != "http" {
		return false
	}
	if insecure {
		return true
	}
	host := ref.RegistryStr()
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
