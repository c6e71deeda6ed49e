package records_test

import (
	"context"
	"fmt"
	"time"

	"github.com/ocipromote/ocipromote/pkg/records"
	"github.com/ocipromote/ocipromote/pkg/records/githubtest"
)

// A release candidate is offered to integration, validated there and promoted: the deployments
// follow it and the first stable version gets its release. Running the promotion again writes
// nothing.
func Example() {
	gh := githubtest.Start("acme", "platform")
	defer gh.Close()
	sha := "0123456789abcdef0123456789abcdef01234567"
	gh.AddCommit(githubtest.Commit{Sha: sha, Message: "chore: initial manifests", Author: "Alice"})

	c, err := records.New(records.Options{
		Deployments: true, Release: true, CommentPRs: true,
		Token: "ghs_example", APIURL: gh.APIURL(), Repository: "acme/platform",
		RunURL: "https://github.com/acme/platform/actions/runs/42",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	digest := "sha256:4d5e0c9e1b7a2f3c8d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c"
	show := func(rep records.Report) {
		for _, r := range rep.Records {
			fmt.Printf("%s %s: %s (written: %v)\n", r.Kind, r.Subject, r.State, r.Wrote)
		}
		for _, w := range rep.Warnings {
			fmt.Println("warning:", w)
		}
	}

	show(c.Offered(ctx, records.Offer{Sha: sha, Version: "0.1.0-rc.1", Digest: digest, OCIRepository: "ghcr.io/acme/platform-manifests"}))
	p := records.Promotion{
		Sha: sha, RC: "0.1.0-rc.1", Stable: "0.1.0", Digest: digest, OCIRepository: "ghcr.io/acme/platform-manifests",
		Latest: true, First: true,
		Validation: records.Validation{Cluster: "integration", Message: "Health check passed in 12.3s", Time: time.Date(2026, 8, 1, 10, 0, 0, 0, time.UTC)},
	}
	show(c.Promoted(ctx, p))
	fmt.Println("-- again")
	show(c.Promoted(ctx, p))
	// Output:
	// deployment integration 0.1.0-rc.1: in_progress (written: true)
	// deployment integration 0.1.0-rc.1: success (written: true)
	// deployment live 0.1.0: success (written: true)
	// release v0.1.0: created (written: true)
	// -- again
	// deployment integration 0.1.0-rc.1: success (written: false)
	// deployment live 0.1.0: success (written: false)
	// release v0.1.0: exists (written: false)
}

func ExampleReleaseTag() {
	fmt.Println(records.ReleaseTag("1.4.2"), records.ReleaseTag("v1.4.2"))
	// Output: v1.4.2 v1.4.2
}
