package promote

import (
	"slices"
	"testing"

	"github.com/ocipromote/ocipromote/pkg/stage"
)

func TestQueue(t *testing.T) {
	t.Parallel()
	chain, err := stage.Parse("dev,preprod,qa,prod")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		to      string
		list    []string
		want    []string
		wantErr bool
	}{
		{name: "nothing built", to: "preprod", list: []string{"dev-aaaaaaa", "pass-dev-0123456789ab-1"}},
		{name: "every candidate of dev, newest first (N compared as a number)", to: "preprod",
			list: []string{"1.3.0-rc.2", "1.3.0-rc.10", "1.2.9-rc.1", "1.3.0-rc.9", "dev-aaaaaaa"},
			want: []string{"1.3.0-rc.10", "1.3.0-rc.9", "1.3.0-rc.2", "1.2.9-rc.1"}},
		{name: "those already in preprod are left out", to: "preprod",
			list: []string{"1.3.0-rc.1", "1.3.0-rc.2", "1.3.0-rc.3", "1.3.0-preprod.3"}},
		{name: "older than the newest of preprod in its X.Y: superseded under any line", to: "preprod",
			list: []string{"1.3.0-rc.1", "1.3.0-rc.2", "1.3.0-rc.3", "1.3.0-rc.4", "1.3.0-preprod.3"},
			want: []string{"1.3.0-rc.4"}},
		{name: "a lower patch in preprod supersedes nothing above it", to: "preprod",
			list: []string{"1.3.1-rc.1", "1.3.0-preprod.7"},
			want: []string{"1.3.1-rc.1"}},
		{name: "another X.Y in preprod: the candidate may be on a hotfix line, so it is weighed", to: "preprod",
			list: []string{"1.2.5-rc.8", "1.3.0-rc.7", "1.3.0-preprod.7"},
			want: []string{"1.2.5-rc.8"}},
		{name: "the next intermediate stage waits on preprod's tags", to: "qa",
			list: []string{"1.3.0-rc.5", "1.3.0-rc.4", "1.3.0-preprod.4", "1.3.0-preprod.2", "1.3.0-qa.2"},
			want: []string{"1.3.0-preprod.4"}},
		{name: "into the last stage nothing is left out by name: Decide weighs it", to: "prod",
			list: []string{"1.3.0-qa.4", "1.3.0-qa.2", "1.3.0", "1.3.1"},
			want: []string{"1.3.0-qa.4", "1.3.0-qa.2"}},
		{name: "a v prefix stays", to: "preprod",
			list: []string{"v1.3.0-rc.1", "v1.3.0-rc.2", "v1.3.0-preprod.1"},
			want: []string{"v1.3.0-rc.2"}},
		{name: "the first stage is entered by build-rc", to: "dev", wantErr: true},
		{name: "no such stage", to: "staging", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			q, err := Queue(chain, tc.to, tc.list)
			if (err != nil) != tc.wantErr {
				t.Fatalf("Queue error = %v, want error %v", err, tc.wantErr)
			}
			var got []string
			for _, w := range q {
				got = append(got, w.Tag)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("Queue = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestQueueLines(t *testing.T) {
	t.Parallel()
	q, err := Queue(stage.MustDefault(), "live", []string{"v2.10.0-rc.3", "v2.9.4-rc.1"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := []Waiting(q), []Waiting{{"v2.10.0-rc.3", "2.10"}, {"v2.9.4-rc.1", "2.9"}}; !slices.Equal(got, want) {
		t.Errorf("Queue = %+v, want %+v", got, want)
	}
}

func TestAfter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		reason, gate string
		want         Next
	}{
		{Promoted, "", Stop},
		{WouldPromote, "", Stop},
		{Held, stage.GateHeld, Stop},
		{Deferred, stage.GateWindow, Stop},
		{Deferred, stage.GateHeld, Stop},
		{AlreadyPromoted, "", SkipLine},
		{Superseded, "", SkipLine},
		{Deferred, stage.GateSoak, TryNext},
		{Deferred, stage.GateUnproven, TryNext},
	}
	for _, tc := range tests {
		t.Run(tc.reason+"/"+tc.gate, func(t *testing.T) {
			t.Parallel()
			if got := After(tc.reason, tc.gate); got != tc.want {
				t.Errorf("After(%q, %q) = %d, want %d", tc.reason, tc.gate, got, tc.want)
			}
		})
	}
}
