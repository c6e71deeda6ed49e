// Package ocitest runs registries for tests: go-containerregistry's in-memory registry (or any
// other, with Backend) behind a front that behaves like the registries ocipromote meets in
// production. It pages tag lists with Link headers and caps pages as GHCR does (the in-memory
// registry alone answers every tag in one page, which would hide a client that reads only the
// first page); it answers NAME_UNKNOWN for a repository never pushed to; it injects the faults
// production registries show (429 with Retry-After, 502, 503, a dropped connection, an answer
// lost after the write was applied) and, with a Freezer, stops answering after the k-th request
// as a runner killed mid-step would; and it records every tag assignment in order, so a test can
// prove that no tag ever pointed at two digests.
package ocitest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
)

// Assignment is one tag written to point at a digest.
type Assignment struct {
	Repository, Tag, Digest string
}

// Server is a test registry.
type Server struct {
	*httptest.Server
	// Host is host:port, for references such as Host+"/acme/app".
	Host string

	inner      http.Handler
	pageSize   int
	retryAfter int
	fault      func(n int, r *http.Request) Fault
	auth       *tokenAuth
	latency    time.Duration
	// fronts wrap what serve answers with the misbehaviours of fronts.go, outermost first; front
	// is serve behind them. lag delays tag listings (ListingLag, ReplicaLag). release is closed
	// when the test ends, so that stalled requests return and the server can close.
	fronts []func(http.Handler) http.Handler
	front  http.Handler
	lag    *lag
	// listing is how tags/list departs from the distribution spec's paging (IgnoreLast,
	// PushOrderListing); 0 for none.
	listing listingQuirk
	release chan struct{}
	// uploads keeps upload sessions as distribution does, when inner is the in-memory registry
	// (nil behind Backend, where the real registry keeps them).
	uploads *uploads
	stalled atomic.Int64
	dropped atomic.Int64

	mu          sync.Mutex
	assignments []Assignment
	requests    []string
}

// Option configures New.
type Option func(*Server)

// DiskBlobs keeps blobs in files under dir, as a distribution registry does, instead of in
// memory: a test that measures the client's memory then measures the client's alone, and the
// registry still checks every upload against its digest.
func DiskBlobs(dir string) Option {
	return func(s *Server) {
		s.inner = registry.New(registry.Logger(log.New(io.Discard, "", 0)), registry.WithBlobHandler(registry.NewDiskBlobHandler(dir)))
	}
}

// MaxPage caps tag-list pages at n entries (GHCR serves at most 100); 0 disables paging.
func MaxPage(n int) Option { return func(s *Server) { s.pageSize = n } }

// Fault is what the registry does instead of answering a request.
type Fault int

// The faults a registry in production shows.
const (
	None Fault = iota
	// TooManyRequests answers 429 with Retry-After: 1, as GHCR does when rate-limiting.
	TooManyRequests
	BadGateway
	Unavailable
	// Drop closes the connection without an answer.
	Drop
	// LoseAnswer carries the request out (a write is applied) and then closes the connection
	// without answering: the client cannot know whether its write happened.
	LoseAnswer
)

// RetryAfter sets the seconds the 429 answers of TooManyRequests ask the client to wait
// (default 1).
func RetryAfter(seconds int) Option { return func(s *Server) { s.retryAfter = seconds } }

// Freezer stands for a runner killed mid-step: once frozen after request k, every later request
// is dropped unanswered (nothing reaches the registry), until Thaw. Use its Fault with Faults.
type Freezer struct{ after atomic.Int64 }

// FreezeAfter drops every request after the k-th (counting over the server's life).
func (f *Freezer) FreezeAfter(k int) { f.after.Store(int64(k)) }

// Thaw answers requests again.
func (f *Freezer) Thaw() { f.after.Store(0) }

// Fault is the Freezer's fault function.
func (f *Freezer) Fault(n int, _ *http.Request) Fault {
	if a := f.after.Load(); a > 0 && int64(n) > a {
		return Drop
	}
	return None
}

// Faults injects fault(n, r) for the n-th request (counting from 1).
func Faults(fault func(n int, r *http.Request) Fault) Option {
	return func(s *Server) { s.fault = fault }
}

// New starts a registry with pages capped at 100 tags; it stops when the test ends.
func New(t interface{ Cleanup(func()) }, opts ...Option) *Server {
	s := &Server{inner: registry.New(registry.Logger(log.New(io.Discard, "", 0))), pageSize: 100, retryAfter: 1, release: make(chan struct{}),
		uploads: &uploads{open: map[string]time.Time{}}}
	for _, o := range opts {
		o(s)
	}
	s.front = http.HandlerFunc(s.serve)
	for i := len(s.fronts) - 1; i >= 0; i-- {
		s.front = s.fronts[i](s.front)
	}
	s.Server = httptest.NewServer(s)
	s.Host = strings.TrimPrefix(s.Server.URL, "http://")
	t.Cleanup(func() {
		s.ReleaseStalls()
		s.Close()
	})
	return s
}

// ServeHTTP records the request and pages tag lists; everything else is the in-memory registry.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests = append(s.requests, r.Method+" "+r.URL.Path)
	n := len(s.requests)
	s.mu.Unlock()
	if s.latency > 0 {
		select {
		case <-time.After(s.latency):
		case <-r.Context().Done():
			return
		}
	}
	if s.fault != nil {
		switch s.fault(n, r) {
		case TooManyRequests:
			w.Header().Set("Retry-After", strconv.Itoa(s.retryAfter))
			http.Error(w, `{"errors":[{"code":"TOOMANYREQUESTS","message":"rate limited"}]}`, http.StatusTooManyRequests)
			return
		case BadGateway:
			http.Error(w, "bad gateway", http.StatusBadGateway)
			return
		case Unavailable:
			http.Error(w, "unavailable", http.StatusServiceUnavailable)
			return
		case Drop:
			drop(w)
			return
		case LoseAnswer:
			s.front.ServeHTTP(httptest.NewRecorder(), r)
			drop(w)
			return
		}
	}
	s.front.ServeHTTP(w, r)
}

// drop closes the connection without an answer.
func drop(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			conn.Close()
			return
		}
	}
	http.Error(w, "dropped", http.StatusServiceUnavailable)
}

// serve answers a request that no fault stopped.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if s.auth != nil && !s.auth.allow(w, r, s.URL) {
		return
	}
	switch {
	case r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/tags/list") && (s.pageSize > 0 || s.lag != nil || s.listing != 0):
		s.listTags(w, r)
	case r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/manifests/"):
		s.putManifest(w, r)
	case s.uploads.open != nil && isUpload(r):
		s.uploads.serve(w, r, s.inner)
	default:
		s.inner.ServeHTTP(w, r)
	}
}

// Assignments returns every tag assignment so far, in order.
func (s *Server) Assignments() []Assignment {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Assignment(nil), s.assignments...)
}

// Requests returns "METHOD /path" for every request so far, in order.
func (s *Server) Requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.requests...)
}

// Writes returns the requests that change what the registry holds: anything but GET and HEAD,
// and but opening an upload session (POST) and cancelling one (DELETE), which hold no content.
// OpenUploads tells whether sessions were left open.
func (s *Server) Writes() []string {
	var w []string
	for _, r := range s.Requests() {
		method, path, _ := strings.Cut(r, " ")
		session := strings.Contains(path, "/blobs/uploads/") && (method == http.MethodPost || method == http.MethodDelete)
		if method != http.MethodGet && method != http.MethodHead && !session {
			w = append(w, r)
		}
	}
	return w
}

// OpenUploads is how many upload sessions are open: opened and neither committed nor cancelled
// (always 0 behind Backend, whose registry keeps its own).
func (s *Server) OpenUploads() int {
	s.uploads.mu.Lock()
	defer s.uploads.mu.Unlock()
	return len(s.uploads.open)
}

// Moved lists the tags that were ever assigned two different digests in one repository.
func (s *Server) Moved() []string {
	first := map[[2]string]string{}
	var moved []string
	for _, a := range s.Assignments() {
		k := [2]string{a.Repository, a.Tag}
		if d, ok := first[k]; ok && d != a.Digest {
			moved = append(moved, a.Repository+":"+a.Tag)
			continue
		}
		first[k] = a.Digest
	}
	return moved
}

func (s *Server) putManifest(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	repo, reference, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/v2/"), "/manifests/")
	rec := httptest.NewRecorder()
	r.Body = io.NopCloser(bytes.NewReader(body))
	s.inner.ServeHTTP(rec, r)
	if rec.Code == http.StatusCreated && !strings.HasPrefix(reference, "sha256:") {
		sum := sha256.Sum256(body)
		s.mu.Lock()
		s.assignments = append(s.assignments, Assignment{Repository: repo, Tag: reference, Digest: "sha256:" + hex.EncodeToString(sum[:])})
		s.mu.Unlock()
		if s.lag != nil {
			s.lag.wrote(repo, reference)
		}
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	w.Write(rec.Body.Bytes())
}

// listTags implements the distribution spec's n/last paging with a Link header to the next page.
func (s *Server) listTags(w http.ResponseWriter, r *http.Request) {
	full := r.Clone(r.Context())
	full.URL = &url.URL{Path: r.URL.Path}
	full.RequestURI = ""
	rec := httptest.NewRecorder()
	s.inner.ServeHTTP(rec, full)
	if rec.Code != http.StatusOK {
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		w.Write(rec.Body.Bytes())
		return
	}
	var list struct {
		Name string   `json:"name"`
		Tags []string `json:"tags"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &list); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	sort.Strings(list.Tags)
	repo, _ := repositoryOf(r.URL.Path)
	if s.lag != nil {
		list.Tags = s.lag.listed(repo, list.Tags)
	}
	if s.listing == pushOrder {
		s.byPush(repo, list.Tags)
	}
	n := s.pageSize
	if n <= 0 {
		n = max(len(list.Tags), 1)
	}
	if q, err := strconv.Atoi(r.URL.Query().Get("n")); err == nil && q > 0 && q < n {
		n = q
	}
	start := 0
	cursor, _ := strconv.Atoi(r.URL.Query().Get("next_page"))
	if s.listing == ignoreLast && cursor > 1 {
		start = min((cursor-1)*n, len(list.Tags))
	}
	if last := r.URL.Query().Get("last"); last != "" {
		switch s.listing {
		case ignoreLast:
		case pushOrder:
			// The tag after last in push order; a last that is no tag answers from the first.
			start = slices.Index(list.Tags, last) + 1
		default:
			start = sort.SearchStrings(list.Tags, last)
			if start < len(list.Tags) && list.Tags[start] == last {
				start++
			}
		}
	}
	end := min(start+n, len(list.Tags))
	page := list.Tags[start:end]
	if end < len(list.Tags) {
		next := url.Values{"n": {strconv.Itoa(n)}, "last": {page[len(page)-1]}}
		if s.listing == ignoreLast {
			next = url.Values{"n": {strconv.Itoa(n)}, "next_page": {strconv.Itoa(max(cursor, 1) + 1)}}
		}
		w.Header().Set("Link", fmt.Sprintf(`<%s?%s>; rel="next"`, r.URL.Path, next.Encode()))
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(struct {
		Name string   `json:"name"`
		Tags []string `json:"tags"`
	}{list.Name, page})
}
