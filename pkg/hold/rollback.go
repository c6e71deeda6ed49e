package hold

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/Masterminds/semver/v3"

	"github.com/ocipromote/ocipromote/pkg/artifact"
	"github.com/ocipromote/ocipromote/pkg/oci"
	"github.com/ocipromote/ocipromote/pkg/ref"
	"github.com/ocipromote/ocipromote/pkg/tags"
	"github.com/ocipromote/ocipromote/pkg/version"
)

// Writer is a Registry that also writes tags; *oci.Repository implements it.
type Writer interface {
	Registry
	Tag(ctx context.Context, tag string, m *oci.Manifest, w oci.Write) (bool, error)
}

var _ Writer = (*oci.Repository)(nil)

// LiveConstraint is the semver constraint of a live cluster's OCIRepository: the highest stable
// version. A rollback makes its artifact that version.
const LiveConstraint = ">= 0.0.0"

// ErrNotValidated is returned when a rollback names an artifact integration never validated.
var ErrNotValidated = errors.New("the artifact was never validated")

// RollbackInput names the artifact to put live back on, and why.
type RollbackInput struct {
	// To is a version tag (stable or release candidate), a commit sha (full or short, found
	// through sha-<s>) or a manifest digest.
	To string
	// Record says who rolls back, when and why; its State, Digest and Sha are filled in.
	Record Record
	// Force allows an artifact without a validated-<s> marker.
	Force  bool
	DryRun bool
	Log    *slog.Logger
}

// RollbackResult is what a rollback did (or, on a dry run, would do).
type RollbackResult struct {
	// Version is the stable tag live selects afterwards: the artifact's, above every other.
	Version   string
	Digest    string
	Sha       string
	RC        string
	Validated bool
	// Hold is the hold after the rollback.
	Hold State
	// Writes are the tags written (on a dry run: that would be), in order: the hold record first.
	Writes []string
	DryRun bool
	Detail string
}

// Changed reports whether the rollback wrote (or would write) anything.
func (r RollbackResult) Changed() bool { return len(r.Writes) > 0 }

// Rollback puts live back on the named artifact: it sets a hold, then gives the artifact the next
// stable patch above the highest stable version, so that a live OCIRepository (LiveConstraint)
// selects it. The hold comes first: after a crash between the two writes, automatic promotion is
// already stopped and a re-run writes the stable tag; the other order would leave a window in
// which a late validation event promotes past the rollback. A re-run after success writes
// nothing. No tag is ever moved: a stable tag taken concurrently is decided again.
func Rollback(ctx context.Context, reg Writer, in RollbackInput) (RollbackResult, error) {
	log := in.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	list, err := reg.Tags(ctx)
	if err != nil {
		return RollbackResult{}, err
	}
	tg, err := findTarget(ctx, reg, list, in.To)
	if err != nil {
		return RollbackResult{}, err
	}
	if !tg.validated && !in.Force {
		marker := "validated-<s>"
		if tg.short != "" {
			marker = tags.Validated(tg.short)
		}
		return RollbackResult{}, fmt.Errorf("%w: %s (%s) has no %s marker in %s, so integration never passed it; check the artifact, then add --force to roll back to it anyway",
			ErrNotValidated, in.To, tg.digest, marker, reg.Name())
	}
	res := RollbackResult{Digest: tg.digest, Sha: tg.sha, RC: tg.rc, Validated: tg.validated, DryRun: in.DryRun}
	rec := in.Record
	rec.Digest, rec.Sha = tg.digest, tg.sha
	for attempt := 1; attempt <= maxAttempts; attempt++ {
		stable, needed, err := nextStable(ctx, reg, list, tg.digest)
		if err != nil {
			return RollbackResult{}, err
		}
		res.Version = stable
		ch, err := Set(ctx, reg, list, rec, in.DryRun)
		if err != nil {
			return RollbackResult{}, err
		}
		res.Hold = ch.State
		if ch.Wrote && !slices.Contains(res.Writes, ch.State.Tag) {
			res.Writes = append(res.Writes, ch.State.Tag)
		}
		if !needed || in.DryRun {
			if needed {
				res.Writes = append(res.Writes, stable)
			}
			res.Detail = detail(res, needed)
			return res, nil
		}
		_, err = reg.Tag(ctx, stable, tg.manifest, oci.Write{Verify: true})
		if errors.Is(err, oci.ErrTagConflict) {
			// A promotion that had passed its hold check before the hold was written took this
			// version; the hold stops the next one, so deciding again converges.
			log.Warn("stable tag taken concurrently, deciding again", "tag", stable, "error", err)
			if list, err = reg.Tags(ctx); err != nil {
				return RollbackResult{}, err
			}
			continue
		}
		if err != nil {
			return RollbackResult{}, err
		}
		res.Writes = append(res.Writes, stable)
		res.Detail = detail(res, true)
		log.Info("rolled back", "version", stable, "digest", tg.digest, "hold", res.Hold.Tag)
		return res, nil
	}
	return RollbackResult{}, fmt.Errorf("concurrent writers kept taking the next stable version in %s; run the rollback again (the hold is on)", reg.Name())
}

func detail(r RollbackResult, wroteStable bool) string {
	what := fmt.Sprintf("live selects %s (%s", r.Version, r.Digest)
	if r.DryRun {
		what = fmt.Sprintf("live would select %s (%s", r.Version, r.Digest)
	}
	if r.Sha != "" {
		what += ", commit " + r.Sha
	}
	what += ")"
	switch {
	case !r.Changed():
		return "already rolled back: " + what + " and the hold is on"
	case r.DryRun:
		return what + "; automatic promotion would be held"
	case wroteStable:
		return "rolled back: " + what + "; automatic promotion is held until `ocipromote hold release`"
	}
	return what + "; the hold is set again for this rollback"
}

// nextStable returns the stable tag the rollback target gets: the highest stable when it already
// points at the target (needed false), else the next patch above the highest stable version.
func nextStable(ctx context.Context, reg Registry, list []string, digest string) (string, bool, error) {
	h := version.HighestStable(list, nil)
	if h == nil {
		return version.StableTag("", semver.New(0, 0, 1, "", "")), true, nil
	}
	at, err := reg.Resolve(ctx, h.Tag)
	if err != nil && !errors.Is(err, oci.ErrNotFound) {
		return "", false, err
	}
	if at == digest {
		return h.Tag, false, nil
	}
	next := version.Base(h.Version).IncPatch()
	return version.StableTag(version.Prefix(h.Tag), &next), true, nil
}

// target is the artifact a rollback names.
type target struct {
	digest    string
	manifest  *oci.Manifest
	sha       string
	short     string
	rc        string
	validated bool
}

// findTarget resolves a version, sha or digest to the artifact and checks what it is.
func findTarget(ctx context.Context, reg Registry, list []string, to string) (target, error) {
	to = strings.TrimSpace(to)
	set := tags.NewSet(list)
	var digest, givenSha string
	switch {
	case to == "":
		return target{}, errors.New("name the artifact to roll back to: a version (0.4.2), a commit sha or a digest (sha256:…)")
	case strings.HasPrefix(to, "sha256:"):
		d, err := ref.Digest(to)
		if err != nil {
			return target{}, err
		}
		digest = d
	case isVersion(to):
		if !set.Has(to) {
			return target{}, fmt.Errorf("no tag %s in %s: %w", to, reg.Name(), oci.ErrNotFound)
		}
		d, err := reg.Resolve(ctx, to)
		if err != nil {
			return target{}, err
		}
		digest = d
	default:
		sha, err := ref.Sha(strings.ToLower(to))
		if err != nil {
			return target{}, fmt.Errorf("%q is not a version, a commit sha or a digest: %w", to, err)
		}
		givenSha = sha
		shorts := tags.FindShort(list, tags.ShaPrefix, sha)
		switch len(shorts) {
		case 0:
			return target{}, fmt.Errorf("no %s%s tag in %s: commit %s was never built: %w", tags.ShaPrefix, sha, reg.Name(), sha, oci.ErrNotFound)
		case 1:
		default:
			return target{}, fmt.Errorf("sha %s is ambiguous in %s (%s): give more characters or the full sha", sha, reg.Name(), strings.Join(shorts, ", "))
		}
		if digest, err = reg.Resolve(ctx, tags.Sha(shorts[0])); err != nil {
			return target{}, err
		}
	}
	m, err := reg.Get(ctx, digest)
	if err != nil {
		return target{}, fmt.Errorf("look up %s: %w", to, err)
	}
	meta := artifact.MetadataFrom(m.Annotations())
	tg := target{digest: digest, manifest: m, rc: meta.Version}
	origin, err := ref.ParseOrigin(meta.Revision)
	if err != nil {
		// Not built by build-rc: no commit, so no marker can vouch for it.
		return tg, nil
	}
	if givenSha != "" && !strings.HasPrefix(origin.Sha, givenSha) {
		return target{}, fmt.Errorf("sha %s and artifact %s disagree: the artifact was built from %s", givenSha, digest, origin.Sha)
	}
	tg.sha = origin.Sha
	for _, s := range tags.FindShort(list, tags.ShaPrefix, origin.Sha) {
		if !strings.HasPrefix(origin.Sha, s) {
			continue
		}
		at, err := reg.Resolve(ctx, tags.Sha(s))
		if err != nil && !errors.Is(err, oci.ErrNotFound) {
			return target{}, err
		}
		if at == digest {
			tg.short = s
			break
		}
	}
	if tg.short == "" || !set.Has(tags.Validated(tg.short)) {
		return tg, nil
	}
	at, err := reg.Resolve(ctx, tags.Validated(tg.short))
	if err != nil && !errors.Is(err, oci.ErrNotFound) {
		return target{}, err
	}
	tg.validated = at == digest
	return tg, nil
}

func isVersion(s string) bool { _, ok := version.Parse(s); return ok }
