package hold_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/ocipromote/ocipromote/pkg/hold"
	"github.com/ocipromote/ocipromote/pkg/oci"
	"github.com/ocipromote/ocipromote/pkg/pipeline"
	"github.com/ocipromote/ocipromote/pkg/promote"
	"github.com/ocipromote/ocipromote/pkg/version"
)

// pipelineState is a repository where a (0.0.1-rc.1) became 0.0.1, b (0.0.1-rc.2) was never
// validated, and c (0.0.1-rc.3) became 0.0.2 and is live.
func pipelineState(t *testing.T) (*oci.Repository, map[string]pipeline.BuildResult) {
	t.Helper()
	_, reg := open(t)
	rcs := map[string]pipeline.BuildResult{}
	for _, label := range []string{"a", "b", "c"} {
		rcs[label] = build(t, reg, label)
	}
	if got := validate(t, reg, rcs["a"]).Version; got != "0.0.1" {
		t.Fatalf("a promoted to %s", got)
	}
	if got := validate(t, reg, rcs["c"]).Version; got != "0.0.2" {
		t.Fatalf("c promoted to %s", got)
	}
	return reg, rcs
}

func live(t *testing.T, reg *oci.Repository) (string, string) {
	t.Helper()
	tag, err := version.Select(tagsOf(t, reg), hold.LiveConstraint, "")
	if err != nil {
		t.Fatal(err)
	}
	d, err := reg.Resolve(context.Background(), tag)
	if err != nil {
		t.Fatal(err)
	}
	return tag, d
}

func TestRollback(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		to      func(rcs map[string]pipeline.BuildResult) string
		force   bool
		target  string // label of the artifact live ends on
		version string
		writes  []string
		wantErr error
	}{
		{name: "short sha", to: func(map[string]pipeline.BuildResult) string { return "aaaaaaa" }, target: "a", version: "0.0.3", writes: []string{"hold-1", "0.0.3"}},
		{name: "full sha", to: func(map[string]pipeline.BuildResult) string { return strings.Repeat("a", 40) }, target: "a", version: "0.0.3", writes: []string{"hold-1", "0.0.3"}},
		{name: "stable version", to: func(map[string]pipeline.BuildResult) string { return "0.0.1" }, target: "a", version: "0.0.3", writes: []string{"hold-1", "0.0.3"}},
		{name: "release candidate", to: func(map[string]pipeline.BuildResult) string { return "0.0.1-rc.1" }, target: "a", version: "0.0.3", writes: []string{"hold-1", "0.0.3"}},
		{name: "digest", to: func(rcs map[string]pipeline.BuildResult) string { return rcs["a"].Digest }, target: "a", version: "0.0.3", writes: []string{"hold-1", "0.0.3"}},
		{name: "to what is live holds it there", to: func(map[string]pipeline.BuildResult) string { return "0.0.2" }, target: "c", version: "0.0.2", writes: []string{"hold-1"}},
		{name: "never validated", to: func(map[string]pipeline.BuildResult) string { return "bbbbbbb" }, target: "c", wantErr: hold.ErrNotValidated},
		{name: "never validated, forced", to: func(map[string]pipeline.BuildResult) string { return "bbbbbbb" }, force: true, target: "b", version: "0.0.3", writes: []string{"hold-1", "0.0.3"}},
		{name: "unknown sha", to: func(map[string]pipeline.BuildResult) string { return "ddddddd" }, target: "c", wantErr: oci.ErrNotFound},
		{name: "unknown version", to: func(map[string]pipeline.BuildResult) string { return "0.0.9" }, target: "c", wantErr: oci.ErrNotFound},
		{name: "unknown digest", to: func(map[string]pipeline.BuildResult) string { return "sha256:" + strings.Repeat("0", 64) }, target: "c", wantErr: oci.ErrNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			reg, rcs := pipelineState(t)
			ctx := context.Background()
			before := sorted(tagsOf(t, reg))
			in := hold.RollbackInput{To: tc.to(rcs), Force: tc.force, Record: hold.Record{Reason: "bad config", Actor: "alice", Time: when}}
			res, err := hold.Rollback(ctx, reg, in)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("Rollback = %v, want %v", err, tc.wantErr)
				}
				if after := sorted(tagsOf(t, reg)); !slices.Equal(after, before) {
					t.Errorf("a refused rollback wrote tags: %v", after)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got, want := res.Writes, tc.writes; !slices.Equal(got, want) {
				t.Errorf("writes = %v, want %v", got, want)
			}
			if got, want := res.Version, tc.version; got != want {
				t.Errorf("version = %s, want %s", got, want)
			}
			tag, digest := live(t, reg)
			if got, want := digest, rcs[tc.target].Digest; got != want {
				t.Errorf("live selects %s (%s), want %s's %s", tag, got, tc.target, want)
			}
			h, err := hold.Current(ctx, reg)
			if err != nil {
				t.Fatal(err)
			}
			if !h.Held() || h.Digest != rcs[tc.target].Digest || h.Reason != "bad config" || h.Actor != "alice" {
				t.Errorf("hold = %+v, want on for %s", h, rcs[tc.target].Digest)
			}

			// A re-run converges: nothing to write.
			again, err := hold.Rollback(ctx, reg, in)
			if err != nil {
				t.Fatal(err)
			}
			if again.Changed() {
				t.Errorf("re-run wrote %v", again.Writes)
			}
		})
	}
}

// The promise of a rollback: a validation event arriving after it promotes nothing.
func TestLateValidationAfterRollback(t *testing.T) {
	t.Parallel()
	reg, rcs := pipelineState(t)
	ctx := context.Background()
	if _, err := hold.Rollback(ctx, reg, hold.RollbackInput{To: "aaaaaaa", Record: hold.Record{Reason: "r", Actor: "a", Time: when}}); err != nil {
		t.Fatal(err)
	}
	before := sorted(tagsOf(t, reg))
	for _, label := range []string{"b", "c"} {
		res, err := pipeline.TagValidated(ctx, reg, pipeline.PromoteInput{Revision: rcs[label].Version + "@" + rcs[label].Digest})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := res.Reason, promote.Held; got != want || res.Promoted {
			t.Errorf("late validation of %s: reason %s (promoted %v), want %s", label, got, res.Promoted, want)
		}
	}
	if after := sorted(tagsOf(t, reg)); !slices.Equal(after, before) {
		t.Errorf("held promotions wrote tags:\nbefore %v\nafter  %v", before, after)
	}
	if _, digest := live(t, reg); digest != rcs["a"].Digest {
		t.Errorf("live moved to %s", digest)
	}
}

// A crash between the hold and the stable tag is completed by a re-run, which writes only the
// stable tag.
func TestRollbackResumesAfterCrash(t *testing.T) {
	t.Parallel()
	reg, rcs := pipelineState(t)
	ctx := context.Background()
	rec := hold.Record{Reason: "r", Actor: "a", Time: when, Digest: rcs["a"].Digest, Sha: strings.Repeat("a", 40)}
	if _, err := hold.Set(ctx, reg, tagsOf(t, reg), rec, false); err != nil {
		t.Fatal(err)
	}
	res, err := hold.Rollback(ctx, reg, hold.RollbackInput{To: "aaaaaaa", Record: hold.Record{Reason: "r", Actor: "a", Time: when}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := res.Writes, []string{"0.0.3"}; !slices.Equal(got, want) {
		t.Errorf("writes = %v, want %v", got, want)
	}
}

// racing writes a rival's stable tag just before the rollback's own write of that tag, as a
// promotion that passed its hold check before the hold existed would.
type racing struct {
	*oci.Repository
	tag   string
	rival *oci.Manifest
	once  sync.Once
}

func (r *racing) Tag(ctx context.Context, tag string, m *oci.Manifest, w oci.Write) (bool, error) {
	if tag == r.tag {
		var err error
		r.once.Do(func() { _, err = r.Repository.Tag(ctx, tag, r.rival, oci.Write{}) })
		if err != nil {
			return false, err
		}
	}
	return r.Repository.Tag(ctx, tag, m, w)
}

func TestRollbackDecidesAgainWhenItsVersionIsTaken(t *testing.T) {
	t.Parallel()
	reg, rcs := pipelineState(t)
	ctx := context.Background()
	rival, err := reg.Get(ctx, rcs["b"].Digest)
	if err != nil {
		t.Fatal(err)
	}
	r := &racing{Repository: reg, tag: "0.0.3", rival: rival}
	res, err := hold.Rollback(ctx, r, hold.RollbackInput{To: "aaaaaaa", Record: hold.Record{Reason: "r", Actor: "a", Time: when}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := res.Writes, []string{"hold-1", "0.0.4"}; !slices.Equal(got, want) {
		t.Errorf("writes = %v, want %v", got, want)
	}
	if _, digest := live(t, reg); digest != rcs["a"].Digest {
		t.Errorf("live selects %s, want the rolled-back %s", digest, rcs["a"].Digest)
	}
}

func TestRollbackDryRun(t *testing.T) {
	t.Parallel()
	reg, _ := pipelineState(t)
	before := sorted(tagsOf(t, reg))
	res, err := hold.Rollback(context.Background(), reg, hold.RollbackInput{To: "0.0.1", DryRun: true, Record: hold.Record{Reason: "r", Actor: "a", Time: when}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := res.Writes, []string{"hold-1", "0.0.3"}; !slices.Equal(got, want) {
		t.Errorf("planned writes = %v, want %v", got, want)
	}
	if after := sorted(tagsOf(t, reg)); !slices.Equal(after, before) {
		t.Errorf("dry run wrote tags: %v", after)
	}
}
