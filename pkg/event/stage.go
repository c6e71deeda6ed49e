package event

import (
	"github.com/ocipromote/ocipromote/pkg/ref"
	"github.com/ocipromote/ocipromote/pkg/stage"
)

// decideStage reads a Flux event in a chain of stages: the cluster metadata names the stage the
// event came from (each stage's Alert carries eventMetadata cluster: <stage>), and the revision
// must be that stage's own tag (X.Y.Z-rc.N in the first, X.Y.Z-<stage>.N between, X.Y.Z in the
// last): an event about another stage's tag is not evidence about this stage. A healthy event
// from a stage promotes into the next; from the last, nothing. A failure event about the stage's
// tag is returned as Failed, so that it can cancel the candidate's pass there.
func decideStage(crit dispatchCriteria, chain stage.Chain, ev fluxEvent, m map[string]string) (Decision, error) {
	cluster, hasCluster := m[crit.clusterKey]
	if !hasCluster {
		return ignore("event carries no metadata.%s, so the stage it comes from is unknown; set spec.eventMetadata.%s: <stage> on each stage's Alert (stages %s)",
			display(crit.clusterKey), display(crit.clusterKey), chain), nil
	}
	if !chain.Has(cluster) {
		return ignore("event from cluster %s, which is no stage of %s; each stage's Alert names its stage in spec.eventMetadata.%s",
			display(cluster), chain, display(crit.clusterKey)), nil
	}
	failure := ev.Severity == "error"
	if !failure && ev.Severity != "info" {
		return ignore("severity %s is not info; only info events report success", quote(ev.Severity)), nil
	}
	if !failure && !crit.success.MatchString(ev.Message) {
		return ignore("message %s from stage %s is not a success signal (pattern %s)", quote(ev.Message), cluster, quote(crit.success.String())), nil
	}
	revision := m[metaRevision]
	if revision == "" {
		return ignore("event from stage %s carries no metadata.revision, so the artifact it ran is unknown; the Kustomization's sourceRef must be an OCIRepository", cluster), nil
	}
	rev, err := ref.ParseRevision(revision)
	if err != nil {
		return Decision{}, malformedf("%s event for %s: metadata.revision: %v; the Kustomization's sourceRef must be an OCIRepository, whose revisions are <tag>@sha256:<digest>", RepositoryDispatch, crit.object, err)
	}
	if t, ok := chain.ParseTag(rev.Tag); !ok || t.Stage != cluster {
		why := chain.WhyNot(rev.Tag)
		if ok {
			why = "it is a tag of stage " + t.Stage
		}
		return ignore("stage %s reports revision %s, which is not a tag of %s (%s): its OCIRepository must select %s's tags, as `ocipromote stages` prints them",
			cluster, display(rev.String()), cluster, why, cluster), nil
	}
	var sha string
	if origin := m[metaOriginRevision]; origin != "" {
		o, err := ref.ParseOrigin(origin)
		if err != nil {
			return Decision{}, malformedf("%s event for %s: metadata.originRevision: %v; artifacts built by ocipromote carry <ref>@sha1:<40 hex>", RepositoryDispatch, crit.object, err)
		}
		sha = o.Sha
	}
	var d Decision
	next, hasNext := chain.Next(cluster)
	switch {
	case failure:
		d = Decision{Reason: "failed: " + crit.object + " in stage " + cluster + " reported " + quote(ev.Message) + " for " + rev.Tag + "; its pass there is cancelled", Failed: rev.String()}
	case !hasNext:
		d = ignore("%s reported %s for %s in %s, the last stage: nothing is promoted out of it", crit.object, quote(ev.Message), rev.Tag, cluster)
	default:
		d = promote("%s reported %s for %s in stage %s, which promotes it to %s", crit.object, quote(ev.Message), rev.Tag, cluster, next)
		d.Revision, d.Digest, d.Version, d.Sha, d.Next = rev.String(), rev.Digest, rev.Tag, sha, next
	}
	d.Stage = cluster
	d.Cluster = plainText(cluster, 63)
	d.Message = plainText(ev.Message, 200)
	d.Time = rfc3339(ev.Timestamp)
	return d, nil
}
