package fluxcompat

import (
	"context"
	"strings"
	"testing"
	"time"

	fluxoci "github.com/fluxcd/pkg/oci"
	"github.com/google/go-containerregistry/pkg/crane"
	"github.com/google/go-containerregistry/pkg/v1/random"

	"github.com/ocipromote/ocipromote/pkg/stage"
	"github.com/ocipromote/ocipromote/test/registrytest"
)

// pipelineRecords are the tags around the versions in a pipeline repository: shas, markers,
// claims, hold records, signatures. No stage's selection may pick one.
var pipelineRecords = []string{"sha-abc1234", "sha-def5678", "integration-abc1234", "validated-abc1234", "claim-1.2.0-abc1234-1", "claim-1.3.0-rc.5-def5678-1",
	"hold-1", "hold-2", "sha256-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.sig", "latest"}

// Each stage's generated selection (stage.Chain.Selection), applied by Flux's own selection code,
// picks exactly that stage's newest tag from a repository holding tags of every stage, the
// pipeline's records and tags other tools push; ocipromote's version.Select agrees, and so does
// Flux's OCI client listing a real registry that holds those tags.
func TestFluxSelectsEachStage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		chain string
		tags  []string
		want  map[string]string
	}{
		{
			chain: "dev,preprod,prod",
			tags: []string{"1.2.0-rc.1", "1.2.0-preprod.1", "1.2.0", "1.3.0-rc.4", "1.3.0-rc.5", "1.3.0-preprod.4", "dev-abc1234", "dev-def5678", "preprod-abc1234",
				// Foreign, above every stage's newest: none matches an anchored filter.
				"9.0.0-rc1", "9.0.0-rc", "9.0.0-rc.1.1", "9.0.0-rc.1-hotfix", "9.0.0-preprod", "9.0.0-preprod.0", "9.0.0-preprod.1.1",
				"9.0.0-preprod.1-x", "9.0.0-beta.1", "9.0.0-rc.1+b", "9.0.0-preprod.1+b", "1.3.0-rc.05", "1.3.0-preprod.07", "1.2"},
			want: map[string]string{"dev": "1.3.0-rc.5", "preprod": "1.3.0-preprod.4", "prod": "1.2.0"},
		},
		{
			// A stage whose name starts with rc, and the v prefix.
			chain: "dev,rcx,prod",
			tags:  []string{"v1.0.0-rc.2", "v1.0.0-rcx.2", "v1.1.0-rcx.1", "v1.1.0-rc.1", "v1.0.0", "rcx-abc1234", "dev-abc1234"},
			want:  map[string]string{"dev": "v1.1.0-rc.1", "rcx": "v1.1.0-rcx.1", "prod": "v1.0.0"},
		},
		{
			// The default chain selects as the shipped examples do.
			chain: stage.Default,
			tags:  []string{"0.0.1-rc.1", "0.0.2-rc.1", "0.0.2-rc.2", "0.0.1", "0.0.2"},
			want:  map[string]string{"integration": "0.0.2-rc.2", "live": "0.0.2"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.chain, func(t *testing.T) {
			t.Parallel()
			c, err := stage.Parse(tc.chain)
			if err != nil {
				t.Fatal(err)
			}
			list := append(append([]string{}, tc.tags...), pipelineRecords...)
			for _, s := range c.Names() {
				sel, err := c.Selection(s)
				if err != nil {
					t.Fatal(err)
				}
				if got := fluxPick(t, list, sel.Semver, sel.SemverFilter); got != tc.want[s] {
					t.Errorf("%s: Flux picks %q with semver %q filter %q, want %q", s, got, sel.Semver, sel.SemverFilter, tc.want[s])
				}
				if ours, err := c.Select(list, s); err != nil || ours != tc.want[s] {
					t.Errorf("%s: ocipromote selects %q, %v, want %q", s, ours, err, tc.want[s])
				}
				if pt, ok := c.ParseTag(tc.want[s]); !ok || pt.Stage != s {
					t.Errorf("%s picks %s, which ParseTag reads as %+v, %v", s, tc.want[s], pt, ok)
				}
			}

			// The same on a real registry, through Flux's OCI client's List as well.
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			repo := registrytest.Start(t) + "/flux/stages"
			img, err := random.Image(64, 1)
			if err != nil {
				t.Fatal(err)
			}
			if err := crane.Push(img, repo+":"+list[0], crane.WithContext(ctx)); err != nil {
				t.Fatal(err)
			}
			for _, tag := range list[1:] {
				// The distribution spec's tag grammar has no "+": build metadata is checked on
				// the list above only.
				if strings.Contains(tag, "+") {
					continue
				}
				if err := crane.Tag(repo+":"+list[0], tag, crane.WithContext(ctx)); err != nil {
					t.Fatalf("tag %s: %v", tag, err)
				}
			}
			client := fluxoci.NewClient(fluxoci.DefaultOptions())
			for _, s := range c.Names() {
				sel, _ := c.Selection(s)
				if got := selectTag(ctx, t, client, repo, sel.Semver, sel.SemverFilter).tag; got != tc.want[s] {
					t.Errorf("%s on the registry: Flux picks %q, want %q", s, got, tc.want[s])
				}
			}
		})
	}
}
