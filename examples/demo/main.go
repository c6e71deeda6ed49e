// Command demo runs the whole promotion pipeline with the built binaries, as a user would type
// them, against an in-memory registry served on loopback: merges to a throwaway git repository
// build release candidates, Flux-shaped events go through dispatch-receiver and tag-validated,
// and an on-call engineer reads `ocipromote status`, rolls back and releases the hold before a
// later promotion. A short run of a chain of three stages (dev, preprod, prod) follows: each
// stage's event promotes to the next, prod's change window defers, and the scheduled pending run
// promotes once it opens. Each step prints the command, the binary's own output, one line saying what
// happened and why, and what a Flux OCIRepository on each cluster would select. Run it with
// `make demo`.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"

	"github.com/ocipromote/ocipromote/pkg/oci"
	"github.com/ocipromote/ocipromote/pkg/stage"
	"github.com/ocipromote/ocipromote/pkg/version"
)

// width is the widest line the demo prints: it must read on a terminal and in a CI log.
const width = 100

const object = "Kustomization/platform.flux-system"

// binaries are the commands the demo runs, built from ./cmd.
var binaries = []string{"build-rc", "dispatch-receiver", "tag-validated", "ocipromote"}

var clusters = []struct{ name, semver, filter string }{
	{"integration", ">= 0.0.0-0", ".*-rc.*"},
	{"live", ">= 0.0.0", ""},
}

func main() {
	bin := flag.String("bin", "", "directory holding the built binaries (default: build them into a temporary directory)")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := run(ctx, os.Stdout, *bin); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

// commands is the one place the demo's command lines are written: each returns the argv a user
// types (the binary's name first), so a flag that changes is changed here only.
// The embedded registry lists every write at once, so the steps that claim a tag need not wait
// out a registry's listing lag: --settle 0s. Against GHCR or any other registry leave the default.
type commands struct{ repo string }

func (c commands) buildRC(path, sha string) []string {
	return []string{"build-rc", "--repository", c.repo, "--path", path, "--sha", sha,
		"--ref", "main", "--source", "https://github.com/acme/platform", "--settle", "0s", "--json"}
}

func (c commands) dispatchReceiver(eventPath string) []string {
	return []string{"dispatch-receiver", "--event-name", "repository_dispatch", "--event-path", eventPath,
		"--object", object, "--cluster", "integration", "--repository", c.repo, "--json"}
}

func (c commands) tagValidated(revision string) []string {
	return []string{"tag-validated", "--repository", c.repo, "--revision", revision, "--settle", "0s", "--json"}
}

// threeStages is the chain of the demo's second run.
const threeStages = "dev,preprod,prod"

func (c commands) buildRCStages(path, sha string) []string {
	return append(c.buildRC(path, sha), "--stages", threeStages)
}

func (c commands) dispatchReceiverStages(eventPath string) []string {
	return []string{"dispatch-receiver", "--event-name", "repository_dispatch", "--event-path", eventPath,
		"--object", object, "--stages", threeStages, "--repository", c.repo, "--json"}
}

func (c commands) tagValidatedTo(revision, to, windows string) []string {
	return []string{"tag-validated", "--repository", c.repo, "--revision", revision, "--stages", threeStages,
		"--to", to, "--windows", windows, "--settle", "0s", "--json"}
}

func (c commands) promotePending(to, windows string) []string {
	return []string{"tag-validated", "--repository", c.repo, "--pending", "--stages", threeStages,
		"--to", to, "--windows", windows, "--settle", "0s", "--json"}
}

func (c commands) status() []string {
	return []string{"ocipromote", "status", "--repository", c.repo}
}

func (c commands) rollback(to, reason string) []string {
	return []string{"ocipromote", "rollback", "--repository", c.repo, "--to", to, "--reason", reason, "--actor", "oncall", "--settle", "0s"}
}

func (c commands) holdRelease(reason string) []string {
	return []string{"ocipromote", "hold", "release", "--repository", c.repo, "--reason", reason, "--actor", "oncall", "--settle", "0s"}
}

// demo holds what every step needs: where the binaries are, the checkout the commands run in,
// as a user runs them from a clone, and the registry.
type demo struct {
	out      io.Writer
	bin      string
	checkout string
	cmd      commands
	reg      *oci.Repository
	step     int
	// chain is set for the run of three stages: events name their stage, promotions their
	// target, and the selection shows each stage's; windows are prod's change windows.
	chain   stage.Chain
	windows string
}

func run(ctx context.Context, out io.Writer, bin string) error {
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "ocipromote-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	if bin == "" {
		bin = filepath.Join(work, "bin")
		if err := build(ctx, root, bin); err != nil {
			return err
		}
	}
	if bin, err = filepath.Abs(bin); err != nil {
		return err
	}

	// httptest listens on 127.0.0.1, which go-containerregistry (and so pkg/oci) talks to over
	// plain HTTP (name.Registry.Scheme treats loopback as insecure), so the binaries need no flag.
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	repo := strings.TrimPrefix(srv.URL, "http://") + "/acme/platform-manifests"
	reg, err := oci.Open(repo, oci.Options{})
	if err != nil {
		return err
	}
	checkout := filepath.Join(work, "platform")
	if err := newCheckout(ctx, filepath.Join(root, "examples", "manifests"), checkout); err != nil {
		return err
	}
	d := &demo{out: &folder{w: out}, bin: bin, checkout: checkout, cmd: commands{repo: repo}, reg: reg}
	fmt.Fprintf(d.out, "in-memory registry: oci://%s\n", repo)
	fmt.Fprintf(d.out, "binaries: %s (put them on PATH to type these commands yourself)\n", bin)
	fmt.Fprintf(d.out, "commands run in a git checkout of examples/manifests: %s\n\n", checkout)
	return d.story(ctx, checkout)
}

func (d *demo) story(ctx context.Context, checkout string) error {
	// 0.0.1: the first merge is validated by integration and promoted.
	rc1, err := d.merge(ctx, checkout, 0, "replicas: 2", "the first merge: nothing is tagged yet, so the first candidate of 0.0.1")
	if err != nil {
		return err
	}
	if err := d.flux(ctx, "health-rc1", "integration", "Health check passed in 4.2s", rc1, true,
		"integration reconciled this candidate and found it healthy: exactly that digest becomes 0.0.1"); err != nil {
		return err
	}

	// 0.0.2: events that must not promote, then the one that does, then Flux's repeat.
	rc2, err := d.merge(ctx, checkout, 1, "replicas: 3", "live runs 0.0.1, so the next candidate is 0.0.2-rc.1; live does not move")
	if err != nil {
		return err
	}
	for _, e := range []struct{ name, cluster, message, why string }{
		{"applied-rc2", "integration", "Deployment/podinfo/podinfo configured",
			"a change set was applied but nothing says it is healthy yet, so nothing is promoted"},
		{"live-rc2", "live", "Health check passed in 3.9s",
			"only integration's verdict counts: live's own health check is ignored"},
	} {
		if err := d.flux(ctx, e.name, e.cluster, e.message, rc2, false, e.why); err != nil {
			return err
		}
	}
	if err := d.flux(ctx, "health-rc2", "integration", "Health check passed in 4.4s", rc2, true,
		"integration validated 0.0.2-rc.1, so its digest is tagged 0.0.2 and live follows"); err != nil {
		return err
	}
	if err := d.flux(ctx, "repeat-rc2", "integration", "Health check passed in 4.5s", rc2, true,
		"Flux sends the same success again: the tags are already there, so nothing is written"); err != nil {
		return err
	}
	if err := d.show(ctx, "on call: what runs where?", d.cmd.status(),
		"status lists each commit's artifact with its tags and what each cluster selects"); err != nil {
		return err
	}

	// 0.0.2 misbehaves on live: roll back to 0.0.1's artifact, which holds promotion.
	if err := d.show(ctx, "on call: 0.0.2 breaks live, roll back to 0.0.1", d.cmd.rollback("0.0.1", "0.0.2 breaks checkout"),
		"0.0.1's digest gets the next stable tag, so live selects it; a hold stops automatic promotion"); err != nil {
		return err
	}
	rc4, err := d.merge(ctx, checkout, 2, "replicas: 4", "CI goes on building: the highest stable is now 0.0.3, so this is 0.0.4-rc.1")
	if err != nil {
		return err
	}
	if err := d.flux(ctx, "health-rc4-held", "integration", "Health check passed in 4.1s", rc4, true,
		"integration validated it, but the hold set by the rollback keeps it from live"); err != nil {
		return err
	}
	if err := d.show(ctx, "on call: the fix is understood, release the hold", d.cmd.holdRelease("0.0.2 fixed by 0.0.4"),
		"the hold is lifted; live stays on 0.0.3 until the next health check promotes a candidate"); err != nil {
		return err
	}

	// A later merge is validated and promoted as usual.
	rc5, err := d.merge(ctx, checkout, 3, "replicas: 5", "a later merge: the next candidate of 0.0.4")
	if err != nil {
		return err
	}
	if err := d.flux(ctx, "health-rc5", "integration", "Health check passed in 4.0s", rc5, true,
		"no hold any more: integration's verdict promotes the newest candidate to live"); err != nil {
		return err
	}
	if err := d.show(ctx, "on call: where are we now?", d.cmd.status(),
		"live runs the newest validated candidate, and the hold line says who released it and why"); err != nil {
		return err
	}
	return d.threeStages(ctx, checkout)
}

// threeStages runs a chain of dev, preprod and prod in a repository of its own: each stage's
// event records its evidence and promotes to the next stage; prod's change window, closed today,
// defers the last promotion, which the scheduled pending run makes once a window is open.
func (d *demo) threeStages(ctx context.Context, checkout string) error {
	repo := strings.TrimSuffix(d.cmd.repo, "/acme/platform-manifests") + "/acme/three-stages"
	reg, err := oci.Open(repo, oci.Options{})
	if err != nil {
		return err
	}
	if d.chain, err = stage.Parse(threeStages); err != nil {
		return err
	}
	d.cmd, d.reg = commands{repo: repo}, reg
	now := time.Now().UTC()
	// A window three days from today is closed now; one of today and tomorrow is open.
	closed := "prod=" + now.AddDate(0, 0, 3).Format("Mon") + " 00:00-24:00 UTC"
	open := "prod=" + now.Format("Mon") + "," + now.AddDate(0, 0, 1).Format("Mon") + " 00:00-24:00 UTC"
	fmt.Fprintf(d.out, "# three stages, %s, in oci://%s\n\n", threeStages, repo)

	rc, err := d.merge(ctx, checkout, 4, "replicas: 6", "with --stages the candidate is offered to dev, the first stage")
	if err != nil {
		return err
	}
	d.windows = closed
	if err := d.flux(ctx, "health-dev", "dev", "Health check passed in 3.8s", rc, true,
		"dev's pass is recorded in the registry, then the candidate enters preprod"); err != nil {
		return err
	}
	inPreprod := candidate{digest: rc.digest, sha: rc.sha}
	if inPreprod.version, err = d.chain.In(rc.version, "preprod"); err != nil {
		return err
	}
	if err := d.flux(ctx, "health-preprod", "preprod", "Health check passed in 4.3s", inPreprod, true,
		"preprod's pass is recorded, but prod's change window is closed: deferred, nothing written"); err != nil {
		return err
	}
	return d.show(ctx, "the scheduled promote-pending runs once prod's window is open", d.cmd.promotePending("prod", open),
		"the newest candidate that passed preprod enters prod, every rule weighed again")
}

// candidate is what build-rc reported: the revision Flux will name in its events.
type candidate struct{ version, digest, sha string }

// merge commits a change to the checkout, as a merge to main does, and runs build-rc on it.
func (d *demo) merge(ctx context.Context, checkout string, n int, change, why string) (candidate, error) {
	sha, err := commit(ctx, checkout, n, change)
	if err != nil {
		return candidate{}, err
	}
	// build-rc packs the files on disk: they must be the commit's, as in CI's clean checkout.
	if dirty, err := git(ctx, checkout, time.Time{}, "status", "--porcelain"); err != nil || dirty != "" {
		return candidate{}, fmt.Errorf("the checkout is not clean before build-rc (%v): %s", err, dirty)
	}
	title := fmt.Sprintf("merge %s (%s): CI runs build-rc", sha[:7], change)
	argv := d.cmd.buildRC("manifests", sha)
	if d.chain.Len() > 0 {
		argv = d.cmd.buildRCStages("manifests", sha)
	}
	out, err := d.exec(ctx, title, argv)
	if err != nil {
		return candidate{}, err
	}
	c := candidate{version: out["version"], digest: out["digest"], sha: sha}
	if c.version == "" || c.digest == "" {
		return c, fmt.Errorf("build-rc printed no version or digest: %v", out)
	}
	fmt.Fprintf(d.out, "=> %s\n", why)
	return c, d.selection(ctx)
}

// flux writes the repository_dispatch event Flux's githubdispatch provider would send and runs
// the promotion job on it: dispatch-receiver decides, tag-validated promotes what it decided.
func (d *demo) flux(ctx context.Context, name, cluster, message string, c candidate, healthy bool, why string) error {
	path := filepath.Join("events", name+".json")
	payload := fluxDispatch(cluster, message, c.version+"@"+c.digest, c.sha)
	if err := os.WriteFile(filepath.Join(d.checkout, path), payload, 0o644); err != nil {
		return err
	}
	title := fmt.Sprintf("Flux on %s: %q for %s", cluster, message, c.version)
	receive, promote := d.cmd.dispatchReceiver(path), d.cmd.tagValidated
	if d.chain.Len() > 0 {
		receive = d.cmd.dispatchReceiverStages(path)
	}
	decision, err := d.exec(ctx, title, receive)
	if err != nil {
		return err
	}
	if decision["promote"] == "true" {
		argv := promote(decision["revision"])
		if d.chain.Len() > 0 {
			argv = d.cmd.tagValidatedTo(decision["revision"], decision["to"], d.windows)
		}
		if _, err := d.exec(ctx, "", argv); err != nil {
			return err
		}
	}
	fmt.Fprintf(d.out, "=> %s\n", why)
	return d.selection(ctx)
}

// show runs an operator's command and prints its output.
func (d *demo) show(ctx context.Context, title string, argv []string, why string) error {
	if _, err := d.exec(ctx, title, argv); err != nil {
		return err
	}
	fmt.Fprintf(d.out, "=> %s\n", why)
	return d.selection(ctx)
}

// exec prints a command as a user types it, runs the built binary in the checkout with
// none of the runner's variables, and prints what it printed: the human line (stderr, without
// the structured log lines) and the outputs (stdout). A title starts a new numbered step. It
// returns the outputs when the command printed JSON.
func (d *demo) exec(ctx context.Context, title string, argv []string) (map[string]string, error) {
	if title != "" {
		d.step++
		fmt.Fprintf(d.out, "## %d. %s\n", d.step, title)
	}
	fmt.Fprintln(d.out, commandLine(argv))
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(d.bin, argv[0]), argv[1:]...)
	cmd.Dir = d.checkout
	cmd.Env = cleanEnv(os.Environ())
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	for _, line := range strings.Split(strings.TrimRight(stderr.String(), "\n"), "\n") {
		if line != "" && (runErr != nil || !strings.HasPrefix(line, "time=")) {
			fmt.Fprintln(d.out, line)
		}
	}
	if runErr != nil {
		fmt.Fprint(d.out, stdout.String())
		return nil, fmt.Errorf("%s: %w", argv[0], runErr)
	}
	var outputs map[string]any
	if json.Unmarshal(stdout.Bytes(), &outputs) != nil {
		fmt.Fprint(d.out, stdout.String())
		return nil, nil
	}
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, stdout.Bytes(), "", "  "); err != nil {
		return nil, err
	}
	fmt.Fprint(d.out, pretty.String())
	flat := make(map[string]string, len(outputs))
	for k, v := range outputs {
		flat[k] = fmt.Sprint(v)
	}
	return flat, nil
}

// selection prints the tag a Flux OCIRepository on each cluster selects now, with the same
// selection rules as Flux (pkg/version), then ends the step with a blank line.
func (d *demo) selection(ctx context.Context) error {
	list, err := d.reg.Tags(ctx)
	if err != nil {
		return err
	}
	if d.chain.Len() > 0 {
		// Each stage's OCIRepository ref is what `ocipromote stages` prints.
		for _, s := range d.chain.Names() {
			tag, err := d.chain.Select(list, s)
			if err != nil {
				return err
			}
			if tag == "" {
				tag = "(nothing yet)"
			}
			fmt.Fprintf(d.out, "   Flux on %-11s selects %s\n", s, tag)
		}
		fmt.Fprintln(d.out)
		return nil
	}
	for _, c := range clusters {
		tag, err := version.Select(list, c.semver, c.filter)
		if err != nil {
			return err
		}
		if tag == "" {
			tag = "(nothing yet)"
		}
		ref := fmt.Sprintf("semver %q", c.semver)
		if c.filter != "" {
			ref += fmt.Sprintf(", semverFilter %q", c.filter)
		}
		fmt.Fprintf(d.out, "   Flux on %-11s %-42s selects %s\n", c.name, ref, tag)
	}
	fmt.Fprintln(d.out)
	return nil
}

// cleanEnv drops the variables that would make a binary act as an Actions step (write
// GITHUB_OUTPUT, post GitHub records) or read inputs the demo does not show.
func cleanEnv(env []string) []string {
	var keep []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, "GITHUB_") && !strings.HasPrefix(kv, "INPUT_") && !strings.HasPrefix(kv, "RUNNER_") {
			keep = append(keep, kv)
		}
	}
	return keep
}

// commandLine renders argv as a shell line, quoted where needed, broken with backslashes so
// that it fits in width columns and can still be pasted.
func commandLine(argv []string) string {
	var lines []string
	line := "$"
	for i, a := range argv {
		w := shellQuote(a)
		// A flag stays on the line of its value.
		if i+1 < len(argv) && strings.HasPrefix(a, "--") && !strings.HasPrefix(argv[i+1], "--") {
			w += " " + shellQuote(argv[i+1])
		} else if i > 0 && strings.HasPrefix(argv[i-1], "--") && !strings.HasPrefix(a, "--") {
			continue
		}
		if len(line)+1+len(w)+2 > width && line != "$" && line != "   " {
			lines = append(lines, line+" \\")
			line = "   "
		}
		line += " " + w
	}
	return strings.Join(append(lines, line), "\n")
}

func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:=@,+", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// folder breaks any line longer than width at its last space before the limit (a binary's long
// reason, for instance), indenting the rest, so the demo reads on a narrow terminal.
type folder struct {
	w       io.Writer
	partial []byte
}

func (f *folder) Write(p []byte) (int, error) {
	f.partial = append(f.partial, p...)
	for {
		i := bytes.IndexByte(f.partial, '\n')
		if i < 0 {
			return len(p), nil
		}
		line := string(f.partial[:i])
		f.partial = f.partial[i+1:]
		if _, err := io.WriteString(f.w, fold(line)+"\n"); err != nil {
			return 0, err
		}
	}
}

func fold(line string) string {
	var parts []string
	indent := "      "
	for len(line) > width {
		cut := strings.LastIndexByte(line[:width], ' ')
		if cut <= len(indent) {
			cut = width
		}
		parts = append(parts, strings.TrimRight(line[:cut], " "))
		line = indent + strings.TrimLeft(line[cut:], " ")
	}
	return strings.Join(append(parts, line), "\n")
}

// fluxDispatch is the repository_dispatch payload GitHub delivers for a Flux githubdispatch
// Provider: the Flux event itself is the client_payload.
func fluxDispatch(cluster, message, revision, sha string) []byte {
	b, _ := json.Marshal(map[string]any{
		"action": object,
		"client_payload": map[string]any{
			"involvedObject": map[string]string{"kind": "Kustomization", "name": "platform", "namespace": "flux-system"},
			"severity":       "info",
			"timestamp":      "2026-11-25T09:05:00Z",
			"message":        message,
			"reason":         "Progressing",
			"metadata": map[string]string{
				"revision": revision, "originRevision": "main@sha1:" + sha, "cluster": cluster,
			},
			"reportingController": "kustomize-controller",
		},
	})
	return b
}

// moduleRoot finds the repository root (the directory of go.mod) from the working directory:
// make demo runs from it, go test from examples/demo.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found: run the demo from the repository (make demo)")
		}
		dir = parent
	}
}

// build compiles the binaries the demo runs, as make build does.
func build(ctx context.Context, root, bin string) error {
	args := []string{"build", "-trimpath", "-o", bin + string(filepath.Separator)}
	for _, b := range binaries {
		args = append(args, "./cmd/"+b)
	}
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build the binaries: %v\n%s", err, out)
	}
	return nil
}

// git runs git in dir with a fixed identity and clock and none of the user's configuration, so
// the demo's commits (and their shas) are the same on every machine.
func git(ctx context.Context, dir string, when time.Time, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = dir
	stamp := when.Format(time.RFC3339)
	cmd.Env = append(cleanEnv(os.Environ()), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME=Demo", "GIT_AUTHOR_EMAIL=demo@example.com", "GIT_AUTHOR_DATE="+stamp,
		"GIT_COMMITTER_NAME=Demo", "GIT_COMMITTER_EMAIL=demo@example.com", "GIT_COMMITTER_DATE="+stamp)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("git %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out)), nil
}

// newCheckout makes a git repository holding the example manifests under manifests/, and an
// events/ directory for the payloads GitHub would hand the promotion job, which git ignores: they
// are the runner's files, not the commit's, and must not make the checkout dirty.
func newCheckout(ctx context.Context, src, dir string) error {
	for _, d := range []string{"manifests", "events"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return err
		}
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		return fmt.Errorf("read the example manifests: %w", err)
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, "manifests", e.Name()), b, 0o644); err != nil {
			return err
		}
	}
	if _, err = git(ctx, dir, time.Time{}, "init", "-q", "-b", "main"); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, ".git", "info", "exclude"), []byte("/events/\n"), 0o644)
}

// commit sets the Deployment's replicas line to change and commits it; commit n is made n
// minutes after the first so build-rc's creation times are ordered.
func commit(ctx context.Context, dir string, n int, change string) (string, error) {
	path := filepath.Join(dir, "manifests", "deployment.yaml")
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	lines := strings.Split(string(b), "\n")
	for i, l := range lines {
		if strings.HasPrefix(strings.TrimSpace(l), "replicas:") {
			lines[i] = l[:len(l)-len(strings.TrimLeft(l, " "))] + change
		}
	}
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		return "", err
	}
	when := time.Date(2026, 11, 25, 9, n, 0, 0, time.UTC)
	if _, err := git(ctx, dir, when, "add", "-A"); err != nil {
		return "", err
	}
	if _, err := git(ctx, dir, when, "commit", "-q", "--allow-empty", "-m", "deploy: "+change); err != nil {
		return "", err
	}
	return git(ctx, dir, when, "rev-parse", "HEAD")
}
