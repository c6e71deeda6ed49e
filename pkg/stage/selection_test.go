package stage

import (
	"slices"
	"testing"

	"github.com/ocipromote/ocipromote/pkg/version"
)

// The default chain's selections are the shipped examples' (examples/flux/*/source.yaml).
func TestDefaultSelections(t *testing.T) {
	t.Parallel()
	c := MustDefault()
	for stage, want := range map[string]Selection{
		"integration": {Semver: ">= 0.0.0-0", SemverFilter: ".*-rc.*"},
		"live":        {Semver: ">= 0.0.0"},
	} {
		if got, err := c.Selection(stage); err != nil || got != want {
			t.Errorf("Selection(%s) = %+v, %v; want %+v", stage, got, err, want)
		}
	}
	if _, err := c.Selection("prod"); err == nil {
		t.Error("a selection for a stage not in the chain")
	}
}

// A repository holding every kind of tag the pipeline writes, for every stage, and tags other
// tools push: each stage's selection picks exactly its newest tag, and every tag it considers
// is its own or reported foreign.
func TestSelectionsPickExactlyTheirStage(t *testing.T) {
	t.Parallel()
	records := []string{"sha-abc1234", "sha-def5678", "validated-abc1234", "claim-1.2.0-abc1234-2026", "claim-1.3.0-rc.5-def5678-1", "hold-1", "pass-1", "sha256-" + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.sig", "latest"}
	tests := []struct {
		name  string
		chain string
		tags  []string
		want  map[string]string
		// foreign are the tags each stage's selection considers but did not write.
		foreign map[string][]string
	}{
		{
			name:  "three stages",
			chain: "dev,preprod,prod",
			tags: append([]string{"1.2.0-rc.1", "1.2.0-preprod.1", "1.2.0", "1.3.0-rc.4", "1.3.0-rc.5", "1.3.0-preprod.4", "dev-abc1234", "dev-def5678", "preprod-abc1234",
				// foreign: none matches an anchored filter, so neither dev nor preprod is shadowed
				"9.0.0-rc1", "9.0.0-rc", "9.0.0-rc.1.1", "9.0.0-rc.1-hotfix", "9.0.0-preprod", "9.0.0-preprod.0", "9.0.0-preprod.1.1", "9.0.0-beta.1", "9.0.0-rc.1+b", "0.9.0+build.5"}, records...),
			want:    map[string]string{"dev": "1.3.0-rc.5", "preprod": "1.3.0-preprod.4", "prod": "1.2.0"},
			foreign: map[string][]string{"prod": {"0.9.0+build.5"}},
		},
		{
			// An intermediate stage named rcx writes X.Y.Z-rcx.N, which ".*-rc.*" would take for a
			// candidate: the first stage of any chain but the default one is anchored.
			name:  "a stage named like rc",
			chain: "dev,rcx,prod",
			tags:  append([]string{"v1.0.0-rc.2", "v1.0.0-rcx.2", "v1.1.0-rcx.1", "1.1.0-rc.1", "1.0.0", "rcx-abc1234"}, records...),
			want:  map[string]string{"dev": "1.1.0-rc.1", "rcx": "v1.1.0-rcx.1", "prod": "1.0.0"},
		},
		{
			name:    "default",
			chain:   Default,
			tags:    append([]string{"0.0.1-rc.1", "0.0.2-rc.1", "0.0.1", "integration-abc1234", "0.0.1-rc1"}, records...),
			want:    map[string]string{"integration": "0.0.2-rc.1", "live": "0.0.1"},
			foreign: map[string][]string{"integration": {"0.0.1-rc1"}},
		},
		{
			name:    "default, shadowed",
			chain:   Default,
			tags:    []string{"0.0.1-rc.1", "0.0.9-rc.1-hotfix", "0.0.1"},
			want:    map[string]string{"integration": "0.0.9-rc.1-hotfix", "live": "0.0.1"},
			foreign: map[string][]string{"integration": {"0.0.9-rc.1-hotfix"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := mustParse(t, tc.chain)
			for _, stage := range c.Names() {
				got, err := c.Select(tc.tags, stage)
				if err != nil || got != tc.want[stage] {
					t.Errorf("%s selects %q, %v; want %q", stage, got, err, tc.want[stage])
				}
				foreign, err := c.Foreign(tc.tags, stage)
				if err != nil || !slices.Equal(foreign, tc.foreign[stage]) {
					t.Errorf("%s: foreign %q, %v; want %q", stage, foreign, err, tc.foreign[stage])
				}
				// Every tag the selection considers is the stage's own or foreign.
				sel, _ := c.Selection(stage)
				for _, tag := range tc.tags {
					if picked, _ := version.Select([]string{tag}, sel.Semver, sel.SemverFilter); picked == "" {
						continue
					}
					if pt, ok := c.ParseTag(tag); (!ok || pt.Stage != stage) && !slices.Contains(foreign, tag) {
						t.Errorf("%s considers %s (%s), which is neither its own nor reported foreign", stage, tag, c.WhyNot(tag))
					}
				}
			}
		})
	}
}

// For the default chain, Foreign and Shadowing answer as version.Foreign and version.Shadowing
// do for the integration selection (docs/concepts.md, issue 12), on the foreign tags.
func TestDefaultForeignIsVersionForeign(t *testing.T) {
	t.Parallel()
	c := MustDefault()
	list := []string{"0.0.1", "0.0.2-rc.1", "sha-abc1234", "v0.0.1", "0.5.0-rc1", "0.5.0-rc", "0.0.9-rc.1.1", "0.0.9-rc.1-hotfix",
		"0.1.0-rc.1+build.5", "v0.0.2-rc.1.0", "0.9.0-beta.1", "0.0.1-rc1", "1.0.0+meta", "integration-abc1234"}
	for _, stage := range c.Names() {
		sel, _ := c.Selection(stage)
		want, err := version.Foreign(list, sel.Semver, sel.SemverFilter)
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.Foreign(list, stage)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("%s: Foreign = %q, %v; version.Foreign = %q", stage, got, err, want)
		}
	}
	for _, candidate := range []string{"0.0.2-rc.2", "0.5.0-rc.9", "0.0.9-rc.50"} {
		want, _ := version.Shadowing(list, candidate, version.IntegrationConstraint, version.IntegrationFilter)
		got, err := c.Shadowing(list, "integration", candidate)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("Shadowing(%s) = %q, %v; version.Shadowing = %q", candidate, got, err, want)
		}
	}
	if _, err := c.Shadowing(list, "integration", "0.0.2"); err == nil {
		t.Error("Shadowing of a live tag as integration's")
	}
}

// Why only the default chain keeps ".*-rc.*": in another chain an intermediate stage may be
// named rcsomething, and the unanchored filter would run its tags in the first stage.
func TestUnanchoredFilterTakesAnRcStage(t *testing.T) {
	t.Parallel()
	list := []string{"1.0.0-rc.2", "1.1.0-rcx.1"}
	if got, _ := version.Select(list, version.IntegrationConstraint, version.IntegrationFilter); got != "1.1.0-rcx.1" {
		t.Fatalf(".*-rc.* picks %q; the case this test guards against is gone", got)
	}
	if got, _ := mustParse(t, "dev,rcx,prod").Select(list, "dev"); got != "1.0.0-rc.2" {
		t.Errorf("dev selects %q, want the candidate 1.0.0-rc.2", got)
	}
}
