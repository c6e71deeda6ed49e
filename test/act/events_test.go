package act

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/crane"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// The event fixtures of testdata/events name this commit; the test puts its own in their place.
const fixtureSHA = "9f2c4e1a7b3d5f60718293a4b5c6d7e8f9012345"

// fixture reads a real-shaped event of testdata/events with every fixtureSHA replaced by sha.
func fixture(t *testing.T, name, sha string) map[string]any {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "testdata", "events", name))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(raw, []byte(fixtureSHA)) {
		t.Fatalf("testdata/events/%s no longer names commit %s", name, fixtureSHA)
	}
	var event map[string]any
	if err := json.Unmarshal(bytes.ReplaceAll(raw, []byte(fixtureSHA), []byte(sha)), &event); err != nil {
		t.Fatalf("testdata/events/%s: %v", name, err)
	}
	return event
}

// object returns the object at key of m, failing when there is none.
func object(t *testing.T, m map[string]any, key string) map[string]any {
	t.Helper()
	o, ok := m[key].(map[string]any)
	if !ok {
		t.Fatalf("event has no object %q: %v", key, m)
	}
	return o
}

// repositoryPayload is the repository as GitHub describes it in every event.
func repositoryPayload() map[string]any {
	owner, name, _ := strings.Cut(githubRepository, "/")
	return map[string]any{
		"full_name": githubRepository, "name": name, "default_branch": "main",
		"html_url": sourceURL, "owner": map[string]any{"login": owner},
	}
}

// pushEvent is GitHub's push event for a merge to main of commit after, made at date (before: the
// previous head, "" for the first push).
func (p *pipeline) pushEvent(t *testing.T, before, after, message string, date time.Time) map[string]any {
	t.Helper()
	added, modified, removed := p.ws.changes(t, after)
	commit := map[string]any{
		"id": after, "tree_id": p.ws.git(t, nil, "rev-parse", after+"^{tree}"), "distinct": true,
		"message": message, "timestamp": date.Format(time.RFC3339), "url": sourceURL + "/commit/" + after,
		"author":   map[string]any{"name": "dev", "email": "dev@acme.example", "username": "dev"},
		"added":    added,
		"modified": modified,
		"removed":  removed,
	}
	created := before == ""
	if created {
		before = strings.Repeat("0", 40)
	}
	return map[string]any{
		"ref": "refs/heads/main", "before": before, "after": after,
		"created": created, "deleted": false, "forced": false, "base_ref": nil,
		"compare":     sourceURL + "/compare/" + before[:12] + "..." + after[:12],
		"commits":     []any{commit},
		"head_commit": commit,
		"pusher":      map[string]any{"name": "dev", "email": "dev@acme.example"},
		"repository":  repositoryPayload(),
		"sender":      map[string]any{"login": "dev", "type": "User"},
	}
}

// dispatchEvent is the repository_dispatch a Flux githubdispatch Provider sends when the platform
// Kustomization on cluster reports the artifact revision (TAG@sha256:DIGEST) built from sha
// healthy: the real-shaped fixture with this run's revision, commit and cluster.
func (p *pipeline) dispatchEvent(t *testing.T, revision, sha, cluster string) map[string]any {
	t.Helper()
	event := fixture(t, "repository_dispatch.health-check-passed.json", sha)
	metadata := object(t, object(t, event, "client_payload"), "metadata")
	metadata["revision"] = revision
	metadata["originRevision"] = "main@sha1:" + sha
	metadata["cluster"] = cluster
	event["repository"] = repositoryPayload()
	return event
}

// statusEvent is a commit status on sha, from a fixture of testdata/events.
func (p *pipeline) statusEvent(t *testing.T, name, sha string) map[string]any {
	t.Helper()
	event := fixture(t, name, sha)
	event["repository"] = repositoryPayload()
	return event
}

// manualEvent is a person running the promote workflow by hand with the commit sha.
func (p *pipeline) manualEvent(t *testing.T, sha string) map[string]any {
	t.Helper()
	event := fixture(t, "workflow_dispatch.sha.json", sha)
	event["repository"] = repositoryPayload()
	return event
}

// rollbackEvent is a person running the rollback workflow by hand. GitHub gives every input of
// a workflow_dispatch payload as a string.
func (p *pipeline) rollbackEvent(to, reason string) map[string]any {
	return map[string]any{
		"inputs":     map[string]any{"to": to, "reason": reason, "force": "false", "dry_run": "false"},
		"ref":        "refs/heads/main",
		"repository": repositoryPayload(),
		"sender":     map[string]any{"login": "oncall", "type": "User"},
		"workflow":   ".github/workflows/" + rollbackWorkflow,
	}
}

// manualRun is the workflow_dispatch event of a workflow run by hand with inputs.
func (p *pipeline) manualRun(workflow, actor string, inputs map[string]any) map[string]any {
	return map[string]any{
		"inputs":     inputs,
		"ref":        "refs/heads/main",
		"repository": repositoryPayload(),
		"sender":     map[string]any{"login": actor, "type": "User"},
		"workflow":   ".github/workflows/" + workflow,
	}
}

// tags returns the artifact repository's tags, sorted.
func (p *pipeline) tags(t *testing.T) []string {
	t.Helper()
	tags, err := crane.ListTags(p.repo)
	if err != nil {
		t.Fatalf("list tags of %s: %v", p.repo, err)
	}
	slices.Sort(tags)
	return tags
}

// wantTags checks the artifact repository's tags, all of them. A claim tag in want,
// claim-<version>-<short sha>, stands for the claim that step writes before it takes the version,
// with or without the digest part that follows (claim-<version>-<short sha>-<hex>; pkg/claim and
// the end-to-end tests check the claims themselves). A claim tag the repository has must be of a
// version tag it has as well: a claim that is not wanted may only be one a step wrote for a
// version it then took.
func (p *pipeline) wantTags(t *testing.T, want ...string) {
	t.Helper()
	got := p.tags(t)
	var problems []string
	for _, w := range want {
		if strings.HasPrefix(w, claimPrefix) {
			if !slices.ContainsFunc(got, func(g string) bool { return g == w || strings.HasPrefix(g, w+"-") }) {
				problems = append(problems, fmt.Sprintf("no claim %s[-<digest>]", w))
			}
		} else if !slices.Contains(got, w) {
			problems = append(problems, "no tag "+w)
		}
	}
	for _, g := range got {
		switch {
		case slices.Contains(want, g):
		case strings.HasPrefix(g, claimPrefix):
			if !slices.ContainsFunc(got, func(v string) bool {
				return !strings.HasPrefix(v, claimPrefix) && strings.HasPrefix(g, claimPrefix+v+"-")
			}) {
				problems = append(problems, fmt.Sprintf("claim %s is of no version tag the repository has", g))
			}
		default:
			problems = append(problems, "unexpected tag "+g)
		}
	}
	if len(problems) > 0 {
		t.Fatalf("tags of %s:\n  %s\n got  %q\n want %q", p.repo, strings.Join(problems, "\n  "), got, slices.Sorted(slices.Values(want)))
	}
}

// claimPrefix starts the tags build-rc, tag-validated and rollback write to reserve a version.
const claimPrefix = "claim-"

// wantSameTags checks that the artifact repository has exactly the tags before, no more.
func (p *pipeline) wantSameTags(t *testing.T, before []string) {
	t.Helper()
	if got := p.tags(t); !slices.Equal(got, before) {
		t.Fatalf("tags of %s changed:\n got  %q\n had  %q", p.repo, got, before)
	}
}

// digest resolves a tag.
func (p *pipeline) digest(t *testing.T, tag string) string {
	t.Helper()
	d, err := crane.Digest(p.repo + ":" + tag)
	if err != nil {
		t.Fatalf("resolve %s:%s: %v", p.repo, tag, err)
	}
	return d
}

// wantTagsAt checks that every tag points at digest.
func (p *pipeline) wantTagsAt(t *testing.T, digest string, tags ...string) {
	t.Helper()
	for _, tag := range tags {
		if got := p.digest(t, tag); got != digest {
			t.Errorf("%s:%s = %s, want %s", p.repo, tag, got, digest)
		}
	}
}

// wantAnnotations checks annotations of the manifest with digest.
func (p *pipeline) wantAnnotations(t *testing.T, digest string, want map[string]string) {
	t.Helper()
	raw, err := crane.Manifest(p.repo + "@" + digest)
	if err != nil {
		t.Fatalf("read manifest %s@%s: %v", p.repo, digest, err)
	}
	m, err := v1.ParseManifest(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("parse manifest %s@%s: %v", p.repo, digest, err)
	}
	for k, w := range want {
		if got := m.Annotations[k]; got != w {
			t.Errorf("manifest %s: annotation %s = %q, want %q", digest, k, got, w)
		}
	}
}
