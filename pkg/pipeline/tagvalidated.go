package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ocipromote/ocipromote/pkg/artifact"
	"github.com/ocipromote/ocipromote/pkg/claim"
	"github.com/ocipromote/ocipromote/pkg/hold"
	"github.com/ocipromote/ocipromote/pkg/oci"
	"github.com/ocipromote/ocipromote/pkg/promote"
	"github.com/ocipromote/ocipromote/pkg/ref"
	"github.com/ocipromote/ocipromote/pkg/stage"
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
	// Pause waits before deciding again after a contended write (default: a jittered pause).
	Pause Pause
	// Settle is the registry's listing bound (package claim): a new stable version is written
	// only after a listing made this long after its claim was first listed.
	Settle time.Duration
	Log    *slog.Logger

	// Stages is the stage promoted into and its gates (zero: integration to live).
	Stages StagePromotion

	// Verify, when set, is called once a decision would write, before anything is written (also
	// on a dry run): an error refuses the candidate (package sign checks its signature).
	Verify func(ctx context.Context, digest string, annotations map[string]string) error
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
	// Tags is the listing the decision was made from (before this run's writes), for what
	// reports on the promotion afterwards without listing again.
	Tags []string
	StageOutcome
}

// ErrInvalidCandidate is returned when the named artifact must not be promoted: it was not
// offered to integration, or the identifiers disagree.
var ErrInvalidCandidate = errors.New("refusing to promote")

// ErrDisagree is returned (with ErrInvalidCandidate) when the identifiers given name different
// artifacts: a sha and a digest, or a revision's tag and its digest. It is the caller's mistake
// (or a forged event), never the registry's, so the binaries treat it as a usage error.
var ErrDisagree = errors.New("the identifiers name different artifacts")

// Validate checks the form of the identifiers, before anything touches the registry.
func (in PromoteInput) Validate() error {
	if in.Revision == "" && in.Digest == "" && in.Sha == "" {
		return errors.New("name the validated artifact with revision (TAG@sha256:DIGEST), digest or sha")
	}
	if in.Revision != "" {
		rev, err := ref.ParseRevision(in.Revision)
		if err != nil {
			return err
		}
		if in.Digest != "" && in.Digest != rev.Digest {
			return fmt.Errorf("%w: revision %s and digest %s name different artifacts; give one of them", ErrInvalidCandidate, rev, in.Digest)
		}
	}
	if in.Digest != "" {
		if _, err := ref.Digest(in.Digest); err != nil {
			return err
		}
	}
	if in.Sha != "" {
		if _, err := ref.Sha(in.Sha); err != nil {
			return err
		}
	}
	return nil
}

// candidate is a resolved, checked validated artifact.
type candidate struct {
	promote.Candidate
	manifest *oci.Manifest
	sha      string
}

// promoteAttempts bounds how often tag-validated decides again after a concurrent promotion of
// another candidate claimed or took the stable version it chose.
const promoteAttempts = 10

// TagValidated gives the validated artifact its stable tag and then validated-<s>, as decided by
// promote.Decide; replays, duplicates and late events write nothing or repair a half-done run.
// While an operator's hold is on (see package hold) it writes nothing and reports promote.Held:
// the check is here, on the step that writes, so it guards every route to promotion.
//
// A new stable version is claimed first (package claim): two promotions of different candidates
// never both write one stable version, whatever the timing. The one that backs off decides again
// with the other's claim counted as taken: superseded, or the next patch above it.
func TagValidated(ctx context.Context, reg Registry, in PromoteInput) (PromoteResult, error) {
	log := logger(in.Log)
	if err := in.Validate(); err != nil {
		return PromoteResult{}, err
	}
	if err := in.Stages.Check(); err != nil {
		return PromoteResult{}, err
	}
	guard, err := in.Stages.hold()
	if err != nil {
		return PromoteResult{}, err
	}
	pause := in.Pause
	if pause == nil {
		pause = claim.JitteredPause
	}
	var contended error
	// verified is the digest whose signature was checked: a contended attempt decides again but
	// checks the same artifact, which would cost its registry requests again.
	verified := ""
	early := readEarly(ctx, reg, in)
	defer early.end()
	for attempt := 1; attempt <= promoteAttempts; attempt++ {
		if attempt > 1 {
			if err := claim.Backoff(ctx, attempt-1, in.Settle, pause); err != nil {
				return PromoteResult{}, err
			}
		}
		list, err := reg.Tags(ctx)
		if err != nil {
			return PromoteResult{}, err
		}
		h, err := guard.Read(ctx, reg, list)
		if err != nil {
			return PromoteResult{}, fmt.Errorf("%w; promotion stops until the hold can be read", err)
		}
		if h.Held() {
			log.Info("promotion held", "hold", h.Tag, "reason", h.Reason)
			return PromoteResult{Reason: promote.Held, Detail: "held: " + h.Describe() + "; nothing written (release it with `ocipromote hold release`)", DryRun: in.DryRun, StageOutcome: StageOutcome{To: in.Stages.to(), Gate: stage.GateHeld}}, nil
		}
		c, err := resolveCandidate(ctx, reg, list, in, early)
		if err != nil {
			return PromoteResult{}, err
		}
		out, v, err := gate(ctx, reg, list, c, in.Stages)
		if err != nil {
			return PromoteResult{Digest: c.Digest, Sha: c.sha, StageOutcome: out}, err
		}
		if !v.Promote {
			log.Info("promotion deferred", "to", out.To, "gate", out.Gate, "until", out.Until)
			return deferred(out, c, v.Detail, in.DryRun), nil
		}
		if out.To != in.Stages.chain().Last() {
			res := PromoteResult{Digest: c.Digest, Sha: c.sha, RC: c.RCTag, DryRun: in.DryRun, Tags: list, StageOutcome: out}
			return promoteStage(ctx, reg, list, c, in.Stages.chain(), res, in.Verify)
		}
		state, err := gatherState(ctx, reg, list, c)
		if err != nil {
			return PromoteResult{}, err
		}
		d, err := promote.Decide(c.Candidate, state)
		if err != nil {
			return PromoteResult{}, fmt.Errorf("%s: %w", reg.Name(), err)
		}
		res := PromoteResult{Reason: d.Reason, Detail: d.Detail + out.forcedDetail(), Version: d.Version, Digest: c.Digest, Sha: c.sha, RC: c.RCTag, Writes: d.Writes, DryRun: in.DryRun, Tags: list, StageOutcome: out}
		if d.Promote() && in.Verify != nil && verified != c.Digest {
			if err := in.Verify(ctx, c.Digest, c.manifest.Annotations()); err != nil {
				return PromoteResult{Digest: c.Digest, Sha: c.sha}, fmt.Errorf("%w: %w; nothing written", ErrInvalidCandidate, err)
			}
			verified = c.Digest
		}
		if in.DryRun && d.Promote() {
			res.Reason = promote.WouldPromote
		}
		if in.DryRun || !d.Promote() {
			return res, nil
		}
		if contended, err = write(ctx, reg, list, c, d, &res, in.Settle, pause); err != nil {
			return PromoteResult{}, err
		}
		if contended != nil {
			log.Info("stable version contended, deciding again", "version", d.Version, "attempt", attempt, "why", contended)
			continue
		}
		res.Promoted = len(res.Writes) > 0
		return res, nil
	}
	return PromoteResult{}, fmt.Errorf("concurrent promotions of other candidates kept taking the stable version (last: %w); run tag-validated in a concurrency group per repository and run it again", contended)
}

// write writes the decision's tags: a new stable version through package claim (so that no other
// promotion writes it too), then validated-<s>, which is never written for an artifact without its
// stable tag. A rival's claim, a hold set meanwhile, or the version taken under our feet is
// returned as contended (nothing more written) for the caller to decide again.
func write(ctx context.Context, reg Registry, list []string, c candidate, d promote.Decision, res *PromoteResult, settle time.Duration, pause Pause) (contended, err error) {
	res.Writes = nil
	var stable, marker string
	for _, t := range d.Writes {
		if _, isVersion := version.Parse(t); isVersion {
			stable = t
		} else {
			marker = t
		}
	}
	if stable != "" {
		cl, err := claim.New(stable, c.Short, c.Digest)
		if err != nil {
			return nil, err
		}
		// The confirmation reads rival claims and hold records only: on a registry that lists by
		// range it lists those alone (package claim), not the whole repository again.
		took, err := claim.Take{
			Claim: cl, Manifest: c.manifest, Settle: settle,
			Check: heldMeanwhile(reg, list), Ranged: true, CheckReads: []string{hold.TagPrefix},
		}.Run(ctx, reg, list, pause)
		if err != nil || took.Contended != nil {
			return took.Contended, err
		}
		if took.Wrote {
			res.Writes = append(res.Writes, stable)
		}
	}
	if marker != "" {
		wrote, err := reg.Tag(ctx, marker, c.manifest, oci.Write{KnownAbsent: !slices.Contains(list, marker)})
		if err != nil {
			return nil, err
		}
		if wrote {
			res.Writes = append(res.Writes, marker)
		}
	}
	return nil, nil
}

// heldMeanwhile checks the listing that confirms a promotion's claim for a rollback's hold set
// since the first listing: of the rollback's last listing and this one, at least one sees the
// other's write, so either the rollback goes above our claim or we stop here and the next pass
// answers held. Hold records are write-once, so only a new one is read.
func heldMeanwhile(reg Registry, list []string) func(context.Context, []string) (error, error) {
	before, _ := hold.Latest(list)
	return func(ctx context.Context, after []string) (error, error) {
		if latest, _ := hold.Latest(after); latest == "" || latest == before {
			return nil, nil
		}
		h, err := hold.Read(ctx, reg, after)
		if err != nil {
			return nil, fmt.Errorf("%w; promotion stops until the hold can be read", err)
		}
		if h.Held() {
			return fmt.Errorf("%s was set meanwhile", h.Tag), nil
		}
		return nil, nil
	}
}

// earlyManifest is the candidate's manifest, read beside the first listing when its digest is
// given: a manifest named by its digest cannot change, so it needs no listing first, and the read
// costs no round trip of its own.
//
// The integration check's read goes out beside the listing too, as soon as the commit is known
// (given, or named by the manifest; with the sha given it is the manifest read itself, readEarly):
// offered-<s> (integration-<s> by default) with <s> the commit's sha at build-rc's default length,
// the tag integrationOfDigest reads when the listing shows that one (or none). Only an answer that
// the tag points at the candidate is used, and only for that tag: it proves the artifact was
// offered to integration, which stays true (build-rc writes offered-<s> once and nothing moves it),
// so a read issued beside the listing proves what a read issued after it would. Any other answer
// (missing, another digest, a failure), or a listing that shows other short shas of the commit, and
// the check reads after the listing, as before. Nothing is written before both the listing and this
// read have answered.
type earlyManifest struct {
	digest string
	done   chan struct{}
	m      *oci.Manifest
	err    error

	// offeredTag is the integration tag read early ("" when none was), at where it pointed
	// (only when read without error); checked is closed once that read answered.
	offeredTag, at string
	checked        chan struct{}
	// stop ends what is still in flight when the step returns; Wait waits for it.
	stop context.CancelFunc
	all  sync.WaitGroup
}

// readEarly starts reading the manifest of the digest in names (a digest or a revision) and the
// integration tag of its commit, or returns nil when in names a commit sha, whose artifact the
// listing finds. The tag read is used only if it is the one the manifest's commit names (the sha
// given must be a prefix of that commit, resolveCandidate checks), so a sha that disagrees costs
// a read, never a wrong answer. The caller calls end before it returns.
//
// With the commit's sha given beside the digest at build-rc's default short length or more (the
// event's originRevision, which the example workflow passes), one read does both: the manifest
// offered-<s> points at, read by its tag. Its digest is its bytes' own, so when it is the
// candidate's, that read is the candidate's manifest as surely as a read by digest, and proves
// the tag is at it. Otherwise (the tag missing or elsewhere: a sha that disagrees, a commit built
// with a longer short sha, a candidate never offered) the manifest is read by its digest after
// it, one round trip later, on a path that ends in a refusal or a check after the listing. Without
// the sha, the manifest names the commit and the tag is read once the manifest answers.
func readEarly(ctx context.Context, reg Registry, in PromoteInput) *earlyManifest {
	digest := in.Digest
	if rev, err := ref.ParseRevision(in.Revision); in.Revision != "" && err == nil {
		digest = rev.Digest
	}
	if digest == "" {
		return nil
	}
	// The first listing goes out beside the read.
	together(reg, 2)
	e := &earlyManifest{digest: digest, done: make(chan struct{}), checked: make(chan struct{})}
	ctx, e.stop = context.WithCancel(ctx)
	offered := in.Stages.offered()
	if sha := in.Sha; len(sha) >= defaultShortLen {
		e.all.Add(1)
		go func() {
			defer e.all.Done()
			tag := offered + sha[:defaultShortLen]
			m, err := reg.GetTag(ctx, tag)
			if err == nil {
				e.offeredTag, e.at = tag, m.Digest
			}
			close(e.checked)
			if err == nil && m.Digest == digest {
				e.m = m
			} else {
				e.m, e.err = reg.Get(ctx, digest)
			}
			close(e.done)
		}()
		return e
	}
	e.all.Add(2)
	go func() {
		defer e.all.Done()
		e.m, e.err = reg.Get(ctx, digest)
		close(e.done)
	}()
	go func() {
		defer e.all.Done()
		defer close(e.checked)
		<-e.done
		if e.err != nil {
			return
		}
		origin, err := ref.ParseOrigin(artifact.MetadataFrom(e.m.Annotations()).Revision)
		if err != nil {
			return
		}
		tag := offered + origin.Sha[:min(len(origin.Sha), defaultShortLen)]
		if at, err := reg.Resolve(ctx, tag); err == nil {
			e.offeredTag, e.at = tag, at
		}
	}()
	return e
}

// end stops the early reads still in flight and waits for them, so that none outlives the step.
func (e *earlyManifest) end() {
	if e != nil {
		e.stop()
		e.all.Wait()
	}
}

// get returns the manifest of digest: the one read early, or read now.
func (e *earlyManifest) get(ctx context.Context, reg Registry, digest string) (*oci.Manifest, error) {
	if e == nil || e.digest != digest {
		return reg.Get(ctx, digest)
	}
	select {
	case <-e.done:
		return e.m, e.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// offeredAt reports whether the early read found tag pointing at digest; false means read it now.
func (e *earlyManifest) offeredAt(ctx context.Context, tag, digest string) bool {
	if e == nil || e.digest != digest {
		return false
	}
	select {
	case <-e.checked:
		return e.offeredTag == tag && e.at == digest
	case <-ctx.Done():
		return false
	}
}

func resolveCandidate(ctx context.Context, reg Registry, list []string, in PromoteInput, early *earlyManifest) (candidate, error) {
	var rev ref.Revision
	digest := in.Digest
	if in.Revision != "" {
		var err error
		if rev, err = ref.ParseRevision(in.Revision); err != nil {
			return candidate{}, err
		}
		digest = rev.Digest
	}
	short := ""
	if digest == "" {
		var err error
		if short, digest, err = integrationOfSha(ctx, reg, list, in.Stages.offered(), in.Sha); err != nil {
			return candidate{}, err
		}
	}
	m, err := early.get(ctx, reg, digest)
	if err != nil {
		return candidate{}, fmt.Errorf("looked up %s: %w", describe(in), err)
	}
	meta := artifact.MetadataFrom(m.Annotations())
	origin, err := ref.ParseOrigin(meta.Revision)
	if err != nil {
		return candidate{}, fmt.Errorf("artifact %s has no usable %s annotation, so its commit is unknown: %w", digest, artifact.AnnotationRevision, err)
	}
	if in.Sha != "" && !strings.HasPrefix(origin.Sha, in.Sha) {
		return candidate{}, fmt.Errorf("%w: %w: sha %s and artifact %s disagree: the artifact was built from %s", ErrInvalidCandidate, ErrDisagree, in.Sha, digest, origin.Sha)
	}
	if short == "" {
		if short, err = integrationOfDigest(ctx, reg, list, in.Stages.offered(), digest, origin.Sha, describe(in), early); err != nil {
			return candidate{}, err
		}
	}
	rc, err := rcVersion(ctx, reg, list, meta.Version, rev.Tag, digest)
	if err != nil {
		return candidate{}, err
	}
	if version.IsRCTag(rev.Tag) && rev.Tag != rc {
		return candidate{}, fmt.Errorf("%w: %w: revision %s names release candidate %s, but its digest is the artifact of %s (commit %s): a Flux revision is the tag and digest of one artifact, so this one was not reported by Flux as is; give the revision Flux reported, or the digest alone",
			ErrInvalidCandidate, ErrDisagree, ref.Quote(in.Revision), rev.Tag, rc, origin.Sha)
	}
	line, err := version.ParseLine(meta.Line)
	if err != nil {
		return candidate{}, fmt.Errorf("artifact %s: %s annotation: %w", digest, artifact.AnnotationVersionLine, err)
	}
	return candidate{Candidate: promote.Candidate{Digest: digest, Short: short, RCTag: rc, Line: line}, manifest: m, sha: origin.Sha}, nil
}

// integrationOfSha finds the artifact build-rc offered to integration for a commit given by a
// full or short sha: integration-<s>, and its digest. Where two commits share a short sha (one was
// rebuilt with a longer short_sha_length), the artifact whose commit the sha names is the one.
func integrationOfSha(ctx context.Context, reg Registry, list []string, offered, sha string) (short, digest string, err error) {
	shorts := tags.FindShort(list, offered, sha)
	if len(shorts) == 0 {
		return "", "", fmt.Errorf("no %s%s tag in %s: commit %s was not built by build-rc, or not yet; %w", offered, sha, reg.Name(), sha, oci.ErrNotFound)
	}
	type found struct{ short, digest string }
	var matches []found
	for _, s := range shorts {
		d, err := reg.Resolve(ctx, offered+s)
		if err != nil {
			return "", "", err
		}
		if len(shorts) > 1 {
			m, err := reg.Get(ctx, d)
			if err != nil {
				return "", "", err
			}
			origin, err := ref.ParseOrigin(artifact.MetadataFrom(m.Annotations()).Revision)
			if err != nil || !strings.HasPrefix(origin.Sha, sha) {
				continue
			}
		}
		matches = append(matches, found{s, d})
	}
	switch len(matches) {
	case 1:
		return matches[0].short, matches[0].digest, nil
	case 0:
		return "", "", fmt.Errorf("none of %s (%s) was built from commit %s; %w", reg.Name(), strings.Join(shorts, ", "), sha, oci.ErrNotFound)
	}
	var names []string
	for _, m := range matches {
		names = append(names, offered+m.short)
	}
	return "", "", fmt.Errorf("sha %s is ambiguous in %s (%s): give more characters or the full sha", sha, reg.Name(), strings.Join(names, ", "))
}

// defaultShortLen is build-rc's default short_sha_length.
const defaultShortLen = 7

// integrationOfDigest checks that the artifact was offered to integration: an integration-<s> of
// its commit points at it. It returns <s>.
func integrationOfDigest(ctx context.Context, reg Registry, list []string, offered, digest, sha, what string, early *earlyManifest) (string, error) {
	var shorts []string
	for _, s := range tags.FindShort(list, offered, sha) {
		if strings.HasPrefix(sha, s) {
			shorts = append(shorts, s)
		}
	}
	// The read issued beside the listing (earlyManifest) is the one this check makes when the
	// listing shows the default short sha alone, or none.
	if s := sha[:min(len(sha), defaultShortLen)]; (len(shorts) == 0 || slices.Equal(shorts, []string{s})) && early.offeredAt(ctx, offered+s, digest) {
		return s, nil
	}
	if len(shorts) == 0 {
		// A registry whose tag list lags behind its writes (docs/reliability.md) may not list an
		// integration-<s> build-rc wrote a moment ago, while a read by tag sees it: read the one
		// of the default short sha length before refusing.
		s := sha[:min(len(sha), defaultShortLen)]
		at, err := reg.Resolve(ctx, offered+s)
		switch {
		case err == nil && at == digest:
			return s, nil
		case err != nil && !errors.Is(err, oci.ErrNotFound):
			return "", err
		}
		return "", fmt.Errorf("%w: artifact %s (commit %s) has no %s<sha> tag in %s: it was never offered to integration", ErrInvalidCandidate, digest, sha, offered, reg.Name())
	}
	var elsewhere []string
	for _, s := range shorts {
		at, err := reg.Resolve(ctx, offered+s)
		if err != nil {
			return "", err
		}
		if at == digest {
			return s, nil
		}
		elsewhere = append(elsewhere, offered+s+" points at "+at)
	}
	return "", fmt.Errorf("%w: %s is %s, but %s: integration was offered another artifact for commit %s", ErrInvalidCandidate, what, digest, strings.Join(elsewhere, ", "), sha)
}

// rcVersion finds the candidate's release-candidate tag: the version annotation build-rc writes;
// for artifacts pushed by other tools, the release-candidate tag that points at the digest.
func rcVersion(ctx context.Context, reg Registry, list []string, annotated, revisionTag, digest string) (string, error) {
	if version.IsRCTag(annotated) {
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
	if version.IsRCTag(revisionTag) {
		tried = append(tried, revisionTag)
	}
	for _, tv := range candidates {
		tried = append(tried, tv.Tag)
	}
	for i, t := range tried {
		if i == maxRCScan {
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
	return "", fmt.Errorf("artifact %s has no %s annotation (it was not pushed by build-rc) and none of the %d newest release-candidate tags points at it: if it is a release candidate, name it by its Flux revision, <rc tag>@%s", digest, artifact.AnnotationVersion, maxRCScan, digest)
}

// maxRCScan bounds how many release-candidate tags are read to find the version of an artifact
// another tool pushed without a version annotation. Named by its Flux revision, such an artifact
// needs no scan.
const maxRCScan = 20

// gatherState reads what promote.Decide needs: the stable versions in the candidate's scope with
// their digests, other artifacts' claims on stable versions not written yet, the release
// candidates behind the stable versions (from the highest down, as NeedsBehind asks), and the
// marker.
func gatherState(ctx context.Context, reg Registry, list []string, c candidate) (promote.State, error) {
	s := promote.State{Stables: map[string]string{}, Behind: map[string]string{}}
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
	for _, cl := range promote.Claims(list, c.Candidate) {
		d, err := reg.Resolve(ctx, cl.Tag())
		if errors.Is(err, oci.ErrNotFound) {
			continue
		}
		if err != nil {
			return s, err
		}
		s.Claims = append(s.Claims, promote.Holder{Version: cl.Version, Digest: d})
	}
	for d := promote.NeedsBehind(c.Candidate, s); d != ""; d = promote.NeedsBehind(c.Candidate, s) {
		m, err := reg.Get(ctx, d)
		if err != nil {
			return s, err
		}
		if s.Behind[d], err = rcVersion(ctx, reg, list, artifact.MetadataFrom(m.Annotations()).Version, "", m.Digest); err != nil {
			return s, fmt.Errorf("a stable version in scope: %w", err)
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
