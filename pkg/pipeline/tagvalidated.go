package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/ocipromote/ocipromote/pkg/artifact"
	"github.com/ocipromote/ocipromote/pkg/hold"
	"github.com/ocipromote/ocipromote/pkg/oci"
	"github.com/ocipromote/ocipromote/pkg/promote"
	"github.com/ocipromote/ocipromote/pkg/ref"
	"github.com/ocipromote/ocipromote/pkg/tags"
	"github.com/ocipromote/ocipromote/pkg/version"
)

// PromoteInput names the validated artifact: by Flux revision (preferred), digest or sha. When
// more than one is given they must agree.
type PromoteInput struct {
	Revision string
	Digest   string
	Sha      string
	DryRun   bool
	Log      *slog.Logger
}

// PromoteResult is what tag-validated reports.
type PromoteResult struct {
	// Promoted is true when this run wrote a tag.
	Promoted bool
	Reason   string
	Detail   string
	Version  string
	Digest   string
	Sha      string
	RC       string
	// Writes are the tags written (or, on a dry run, that would be).
	Writes []string
	DryRun bool
}

// ErrInvalidCandidate is returned when the named artifact must not be promoted: it was not
// offered to integration, or the identifiers disagree.
var ErrInvalidCandidate = errors.New("refusing to promote")

// candidate is a resolved, checked validated artifact.
type candidate struct {
	promote.Candidate
	manifest *oci.Manifest
	sha      string
}

// TagValidated gives the validated artifact its stable tag and then validated-<s>, as decided by
// promote.Decide; replays, duplicates and late events write nothing or repair a half-done run.
// While an operator's hold is on (see package hold) it writes nothing and reports promote.Held:
// the check is here, on the step that writes, so it guards every route to promotion.
func TagValidated(ctx context.Context, reg Registry, in PromoteInput) (PromoteResult, error) {
	log := logger(in.Log)
	var lostRace error
	for attempt := 1; attempt <= 3; attempt++ {
		list, err := reg.Tags(ctx)
		if err != nil {
			return PromoteResult{}, err
		}
		h, err := hold.Read(ctx, reg, list)
		if err != nil {
			return PromoteResult{}, fmt.Errorf("%w; promotion stops until the hold can be read", err)
		}
		if h.Held() {
			log.Info("promotion held", "hold", h.Tag, "reason", h.Reason)
			return PromoteResult{Reason: promote.Held, Detail: "held: " + h.Describe() + "; nothing written (release it with `ocipromote hold release`)", DryRun: in.DryRun}, nil
		}
		c, err := resolveCandidate(ctx, reg, list, in)
		if err != nil {
			return PromoteResult{}, err
		}
		state, err := gatherState(ctx, reg, list, c)
		if err != nil {
			return PromoteResult{}, err
		}
		d, err := promote.Decide(c.Candidate, state)
		if err != nil {
			return PromoteResult{}, fmt.Errorf("%s: %w", reg.Name(), err)
		}
		res := PromoteResult{Reason: d.Reason, Detail: d.Detail, Version: d.Version, Digest: c.Digest, Sha: c.sha, RC: c.RCTag, Writes: d.Writes, DryRun: in.DryRun}
		if in.DryRun {
			return res, nil
		}
		set := tags.NewSet(list)
		res.Writes = nil
		lost := false
		for _, t := range d.Writes {
			_, isVersion := version.Parse(t)
			wrote, err := reg.Tag(ctx, t, c.manifest, oci.Write{KnownAbsent: !isVersion && !set.Has(t), Verify: isVersion})
			if errors.Is(err, oci.ErrTagConflict) && isVersion {
				// Another promotion took this stable tag between our listing and our write; the
				// next pass sees it and decides again (superseded, or the next patch).
				log.Warn("stable tag taken concurrently, deciding again", "tag", t, "error", err)
				lostRace, lost = err, true
				break
			}
			if err != nil {
				return PromoteResult{}, err
			}
			if wrote {
				res.Writes = append(res.Writes, t)
			}
		}
		if lost {
			continue
		}
		res.Promoted = len(res.Writes) > 0
		log.Info("promotion decided", "reason", res.Reason, "version", res.Version, "digest", res.Digest, "wrote", strings.Join(res.Writes, ","))
		return res, nil
	}
	return PromoteResult{}, fmt.Errorf("concurrent promotions kept taking the stable tag; run tag-validated in a concurrency group and run it again: %w", lostRace)
}

func resolveCandidate(ctx context.Context, reg Registry, list []string, in PromoteInput) (candidate, error) {
	if in.Revision == "" && in.Digest == "" && in.Sha == "" {
		return candidate{}, errors.New("name the validated artifact with revision (TAG@sha256:DIGEST), digest or sha")
	}
	var rev ref.Revision
	digest := in.Digest
	if in.Revision != "" {
		var err error
		if rev, err = ref.ParseRevision(in.Revision); err != nil {
			return candidate{}, err
		}
		if digest != "" && digest != rev.Digest {
			return candidate{}, fmt.Errorf("%w: revision %s and digest %s name different artifacts", ErrInvalidCandidate, rev, digest)
		}
		digest = rev.Digest
	}
	if digest != "" {
		if _, err := ref.Digest(digest); err != nil {
			return candidate{}, err
		}
	}
	if in.Sha != "" {
		if _, err := ref.Sha(in.Sha); err != nil {
			return candidate{}, err
		}
	}
	resolvedIntegration := ""
	if digest == "" {
		shorts := tags.FindShort(list, tags.IntegrationPrefix, in.Sha)
		switch len(shorts) {
		case 0:
			return candidate{}, fmt.Errorf("no %s%s tag in %s: commit %s was not built by build-rc, or not yet; %w", tags.IntegrationPrefix, in.Sha, reg.Name(), in.Sha, oci.ErrNotFound)
		case 1:
		default:
			return candidate{}, fmt.Errorf("sha %s is ambiguous in %s (%s): give more characters or the full sha", in.Sha, reg.Name(), strings.Join(shorts, ", "))
		}
		resolvedIntegration = shorts[0]
		var err error
		if digest, err = reg.Resolve(ctx, tags.Integration(shorts[0])); err != nil {
			return candidate{}, err
		}
	}
	m, err := reg.Get(ctx, digest)
	if err != nil {
		return candidate{}, fmt.Errorf("looked up %s: %w", describe(in), err)
	}
	meta := artifact.MetadataFrom(m.Annotations())
	origin, err := ref.ParseOrigin(meta.Revision)
	if err != nil {
		return candidate{}, fmt.Errorf("artifact %s has no usable %s annotation, so its commit is unknown: %w", digest, artifact.AnnotationRevision, err)
	}
	if in.Sha != "" && !strings.HasPrefix(origin.Sha, in.Sha) {
		return candidate{}, fmt.Errorf("%w: sha %s and artifact %s disagree: the artifact was built from %s", ErrInvalidCandidate, in.Sha, digest, origin.Sha)
	}
	short := resolvedIntegration
	if short == "" {
		var matches []string
		for _, s := range tags.FindShort(list, tags.IntegrationPrefix, origin.Sha) {
			if strings.HasPrefix(origin.Sha, s) {
				matches = append(matches, s)
			}
		}
		if len(matches) != 1 {
			return candidate{}, fmt.Errorf("%w: artifact %s (commit %s) has no single %s<sha> tag in %s: it was never offered to integration", ErrInvalidCandidate, digest, origin.Sha, tags.IntegrationPrefix, reg.Name())
		}
		short = matches[0]
		at, err := reg.Resolve(ctx, tags.Integration(short))
		if err != nil {
			return candidate{}, err
		}
		if at != digest {
			return candidate{}, fmt.Errorf("%w: %s is %s, but %s points at %s: integration was offered another artifact for commit %s", ErrInvalidCandidate, describe(in), digest, tags.Integration(short), at, origin.Sha)
		}
	}
	rc, err := rcVersion(ctx, reg, list, meta.Version, rev.Tag, digest)
	if err != nil {
		return candidate{}, err
	}
	return candidate{Candidate: promote.Candidate{Digest: digest, Short: short, RCTag: rc}, manifest: m, sha: origin.Sha}, nil
}

// rcVersion finds the candidate's release-candidate tag: the version annotation build-rc writes;
// for artifacts pushed by other tools, the release-candidate tag that points at the digest.
func rcVersion(ctx context.Context, reg Registry, list []string, annotated, revisionTag, digest string) (string, error) {
	if isRC(annotated) {
		return annotated, nil
	}
	var candidates []version.Tagged
	for _, tv := range version.Versions(list) {
		if _, _, ok := version.RC(tv.Version); ok {
			candidates = append(candidates, tv)
		}
	}
	version.Sort(candidates)
	tried := []string{}
	if isRC(revisionTag) {
		tried = append(tried, revisionTag)
	}
	for _, tv := range candidates {
		tried = append(tried, tv.Tag)
	}
	const maxScan = 20
	for i, t := range tried {
		if i == maxScan {
			break
		}
		at, err := reg.Resolve(ctx, t)
		if errors.Is(err, oci.ErrNotFound) {
			continue
		}
		if err != nil {
			return "", err
		}
		if at == digest {
			return t, nil
		}
	}
	return "", fmt.Errorf("artifact %s has no %s annotation and none of the newest release-candidate tags points at it: it is not a release candidate", digest, artifact.AnnotationVersion)
}

func isRC(tag string) bool {
	v, ok := version.Parse(tag)
	if !ok {
		return false
	}
	_, _, ok = version.RC(v)
	return ok
}

func gatherState(ctx context.Context, reg Registry, list []string, c candidate) (promote.State, error) {
	s := promote.State{Tags: list, Stables: map[string]string{}}
	names, err := promote.Stables(list, c.Candidate)
	if err != nil {
		return s, err
	}
	for _, t := range names {
		d, err := reg.Resolve(ctx, t)
		if errors.Is(err, oci.ErrNotFound) {
			continue
		}
		if err != nil {
			return s, err
		}
		s.Stables[t] = d
	}
	if top := promote.NeedsBehind(c.Candidate, s.Stables); top != "" {
		m, err := reg.Get(ctx, s.Stables[top])
		if err != nil {
			return s, err
		}
		annotated := artifact.MetadataFrom(m.Annotations()).Version
		if s.BehindHighest, err = rcVersion(ctx, reg, list, annotated, "", m.Digest); err != nil {
			return s, fmt.Errorf("stable %s: %w", top, err)
		}
	}
	if marker := tags.Validated(c.Short); tags.NewSet(list).Has(marker) {
		if s.Marker, err = reg.Resolve(ctx, marker); err != nil && !errors.Is(err, oci.ErrNotFound) {
			return s, err
		}
	}
	return s, nil
}

func describe(in PromoteInput) string {
	var parts []string
	if in.Revision != "" {
		parts = append(parts, "revision "+in.Revision)
	}
	if in.Digest != "" {
		parts = append(parts, "digest "+in.Digest)
	}
	if in.Sha != "" {
		parts = append(parts, "sha "+in.Sha)
	}
	return strings.Join(parts, ", ")
}
