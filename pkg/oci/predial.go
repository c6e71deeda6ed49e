package oci

import (
	"context"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// predialAge is how long a connection dialled ahead waits for its request: a step sends its first
// requests within milliseconds of authenticating, and a registry may drop an idle connection.
const predialAge = 2 * time.Second

// predialling is go-containerregistry's default transport dialling through a predial to the
// registry of ref, which is reached over plain HTTP first (plainFirstFor).
func predialling(ref name.Repository) (http.RoundTripper, *predial) {
	t := remote.DefaultTransport.(*http.Transport).Clone()
	host, port, err := net.SplitHostPort(ref.RegistryStr())
	if err != nil {
		host, port = ref.RegistryStr(), "80"
	}
	p := &predial{dial: t.DialContext, addr: net.JoinHostPort(host, port), maxAge: predialAge}
	t.DialContext = p.DialContext
	return t, p
}

// WarmConnections declares that once authenticated the step sends n requests together. On a
// registry reached over plain HTTP, n-1 connections are dialled beside the next one the
// Transport dials: called before the first request, beside the authenticating one (predial).
func (r *Repository) WarmConnections(n int) {
	if r.predial != nil && n > 1 {
		r.predial.arm(n - 1)
	}
}

// predial opens TCP connections to a plain-HTTP registry while the step authenticates, for the
// requests it then sends together (tag-validated's listing beside its candidate's read, build-rc's
// listing beside its two upload sessions).
//
// Over HTTPS Go speaks HTTP/2 to a registry that offers it (GHCR does): requests sent together
// share one connection. Over plain HTTP every request in flight needs a connection of its own,
// and each one past the first was dialled only when it was sent: the connection, the registry's
// accepting it and both sides' goroutines, in front of that request alone. On a loaded two-core
// runner this held such a request back 1–2 ms behind the one sharing the authenticated
// connection (docs/performance.md), which turned "together" into one after the other.
//
// A connection dialled ahead of need carries nothing yet: the registry only sees a connection
// opened (and, if no request takes it within maxAge, closed again). The Transport takes it as
// it would a connection it dialled itself, so a request on it is sent, timed and retried as any
// other.
type predial struct {
	dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// addr is the registry's host:port, as the Transport asks to dial it.
	addr string
	// maxAge is how long a dialled connection waits for a request before it is closed.
	maxAge time.Duration

	mu    sync.Mutex
	ready []*dialled
	// armed is how many connections to dial beside the next one the Transport dials itself.
	armed int
}

// dialled is a connection waiting for its first request.
type dialled struct {
	net.Conn
	// expire closes the connection when no request took it in time.
	expire *time.Timer
}

// DialContext hands out a connection dialled ahead when one to addr is waiting, and dials
// otherwise: the first time, with the armed connections beside it.
func (p *predial) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	if network == "tcp" && addr == p.addr {
		if c := p.take(); c != nil {
			return c, nil
		}
		p.mu.Lock()
		n := p.armed
		p.armed = 0
		p.mu.Unlock()
		p.warm(ctx, n)
	}
	return p.dial(ctx, network, addr)
}

// arm has n connections dialled beside the next one the Transport dials (the ping's), not
// instead of it.
func (p *predial) arm(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.armed = n
}

// take returns a waiting connection the registry has not closed, or nil.
func (p *predial) take() net.Conn {
	p.mu.Lock()
	defer p.mu.Unlock()
	for len(p.ready) > 0 {
		d := p.ready[0]
		p.ready = p.ready[1:]
		if !d.expire.Stop() {
			continue // expiring: closed by its timer
		}
		if open(d.Conn) {
			return d.Conn
		}
		d.Close()
	}
	return nil
}

// warm dials n connections in the background, each within maxAge and whatever becomes of the
// request whose dial started it. One that fails is not reported: the request that would have
// taken it dials for itself, and reports that.
func (p *predial) warm(ctx context.Context, n int) {
	for range n {
		go func() {
			ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), p.maxAge)
			defer cancel()
			c, err := p.dial(ctx, "tcp", p.addr)
			if err != nil {
				return
			}
			d := &dialled{Conn: c}
			p.mu.Lock()
			defer p.mu.Unlock()
			d.expire = time.AfterFunc(p.maxAge, func() {
				p.mu.Lock()
				defer p.mu.Unlock()
				for i, r := range p.ready {
					if r == d {
						p.ready = append(p.ready[:i], p.ready[i+1:]...)
						break
					}
				}
				c.Close()
			})
			p.ready = append(p.ready, d)
		}()
	}
}
