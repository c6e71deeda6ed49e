package pipeline

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/ocipromote/ocipromote/pkg/artifact"
	"github.com/ocipromote/ocipromote/pkg/oci"
	"github.com/ocipromote/ocipromote/pkg/promote"
)

func mustPromote(t *testing.T, reg Registry, in PromoteInput) PromoteResult {
	t.Helper()
	res, err := TagValidated(context.Background(), reg, in)
	if err != nil {
		t.Fatalf("TagValidated(%+v): %v", in, err)
	}
	return res
}

func revision(b BuildResult) string { return b.Version + "@" + b.Digest }

func TestTagValidatedLifecycle(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	reg := f.repo("acme/promote")
	rc1 := mustBuild(t, reg, buildIn(manifests(t, "a"), sha(1)))
	rc2 := mustBuild(t, reg, buildIn(manifests(t, "b"), sha(2)))

	got := mustPromote(t, reg, PromoteInput{Revision: revision(rc1)})
	if !got.Promoted || got.Reason != promote.Promoted || got.Version != "0.0.1" || got.Digest != rc1.Digest || got.Sha != sha(1) {
		t.Fatalf("first promotion = %+v, want promoted 0.0.1 at %s", got, rc1.Digest)
	}
	at := tagsAt(t, reg)
	if at["0.0.1"] != rc1.Digest || at["validated-"+rc1.Short] != rc1.Digest {
		t.Errorf("after promotion: 0.0.1 -> %s, validated -> %s; want %s", at["0.0.1"], at["validated-"+rc1.Short], rc1.Digest)
	}

	// Flux repeats events: ten concurrent replays write nothing.
	before := len(f.srv.Writes())
	var wg sync.WaitGroup
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := TagValidated(context.Background(), f.repo("acme/promote"), PromoteInput{Revision: revision(rc1)})
			if err != nil || res.Promoted || res.Reason != promote.AlreadyPromoted {
				t.Errorf("replay = %+v, %v; want already-promoted", res, err)
			}
		}()
	}
	wg.Wait()
	if w := f.srv.Writes()[before:]; len(w) != 0 {
		t.Errorf("replays wrote %v", w)
	}

	// A newer candidate of the promoted base becomes the next patch; 0.0.1 does not move.
	got = mustPromote(t, reg, PromoteInput{Revision: revision(rc2)})
	if got.Version != "0.0.2" || !got.Promoted {
		t.Errorf("rc.2 after 0.0.1 = %+v, want promoted 0.0.2", got)
	}
	if moved := f.srv.Moved(); len(moved) != 0 {
		t.Errorf("tags moved: %v", moved)
	}
	// By sha, short or full, the same answer.
	for _, s := range []string{sha(2), sha(2)[:7], sha(2)[:10]} {
		if got := mustPromote(t, reg, PromoteInput{Sha: s}); got.Reason != promote.AlreadyPromoted || got.Version != "0.0.2" {
			t.Errorf("by sha %s = %+v, want already-promoted 0.0.2", s, got)
		}
	}
}

func TestTagValidatedSupersededAndRepair(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	reg := f.repo("acme/order")
	ctx := context.Background()
	rc1 := mustBuild(t, reg, buildIn(manifests(t, "a"), sha(1)))
	rc2 := mustBuild(t, reg, buildIn(manifests(t, "b"), sha(2)))
	rc3 := mustBuild(t, reg, buildIn(manifests(t, "c"), sha(3)))

	if got := mustPromote(t, reg, PromoteInput{Digest: rc2.Digest}); got.Version != "0.0.1" {
		t.Fatalf("rc.2 first = %+v, want 0.0.1", got)
	}
	got := mustPromote(t, reg, PromoteInput{Revision: revision(rc1)})
	if got.Promoted || got.Reason != promote.Superseded {
		t.Errorf("rc.1 after rc.2 = %+v, want superseded", got)
	}

	// A marker written without its stable tag (the defect of SPEC §5.6) is not trusted.
	m, err := reg.Get(ctx, rc3.Digest)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Tag(ctx, "validated-"+rc3.Short, m, oci.Write{}); err != nil {
		t.Fatal(err)
	}
	got = mustPromote(t, reg, PromoteInput{Sha: sha(3)})
	if !got.Promoted || got.Version != "0.0.2" {
		t.Errorf("stray marker = %+v, want the stable tag written (0.0.2)", got)
	}
	if at := tagsAt(t, reg); at["0.0.2"] != rc3.Digest {
		t.Errorf("0.0.2 -> %s, want %s", at["0.0.2"], rc3.Digest)
	}
}

func TestTagValidatedRefuses(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	reg := f.repo("acme/refuse")
	rc1 := mustBuild(t, reg, buildIn(manifests(t, "a"), sha(1)))
	rc2 := mustBuild(t, reg, buildIn(manifests(t, "b"), sha(2)))
	unknown := "sha256:" + strings.Repeat("e", 64)
	before := len(f.srv.Writes())
	tests := []struct {
		name string
		in   PromoteInput
		want string
		is   error
	}{
		{"sha and digest disagree", PromoteInput{Digest: rc2.Digest, Sha: sha(1)}, "disagree", ErrDisagree},
		// Issue 14: the tag part named another candidate than the digest, and was promoted.
		{"revision's tag names another candidate", PromoteInput{Revision: rc2.Version + "@" + rc1.Digest}, "names release candidate " + rc2.Version + ", but its digest is the artifact of " + rc1.Version, ErrDisagree},
		{"revision and digest disagree", PromoteInput{Revision: revision(rc1), Digest: rc2.Digest}, "different artifacts", ErrInvalidCandidate},
		{"unknown digest", PromoteInput{Revision: "0.0.1-rc.9@" + unknown}, unknown, oci.ErrNotFound},
		{"unknown sha", PromoteInput{Sha: "deadbeef"}, "integration-deadbeef", oci.ErrNotFound},
		{"malformed revision", PromoteInput{Revision: "0.0.1-rc.1@sha256:$(reboot)"}, "revision", nil},
		{"nothing named", PromoteInput{}, "revision", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := TagValidated(context.Background(), reg, tc.in)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one mentioning %q", err, tc.want)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("err = %v, want errors.Is %v", err, tc.is)
			}
		})
	}
	if w := f.srv.Writes()[before:]; len(w) != 0 {
		t.Errorf("refusals wrote %v", w)
	}
}

// A digest that integration-<s> does not point at was never offered to integration.
func TestTagValidatedRefusesDigestNotOfferedToIntegration(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	reg := f.repo("acme/offered")
	ctx := context.Background()
	rc1 := mustBuild(t, reg, buildIn(manifests(t, "a"), sha(1)))
	// Another artifact of the same commit, pushed by hand under an RC tag of its own.
	m, err := reg.Get(ctx, rc1.Digest)
	if err != nil {
		t.Fatal(err)
	}
	tampered := *m
	tampered.Raw = []byte(strings.Replace(string(m.Raw), "0.0.1-rc.1", "0.0.1-rc.7", 1))
	tampered.Digest = digestOf(tampered.Raw)
	if _, err := reg.Tag(ctx, "0.0.1-rc.7", &tampered, oci.Write{}); err != nil {
		t.Fatal(err)
	}
	_, err = TagValidated(ctx, reg, PromoteInput{Revision: "0.0.1-rc.7@" + tampered.Digest})
	if !errors.Is(err, ErrInvalidCandidate) || !strings.Contains(err.Error(), "integration-"+rc1.Short) {
		t.Fatalf("err = %v, want a refusal naming integration-%s", err, rc1.Short)
	}
}

func TestTagValidatedDryRun(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	reg := f.repo("acme/dry-promote")
	rc1 := mustBuild(t, reg, buildIn(manifests(t, "a"), sha(1)))
	before := len(f.srv.Writes())
	got := mustPromote(t, reg, PromoteInput{Revision: revision(rc1), DryRun: true})
	if got.Promoted || !slices.Equal(got.Writes, []string{"0.0.1", "validated-" + rc1.Short}) {
		t.Errorf("dry run = %+v, want the two planned writes and promoted=false", got)
	}
	// Issue 14: the dry run said reason=promoted beside promoted=false.
	if got.Reason != "would-promote" {
		t.Errorf("dry run reason = %q, want would-promote", got.Reason)
	}
	if w := f.srv.Writes()[before:]; len(w) != 0 {
		t.Errorf("dry run wrote %v", w)
	}
}

// An artifact pushed by another tool carries no version annotation: its release candidate is the
// tag of its Flux revision, or one of the newest release-candidate tags pointing at it.
func TestTagValidatedFindsTheVersionOfAForeignArtifact(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	reg := f.repo("acme/foreign")
	ctx := context.Background()
	layer, err := artifact.Pack(manifests(t, "pushed by flux push artifact"), nil)
	if err != nil {
		t.Fatal(err)
	}
	img, err := artifact.Image(layer, artifact.Metadata{Source: "https://github.com/acme/platform", Revision: "main@sha1:" + sha(1)})
	if err != nil {
		t.Fatal(err)
	}
	m, err := reg.Push(ctx, img, "0.0.1-rc.1")
	if err != nil {
		t.Fatal(err)
	}
	for _, tag := range []string{"sha-" + sha(1)[:7], "integration-" + sha(1)[:7]} {
		if _, err := reg.Tag(ctx, tag, m, oci.Write{}); err != nil {
			t.Fatal(err)
		}
	}
	byDigest := mustPromote(t, reg, PromoteInput{Digest: m.Digest, DryRun: true})
	bySha := mustPromote(t, reg, PromoteInput{Sha: sha(1), DryRun: true})
	for _, r := range []PromoteResult{byDigest, bySha} {
		if r.RC != "0.0.1-rc.1" || r.Version != "0.0.1" {
			t.Errorf("dry run = %+v, want 0.0.1-rc.1 to become 0.0.1", r)
		}
	}

	// Beyond the newest release candidates only the revision names it.
	for i := 2; i <= maxRCScan+2; i++ {
		mustBuild(t, reg, buildIn(manifests(t, fmt.Sprint("newer ", i)), sha(i)))
	}
	_, err = TagValidated(ctx, reg, PromoteInput{Digest: m.Digest, DryRun: true})
	if err == nil || !strings.Contains(err.Error(), "name it by its Flux revision") {
		t.Fatalf("by digest behind %d newer candidates = %v, want an error pointing at the revision", maxRCScan+1, err)
	}
	res := mustPromote(t, reg, PromoteInput{Revision: "0.0.1-rc.1@" + m.Digest})
	if res.RC != "0.0.1-rc.1" || res.Reason != promote.Promoted || res.Version != "0.0.1" {
		t.Errorf("by revision = %+v, want 0.0.1-rc.1 promoted to 0.0.1", res)
	}
}
