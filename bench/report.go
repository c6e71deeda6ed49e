package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
)

// columns are the request kinds the tables show, each a set of ocitest.Kind values.
var columns = []struct {
	title string
	kinds []string
}{
	{"auth", []string{"ping", "token"}},
	{"list", []string{"list"}},
	{"HEAD manifest", []string{"HEAD manifest"}},
	{"GET manifest", []string{"GET manifest"}},
	{"PUT manifest", []string{"PUT manifest"}},
	{"HEAD blob", []string{"HEAD blob"}},
	{"upload", []string{"POST upload", "PATCH upload", "PUT upload"}},
}

// minimum is the fewest requests a step with the same guarantees can make against this front
// (token auth, tags paged by 100, one page of tags here), by column.
var minimum = map[string]map[string]int{
	// Authenticate (ping, token); list; upload config and layer (POST+PUT each, the sessions
	// opened beside the listing while the directory is packed); write the claim;
	// list again for rival claims; read the release candidate before writing it (write-once);
	// write it; read it back; write sha-<s> and integration-<s>, and read them back (a registry may
	// acknowledge a write it does not keep).
	stepBuild: {"auth": 2, "list": 2, "HEAD manifest": 4, "PUT manifest": 4, "upload": 4},
	// Authenticate; list; read the manifest integration-<s> points at (the sha is given, as the
	// example workflow passes it: that one read is the candidate's manifest and the integration
	// check); claim the stable version; list again for rival claims; read the stable tag before
	// writing it; write it; read it back; write validated-<s> and read it back.
	stepPromote: {"auth": 2, "list": 2, "GET manifest": 1, "HEAD manifest": 3, "PUT manifest": 3},
}

// unguarded is the fewest requests the same tags take without the guards: what the peers' scripts
// do at best (list, push, tag twice; resolve, tag twice).
var unguarded = map[string]int{stepBuild: 10, stepPromote: 5}

func count(requests []string, kinds []string) int {
	n := 0
	for _, r := range requests {
		if slices.Contains(kinds, r) {
			n++
		}
	}
	return n
}

func printSteps(out io.Writer, loopback, remote results, runs int, rtt time.Duration) {
	fmt.Fprintf(out, "## Pipeline steps against the tools users script\n\n")
	fmt.Fprintf(out, "Registry requests per step by kind, and the median wall time of %d runs on loopback and %d runs with a %s round trip added to every request (as a hosted runner sees GHCR). The tools take turns; each run is a fresh repository holding one released commit. Ratios are the tool's figure over ocipromote's.\n\n", runs, runs, rtt)
	fmt.Fprintf(out, "| step | tool | processes | requests |")
	for _, c := range columns {
		fmt.Fprintf(out, " %s |", c.title)
	}
	fmt.Fprintf(out, " wall time, loopback | of which in the registry | wall time, %s RTT | requests ratio | time ratio, loopback | time ratio, %s RTT |\n|---|---|--:|--:|", rtt, rtt)
	for range columns {
		fmt.Fprintf(out, "--:|")
	}
	fmt.Fprintf(out, "--:|--:|--:|--:|--:|--:|\n")
	for _, step := range []string{stepBuild, stepPromote} {
		ours := loopback[step][toolOurs]
		oursReq := len(ours[0].requests)
		oursLoop, oursRemote := medianOf(ours), medianOf(remote[step][toolOurs])
		for _, tool := range []string{toolOurs, toolFlux, toolCrane} {
			ms := loopback[step][tool]
			m := ms[0]
			reqs := fmt.Sprint(len(m.requests))
			lo, hi := spread(append(slices.Clone(ms), remote[step][tool]...))
			if lo != hi {
				reqs = fmt.Sprintf("%d–%d", lo, hi)
			}
			fmt.Fprintf(out, "| %s | %s | %d | %s |", step, tool, m.processes, reqs)
			for _, c := range columns {
				fmt.Fprintf(out, " %d |", count(m.requests, c.kinds))
			}
			tl, tr := medianOf(ms), medianOf(remote[step][tool])
			fmt.Fprintf(out, " %s | %s | %s | %s | %s | %s |\n", ms3(tl), ms3(medianRegistry(ms)), ms3(tr), ratio(float64(len(m.requests)), float64(oursReq)),
				ratio(float64(tl), float64(oursLoop)), ratio(float64(tr), float64(oursRemote)))
		}
		min := minimum[step]
		fmt.Fprintf(out, "| %s | theoretical minimum with the guards | | %d |", step, sum(min))
		for _, c := range columns {
			fmt.Fprintf(out, " %d |", min[c.title])
		}
		fmt.Fprintf(out, " | | | ocipromote: %+d | | |\n", oursReq-sum(min))
	}
	fmt.Fprintf(out, "\nWithout its guards (the claims and their re-listings, the reads before and after a contested tag, the read-back of every tag written, the integration check) the same tags take at least %d requests for build-rc and %d for tag-validated: the guards cost %d and %d.\n\n",
		unguarded[stepBuild], unguarded[stepPromote], sum(minimum[stepBuild])-unguarded[stepBuild], sum(minimum[stepPromote])-unguarded[stepPromote])
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func spread(ms []measurement) (lo, hi int) {
	lo, hi = len(ms[0].requests), len(ms[0].requests)
	for _, m := range ms {
		lo, hi = min(lo, len(m.requests)), max(hi, len(m.requests))
	}
	return lo, hi
}

func medianOf(ms []measurement) time.Duration {
	d := make([]time.Duration, len(ms))
	for i, m := range ms {
		d[i] = m.elapsed
	}
	return median(d)
}

func medianRegistry(ms []measurement) time.Duration {
	d := make([]time.Duration, len(ms))
	for i, m := range ms {
		d[i] = m.inRegistry
	}
	return median(d)
}

func ratio(a, b float64) string {
	if b == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f×", a/b)
}

func ms3(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }

func printBuilds(out io.Writer, builds, small []buildResult, files int, total int64) {
	fmt.Fprintf(out, "## Artifact build, %d files, %d MB\n\n", files, total>>20)
	fmt.Fprintf(out, "Each builder runs %d times in its own process, alternating; peak memory is the process's maximum resident set.\n\n", len(builds[0].times))
	fmt.Fprintf(out, "| builder | time (median) | runs | peak memory | digest | same digest every run |\n|---|--:|---|--:|---|---|\n")
	for _, b := range builds {
		runs := make([]string, len(b.times))
		for i, t := range b.times {
			runs[i] = fmt.Sprintf("%.0f", float64(t)/float64(time.Millisecond))
		}
		stable := "yes"
		for _, d := range b.digests {
			if d != b.digests[0] {
				stable = "NO: " + strings.Join(b.digests, ", ")
			}
		}
		fmt.Fprintf(out, "| %s | %s | %s ms | %.0f MiB | `%s` | %s |\n", b.name, ms3(median(b.times)), strings.Join(runs, ", "), float64(b.maxRSS)/(1<<20), short(b.digests[0]), stable)
	}
	fmt.Fprintf(out, "\nTime ratio ocipromote/Flux: %s. On the steps' own tree (40 files, 200 KB), packing takes %s with ocipromote's builder and %s with Flux's (medians of 5 processes, start-up included); build-rc's wall time above includes it.\n\n",
		ratio(float64(median(builds[0].times)), float64(median(builds[1].times))), ms3(median(small[0].times)), ms3(median(small[1].times)))
}

func short(digest string) string {
	if len(digest) > 19 {
		return digest[:19] + "…"
	}
	return digest
}

// benchPackages are the root module's packages with scale benchmarks; the sign packages give
// what signing adds to a build and verification to a promotion (requests and time).
var benchPackages = []string{"./pkg/version", "./pkg/pipeline", "./pkg/oci", "./pkg/sign", "./pkg/sign/bundleverify", "./pkg/sign/keyless"}

// benchLine is one Go benchmark result.
type benchLine struct {
	pkg, name string
	metrics   [][2]string // value, unit
}

// goBenchmarks runs the root module's benchmarks and returns their results.
func goBenchmarks(ctx context.Context, root, benchtime string) ([]benchLine, error) {
	args := append([]string{"test", "-p=1", "-run=NONE", "-bench=.", "-benchmem", "-benchtime=" + benchtime, "-count=1"}, benchPackages...)
	out, err := goCmd(ctx, root, nil, args...)
	if err != nil {
		return nil, err
	}
	var lines []benchLine
	pkg := ""
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) == 2 && f[0] == "pkg:":
			pkg = strings.TrimPrefix(f[1], "github.com/ocipromote/ocipromote/")
		case len(f) >= 4 && strings.HasPrefix(f[0], "Benchmark"):
			l := benchLine{pkg: pkg, name: strings.TrimPrefix(f[0], "Benchmark")}
			if i := strings.LastIndex(l.name, "-"); i > 0 {
				l.name = l.name[:i]
			}
			for i := 2; i+1 < len(f); i += 2 {
				l.metrics = append(l.metrics, [2]string{f[i], f[i+1]})
			}
			lines = append(lines, l)
		}
	}
	return lines, sc.Err()
}

func printScale(out io.Writer, lines []benchLine) {
	fmt.Fprintf(out, "## Scale (Go benchmarks of the root module, `go test -bench . -benchmem`)\n\n")
	fmt.Fprintf(out, "| package | benchmark | time/op | requests/op | allocated/op | allocs/op |\n|---|---|--:|--:|--:|--:|\n")
	for _, l := range lines {
		get := func(unit string) string {
			for _, m := range l.metrics {
				if m[1] == unit {
					return m[0]
				}
			}
			return ""
		}
		t := get("ns/op")
		if ns, err := strconv.ParseFloat(t, 64); err == nil {
			t = fmt.Sprintf("%.2f ms", ns/1e6)
		}
		bytes := get("B/op")
		if b, err := strconv.ParseFloat(bytes, 64); err == nil {
			bytes = fmt.Sprintf("%.1f MB", b/1e6)
		}
		fmt.Fprintf(out, "| %s | %s | %s | %s | %s | %s |\n", l.pkg, l.name, t, get("requests/op"), bytes, get("allocs/op"))
	}
	fmt.Fprintln(out)
}
