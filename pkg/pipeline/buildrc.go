package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/ocipromote/ocipromote/pkg/artifact"
	"github.com/ocipromote/ocipromote/pkg/oci"
	"github.com/ocipromote/ocipromote/pkg/ref"
	"github.com/ocipromote/ocipromote/pkg/tags"
	"github.com/ocipromote/ocipromote/pkg/version"
)

// BuildInput is what build-rc needs besides the registry.
type BuildInput struct {
	Dir    string
	Ignore []string
	// Sha is the full commit sha; Ref, Source and Created go into the annotations.
	Sha      string
	Ref      string
	Source   string
	Created  time.Time
	ShortLen int
	// Rules.Bump may be version.Auto: the level is then read by Commits from the messages since
	// the commit of the highest stable version.
	Rules  version.Rules
	DryRun bool
	// Commits returns the commit messages after since ("" for all history) up to this commit.
	Commits func(ctx context.Context, since string) ([]string, error)
	// Attempts bounds how many release-candidate numbers a build tries when concurrent builds
	// collide (default 10).
	Attempts int
	Pause    Pause
	Log      *slog.Logger
}

// BuildResult is what build-rc reports.
type BuildResult struct {
	Version string
	Digest  string
	Tags    []string
	Short   string
	// Pushed is true when this run wrote to the registry, false when the commit was already built
	// (or on a dry run).
	Pushed bool
	DryRun bool
	// Highest is the highest stable version the candidate was planned from ("" for none).
	Highest string
}

// ErrContended is returned when concurrent builds kept taking the numbers this build tried.
var ErrContended = errors.New("release-candidate numbers kept being taken by concurrent builds")

// BuildRC offers the commit's manifests as the next release candidate. The write order makes
// every crash repairable by a re-run:
//
//  1. claim-<rc>-<s>: the manifest, under a tag only this commit writes;
//  2. list again: if another commit claimed the same <rc>, back off to the next number (two
//     builds can both back off, never both proceed: each lists after writing its own claim);
//  3. <rc>, then sha-<s>, then integration-<s>.
//
// A re-run finds sha-<s> (done: report it, complete integration-<s>) or its own claim (resume
// with the same number), so it converges on what a clean run would have written.
func BuildRC(ctx context.Context, reg Registry, in BuildInput) (BuildResult, error) {
	log := logger(in.Log)
	if _, err := ref.Sha(in.Sha); err != nil || len(in.Sha) != 40 {
		return BuildResult{}, fmt.Errorf("sha %s must be the full 40-character commit sha", ref.Quote(in.Sha))
	}
	short, err := tags.Short(in.Sha, in.ShortLen)
	if err != nil {
		return BuildResult{}, err
	}
	layer, err := artifact.Pack(in.Dir, in.Ignore)
	if err != nil {
		return BuildResult{}, err
	}
	layerDigest, err := layer.Digest()
	if err != nil {
		return BuildResult{}, err
	}
	meta := artifact.Metadata{
		Source:   in.Source,
		Revision: ref.Origin{Ref: in.Ref, Sha: in.Sha}.String(),
		Created:  in.Created,
	}
	list, err := reg.Tags(ctx)
	if err != nil {
		return BuildResult{}, err
	}
	b := &build{reg: reg, in: in, log: log, short: short, layer: layer, layerDigest: layerDigest.String(), meta: meta}
	if tags.NewSet(list).Has(tags.Sha(short)) {
		return b.complete(ctx, list)
	}
	if b.in.Rules.Bump == version.Auto {
		if b.in.Rules.Bump, err = b.autoBump(ctx, list); err != nil {
			return BuildResult{}, err
		}
	}
	return b.allocate(ctx, list)
}

type build struct {
	reg         Registry
	in          BuildInput
	log         *slog.Logger
	short       string
	layer       v1.Layer
	layerDigest string
	meta        artifact.Metadata
}

func (b *build) image(rc string) (v1.Image, *oci.Manifest, error) {
	m := b.meta
	m.Version = rc
	img, err := artifact.Image(b.layer, m)
	if err != nil {
		return nil, nil, err
	}
	man, err := oci.ManifestOf(img)
	return img, man, err
}

func (b *build) result(rc string, m *oci.Manifest, pushed bool, highest string) BuildResult {
	return BuildResult{
		Version: rc, Digest: m.Digest, Short: b.short, Pushed: pushed, DryRun: b.in.DryRun, Highest: highest,
		Tags: []string{rc, tags.Sha(b.short), tags.Integration(b.short)},
	}
}

// complete handles a commit whose sha-<s> exists: check it is this commit's content, then make
// sure its release candidate and integration-<s> point at it.
func (b *build) complete(ctx context.Context, list []string) (BuildResult, error) {
	shaTag := tags.Sha(b.short)
	digest, err := b.reg.Resolve(ctx, shaTag)
	if err != nil {
		return BuildResult{}, err
	}
	m, err := b.reg.Get(ctx, digest)
	if err != nil {
		return BuildResult{}, err
	}
	got := artifact.MetadataFrom(m.Annotations())
	origin, err := ref.ParseOrigin(got.Revision)
	if err != nil || origin.Sha != b.in.Sha {
		return BuildResult{}, fmt.Errorf("%s:%s belongs to another commit (revision %s), not %s: two commits share the short sha %s; raise short_sha_length", b.reg.Name(), shaTag, ref.Quote(got.Revision), b.in.Sha, b.short)
	}
	if m.Parsed == nil || len(m.Parsed.Layers) != 1 || m.Parsed.Layers[0].Digest.String() != b.layerDigest {
		return BuildResult{}, fmt.Errorf("commit %s was already built as %s with different content (this build's layer is %s): the artifact of a commit is immutable; check that path and ignore did not change between runs", b.in.Sha, digest, b.layerDigest)
	}
	rc := got.Version
	if v, ok := version.Parse(rc); !ok {
		return BuildResult{}, fmt.Errorf("%s:%s has no release-candidate version annotation (%s): it was not pushed by build-rc", b.reg.Name(), shaTag, artifact.AnnotationVersion)
	} else if _, _, isRC := version.RC(v); !isRC {
		return BuildResult{}, fmt.Errorf("%s:%s is annotated with version %s, which is not a release candidate", b.reg.Name(), shaTag, ref.Quote(rc))
	}
	res := b.result(rc, m, false, "")
	if b.in.DryRun {
		return res, nil
	}
	set := tags.NewSet(list)
	for _, t := range []string{rc, tags.Integration(b.short)} {
		wrote, err := b.reg.Tag(ctx, t, m, oci.Write{KnownAbsent: !set.Has(t)})
		if err != nil {
			return BuildResult{}, err
		}
		res.Pushed = res.Pushed || wrote
	}
	b.log.Info("commit already built", "version", rc, "digest", m.Digest, "repaired", res.Pushed)
	return res, nil
}

// autoBump reads the release level from the Conventional Commits since the highest stable
// version's commit (from its revision annotation); a version line takes patches only.
func (b *build) autoBump(ctx context.Context, list []string) (version.Bump, error) {
	if b.in.Rules.Line != nil {
		b.log.Info("bump auto inside version line: patch", "line", b.in.Rules.Line.String())
		return version.Patch, nil
	}
	if b.in.Commits == nil {
		return "", errors.New("bump auto needs the commit history of the checkout")
	}
	since := ""
	if h := version.HighestStable(list, nil); h != nil {
		digest, err := b.reg.Resolve(ctx, h.Tag)
		if err != nil {
			return "", err
		}
		m, err := b.reg.Get(ctx, digest)
		if err != nil {
			return "", err
		}
		origin, err := ref.ParseOrigin(artifact.MetadataFrom(m.Annotations()).Revision)
		if err != nil {
			return "", fmt.Errorf("bump auto: stable %s has no commit to count from: %w", h.Tag, err)
		}
		since = origin.Sha
	}
	msgs, err := b.in.Commits(ctx, since)
	if err != nil {
		return "", fmt.Errorf("bump auto: %w", err)
	}
	bump := version.BumpFromCommits(msgs)
	b.log.Info("bump auto", "since", since, "commits", len(msgs), "bump", string(bump))
	return bump, nil
}

// allocate takes the next release-candidate number through the claim protocol.
func (b *build) allocate(ctx context.Context, list []string) (BuildResult, error) {
	attempts := b.in.Attempts
	if attempts <= 0 {
		attempts = 10
	}
	pause := b.in.Pause
	if pause == nil {
		pause = jitteredPause
	}
	for attempt := 1; attempt <= attempts; attempt++ {
		claims := claimsIn(list)
		set := tags.NewSet(list)
		rc, resumed, highest, err := b.choose(ctx, list, claims)
		if err != nil {
			return BuildResult{}, err
		}
		img, m, err := b.image(rc)
		if err != nil {
			return BuildResult{}, err
		}
		if b.in.DryRun {
			return b.result(rc, m, false, highest), nil
		}
		after := list
		if !resumed {
			if _, err := b.reg.Push(ctx, img, tags.Claim(rc, b.short)); err != nil {
				return BuildResult{}, err
			}
			if after, err = b.reg.Tags(ctx); err != nil {
				return BuildResult{}, err
			}
			claims, set = claimsIn(after), tags.NewSet(after)
		}
		if rival := claims.rival(rc, b.short); rival != "" || (set.Has(rc) && !resumed) {
			b.log.Info("release candidate contended, backing off", "version", rc, "rival", rival, "attempt", attempt)
			if err := pause(ctx, attempt); err != nil {
				return BuildResult{}, err
			}
			if list, err = b.reg.Tags(ctx); err != nil {
				return BuildResult{}, err
			}
			continue
		}
		// The release candidate is read before it is written even when the listing lacked it: a
		// registry whose tag list lags behind its writes must not make us move it.
		if _, err := b.reg.Tag(ctx, rc, m, oci.Write{}); err != nil {
			return BuildResult{}, err
		}
		for _, t := range []string{tags.Sha(b.short), tags.Integration(b.short)} {
			if _, err := b.reg.Tag(ctx, t, m, oci.Write{KnownAbsent: !set.Has(t)}); err != nil {
				return BuildResult{}, err
			}
		}
		b.log.Info("release candidate pushed", "version", rc, "digest", m.Digest)
		return b.result(rc, m, true, highest), nil
	}
	return BuildResult{}, fmt.Errorf("%w: gave up after %d attempts in %s; run build-rc in a concurrency group per repository so builds queue instead of racing", ErrContended, attempts, b.reg.Name())
}

// choose returns the release candidate to take: this commit's own earlier claim when a crashed
// run left one (resumed), else the next free number.
func (b *build) choose(ctx context.Context, list []string, claims claimSet) (rc string, resumed bool, highest string, err error) {
	for _, own := range claims.of(b.short) {
		if claims.rival(own, b.short) != "" {
			continue
		}
		_, m, err := b.image(own)
		if err != nil {
			return "", false, "", err
		}
		at, err := b.reg.Resolve(ctx, tags.Claim(own, b.short))
		if err != nil && !errors.Is(err, oci.ErrNotFound) {
			return "", false, "", err
		}
		if at != m.Digest {
			continue // a claim for other content: leave it as a reserved number
		}
		if slices.Contains(list, own) {
			cur, err := b.reg.Resolve(ctx, own)
			if err != nil && !errors.Is(err, oci.ErrNotFound) {
				return "", false, "", err
			}
			if cur != m.Digest {
				continue
			}
		}
		b.log.Info("resuming this commit's claim from an earlier run", "version", own)
		return own, true, "", nil
	}
	rules := b.in.Rules
	rules.Reserved = append(slices.Clone(rules.Reserved), claims.versions()...)
	plan, err := version.NextRC(list, rules)
	if err != nil {
		return "", false, "", err
	}
	return plan.Tag, false, plan.Highest, nil
}

// claimSet maps a release-candidate tag to the short shas that claimed it.
type claimSet map[string][]string

func claimsIn(list []string) claimSet {
	c := claimSet{}
	for _, t := range list {
		if rc, s, ok := tags.ParseClaim(t); ok {
			c[rc] = append(c[rc], s)
		}
	}
	return c
}

// rival is another commit's claim on rc, if any.
func (c claimSet) rival(rc, short string) string {
	for _, s := range c[rc] {
		if s != short {
			return s
		}
	}
	return ""
}

// of lists the release candidates a commit claimed, highest first.
func (c claimSet) of(short string) []string {
	var own []string
	for rc, shas := range c {
		if slices.Contains(shas, short) {
			own = append(own, rc)
		}
	}
	return version.SortTags(own)
}

func (c claimSet) versions() []string {
	out := make([]string, 0, len(c))
	for rc := range c {
		out = append(out, rc)
	}
	slices.Sort(out)
	return out
}
