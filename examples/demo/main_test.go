package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// The demo runs the whole pipeline in-process and tells the story the README promises: the newest
// candidate reaches integration only, an event from the wrong cluster and an unhealthy one are
// ignored, the health check promotes exactly that candidate to live, and Flux's repeat writes
// nothing.
func TestDemo(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	if err := run(context.Background(), &out); err != nil {
		t.Fatalf("demo: %v\n%s", err, out.String())
	}
	// Each step of the story is one paragraph.
	paragraphs := strings.Split(strings.TrimSpace(out.String()), "\n\n")
	find := func(prefix string) string {
		t.Helper()
		for _, p := range paragraphs {
			if strings.HasPrefix(p, prefix) {
				return p
			}
		}
		t.Fatalf("no paragraph starts with %q:\n%s", prefix, out.String())
		return ""
	}
	index := func(p string) int {
		for i, q := range paragraphs {
			if q == p {
				return i
			}
		}
		return -1
	}
	tests := []struct {
		name, paragraph string
		want, not       []string
	}{
		{"first merge", find("merge 1d9f5c2"), []string{
			"build-rc pushed 0.0.1-rc.1", "tags: 0.0.1-rc.1, sha-1d9f5c2, integration-1d9f5c2",
			`Flux on integration semver ">= 0.0.0-0", semverFilter ".*-rc.*" selects 0.0.1-rc.1`, `Flux on live        semver ">= 0.0.0"                          selects (nothing yet)`,
		}, nil},
		{"before promotion", find("merge 7a4e0b9"), []string{
			"build-rc pushed 0.0.1-rc.2",
			`Flux on integration semver ">= 0.0.0-0", semverFilter ".*-rc.*" selects 0.0.1-rc.2`, `Flux on live        semver ">= 0.0.0"                          selects (nothing yet)`,
		}, nil},
		{"not yet healthy", find(`event "integration: change set applied`), []string{"dispatch-receiver: ignored: message", "is not a success signal"}, []string{"tag-validated"}},
		{"wrong cluster", find(`event "live cluster reports its own health check"`), []string{"dispatch-receiver: ignored: event from cluster live, expected integration"}, []string{"tag-validated"}},
		{"promotion", find(`event "integration: health check passed"`), []string{
			"dispatch-receiver: promote:", "for 0.0.1-rc.2 on cluster integration",
			"tag-validated: promoted 0.0.1 (wrote 0.0.1, validated-7a4e0b9)",
			`Flux on integration semver ">= 0.0.0-0", semverFilter ".*-rc.*" selects 0.0.1-rc.2`, `Flux on live        semver ">= 0.0.0"                          selects 0.0.1`,
		}, nil},
		{"repeat", find(`event "integration: the same success again`), []string{
			"tag-validated: already-promoted 0.0.1 (wrote nothing)", `Flux on live        semver ">= 0.0.0"                          selects 0.0.1`,
		}, []string{"tag-validated: promoted"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			for _, w := range tc.want {
				if !strings.Contains(tc.paragraph, w) {
					t.Errorf("lacks %q:\n%s", w, tc.paragraph)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(tc.paragraph, n) {
					t.Errorf("has %q:\n%s", n, tc.paragraph)
				}
			}
		})
	}
	// The story is told in order: ignored events before the promotion, the repeat after it.
	if a, b, c := index(find(`event "live cluster`)), index(find(`event "integration: health check passed"`)), index(find(`event "integration: the same success`)); !(a < b && b < c) {
		t.Errorf("paragraphs out of order (wrong cluster %d, promotion %d, repeat %d):\n%s", a, b, c, out.String())
	}
}
