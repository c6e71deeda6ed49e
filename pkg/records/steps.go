package records

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ocipromote/ocipromote/pkg/pipeline"
	"github.com/ocipromote/ocipromote/pkg/promote"
	"github.com/ocipromote/ocipromote/pkg/ref"
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
// candidate's integration deployment, and held, deferred or a dry run record nothing. In a chain
// other than the default (Options.Stages) a promotion into any stage is recorded, with the
// evidence its pass records hold (afterStages); in the default chain only live is promoted into.
func (c *Client) AfterPromote(ctx context.Context, reg Registry, res pipeline.PromoteResult, v Validation) Report {
	if res.DryRun || !c.o.any() {
		return Report{}
	}
	staged := c.o.Stages.Len() > 0 && !c.o.Stages.IsDefault()
	switch res.Reason {
	case promote.Promoted, promote.AlreadyPromoted:
		if staged {
			return c.afterStages(ctx, reg, res, v)
		}
		p, err := PromotionFrom(ctx, reg, res)
		p.Validation = v
		rep := c.Promoted(ctx, p)
		if err != nil {
			rep.Warnings = append([]Warning{{Kind: "registry", Subject: reg.Name(), Err: err}}, rep.Warnings...)
		}
		return rep
	case promote.Superseded:
		o := Offer{Sha: res.Sha, Version: res.RC, Digest: res.Digest, OCIRepository: reg.Name()}
		if staged && res.To != c.o.Live {
			return c.superseded(ctx, o, fmt.Sprintf("%s superseded in %s by a newer candidate; not promoted", res.RC, res.To))
		}
		return c.Superseded(ctx, o)
	}
	return Report{}
}

// ValidationFrom builds the validation event from tag-validated's inputs, for the release notes
// and comments. The cluster and message come from the event through dispatch-receiver and stay
// untrusted text, shown escaped. The time needs no leniency here: dispatch-receiver passes the
// event's time on only when it is RFC 3339 (else ""), and FromInputs, before the promotion, has
// refused any other validated_at as a usage error. So ValidationFrom, which runs after the
// promotion where an error could only be a warning, returns none.
func ValidationFrom(cluster, message, at string) Validation {
	v := Validation{Cluster: strings.TrimSpace(cluster), Message: strings.TrimSpace(message)}
	v.Time, _ = validatedAt(at)
	return v
}

// validatedAt parses validated_at: empty, or an RFC 3339 time (in UTC).
func validatedAt(at string) (time.Time, error) {
	at = strings.TrimSpace(at)
	if at == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, at)
	if err != nil {
		return time.Time{}, fmt.Errorf("validated_at %s is not an RFC 3339 time such as 2026-08-01T10:00:00Z: pass dispatch-receiver's time output, or leave it empty", ref.Quote(at))
	}
	return t.UTC(), nil
}
