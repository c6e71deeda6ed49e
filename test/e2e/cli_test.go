package e2e

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// readOutputFile parses a GITHUB_OUTPUT file: name=value lines and name<<DELIMITER blocks.
func readOutputFile(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("read GITHUB_OUTPUT: %v", err)
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if name, delim, ok := strings.Cut(line, "<<"); ok {
			var value []string
			closed := false
			for sc.Scan() {
				if sc.Text() == delim {
					closed = true
					break
				}
				value = append(value, sc.Text())
			}
			if !closed {
				t.Fatalf("GITHUB_OUTPUT: %s<<%s is never closed", name, delim)
			}
			out[name] = strings.Join(value, "\n")
			continue
		}
		if name, value, ok := strings.Cut(line, "="); ok {
			out[name] = value
			continue
		}
		if line != "" {
			t.Fatalf("GITHUB_OUTPUT: unexpected line %q", line)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// Composite actions hand inputs over as INPUT_* variables only; outputs go to GITHUB_OUTPUT and
// a summary to GITHUB_STEP_SUMMARY.
func TestActionsInputsOnly(t *testing.T) {
	t.Parallel()
	repo := newRepo(t)
	sha := commit(t, "a")
	runner := t.TempDir()
	outputFile := filepath.Join(runner, "output")
	summaryFile := filepath.Join(runner, "summary")
	for _, f := range []string{outputFile, summaryFile} {
		if err := os.WriteFile(f, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	env := map[string]string{
		"INPUT_REPOSITORY":       "oci://" + repo,
		"INPUT_PATH":             manifestsDir(t, "a"),
		"INPUT_SHA":              sha,
		"INPUT_REF":              "release",
		"INPUT_SOURCE":           source,
		"INPUT_CREATED":          created,
		"INPUT_SHORT_SHA_LENGTH": "10",
		"GITHUB_OUTPUT":          outputFile,
		"GITHUB_STEP_SUMMARY":    summaryFile,
	}
	r := run(t, env, "build-rc")
	if r.code != 0 {
		t.Fatalf("%s", r)
	}
	out := readOutputFile(t, outputFile)
	s := sha[:10]
	for key, want := range map[string]string{
		"version":   "0.0.1-rc.1",
		"short_sha": s,
		"tags":      "0.0.1-rc.1,sha-" + s + ",integration-" + s,
		"pushed":    "true",
	} {
		if got := out[key]; got != want {
			t.Errorf("GITHUB_OUTPUT %s = %q, want %q", key, got, want)
		}
	}
	wantTagsAt(t, repo, out["digest"], "0.0.1-rc.1", "sha-"+s, "integration-"+s)
	if got, want := manifestAt(t, repo, out["digest"]).Annotations["org.opencontainers.image.revision"], "release@sha1:"+sha; got != want {
		t.Errorf("revision annotation = %q, want %q", got, want)
	}
	summary, err := os.ReadFile(summaryFile)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(summary), "| version |") || !strings.Contains(string(summary), out["digest"]) {
		t.Errorf("job summary has no outputs table with the digest:\n%s", summary)
	}

	if err := os.WriteFile(outputFile, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	r = run(t, map[string]string{
		"INPUT_REPOSITORY": repo,
		"INPUT_REVISION":   "0.0.1-rc.1@" + out["digest"],
		"GITHUB_OUTPUT":    outputFile,
	}, "tag-validated")
	if r.code != 0 {
		t.Fatalf("%s", r)
	}
	promoted := readOutputFile(t, outputFile)
	for key, want := range map[string]string{"promoted": "true", "reason": "promoted", "version": "0.0.1", "sha": sha, "digest": out["digest"]} {
		if got := promoted[key]; got != want {
			t.Errorf("GITHUB_OUTPUT %s = %q, want %q", key, got, want)
		}
	}
	wantTagsAt(t, repo, out["digest"], "0.0.1", "validated-"+s)
}

// Without sha, ref, source and created, build-rc takes them from the GitHub context and the
// commit time from git, as in a workflow after actions/checkout.
func TestGitHubContextDefaults(t *testing.T) {
	t.Parallel()
	repo := newRepo(t)
	dir := manifestsDir(t, "a")
	gitEnv := []string{
		"HOME=" + homeDir, "PATH=" + os.Getenv("PATH"),
		"GIT_AUTHOR_NAME=e2e", "GIT_AUTHOR_EMAIL=e2e@example.com", "GIT_COMMITTER_NAME=e2e", "GIT_COMMITTER_EMAIL=e2e@example.com",
		"GIT_AUTHOR_DATE=2026-07-30T08:15:00+02:00", "GIT_COMMITTER_DATE=2026-07-31T23:45:00+02:00",
	}
	git := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
		cmd.Env = gitEnv
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return strings.TrimSpace(string(out))
	}
	git("init", "-q")
	git("add", ".")
	git("commit", "-q", "-m", "manifests")
	sha := git("rev-parse", "HEAD")

	env := map[string]string{
		"INPUT_REPOSITORY":  repo,
		"INPUT_PATH":        dir,
		"GITHUB_SHA":        sha,
		"GITHUB_REF_NAME":   "main",
		"GITHUB_REPOSITORY": "acme/platform",
		"GITHUB_SERVER_URL": "https://github.example.com",
	}
	r := run(t, env, "build-rc", "--json")
	if r.code != 0 {
		t.Fatalf("%s", r)
	}
	out := outputs(t, r)
	m := manifestAt(t, repo, out["digest"])
	for key, want := range map[string]string{
		"org.opencontainers.image.source":   "https://github.example.com/acme/platform",
		"org.opencontainers.image.revision": "main@sha1:" + sha,
		"org.opencontainers.image.created":  "2026-07-31T21:45:00Z",
	} {
		if got := m.Annotations[key]; got != want {
			t.Errorf("annotation %s = %q, want %q", key, got, want)
		}
	}
	// The .git directory of the checkout is not part of the artifact: the same files without it
	// give the same digest.
	plain := buildRC(t, repo+"-plain", manifestsDir(t, "a"), sha, "--created", "2026-07-31T21:45:00Z",
		"--source", "https://github.example.com/acme/platform", "--dry-run")
	if got, want := out["digest"], plain["digest"]; got != want {
		t.Errorf("digest of the checkout = %s, want %s as without .git", got, want)
	}
}

func TestUsageErrors(t *testing.T) {
	t.Parallel()
	sha := commit(t, "a")
	dir := manifestsDir(t, "a")
	repo := newRepo(t)
	build := func(extra ...string) []string {
		return append([]string{"--repository", repo, "--path", dir, "--sha", sha, "--created", created}, extra...)
	}
	tests := []struct {
		name    string
		bin     string
		args    []string
		env     map[string]string
		mention string
	}{
		{name: "build-rc without repository", bin: "build-rc", args: []string{"--path", dir, "--sha", sha}, mention: "repository"},
		{name: "build-rc bad bump", bin: "build-rc", args: build("--bump", "sideways"), mention: "sideways"},
		{name: "build-rc short sha length too short", bin: "build-rc", args: build("--short-sha-length", "3"), mention: "short-sha-length"},
		{name: "build-rc short sha length too long", bin: "build-rc", args: build("--short-sha-length", "41"), mention: "short-sha-length"},
		{name: "build-rc short sha length not a number", bin: "build-rc", args: build("--short-sha-length", "seven"), mention: "--short-sha-length"},
		{name: "build-rc bad short sha length input", bin: "build-rc", args: build(), env: map[string]string{"INPUT_SHORT_SHA_LENGTH": "0"}, mention: "short-sha-length"},
		{name: "build-rc bad version line", bin: "build-rc", args: build("--version-line", "1.4.2"), mention: "1.4.2"},
		{name: "build-rc minor bump on a version line", bin: "build-rc", args: build("--version-line", "1.4", "--bump", "minor"), mention: "minor"},
		{name: "build-rc bad created", bin: "build-rc", args: build("--created", "yesterday"), mention: "yesterday"},
		{name: "build-rc path is not a directory", bin: "build-rc", args: build("--path", filepath.Join(dir, "kustomization.yaml")), mention: "kustomization.yaml"},
		{name: "build-rc unknown flag", bin: "build-rc", args: build("--bogus"), mention: "bogus"},
		{name: "build-rc positional argument", bin: "build-rc", args: build("extra"), mention: "extra"},
		{name: "build-rc error in Actions", bin: "build-rc", args: build("--bump", "sideways"), env: map[string]string{"GITHUB_ACTIONS": "true"}, mention: "::error::"},
		{name: "tag-validated without repository", bin: "tag-validated", args: []string{"--sha", sha}, mention: "repository"},
		{name: "tag-validated without artifact", bin: "tag-validated", args: []string{"--repository", repo}, mention: "--revision"},
		{name: "tag-validated bad dry run input", bin: "tag-validated", args: []string{"--repository", repo, "--sha", sha}, env: map[string]string{"INPUT_DRY_RUN": "maybe"}, mention: "maybe"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := run(t, tc.env, tc.bin, tc.args...)
			if got, want := r.code, 2; got != want {
				t.Errorf("exit code = %d, want %d\n%s", got, want, r)
			}
			if !strings.Contains(r.stderr, tc.mention) {
				t.Errorf("stderr does not mention %q:\n%s", tc.mention, r.stderr)
			}
		})
	}
	if tags := listTags(t, repo); len(tags) != 0 {
		t.Errorf("usage errors wrote tags %q", tags)
	}
}

func TestHelp(t *testing.T) {
	t.Parallel()
	credentials := []string{"username", "password", "dry-run", "json"}
	tests := []struct {
		bin   string
		flags []string
	}{
		{"build-rc", append([]string{"repository", "path", "sha", "ref", "source", "created", "bump", "version-line",
			"initial-version", "tag-prefix", "short-sha-length", "ignore"}, credentials...)},
		{"tag-validated", append([]string{"repository", "revision", "digest", "sha"}, credentials...)},
	}
	for _, tc := range tests {
		for _, arg := range []string{"--help", "-h"} {
			t.Run(tc.bin+" "+arg, func(t *testing.T) {
				t.Parallel()
				r := run(t, nil, tc.bin, arg)
				if got, want := r.code, 0; got != want {
					t.Errorf("exit code = %d, want %d\n%s", got, want, r)
				}
				help := r.stdout + r.stderr
				for _, f := range tc.flags {
					if !strings.Contains(help, "-"+f+" ") && !strings.Contains(help, "-"+f+"\n") {
						t.Errorf("help does not list -%s:\n%s", f, help)
					}
					if f != "json" && !strings.Contains(help, "INPUT_"+strings.ToUpper(strings.ReplaceAll(f, "-", "_"))) {
						t.Errorf("help does not name INPUT_%s for -%s", strings.ToUpper(strings.ReplaceAll(f, "-", "_")), f)
					}
				}
			})
		}
	}
}
