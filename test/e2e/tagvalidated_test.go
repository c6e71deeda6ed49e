package e2e

import (
	"strings"
	"sync"
	"testing"
)

// candidates builds one release candidate per label on repo, in order, and returns their outputs.
func candidates(t *testing.T, repo string, labels ...string) []map[string]string {
	t.Helper()
	outs := make([]map[string]string, len(labels))
	for i, label := range labels {
		outs[i] = buildRC(t, repo, manifestsDir(t, label), commit(t, label))
	}
	return outs
}

// wantDecision checks tag-validated's outputs.
func wantDecision(t *testing.T, out map[string]string, promoted, reason, version string) {
	t.Helper()
	for key, want := range map[string]string{"promoted": promoted, "reason": reason, "version": version} {
		if got := out[key]; got != want {
			t.Errorf("%s = %q, want %q (outputs %v)", key, got, want, out)
		}
	}
}

func TestTagValidatedPromotion(t *testing.T) {
	t.Parallel()
	repo := newRepo(t)
	rcs := candidates(t, repo, "a", "b")
	rc1, rc2 := rcs[0], rcs[1]
	if rc1["version"] != "0.0.1-rc.1" || rc2["version"] != "0.0.1-rc.2" {
		t.Fatalf("built %s and %s, want 0.0.1-rc.1 and 0.0.1-rc.2", rc1["version"], rc2["version"])
	}
	a, b := commit(t, "a"), commit(t, "b")
	revision1 := "0.0.1-rc.1@" + rc1["digest"]

	// The first validation promotes rc.1's digest.
	out := tagValidated(t, repo, "--revision", revision1)
	wantDecision(t, out, "true", "promoted", "0.0.1")
	if got, want := out["digest"], rc1["digest"]; got != want {
		t.Errorf("digest = %q, want %q", got, want)
	}
	if got, want := out["sha"], a; got != want {
		t.Errorf("sha = %q, want %q", got, want)
	}
	wantTagsAt(t, repo, rc1["digest"], "0.0.1", "validated-"+short(a))

	// Flux sends the same success many times: replays in parallel write nothing.
	before := listTags(t, repo)
	const replays = 10
	results := make([]result, replays)
	errs := make([]error, replays)
	var wg sync.WaitGroup
	for i := range replays {
		wg.Go(func() {
			results[i], errs[i] = start(nil, "tag-validated", "--repository", repo, "--revision", revision1, "--json")
		})
	}
	wg.Wait()
	for i, r := range results {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if r.code != 0 {
			t.Errorf("replay %d failed:\n%s", i, r)
			continue
		}
		wantDecision(t, outputs(t, r), "false", "already-promoted", "0.0.1")
	}
	wantSameTags(t, repo, before)

	// A newer candidate becomes the next patch; the live 0.0.1 does not move.
	out = tagValidated(t, repo, "--revision", "0.0.1-rc.2@"+rc2["digest"])
	wantDecision(t, out, "true", "promoted", "0.0.2")
	if got, want := out["sha"], b; got != want {
		t.Errorf("sha = %q, want %q", got, want)
	}
	wantTagsAt(t, repo, rc2["digest"], "0.0.2", "validated-"+short(b))
	wantTagsAt(t, repo, rc1["digest"], "0.0.1", "validated-"+short(a))
}

// An older candidate validated after a newer one was promoted is superseded: live never goes back.
func TestTagValidatedSuperseded(t *testing.T) {
	t.Parallel()
	repo := newRepo(t)
	rcs := candidates(t, repo, "a", "b")
	rc1, rc2 := rcs[0], rcs[1]

	out := tagValidated(t, repo, "--revision", rc2["version"]+"@"+rc2["digest"])
	wantDecision(t, out, "true", "promoted", "0.0.1")
	before := listTags(t, repo)

	out = tagValidated(t, repo, "--revision", rc1["version"]+"@"+rc1["digest"])
	wantDecision(t, out, "false", "superseded", "")
	wantSameTags(t, repo, before)
	wantTagsAt(t, repo, rc2["digest"], "0.0.1")
}

// A validated-<s> marker without its stable tag (written by hand, or left by an older tool) must
// not block promotion: tag-validated writes the missing stable tag.
func TestTagValidatedRepairsStrayMarker(t *testing.T) {
	t.Parallel()
	repo := newRepo(t)
	rc := candidates(t, repo, "a")[0]
	a := commit(t, "a")
	craneTag(t, repo, rc["digest"], "validated-"+short(a))

	out := tagValidated(t, repo, "--sha", a)
	wantDecision(t, out, "true", "promoted", "0.0.1")
	wantTagsAt(t, repo, rc["digest"], "0.0.1", "validated-"+short(a))
}

func TestTagValidatedByDigestAndShortSha(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args func(sha, digest string) []string
	}{
		{"digest", func(sha, digest string) []string { return []string{"--digest", digest} }},
		{"short sha", func(sha, digest string) []string { return []string{"--sha", short(sha)} }},
		{"full sha", func(sha, digest string) []string { return []string{"--sha", sha} }},
		{"digest and sha", func(sha, digest string) []string { return []string{"--digest", digest, "--sha", sha} }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			repo := newRepo(t)
			rc := candidates(t, repo, "a")[0]
			out := tagValidated(t, repo, tc.args(commit(t, "a"), rc["digest"])...)
			wantDecision(t, out, "true", "promoted", "0.0.1")
			wantTagsAt(t, repo, rc["digest"], "0.0.1", "validated-"+short(commit(t, "a")))
		})
	}
}

// Refusals exit 1, say what they looked up, and write nothing.
func TestTagValidatedRefuses(t *testing.T) {
	t.Parallel()
	const unknownDigest = "sha256:0000000000000000000000000000000000000000000000000000000000000000"
	tests := []struct {
		name string
		// args returns the flags and the strings the error message must contain.
		args func(t *testing.T, repo string, rcs []map[string]string) (args, mention []string)
		code int // the exit status, when not 1
	}{
		{
			name: "digest of another commit than sha",
			code: 2, // the identifiers disagree: the caller's mistake, as a revision and a digest that disagree
			args: func(t *testing.T, repo string, rcs []map[string]string) ([]string, []string) {
				a := commit(t, "a")
				return []string{"--digest", rcs[1]["digest"], "--sha", a}, []string{rcs[1]["digest"], a}
			},
		},
		{
			name: "revision and digest disagree",
			code: 2, // knowable from the inputs alone: a usage error
			args: func(t *testing.T, repo string, rcs []map[string]string) ([]string, []string) {
				return []string{"--revision", "0.0.1-rc.1@" + rcs[0]["digest"], "--digest", rcs[1]["digest"]},
					[]string{rcs[0]["digest"], rcs[1]["digest"]}
			},
		},
		{
			name: "unknown digest",
			args: func(t *testing.T, repo string, rcs []map[string]string) ([]string, []string) {
				return []string{"--digest", unknownDigest}, []string{unknownDigest}
			},
		},
		{
			name: "unknown revision",
			args: func(t *testing.T, repo string, rcs []map[string]string) ([]string, []string) {
				return []string{"--revision", "0.0.1-rc.9@" + unknownDigest}, []string{unknownDigest}
			},
		},
		{
			name: "unknown sha",
			args: func(t *testing.T, repo string, rcs []map[string]string) ([]string, []string) {
				return []string{"--sha", "deadbeef"}, []string{"deadbeef"}
			},
		},
		{
			// An artifact of commit a that integration was never offered (integration-<a> points at
			// another one): built into another repository and copied in under a tag of its own.
			name: "artifact not offered to integration",
			args: func(t *testing.T, repo string, rcs []map[string]string) ([]string, []string) {
				a := commit(t, "a")
				elsewhere := repo + "-elsewhere"
				other := buildRC(t, elsewhere, manifestsDir(t, "a-rebuilt"), a)
				craneCopy(t, elsewhere+"@"+other["digest"], repo+":stray")
				return []string{"--digest", other["digest"]}, []string{other["digest"], "integration-" + short(a)}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			repo := newRepo(t)
			rcs := candidates(t, repo, "a", "b")
			args, mention := tc.args(t, repo, rcs)
			before := listTags(t, repo)

			r := run(t, nil, "tag-validated", append([]string{"--repository", repo, "--json"}, args...)...)
			want := 1
			if tc.code != 0 {
				want = tc.code
			}
			if got := r.code; got != want {
				t.Errorf("exit code = %d, want %d\n%s", got, want, r)
			}
			for _, s := range mention {
				if !strings.Contains(r.stderr, s) {
					t.Errorf("stderr does not mention %s:\n%s", s, r.stderr)
				}
			}
			if strings.TrimSpace(r.stdout) != "" {
				t.Errorf("a refusal printed outputs:\n%s", r.stdout)
			}
			wantSameTags(t, repo, before)
		})
	}
}

func TestDryRunWritesNothing(t *testing.T) {
	t.Parallel()
	repo := newRepo(t)
	rc := candidates(t, repo, "a")[0]
	before := listTags(t, repo)

	out := tagValidated(t, repo, "--revision", rc["version"]+"@"+rc["digest"], "--dry-run")
	wantDecision(t, out, "false", "would-promote", "0.0.1")

	b := commit(t, "b")
	planned := buildRC(t, repo, manifestsDir(t, "b"), b, "--dry-run")
	if got, want := planned["version"], "0.0.1-rc.2"; got != want {
		t.Errorf("dry-run build version = %q, want %q", got, want)
	}
	if got, want := planned["pushed"], "false"; got != want {
		t.Errorf("dry-run build pushed = %q, want %q", got, want)
	}
	wantSameTags(t, repo, before)

	// The plan is what a real build then does.
	built := buildRC(t, repo, manifestsDir(t, "b"), b)
	if got, want := built["digest"], planned["digest"]; got != want {
		t.Errorf("built digest = %s, want the planned %s", got, want)
	}
}
