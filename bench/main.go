// Command bench measures ocipromote against the tools users would otherwise script, on one
// machine, in one go: a real distribution registry (Debian's docker-registry) on 127.0.0.1 behind
// a request-counting front that authenticates with bearer tokens and pages tag lists by 100, as
// GHCR does. It prints Markdown tables:
//
//   - build-rc and tag-validated beside the same steps scripted as one process per operation
//     with Flux's own OCI client (github.com/fluxcd/pkg/oci) and with the crane CLI: registry
//     requests by kind, median wall time over alternating runs, ratios, and the theoretical
//     minimum;
//   - artifact build time, peak memory and digest stability on a 5,000-file, 50 MB tree,
//     ocipromote's builder against Flux's;
//   - the Go benchmarks of the root module at 1k, 10k and 100k tags.
//
// Run it from the repository root with `make bench`, or `cd bench && go run .`.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"
)

func main() {
	var cfg config
	flag.DurationVar(&cfg.rtt, "rtt", 20*time.Millisecond, "round trip the remote front adds to every request")
	flag.IntVar(&cfg.runs, "runs", 9, "measured runs of each step per tool (tools alternate)")
	flag.IntVar(&cfg.treeFiles, "tree-files", 5000, "files in the large manifests tree")
	flag.Int64Var(&cfg.treeBytes, "tree-bytes", 50<<20, "total size of the large manifests tree")
	flag.IntVar(&cfg.buildRuns, "build-runs", 3, "runs of each artifact builder (at least 2, to show stable digests)")
	flag.StringVar(&cfg.goBench, "go-bench", "500ms", "-benchtime of the Go scale benchmarks; empty skips them")
	flag.StringVar(&cfg.crane, "crane", "", "crane binary to use instead of installing crane@"+craneVersion)
	flag.BoolVar(&cfg.keep, "keep", false, "keep the temporary directory")
	flag.BoolVar(&cfg.trace, "trace", false, "print each measured ocipromote step's requests on loopback as a timeline (to stderr)")
	flag.Parse()
	if cfg.buildRuns < 2 {
		cfg.buildRuns = 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

type config struct {
	runs, treeFiles, buildRuns int
	treeBytes                  int64
	rtt                        time.Duration
	goBench, crane             string
	keep, trace                bool
}

func run(ctx context.Context, cfg config, out, log io.Writer) error {
	start := time.Now()
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "ocipromote-bench-")
	if err != nil {
		return err
	}
	if cfg.keep {
		fmt.Fprintln(log, "bench: keeping", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}
	var cleanup cleanups
	defer cleanup.run()

	step := func(what string) func() {
		fmt.Fprintf(log, "bench: %s…\n", what)
		t := time.Now()
		return func() { fmt.Fprintf(log, "bench: %s took %s\n", what, time.Since(t).Round(time.Millisecond)) }
	}

	done := step("building ocipromote, the Flux-client peer and crane " + craneVersion)
	bins, err := buildTools(ctx, root, filepath.Join(tmp, "bin"), cfg.crane)
	if err != nil {
		return err
	}
	done()

	done = step("starting docker-registry on 127.0.0.1 behind the counting front")
	regDir := registryDir(tmp)
	cleanup.Cleanup(func() { os.RemoveAll(regDir) })
	reg, err := startRegistry(regDir, cfg.rtt, &cleanup)
	if err != nil {
		return err
	}
	env, err := clientEnv(tmp, reg.loopback.Host, reg.remote.Host)
	if err != nil {
		return err
	}
	done()

	fmt.Fprintf(out, "# ocipromote benchmark\n\n%s\n\n", machine())

	work := filepath.Join(tmp, "work")
	dir, lay, err := secondCommit(work)
	if err != nil {
		return err
	}
	done = step(fmt.Sprintf("comparing steps on loopback, %d runs per tool", cfg.runs))
	var trace io.Writer
	if cfg.trace {
		trace = log
	}
	loopback, err := compareSteps(ctx, cfg.runs, bins, env, reg, reg.loopback, work, dir, lay, trace)
	if err != nil {
		return err
	}
	done()
	done = step(fmt.Sprintf("comparing steps with a %s round trip, %d runs per tool", cfg.rtt, cfg.runs))
	remote, err := compareSteps(ctx, cfg.runs, bins, env, reg, reg.remote, work, dir, lay, nil)
	if err != nil {
		return err
	}
	done()
	printSteps(out, loopback, remote, cfg.runs, cfg.rtt)

	done = step(fmt.Sprintf("comparing artifact builders on %d files, %d MB", cfg.treeFiles, cfg.treeBytes>>20))
	tree := filepath.Join(tmp, "tree")
	if err := writeTree(tree, cfg.treeFiles, cfg.treeBytes, 42); err != nil {
		return err
	}
	builds, err := compareBuilders(ctx, bins, tree, cfg.buildRuns)
	if err != nil {
		return err
	}
	small, err := compareBuilders(ctx, bins, dir, 5)
	if err != nil {
		return err
	}
	done()
	printBuilds(out, builds, small, cfg.treeFiles, cfg.treeBytes)

	if cfg.goBench != "" {
		done = step("running the Go scale benchmarks")
		scale, err := goBenchmarks(ctx, root, cfg.goBench)
		if err != nil {
			return err
		}
		done()
		printScale(out, scale)
	}
	fmt.Fprintf(out, "Whole run: %s.\n", time.Since(start).Round(time.Second))
	return nil
}

// machine names the machine the numbers come from.
func machine() string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	mem := ""
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int64
		if _, err := fmt.Sscanf(string(b), "MemTotal: %d kB", &kb); err == nil {
			mem = fmt.Sprintf(", %d GiB RAM", (kb+(1<<19))>>20)
		}
	}
	return fmt.Sprintf("Machine: %s, %d CPUs%s, %s/%s, %s; registry: Debian docker-registry (distribution %s) on 127.0.0.1.",
		model, runtime.NumCPU(), mem, runtime.GOOS, runtime.GOARCH, runtime.Version(), registryVersion())
}

// cleanups run in reverse order when the benchmark ends; they stand in for testing.T's Cleanup
// where the test helpers (registrytest, ocitest) want one.
type cleanups struct{ fns []func() }

func (c *cleanups) Cleanup(f func()) { c.fns = append(c.fns, f) }

func (c *cleanups) run() {
	for i := len(c.fns) - 1; i >= 0; i-- {
		c.fns[i]()
	}
}

// registryDir is where the registry keeps its data: in memory (/dev/shm) where there is such a
// file system, so that the disk's write latency, which every tool pays alike, does not hide the
// tools' own costs.
func registryDir(tmp string) string {
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		if dir, err := os.MkdirTemp("/dev/shm", "ocipromote-bench-registry-"); err == nil {
			return dir
		}
	}
	return filepath.Join(tmp, "registry")
}
