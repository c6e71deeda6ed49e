package act

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// The act release the test runs, installed with go install.
const (
	actPackage = "github.com/nektos/act"
	actVersion = "0.2.89"
)

// Time limits: installing act compiles it (once per machine), and one workflow run builds the
// ocipromote binaries from source, which takes seconds once the build cache is warm.
const (
	installTimeout = 10 * time.Minute
	runTimeout     = 3 * time.Minute
)

// goEnv is what the go command that runs this test reports, so the workflows build ocipromote
// with the same toolchain and caches.
type goEnv struct {
	GOROOT     string
	GOCACHE    string
	GOMODCACHE string
}

func readGoEnv(t *testing.T) goEnv {
	t.Helper()
	out, err := exec.Command("go", "env", "-json", "GOROOT", "GOCACHE", "GOMODCACHE").Output()
	if err != nil {
		t.Fatalf("go env: %v", err)
	}
	var env goEnv
	if err := json.Unmarshal(out, &env); err != nil {
		t.Fatalf("go env -json: %v\n%s", err, out)
	}
	return env
}

// installAct returns an act binary of actVersion. It is built once with go install into the user
// cache directory (ocipromote/act-<version>/act) and reused while it reports that version; a
// new build is moved into place whole, so concurrent test runs never see half a binary.
func installAct(t *testing.T) string {
	t.Helper()
	cache, err := os.UserCacheDir()
	if err != nil {
		t.Logf("no user cache directory (%v): installing act for this run only", err)
		cache = t.TempDir()
	}
	dir := filepath.Join(cache, "ocipromote", "act-"+actVersion)
	bin := filepath.Join(dir, "act")
	if actVersionOf(bin) == actVersion {
		return bin
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	tmp, err := os.MkdirTemp(dir, "install-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(tmp)

	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), installTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "install", actPackage+"@v"+actVersion)
	// Outside any module, with act's own go.mod and go.sum (checked against the checksum
	// database); the host's GOFLAGS and workspace do not apply. CGO_ENABLED=0: a fresh machine
	// may have no C compiler.
	cmd.Dir = tmp
	cmd.Env = append(os.Environ(), "GOBIN="+tmp, "GOFLAGS=", "GOWORK=off", "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go install %s@v%s: %v\n%s", actPackage, actVersion, err, out)
	}
	if err := os.Rename(filepath.Join(tmp, "act"), bin); err != nil {
		t.Fatal(err)
	}
	if got := actVersionOf(bin); got != actVersion {
		t.Fatalf("%s reports version %q, want %s", bin, got, actVersion)
	}
	t.Logf("installed act %s in %s (%s)", actVersion, bin, time.Since(start).Round(time.Second))
	return bin
}

var actVersionLine = regexp.MustCompile(`^act version (\S+)\s*$`)

// actVersionOf returns the version an act binary reports, or "" when it does not run.
func actVersionOf(bin string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--version")
	cmd.Env = []string{"ACT_DISABLE_VERSION_CHECK=1", "HOME=" + os.TempDir()}
	out, err := cmd.Output()
	if err != nil {
		return ""
	}
	if m := actVersionLine.FindStringSubmatch(string(out)); m != nil {
		return m[1]
	}
	return ""
}

// actRunner runs workflows of one workspace (a git repository) with act in host mode.
type actRunner struct {
	bin     string
	dir     string   // the workspace: the repository the workflows belong to
	logDir  string   // event payloads and logs of each run
	env     []string // act's whole environment
	flags   []string // flags every run gets
	nextRun int
}

// actLine is one line of act's --json log. Lines of a job carry its id (jobID; job is
// <workflow name>/<job id>). Step lines carry the step's name (step), its id path
// (stepID: the job's step, then the steps of a composite action inside it) and the stage
// (Pre, Main, Post); set-output lines carry the output's name and value.
type actLine struct {
	Level      string   `json:"level"`
	Msg        string   `json:"msg"`
	Job        string   `json:"job"`
	JobID      string   `json:"jobID"`
	Step       string   `json:"step"`
	StepID     []string `json:"stepID"`
	Stage      string   `json:"stage"`
	Command    string   `json:"command"`
	Name       string   `json:"name"`
	Arg        string   `json:"arg"`
	StepResult string   `json:"stepResult"`
	JobResult  string   `json:"jobResult"`
}

// workflowRun is what one act run did, read from its log.
type workflowRun struct {
	title    string
	log      string // the log file
	lines    []actLine
	text     []string           // lines that are not JSON
	jobs     map[string]*jobRun // by the job's id, as act's log names it
	duration time.Duration
}

// jobRun is one job of a run.
type jobRun struct {
	id     string
	result string // success, failure or skipped; "" when it never started
	steps  map[string]*stepRun
}

// stepRun is one step of a job (a composite action's inner steps are folded into it).
type stepRun struct {
	id      string // the step's id, or its index when it has none
	name    string // its name, or what it uses
	result  string // success, failure or skipped; "" when its main stage never ran
	outputs map[string]string

	composite bool              // it ran steps of its own: a composite action
	mapped    map[string]string // outputs set before its result: a composite action's outputs:
	file      map[string]string // outputs set after its result: what the step wrote to GITHUB_OUTPUT
}

// run runs event on workflow (a file under .github/workflows) with payload as the event, as actor,
// after checking that GitHub would run the workflow for it. act itself must succeed; whether the
// job did is for the caller to check.
func (r *actRunner) run(t *testing.T, workflow, event, actor string, payload map[string]any) *workflowRun {
	t.Helper()
	file := filepath.Join(".github", "workflows", workflow)
	content, err := os.ReadFile(filepath.Join(r.dir, file))
	if err != nil {
		t.Fatal(err)
	}
	if err := githubWouldRun(content, event, payload); err != nil {
		t.Fatalf("GitHub would not run %s for this %s event: %v", file, event, err)
	}
	r.nextRun++
	base := filepath.Join(r.logDir, fmt.Sprintf("%02d-%s-%s", r.nextRun, strings.TrimSuffix(workflow, filepath.Ext(workflow)), event))
	raw, err := json.MarshalIndent(payload, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	eventPath := base + ".event.json"
	if err := os.WriteFile(eventPath, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	logPath := base + ".log"
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()

	args := append([]string{event,
		"-W", file,
		"-e", eventPath,
		"--actor", actor,
	}, r.flags...)
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, r.bin, args...)
	cmd.Dir = r.dir
	cmd.Env = r.env
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.WaitDelay = 10 * time.Second
	start := time.Now()
	runErr := cmd.Run()
	wr, err := readRun(logPath)
	if err != nil {
		t.Fatal(err)
	}
	wr.title = fmt.Sprintf("act %s on %s", event, workflow)
	wr.duration = time.Since(start)
	var results []string
	for _, name := range slices.Sorted(maps.Keys(wr.jobs)) {
		results = append(results, name+" "+orNone(wr.jobs[name].result))
	}
	t.Logf("%s: %s in %s", wr.title, strings.Join(results, ", "), wr.duration.Round(10*time.Millisecond))
	switch {
	case ctx.Err() != nil:
		t.Fatalf("%s did not finish within %s\n%s", wr.title, runTimeout, wr)
	case runErr != nil:
		t.Fatalf("%s: %v\n%s", wr.title, runErr, wr)
	}
	return wr
}

func orNone(s string) string {
	if s == "" {
		return "(never started)"
	}
	return s
}

// readRun parses an act --json --verbose log.
func readRun(path string) (*workflowRun, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	wr := &workflowRun{log: path, jobs: map[string]*jobRun{}}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64*1024), 16*1024*1024)
	for sc.Scan() {
		var l actLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			wr.text = append(wr.text, sc.Text())
			continue
		}
		wr.lines = append(wr.lines, l)
		if l.JobID == "" {
			continue
		}
		j := wr.jobs[l.JobID]
		if j == nil {
			j = &jobRun{id: l.JobID, steps: map[string]*stepRun{}}
			wr.jobs[l.JobID] = j
		}
		if l.JobResult != "" {
			j.result = l.JobResult
		}
		if len(l.StepID) == 0 {
			continue
		}
		s := j.steps[l.StepID[0]]
		if s == nil {
			s = &stepRun{id: l.StepID[0], name: l.Step, mapped: map[string]string{}, file: map[string]string{}}
			j.steps[s.id] = s
		}
		switch {
		case len(l.StepID) > 1:
			s.composite = true
		case l.Command == "set-output" && s.result == "":
			s.mapped[l.Name] = l.Arg
		case l.Command == "set-output":
			s.file[l.Name] = l.Arg
		case l.StepResult != "" && l.Stage == "Main":
			s.result = l.StepResult
		}
	}
	// act evaluates a composite action's outputs: when its steps are done and logs them; then,
	// like for any step, it reads the GITHUB_OUTPUT file, which still holds what the action's
	// last step wrote, into the same outputs. Where the names agree the file wins, so in act's
	// own steps context a wrong outputs: mapping would go unnoticed. The test checks the outputs
	// as GitHub computes them: the mapped ones of a composite action, and for any other step
	// what it set (with ::set-output:: while it ran, or in the file).
	for _, j := range wr.jobs {
		for _, s := range j.steps {
			s.outputs = s.mapped
			if !s.composite {
				maps.Copy(s.outputs, s.file)
			}
		}
	}
	return wr, sc.Err()
}

// String is the run's log as a person reads it: every line but act's debug lines.
func (wr *workflowRun) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "--- log of %s (%s):\n", wr.title, wr.log)
	for _, l := range wr.lines {
		if l.Level == "debug" {
			continue
		}
		prefix := l.Job
		if len(l.StepID) > 0 {
			prefix += " " + strings.Join(l.StepID, "/")
		}
		fmt.Fprintf(&b, "[%s] %s\n", prefix, strings.TrimRight(l.Msg, "\n"))
	}
	for _, s := range wr.text {
		fmt.Fprintln(&b, s)
	}
	return b.String()
}

// job returns the run's job with id, failing the test when the log has none.
func (wr *workflowRun) job(t *testing.T, id string) *jobRun {
	t.Helper()
	j := wr.jobs[id]
	if j == nil {
		t.Fatalf("%s: no job %q in the log (jobs: %q)\n%s", wr.title, id, slices.Sorted(maps.Keys(wr.jobs)), wr)
	}
	return j
}

// step returns the step of job with id (or index), failing the test when the job has none.
func (wr *workflowRun) step(t *testing.T, job, id string) *stepRun {
	t.Helper()
	j := wr.job(t, job)
	s := j.steps[id]
	if s == nil {
		t.Fatalf("%s: job %s has no step %q in the log (steps: %q)\n%s", wr.title, job, id, slices.Sorted(maps.Keys(j.steps)), wr)
	}
	return s
}

// stepUsing returns the one step of job that uses action (owner/repo[/path], any ref).
func (wr *workflowRun) stepUsing(t *testing.T, job, action string) *stepRun {
	t.Helper()
	var found []*stepRun
	for _, s := range wr.job(t, job).steps {
		if strings.HasPrefix(s.name, action+"@") {
			found = append(found, s)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%s: %d steps of job %s use %s, want 1\n%s", wr.title, len(found), job, action, wr)
	}
	return found[0]
}

// wantJobs checks the result of every job of the run (job id: result); a job that never
// started has the result "".
func (wr *workflowRun) wantJobs(t *testing.T, want map[string]string) {
	t.Helper()
	var problems []string
	for _, id := range slices.Sorted(maps.Keys(want)) {
		got := ""
		if j := wr.jobs[id]; j != nil {
			got = j.result
		}
		if got != want[id] {
			problems = append(problems, fmt.Sprintf("job %s: result %q, want %q", id, orNone(got), orNone(want[id])))
		}
	}
	for id := range wr.jobs {
		if _, ok := want[id]; !ok {
			problems = append(problems, fmt.Sprintf("unexpected job %s", id))
		}
	}
	if len(problems) > 0 {
		t.Fatalf("%s:\n  %s\n%s", wr.title, strings.Join(problems, "\n  "), wr)
	}
}

// wantStep checks a step's result and those of its outputs named in want; a value "~text" only
// has to contain text.
func (wr *workflowRun) wantStep(t *testing.T, s *stepRun, result string, want map[string]string) {
	t.Helper()
	var problems []string
	if s.result != result {
		problems = append(problems, fmt.Sprintf("result %q, want %q", orNone(s.result), result))
	}
	for _, k := range slices.Sorted(maps.Keys(want)) {
		got, ok := s.outputs[k]
		w := want[k]
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("no output %s, want %q", k, w))
		case strings.HasPrefix(w, "~"):
			if !strings.Contains(got, w[1:]) {
				problems = append(problems, fmt.Sprintf("output %s = %q, want it to contain %q", k, got, w[1:]))
			}
		case got != w:
			problems = append(problems, fmt.Sprintf("output %s = %q, want %q", k, got, w))
		}
	}
	if len(problems) > 0 {
		t.Fatalf("%s: step %s (%s):\n  %s\nall its outputs: %v\n%s", wr.title, s.id, s.name, strings.Join(problems, "\n  "), s.outputs, wr)
	}
}

// wantClean checks that nothing in the job logged an error or a warning (::error::, ::warning::,
// or act's own).
func (wr *workflowRun) wantClean(t *testing.T) {
	t.Helper()
	for _, l := range wr.lines {
		if l.Job != "" && (l.Level == "error" || l.Level == "warning") {
			t.Fatalf("%s: the job logged at level %s: %s\n%s", wr.title, l.Level, strings.TrimSpace(l.Msg), wr)
		}
	}
}
