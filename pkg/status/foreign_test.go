package status_test

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/random"

	"github.com/ocipromote/ocipromote/pkg/status"
)

// Tags another tool pushed that the integration selection considers are flagged, and a warning
// says when one is what integration selects: the issue found integration stalled on 0.5.0-rc1
// with nothing failing.
func TestGatherFlagsForeignTags(t *testing.T) {
	t.Parallel()
	_, reg, _ := repo(t)
	ctx := context.Background()
	img, err := random.Image(64, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, tag := range []string{"0.5.0-rc1", "0.0.1-rc.1-hotfix", "0.9.0-beta.1"} {
		if _, err := reg.Push(ctx, img, tag); err != nil {
			t.Fatal(err)
		}
	}
	r, err := status.Gather(ctx, reg, status.DefaultSelectors)
	if err != nil {
		t.Fatal(err)
	}
	integration, live := r.Selections[0], r.Selections[1]
	if got, want := integration.Foreign, []string{"0.0.1-rc.1-hotfix", "0.5.0-rc1"}; !slices.Equal(got, want) {
		t.Errorf("integration's foreign tags = %v, want %v (0.9.0-beta.1 is filtered out)", got, want)
	}
	if integration.Tag != "0.5.0-rc1" {
		t.Errorf("integration selects %s, want the foreign 0.5.0-rc1 (as Flux would)", integration.Tag)
	}
	if len(live.Foreign) != 0 {
		t.Errorf("live's foreign tags = %v, want none", live.Foreign)
	}
	var text bytes.Buffer
	if err := r.Text(&text); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"warning: integration selects 0.5.0-rc1, a tag the pipeline did not write", "0.0.1-rc.1-hotfix"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text report lacks %q:\n%s", want, text.String())
		}
	}
	if !strings.Contains(r.Markdown(), "[!WARNING]") {
		t.Errorf("job summary has no warning:\n%s", r.Markdown())
	}
}
