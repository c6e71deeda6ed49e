package e2e

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ocipromote/ocipromote/pkg/event/eventtest"
)

// threeStages is the chain of the tests below.
const threeStages = "dev,preprod,prod"

// stageEvent writes the repository_dispatch a stage's Flux Alert sends when its Kustomization
// reports revision healthy (eventtest.StageEvent on the fixture of testdata/events).
func stageEvent(t *testing.T, stage, revision, sha string) string {
	return eventtest.StageEvent(t, filepath.Join("..", "..", "testdata", "events", "repository_dispatch.health-check-passed.json"), stage, revision, sha)
}

// receive runs dispatch-receiver on a stage's event, as the stages' promote workflow does.
func receive(t *testing.T, repo, eventPath string) map[string]string {
	t.Helper()
	return mustRun(t, nil, "dispatch-receiver", "--event-name", "repository_dispatch", "--event-path", eventPath,
		"--object", "Kustomization/platform.flux-system", "--stages", threeStages, "--repository", repo)
}

// passRecord is the first pass record of the candidate with digest in stage (package pass).
func passRecord(stage, digest string) string {
	return "pass-" + stage + "-" + strings.TrimPrefix(digest, "sha256:")[:12] + "-1"
}

// wantOnly checks the repository's tags, claims aside, against want.
func wantOnly(t *testing.T, repo, when string, want ...string) {
	t.Helper()
	got := withoutClaims(listTags(t, repo))
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("%s: tags %q, want %q", when, got, want)
	}
}

// A candidate goes through dev, preprod and prod on the real registry, each promotion on the
// event of the stage it leaves: build-rc, dev's event, tag-validated --to preprod, preprod's
// event, tag-validated --to prod. Events from the wrong stage, about another stage's tag, from
// the last stage, and replays of every step promote nothing.
func TestThreeStagesEndToEnd(t *testing.T) {
	t.Parallel()
	repo := newRepo(t)
	a := commit(t, "a")
	rc := buildRC(t, repo, manifestsDir(t, "a"), a, "--stages", threeStages)
	d, s := rc["digest"], short(a)
	if rc["version"] != "0.0.1-rc.1" {
		t.Fatalf("build-rc = %v, want 0.0.1-rc.1", rc)
	}
	wantTagsAt(t, repo, d, "0.0.1-rc.1", "dev-"+s)
	built := []string{"0.0.1-rc.1", "dev-" + s, "sha-" + s}
	wantOnly(t, repo, "after build-rc", built...)

	devEvent := stageEvent(t, "dev", "0.0.1-rc.1@"+d, a)
	preprodEvent := stageEvent(t, "preprod", "0.0.1-preprod.1@"+d, a)

	// Wrong stages: preprod reporting dev's tag, and preprod reporting its own tag before it has
	// it; neither records nor promotes anything.
	for _, ev := range []string{stageEvent(t, "preprod", "0.0.1-rc.1@"+d, a), preprodEvent} {
		if out := receive(t, repo, ev); out["promote"] != "false" || !strings.HasPrefix(out["reason"], "ignored") {
			t.Errorf("an event from the wrong stage = %v, want ignored", out)
		}
	}
	wantOnly(t, repo, "after wrong-stage events", built...)
	// Nothing has passed dev: preprod waits.
	if out := tagValidated(t, repo, "--revision", "0.0.1-rc.1@"+d, "--stages", threeStages, "--to", "preprod"); out["reason"] != "deferred" || out["gate"] != "unproven" {
		t.Errorf("preprod before dev's event = %v, want deferred, unproven", out)
	}

	// dev's event records the pass and names the promotion; a replay records nothing more.
	for range 2 {
		out := receive(t, repo, devEvent)
		if out["promote"] != "true" || out["from"] != "dev" || out["to"] != "preprod" || out["digest"] != d {
			t.Fatalf("dev's event = %v, want a promotion from dev to preprod", out)
		}
	}
	proved := append(slices.Clone(built), passRecord("dev", d))
	wantOnly(t, repo, "after dev's event and its replay", proved...)

	out := tagValidated(t, repo, "--revision", "0.0.1-rc.1@"+d, "--stages", threeStages, "--to", "preprod")
	wantDecision(t, out, "true", "promoted", "0.0.1-preprod.1")
	wantTagsAt(t, repo, d, "0.0.1-preprod.1", "preprod-"+s)
	inPreprod := append(slices.Clone(proved), "0.0.1-preprod.1", "preprod-"+s)
	wantOnly(t, repo, "after the promotion to preprod", inPreprod...)
	// Replays: the promotion, and dev's event with its promotion.
	wantDecision(t, tagValidated(t, repo, "--revision", "0.0.1-rc.1@"+d, "--stages", threeStages, "--to", "preprod"), "false", "already-promoted", "0.0.1-preprod.1")
	if out := receive(t, repo, devEvent); out["to"] != "preprod" {
		t.Errorf("dev's event again = %v", out)
	}
	wantOnly(t, repo, "after replays into preprod", inPreprod...)

	// prod needs preprod's own pass: dev's pass is no evidence about preprod, and dev reporting
	// preprod's tag is ignored.
	if out := tagValidated(t, repo, "--revision", "0.0.1-preprod.1@"+d, "--stages", threeStages, "--to", "prod"); out["reason"] != "deferred" || out["gate"] != "unproven" || out["from"] != "preprod" {
		t.Errorf("prod before preprod's event = %v, want deferred, unproven, from preprod", out)
	}
	if out := receive(t, repo, stageEvent(t, "dev", "0.0.1-preprod.1@"+d, a)); out["promote"] != "false" {
		t.Errorf("dev reporting preprod's tag = %v, want ignored", out)
	}
	wantOnly(t, repo, "after prod's deferral", inPreprod...)

	out = receive(t, repo, preprodEvent)
	if out["promote"] != "true" || out["from"] != "preprod" || out["to"] != "prod" {
		t.Fatalf("preprod's event = %v, want a promotion from preprod to prod", out)
	}
	out = tagValidated(t, repo, "--revision", out["revision"], "--stages", threeStages, "--to", "prod")
	wantDecision(t, out, "true", "promoted", "0.0.1")
	wantTagsAt(t, repo, d, "0.0.1", "validated-"+s)
	inProd := append(slices.Clone(inPreprod), passRecord("preprod", d), "0.0.1", "validated-"+s)
	wantOnly(t, repo, "after the promotion to prod", inProd...)

	// prod's own event promotes nothing further; preprod's again, a replayed promotion and a
	// scheduled pending run write nothing.
	if out := receive(t, repo, stageEvent(t, "prod", "0.0.1@"+d, a)); out["promote"] != "false" {
		t.Errorf("prod's event = %v, want nothing to promote", out)
	}
	receive(t, repo, preprodEvent)
	wantDecision(t, tagValidated(t, repo, "--revision", "0.0.1-preprod.1@"+d, "--stages", threeStages, "--to", "prod"), "false", "already-promoted", "0.0.1")
	if out := tagValidated(t, repo, "--pending", "--stages", threeStages, "--to", "prod"); out["reason"] != "already-promoted" || out["weighed"] != "0.0.1-preprod.1:already-promoted" {
		t.Errorf("pending into prod = %v, want the candidate already promoted", out)
	}
	wantOnly(t, repo, "after replays into prod", inProd...)
}
