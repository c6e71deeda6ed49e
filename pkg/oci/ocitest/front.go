package ocitest

import (
	"net/http"
	"time"
)

// Latency answers every request d late, as a registry across a network does (a hosted runner
// talking to GHCR waits a round trip for each request).
func Latency(d time.Duration) Option { return func(s *Server) { s.latency = d } }

// Backend serves from h instead of the in-memory registry: a real registry behind a reverse
// proxy gets the same counting, paging, fault injection and tag-assignment record.
// The real registry keeps its upload sessions itself.
func Backend(h http.Handler) Option {
	return func(s *Server) { s.inner, s.uploads.open = h, nil }
}
