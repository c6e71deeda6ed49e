package hold_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/ocipromote/ocipromote/pkg/claim"
	"github.com/ocipromote/ocipromote/pkg/hold"
	"github.com/ocipromote/ocipromote/pkg/oci"
	"github.com/ocipromote/ocipromote/pkg/oci/ocitest"
	"github.com/ocipromote/ocipromote/pkg/pipeline"
	"github.com/ocipromote/ocipromote/pkg/promote"
	"github.com/ocipromote/ocipromote/pkg/version"
)

// pipelineState is a repository where a (0.0.1-rc.1) became 0.0.1, b (0.0.1-rc.2) was never
// validated, and c (0.0.1-rc.3) became 0.0.2 and is live.
func pipelineState(t *testing.T, opts ...ocitest.Option) (*ocitest.Server, *oci.Repository, map[string]pipeline.BuildResult) {
	t.Helper()
	srv, reg := open(t, opts...)
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
	return srv, reg, rcs
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
			_, reg, rcs := pipelineState(t)
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
	_, reg, rcs := pipelineState(t)
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
	_, reg, rcs := pipelineState(t)
	ctx := context.Background()
	rec := hold.Record{Reason: "r", Actor: "a", Time: when, Digest: rcs["a"].Digest, Sha: strings.Repeat("a", 40)}
	if _, err := hold.Set(ctx, reg, tagsOf(t, reg), rec, hold.Options{}); err != nil {
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

// interfering is a registry on which a rival runs its writes when the rollback writes trigger:
// just before the rollback's own write (first) or right after it, once. The rival is a promotion
// that passed its hold check before the hold existed, or another rollback.
type interfering struct {
	*oci.Repository
	trigger string
	first   bool
	rival   func(ctx context.Context) error
	once    sync.Once
}

func (r *interfering) Tag(ctx context.Context, tag string, m *oci.Manifest, w oci.Write) (wrote bool, err error) {
	err = r.around(ctx, tag, func() (err error) {
		wrote, err = r.Repository.Tag(ctx, tag, m, w)
		return err
	})
	return wrote, err
}

// Push is how the hold record is written.
func (r *interfering) Push(ctx context.Context, img v1.Image, tag string) (m *oci.Manifest, err error) {
	err = r.around(ctx, tag, func() (err error) {
		m, err = r.Repository.Push(ctx, img, tag)
		return err
	})
	return m, err
}

func (r *interfering) around(ctx context.Context, tag string, write func() error) error {
	if tag != r.trigger {
		return write()
	}
	var err error
	if r.first {
		if r.once.Do(func() { err = r.rival(ctx) }); err != nil {
			return err
		}
	}
	writeErr := write()
	if !r.first {
		r.once.Do(func() { err = r.rival(ctx) })
	}
	return errors.Join(writeErr, err)
}

// writeAs writes tags at the artifact with digest, as that artifact's promotion would.
func writeAs(t *testing.T, reg *oci.Repository, digest string, tags ...string) func(context.Context) error {
	return func(ctx context.Context) error {
		m, err := reg.Get(ctx, digest)
		if err != nil {
			return err
		}
		for _, tag := range tags {
			if _, err := reg.Tag(ctx, tag, m, oci.Write{}); err != nil {
				return err
			}
		}
		return nil
	}
}

func claimOf(t *testing.T, v, short, digest string) string {
	t.Helper()
	c, err := claim.New(v, short, digest)
	if err != nil {
		t.Fatal(err)
	}
	return c.Tag()
}

func noPause(context.Context, int) error { return nil }

// A rollback is never overtaken: whatever a rival writes around the rollback's writes, live ends
// on the rolled-back artifact, and no tag moves. d is a candidate of a higher base (0.1.0-rc.1),
// whose promotion passed its hold check before the hold existed: its 0.1.0 never conflicts with
// the rollback's 0.0.3, so only checking what live selects after the write catches it.
func TestRollbackIsNotOvertaken(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		trigger func(rcs map[string]pipeline.BuildResult) string
		first   bool
		rival   func(t *testing.T, rcs map[string]pipeline.BuildResult) (label string, tags []string)
		// later are the rival's writes after the rollback returned: a promotion finishing.
		later   func(t *testing.T, rcs map[string]pipeline.BuildResult) (label string, tags []string)
		version string
		writes  []string
	}{
		{
			name:    "a promotion of a higher base writes its version right after the rollback's",
			trigger: func(map[string]pipeline.BuildResult) string { return "0.0.3" },
			rival: func(t *testing.T, rcs map[string]pipeline.BuildResult) (string, []string) {
				return "d", []string{claimOf(t, "0.1.0", "ddddddd", rcs["d"].Digest), "0.1.0"}
			},
			version: "0.1.1", writes: []string{"hold-1", "0.0.3", "0.1.1"},
		},
		{
			name:    "a promotion of a higher base writes its version right after the hold",
			trigger: func(map[string]pipeline.BuildResult) string { return "hold-1" },
			rival: func(t *testing.T, rcs map[string]pipeline.BuildResult) (string, []string) {
				return "d", []string{claimOf(t, "0.1.0", "ddddddd", rcs["d"].Digest), "0.1.0"}
			},
			version: "0.1.1", writes: []string{"hold-1", "0.1.1"},
		},
		{
			name:    "a promotion of a higher base has claimed its version and writes it after the rollback",
			trigger: func(map[string]pipeline.BuildResult) string { return "0.0.3" },
			rival: func(t *testing.T, rcs map[string]pipeline.BuildResult) (string, []string) {
				return "d", []string{claimOf(t, "0.1.0", "ddddddd", rcs["d"].Digest)}
			},
			later: func(t *testing.T, rcs map[string]pipeline.BuildResult) (string, []string) {
				return "d", []string{"0.1.0"}
			},
			version: "0.1.1", writes: []string{"hold-1", "0.0.3", "0.1.1"},
		},
		{
			name:    "a rival writes the rollback's version first",
			trigger: func(map[string]pipeline.BuildResult) string { return "0.0.3" },
			first:   true,
			rival:   func(*testing.T, map[string]pipeline.BuildResult) (string, []string) { return "b", []string{"0.0.3"} },
			version: "0.0.4", writes: []string{"hold-1", "0.0.4"},
		},
		{
			name: "a rival claims the rollback's version first",
			trigger: func(rcs map[string]pipeline.BuildResult) string {
				c, _ := claim.New("0.0.3", "aaaaaaa", rcs["a"].Digest)
				return c.Tag()
			},
			first: true,
			rival: func(t *testing.T, rcs map[string]pipeline.BuildResult) (string, []string) {
				return "b", []string{claimOf(t, "0.0.3", "bbbbbbb", rcs["b"].Digest)}
			},
			later:   func(*testing.T, map[string]pipeline.BuildResult) (string, []string) { return "b", []string{"0.0.3"} },
			version: "0.0.4", writes: []string{"hold-1", "0.0.4"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, reg, rcs := pipelineState(t)
			rcs["d"] = buildBump(t, reg, "d", version.Minor)
			if got, want := rcs["d"].Version, "0.1.0-rc.1"; got != want {
				t.Fatalf("d built as %s, want %s", got, want)
			}
			ctx := context.Background()
			label, rivalTags := tc.rival(t, rcs)
			r := &interfering{Repository: reg, trigger: tc.trigger(rcs), first: tc.first, rival: writeAs(t, reg, rcs[label].Digest, rivalTags...)}
			res, err := hold.Rollback(ctx, r, hold.RollbackInput{To: "aaaaaaa", Pause: noPause, Record: hold.Record{Reason: "r", Actor: "a", Time: when}})
			if err != nil {
				t.Fatal(err)
			}
			if got, want := res.Writes, tc.writes; !slices.Equal(got, want) {
				t.Errorf("writes = %v, want %v", got, want)
			}
			if got, want := res.Version, tc.version; got != want {
				t.Errorf("version = %s, want %s", got, want)
			}
			if tc.later != nil {
				label, tags := tc.later(t, rcs)
				if err := writeAs(t, reg, rcs[label].Digest, tags...)(ctx); err != nil {
					t.Fatal(err)
				}
			}
			if tag, digest := live(t, reg); digest != rcs["a"].Digest {
				t.Errorf("live selects %s (%s), want the rolled-back %s", tag, digest, rcs["a"].Digest)
			}
			if h, err := hold.Current(ctx, reg); err != nil || !h.Held() || h.Digest != rcs["a"].Digest {
				t.Errorf("hold = %+v, %v; want on for a", h, err)
			}
			if moved := srv.Moved(); len(moved) != 0 {
				t.Errorf("tags moved: %v", moved)
			}
			// A re-run converges: live is on the artifact, nothing to write.
			again, err := hold.Rollback(ctx, reg, hold.RollbackInput{To: "aaaaaaa", Pause: noPause, Record: hold.Record{Reason: "r", Actor: "a", Time: when}})
			if err != nil {
				t.Fatal(err)
			}
			if again.Changed() {
				t.Errorf("re-run wrote %v", again.Writes)
			}
		})
	}
}

// A rollback that crashed after claiming its stable version takes its own claim up again.
func TestRollbackTakesItsClaimUp(t *testing.T) {
	t.Parallel()
	srv, reg, rcs := pipelineState(t)
	ctx := context.Background()
	if err := writeAs(t, reg, rcs["a"].Digest, claimOf(t, "0.0.3", "aaaaaaa", rcs["a"].Digest))(ctx); err != nil {
		t.Fatal(err)
	}
	res, err := hold.Rollback(ctx, reg, hold.RollbackInput{To: "aaaaaaa", Pause: noPause, Record: hold.Record{Reason: "r", Actor: "a", Time: when}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := res.Writes, []string{"hold-1", "0.0.3"}; !slices.Equal(got, want) {
		t.Errorf("writes = %v, want %v", got, want)
	}
	if moved := srv.Moved(); len(moved) != 0 {
		t.Errorf("tags moved: %v", moved)
	}
}

func TestRollbackDryRun(t *testing.T) {
	t.Parallel()
	_, reg, _ := pipelineState(t)
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
