package prune_test

import (
	"fmt"
	"time"

	"github.com/ocipromote/ocipromote/pkg/prune"
)

func ExampleDecide() {
	list := []string{"0.0.1", "0.0.1-rc.1", "0.0.1-rc.2", "sha-aaaaaaa", "sha-bbbbbbb", "hold-1"}
	january := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	plan, _ := prune.Decide(list, []prune.Entry{
		{Digest: "sha256:aa", Tags: []string{"0.0.1", "0.0.1-rc.2", "sha-bbbbbbb"}, Created: january.AddDate(0, 0, 1)},
		// Superseded: tag-validated would not promote it now (Run asks status.Index.SupersededBy).
		{Digest: "sha256:bb", Tags: []string{"0.0.1-rc.1", "sha-aaaaaaa"}, Created: january, SupersededBy: "0.0.1"},
		{Digest: "sha256:cc", Tags: []string{"hold-1"}, Created: january},
	}, prune.Rules{KeepStable: 1, KeepRCDays: 30, Now: january.AddDate(0, 3, 0)})
	fmt.Println("delete:", plan.Tags())
	for _, it := range plan.Keep {
		fmt.Println("keep:", it.Tags)
	}
	// Output:
	// delete: [0.0.1-rc.1 sha-aaaaaaa]
	// keep: [0.0.1 0.0.1-rc.2 sha-bbbbbbb]
	// keep: [hold-1]
}
