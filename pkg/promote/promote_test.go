package promote

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

const (
	d1 = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
	d2 = "sha256:2222222222222222222222222222222222222222222222222222222222222222"
	d3 = "sha256:3333333333333333333333333333333333333333333333333333333333333333"
)

func TestDecide(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		c       Candidate
		s       State
		reason  string
		version string
		writes  []string
		wantErr string
	}{
		{
			name:    "first promotion: stable tag first, marker last (SPEC §5.6)",
			c:       Candidate{Digest: d1, Short: "aaaaaaa", RCTag: "0.0.1-rc.1"},
			s:       State{Stables: map[string]string{}},
			reason:  Promoted,
			version: "0.0.1",
			writes:  []string{"0.0.1", "validated-aaaaaaa"},
		},
		{
			name:    "replay after success writes nothing",
			c:       Candidate{Digest: d1, Short: "aaaaaaa", RCTag: "0.0.1-rc.1"},
			s:       State{Stables: map[string]string{"0.0.1": d1}, Marker: d1},
			reason:  AlreadyPromoted,
			version: "0.0.1",
		},
		{
			name:    "crash between stable and marker: only the marker is written",
			c:       Candidate{Digest: d1, Short: "aaaaaaa", RCTag: "0.0.1-rc.1"},
			s:       State{Stables: map[string]string{"0.0.1": d1}},
			reason:  Promoted,
			version: "0.0.1",
			writes:  []string{"validated-aaaaaaa"},
		},
		{
			name:    "stray marker without its stable tag is repaired, not trusted (SPEC §5.6)",
			c:       Candidate{Digest: d1, Short: "aaaaaaa", RCTag: "0.0.1-rc.1"},
			s:       State{Stables: map[string]string{}, Marker: d1},
			reason:  Promoted,
			version: "0.0.1",
			writes:  []string{"0.0.1", "validated-aaaaaaa"},
		},
		{
			name:   "older candidate after a newer one was promoted is superseded (SPEC §5.5)",
			c:      Candidate{Digest: d1, Short: "aaaaaaa", RCTag: "0.0.1-rc.1"},
			s:      State{Stables: map[string]string{"0.0.1": d2}, BehindHighest: "0.0.1-rc.2"},
			reason: Superseded,
		},
		{
			name:    "newer candidate of a promoted base becomes the next patch, the stable tag is not moved (SPEC §5.5)",
			c:       Candidate{Digest: d2, Short: "bbbbbbb", RCTag: "0.0.1-rc.2"},
			s:       State{Stables: map[string]string{"0.0.1": d1}, BehindHighest: "0.0.1-rc.1"},
			reason:  Promoted,
			version: "0.0.2",
			writes:  []string{"0.0.2", "validated-bbbbbbb"},
		},
		{
			name:    "newer candidate goes above the highest stable of its line",
			c:       Candidate{Digest: d3, Short: "ccccccc", RCTag: "0.0.2-rc.3"},
			s:       State{Stables: map[string]string{"0.0.2": d2, "0.0.3": d1}, BehindHighest: "0.0.2-rc.2"},
			reason:  Promoted,
			version: "0.0.4",
			writes:  []string{"0.0.4", "validated-ccccccc"},
		},
		{
			name:    "promoted to a next patch earlier: replay is already-promoted",
			c:       Candidate{Digest: d2, Short: "bbbbbbb", RCTag: "0.0.1-rc.2"},
			s:       State{Stables: map[string]string{"0.0.1": d1, "0.0.2": d2, "0.0.3": d3}, BehindHighest: "0.0.3-rc.1", Marker: d2},
			reason:  AlreadyPromoted,
			version: "0.0.2",
		},
		{
			name:    "candidate older than a higher stable is superseded even when its own stable is free",
			c:       Candidate{Digest: d1, Short: "aaaaaaa", RCTag: "0.0.2-rc.1"},
			s:       State{Stables: map[string]string{"0.0.3": d2}, BehindHighest: "0.0.3-rc.1"},
			reason:  Superseded,
			version: "",
		},
		{
			name:    "v-prefixed candidate keeps its prefix",
			c:       Candidate{Digest: d1, Short: "aaaaaaa", RCTag: "v1.2.0-rc.4"},
			s:       State{Stables: map[string]string{}},
			reason:  Promoted,
			version: "v1.2.0",
			writes:  []string{"v1.2.0", "validated-aaaaaaa"},
		},
		{
			name:    "same release-candidate version on two artifacts is refused",
			c:       Candidate{Digest: d1, Short: "aaaaaaa", RCTag: "0.0.1-rc.1"},
			s:       State{Stables: map[string]string{"0.0.1": d2}, BehindHighest: "0.0.1-rc.1"},
			wantErr: "two artifacts for one version",
		},
		{
			name:    "unknown version behind the highest stable is refused, not guessed",
			c:       Candidate{Digest: d1, Short: "aaaaaaa", RCTag: "0.0.1-rc.1"},
			s:       State{Stables: map[string]string{"0.0.1": d2}},
			wantErr: "cannot tell",
		},
		{
			name:    "a stable version is not a candidate",
			c:       Candidate{Digest: d1, Short: "aaaaaaa", RCTag: "0.0.1"},
			wantErr: "not a release candidate",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d, err := Decide(tc.c, tc.s)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Decide() error = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got, want := d.Reason, tc.reason; got != want {
				t.Errorf("reason = %s, want %s (%s)", got, want, d.Detail)
			}
			if got, want := d.Version, tc.version; got != want {
				t.Errorf("version = %q, want %q", got, want)
			}
			if got, want := d.Writes, tc.writes; !slices.Equal(got, want) {
				t.Errorf("writes = %v, want %v", got, want)
			}
			if got, want := d.Promote(), len(tc.writes) > 0; got != want {
				t.Errorf("Promote() = %v, want %v", got, want)
			}
		})
	}
}

func TestStablesStayInTheCandidatesLine(t *testing.T) {
	t.Parallel()
	list := []string{"0.9.0", "1.4.1", "1.4.2", "v1.4.3", "1.4.3-rc.1", "1.5.0", "2.0.0", "latest", "validated-aaaaaaa"}
	got, err := Stables(list, Candidate{Digest: d1, RCTag: "1.4.2-rc.3"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"1.4.2", "v1.4.3"}; !slices.Equal(got, want) {
		t.Errorf("Stables() = %v, want %v", got, want)
	}
}

func TestNeedsBehind(t *testing.T) {
	t.Parallel()
	c := Candidate{Digest: d1, RCTag: "0.0.1-rc.1"}
	if got := NeedsBehind(c, map[string]string{}); got != "" {
		t.Errorf("no stables: NeedsBehind = %q", got)
	}
	if got := NeedsBehind(c, map[string]string{"0.0.1": d1}); got != "" {
		t.Errorf("candidate is highest: NeedsBehind = %q", got)
	}
	if got := NeedsBehind(c, map[string]string{"0.0.1": d1, "0.0.2": d2}); got != "0.0.2" {
		t.Errorf("NeedsBehind = %q, want 0.0.2", got)
	}
}

func ExampleDecide() {
	d, _ := Decide(
		Candidate{Digest: d2, Short: "bbbbbbb", RCTag: "0.0.1-rc.2"},
		State{Stables: map[string]string{"0.0.1": d1}, BehindHighest: "0.0.1-rc.1"},
	)
	fmt.Println(d.Reason, d.Writes)
	// Output: promoted [0.0.2 validated-bbbbbbb]
}
