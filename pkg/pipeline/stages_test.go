package pipeline

import (
	"testing"

	"github.com/ocipromote/ocipromote/pkg/stage"
)

func mustChain(t *testing.T, s string) stage.Chain {
	t.Helper()
	c, err := stage.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// A build in a chain other than the default is offered to its first stage: the same candidate
// tag X.Y.Z-rc.N and sha-<s>, and the first stage's marker instead of integration-<s>.
func TestBuildRCOffersTheFirstStage(t *testing.T) {
	t.Parallel()
	reg := newFixture(t).repo("acme/stages-build")
	in := buildIn(manifests(t, "a"), sha(1))
	in.Stages = mustChain(t, "dev,preprod,prod")
	res := mustBuild(t, reg, in)
	short := sha(1)[:7]
	at := tagsAt(t, reg)
	for _, tag := range []string{"0.0.1-rc.1", "sha-" + short, "dev-" + short} {
		if got, want := at[tag], res.Digest; got != want {
			t.Errorf("%s -> %q, want %s", tag, got, want)
		}
	}
	if _, ok := at["integration-"+short]; ok {
		t.Errorf("integration-%s was written in a chain without integration", short)
	}
	if got, want := len(at), 4; got != want { // the three above and the claim
		t.Errorf("%d tags %v, want %d", len(at), at, want)
	}
	rerun := mustBuild(t, reg, in)
	if rerun.Pushed || rerun.Digest != res.Digest {
		t.Errorf("re-run = %+v, want the first build with pushed=false", rerun)
	}
}
