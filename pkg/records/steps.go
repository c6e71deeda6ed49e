package records

import (
	"context"
	"strings"
	"time"

	"github.com/ocipromote/ocipromote/pkg/pipeline"
	"github.com/ocipromote/ocipromote/pkg/promote"
)

// AfterBuild records what build-rc did: the candidate offered to integration. A dry run records
// nothing; a re-run of an already built commit completes a missing record.
func (c *Client) AfterBuild(ctx context.Context, ociRepository, sha string, res pipeline.BuildResult) Report {
	if res.DryRun || res.Version == "" {
		return Report{}
	}
	return c.Offered(ctx, Offer{Sha: sha, Version: res.Version, Digest: res.Digest, OCIRepository: ociRepository})
}

// AfterPromote records what tag-validated decided: promoted and already-promoted record the
// promotion (a replay completes what an interrupted run left out), superseded retires the
// candidate's integration deployment, and held or a dry run record nothing.
func (c *Client) AfterPromote(ctx context.Context, reg Registry, res pipeline.PromoteResult, v Validation) Report {
	if res.DryRun || !c.o.any() {
		return Report{}
	}
	switch res.Reason {
	case promote.Promoted, promote.AlreadyPromoted:
		p, err := PromotionFrom(ctx, reg, res)
		p.Validation = v
		rep := c.Promoted(ctx, p)
		if err != nil {
			rep.Warnings = append([]Warning{{Kind: "registry", Subject: reg.Name(), Err: err}}, rep.Warnings...)
		}
		return rep
	case promote.Superseded:
		return c.Superseded(ctx, Offer{Sha: res.Sha, Version: res.RC, Digest: res.Digest, OCIRepository: reg.Name()})
	}
	return Report{}
}

// ValidationFrom builds the validation event from step inputs. The values come from the
// triggering event and are untrusted; a time that is not RFC 3339 is left out rather than
// failing a promotion that already happened.
func ValidationFrom(cluster, message, at string) Validation {
	v := Validation{Cluster: strings.TrimSpace(cluster), Message: strings.TrimSpace(message)}
	if t, err := time.Parse(time.RFC3339, strings.TrimSpace(at)); err == nil {
		v.Time = t.UTC()
	}
	return v
}
