package ocitest

import (
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"time"
)

// ListingLag makes a tag appear in tag listings only d after it was first written, while HEAD
// and GET by tag answer at once: the behaviour of registries that serve tags/list from a cache
// or an index updated after the write. Public reports: Harbor tags showing up 1 to 5 minutes
// after a push (goharbor/harbor#16332), a tag pullable at once but missing from Docker Hub's tag
// list (docker/hub-feedback#2327), kubernetes-sigs/promo-tools#536 (a tag just written not yet
// seen: "lag in registry consistency"). Every listing shares the one delay.
func ListingLag(d time.Duration) Option {
	return func(s *Server) { s.lag = newListingLag(1, d, d, 0) }
}

// ReplicaLag serves each tags/list request from one of replicas replicas, picked at random,
// each of which shows a write after its own random delay between 0 and most (drawn per replica
// and per write): two listings made one after the other can disagree, and a listing that shows
// a write says nothing of what the next one shows. This is a registry whose listings come from
// independently lagging replicas or caches behind a load balancer: `az acr repository
// show-tags` returning the newest tag on some calls and not on others (Azure/azure-cli#28260),
// ACR geo-replicas being eventually consistent with no bound on the delay (Azure/acr#880).
// seed makes the draws repeatable.
func ReplicaLag(replicas int, most time.Duration, seed uint64) Option {
	return func(s *Server) { s.lag = newListingLag(replicas, 0, most, seed) }
}

// listingLag hides from listings the tags a replica has not caught up with yet.
type listingLag struct {
	mu       sync.Mutex
	rng      *rand.Rand
	min, max time.Duration
	replicas int
	// shown[repository/tag][replica] is when the replica starts listing the tag.
	shown map[string][]time.Time
}

func newListingLag(replicas int, least, most time.Duration, seed uint64) *listingLag {
	return &listingLag{rng: rand.New(rand.NewPCG(seed, 12)), min: least, max: most, replicas: max(replicas, 1), shown: map[string][]time.Time{}}
}

// written notes the first write of a tag (a re-write changes nothing: the tag is in the index).
func (l *listingLag) written(repo, tag string) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	k := repo + ":" + tag
	if _, ok := l.shown[k]; ok {
		return
	}
	now := time.Now()
	at := make([]time.Time, l.replicas)
	for i := range at {
		d := l.min
		if l.max > l.min {
			d += time.Duration(l.rng.Int64N(int64(l.max - l.min + 1)))
		}
		at[i] = now.Add(d)
	}
	l.shown[k] = at
}

// visible is list as one replica, picked at random, serves it. Tags written around the front
// (none in tests) are shown.
func (l *listingLag) visible(repo string, list []string) []string {
	if l == nil {
		return list
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	replica := l.rng.IntN(l.replicas)
	now := time.Now()
	return slices.DeleteFunc(list, func(tag string) bool {
		at, ok := l.shown[repo+":"+tag]
		return ok && now.Before(at[replica])
	})
}

// PutLatency answers each manifest PUT after a random delay between 0 and most (seedable), the
// write being applied only then: what a registry under load does to writes (the trials
// used 0 to 400 ms), which widens every window between a read and the write that depends on it.
func PutLatency(most time.Duration, seed uint64) Option {
	return func(s *Server) { s.putLatency = &putLatency{rng: rand.New(rand.NewPCG(seed, 13)), most: most} }
}

type putLatency struct {
	mu   sync.Mutex
	rng  *rand.Rand
	most time.Duration
}

// wait delays a PUT; false when the client went away meanwhile.
func (p *putLatency) wait(r *http.Request) bool {
	if p == nil || p.most <= 0 {
		return true
	}
	p.mu.Lock()
	d := time.Duration(p.rng.Int64N(int64(p.most) + 1))
	p.mu.Unlock()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}
