package status_test

import (
	"fmt"
	"time"

	"github.com/ocipromote/ocipromote/pkg/pass"
	"github.com/ocipromote/ocipromote/pkg/stage"
	"github.com/ocipromote/ocipromote/pkg/status"
)

// A candidate that passed preprod an hour ago, with a two-hour soak there, waits for prod.
func ExampleStages() {
	chain, _ := stage.Parse("dev,preprod,prod")
	now := time.Date(2026, 8, 5, 10, 0, 0, 0, time.UTC)
	b := "sha256:" + fmt.Sprintf("%064x", 11)
	stages, _ := status.Stages(status.ChainFacts{
		Chain:     status.Chain{Stages: chain, Soaks: stage.Soaks{"preprod": 2 * time.Hour}, Now: now},
		Tags:      []string{"1.3.0-rc.4", "1.3.0-preprod.4", "1.2.0"},
		Digests:   map[string]string{"1.3.0-preprod.4": b},
		Artifacts: []status.Artifact{{Short: "bbbbbbb", Digest: b, RC: "1.3.0-rc.4"}},
		Evidence:  []pass.Evidence{{Stage: "preprod", Digest: b, Passed: true, PassedAt: now.Add(-time.Hour)}},
	})
	for _, s := range stages {
		fmt.Printf("%s selects %s\n", s.Name, s.Tag)
		for _, p := range s.Pending {
			fmt.Printf("  pending %s → %s: %s\n", p.Tag, p.Target, p.Gates())
		}
	}
	// Output:
	// dev selects 1.3.0-rc.4
	// preprod selects 1.3.0-preprod.4
	// prod selects 1.2.0
	//   pending 1.3.0-preprod.4 → 1.3.0: soak until 2026-08-05T11:00:00Z
}
