package records

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/go-github/v62/github"

	"github.com/ocipromote/ocipromote/pkg/artifact"
	"github.com/ocipromote/ocipromote/pkg/oci"
	"github.com/ocipromote/ocipromote/pkg/pipeline"
	"github.com/ocipromote/ocipromote/pkg/ref"
	"github.com/ocipromote/ocipromote/pkg/version"
)

// Promotion is a stable version tag-validated gave a validated release candidate.
type Promotion struct {
	// Sha is the full commit sha the artifact was built from.
	Sha string
	// RC is the release-candidate tag integration validated, Stable the stable tag it has.
	RC, Stable string
	Digest     string
	// OCIRepository is the artifact repository, e.g. ghcr.io/acme/platform-manifests.
	OCIRepository string
	// Latest marks the release as the repository's latest: Stable is the highest stable version
	// (a hotfix of an older line is not).
	Latest bool
	// Previous is the stable version before this one, whose commit the changes are counted from.
	Previous Previous
	// First is true when Stable is the first stable version: there are no changes to list, and
	// no pull request is commented on (in a repository that adopts ocipromote that would be
	// every pull request ever merged).
	First bool
	// Validation is the event that validated the candidate on integration.
	Validation Validation
	// Stages is set for the last stage of a chain other than the default: where the candidate
	// came from and what every stage below recorded of it. The deployments carry the evidence of
	// the stage left, and the release notes gain an Evidence section.
	Stages *Stages
}

// Previous names the stable version released before, and its commit.
type Previous struct {
	Version string
	Sha     string
}

// Validation is the event that proved the candidate on integration. Message comes from the event
// payload and is shown escaped; any field may be empty.
type Validation struct {
	Cluster string
	Message string
	Time    time.Time
}

// Registry is what PromotionFrom reads; *oci.Repository implements it.
type Registry interface {
	Name() string
	Tags(ctx context.Context) ([]string, error)
	Resolve(ctx context.Context, tag string) (string, error)
	Get(ctx context.Context, digest string) (*oci.Manifest, error)
	GetTag(ctx context.Context, tag string) (*oci.Manifest, error)
}

var _ Registry = (*oci.Repository)(nil)

// PromotionFrom describes tag-validated's result for the records, reading from res's listing (or
// the registry's, when res has none) whether the version is the highest stable one and which stable version and commit came before
// it (from that artifact's revision annotation). On a registry error it returns what it knows
// with the error; the caller reports the error as a warning and may still record the promotion.
func PromotionFrom(ctx context.Context, reg Registry, res pipeline.PromoteResult) (Promotion, error) {
	p := Promotion{Sha: res.Sha, RC: res.RC, Stable: res.Version, Digest: res.Digest, OCIRepository: reg.Name()}
	v, ok := version.Parse(res.Version)
	if !ok {
		return p, fmt.Errorf("stable version %s is not a version", ref.Quote(res.Version))
	}
	// The listing tag-validated decided from serves: only other stable versions matter here.
	list := res.Tags
	if list == nil {
		var err error
		if list, err = reg.Tags(ctx); err != nil {
			return p, fmt.Errorf("find the previous stable version: %w", err)
		}
	}
	p.Latest = true
	var prev *version.Tagged
	for _, tv := range version.Versions(list) {
		if !version.IsStable(tv.Version) {
			continue
		}
		if tv.Version.GreaterThan(v) {
			p.Latest = false
		}
		if tv.Version.LessThan(v) && (prev == nil || tv.Version.GreaterThan(prev.Version)) {
			tv := tv
			prev = &tv
		}
	}
	if prev == nil {
		p.First = true
		return p, nil
	}
	p.Previous.Version = prev.Tag
	digest, err := reg.Resolve(ctx, prev.Tag)
	if err != nil {
		return p, fmt.Errorf("previous stable version %s: %w", prev.Tag, err)
	}
	m, err := reg.Get(ctx, digest)
	if err != nil {
		return p, fmt.Errorf("previous stable version %s: %w", prev.Tag, err)
	}
	origin, err := ref.ParseOrigin(artifact.MetadataFrom(m.Annotations()).Revision)
	if err != nil {
		return p, fmt.Errorf("previous stable version %s has no commit in its %s annotation, so the changes since cannot be listed: %w", prev.Tag, artifact.AnnotationRevision, err)
	}
	p.Previous.Sha = origin.Sha
	return p, nil
}

// Promoted records a promotion: the integration deployment succeeds, the live deployment is
// created and succeeds (older ones become inactive), the release vX.Y.Z is created at the commit,
// and the pull requests merged since the previous stable version get a comment and the label.
// Call it for "promoted" and for "already-promoted" too: a re-run then completes the records an
// interrupted run left out, and writes nothing when they are complete.
//
// A replay must stay cheap, since Flux repeats a success event many times and the token's rate
// limit is shared with the rest of the repository's automation. Listing the changes costs a
// request per commit and per page of every pull request's comments, so it is skipped when the
// release already says there is nothing left to do: its notes end with completeMarker, written
// only once every comment and label is in place. A complete replay then costs one request.
func (c *Client) Promoted(ctx context.Context, p Promotion) Report {
	var rep Report
	if !c.o.any() {
		return rep
	}
	if p.Sha == "" || p.Stable == "" || p.Digest == "" {
		rep.warn("promotion", p.Stable, errors.New("sha, stable version and digest are all needed to record a promotion"))
		return rep
	}
	if c.o.Deployments {
		c.promotedDeployments(ctx, p, &rep)
	}
	if (!c.o.Release && !c.o.CommentPRs) || c.stopped(&rep) {
		return rep
	}
	tag := ReleaseTag(p.Stable)
	var rel *github.RepositoryRelease
	// create is whether the release is known to be missing: never after a failed look-up.
	create := false
	if c.o.Release {
		found, err := c.findRelease(ctx, tag)
		switch {
		case err != nil:
			rep.warn("release", tag, err)
			if !c.o.CommentPRs {
				return rep
			}
		case found == nil:
			create = true
		default:
			rel = found
			rep.record(Record{Kind: "release", Subject: tag, State: "exists", URL: rel.GetHTMLURL()})
			if !c.o.CommentPRs {
				return rep
			}
			if complete(rel.GetBody()) {
				c.log.Info("release complete: every pull request it carried has its comment and label", "tag", tag)
				return rep
			}
		}
	}
	ch, err := c.changes(ctx, p)
	if err != nil {
		// Without the changes a release would have incomplete notes forever (an existing release
		// never has its notes rewritten), so it waits for a run that can read them.
		rep.warn("changes", "of "+tag, fmt.Errorf("%w; release and pull request comments are left for a re-run", err))
		return rep
	}
	if create {
		rel = c.createRelease(ctx, p, ch, &rep)
	}
	if c.o.CommentPRs && c.comment(ctx, p, ch, rel.GetHTMLURL(), &rep) && rel != nil {
		c.markComplete(ctx, p, rel, &rep)
	}
	return rep
}

func (c *Client) promotedDeployments(ctx context.Context, p Promotion, rep *Report) {
	if p.Stages != nil {
		c.stageDeployments(ctx, p.Sha, p.Digest, p.OCIRepository, *p.Stages, c.o.Live, p.Stable, rep)
		return
	}
	if p.RC != "" {
		t := c.integration(Offer{Sha: p.Sha, Version: p.RC, Digest: p.Digest, OCIRepository: p.OCIRepository})
		t.status = fmt.Sprintf("%s validated on %s", p.RC, c.cluster(p))
		c.deploy(ctx, t, stateSuccess, rep)
	}
	v, _ := version.Parse(p.Stable)
	live := target{
		env: c.o.Live, production: true, sha: p.Sha, v: v, envURL: c.o.LiveURL,
		p:      payload{Tool: tool, Repository: p.OCIRepository, Version: p.Stable, Digest: p.Digest},
		status: fmt.Sprintf("%s promoted to %s", p.Stable, c.o.Live),
	}
	c.deploy(ctx, live, stateSuccess, rep)
}

// cluster names where the candidate was validated: the event's cluster, else the environment.
func (c *Client) cluster(p Promotion) string {
	if p.Validation.Cluster != "" {
		return inline(p.Validation.Cluster, 60)
	}
	return c.o.Integration
}
