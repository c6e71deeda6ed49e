package hold_test

import (
	"context"
	"errors"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/ocipromote/ocipromote/pkg/claim"
	"github.com/ocipromote/ocipromote/pkg/hold"
	"github.com/ocipromote/ocipromote/pkg/oci"
	"github.com/ocipromote/ocipromote/pkg/oci/ocitest"
	"github.com/ocipromote/ocipromote/pkg/pipeline"
	"github.com/ocipromote/ocipromote/pkg/stage"
)

// chainState is a dev → preprod → prod repository: a, b and c are 0.0.1-rc.1, rc.2 and rc.3
// (dev selects c); a and b were promoted into preprod (0.0.1-preprod.1 and .2, preprod selects
// b); nothing is in prod yet but a, as 0.0.1.
func chainState(t *testing.T) (*oci.Repository, map[string]pipeline.BuildResult) {
	t.Helper()
	_, reg := open(t)
	ctx := context.Background()
	rcs := map[string]pipeline.BuildResult{}
	for _, label := range []string{"a", "b", "c"} {
		rcs[label] = build(t, reg, label)
	}
	for tag, label := range map[string]string{"0.0.1-preprod.1": "a", "0.0.1-preprod.2": "b"} {
		m, err := reg.Get(ctx, rcs[label].Digest)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := reg.Tag(ctx, tag, m, oci.Write{}); err != nil {
			t.Fatal(err)
		}
	}
	return reg, rcs
}

// selected is what stage's selection picks now, and its digest.
func selected(t *testing.T, reg *oci.Repository, c stage.Chain, name string) (string, string) {
	t.Helper()
	tag, err := c.Select(tagsOf(t, reg), name)
	if err != nil || tag == "" {
		t.Fatalf("%s selects %q: %v", name, tag, err)
	}
	d, err := reg.Resolve(context.Background(), tag)
	if err != nil {
		t.Fatal(err)
	}
	return tag, d
}

// rollback --stage rolls any stage back, to the previous version in it by default, and holds
// promotions into that stage only.
func TestRollbackStage(t *testing.T) {
	t.Parallel()
	chain, err := stage.Parse("dev,preprod,prod")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		stage   string
		to      string
		force   bool
		target  string // label of the artifact the stage ends on
		version string
		writes  []string
		claims  []string // the rollback's claims, by version
		wantErr error
	}{
		{name: "middle stage, to its previous version", stage: "preprod", target: "a", version: "0.0.1-preprod.4",
			writes: []string{"hold-preprod-1", "0.0.1-preprod.4"}, claims: []string{"0.0.1-preprod.4", "0.0.1-rc.4"}},
		{name: "middle stage, to a version it ran", stage: "preprod", to: "0.0.1-preprod.1", target: "a", version: "0.0.1-preprod.4",
			writes: []string{"hold-preprod-1", "0.0.1-preprod.4"}, claims: []string{"0.0.1-preprod.4", "0.0.1-rc.4"}},
		{name: "middle stage, to what it selects", stage: "preprod", to: "bbbbbbb", target: "b", version: "0.0.1-preprod.2", writes: []string{"hold-preprod-1"}},
		{name: "middle stage, to an artifact it never ran", stage: "preprod", to: "ccccccc", target: "b", wantErr: hold.ErrNotInStage},
		{name: "middle stage, forced", stage: "preprod", to: "ccccccc", force: true, target: "c", version: "0.0.1-preprod.4",
			writes: []string{"hold-preprod-1", "0.0.1-preprod.4"}, claims: []string{"0.0.1-preprod.4", "0.0.1-rc.4"}},
		{name: "first stage", stage: "dev", target: "b", version: "0.0.1-rc.4", writes: []string{"hold-dev-1", "0.0.1-rc.4"}, claims: []string{"0.0.1-rc.4"}},
		{name: "last stage, the default", to: "0.0.1-rc.2", force: true, target: "b", version: "0.0.1", writes: []string{"hold-1", "0.0.1"}, claims: []string{"0.0.1"}},
		{name: "last stage without an earlier version", stage: "prod", target: "", wantErr: hold.ErrNothingBefore},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			reg, rcs := chainState(t)
			ctx := context.Background()
			if tc.stage == "prod" {
				validate(t, reg, rcs["a"]) // prod has run 0.0.1 alone
			}
			before := sorted(tagsOf(t, reg))
			in := hold.RollbackInput{To: tc.to, Chain: chain, Stage: tc.stage, Force: tc.force, Record: hold.Record{Reason: "bad config", Actor: "alice", Time: when}}
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
			name := tc.stage
			if name == "" {
				name = chain.Last()
			}
			if got, want := res.Writes, tc.writes; !slices.Equal(got, want) {
				t.Errorf("writes = %v, want %v", got, want)
			}
			if res.Version != tc.version || res.Stage != name {
				t.Errorf("version %s in %s, want %s in %s", res.Version, res.Stage, tc.version, name)
			}
			if tag, d := selected(t, reg, chain, name); d != rcs[tc.target].Digest {
				t.Errorf("%s selects %s (%s), want %s's %s", name, tag, d, tc.target, rcs[tc.target].Digest)
			}
			var claims []string
			for _, c := range claim.In(tagsOf(t, reg)) {
				if c.Of(rcs[tc.target].Digest) && !slices.Contains(before, c.Tag()) {
					claims = append(claims, c.Version)
				}
			}
			slices.Sort(claims)
			if !slices.Equal(claims, tc.claims) {
				t.Errorf("claims written %v, want %v", claims, tc.claims)
			}
			// The stage's hold is on, with the rollback's artifact; no other stage is held.
			held, _ := hold.StageOf(chain, name)
			h, err := held.Current(ctx, reg)
			if err != nil {
				t.Fatal(err)
			}
			if !h.Held() || h.Digest != rcs[tc.target].Digest {
				t.Errorf("hold of %s = %+v, want on for %s", name, h, rcs[tc.target].Digest)
			}
			for _, other := range chain.Names() {
				if other == name {
					continue
				}
				st, _ := hold.StageOf(chain, other)
				if h, err := st.Current(ctx, reg); err != nil || h.Held() {
					t.Errorf("hold of %s = %+v, %v: a rollback of %s holds only %s", other, h, err, name, name)
				}
			}

			// A re-run converges, the default target included: nothing to write.
			in.To = ""
			again, err := hold.Rollback(ctx, reg, in)
			if err != nil {
				t.Fatal(err)
			}
			if again.Changed() || again.Digest != rcs[tc.target].Digest {
				t.Errorf("re-run wrote %v for %s", again.Writes, again.Digest)
			}
		})
	}
}

// The release candidate number a middle stage's rollback takes is claimed for it, so the next
// build skips it, and no later promotion into the stage wants the rollback's tag.
func TestRollbackStageReservesTheNumber(t *testing.T) {
	t.Parallel()
	chain, err := stage.Parse("dev,preprod,prod")
	if err != nil {
		t.Fatal(err)
	}
	reg, rcs := chainState(t)
	res, err := hold.Rollback(context.Background(), reg, hold.RollbackInput{Chain: chain, Stage: "preprod", Record: hold.Record{Reason: "bad config", Actor: "alice", Time: when}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Version != "0.0.1-preprod.4" || res.Digest != rcs["a"].Digest {
		t.Fatalf("rolled back to %s (%s)", res.Version, res.Digest)
	}
	d := build(t, reg, "d")
	if d.Version != "0.0.1-rc.5" {
		t.Errorf("the next build is %s, want 0.0.1-rc.5: rc.4 is the rollback's", d.Version)
	}
	if in, err := chain.In(d.Version, "preprod"); err != nil || in == res.Version {
		t.Errorf("the next build's preprod tag %s, %v is the rollback's", in, err)
	}
	// The same commit built again takes no claim of the rollback's for its own (build fails the
	// test on ErrConflictingBuild): the rollback's claims name the artifact, not the commit.
	if again := build(t, reg, "a"); again.Digest != rcs["a"].Digest {
		t.Errorf("rebuilding a gave %s, want its artifact %s", again.Digest, rcs["a"].Digest)
	}
}

// tagMap is every tag of reg with its digest, but the hold records and their claims, whose
// numbers a crash may skip (a claimed number is taken; docs/reliability.md); and the number of
// hold records of stage.
func tagMap(t *testing.T, reg *oci.Repository, st hold.Stage) (map[string]string, int) {
	t.Helper()
	out := map[string]string{}
	records := 0
	for _, tag := range tagsOf(t, reg) {
		if c, ok := claim.Parse(tag); hold.IsTag(tag) || ok && c.Record() {
			if _, ok := st.ParseTag(tag); ok {
				records++
			}
			continue
		}
		d, err := reg.Resolve(context.Background(), tag)
		if err != nil {
			t.Fatal(err)
		}
		out[tag] = d
	}
	return out, records
}

// A middle stage's rollback killed after any of its requests (twice) converges when run again:
// the tags of a clean run (the reservation claim, the stage's tag), one hold record of the
// stage, on, naming the artifact, and no tag moved.
func TestRollbackStageConvergesAfterACrashAtEveryRequest(t *testing.T) {
	t.Parallel()
	chain, err := stage.Parse("dev,preprod,prod")
	if err != nil {
		t.Fatal(err)
	}
	in := hold.RollbackInput{Chain: chain, Stage: "preprod", Record: hold.Record{Reason: "bad config", Actor: "alice", Time: when}}
	setup := func(opts ...ocitest.Option) (*ocitest.Server, *oci.Repository, string) {
		srv, reg := open(t, opts...)
		rcs := map[string]pipeline.BuildResult{}
		for _, label := range []string{"a", "b", "c"} {
			rcs[label] = build(t, reg, label)
		}
		for tag, label := range map[string]string{"0.0.1-preprod.1": "a", "0.0.1-preprod.2": "b"} {
			m, err := reg.Get(context.Background(), rcs[label].Digest)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := reg.Tag(context.Background(), tag, m, oci.Write{}); err != nil {
				t.Fatal(err)
			}
		}
		return srv, reg, rcs["a"].Digest
	}
	cleanSrv, clean, _ := setup()
	before := len(cleanSrv.Requests())
	if _, err := hold.Rollback(context.Background(), clean, in); err != nil {
		t.Fatal(err)
	}
	requests := len(cleanSrv.Requests()) - before
	want, _ := tagMap(t, clean, "preprod")
	converged := 0
	for k := 1; k <= requests; k++ {
		fr := &ocitest.Freezer{}
		srv, reg, target := setup(ocitest.Faults(fr.Fault))
		for range 2 {
			fr.FreezeAfter(len(srv.Requests()) + k)
			ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
			_, _ = hold.Rollback(ctx, reg, in) // killed mid-step: any outcome
			cancel()
			fr.Thaw()
		}
		_, err := hold.Rollback(context.Background(), reg, in)
		got, records := tagMap(t, reg, "preprod")
		h, herr := hold.Stage("preprod").Current(context.Background(), reg)
		switch {
		case len(srv.Moved()) != 0:
			t.Errorf("crash after request %d of %d: tags moved: %v", k, requests, srv.Moved())
		case err != nil || herr != nil:
			t.Errorf("crash after request %d of %d: re-run failed: %v, %v", k, requests, err, herr)
		case !maps.Equal(got, want):
			t.Errorf("crash after request %d of %d: tags\n%v\nwant a clean run's\n%v", k, requests, got, want)
		case records != 1 || !h.Held() || h.Digest != target:
			t.Errorf("crash after request %d of %d: %d hold records, the current %+v; want one, on, naming %s", k, requests, records, h, target)
		default:
			converged++
		}
	}
	t.Logf("reliability: a middle stage's rollback killed after each request, then re-run | crash points tried %d | converged %d", requests, converged)
}
