package ocitest

// Fronts as bad as the registries ocipromote meets: listings that lag behind writes, slow writes,
// requests that are never answered, writes acknowledged and not stored, 405 on HEAD, a wrong
// Docker-Content-Digest and a listing whose pages never end. Each is an Option, so it sits in
// front of the in-memory registry or, with Backend, of a real distribution registry.

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// lag is a tag listing served from replicas that learn of writes late: a tag written at t is
// listed by replica i from t+delay[i] on. Reads by tag (HEAD, GET) are never delayed.
type lag struct {
	replicas int
	delay    func(rnd *rand.Rand) time.Duration

	mu  sync.Mutex
	rnd *rand.Rand
	// seen maps repository and tag to when each replica lists the tag.
	seen map[[2]string][]time.Time
}

// ListingLag makes a written tag appear in tags/list only d after its write, for every reader
// alike, while HEAD and GET by tag see it at once. GHCR, ECR and Harbor answer tag listings from
// caches and database indexes filled after the write: a tag GHCR just accepted may not resolve
// or list yet (a read-after-push lag reported in p2pool-starter-stack/pithead#429, "GHCR usually
// resolves within seconds"); Harbor's list-tags API missed a just-pushed tag during replication
// (goharbor/harbor#14245); ACR's cache answers the old state for up to five minutes
// (Azure/acr#860); Docker Hub's tag pages lagged pushes by minutes (docker/hub-feedback#422).
// One shared delay keeps the order of writes: a listing shows a prefix of them.
func ListingLag(d time.Duration) Option {
	return func(s *Server) { s.lag = newLag(1, func(*rand.Rand) time.Duration { return d }, 0) }
}

// ReplicaLag serves each tags/list request (each page) from one of replicas replicas chosen at
// random, and each replica learns of each tag write after its own random delay between 0 and max,
// drawn per write: two listings in a row may disagree, and a listing may show a later write
// without an earlier one. This is a registry behind a load balancer over asynchronously
// replicated read replicas (Harbor's replicated instances in goharbor/harbor#21623, `az acr
// repository show-tags` listing the newest tag on some calls and not on others in
// Azure/azure-cli#28260, ACR geo-replicas eventually consistent with no bound in Azure/acr#880); ReplicaLag(1, max, seed) is one cache whose lag varies per write
// from 0 to max. seed makes a run repeatable.
func ReplicaLag(replicas int, max time.Duration, seed uint64) Option {
	if replicas < 1 {
		replicas = 1
	}
	return func(s *Server) {
		s.lag = newLag(replicas, func(rnd *rand.Rand) time.Duration { return time.Duration(rnd.Int64N(int64(max) + 1)) }, seed)
	}
}

func newLag(replicas int, delay func(*rand.Rand) time.Duration, seed uint64) *lag {
	return &lag{replicas: replicas, delay: delay, rnd: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), seen: map[[2]string][]time.Time{}}
}

// wrote records the first write of a tag; a later write of the same tag does not change whether
// it is listed.
func (l *lag) wrote(repo, tag string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	k := [2]string{repo, tag}
	if _, ok := l.seen[k]; ok {
		return
	}
	now := time.Now()
	at := make([]time.Time, l.replicas)
	for i := range at {
		at[i] = now.Add(l.delay(l.rnd))
	}
	l.seen[k] = at
}

// listed is what one replica, picked at random, lists of tags (sorted, as stored now). Tags the
// front never saw written (there before the test, or written around it) are listed.
func (l *lag) listed(repo string, tags []string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	replica := l.rnd.IntN(l.replicas)
	now := time.Now()
	out := tags[:0:0]
	for _, t := range tags {
		if at, ok := l.seen[[2]string{repo, t}]; ok && now.Before(at[replica]) {
			continue
		}
		out = append(out, t)
	}
	return out
}

// front adds a misbehaviour around what the server answers.
func front(f func(w http.ResponseWriter, r *http.Request, next http.Handler)) Option {
	return func(s *Server) {
		s.fronts = append(s.fronts, func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { f(w, r, next) })
		})
	}
}

// PutLatency holds every PUT (manifest and blob) a random time between 0 and max before the
// registry carries it out, so that concurrent writers interleave as they do over a network: the
// issue's hold race was reproduced with 0–400 ms. seed makes a run repeatable.
func PutLatency(max time.Duration, seed uint64) Option {
	var mu sync.Mutex
	rnd := rand.New(rand.NewPCG(seed, seed^0x517cc1b727220a95))
	return front(func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		if r.Method == http.MethodPut {
			mu.Lock()
			d := time.Duration(rnd.Int64N(int64(max) + 1))
			mu.Unlock()
			select {
			case <-time.After(d):
			case <-r.Context().Done():
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// Stall accepts every request whose method is method ("" for any) and whose path matches the
// regular expression path, and never answers it: the connection stays open with no response
// until the client gives up or the test ends (ReleaseStalls). A proxy or load balancer whose
// backend hangs does this; a client without a timeout waits forever (the issue found every binary
// still waiting after 600 s). Stalled counts them.
func Stall(method, path string) Option {
	re := regexp.MustCompile(path)
	return func(s *Server) {
		front(func(w http.ResponseWriter, r *http.Request, next http.Handler) {
			if (method == "" || r.Method == method) && re.MatchString(r.URL.Path) {
				s.stall(r)
				return
			}
			next.ServeHTTP(w, r)
		})(s)
	}
}

// StallBody is Stall after the status line, the headers and the first bytes of the body: a client
// that bounds only the wait for headers still hangs reading the body.
func StallBody(method, path string) Option {
	re := regexp.MustCompile(path)
	return func(s *Server) {
		front(func(w http.ResponseWriter, r *http.Request, next http.Handler) {
			if (method == "" || r.Method == method) && re.MatchString(r.URL.Path) {
				w.Header().Set("Content-Type", "application/json")
				w.Header().Set("Content-Length", "4096")
				w.WriteHeader(http.StatusOK)
				w.Write([]byte(`{"name":"`))
				if f, ok := w.(http.Flusher); ok {
					f.Flush()
				}
				s.stall(r)
				return
			}
			next.ServeHTTP(w, r)
		})(s)
	}
}

// stall holds r unanswered until the test ends (ReleaseStalls) or the client gives up, counting it.
func (s *Server) stall(r *http.Request) {
	s.stalled.Add(1)
	select {
	case <-s.release:
	case <-r.Context().Done():
	}
}

// Stalled counts the requests Stall and StallBody have held so far.
func (s *Server) Stalled() int { return int(s.stalled.Load()) }

// Dropped counts the writes DropFirstWrite has acknowledged and not stored so far.
func (s *Server) Dropped() int { return int(s.dropped.Load()) }

// ReleaseStalls ends every stalled request (and every later one at once, unanswered); New calls
// it when the test ends, so that the server can close.
func (s *Server) ReleaseStalls() {
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case <-s.release:
	default:
		close(s.release)
	}
}

// DropWrites acknowledges a manifest PUT to a tag matching the regular expression tags as stored
// (201 Created, Location and the Docker-Content-Digest of the body) and stores nothing: a write
// lost behind its acknowledgement. Harbor on an S3 backend answered a successful push and then
// "manifest unknown" for the tag (goharbor/harbor#2098); a client reported "Successfully pushed"
// for a tag the registry then did not have (modelpack/modctl#106); S3-compatible stores without
// read-after-write consistency lose what was just written (distribution/distribution#1948). The
// issue saw build-rc and tag-validated report such tags as written. Nothing is recorded in
// Assignments.
func DropWrites(tags string) Option {
	re := regexp.MustCompile(tags)
	return front(func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		repo, reference, ok := manifestRequest(r)
		if r.Method != http.MethodPut || !ok || strings.HasPrefix(reference, "sha256:") || !re.MatchString(reference) {
			next.ServeHTTP(w, r)
			return
		}
		dropWrite(w, r, repo)
	})
}

// dropWrite answers a manifest PUT as stored (201, Location, the body's digest) and stores nothing.
func dropWrite(w http.ResponseWriter, r *http.Request, repo string) {
	h := sha256.New()
	if _, err := io.Copy(h, r.Body); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	digest := "sha256:" + hex.EncodeToString(h.Sum(nil))
	w.Header().Set("Location", "/v2/"+repo+"/manifests/"+digest)
	w.Header().Set("Docker-Content-Digest", digest)
	w.WriteHeader(http.StatusCreated)
}

// DropFirstWrite is DropWrites for the first write of each tag matching tags only: a write lost
// once behind its acknowledgement and kept when made again, as when a storage backend fails over
// between two writes (distribution/distribution#1948). A step that reads its writes back repairs
// it; the reliability rounds use it because a step that does not would report a tag it never
// stored.
func DropFirstWrite(tags string) Option {
	re := regexp.MustCompile(tags)
	var dropped sync.Map
	return func(s *Server) {
		front(func(w http.ResponseWriter, r *http.Request, next http.Handler) {
			repo, reference, ok := manifestRequest(r)
			if r.Method == http.MethodPut && ok && !strings.HasPrefix(reference, "sha256:") && re.MatchString(reference) {
				if _, again := dropped.LoadOrStore(repo+":"+reference, true); !again {
					s.dropped.Add(1)
					dropWrite(w, r, repo)
					return
				}
			}
			next.ServeHTTP(w, r)
		})(s)
	}
}

// StallSome accepts a random fraction of all requests and never answers them (until the test
// ends), as a proxy with one hung backend among several does: only a client that bounds each
// request and retries gets through. seed makes a run repeatable.
func StallSome(fraction float64, seed uint64) Option {
	var mu sync.Mutex
	rnd := rand.New(rand.NewPCG(seed, seed^0x2545f4914f6cdd1d))
	return func(s *Server) {
		front(func(w http.ResponseWriter, r *http.Request, next http.Handler) {
			mu.Lock()
			stall := rnd.Float64() < fraction
			mu.Unlock()
			if stall {
				s.stall(r)
				return
			}
			next.ServeHTTP(w, r)
		})(s)
	}
}

// HeadNotAllowed answers 405 Method Not Allowed to every HEAD of a manifest or a blob, while GET
// works: distribution 2.2 did so for HEAD of a manifest behind token auth
// (distribution/distribution#1485), Nexus's registry did not serve HEAD of manifests
// (merll/docker-registry-util#3), and crane falls back to GET.
func HeadNotAllowed() Option {
	return front(func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		if r.Method == http.MethodHead && (strings.Contains(r.URL.Path, "/manifests/") || strings.Contains(r.URL.Path, "/blobs/")) {
			w.Header().Set("Allow", "GET")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// WrongDigest replaces the Docker-Content-Digest of successful manifest answers to the given
// methods (HEAD, GET, PUT; all three when none is given) with the digest of other bytes. The
// header is a registry's claim, not a checksum the client can verify on HEAD: registries that
// rewrite a manifest (Docker Hub's schema 1 conversion, a proxy re-serializing JSON) or compute
// the digest of another representation report a digest that is not the stored bytes' one, which
// is why the distribution spec makes the header optional and tells clients to verify content
// (opencontainers/distribution-spec#208).
func WrongDigest(methods ...string) Option {
	if len(methods) == 0 {
		methods = []string{http.MethodHead, http.MethodGet, http.MethodPut}
	}
	return front(func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		_, reference, ok := manifestRequest(r)
		if !ok || !slices.Contains(methods, r.Method) {
			next.ServeHTTP(w, r)
			return
		}
		sum := sha256.Sum256([]byte("not the stored manifest: " + reference))
		next.ServeHTTP(&headerRewriter{ResponseWriter: w, rewrite: func(h http.Header, code int) {
			if code < 300 && h.Get("Docker-Content-Digest") != "" {
				h.Set("Docker-Content-Digest", "sha256:"+hex.EncodeToString(sum[:]))
			}
		}}, r)
	})
}

// EndlessLinks answers every page of a tag listing with a Link to a next page whose URL was never
// served before (a growing cursor parameter) that serves the same tags again: a registry
// with a paging bug, or a hostile one, keeps a client listing forever (the issue measured 27,607
// requests in 90 s). Detecting a URL seen before does not stop it.
func EndlessLinks() Option {
	var cursor struct {
		sync.Mutex
		n int
	}
	return front(func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		if r.Method != http.MethodGet || !strings.HasSuffix(r.URL.Path, "/tags/list") {
			next.ServeHTTP(w, r)
			return
		}
		cursor.Lock()
		cursor.n++
		n := cursor.n
		cursor.Unlock()
		q := url.Values{"cursor": {strconv.Itoa(n)}}
		if v := r.URL.Query().Get("n"); v != "" {
			q.Set("n", v)
		}
		link := fmt.Sprintf(`<%s?%s>; rel="next"`, r.URL.Path, q.Encode())
		next.ServeHTTP(&headerRewriter{ResponseWriter: w, rewrite: func(h http.Header, code int) {
			if code == http.StatusOK {
				h.Set("Link", link)
			}
		}}, r)
	})
}

// manifestRequest splits a /v2/<repo>/manifests/<reference> path.
func manifestRequest(r *http.Request) (repo, reference string, ok bool) {
	repo, reference, ok = strings.Cut(strings.TrimPrefix(r.URL.Path, "/v2/"), "/manifests/")
	return repo, reference, ok && strings.HasPrefix(r.URL.Path, "/v2/")
}

// headerRewriter changes the headers of a response just before they are sent.
type headerRewriter struct {
	http.ResponseWriter
	rewrite func(h http.Header, code int)
	done    bool
}

func (h *headerRewriter) WriteHeader(code int) {
	if !h.done {
		h.done = true
		h.rewrite(h.Header(), code)
	}
	h.ResponseWriter.WriteHeader(code)
}

func (h *headerRewriter) Write(b []byte) (int, error) {
	if !h.done {
		h.WriteHeader(http.StatusOK)
	}
	return h.ResponseWriter.Write(b)
}

// listingQuirk is a way a registry's tags/list departs from the spec's lexical order and paging.
type listingQuirk int

const (
	ignoreLast listingQuirk = iota + 1
	pushOrder
)

// IgnoreLast lists tags in lexical order, paged by n, but pages by a cursor of its own
// (next_page=<k> in the Link header) and ignores last: a client that asks for the tags after last
// gets them from the first. Quay pages by next_page (camallo/dkregistry-rs#236), regclient
// had to follow Quay's Link rather than page by last (regclient/regclient#274), and distribution
// itself honoured last on tags/list only from distribution/distribution#3143 on.
func IgnoreLast() Option { return func(s *Server) { s.listing = ignoreLast } }

// PushOrderListing lists tags in the order they were first written rather than lexically, paged
// by n, with last taken as a position in that order (a last that is no tag answers from the
// first tag). Harbor ordered tags by push time (goharbor/harbor#151, "By default, the tags are
// ordered by time"), GHCR's order is undocumented and clients sort its answers themselves
// (crazy-max/diun#518), and the OCI conformance suite did not check the order
// (opencontainers/distribution-spec#583).
func PushOrderListing() Option { return func(s *Server) { s.listing = pushOrder } }

// byPush orders tags of repo by their first write (tags never written through this server last,
// lexically).
func (s *Server) byPush(repo string, tags []string) {
	first := map[string]int{}
	for i, a := range s.Assignments() {
		if _, ok := first[a.Tag]; !ok && a.Repository == repo {
			first[a.Tag] = i
		}
	}
	slices.SortStableFunc(tags, func(a, b string) int {
		ia, oka := first[a]
		ib, okb := first[b]
		switch {
		case oka && okb:
			return ia - ib
		case oka:
			return -1
		case okb:
			return 1
		}
		return 0
	})
}
