package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// writeTree writes files YAML manifests of about total bytes in all under dir, spread over
// directories as a platform repository spreads them, with content that compresses like real
// manifests do (names and values repeat, identifiers do not). seed makes distinct trees.
func writeTree(dir string, files int, total int64, seed uint64) error {
	rng := rand.New(rand.NewPCG(seed, 0x0c1))
	per := total / int64(files)
	kinds := []string{"Deployment", "Service", "ConfigMap", "Ingress", "ServiceAccount", "HorizontalPodAutoscaler"}
	words := []string{"platform", "payments", "checkout", "search", "ledger", "gateway", "worker", "api", "frontend", "metrics"}
	for i := range files {
		team, app := words[i%len(words)], words[(i/len(words))%len(words)]
		path := filepath.Join(dir, "clusters", fmt.Sprintf("team-%02d", i%50), team, fmt.Sprintf("%s-%04d.yaml", app, i))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		var b strings.Builder
		fmt.Fprintf(&b, "apiVersion: apps/v1\nkind: %s\nmetadata:\n  name: %s-%s-%d\n  namespace: %s\n  labels:\n    app.kubernetes.io/name: %s\n    app.kubernetes.io/part-of: %s\nspec:\n",
			kinds[i%len(kinds)], team, app, i, team, app, team)
		for n := 0; int64(b.Len()) < per; n++ {
			fmt.Fprintf(&b, "  - name: %s-%d\n    image: ghcr.io/acme/%s:%d.%d.%d@sha256:%016x%016x\n    env:\n      - name: %s_%d\n        value: %q\n",
				words[rng.IntN(len(words))], n, app, rng.IntN(3), rng.IntN(20), rng.IntN(100), rng.Uint64(), rng.Uint64(),
				strings.ToUpper(words[rng.IntN(len(words))]), n, fmt.Sprintf("%x", rng.Uint32()))
		}
		if err := os.WriteFile(path, []byte(b.String()[:per]), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// buildResult is one builder's figures on the large tree.
type buildResult struct {
	name    string
	times   []time.Duration
	maxRSS  int64
	digests []string
}

// compareBuilders packs the large tree with ocipromote's builder and with Flux's (`flux build
// artifact`, then the file's digest, which `flux push artifact` needs too), each in its own
// process so that peak memory is the process's, runs times each, alternating.
func compareBuilders(ctx context.Context, t tools, dir string, runs int) ([]buildResult, error) {
	out := filepath.Join(filepath.Dir(dir), filepath.Base(dir)+"-flux.tgz")
	res := []buildResult{
		{name: "ocipromote (pkg/artifact: tar, gzip default level on a second goroutine, digests in one pass)"},
		{name: "Flux (fluxcd/pkg/oci Build: tar, gzip default level, then the file's digest)"},
	}
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.TempDir(), "TMPDIR=" + os.TempDir()}
	for run := range runs {
		for k := range res {
			i := (run + k) % len(res)
			var p process
			var err error
			if i == 0 {
				p, err = runProcess(ctx, env, t.artifact, dir)
			} else {
				p, err = runProcess(ctx, env, t.fluxpeer, "build", dir, out)
			}
			if err != nil {
				return nil, err
			}
			res[i].times = append(res[i].times, p.elapsed)
			res[i].maxRSS = max(res[i].maxRSS, p.maxRSS)
			res[i].digests = append(res[i].digests, strings.TrimSpace(p.stdout))
		}
	}
	return res, nil
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
