package pipeline

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/ocipromote/ocipromote/pkg/artifact"
	"github.com/ocipromote/ocipromote/pkg/promote"
)

// The Verify hook (package sign's check in tag-validated) runs before the first write, on the
// candidate's digest and annotations; its refusal writes nothing, dry run or not; a run with
// nothing to write does not call it.
func TestTagValidatedVerifyHook(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	reg := f.repo("acme/verify")
	rc := mustBuild(t, reg, buildIn(manifests(t, "a"), sha(1)))
	errForged := errors.New("unsigned")
	var calls atomic.Int64
	refuse := func(_ context.Context, digest string, annotations map[string]string) error {
		calls.Add(1)
		if digest != rc.Digest {
			t.Errorf("Verify got digest %s, want %s", digest, rc.Digest)
		}
		if got, want := annotations[artifact.AnnotationRevision], "main@sha1:"+sha(1); got != want {
			t.Errorf("Verify got revision %q, want %q", got, want)
		}
		return errForged
	}
	before := len(f.srv.Writes())
	for _, dry := range []bool{true, false} {
		res, err := TagValidated(context.Background(), reg, PromoteInput{Revision: revision(rc), DryRun: dry, Verify: refuse})
		if !errors.Is(err, errForged) || !errors.Is(err, ErrInvalidCandidate) {
			t.Fatalf("dry run %v: err = %v, want the refusal wrapped in ErrInvalidCandidate", dry, err)
		}
		if res.Promoted || res.Digest != rc.Digest {
			t.Errorf("dry run %v: result = %+v, want not promoted, digest %s", dry, res, rc.Digest)
		}
	}
	if w := f.srv.Writes()[before:]; len(w) != 0 {
		t.Fatalf("a refused candidate got writes: %v", w)
	}

	accept := func(context.Context, string, map[string]string) error { calls.Add(1); return nil }
	calls.Store(0)
	if got := mustPromote(t, reg, PromoteInput{Revision: revision(rc), Verify: accept}); !got.Promoted || calls.Load() != 1 {
		t.Fatalf("accepted = %+v after %d Verify calls, want promoted after 1", got, calls.Load())
	}
	calls.Store(0)
	if got := mustPromote(t, reg, PromoteInput{Revision: revision(rc), Verify: refuse}); got.Reason != promote.AlreadyPromoted || calls.Load() != 0 {
		t.Errorf("replay = %+v after %d Verify calls, want already-promoted without verifying (nothing to write)", got, calls.Load())
	}
}
