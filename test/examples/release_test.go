package examples

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// releaseSource is what scripts/release-archives.sh and actions/install.sh use of the repository:
// the Go source the binaries are built from, the LICENSE the archives carry, the actions with
// install.sh and checksums.txt, and the script itself.
var releaseSource = []string{"go.mod", "go.sum", "LICENSE", "cmd", "pkg", "action.yml", "actions", "scripts/release-archives.sh"}

// The release the test makes up; the archives' time is fixed (release.yml uses the tag's commit time).
const (
	testRelease    = "v0.1.0"
	testSourceDate = "1785578400" // 2026-08-01T10:00:00Z
)

// The release path end to end, on this host's platform: scripts/release-archives.sh builds the
// archives as release.yml does, twice from two copies of the source under different paths, umasks
// and time zones, and the bytes agree; its pin subcommand writes actions/checksums.txt from the
// archives' checksums.txt as release.yml does; and actions/install.sh fetch, run from a copy of the
// action tree with OCIPROMOTE_RELEASE_URL pointing at the built archives, installs binaries that
// run. A tampered archive is refused, a pin for another source digest builds from source instead,
// and the seam takes no URL but a file:// one.
func TestReleaseArchives(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the release archives twice")
	}
	if runtime.GOOS == "windows" {
		t.Skip("the release scripts and actions/install.sh run on Linux and macOS")
	}
	for _, tool := range []string{"bash", "gzip", "sha256sum", "tar"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not on PATH: %v", tool, err)
		}
	}
	if out, err := exec.Command("tar", "--version").Output(); err != nil || !bytes.Contains(out, []byte("GNU tar")) {
		t.Skip("scripts/release-archives.sh needs GNU tar")
	}
	root := repoRoot(t)
	checkReleaseWorkflow(t, root)

	// One snapshot of the source, so that edits made to the repository while the test runs
	// cannot make the two builds differ; the second build runs from a copy at another path.
	snapshot := filepath.Join(t.TempDir(), "ocipromote")
	copyPaths(t, root, snapshot, releaseSource)
	other := filepath.Join(t.TempDir(), "elsewhere", "ocipromote-copy")
	copyPaths(t, snapshot, other, releaseSource)

	releases := t.TempDir() // laid out as the release downloads: <version>/<archive>
	dist := filepath.Join(releases, testRelease)
	again := filepath.Join(t.TempDir(), "dist")
	start := time.Now()
	buildArchives(t, snapshot, dist, "022", "UTC")
	buildArchives(t, other, again, "077", "Asia/Kolkata")
	t.Logf("built the archives twice in %s", time.Since(start).Round(100*time.Millisecond))
	sameFiles(t, dist, again)

	archive := fmt.Sprintf("ocipromote_%s_%s.tar.gz", runtime.GOOS, runtime.GOARCH)
	sums := readFile(t, filepath.Join(dist, "checksums.txt"))
	if !regexp.MustCompile(`^[0-9a-f]{64}  ` + regexp.QuoteMeta(archive) + "\n$").Match(sums) {
		t.Fatalf("checksums.txt is %q, want one sha256sum line for %s", sums, archive)
	}
	source := strings.TrimSpace(string(readFile(t, filepath.Join(dist, "source-digest"))))
	checkArchiveEntries(t, snapshot, filepath.Join(dist, archive))

	// The pin, as release.yml writes it from the published checksums.txt.
	pin := run(t, snapshot, nil, "bash", "scripts/release-archives.sh", "pin", testRelease, filepath.Join(dist, "checksums.txt"))
	if pin.err != nil {
		t.Fatalf("release-archives.sh pin: %v\n%s", pin.err, pin.stderr)
	}
	for _, want := range []string{"\nversion: " + testRelease + "\n", "\nsource: " + source + "\n", "\n" + string(sums)} {
		if !strings.Contains(pin.stdout, want) {
			t.Fatalf("the pinned checksums.txt lacks %q:\n%s", want, pin.stdout)
		}
	}
	if !strings.HasPrefix(pin.stdout, "# ") {
		t.Errorf("the pinned checksums.txt does not keep the comments of actions/checksums.txt:\n%s", pin.stdout)
	}
	pinned := []byte(pin.stdout)
	otherSource := regexp.MustCompile(`(?m)^source: [0-9a-f]{64}$`).ReplaceAll(pinned, []byte("source: "+strings.Repeat("0", 64)))
	otherPlatform := bytes.ReplaceAll(pinned, []byte(archive), []byte("ocipromote_plan9_mips.tar.gz"))

	tampered := t.TempDir()
	copyPaths(t, releases, tampered, []string{testRelease})
	flipLastByte(t, filepath.Join(tampered, testRelease, archive))

	tests := []struct {
		name       string
		checksums  []byte
		releaseURL string
		env        []string
		ok         bool
		installed  string // the installed output; "" when the step fails
		want       string // in its stdout and stderr
	}{
		{"installs the verified release", pinned, "file://" + releases, nil, true, "true", "installed release " + testRelease},
		{"refuses a tampered archive", pinned, "file://" + tampered, nil, false, "", "refusing to install it"},
		{"builds when the pin is of another source", otherSource, "file://" + releases, nil, true, "false", "::notice title=ocipromote install::this commit of the action is not the source of release " + testRelease},
		{"builds when nothing is pinned for the platform", otherPlatform, "file://" + releases, nil, true, "false", "::notice title=ocipromote install::actions/checksums.txt pins no release archive " + archive},
		{"takes no URL but file://", pinned, "https://example.com/releases", nil, false, "", "may only be a file:// URL"},
		{"refuses Windows", pinned, "file://" + releases, []string{"RUNNER_OS=Windows", "RUNNER_ARCH=X64"}, false, "", "run on Linux and macOS runners only"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			action := filepath.Join(t.TempDir(), "ocipromote")
			copyPaths(t, snapshot, action, releaseSource)
			if err := os.WriteFile(filepath.Join(action, "actions", "checksums.txt"), tc.checksums, 0o644); err != nil {
				t.Fatal(err)
			}
			runnerTemp, files := t.TempDir(), t.TempDir()
			outputFile, pathFile := filepath.Join(files, "output"), filepath.Join(files, "path")
			env := append([]string{
				"RUNNER_TEMP=" + runnerTemp,
				"GITHUB_OUTPUT=" + outputFile,
				"GITHUB_PATH=" + pathFile,
				"OCIPROMOTE_RELEASE_URL=" + tc.releaseURL,
			}, tc.env...)
			r := run(t, action, env, "bash", "actions/install.sh", "fetch")
			log := r.stdout + r.stderr
			if ok := r.err == nil; ok != tc.ok {
				t.Fatalf("install.sh fetch: error %v, want success %v\n%s", r.err, tc.ok, log)
			}
			if !strings.Contains(log, tc.want) {
				t.Errorf("install.sh fetch did not say %q:\n%s", tc.want, log)
			}
			outputs := stepOutputs(t, outputFile)
			if got := outputs["installed"]; got != tc.installed {
				t.Errorf("installed=%q, want %q\n%s", got, tc.installed, log)
			}
			binDir := outputs["bin_dir"]
			if tc.installed != "true" {
				// Nothing of the archive reached the place the binaries run from.
				if entries, _ := filepath.Glob(filepath.Join(runnerTemp, "ocipromote", "*", "bin", "*")); len(entries) > 0 {
					t.Errorf("install.sh fetch left %q behind", entries)
				}
				return
			}
			if !strings.HasPrefix(binDir, runnerTemp+string(filepath.Separator)) {
				t.Fatalf("bin_dir=%q, want a directory under RUNNER_TEMP %s", binDir, runnerTemp)
			}
			if got := strings.TrimSpace(string(readFile(t, pathFile))); got != binDir {
				t.Errorf("GITHUB_PATH holds %q, want bin_dir %s", got, binDir)
			}
			binaries, err := os.ReadDir(filepath.Join(action, "cmd"))
			if err != nil {
				t.Fatal(err)
			}
			for _, b := range binaries {
				if !b.IsDir() {
					continue
				}
				if r := run(t, action, nil, filepath.Join(binDir, b.Name()), "--help"); r.err != nil || !strings.Contains(r.stdout+r.stderr, "Usage") {
					t.Errorf("the installed %s does not run: %v\n%s%s", b.Name(), r.err, r.stdout, r.stderr)
				}
			}
		})
	}
}

// checkReleaseWorkflow checks that release.yml builds and pins with the script the test runs,
// with an exact Go version that satisfies go.mod.
func checkReleaseWorkflow(t *testing.T, root string) {
	t.Helper()
	raw := string(readFile(t, filepath.Join(root, ".github", "workflows", "release.yml")))
	for _, want := range []string{"bash scripts/release-archives.sh build ", "bash scripts/release-archives.sh pin ", "go-version: ${{ env.GO_VERSION }}"} {
		if !strings.Contains(raw, want) {
			t.Errorf("release.yml does not run %q", want)
		}
	}
	m := regexp.MustCompile(`(?m)^  GO_VERSION: '(\d+\.\d+\.\d+)'$`).FindStringSubmatch(raw)
	if m == nil {
		t.Fatal("release.yml does not pin the exact Go version of its builds (env GO_VERSION: 'X.Y.Z')")
	}
	mod := regexp.MustCompile(`(?m)^go (\d+\.\d+(?:\.\d+)?)$`).FindStringSubmatch(string(readFile(t, filepath.Join(root, "go.mod"))))
	if mod == nil {
		t.Fatal("go.mod has no go line")
	}
	if olderGo(m[1], mod[1]) {
		t.Errorf("release.yml builds with Go %s, older than go.mod's go %s", m[1], mod[1])
	}
}

// olderGo reports whether Go version a (1.26.8) is older than b (1.26 or 1.26.0).
func olderGo(a, b string) bool {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := range max(len(pa), len(pb)) {
		var x, y int
		if i < len(pa) {
			x, _ = strconv.Atoi(pa[i])
		}
		if i < len(pb) {
			y, _ = strconv.Atoi(pb[i])
		}
		if x != y {
			return x < y
		}
	}
	return false
}

// buildArchives runs release-archives.sh build for this host's platform, as release.yml runs it
// for every target.
func buildArchives(t *testing.T, tree, dist, umask, tz string) {
	t.Helper()
	r := run(t, tree, []string{"OCIPROMOTE_TARGETS=host", "SOURCE_DATE_EPOCH=" + testSourceDate, "TZ=" + tz},
		"bash", "-c", `umask "$0" && exec bash scripts/release-archives.sh build "$1"`, umask, dist)
	if r.err != nil {
		t.Fatalf("release-archives.sh build in %s: %v\n%s%s", tree, r.err, r.stdout, r.stderr)
	}
}

// sameFiles checks that two directories hold the same files with the same bytes.
func sameFiles(t *testing.T, a, b string) {
	t.Helper()
	names := func(dir string) []string {
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		var n []string
		for _, e := range entries {
			n = append(n, e.Name())
		}
		return n
	}
	na, nb := names(a), names(b)
	if !slices.Equal(na, nb) {
		t.Fatalf("the builds made different files: %q and %q", na, nb)
	}
	for _, n := range na {
		if !bytes.Equal(readFile(t, filepath.Join(a, n)), readFile(t, filepath.Join(b, n))) {
			t.Errorf("%s differs between two builds of the same source", n)
		}
	}
	if !slices.ContainsFunc(na, func(n string) bool { return strings.HasSuffix(n, ".tar.gz") }) {
		t.Errorf("the build made no archive: %q", na)
	}
}

// checkArchiveEntries checks that an archive holds every binary of cmd/, executable, and the
// LICENSE the binaries are distributed under (Apache-2.0 section 4(a)), as the source has it.
func checkArchiveEntries(t *testing.T, tree, archive string) {
	t.Helper()
	cmds, err := os.ReadDir(filepath.Join(tree, "cmd"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{"LICENSE": 0o644}
	for _, c := range cmds {
		want[c.Name()] = 0o755
	}
	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	got := map[string]int64{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("reading %s: %v", archive, err)
		}
		got[h.Name] = h.Mode
		if h.Name == "LICENSE" {
			b, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(b, readFile(t, filepath.Join(tree, "LICENSE"))) {
				t.Errorf("the LICENSE in %s is not the repository's", archive)
			}
		}
	}
	if !maps.Equal(got, want) {
		t.Errorf("%s holds %v (name: mode), want %v", filepath.Base(archive), got, want)
	}
}

func flipLastByte(t *testing.T, file string) {
	t.Helper()
	b := readFile(t, file)
	b[len(b)-1] ^= 0xff
	if err := os.WriteFile(file, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// copyPaths copies the files and directories paths (slash-separated, relative) from src to dst.
func copyPaths(t *testing.T, src, dst string, paths []string) {
	t.Helper()
	for _, p := range paths {
		from, to := filepath.Join(src, filepath.FromSlash(p)), filepath.Join(dst, filepath.FromSlash(p))
		fi, err := os.Stat(from)
		if err != nil {
			t.Fatal(err)
		}
		if fi.IsDir() {
			err = os.CopyFS(to, os.DirFS(from))
		} else {
			if err = os.MkdirAll(filepath.Dir(to), 0o755); err == nil {
				err = os.WriteFile(to, readFile(t, from), fi.Mode().Perm())
			}
		}
		if err != nil {
			t.Fatalf("copy %s: %v", p, err)
		}
	}
}

func readFile(t *testing.T, file string) []byte {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type result struct {
	stdout, stderr string
	err            error
}

// run runs a command in dir with this process's environment (Go's caches, PATH) minus anything
// that would make it think it runs in GitHub Actions, plus env.
func run(t *testing.T, dir string, env []string, name string, args ...string) result {
	t.Helper()
	// A bound against a hung build, not a speed check: a cross-build of every platform on a
	// shared, loaded 2-core machine took over 5 minutes.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "GITHUB_") || strings.HasPrefix(k, "RUNNER_") || strings.HasPrefix(k, "INPUT_") || strings.HasPrefix(k, "OCIPROMOTE_") {
			continue
		}
		cmd.Env = append(cmd.Env, kv)
	}
	cmd.Env = append(cmd.Env, env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return result{stdout.String(), stderr.String(), err}
}

// stepOutputs reads the name=value lines a step wrote to a GITHUB_OUTPUT file.
func stepOutputs(t *testing.T, file string) map[string]string {
	t.Helper()
	outputs := map[string]string{}
	b, err := os.ReadFile(file)
	if os.IsNotExist(err) {
		return outputs
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			outputs[k] = v
		}
	}
	return outputs
}

// Issue 14: every action built all four binaries, so promote.yaml's decide job compiled three it
// never runs, and the promote job compiled them all again. An action builds the binary it runs;
// a later action of the job that needs another binary builds that one.
func TestInstallBuildsWhatTheActionRuns(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	runnerTemp, files := t.TempDir(), t.TempDir()
	env := []string{"RUNNER_TEMP=" + runnerTemp, "GITHUB_OUTPUT=" + filepath.Join(files, "output"), "GITHUB_PATH=" + filepath.Join(files, "path")}
	if r := run(t, root, env, "bash", "actions/install.sh", "build", "dispatch-receiver"); r.err != nil {
		t.Fatalf("install.sh build dispatch-receiver: %v\n%s%s", r.err, r.stdout, r.stderr)
	}
	bins, err := filepath.Glob(filepath.Join(runnerTemp, "ocipromote", "*", "bin", "*"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, b := range bins {
		names = append(names, filepath.Base(b))
	}
	if want := []string{".ocipromote-installed", "dispatch-receiver"}; !slices.Equal(names, want) {
		t.Errorf("built %q, want %q", names, want)
	}
	for bin, reused := range map[string]bool{"dispatch-receiver": true, "tag-validated": false} {
		r := run(t, root, env, "bash", "actions/install.sh", "fetch", bin)
		if got := strings.Contains(r.stdout, "reusing the binaries installed earlier"); r.err != nil || got != reused {
			t.Errorf("install.sh fetch %s: reused %v, want %v (%v)\n%s%s", bin, got, reused, r.err, r.stdout, r.stderr)
		}
	}
}
