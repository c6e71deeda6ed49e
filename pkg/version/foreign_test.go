package version

import (
	"slices"
	"testing"
)

// The foreign tags, each checked with Masterminds/semver's precedence as Flux applies it:
// "rc" < "rc1" and a numeric identifier < an alphanumeric one, so no X.Y.Z-rc.N of the same base
// outranks 0.5.0-rc1 or 0.0.9-rc.1-hotfix.
func TestShadowing(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		tags      []string
		candidate string
		want      []string
	}{
		{"only pipeline tags", []string{"0.0.1", "0.0.2-rc.1", "sha-abc1234", "v0.0.1"}, "0.0.2-rc.2", nil},
		{"rc without a dot, higher base", []string{"0.0.1", "0.5.0-rc1"}, "0.0.2-rc.1", []string{"0.5.0-rc1"}},
		{"rc1 above every rc.N of its base", []string{"0.5.0-rc1"}, "0.5.0-rc.9", []string{"0.5.0-rc1"}},
		{"bare rc is below rc.1", []string{"0.5.0-rc"}, "0.5.0-rc.1", nil},
		{"bare rc of a higher base", []string{"0.5.0-rc"}, "0.0.2-rc.1", []string{"0.5.0-rc"}},
		{"extra identifier, below the next number", []string{"0.0.9-rc.1.1"}, "0.0.9-rc.2", nil},
		{"extra identifier, above the candidate", []string{"0.0.9-rc.1.1"}, "0.0.9-rc.1", []string{"0.0.9-rc.1.1"}},
		{"hotfix suffix above every rc.N", []string{"0.0.9-rc.1-hotfix"}, "0.0.9-rc.50", []string{"0.0.9-rc.1-hotfix"}},
		{"build metadata", []string{"0.1.0-rc.1+build.5"}, "0.0.2-rc.1", []string{"0.1.0-rc.1+build.5"}},
		{"equal version with a v", []string{"v0.0.2-rc.1.0"}, "0.0.2-rc.1", []string{"v0.0.2-rc.1.0"}},
		{"filtered out: no -rc", []string{"0.9.0-beta.1"}, "0.0.2-rc.1", nil},
		{"below the candidate", []string{"0.0.1-rc1"}, "0.0.2-rc.1", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := Shadowing(tc.tags, tc.candidate, IntegrationConstraint, IntegrationFilter)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("Shadowing(%v, %s) = %v, want %v", tc.tags, tc.candidate, got, tc.want)
			}
			// The rule agrees with the selection itself: with a shadowing tag, integration picks a
			// foreign tag over the candidate.
			picked, err := Select(append(slices.Clone(tc.tags), tc.candidate), IntegrationConstraint, IntegrationFilter)
			if err != nil {
				t.Fatal(err)
			}
			if shadowed := picked != tc.candidate; shadowed != (len(got) > 0) {
				t.Errorf("integration picks %s over candidate %s, but Shadowing says %v", picked, tc.candidate, got)
			}
		})
	}
}
