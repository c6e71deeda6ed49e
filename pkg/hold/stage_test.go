package hold_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ocipromote/ocipromote/pkg/claim"
	"github.com/ocipromote/ocipromote/pkg/hold"
	"github.com/ocipromote/ocipromote/pkg/oci/ocitest"
	"github.com/ocipromote/ocipromote/pkg/stage"
	"github.com/ocipromote/ocipromote/pkg/version"
)

// hold-<n> is the last stage's hold and hold-<stage>-<n> another stage's: no tag reads as a
// record of two stages, and neither is a version Flux would select.
func TestStageOfTag(t *testing.T) {
	t.Parallel()
	tests := []struct {
		tag   string
		stage hold.Stage
		n     uint64
		ok    bool
	}{
		{"hold-1", hold.Last, 1, true},
		{"hold-prod-3", "prod", 3, true},
		{"hold-preprod-12", "preprod", 12, true},
		{"hold-dev2-1", "dev2", 1, true},
		{"hold-prod-0", "", 0, false},
		{"hold-prod-03", "", 0, false},
		{"hold-prod-", "", 0, false},
		{"hold-prod", "", 0, false},
		{"hold-Prod-1", "", 0, false},
		{"hold-rc-1", "", 0, false},       // a reserved word is no stage
		{"hold-1prod-1", "", 0, false},    // a stage starts with a letter
		{"hold-pre-prod-1", "", 0, false}, // a stage has no '-'
		{"hold-prod-1-2", "", 0, false},
		{"pass-prod-1", "", 0, false},
		{"1.0.0-prod.1", "", 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.tag, func(t *testing.T) {
			t.Parallel()
			s, n, ok := hold.StageOfTag(tc.tag)
			if ok != tc.ok || s != tc.stage || n != tc.n {
				t.Fatalf("StageOfTag(%q) = %q, %d, %v; want %q, %d, %v", tc.tag, s, n, ok, tc.stage, tc.n, tc.ok)
			}
			if got, want := hold.IsTag(tc.tag), tc.ok; got != want {
				t.Errorf("IsTag(%q) = %v, want %v", tc.tag, got, want)
			}
			if _, isLast := hold.ParseTag(tc.tag); isLast != (ok && s == hold.Last) {
				t.Errorf("ParseTag(%q) ok = %v: it reads the last stage's records only", tc.tag, isLast)
			}
			if _, isVersion := version.Parse(tc.tag); isVersion && ok {
				t.Errorf("%s is a hold tag and a version: Flux would select it", tc.tag)
			}
			if ok {
				if got := s.Tag(n); got != tc.tag {
					t.Errorf("%q.Tag(%d) = %s, want %s", s, n, got, tc.tag)
				}
			}
		})
	}
}

func TestLatestPerStage(t *testing.T) {
	t.Parallel()
	list := []string{"hold-2", "hold-prod-7", "hold-preprod-9", "hold-prod-10", "hold-3", "hold-prod-010", "claim-hold-prod-11-aaaaaaa-aaaaaaaaaaaa"}
	tests := []struct {
		stage hold.Stage
		tag   string
		n     uint64
	}{
		{hold.Last, "hold-3", 3},
		{"prod", "hold-prod-10", 10},
		{"preprod", "hold-preprod-9", 9},
		{"dev", "", 0},
	}
	for _, tc := range tests {
		if tag, n := tc.stage.Latest(list); tag != tc.tag || n != tc.n {
			t.Errorf("%q.Latest = %s (%d), want %s (%d)", tc.stage, tag, n, tc.tag, tc.n)
		}
	}
	if got, want := hold.Stages(list), []hold.Stage{hold.Last, "preprod", "prod"}; !slices.Equal(got, want) {
		t.Errorf("Stages = %q, want %q", got, want)
	}
}

func TestStageOf(t *testing.T) {
	t.Parallel()
	three, err := stage.Parse("dev,preprod,prod")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		chain   stage.Chain
		name    string
		want    hold.Stage
		wantErr bool
	}{
		{stage.MustDefault(), "live", hold.Last, false},
		{stage.MustDefault(), "integration", "integration", false},
		{three, "prod", hold.Last, false},
		{three, "preprod", "preprod", false},
		{three, "live", "", true},
	}
	for _, tc := range tests {
		got, err := hold.StageOf(tc.chain, tc.name)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("StageOf(%s, %s) = %q, %v; want %q (error %v)", tc.chain, tc.name, got, err, tc.want, tc.wantErr)
		}
		if err == nil && got.Name(tc.chain) != tc.name {
			t.Errorf("%q.Name(%s) = %s, want %s", got, tc.chain, got.Name(tc.chain), tc.name)
		}
	}
}

// Each stage's hold is its own: setting and releasing preprod's never changes the last stage's,
// and the reverse, on one repository.
func TestStageHoldsAreApart(t *testing.T) {
	t.Parallel()
	_, reg := open(t)
	ctx := context.Background()
	preprod := hold.Stage("preprod")
	rec := func(reason string) hold.Record { return hold.Record{Reason: reason, Actor: "alice", Time: when} }
	steps := []struct {
		name       string
		change     func() (hold.Change, error)
		wantTag    string
		last, prep bool
	}{
		{"freeze preprod", func() (hold.Change, error) {
			return preprod.Set(ctx, reg, tagsOf(t, reg), rec("load test"), hold.Options{})
		}, "hold-preprod-1", false, true},
		{"freeze live", func() (hold.Change, error) {
			return hold.Set(ctx, reg, tagsOf(t, reg), rec("incident"), hold.Options{})
		}, "hold-1", true, true},
		{"release preprod", func() (hold.Change, error) {
			return preprod.Release(ctx, reg, tagsOf(t, reg), rec("done"), hold.Options{})
		}, "hold-preprod-2", true, false},
		{"release preprod again", func() (hold.Change, error) {
			return preprod.Release(ctx, reg, tagsOf(t, reg), rec("done"), hold.Options{})
		}, "hold-preprod-2", true, false},
		{"release live", func() (hold.Change, error) {
			return hold.Release(ctx, reg, tagsOf(t, reg), rec("fixed"), hold.Options{})
		}, "hold-2", false, false},
	}
	for _, s := range steps {
		ch, err := s.change()
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if got := ch.State.Tag; got != s.wantTag {
			t.Errorf("%s: tag = %s, want %s", s.name, got, s.wantTag)
		}
		list := tagsOf(t, reg)
		last, err := hold.Read(ctx, reg, list)
		if err != nil {
			t.Fatal(err)
		}
		prep, err := preprod.Read(ctx, reg, list)
		if err != nil {
			t.Fatal(err)
		}
		if last.Held() != s.last || prep.Held() != s.prep {
			t.Errorf("%s: live held %v (%s), preprod held %v (%s); want %v, %v", s.name, last.Held(), last.Tag, prep.Held(), prep.Tag, s.last, s.prep)
		}
	}
	hist, err := preprod.History(ctx, reg, tagsOf(t, reg))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, h := range hist {
		got = append(got, h.Tag+" "+h.State)
	}
	if want := "hold-preprod-2 off,hold-preprod-1 on"; strings.Join(got, ",") != want {
		t.Errorf("preprod history = %s, want %s", strings.Join(got, ","), want)
	}
	all := tagsOf(t, reg)
	for _, c := range claim.All(all) {
		if !c.Record() {
			t.Errorf("claim %s is not on a record", c.Tag())
		}
	}
}

// Concurrent freezes of one stage under a lagging listing: every record number is written once,
// each change is a record of that stage, and the last stage's hold is untouched.
func TestConcurrentStageHolds(t *testing.T) {
	t.Parallel()
	for seed := range uint64(3) {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			t.Parallel()
			srv, reg := open(t, ocitest.ReplicaLag(2, lag, seed), ocitest.PutLatency(20*time.Millisecond, seed))
			ctx := context.Background()
			const writers = 4
			var wg sync.WaitGroup
			errs := make([]error, writers)
			for i := range writers {
				wg.Go(func() {
					list, err := reg.Tags(ctx)
					if err == nil {
						_, err = hold.Stage("prod").Set(ctx, reg, list, hold.Record{Reason: fmt.Sprint("freeze ", i), Actor: "alice", Time: when}, hold.Options{Settle: settle, Pause: shortPause})
					}
					errs[i] = err
				})
			}
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Errorf("writer %d: %v", i, err)
				}
			}
			written := map[string]string{}
			for _, a := range srv.Assignments() {
				s, _, ok := hold.StageOfTag(a.Tag)
				if !ok {
					continue
				}
				if s != "prod" {
					t.Errorf("wrote %s, a record of another stage", a.Tag)
				}
				if d, twice := written[a.Tag]; twice && d != a.Digest {
					t.Errorf("%s written for %s and %s", a.Tag, d, a.Digest)
				}
				written[a.Tag] = a.Digest
			}
			if moved := srv.Moved(); len(moved) != 0 {
				t.Errorf("tags moved: %v", moved)
			}
			time.Sleep(lag)
			list := tagsOf(t, reg)
			if tag, _ := hold.Latest(list); tag != "" {
				t.Errorf("the last stage's hold has record %s; nobody set it", tag)
			}
			cur, err := hold.Stage("prod").Read(ctx, reg, list)
			if err != nil || !cur.Held() {
				t.Errorf("prod hold = %+v, %v; want held", cur, err)
			}
		})
	}
}
