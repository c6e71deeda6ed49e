package event

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"

	"github.com/ocipromote/ocipromote/pkg/ref"
	"github.com/ocipromote/ocipromote/pkg/version"
)

// Metadata keys Flux's controllers set themselves (controller keys win over the Alert's
// eventMetadata, so a cluster key by either name could never hold a cluster).
const (
	metaRevision       = "revision"
	metaOriginRevision = "originRevision"
)

// maxEventType is GitHub's limit on a repository_dispatch event_type; Flux does not shorten the
// name it sends, so the dispatch for a longer object is refused by GitHub and never arrives.
const maxEventType = 100

// objectRE is Flux's event_type, "<Kind>/<name>.<namespace>": a Kubernetes name may contain dots
// but a namespace may not, so the last dot splits them. This package's expressions are compiled on
// first use (compiled at start-up, the three took 0.7 ms of every build-rc and tag-validated
// process, which import the package and never match them).
var objectRE = lazyRegexp(`^[A-Z][A-Za-z0-9]*/[a-z0-9]([-a-z0-9.]*[a-z0-9])?\.[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

// metadataKeyRE is what an Alert's eventMetadata key looks like (a Kubernetes label name).
var metadataKeyRE = lazyRegexp(`^[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$`)

// maxPatternLen bounds the success pattern. Go's regexp runs in linear time whatever the pattern,
// so the bound is about readable messages, not about backtracking; a success pattern is one line.
const maxPatternLen = 1024

type dispatchPayload struct {
	Action        string          `json:"action"`
	ClientPayload json.RawMessage `json:"client_payload"`
}

// fluxEvent is the part of Flux's event (github.com/fluxcd/pkg/apis/event/v1beta1.Event) that
// decides a promotion.
type fluxEvent struct {
	InvolvedObject struct {
		Kind      string `json:"kind"`
		Name      string `json:"name"`
		Namespace string `json:"namespace"`
	} `json:"involvedObject"`
	Severity  string          `json:"severity"`
	Message   string          `json:"message"`
	Timestamp string          `json:"timestamp"`
	Metadata  json.RawMessage `json:"metadata"`
}

type dispatchCriteria struct {
	object     string
	cluster    string
	clusterKey string
	success    *regexp.Regexp
}

func (c Criteria) forDispatch() (dispatchCriteria, error) {
	if c.Object == "" {
		return dispatchCriteria{}, usagef("input object is required for %s events: set it to the Flux object whose events promote, as <Kind>/<name>.<namespace> (for example Kustomization/platform.flux-system)", RepositoryDispatch)
	}
	if !objectRE().MatchString(c.Object) {
		return dispatchCriteria{}, usagef("input object %s is not <Kind>/<name>.<namespace> (for example Kustomization/platform.flux-system), the event_type Flux's githubdispatch Provider sends", quote(c.Object))
	}
	if len(c.Object) > maxEventType {
		return dispatchCriteria{}, usagef("input object %s is %d characters; GitHub refuses a dispatch event_type over %d, so Flux's events for it never arrive: shorten the object's name or namespace", c.Object, len(c.Object), maxEventType)
	}
	key := c.ClusterKey
	if key == "" {
		key = DefaultClusterKey
	}
	if !metadataKeyRE().MatchString(key) {
		return dispatchCriteria{}, usagef("cluster_key %s is not a metadata key name (letters, digits, '.', '_' or '-', at most 63): use the key your Alert's spec.eventMetadata sets (default %s)", quote(key), DefaultClusterKey)
	}
	if c.Cluster != "" && !plainName().MatchString(c.Cluster) {
		return dispatchCriteria{}, usagef("input cluster %s is not a cluster name (letters, digits, '.', '_', '/' or '-', at most 200): use the value your Alert's spec.eventMetadata.%s sets", quote(c.Cluster), key)
	}
	if key == metaRevision || key == metaOriginRevision {
		return dispatchCriteria{}, usagef("cluster_key %s is a metadata key Flux sets itself; use the key your Alert's spec.eventMetadata sets (default %s)", key, DefaultClusterKey)
	}
	pattern := c.SuccessPattern
	if pattern == "" {
		pattern = DefaultSuccessPattern
	}
	if len(pattern) > maxPatternLen {
		return dispatchCriteria{}, usagef("success_pattern %s is %d bytes, over the %d-byte limit: match the start of Flux's success message, as the default %s does", quote(pattern), len(pattern), maxPatternLen, quote(DefaultSuccessPattern))
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		// regexp's error repeats the pattern raw; only its description is kept, the rest quoted.
		detail := quote(err.Error())
		var se *syntax.Error
		if errors.As(err, &se) {
			detail = fmt.Sprintf("%s at %s", se.Code, quote(se.Expr))
		}
		return dispatchCriteria{}, usagef("success_pattern %s is not a Go regular expression (%s); fix it (default %s)", quote(pattern), detail, quote(DefaultSuccessPattern))
	}
	return dispatchCriteria{object: c.Object, cluster: c.Cluster, clusterKey: key, success: re}, nil
}

// decideDispatch handles an event from a Flux githubdispatch Provider. The checks run from "is
// this event ours at all" to "what exactly was deployed", so the reason names the first thing a
// person would have to change.
func decideDispatch(payload []byte, c Criteria) (Decision, error) {
	crit, err := c.forDispatch()
	if err != nil {
		return Decision{}, err
	}
	var p dispatchPayload
	if err := decodeObject("", payload, &p); err != nil {
		return Decision{}, malformedf("%s event: %v; GITHUB_EVENT_PATH should be the event file GitHub wrote for this run", RepositoryDispatch, err)
	}
	if p.Action == "" {
		return Decision{}, malformedf("%s event has no action (the dispatch event_type); GITHUB_EVENT_PATH should be the event file GitHub wrote for this run", RepositoryDispatch)
	}
	// Another sender's dispatch may carry any client_payload, so it is ignored before it is read.
	if p.Action != crit.object {
		return ignore("event for %s, expected %s; only that object's events promote", display(p.Action), crit.object), nil
	}

	var ev fluxEvent
	if err := decodeObject("client_payload", p.ClientPayload, &ev); err != nil {
		return Decision{}, malformedf("%s event for %s: %v; it should be a Flux event sent by a githubdispatch Provider", RepositoryDispatch, crit.object, err)
	}
	obj := ev.InvolvedObject
	if obj.Kind == "" || obj.Name == "" || obj.Namespace == "" {
		return Decision{}, malformedf("%s event for %s: client_payload.involvedObject needs kind, name and namespace; it should be a Flux event sent by a githubdispatch Provider", RepositoryDispatch, crit.object)
	}
	// Flux derives event_type from involvedObject, so disagreement means something other than
	// Flux wrote one of them; neither can be trusted to say what was deployed.
	if involved := obj.Kind + "/" + obj.Name + "." + obj.Namespace; involved != p.Action {
		return ignore("dispatch event_type is %s but client_payload.involvedObject is %s; Flux's githubdispatch Provider always sends them equal, so this event was not sent by Flux as is",
			display(p.Action), display(involved)), nil
	}

	// metadata is optional in Flux's event; its absence is decided on below, key by key.
	var meta map[string]json.RawMessage
	if present(ev.Metadata) {
		if err := decodeObject("client_payload.metadata", ev.Metadata, &meta); err != nil {
			return Decision{}, malformedf("%s event for %s: %v; Flux sends metadata as an object of strings", RepositoryDispatch, crit.object, err)
		}
	}
	m, err := stringFields("client_payload.metadata", meta, crit.clusterKey, metaRevision, metaOriginRevision)
	if err != nil {
		return Decision{}, malformedf("%s event for %s: %v; Flux sends metadata as an object of strings", RepositoryDispatch, crit.object, err)
	}

	cluster, hasCluster := m[crit.clusterKey]
	if crit.cluster != "" {
		if !hasCluster {
			return ignore("event carries no metadata.%s, so it may come from any cluster; set spec.eventMetadata.%s: %s on the Alert in the cluster whose events promote",
				display(crit.clusterKey), display(crit.clusterKey), display(crit.cluster)), nil
		}
		if cluster != crit.cluster {
			return ignore("event from cluster %s, expected %s; only that cluster's events promote", display(cluster), display(crit.cluster)), nil
		}
	}

	if c.Stages != nil {
		return decideStage(crit, *c.Stages, ev, m)
	}

	if ev.Severity != "info" {
		if ev.Severity == "error" {
			return ignore("error event from %s: %s", crit.object, quote(ev.Message)), nil
		}
		return ignore("severity %s is not info; only info events report success", quote(ev.Severity)), nil
	}
	if !crit.success.MatchString(ev.Message) {
		// Observed with kustomize-controller v1.9.6 (test/flux): a candidate that changes no
		// object gets no "Health check passed" at all, only "Reconciliation finished", which
		// reaches commit-status Providers alone.
		return ignore(`message %s is not a success signal (pattern %s); Flux sends "Health check passed" only when the Kustomization has wait: true or spec.healthChecks, and only for a candidate whose apply changed an object: the status route (a github Provider and Alert, examples/flux/integration-status/) promotes one that changes none`,
			quote(ev.Message), quote(crit.success.String())), nil
	}

	revision, ok := m[metaRevision]
	if !ok || revision == "" {
		return ignore("success event from %s carries no metadata.revision, so the artifact it deployed is unknown; the Kustomization's sourceRef must be an OCIRepository", crit.object), nil
	}
	rev, err := ref.ParseRevision(revision)
	if err != nil {
		return Decision{}, malformedf("%s event for %s: metadata.revision: %v; the Kustomization's sourceRef must be an OCIRepository, whose revisions are <tag>@sha256:<digest>", RepositoryDispatch, crit.object, err)
	}
	if rev.Tag == "" {
		return ignore("revision %s has no tag, so the OCIRepository selects by digest; promotion needs it to select release candidates by semver (for example ref.semver: \">= 0.0.0-0\")", rev), nil
	}
	v, isVersion := version.Parse(rev.Tag)
	if !isVersion {
		return ignore("revision tag %s is not a version; promotion needs the OCIRepository to select release candidates X.Y.Z-rc.N by semver (for example ref.semver: \">= 0.0.0-0\")", rev.Tag), nil
	}
	if version.IsStable(v) {
		return ignore("revision %s is already a stable version; promotion is for release candidates", rev.Tag), nil
	}
	if _, _, isRC := version.RC(v); !isRC {
		return ignore("revision %s is not a release candidate X.Y.Z-rc.N as build-rc writes them (%s), so it is not promoted: another tool or a person pushed it, and integration reconciled it because it passes the OCIRepository's selection (a semverFilter such as .*-rc.* lets it through) and ranks above the pipeline's candidates; "+
			"while it does, no candidate of the pipeline reaches integration: delete or rename it (ocipromote status lists such tags)", rev.Tag, version.WhyNotRC(v)), nil
	}

	var sha string
	if origin, ok := m[metaOriginRevision]; ok && origin != "" {
		o, err := ref.ParseOrigin(origin)
		if err != nil {
			return Decision{}, malformedf("%s event for %s: metadata.originRevision: %v; artifacts built by ocipromote carry <ref>@sha1:<40 hex>", RepositoryDispatch, crit.object, err)
		}
		sha = o.Sha
	}

	on := ""
	if hasCluster {
		on = " on cluster " + display(cluster)
	}
	d := promote("%s reported %s for %s%s", crit.object, quote(ev.Message), rev.Tag, on)
	d.Revision = rev.String()
	d.Digest = rev.Digest
	d.Version = rev.Tag
	d.Sha = sha
	if hasCluster {
		d.Cluster = plainText(cluster, 63)
	}
	d.Message = plainText(ev.Message, 200)
	d.Time = rfc3339(ev.Timestamp)
	return d, nil
}
