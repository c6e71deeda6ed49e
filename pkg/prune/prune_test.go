package prune_test

import (
	"strings"
	"testing"
	"time"

	"github.com/ocipromote/ocipromote/pkg/prune"
)

var (
	day = time.Date(2026, 8, 1, 10, 0, 0, 0, time.UTC)
	now = day.AddDate(0, 0, 60)
)

func digest(c string) string { return "sha256:" + strings.Repeat(c, 64) }

func TestDecide(t *testing.T) {
	t.Parallel()
	list := []string{"0.0.1", "0.0.2", "v0.0.2", "1.4.3", "2.0.0", "0.0.1-rc.1", "0.0.1-rc.2", "0.0.2-rc.1", "2.0.1-rc.1", "hold-1", "latest"}
	old, young := day, now.AddDate(0, 0, -3)
	tests := []struct {
		name  string
		entry prune.Entry
		rules func(*prune.Rules)
		gone  bool
		why   string
	}{
		{name: "old superseded release candidate", gone: true, why: "more than 30 days",
			entry: prune.Entry{Tags: []string{"0.0.1-rc.2", "sha-bbbbbbb", "integration-bbbbbbb", "claim-0.0.1-rc.2-bbbbbbb-111111111111"}, Created: old, Version: "0.0.1-rc.2", SupersededBy: "0.0.2"}},
		{name: "says what superseded it", gone: true, why: "release candidate 0.0.1-rc.2 is superseded by stable 0.0.2",
			entry: prune.Entry{Tags: []string{"0.0.1-rc.2", "sha-bbbbbbb"}, Created: old, Version: "0.0.1-rc.2", SupersededBy: "0.0.2"}},
		{name: "a claim that lost its number", gone: true,
			entry: prune.Entry{Tags: []string{"claim-0.0.1-rc.2-ccccccc-111111111111"}, Created: old, Version: "0.0.1-rc.2", SupersededBy: "0.0.2"}},
		{name: "a stable claim of a promotion that backed off goes with its artifact", gone: true,
			entry: prune.Entry{Tags: []string{"0.0.1-rc.2", "claim-0.0.2-bbbbbbb-111111111111", "sha-bbbbbbb"}, Created: old, Version: "0.0.1-rc.2", SupersededBy: "0.0.2"}},
		{name: "a candidate a stable version of its base does not supersede", why: "pending",
			entry: prune.Entry{Tags: []string{"0.0.2-rc.1", "sha-fffffff", "integration-fffffff"}, Created: old, Version: "0.0.2-rc.1"}},
		{name: "an artifact that is no candidate", gone: true, why: "not a kept stable version",
			entry: prune.Entry{Tags: []string{"sha-fffffff"}, Created: old}},
		{name: "a marker-like tag that is no marker", why: "tag sha-xyz",
			entry: prune.Entry{Tags: []string{"sha-xyz"}, Created: old}},
		{name: "young release candidate", why: "less than 30 days",
			entry: prune.Entry{Tags: []string{"0.0.1-rc.2", "sha-bbbbbbb"}, Created: young, Version: "0.0.1-rc.2"}},
		{name: "pending release candidate", why: "pending",
			entry: prune.Entry{Tags: []string{"2.0.1-rc.1", "sha-ddddddd"}, Created: old, Version: "2.0.1-rc.1"}},
		{name: "hold record", why: "hold record",
			entry: prune.Entry{Tags: []string{"hold-1"}, Created: old}},
		{name: "a stage's hold record", why: "hold record hold-preprod-2",
			entry: prune.Entry{Tags: []string{"hold-preprod-2"}, Created: old}},
		{name: "a claim on a stage's hold record", why: "hold record claim-hold-preprod-2-1111111-111111111111",
			entry: prune.Entry{Tags: []string{"claim-hold-preprod-2-1111111-111111111111"}, Created: old}},
		{name: "pass record", why: "pass record pass-preprod-0123456789ab-1",
			entry: prune.Entry{Tags: []string{"pass-preprod-0123456789ab-1"}, Created: old}},
		{name: "a claim on a pass record", why: "pass record claim-pass-preprod-0123456789ab-1-1111111-111111111111",
			entry: prune.Entry{Tags: []string{"claim-pass-preprod-0123456789ab-1-1111111-111111111111"}, Created: old}},
		{name: "a stage's hold record kept with prune_stable", why: "hold record", rules: func(r *prune.Rules) { r.PruneStable = true },
			entry: prune.Entry{Tags: []string{"hold-dev-1"}, Created: old}},
		{name: "protected", why: "selected by live", rules: func(r *prune.Rules) { r.Protect = map[string]string{digest("1"): "selected by live"} },
			entry: prune.Entry{Tags: []string{"0.0.1-rc.1", "sha-aaaaaaa"}, Created: old, Version: "0.0.1-rc.1"}},
		{name: "a tag the pipeline did not write", why: "tag latest",
			entry: prune.Entry{Tags: []string{"0.0.1-rc.1", "latest"}, Created: old, Version: "0.0.1-rc.1"}},
		{name: "a pre-release that is not a candidate", why: "tag 0.0.1-beta.1",
			entry: prune.Entry{Tags: []string{"0.0.1-beta.1"}, Created: old}},
		{name: "no created annotation", why: "age is unknown",
			entry: prune.Entry{Tags: []string{"0.0.1-rc.1"}}},
		{name: "newest stable", why: "newest 1",
			entry: prune.Entry{Tags: []string{"2.0.0", "sha-eeeeeee"}, Created: old, Version: "2.0.0-rc.1"}},
		{name: "old stable without prune_stable", why: "prune_stable",
			entry: prune.Entry{Tags: []string{"0.0.1", "0.0.1-rc.1", "validated-aaaaaaa"}, Created: old, Version: "0.0.1-rc.1"}},
		{name: "old stable with prune_stable", gone: true, why: "older than the versions kept", rules: func(r *prune.Rules) { r.PruneStable = true },
			entry: prune.Entry{Tags: []string{"0.0.1", "0.0.1-rc.1", "validated-aaaaaaa"}, Created: old, Version: "0.0.1-rc.1"}},
		{name: "highest of its line even with prune_stable", why: "highest of its MAJOR.MINOR line", rules: func(r *prune.Rules) { r.PruneStable = true },
			entry: prune.Entry{Tags: []string{"1.4.3"}, Created: old}},
		{name: "v-prefixed twin of the newest stable", why: "newest 1", rules: func(r *prune.Rules) { r.PruneStable = true },
			entry: prune.Entry{Tags: []string{"v0.0.2"}, Created: old}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := prune.Rules{KeepStable: 1, KeepRCDays: 30, Now: now}
			if tc.rules != nil {
				tc.rules(&r)
			}
			tc.entry.Digest = digest("1")
			p, err := prune.Decide(list, []prune.Entry{tc.entry}, r)
			if err != nil {
				t.Fatal(err)
			}
			items := p.Keep
			if tc.gone {
				items = p.Delete
			}
			if got, want := len(items), 1; got != want {
				t.Fatalf("plan = %+v, want the entry in %s", p, map[bool]string{true: "Delete", false: "Keep"}[tc.gone])
			}
			if !strings.Contains(items[0].Reason, tc.why) {
				t.Errorf("reason = %q, want one containing %q", items[0].Reason, tc.why)
			}
		})
	}
}

func TestRulesValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		rules prune.Rules
		want  string
	}{
		{"keep no stable", prune.Rules{KeepStable: 0, KeepRCDays: 1, Now: now}, "at least 1"},
		{"negative days", prune.Rules{KeepStable: 1, KeepRCDays: -1, Now: now}, "negative"},
		{"no time", prune.Rules{KeepStable: 1, KeepRCDays: 1}, "time"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if err := tc.rules.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Validate() = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}
