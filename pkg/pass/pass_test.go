package pass_test

import (
	"strings"
	"testing"
	"time"

	"github.com/ocipromote/ocipromote/pkg/claim"
	"github.com/ocipromote/ocipromote/pkg/pass"
	"github.com/ocipromote/ocipromote/pkg/version"
)

var t0 = time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC)

func at(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }

func TestStanding(t *testing.T) {
	t.Parallel()
	p := func(min int) pass.Record { return pass.Record{Kind: pass.Pass, Time: at(min)} }
	f := func(min int) pass.Record { return pass.Record{Kind: pass.Fail, Time: at(min)} }
	tests := []struct {
		name      string
		records   []pass.Record
		passedAt  time.Time
		passed    bool
		cancelled bool
	}{
		{"no records", nil, time.Time{}, false, false},
		{"one pass", []pass.Record{p(0)}, at(0), true, false},
		{"later passes keep the soak's start", []pass.Record{p(0), p(30), p(60)}, at(0), true, false},
		{"a failure only", []pass.Record{f(5)}, time.Time{}, false, false},
		{"a failure before the pass", []pass.Record{f(0), p(10)}, at(10), true, false},
		{"a failure during the soak cancels the pass", []pass.Record{p(0), f(20)}, time.Time{}, false, true},
		{"cancelled stays cancelled on more failures", []pass.Record{p(0), f(20), f(25)}, time.Time{}, false, true},
		{"a pass after the failure restarts the soak", []pass.Record{p(0), f(20), p(40), p(50)}, at(40), true, false},
		// Delivered out of order: the events' times decide, not the order they were recorded in.
		{"a late-delivered failure from before the pass", []pass.Record{p(40), f(20)}, at(40), true, false},
		{"a late-delivered pass from before the failure", []pass.Record{f(20), p(0)}, time.Time{}, false, true},
		{"a pass and a failure in one second: the failure counts last", []pass.Record{f(10), p(10)}, time.Time{}, false, true},
		{"a replay of the pass after the failure restarts nothing", []pass.Record{p(0), f(20), p(0)}, time.Time{}, false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			passedAt, passed, cancelled := pass.Standing(tc.records)
			if !passedAt.Equal(tc.passedAt) || passed != tc.passed || cancelled != tc.cancelled {
				t.Errorf("Standing = %s, passed %v, cancelled %v; want %s, %v, %v", passedAt, passed, cancelled, tc.passedAt, tc.passed, tc.cancelled)
			}
		})
	}
}

const digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func TestTags(t *testing.T) {
	t.Parallel()
	tag, err := pass.Tag("preprod", digest, 3)
	if err != nil || tag != "pass-preprod-0123456789ab-3" {
		t.Fatalf("Tag = %s, %v; want pass-preprod-0123456789ab-3", tag, err)
	}
	for _, bad := range []struct{ stage, digest string }{{"pass", digest}, {"Pre", digest}, {"pre-prod", digest}, {"preprod", "sha256:0123"}} {
		if tag, err := pass.Tag(bad.stage, bad.digest, 1); err == nil {
			t.Errorf("Tag(%q, %q) = %s, want an error", bad.stage, bad.digest, tag)
		}
	}
	tests := []struct {
		tag          string
		stage, short string
		n            uint64
		ok           bool
	}{
		{"pass-preprod-0123456789ab-3", "preprod", "0123456789ab", 3, true},
		{"pass-dev-0123456789ab-18446744073709551615", "dev", "0123456789ab", 18446744073709551615, true},
		{"pass-dev-0123456789ab-0", "", "", 0, false},
		{"pass-dev-0123456789ab-03", "", "", 0, false},
		{"pass-dev-0123456789a-3", "", "", 0, false},
		{"pass-dev-0123456789AB-3", "", "", 0, false},
		{"pass-hold-0123456789ab-3", "", "", 0, false},
		{"pass-dev-0123456789ab", "", "", 0, false},
		{"pass-dev-0123456789ab-3-1", "", "", 0, false},
		{"hold-dev-3", "", "", 0, false},
		{"1.0.0-dev.3", "", "", 0, false},
	}
	for _, tc := range tests {
		stage, short, n, ok := pass.ParseTag(tc.tag)
		if stage != tc.stage || short != tc.short || n != tc.n || ok != tc.ok {
			t.Errorf("ParseTag(%q) = %q %q %d %v; want %q %q %d %v", tc.tag, stage, short, n, ok, tc.stage, tc.short, tc.n, tc.ok)
		}
		if _, isVersion := version.Parse(tc.tag); isVersion && ok {
			t.Errorf("%s is a pass tag and a version: Flux would select it", tc.tag)
		}
		if ok {
			c, err := claim.NewRecord(tc.tag, digest)
			if err != nil || !c.Record() {
				t.Errorf("cannot claim %s: %v", tc.tag, err)
			} else if back, ok := claim.Parse(c.Tag()); !ok || back.Version != tc.tag || len(c.Tag()) > 128 {
				t.Errorf("claim %s reads back as %+v, %v (%d characters)", c.Tag(), back, ok, len(c.Tag()))
			}
		}
	}
}

func TestCheckAndNormalize(t *testing.T) {
	t.Parallel()
	ok := pass.Record{Stage: "dev", Digest: digest, Kind: pass.Pass, Revision: "1.3.0-rc.4@" + digest, Cluster: "dev", Time: t0}
	if err := ok.Check(); err != nil {
		t.Fatalf("Check(%+v) = %v", ok, err)
	}
	tests := []struct {
		name   string
		change func(*pass.Record)
		want   string
	}{
		{"a reserved stage", func(r *pass.Record) { r.Stage = "claim" }, "claim"},
		{"no digest", func(r *pass.Record) { r.Digest = "" }, "digest"},
		{"an unknown kind", func(r *pass.Record) { r.Kind = "ok" }, "kind"},
		{"no time", func(r *pass.Record) { r.Time = time.Time{} }, "no time"},
		{"a cluster on two lines", func(r *pass.Record) { r.Cluster = "dev\n::error::x" }, "cluster"},
		{"a long actor", func(r *pass.Record) { r.Actor = strings.Repeat("a", pass.MaxActor+1) }, "actor"},
	}
	for _, tc := range tests {
		r := ok
		tc.change(&r)
		if err := r.Check(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Check = %v, want an error about %s", tc.name, err, tc.want)
		}
	}
	r := ok
	r.Message = "Health check passed\n::error::forged " + strings.Repeat("x", 600)
	r.Time = t0.Add(1500 * time.Millisecond).In(time.FixedZone("X", 3600))
	n := r.Normalize()
	if strings.ContainsAny(n.Message, "\n\r") || len([]rune(n.Message)) > pass.MaxMessage+1 {
		t.Errorf("Normalize kept message %q", n.Message)
	}
	if !n.Time.Equal(t0.Add(time.Second)) || n.Time.Location() != time.UTC {
		t.Errorf("Normalize time = %s, want %s", n.Time, t0.Add(time.Second))
	}
	if !n.Replays(r) {
		t.Error("a record does not replay its normalized self")
	}
	other := r
	other.Actor = "someone else"
	if !other.Replays(r) {
		t.Error("who recorded an event makes it another event")
	}
	for _, change := range []func(*pass.Record){
		func(r *pass.Record) { r.Kind = pass.Fail },
		func(r *pass.Record) { r.Time = r.Time.Add(time.Second) },
		func(r *pass.Record) { r.Event = "delivery-2" },
		func(r *pass.Record) { r.Revision = "1.3.0-rc.5" },
		func(r *pass.Record) { r.Stage = "prod" },
	} {
		o := r
		change(&o)
		if o.Replays(r) {
			t.Errorf("%+v replays %+v", o, r)
		}
	}
}
