package promote

import (
	"slices"
	"strings"
	"testing"

	"github.com/ocipromote/ocipromote/pkg/stage"
	"github.com/ocipromote/ocipromote/pkg/version"
)

func TestDecideStage(t *testing.T) {
	t.Parallel()
	chain, err := stage.Parse("dev,preprod,qa,prod")
	if err != nil {
		t.Fatal(err)
	}
	c := Candidate{Digest: d1, Short: "aaaaaaa", RCTag: "1.3.0-rc.4"}
	hotfix := Candidate{Digest: d1, Short: "aaaaaaa", RCTag: "1.2.5-rc.2", Line: &version.Line{Major: 1, Minor: 2}}
	tests := []struct {
		name         string
		c            Candidate
		to           string
		s            StageState
		reason       string
		version      string
		writes       []string
		supersededBy string
		wantErr      string
	}{
		{name: "first promotion into a stage: its tag with the candidate's N, then its marker", c: c, to: "preprod",
			reason: Promoted, version: "1.3.0-preprod.4", writes: []string{"1.3.0-preprod.4", "preprod-aaaaaaa"}},
		{name: "the next intermediate stage", c: c, to: "qa",
			s:      StageState{List: []string{"1.3.0-rc.4", "1.3.0-preprod.4", "preprod-aaaaaaa"}},
			reason: Promoted, version: "1.3.0-qa.4", writes: []string{"1.3.0-qa.4", "qa-aaaaaaa"}},
		{name: "a v prefix stays", c: Candidate{Digest: d1, Short: "aaaaaaa", RCTag: "v1.3.0-rc.4"}, to: "preprod",
			reason: Promoted, version: "v1.3.0-preprod.4", writes: []string{"v1.3.0-preprod.4", "preprod-aaaaaaa"}},
		{name: "replay after success writes nothing", c: c, to: "preprod",
			s:      StageState{List: []string{"1.3.0-preprod.4", "preprod-aaaaaaa"}, Target: d1, Marker: d1},
			reason: AlreadyPromoted, version: "1.3.0-preprod.4"},
		{name: "a crash between the tag and the marker: the marker alone", c: c, to: "preprod",
			s:      StageState{List: []string{"1.3.0-preprod.4"}, Target: d1},
			reason: Promoted, version: "1.3.0-preprod.4", writes: []string{"preprod-aaaaaaa"}},
		{name: "a newer candidate already in the stage supersedes", c: c, to: "preprod",
			s:      StageState{List: []string{"1.3.0-preprod.5", "1.3.0-preprod.3", "1.3.1-qa.1"}},
			reason: Superseded, supersededBy: "1.3.0-preprod.5"},
		{name: "older candidates and other stages' tags do not", c: c, to: "preprod",
			s:      StageState{List: []string{"1.3.0-preprod.3", "1.2.9-preprod.9", "1.3.0-qa.9", "1.3.0-rc.9", "1.3.0", "preprodx-1"}},
			reason: Promoted, version: "1.3.0-preprod.4", writes: []string{"1.3.0-preprod.4", "preprod-aaaaaaa"}},
		{name: "a hotfix line is not superseded by the main line", c: hotfix, to: "preprod",
			s:      StageState{List: []string{"1.3.0-preprod.1", "1.2.5-preprod.1"}},
			reason: Promoted, version: "1.2.5-preprod.2", writes: []string{"1.2.5-preprod.2", "preprod-aaaaaaa"}},
		{name: "the tag at another artifact", c: c, to: "preprod", s: StageState{Target: d2},
			wantErr: "two artifacts for one version"},
		{name: "the first stage is not promoted into", c: c, to: "dev", wantErr: "not an intermediate stage"},
		{name: "the last stage is Decide's", c: c, to: "prod", wantErr: "not an intermediate stage"},
		{name: "not a release candidate", c: Candidate{Digest: d1, Short: "aaaaaaa", RCTag: "1.3.0"}, to: "preprod", wantErr: "not a release candidate"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d, err := DecideStage(tc.c, chain, tc.to, tc.s)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one saying %q", err, tc.wantErr)
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
			if got, want := d.SupersededBy, tc.supersededBy; got != want {
				t.Errorf("superseded by %q, want %q", got, want)
			}
		})
	}
}
