package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A build-rc run that crashed part-way left some of its tags; a re-run completes exactly what a
// clean run writes. The crashed state is made by copying a clean build's artifact from another
// repository under the tags written before the crash (build-rc writes its claim on <rc>, then
// <rc>, sha-<s>, integration-<s>).
func TestBuildRCRepairsCrashedRun(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		left []string // tags the crashed run wrote, given the short sha; "claim" is its claim
	}{
		{"after the claim", []string{"claim"}},
		{"after the release candidate", []string{"claim", "0.0.1-rc.1"}},
		{"before integration", []string{"claim", "0.0.1-rc.1", "sha-%s"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			repo := newRepo(t)
			sha := commit(t, "a")
			dir := manifestsDir(t, "a")
			clean := buildRC(t, repo+"-clean", dir, sha)
			s := short(sha)
			for _, tag := range tc.left {
				if tag == "claim" {
					tag = claimTag(t, "0.0.1-rc.1", sha, clean["digest"])
				}
				craneCopy(t, repo+"-clean@"+clean["digest"], repo+":"+strings.ReplaceAll(tag, "%s", s))
			}

			out := buildRC(t, repo, dir, sha)
			for _, key := range []string{"version", "digest", "tags"} {
				if got, want := out[key], clean[key]; got != want {
					t.Errorf("%s = %q, want %q as a clean run", key, got, want)
				}
			}
			if got, want := out["pushed"], "true"; got != want {
				t.Errorf("pushed = %q, want %q (the re-run completed missing tags)", got, want)
			}
			wantTagsAt(t, repo, clean["digest"], "0.0.1-rc.1", "sha-"+s, "integration-"+s)

			before := listTags(t, repo)
			again := buildRC(t, repo, dir, sha)
			if got, want := again["pushed"], "false"; got != want {
				t.Errorf("second re-run pushed = %q, want %q", got, want)
			}
			wantSameTags(t, repo, before)
		})
	}
}

// A tag-validated run that crashed between the stable tag and the marker is completed by a re-run.
func TestTagValidatedRepairsMissingMarker(t *testing.T) {
	t.Parallel()
	repo := newRepo(t)
	rc := candidates(t, repo, "a")[0]
	a := commit(t, "a")
	craneTag(t, repo, rc["digest"], "0.0.1")

	out := tagValidated(t, repo, "--revision", rc["version"]+"@"+rc["digest"])
	wantDecision(t, out, "true", "promoted", "0.0.1")
	wantTagsAt(t, repo, rc["digest"], "0.0.1", "validated-"+short(a))

	out = tagValidated(t, repo, "--revision", rc["version"]+"@"+rc["digest"])
	wantDecision(t, out, "false", "already-promoted", "0.0.1")
}

// A release candidate of an older version line becomes that line's next patch; the live line's
// stable tags stay where they are.
func TestTagValidatedHotfixLine(t *testing.T) {
	t.Parallel()
	repo := newRepo(t)
	a, b, c := commit(t, "a"), commit(t, "b"), commit(t, "c")
	buildRC(t, repo, manifestsDir(t, "a"), a, "--initial-version", "1.4.1")
	wantDecision(t, tagValidated(t, repo, "--sha", a), "true", "promoted", "1.4.2")
	buildRC(t, repo, manifestsDir(t, "b"), b, "--bump", "minor")
	wantDecision(t, tagValidated(t, repo, "--sha", b), "true", "promoted", "1.5.0")
	live := digestOf(t, repo, "1.5.0")

	hotfix := buildRC(t, repo, manifestsDir(t, "c"), c, "--version-line", "1.4")
	if got, want := hotfix["version"], "1.4.3-rc.1"; got != want {
		t.Fatalf("hotfix version = %q, want %q", got, want)
	}
	wantDecision(t, tagValidated(t, repo, "--revision", hotfix["version"]+"@"+hotfix["digest"]), "true", "promoted", "1.4.3")
	wantTagsAt(t, repo, hotfix["digest"], "1.4.3", "validated-"+short(c))
	wantTagsAt(t, repo, live, "1.5.0")
}

func TestTagValidatedKeepsPrefix(t *testing.T) {
	t.Parallel()
	repo := newRepo(t)
	rc := buildRC(t, repo, manifestsDir(t, "a"), commit(t, "a"), "--tag-prefix", "v")
	if got, want := rc["version"], "v0.0.1-rc.1"; got != want {
		t.Fatalf("version = %q, want %q", got, want)
	}
	wantDecision(t, tagValidated(t, repo, "--digest", rc["digest"]), "true", "promoted", "v0.0.1")
	wantTagsAt(t, repo, rc["digest"], "v0.0.1")
}

// Two commits whose shas share the first 7 characters: the second must not take the first's
// sha-<s>; with a longer short sha it builds.
func TestBuildRCShortShaCollision(t *testing.T) {
	t.Parallel()
	repo := newRepo(t)
	base := commit(t, "a")
	first := base[:7] + strings.Repeat("0", 33)
	second := base[:7] + strings.Repeat("1", 33)
	buildRC(t, repo, manifestsDir(t, "a"), first)
	before := listTags(t, repo)

	r := run(t, nil, "build-rc", "--repository", repo, "--path", manifestsDir(t, "b"), "--sha", second,
		"--ref", "main", "--source", source, "--created", created, "--json")
	if got, want := r.code, 1; got != want {
		t.Errorf("exit code = %d, want %d\n%s", got, want, r)
	}
	for _, s := range []string{second, "--short-sha-length"} {
		if !strings.Contains(r.stderr, s) {
			t.Errorf("stderr does not mention %s:\n%s", s, r.stderr)
		}
	}
	wantSameTags(t, repo, before)

	out := buildRC(t, repo, manifestsDir(t, "b"), second, "--short-sha-length", "12")
	if got, want := out["version"], "0.0.1-rc.2"; got != want {
		t.Errorf("version with a longer short sha = %q, want %q", got, want)
	}
	wantTagsAt(t, repo, out["digest"], "sha-"+second[:12], "integration-"+second[:12])
}

// What is left out of the artifact: ignored paths (several patterns, as INPUT_IGNORE lines) and
// symlinks that stay inside; a symlink leading outside is refused.
func TestBuildRCContentRules(t *testing.T) {
	t.Parallel()
	sha := commit(t, "a")
	plain := buildRC(t, newRepo(t), manifestsDir(t, "a"), sha, "--dry-run")

	withExtras := manifestsDir(t, "a")
	writeFiles(t, withExtras, map[string]string{"secret.env": "TOKEN=x\n", "apps/old.yaml.bak": "x: 1\n"})
	if err := os.Symlink("kustomization.yaml", filepath.Join(withExtras, "alias.yaml")); err != nil {
		t.Fatal(err)
	}
	r := run(t, map[string]string{"INPUT_IGNORE": "secret.env\n*.bak"}, "build-rc", "--repository", newRepo(t),
		"--path", withExtras, "--sha", sha, "--ref", "main", "--source", source, "--created", created, "--dry-run", "--json")
	if r.code != 0 {
		t.Fatalf("%s", r)
	}
	if got, want := outputs(t, r)["digest"], plain["digest"]; got != want {
		t.Errorf("digest with ignored files and an inner symlink = %s, want %s as without them", got, want)
	}

	escaping := manifestsDir(t, "a")
	if err := os.Symlink(filepath.Join(homeDir, ".docker"), filepath.Join(escaping, "escape-link")); err != nil {
		t.Fatal(err)
	}
	repo := newRepo(t)
	r = run(t, nil, "build-rc", "--repository", repo, "--path", escaping, "--sha", sha, "--ref", "main",
		"--source", source, "--created", created, "--json")
	if got, want := r.code, 1; got != want {
		t.Errorf("exit code with a symlink leading outside = %d, want %d\n%s", got, want, r)
	}
	if !strings.Contains(r.stderr, "escape-link") {
		t.Errorf("stderr does not name the symlink:\n%s", r.stderr)
	}
	if tags := listTags(t, repo); len(tags) != 0 {
		t.Errorf("a refused build wrote tags %q", tags)
	}
}
