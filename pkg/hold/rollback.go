package hold

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/Masterminds/semver/v3"

	"github.com/ocipromote/ocipromote/pkg/artifact"
	"github.com/ocipromote/ocipromote/pkg/claim"
	"github.com/ocipromote/ocipromote/pkg/oci"
	"github.com/ocipromote/ocipromote/pkg/ref"
	"github.com/ocipromote/ocipromote/pkg/stage"
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

// ErrNotInStage is returned when a rollback of a stage other than the last names an artifact that
// never ran in that stage (no tag of the stage points at it).
var ErrNotInStage = errors.New("the artifact never ran in the stage")

// ErrNothingBefore is returned when a rollback names no artifact and the stage has run no other
// artifact before the one it selects.
var ErrNothingBefore = errors.New("no earlier artifact in the stage")

// RollbackInput names the artifact to put live back on, and why.
type RollbackInput struct {
	// To is a version tag (stable or release candidate), a commit sha (full or short, found
	// through sha-<s>) or a manifest digest; CheckTo tells whether it is one. Empty, it is the
	// previous version in the stage: the artifact of the stage's highest tag below the one it
	// selects that is another artifact; or, while a rollback's hold is on the stage, that
	// rollback's artifact, so that running it again writes nothing.
	To string
	// Chain and Stage name the stage to roll back: the zero Chain is the default chain
	// (stage.Default), and "" its last stage, live, as a rollback always was.
	Chain stage.Chain
	Stage string
	// Record says who rolls back, when and why; its State, Digest and Sha are filled in.
	Record Record
	// Force allows an artifact without a validated-<s> marker (for a stage other than the last:
	// one that never ran in the stage).
	Force  bool
	DryRun bool
	// Pause waits before deciding again after a contended write (default: a jittered pause).
	Pause claim.Pause
	// Settle is the registry's listing bound (package claim): a rollback decides only on listings
	// made this long after its own writes were listed.
	Settle time.Duration
	Log    *slog.Logger

	// Verify, when set, is called with the artifact found, before anything is written (also on a
	// dry run): an error refuses the rollback (package sign checks its signature).
	Verify func(ctx context.Context, digest string, annotations map[string]string) error
}

// RollbackResult is what a rollback did (or, on a dry run, would do).
type RollbackResult struct {
	// Stage is the stage rolled back.
	Stage string
	// Version is the tag the stage selects afterwards: the artifact's, above every other (for the
	// last stage a stable version).
	Version   string
	Digest    string
	Sha       string
	RC        string
	Validated bool
	// Hold is the hold after the rollback.
	Hold State
	// Writes are the tags written (on a dry run: that would be), in order: the hold record first.
	// The claim tags written on the way (package claim) are not listed.
	Writes []string
	DryRun bool
	Detail string
}

// Changed reports whether the rollback wrote (or would write) anything.
func (r RollbackResult) Changed() bool { return len(r.Writes) > 0 }

// rollbackAttempts bounds how often a rollback decides again when the stable version it chose is
// taken, or live selects something else after its write. Only promotions that passed their hold
// check before the hold was written can do that, so it converges within a few.
const rollbackAttempts = 10

// Rollback puts live back on the named artifact: it sets a hold, then gives the artifact the next
// stable patch above every stable version taken, so that a live OCIRepository (LiveConstraint)
// selects it. Another stage of a chain (RollbackInput.Stage) is rolled back the same way, with
// its own hold (StageOf) and a tag of its own form that its selection picks above every other
// (see nextInStage). The hold comes first: after a crash between the two writes, automatic promotion is
// already stopped and a re-run writes the stable tag; the other order would leave a window in
// which a late validation event promotes past the rollback.
//
// A promotion that passed its hold check just before the hold was written may still write its
// stable version, possibly above the rollback's (a candidate of a higher base). So the stable
// version is claimed like any other (package claim), other artifacts' claims count as versions
// about to be written, and the rollback ends only when a listing made after the hold and after its
// own write shows live selecting the artifact; otherwise it takes the next patch above what live
// would select, and decides again. No tag is ever moved, and a re-run after success writes nothing.
func Rollback(ctx context.Context, reg Writer, in RollbackInput) (RollbackResult, error) {
	log := in.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	pause := in.Pause
	if pause == nil {
		pause = claim.JitteredPause
	}
	if err := in.Record.Check(); err != nil {
		return RollbackResult{}, err
	}
	chain := in.Chain
	if chain.Len() == 0 {
		chain = stage.MustDefault()
	}
	name := in.Stage
	if name == "" {
		name = chain.Last()
	}
	held, err := StageOf(chain, name)
	if err != nil {
		return RollbackResult{}, err
	}
	list, err := reg.Tags(ctx)
	if err != nil {
		return RollbackResult{}, err
	}
	var tg target
	if strings.TrimSpace(in.To) == "" {
		tg, err = previous(ctx, reg, list, chain, name, held)
	} else {
		tg, err = findTarget(ctx, reg, list, in.To)
	}
	if err != nil {
		return RollbackResult{}, err
	}
	last := held == Last
	if !last && !in.Force {
		ran, err := ranIn(ctx, reg, list, chain, name, tg)
		if err != nil {
			return RollbackResult{}, err
		}
		if !ran {
			return RollbackResult{}, fmt.Errorf("%w: %s (%s) has no tag of stage %s in %s, so %s never ran it; check the artifact, then set input force to roll back to it anyway",
				ErrNotInStage, tg.named(in.To), tg.digest, name, reg.Name(), name)
		}
	}
	if last && !tg.validated && !in.Force {
		marker := "validated-<s>"
		if tg.short != "" {
			marker = tags.Validated(tg.short)
		}
		return RollbackResult{}, fmt.Errorf("%w: %s (%s) has no %s marker in %s, so integration never passed it; check the artifact, then set input force to roll back to it anyway",
			ErrNotValidated, tg.named(in.To), tg.digest, marker, reg.Name())
	}
	if in.Verify != nil {
		if err := in.Verify(ctx, tg.digest, tg.manifest.Annotations()); err != nil {
			return RollbackResult{Digest: tg.digest, Sha: tg.sha}, fmt.Errorf("%w; nothing written", err)
		}
	}
	next := func(list []string) (string, bool, error) {
		if last {
			return nextStable(ctx, reg, list, tg.digest)
		}
		return nextInStage(ctx, reg, list, chain, name, tg)
	}
	res := RollbackResult{Stage: name, Digest: tg.digest, Sha: tg.sha, RC: tg.rc, Validated: tg.validated, DryRun: in.DryRun}
	rec := in.Record
	rec.Digest, rec.Sha = tg.digest, tg.sha
	wroteStable, holdSet := false, false
	// rivals are the concurrent writers this rollback saw take the version it chose: only they
	// are blamed when it gives up.
	var rivals []string
	for attempt := 1; attempt <= rollbackAttempts; attempt++ {
		stable, done, err := next(list)
		if err != nil {
			return RollbackResult{}, err
		}
		if wroteStable && !done && res.Version != "" {
			// Live selects another artifact above the version this rollback wrote: a promotion
			// that passed its hold check before the hold wrote it. A real rival.
			rivals = append(rivals, "a version above "+res.Version+" was written by another artifact")
		}
		res.Version = stable
		if !holdSet {
			// One hold record per run at most: once this run's record is written, a later one (a
			// release made meanwhile) is a newer decision, not something to undo.
			ch, err := held.Set(ctx, reg, list, rec, Options{DryRun: in.DryRun, Settle: in.Settle, Pause: pause})
			if err != nil {
				return RollbackResult{}, err
			}
			res.Hold, holdSet = ch.State, true
			if ch.Wrote {
				res.Writes = append(res.Writes, ch.State.Tag)
			}
			if in.DryRun {
				if !done {
					res.Writes = append(res.Writes, stable)
				}
				res.Detail = detail(res, !done)
				return res, nil
			}
			if ch.Wrote {
				// Decide on a listing made the settle time after the hold was listed: it shows
				// every promotion that could still write, by its claim.
				list = ch.After
				continue
			}
		}
		if done {
			res.Detail = detail(res, wroteStable)
			if later, err := held.Read(ctx, reg, list); err == nil && later.Tag != res.Hold.Tag && !later.Held() {
				// Someone released the hold after this rollback set it: theirs is the newer
				// decision, and live stays where the rollback put it until a promotion moves it.
				res.Hold = later
				res.Detail += "; but the hold was released after it (" + later.Describe() + "), so automatic promotion is on again"
			}
			return res, nil
		}
		var wrote bool
		var contended error
		if last {
			wrote, contended, err = writeStable(ctx, reg, list, tg, stable, in.Settle, pause)
		} else {
			wrote, contended, err = writeInStage(ctx, reg, list, chain, name, tg, stable, in.Settle, pause)
		}
		if err != nil {
			return RollbackResult{}, err
		}
		if wrote {
			wroteStable = true
			res.Writes = append(res.Writes, stable)
		}
		if contended != nil {
			rivals = append(rivals, contended.Error())
			log.Warn("stable version taken concurrently, deciding again", "tag", stable, "why", contended)
			if err := claim.Backoff(ctx, attempt, in.Settle, pause); err != nil {
				return RollbackResult{}, err
			}
			if list, err = reg.Tags(ctx); err != nil {
				return RollbackResult{}, err
			}
			continue
		}
		// Check, on a listing that shows the stable tag just written, that live selects the
		// artifact now: a listing that lags behind it would send the rollback one patch higher.
		if list, err = claim.Shown(ctx, reg, []string{stable}, in.Settle, pause); err != nil {
			return RollbackResult{}, fmt.Errorf("%s was written: %w", stable, err)
		}
	}
	if len(rivals) == 0 {
		return RollbackResult{}, fmt.Errorf("the rollback in %s did not see %s select %s after %d rounds, and no concurrent writer took a version it chose; the hold is on (%s): run the rollback again", reg.Name(), res.who(), tg.digest, rollbackAttempts, res.Hold.Tag)
	}
	return RollbackResult{}, fmt.Errorf("concurrent writers kept taking the version %s selects in %s (%d times; last: %s); run the rollback again (the hold is on, so it converges)", res.who(), reg.Name(), len(rivals), rivals[len(rivals)-1])
}

// who names the stage rolled back in messages: live, as always, for the default chain's last.
func (r RollbackResult) who() string {
	if r.Stage == "" {
		return "live"
	}
	return r.Stage
}

func detail(r RollbackResult, wroteStable bool) string {
	what := fmt.Sprintf("%s selects %s (%s", r.who(), r.Version, r.Digest)
	if r.DryRun {
		what = fmt.Sprintf("%s would select %s (%s", r.who(), r.Version, r.Digest)
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
		release := "ocipromote hold release"
		if st, _, ok := StageOfTag(r.Hold.Tag); ok && st != Last {
			release += " --stage " + string(st)
		}
		return "rolled back: " + what + "; automatic promotion is held until `" + release + "`"
	}
	return what + "; the hold is set again for this rollback"
}

// nextStable decides the stable tag of the rollback target from a listing: done, with the tag live
// selects, when that tag is at the target; else the next patch above it. Other artifacts' claims on
// stable versions count as written (a promotion that claimed one is about to write it); the
// target's own claims do not, so a re-run after a crash takes its claim up again.
func nextStable(ctx context.Context, reg Registry, list []string, digest string) (tag string, done bool, err error) {
	taken := slices.Clone(list)
	for _, c := range claim.In(list) {
		if c.Stable() && !c.Of(digest) {
			taken = append(taken, c.Version)
		}
	}
	top, err := version.Select(taken, LiveConstraint, "")
	if err != nil {
		return "", false, err
	}
	if top == "" {
		return version.StableTag("", semver.New(0, 0, 1, "", "")), false, nil
	}
	if tags.NewSet(list).Has(top) {
		at, err := reg.Resolve(ctx, top)
		if err != nil && !errors.Is(err, oci.ErrNotFound) {
			return "", false, err
		}
		if at == digest {
			return top, true, nil
		}
	}
	v, _ := version.Parse(top)
	next, err := version.Bumped(v, version.Patch)
	if err != nil {
		return "", false, fmt.Errorf("the next patch above stable %s: %w", top, err)
	}
	return version.StableTag(version.Prefix(top), next), false, nil
}

// writeStable claims the stable version for the target and writes it (claim.Take). A rival's
// claim on the version, or the version written by another artifact meanwhile, is returned as
// contended, with nothing more written.
func writeStable(ctx context.Context, reg Writer, list []string, tg target, stable string, settle time.Duration, pause claim.Pause) (wrote bool, contended, err error) {
	cl, err := claim.New(stable, tg.claimant(), tg.digest)
	if err != nil {
		return false, nil, err
	}
	took, err := claim.Take{Claim: cl, Manifest: tg.manifest, Settle: settle}.Run(ctx, reg, list, pause)
	return took.Wrote, took.Contended, err
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

// claimant is the commit a claim of the target names: its sha-<s>, else the start of its commit
// sha, else, for an artifact build-rc did not build, the start of its digest.
func (tg target) claimant() string {
	switch {
	case tg.short != "":
		return tg.short
	case tg.sha != "":
		return tg.sha[:7]
	}
	return strings.TrimPrefix(tg.digest, "sha256:")[:7]
}

// CheckTo checks the form of a rollback's To without asking the registry: a version (stable or
// release candidate), a commit sha (4 to 40 hex characters) or a digest sha256:<64 hex>.
func CheckTo(to string) error {
	_, err := parseTo(to)
	return err
}

// to is what a rollback's To names, by its form.
type to struct {
	digest, version, sha string
}

func parseTo(s string) (to, error) {
	s = strings.TrimSpace(s)
	const want = "name the artifact to roll back to by a version (0.4.2 or 0.4.2-rc.3), a commit sha (full or short) or a digest (sha256:…)"
	switch {
	case s == "":
		return to{}, errors.New(want)
	case strings.HasPrefix(s, "sha256:"):
		d, err := ref.Digest(s)
		if err != nil {
			return to{}, fmt.Errorf("%w; %s", err, want)
		}
		return to{digest: d}, nil
	case isVersion(s):
		return to{version: s}, nil
	}
	sha, err := ref.NormalizeSha(s)
	if err != nil {
		return to{}, fmt.Errorf("%s is not a version, a commit sha or a digest: %s", ref.Quote(s), want)
	}
	return to{sha: sha}, nil
}

// findTarget resolves a version, sha or digest to the artifact and checks what it is.
func findTarget(ctx context.Context, reg Registry, list []string, given string) (target, error) {
	named, err := parseTo(given)
	if err != nil {
		return target{}, err
	}
	set := tags.NewSet(list)
	digest, givenSha := named.digest, named.sha
	switch {
	case named.version != "":
		if !set.Has(named.version) {
			return target{}, fmt.Errorf("no tag %s in %s (`ocipromote status` lists the artifacts and their versions): %w", named.version, reg.Name(), oci.ErrNotFound)
		}
		if digest, err = reg.Resolve(ctx, named.version); err != nil {
			return target{}, err
		}
	case givenSha != "":
		shorts := tags.FindShort(list, tags.ShaPrefix, givenSha)
		switch len(shorts) {
		case 0:
			return target{}, fmt.Errorf("no %s%s tag in %s: commit %s was never built, or was pruned (`ocipromote status` lists the artifacts): %w", tags.ShaPrefix, givenSha, reg.Name(), givenSha, oci.ErrNotFound)
		case 1:
		default:
			return target{}, fmt.Errorf("sha %s is ambiguous in %s (%s): give more characters or the full sha", givenSha, reg.Name(), strings.Join(shorts, ", "))
		}
		if digest, err = reg.Resolve(ctx, tags.Sha(shorts[0])); err != nil {
			return target{}, err
		}
	}
	m, err := reg.Get(ctx, digest)
	if err != nil {
		return target{}, fmt.Errorf("look up %s: %w", ref.Quote(given), err)
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

// named is how a message names the target: as given, or by its digest when the rollback chose it.
func (tg target) named(given string) string {
	if given = strings.TrimSpace(given); given != "" {
		return given
	}
	return tg.digest
}

// previous is the artifact a rollback of stage name goes back to when none is named: while a
// rollback's hold is on the stage, that rollback's artifact (a re-run finishes it or writes
// nothing); else the artifact of the stage's highest tag below the one it selects that is not the
// selected artifact.
func previous(ctx context.Context, reg Registry, list []string, c stage.Chain, name string, held Stage) (target, error) {
	cur, err := held.Read(ctx, reg, list)
	if err != nil {
		return target{}, err
	}
	if cur.Held() && cur.Digest != "" {
		return findTarget(ctx, reg, list, cur.Digest)
	}
	var own []string
	for _, t := range list {
		if pt, ok := c.ParseTag(t); ok && pt.Stage == name {
			own = append(own, t)
		}
	}
	own = version.SortTags(own)
	sel, err := c.Select(list, name)
	if err != nil {
		return target{}, err
	}
	if sel == "" {
		return target{}, fmt.Errorf("%w: stage %s selects nothing in %s, so there is nothing to roll back; name the artifact with input to", ErrNothingBefore, name, reg.Name())
	}
	at, err := reg.Resolve(ctx, sel)
	if err != nil {
		return target{}, err
	}
	below := false
	for _, t := range own {
		if t == sel {
			below = true
			continue
		}
		if !below {
			continue
		}
		d, err := reg.Resolve(ctx, t)
		if errors.Is(err, oci.ErrNotFound) {
			continue
		}
		if err != nil {
			return target{}, err
		}
		if d != at {
			return findTarget(ctx, reg, list, d)
		}
	}
	return target{}, fmt.Errorf("%w: stage %s has run no artifact in %s before %s (%s); name the artifact with input to", ErrNothingBefore, name, reg.Name(), sel, at)
}

// ranIn reports whether a tag of stage name points at the target: its own tag there (the stage's
// tag of its release candidate), else any of the stage's tags (a rollback's). The first stage's
// tag is the release candidate itself, which every build has.
func ranIn(ctx context.Context, reg Registry, list []string, c stage.Chain, name string, tg target) (bool, error) {
	set := tags.NewSet(list)
	var candidates []string
	if own, err := c.In(tg.rc, name); err == nil && set.Has(own) {
		candidates = append(candidates, own)
	}
	if name != c.First() {
		for _, t := range list {
			if pt, ok := c.ParseTag(t); ok && pt.Stage == name {
				candidates = append(candidates, t)
			}
		}
	}
	for _, t := range candidates {
		d, err := reg.Resolve(ctx, t)
		if err != nil && !errors.Is(err, oci.ErrNotFound) {
			return false, err
		}
		if d == tg.digest {
			return true, nil
		}
	}
	return false, nil
}

// nextInStage decides the tag of the target in stage name, a stage before the last, from a
// listing: done, with the tag the stage selects, when that tag is at the target. Else a tag the
// stage's selection picks above every other: the base of the tag it selects with the next free
// number N, one above every N of that base in any stage's tags and claims (the target's own claims
// aside, so that a re-run after a crash takes them up again). That number is no candidate's:
// build-rc numbers candidates above the release candidates and the claims on them, and
// writeInStage claims the release candidate of the number for the target before it writes the
// stage's tag, so no later build takes it and no promotion into the stage writes the same tag.
func nextInStage(ctx context.Context, reg Registry, list []string, c stage.Chain, name string, tg target) (tag string, done bool, err error) {
	taken := slices.Clone(list)
	for _, cl := range claim.In(list) {
		if !cl.Of(tg.digest) {
			taken = append(taken, cl.Version)
		}
	}
	top, err := c.Select(taken, name)
	if err != nil {
		return "", false, err
	}
	if top == "" {
		return "", false, fmt.Errorf("%w: stage %s selects nothing in %s, so a rollback has no version to go above; promote into it first", ErrNothingBefore, name, reg.Name())
	}
	if tags.NewSet(list).Has(top) {
		at, err := reg.Resolve(ctx, top)
		if err != nil && !errors.Is(err, oci.ErrNotFound) {
			return "", false, err
		}
		if at == tg.digest {
			return top, true, nil
		}
	}
	pt, _ := c.ParseTag(top)
	n := pt.N
	for _, t := range taken {
		if o, ok := c.ParseTag(t); ok && o.N > n && o.Prefix == pt.Prefix && o.Base.Equal(pt.Base) {
			n = o.N
		}
	}
	tag, err = c.Format(name, pt.Prefix, pt.Base, n+1)
	return tag, false, err
}

// writeInStage writes tag, the target's tag in stage name, as writeStable writes a stable one.
// In a stage between the first and the last it first claims the release candidate of the same
// number for the target (X.Y.Z-rc.N for X.Y.Z-<stage>.N), which is never written: build-rc counts
// the claim as a taken number. The stage tag is written only when the listing that confirms its
// claim shows no rival's claim on that release candidate, nor the release candidate itself;
// otherwise it is contended and the rollback decides again with the next number.
func writeInStage(ctx context.Context, reg Writer, list []string, c stage.Chain, name string, tg target, tag string, settle time.Duration, pause claim.Pause) (wrote bool, contended, err error) {
	// The claimant is the artifact's digest, not its commit: a later build of the same commit must
	// not take the rollback's claims for its own.
	claimant := strings.TrimPrefix(tg.digest, "sha256:")[:7]
	cl, err := claim.New(tag, claimant, tg.digest)
	if err != nil {
		return false, nil, err
	}
	take := claim.Take{Claim: cl, Manifest: tg.manifest, Settle: settle}
	if name != c.First() {
		pt, _ := c.ParseTag(tag)
		rc, err := c.Format(c.First(), pt.Prefix, pt.Base, pt.N)
		if err != nil {
			return false, nil, err
		}
		reserve, err := claim.New(rc, claimant, tg.digest)
		if err != nil {
			return false, nil, err
		}
		if !claim.All(list).Has(reserve) {
			if _, err := reg.Tag(ctx, reserve.Tag(), tg.manifest, oci.Write{KnownAbsent: true}); err != nil {
				return false, nil, err
			}
		}
		take.Check = func(_ context.Context, after []string) (error, error) {
			if tags.NewSet(after).Has(rc) {
				return fmt.Errorf("%s was built meanwhile", rc), nil
			}
			if rival, ok := claim.All(after).Rival(reserve); ok {
				return fmt.Errorf("%s claims %s", rival.Tag(), rc), nil
			}
			return nil, nil
		}
	}
	took, err := take.Run(ctx, reg, list, pause)
	return took.Wrote, took.Contended, err
}
