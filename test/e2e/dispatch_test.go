package e2e

import (
	"fmt"
	"sync"
	"testing"

	"github.com/ocipromote/ocipromote/pkg/step/steptest"
)

// promoteOnEvent runs what the promote workflow runs for a Flux event: dispatch-receiver decides,
// and when it says promote, tag-validated takes its revision, digest and sha. It returns both
// steps' outputs (tag-validated's nil when dispatch-receiver ignored the event).
func promoteOnEvent(repo, eventPath string) (decision, promotion map[string]string, err error) {
	r, err := start(nil, "dispatch-receiver", "--event-name", "repository_dispatch", "--event-path", eventPath,
		"--object", "Kustomization/platform.flux-system", "--cluster", "integration", "--repository", repo, "--json")
	if err != nil {
		return nil, nil, err
	}
	if decision, err = parseOutputs(r); err != nil {
		return nil, nil, err
	}
	if decision["promote"] != "true" {
		return decision, nil, nil
	}
	r, err = start(nil, "tag-validated", "--repository", repo, "--revision", decision["revision"],
		"--digest", decision["digest"], "--sha", decision["sha"], "--json")
	if err != nil {
		return decision, nil, err
	}
	promotion, err = parseOutputs(r)
	return decision, promotion, err
}

// The end-to-end story through both binaries: two candidates; a health-check dispatch
// for rc.1 promotes 0.0.1; the same dispatch delivered ten times at once writes nothing more;
// rc.2's dispatch makes it the next patch; rc.1's dispatch arriving late again is
// already-promoted, never a step back.
func TestDispatchThenPromote(t *testing.T) {
	t.Parallel()
	repo := newRepo(t)
	rcs := candidates(t, repo, "a", "b")
	a, b := commit(t, "a"), commit(t, "b")
	event1 := dispatchEvent(t, rcs[0]["version"]+"@"+rcs[0]["digest"], a)
	event2 := dispatchEvent(t, rcs[1]["version"]+"@"+rcs[1]["digest"], b)

	decision, promotion, err := promoteOnEvent(repo, event1)
	if err != nil {
		t.Fatal(err)
	}
	if decision["promote"] != "true" || decision["digest"] != rcs[0]["digest"] || decision["sha"] != a {
		t.Fatalf("dispatch-receiver = %v, want promote rc.1 (%s, %s)", decision, rcs[0]["digest"], a)
	}
	wantDecision(t, promotion, "true", "promoted", "0.0.1")
	wantTagsAt(t, repo, rcs[0]["digest"], "0.0.1", "validated-"+short(a))

	before := listTags(t, repo)
	const replays = 10
	var wg sync.WaitGroup
	errs := make([]error, replays)
	promotions := make([]map[string]string, replays)
	for i := range replays {
		wg.Go(func() { _, promotions[i], errs[i] = promoteOnEvent(repo, event1) })
	}
	wg.Wait()
	for i := range replays {
		if errs[i] != nil {
			t.Fatalf("replay %d: %v", i, errs[i])
		}
		wantDecision(t, promotions[i], "false", "already-promoted", "0.0.1")
	}
	wantSameTags(t, repo, before)

	if _, promotion, err = promoteOnEvent(repo, event2); err != nil {
		t.Fatal(err)
	}
	wantDecision(t, promotion, "true", "promoted", "0.0.2")
	wantTagsAt(t, repo, rcs[1]["digest"], "0.0.2", "validated-"+short(b))

	before = listTags(t, repo)
	if _, promotion, err = promoteOnEvent(repo, event1); err != nil {
		t.Fatal(err)
	}
	wantDecision(t, promotion, "false", "already-promoted", "0.0.1")
	wantSameTags(t, repo, before)
}

// parseOutputs reads the --json outputs of a binary that must have succeeded.
func parseOutputs(r result) (map[string]string, error) {
	if r.code != 0 {
		return nil, fmt.Errorf("%s", r)
	}
	var out map[string]string
	if err := steptest.DecodeOutputs(r.stdout, &out); err != nil {
		return nil, fmt.Errorf("%s: stdout is not one JSON object of strings: %w\n%s", r.cmd, err, r)
	}
	return out, nil
}
