package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"

	"github.com/ocipromote/ocipromote/pkg/artifact"
	"github.com/ocipromote/ocipromote/pkg/oci"
	"github.com/ocipromote/ocipromote/pkg/oci/ocitest"
	"github.com/ocipromote/ocipromote/pkg/pipeline"
	"github.com/ocipromote/ocipromote/pkg/tags"
	"github.com/ocipromote/ocipromote/pkg/version"
)

// The commits of every measured repository: the first is built and promoted before measuring
// (0.0.1-rc.1, then 0.0.1), the second is what the measured steps build and promote.
const (
	sha1st  = "1111111111111111111111111111111111111111"
	sha2nd  = "2222222222222222222222222222222222222222"
	source  = "https://github.com/acme/platform"
	created = "2026-08-01T10:00:00Z"
)

// The steps measured.
const (
	stepBuild   = "build-rc"
	stepPromote = "tag-validated"
)

// The tools compared.
const (
	toolOurs  = "ocipromote"
	toolFlux  = "Flux client (fluxcd/pkg/oci v0.70.0), one process per operation"
	toolCrane = "crane " + craneVersion + ", one process per operation"
)

// repos numbers the measured repositories, so that each is new.
var repos atomic.Int64

// measurement is one run of one step by one tool.
type measurement struct {
	elapsed time.Duration
	// inRegistry is the time the registry spent answering the step's requests.
	inRegistry time.Duration
	processes  int
	requests   []string // ocitest.Kind of each request
}

// results holds every measurement by step and tool.
type results map[string]map[string][]measurement

// scenario is one tool's repository for one run.
type scenario struct {
	repo    string // front host/bench/<tool>-<run>
	dir     string // the second commit's manifests
	layout  string // the same artifact as an OCI layout, for crane push
	rc      string
	digest  string
	started time.Time
	procs   int
}

// workload describes the measured steps for one tool.
type workload struct {
	name           string
	build, promote func(ctx context.Context, s *scenario) error
}

// compareSteps seeds a fresh repository per tool and run with one released commit, then measures
// the build and the promotion of the next commit by each tool, the tools taking turns.
// With trace set, each measured step of ocipromote's is printed there as a timeline of its
// requests: when each reached the registry and left it, in milliseconds from the process's start.
func compareSteps(ctx context.Context, runs int, t tools, env []string, reg *registry, front *ocitest.Server, work, dir, lay string, trace io.Writer) (results, error) {
	direct := reg.direct
	short := sha2nd[:7]
	exec := func(s *scenario, bin string, args ...string) (string, error) {
		s.procs++
		p, err := runProcess(ctx, env, bin, args...)
		return p.stdout, err
	}
	workloads := []workload{
		{
			// settle 0s: the registry on loopback lists every write at once. On a registry whose
			// listing lags, each claim adds the settle time (default 5s) of waiting, no request.
			name: toolOurs,
			build: func(ctx context.Context, s *scenario) error {
				out, err := exec(s, t.buildRC, "--repository", s.repo, "--path", s.dir, "--sha", sha2nd, "--ref", "main",
					"--source", source, "--created", created, "--json", "--settle", "0s")
				if err != nil {
					return err
				}
				var o struct{ Version, Digest string }
				if err := json.Unmarshal([]byte(out), &o); err != nil {
					return fmt.Errorf("build-rc output %q: %w", out, err)
				}
				s.rc, s.digest = o.Version, o.Digest
				return nil
			},
			// The revision and the commit, as the example promote workflow passes the event's
			// revision and originRevision.
			promote: func(ctx context.Context, s *scenario) error {
				_, err := exec(s, t.tagValidated, "--repository", s.repo, "--revision", s.rc+"@"+s.digest, "--sha", sha2nd, "--json", "--settle", "0s")
				return err
			},
		},
		{
			name: toolFlux,
			build: func(ctx context.Context, s *scenario) error {
				out, err := exec(s, t.fluxpeer, "list", s.repo)
				if err != nil {
					return err
				}
				if s.rc, err = nextRC(firstFields(out)); err != nil {
					return err
				}
				if out, err = exec(s, t.fluxpeer, "push", s.repo+":"+s.rc, s.dir, source, "main@sha1:"+sha2nd, created); err != nil {
					return err
				}
				s.digest = digestOf(out)
				for _, tag := range []string{tags.Sha(short), tags.Integration(short)} {
					if _, err := exec(s, t.fluxpeer, "tag", s.repo+":"+s.rc, tag); err != nil {
						return err
					}
				}
				return nil
			},
			promote: func(ctx context.Context, s *scenario) error {
				out, err := exec(s, t.fluxpeer, "resolve", s.repo+":"+s.rc)
				if err != nil {
					return err
				}
				return tagStable(s, digestOf(out), func(ref, tag string) error {
					_, err := exec(s, t.fluxpeer, "tag", ref, tag)
					return err
				})
			},
		},
		{
			name: toolCrane,
			build: func(ctx context.Context, s *scenario) error {
				out, err := exec(s, t.crane, "ls", s.repo)
				if err != nil {
					return err
				}
				if s.rc, err = nextRC(firstFields(out)); err != nil {
					return err
				}
				if out, err = exec(s, t.crane, "push", s.layout, s.repo+":"+s.rc); err != nil {
					return err
				}
				s.digest = digestOf(out)
				for _, tag := range []string{tags.Sha(short), tags.Integration(short)} {
					if _, err := exec(s, t.crane, "tag", s.repo+":"+s.rc, tag); err != nil {
						return err
					}
				}
				return nil
			},
			promote: func(ctx context.Context, s *scenario) error {
				out, err := exec(s, t.crane, "digest", s.repo+":"+s.rc)
				if err != nil {
					return err
				}
				return tagStable(s, digestOf(out), func(ref, tag string) error {
					_, err := exec(s, t.crane, "tag", ref, tag)
					return err
				})
			},
		},
	}

	res := results{stepBuild: {}, stepPromote: {}}
	// Run 0 warms the page cache and the registry and is not counted.
	for run := 0; run <= runs; run++ {
		for k := range workloads {
			w := workloads[(run+k)%len(workloads)]
			s := &scenario{repo: fmt.Sprintf("%s/bench/%s-%d", front.Host, strings.Fields(w.name)[0], repos.Add(1)), dir: dir, layout: lay}
			s.repo = strings.ToLower(strings.NewReplacer("(", "", ")", "").Replace(s.repo))
			if err := seed(ctx, direct+strings.TrimPrefix(s.repo, front.Host), work, run); err != nil {
				return nil, err
			}
			for _, st := range []struct {
				step string
				fn   func(context.Context, *scenario) error
			}{{stepBuild, w.build}, {stepPromote, w.promote}} {
				before, busy := len(front.Requests()), reg.backend.spent()
				s.procs = 0
				start := time.Now()
				if err := st.fn(ctx, s); err != nil {
					return nil, fmt.Errorf("%s by %s: %w", st.step, w.name, err)
				}
				m := measurement{elapsed: time.Since(start), inRegistry: reg.backend.spent() - busy, processes: s.procs}
				for _, r := range front.Requests()[before:] {
					m.requests = append(m.requests, ocitest.Kind(r))
				}
				if run > 0 {
					res[st.step][w.name] = append(res[st.step][w.name], m)
					if trace != nil && w.name == toolOurs {
						printTimeline(trace, st.step, run, start, m.elapsed, reg.backend.since(start))
					}
				}
			}
			if err := check(ctx, direct+strings.TrimPrefix(s.repo, front.Host), s); err != nil {
				return nil, fmt.Errorf("%s: %w", w.name, err)
			}
		}
	}
	return res, nil
}

// secondCommit writes the second commit's manifests and, for crane, the artifact ocipromote
// builds from them as an OCI image layout (crane cannot build a Flux artifact itself; making the
// layout is not counted in crane's time).
func secondCommit(work string) (dir, lay string, err error) {
	dir = filepath.Join(work, "manifests")
	if err := writeTree(dir, 40, 200<<10, 2); err != nil {
		return "", "", err
	}
	layer, err := artifact.Pack(dir, nil)
	if err != nil {
		return "", "", err
	}
	when, _ := time.Parse(time.RFC3339, created)
	img, err := artifact.Image(layer, artifact.Metadata{Source: source, Revision: "main@sha1:" + sha2nd, Created: when, Version: "0.0.2-rc.1"})
	if err != nil {
		return "", "", err
	}
	lay = filepath.Join(work, "layout")
	p, err := layout.Write(lay, empty.Index)
	if err != nil {
		return "", "", err
	}
	return dir, lay, p.AppendImage(img)
}

// seed gives a repository one released commit, written directly to the registry (uncounted).
func seed(ctx context.Context, repo, work string, run int) error {
	reg, err := oci.Open(repo, oci.Options{})
	if err != nil {
		return err
	}
	dir := filepath.Join(work, fmt.Sprintf("first-%d", run))
	if _, err := os.Stat(dir); err != nil {
		if err := writeTree(dir, 40, 200<<10, 1); err != nil {
			return err
		}
	}
	when, _ := time.Parse(time.RFC3339, created)
	rc, err := pipeline.BuildRC(ctx, reg, pipeline.BuildInput{Dir: dir, Sha: sha1st, Ref: "main", Source: source,
		Created: when.Add(-time.Hour), ShortLen: 7, Rules: version.Rules{Bump: version.Patch}})
	if err != nil {
		return fmt.Errorf("seed %s: %w", repo, err)
	}
	if _, err := pipeline.TagValidated(ctx, reg, pipeline.PromoteInput{Revision: rc.Version + "@" + rc.Digest}); err != nil {
		return fmt.Errorf("seed %s: %w", repo, err)
	}
	return nil
}

// check confirms, directly on the registry, that the tool wrote what the step should have.
func check(ctx context.Context, repo string, s *scenario) error {
	reg, err := oci.Open(repo, oci.Options{})
	if err != nil {
		return err
	}
	list, err := reg.Tags(ctx)
	if err != nil {
		return err
	}
	short := sha2nd[:7]
	for _, want := range []string{s.rc, tags.Sha(short), tags.Integration(short), stableOf(s.rc), tags.Validated(short)} {
		if !slices.Contains(list, want) {
			return fmt.Errorf("%s lacks %s after the steps (tags: %v)", repo, want, list)
		}
		if d, err := reg.Resolve(ctx, want); err != nil || d != s.digest {
			return fmt.Errorf("%s:%s = %s, %v; want %s", repo, want, d, err, s.digest)
		}
	}
	return nil
}

// tagStable writes the stable tag, then validated-<s>, on the digest, as a promotion script does.
func tagStable(s *scenario, digest string, tag func(ref, tag string) error) error {
	if digest != s.digest {
		return fmt.Errorf("resolved %s to %s, but it was pushed as %s", s.rc, digest, s.digest)
	}
	ref := s.repo + "@" + digest
	if err := tag(ref, stableOf(s.rc)); err != nil {
		return err
	}
	return tag(ref, tags.Validated(sha2nd[:7]))
}

// nextRC is what a script computes from the listing: the next release candidate, with the same
// rules as build-rc (so every tool writes the same tags).
func nextRC(list []string) (string, error) {
	p, err := version.NextRC(list, version.Rules{Bump: version.Patch})
	if err != nil {
		return "", err
	}
	return p.Tag, nil
}

func stableOf(rc string) string {
	v, _ := version.Parse(rc)
	return version.StableTag("", version.Base(v))
}

// firstFields is the first field of every line.
func firstFields(out string) []string {
	var f []string
	for _, line := range strings.Split(out, "\n") {
		if fs := strings.Fields(line); len(fs) > 0 {
			f = append(f, fs[0])
		}
	}
	return f
}

// digestOf finds the sha256:… in a tool's output (a digest or a REPO@DIGEST reference).
func digestOf(out string) string {
	out = strings.TrimSpace(out)
	if i := strings.LastIndex(out, "sha256:"); i >= 0 {
		return strings.Fields(out[i:])[0]
	}
	return out
}

// printTimeline prints one step's requests in the order they reached the registry.
func printTimeline(w io.Writer, step string, run int, start time.Time, elapsed time.Duration, spans []span) {
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	fmt.Fprintf(w, "trace: %s run %d, %.1f ms\n", step, run, ms(elapsed))
	for _, s := range spans {
		fmt.Fprintf(w, "trace:   %6.1f → %6.1f  %s\n", ms(s.start.Sub(start)), ms(s.end.Sub(start)), s.request)
	}
}
