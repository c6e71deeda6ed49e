package version

import "testing"

func TestBumpFromCommits(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		messages []string
		want     Bump
	}{
		{"none", nil, Patch},
		{"fix", []string{"fix: handle empty list"}, Patch},
		{"free text", []string{"Update replicas", "Merge pull request #12 from acme/x"}, Patch},
		{"feature", []string{"fix: a", "feat(api): add endpoint"}, Minor},
		{"breaking marker", []string{"feat: a", "refactor(core)!: drop v1"}, Major},
		{"breaking footer", []string{"fix: a\n\nBREAKING CHANGE: config moved"}, Major},
		{"breaking footer with hyphen", []string{"chore: x\r\n\r\nBREAKING-CHANGE: y"}, Major},
		{"breaking words in a subject are not a footer", []string{"docs: explain BREAKING CHANGE: policy"}, Patch},
		{"feature without a space is not conventional", []string{"feat:add"}, Patch},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := BumpFromCommits(tc.messages); got != tc.want {
				t.Errorf("BumpFromCommits(%q) = %s, want %s", tc.messages, got, tc.want)
			}
		})
	}
}
