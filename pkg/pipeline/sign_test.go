package pipeline

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
)

// The signature comes before anything integration selects: when Sign runs, the candidate's
// manifest is there under its claim, and no X.Y.Z-rc.N or integration-<s> tag is written yet. A
// failed signature fails the build with nothing selectable written; the re-run resumes the
// claim, signs, and tags. A commit already built is signed again (which writes nothing when the
// signature is there) before its tags are completed, so a re-run repairs a missing signature.
func TestBuildRCSignsBeforeTagging(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	reg := f.repo("acme/signed")
	in := buildIn(manifests(t, "kind: ConfigMap\n"), sha(1))
	var signed []string
	var fail bool
	in.Sign = func(ctx context.Context, digest string) error {
		list, err := reg.Tags(ctx)
		if err != nil {
			return err
		}
		if slices.Contains(list, "0.0.1-rc.1") || slices.ContainsFunc(list, func(tag string) bool { return strings.HasPrefix(tag, "integration-") }) {
			t.Errorf("Sign ran after the candidate was tagged for integration: %v", list)
		}
		if !slices.ContainsFunc(list, func(tag string) bool { return strings.HasPrefix(tag, "claim-0.0.1-rc.1-") }) {
			t.Errorf("Sign ran before the candidate's claim was written: %v", list)
		}
		signed = append(signed, digest)
		if fail {
			return errors.New("Fulcio is down")
		}
		return nil
	}

	fail = true
	if _, err := BuildRC(context.Background(), reg, in); err == nil || !strings.Contains(err.Error(), "Fulcio is down") {
		t.Fatalf("failed signature: err = %v", err)
	}
	if list, _ := reg.Tags(context.Background()); slices.Contains(list, "0.0.1-rc.1") {
		t.Fatalf("failed signature, yet tagged: %v", list)
	}

	fail = false
	res := mustBuild(t, reg, in)
	if !res.Signed || !res.Pushed || res.Version != "0.0.1-rc.1" {
		t.Fatalf("re-run = %+v, want 0.0.1-rc.1 signed and pushed", res)
	}
	if len(signed) != 2 || signed[0] != res.Digest || signed[1] != res.Digest {
		t.Errorf("signed %v, want %s twice (the failed run, the re-run)", signed, res.Digest)
	}

	// Already built: signed again before its tags are completed.
	signed = nil
	in.Sign = func(_ context.Context, digest string) error { signed = append(signed, digest); return nil }
	again := mustBuild(t, reg, in)
	if !again.Signed || again.Pushed || len(signed) != 1 || signed[0] != res.Digest {
		t.Errorf("re-run of a built commit = %+v, signed %v; want %s signed, nothing pushed", again, signed, res.Digest)
	}

	// A dry run signs nothing.
	signed = nil
	in.DryRun = true
	if dry := mustBuild(t, reg, in); dry.Signed || len(signed) != 0 {
		t.Errorf("dry run = %+v, signed %v; want nothing signed", dry, signed)
	}
}
