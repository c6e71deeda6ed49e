package ocitest

import (
	"fmt"
	"sort"

	"github.com/ocipromote/ocipromote/pkg/claim"
)

// History returns n tags of a repository the pipeline has run on for a long time, sorted as a
// registry lists them. Each commit left its claim on <rc>, <rc>, sha-<s> and integration-<s>;
// every fourth was promoted and left its claim on <X.Y.Z>, <X.Y.Z> and validated-<s> too, but
// the newest, which is a release candidate not yet validated. Versions climb as they would:
// release candidates of the next patch until it is promoted, a new minor every hundred releases.
// Whatever does not fill a whole commit is cosign signature tags (sha256-<hex>.sig), which
// registries hold beside artifacts. It is for measuring how the pipeline scales with the number
// of tags.
func History(n int) []string {
	tags := make([]string, 0, n)
	release, rc := 0, 0
	lastPromoted := false
	for commit := 1; ; commit++ {
		short := fmt.Sprintf("%07x", commit)
		major, minor, patch := 1, release/100, release%100+1
		digest := fmt.Sprintf("%012x", commit) // the start of the artifact's digest, in claim tags
		rcTag := fmt.Sprintf("%d.%d.%d-rc.%d", major, minor, patch, rc+1)
		left := []string{claim.Prefix + rcTag + "-" + short + "-" + digest, rcTag, "sha-" + short, "integration-" + short}
		promoted := commit%4 == 0
		if promoted {
			stable := fmt.Sprintf("%d.%d.%d", major, minor, patch)
			left = append(left, claim.Prefix+stable+"-"+short+"-"+digest, stable, "validated-"+short)
		}
		if len(tags)+len(left) > n {
			break
		}
		tags = append(tags, left...)
		lastPromoted = promoted
		rc++
		if promoted {
			release, rc = release+1, 0
		}
	}
	if lastPromoted {
		// The newest commit stays a release candidate waiting for validation: what a step meets.
		tags = tags[:len(tags)-3]
	}
	for i := 0; len(tags) < n; i++ {
		tags = append(tags, fmt.Sprintf("sha256-%064x.sig", i))
	}
	sort.Strings(tags)
	return tags
}
