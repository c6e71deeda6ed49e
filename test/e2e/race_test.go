package e2e

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/crane"
)

// racingProxy passes every request to the registry, and right after the first manifest PUT of
// one tag has been answered it runs race: the moment a concurrent writer would win. Registries
// have no conditional manifest PUT, so this is how a lost race looks to a client: its write
// succeeds and the tag then points elsewhere.
type racingProxy struct {
	proxy *httputil.ReverseProxy
	tag   string
	race  func()
	once  sync.Once
}

func startRacingProxy(t *testing.T, tag string, race func()) string {
	t.Helper()
	p := &racingProxy{proxy: httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: registryAddr}), tag: tag, race: race}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

func (p *racingProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.proxy.ServeHTTP(w, r)
	if r.Method == http.MethodPut && strings.HasSuffix(r.URL.Path, "/manifests/"+p.tag) {
		p.once.Do(p.race)
	}
}

// tag-validated loses the race for the stable tag to a concurrent promotion (run outside a
// concurrency group). It must then decide again from what the registry holds, never report a
// stable tag it does not have, and never leave its marker on an artifact that is not stable.
func TestTagValidatedLosesRaceForStableTag(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// promote and rival index the two candidates (rc.1, rc.2): promote is validated through
		// the racing proxy; rival takes 0.0.1 right after its write.
		promote, rival int
		promoted       string
		reason         string
		version        string
	}{
		// The newer candidate took 0.0.1: the older one is superseded.
		{name: "rival is newer", promote: 0, rival: 1, promoted: "false", reason: "superseded", version: ""},
		// The older candidate took 0.0.1: the newer one becomes the next patch.
		{name: "rival is older", promote: 1, rival: 0, promoted: "true", reason: "promoted", version: "0.0.2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			repo := newRepo(t)
			rcs := candidates(t, repo, "a", "b")
			shas := []string{commit(t, "a"), commit(t, "b")}
			mine, rival := rcs[tc.promote], rcs[tc.rival]
			proxyAddr := startRacingProxy(t, "0.0.1", func() {
				// The rival's promotion, as tag-validated writes it: stable tag, then marker.
				if err := crane.Tag(repo+"@"+rival["digest"], "0.0.1"); err != nil {
					t.Errorf("rival write of 0.0.1: %v", err)
				}
				if err := crane.Tag(repo+"@"+rival["digest"], "validated-"+short(shas[tc.rival])); err != nil {
					t.Errorf("rival write of its marker: %v", err)
				}
			})
			viaProxy := proxyAddr + strings.TrimPrefix(repo, registryAddr)

			r := run(t, nil, "tag-validated", "--repository", viaProxy, "--revision", mine["version"]+"@"+mine["digest"], "--json")
			if r.code != 0 {
				t.Fatalf("tag-validated after losing the race must decide again, not fail:\n%s", r)
			}
			out := outputs(t, r)
			wantDecision(t, out, tc.promoted, tc.reason, tc.version)

			wantTagsAt(t, repo, rival["digest"], "0.0.1", "validated-"+short(shas[tc.rival]))
			marker := "validated-" + short(shas[tc.promote])
			if tc.version == "" {
				for _, tag := range listTags(t, repo) {
					if tag == marker {
						t.Errorf("%s was written for an artifact that has no stable tag", marker)
					}
				}
				return
			}
			wantTagsAt(t, repo, mine["digest"], tc.version, marker)
		})
	}
}
