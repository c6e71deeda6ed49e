package promote

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/ocipromote/ocipromote/pkg/version"
)

const (
	d1 = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
	d2 = "sha256:2222222222222222222222222222222222222222222222222222222222222222"
	d3 = "sha256:3333333333333333333333333333333333333333333333333333333333333333"
	d4 = "sha256:4444444444444444444444444444444444444444444444444444444444444444"
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
			s:      State{Stables: map[string]string{"0.0.1": d2}, Behind: map[string]string{d2: "0.0.1-rc.2"}},
			reason: Superseded,
		},
		{
			name:    "newer candidate of a promoted base becomes the next patch, the stable tag is not moved (SPEC §5.5)",
			c:       Candidate{Digest: d2, Short: "bbbbbbb", RCTag: "0.0.1-rc.2"},
			s:       State{Stables: map[string]string{"0.0.1": d1}, Behind: map[string]string{d1: "0.0.1-rc.1"}},
			reason:  Promoted,
			version: "0.0.2",
			writes:  []string{"0.0.2", "validated-bbbbbbb"},
		},
		{
			name:    "newer candidate goes above the highest stable of its line",
			c:       Candidate{Digest: d3, Short: "ccccccc", RCTag: "0.0.2-rc.3"},
			s:       State{Stables: map[string]string{"0.0.2": d2, "0.0.3": d1}, Behind: map[string]string{d1: "0.0.2-rc.2", d2: "0.0.2-rc.1"}},
			reason:  Promoted,
			version: "0.0.4",
			writes:  []string{"0.0.4", "validated-ccccccc"},
		},
		{
			name:    "promoted to a next patch earlier: replay is already-promoted",
			c:       Candidate{Digest: d2, Short: "bbbbbbb", RCTag: "0.0.1-rc.2"},
			s:       State{Stables: map[string]string{"0.0.1": d1, "0.0.2": d2, "0.0.3": d3}, Marker: d2},
			reason:  AlreadyPromoted,
			version: "0.0.2",
		},
		{
			name:    "candidate older than a higher stable is superseded even when its own stable is free",
			c:       Candidate{Digest: d1, Short: "aaaaaaa", RCTag: "0.0.2-rc.1"},
			s:       State{Stables: map[string]string{"0.0.3": d2}, Behind: map[string]string{d2: "0.0.3-rc.1"}},
			reason:  Superseded,
			version: "",
		},
		{
			// After a rollback the highest stable is an old artifact: a candidate older than the
			// version rolled back from must not go live when the hold is released.
			name: "candidate older than any stable in scope is superseded, not only the highest",
			c:    Candidate{Digest: d1, Short: "aaaaaaa", RCTag: "0.0.3-rc.1"},
			s: State{Stables: map[string]string{"0.0.3": d2, "0.0.4": d3},
				Behind: map[string]string{d3: "0.0.2-rc.1", d2: "0.0.3-rc.2"}},
			reason: Superseded,
		},
		{
			name: "after a rollback a newer candidate goes above the rollback's version",
			c:    Candidate{Digest: d1, Short: "aaaaaaa", RCTag: "0.0.4-rc.1"},
			s: State{Stables: map[string]string{"0.0.4": d3},
				Behind: map[string]string{d3: "0.0.2-rc.1"}},
			reason:  Promoted,
			version: "0.0.5",
			writes:  []string{"0.0.5", "validated-aaaaaaa"},
		},
		{
			// A minor release overtook a main-line candidate: releasing it as 0.0.1 now would
			// create a version below live's out of order.
			name:   "main-line candidate overtaken by a higher line is superseded",
			c:      Candidate{Digest: d1, Short: "aaaaaaa", RCTag: "0.0.1-rc.1"},
			s:      State{Stables: map[string]string{"0.1.0": d2}, Behind: map[string]string{d2: "0.1.0-rc.1"}},
			reason: Superseded,
		},
		{
			name:    "a hotfix candidate meets its own line only",
			c:       Candidate{Digest: d1, Short: "aaaaaaa", RCTag: "1.4.3-rc.1", Line: &version.Line{Major: 1, Minor: 4}},
			s:       State{Stables: map[string]string{}},
			reason:  Promoted,
			version: "1.4.3",
			writes:  []string{"1.4.3", "validated-aaaaaaa"},
		},
		{
			name:    "a rival's claim on the version counts as taken: a newer candidate takes the next patch",
			c:       Candidate{Digest: d2, Short: "bbbbbbb", RCTag: "0.0.1-rc.2"},
			s:       State{Claims: []Holder{{"0.0.1", d1}}, Behind: map[string]string{d1: "0.0.1-rc.1"}},
			reason:  Promoted,
			version: "0.0.2",
			writes:  []string{"0.0.2", "validated-bbbbbbb"},
		},
		{
			// Two promotions claimed 0.0.2 and backed off; the newer claimant supersedes us even
			// though the older one is listed too.
			name: "every claimant of a version counts, not one per version",
			c:    Candidate{Digest: d1, Short: "aaaaaaa", RCTag: "0.0.1-rc.2"},
			s: State{Stables: map[string]string{"0.0.1": d4}, Claims: []Holder{{"0.0.2", d2}, {"0.0.2", d3}},
				Behind: map[string]string{d2: "0.0.1-rc.1", d3: "0.0.1-rc.3", d4: "0.0.1-rc.0"}},
			reason: Superseded,
		},
		{
			name: "a claimant newer than the candidate above an older stable: superseded",
			c:    Candidate{Digest: d1, Short: "aaaaaaa", RCTag: "0.0.1-rc.2"},
			s: State{Stables: map[string]string{"0.0.2": d2}, Claims: []Holder{{"0.0.3", d3}},
				Behind: map[string]string{d3: "0.0.1-rc.3"}},
			reason: Superseded,
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
			s:       State{Stables: map[string]string{"0.0.1": d2}, Behind: map[string]string{d2: "0.0.1-rc.1"}},
			wantErr: "two artifacts for one version",
		},
		{
			name:    "unknown version behind the highest stable is refused, not guessed",
			c:       Candidate{Digest: d1, Short: "aaaaaaa", RCTag: "0.0.1-rc.1"},
			s:       State{Stables: map[string]string{"0.0.1": d2}},
			wantErr: "cannot tell",
		},
		{
			name:    "a stable tag at the largest patch is an error, never a panic",
			c:       Candidate{Digest: d1, Short: "aaaaaaa", RCTag: "0.0.1-rc.2"},
			s:       State{Stables: map[string]string{"0.0.18446744073709551615": d2}, Behind: map[string]string{d2: "0.0.1-rc.1"}},
			wantErr: "maximum",
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

func TestStables(t *testing.T) {
	t.Parallel()
	list := []string{"0.9.0", "1.4.1", "1.4.2", "v1.4.3", "1.4.3-rc.1", "1.5.0", "2.0.0", "latest", "validated-aaaaaaa"}
	tests := []struct {
		name string
		c    Candidate
		want []string
	}{
		{"a hotfix line's candidate meets its line only", Candidate{Digest: d1, RCTag: "1.4.2-rc.3", Line: &version.Line{Major: 1, Minor: 4}}, []string{"1.4.2", "v1.4.3"}},
		{"a main-line candidate meets every stable version at or above its base", Candidate{Digest: d1, RCTag: "1.4.2-rc.3"}, []string{"1.4.2", "v1.4.3", "1.5.0", "2.0.0"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := Stables(list, tc.c)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("Stables() = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestNeedsBehind(t *testing.T) {
	t.Parallel()
	c := Candidate{Digest: d1, RCTag: "0.0.3-rc.1"}
	tests := []struct {
		name string
		s    State
		want string
	}{
		{"no stables", State{}, ""},
		{"the candidate is stable already", State{Stables: map[string]string{"0.0.3": d1, "0.0.4": d2}}, ""},
		{"the highest first", State{Stables: map[string]string{"0.0.3": d3, "0.0.4": d2}}, d2},
		{"then the next, while none is newer", State{Stables: map[string]string{"0.0.3": d3, "0.0.4": d2}, Behind: map[string]string{d2: "0.0.2-rc.1"}}, d3},
		{"claims count as holders", State{Stables: map[string]string{"0.0.3": d3}, Claims: []Holder{{"0.0.4", d2}}}, d2},
		{"none once a newer one is found", State{Stables: map[string]string{"0.0.3": d3, "0.0.4": d2}, Behind: map[string]string{d2: "0.0.4-rc.1"}}, ""},
		{"none once all are known", State{Stables: map[string]string{"0.0.3": d3, "0.0.4": d2}, Behind: map[string]string{d2: "0.0.2-rc.1", d3: "0.0.2-rc.2"}}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := NeedsBehind(c, tc.s); got != tc.want {
				t.Errorf("NeedsBehind = %q, want %q", got, tc.want)
			}
		})
	}
}

func ExampleDecide() {
	d, _ := Decide(
		Candidate{Digest: d2, Short: "bbbbbbb", RCTag: "0.0.1-rc.2"},
		State{Stables: map[string]string{"0.0.1": d1}, Behind: map[string]string{d1: "0.0.1-rc.1"}},
	)
	fmt.Println(d.Reason, d.Writes)
	// Output: promoted [0.0.2 validated-bbbbbbb]
}

func TestClaims(t *testing.T) {
	t.Parallel()
	c := Candidate{Digest: "sha256:aaaaaaaaaaaa" + strings.Repeat("0", 52), Short: "aaaaaaa", RCTag: "0.0.2-rc.1"}
	list := []string{
		"0.0.3", "claim-0.0.3-bbbbbbb-bbbbbbbbbbbb", // written: the tag speaks
		"claim-0.0.4-bbbbbbb-bbbbbbbbbbbb",      // another artifact's, not written: counts
		"claim-v0.0.5-ccccccc-cccccccccccc",     // v-prefixed, not written: counts
		"claim-0.0.6-aaaaaaa-aaaaaaaaaaaa",      // the candidate's own: left out
		"claim-0.0.1-bbbbbbb-bbbbbbbbbbbb",      // below its base: out of scope
		"claim-0.0.7-rc.1-bbbbbbb-bbbbbbbbbbbb", // a release candidate's
	}
	if got, want := Claims(list, c).Versions(), []string{"0.0.4", "v0.0.5"}; !slices.Equal(got, want) {
		t.Errorf("Claims = %v, want %v", got, want)
	}
}
