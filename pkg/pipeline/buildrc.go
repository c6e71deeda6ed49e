package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/sync/errgroup"

	"github.com/ocipromote/ocipromote/pkg/artifact"
	"github.com/ocipromote/ocipromote/pkg/claim"
	"github.com/ocipromote/ocipromote/pkg/oci"
	"github.com/ocipromote/ocipromote/pkg/ref"
	"github.com/ocipromote/ocipromote/pkg/stage"
	"github.com/ocipromote/ocipromote/pkg/tags"
	"github.com/ocipromote/ocipromote/pkg/version"
)

// BuildInput is what build-rc needs besides the registry.
type BuildInput struct {
	Dir    string
	Ignore []string
	// AllowEmpty packs a directory with no file in it (see artifact.ErrEmpty).
	AllowEmpty bool
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
	// Settle is the registry's listing bound (package claim): the build decides on its claim on a
	// listing made this long after the claim was first listed.
	Settle time.Duration
	// Sign, when set, signs the artifact's manifest digest (build-rc's input sign). It is called
	// before the release-candidate tag is written, so integration never selects an unsigned
	// candidate, and again for a commit already built, so a re-run repairs a missing signature;
	// it must write nothing when the signature is already there.
	Sign func(ctx context.Context, digest string) error
	Log  *slog.Logger
	// Stages is the chain of stages (zero: the default, integration and live): the build is
	// offered to its first stage, marked <first>-<s> (integration-<s> by default).
	Stages stage.Chain
	// Ready, when set, is waited for once the directory is packed, before anything is decided or
	// written: an error stops the build with nothing written (build-rc checks the checkout with
	// git there, while the directory is packed and the repository listed).
	Ready func() error
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
	// AlreadyBuilt is true when sha-<s> existed: the commit's artifact is the one reported.
	AlreadyBuilt bool
	DryRun       bool
	// Highest is the highest stable version the candidate was planned from ("" for none).
	Highest string
	// Signed is true when Sign ran and the artifact is signed.
	Signed bool
}

// ErrContended is returned when concurrent builds kept taking the numbers this build tried.
var ErrContended = errors.New("release-candidate numbers kept being taken by concurrent builds")

// BuildRC offers the commit's manifests as the next release candidate. The write order makes
// every crash repairable by a re-run:
//
//  1. the claim on <rc> (package claim): the manifest, under a tag only this artifact writes;
//  2. list again until the listing shows the claim: if another artifact claimed the same <rc>,
//     back off to the next number (two builds can both back off, never both proceed); if another
//     artifact of this commit has a claim, stop (two runs build the commit with different inputs);
//  3. <rc> (read before and after: a lost race backs off too), then sha-<s> and integration-<s>.
//
// A re-run finds sha-<s> (done: report it, complete integration-<s>) or its own claim (resume
// with the same number while its base is still current), so it converges on what a clean run
// would have written.
func BuildRC(ctx context.Context, reg Registry, in BuildInput) (BuildResult, error) {
	log := logger(in.Log)
	// The revision and source annotations must read back as written: a ref the revision parser
	// refuses would leave an artifact that tag-validated can never promote.
	origin, err := ref.NewOrigin(in.Ref, in.Sha)
	if err != nil {
		return BuildResult{}, err
	}
	if _, err := ref.SourceURL(in.Source); err != nil {
		return BuildResult{}, err
	}
	short, err := tags.Short(in.Sha, in.ShortLen)
	if err != nil {
		return BuildResult{}, err
	}
	// The repository is listed while the directory is packed: neither needs the other, and the
	// listing's round trips then cost no time of their own. A packing error is reported first
	// (it is the caller's to fix) and ends the listing. Beside it go the two upload sessions.
	if !in.DryRun {
		together(reg, 3)
	}
	listCtx, stopListing := context.WithCancel(ctx)
	defer stopListing()
	type listing struct {
		tags []string
		err  error
	}
	listed := make(chan listing, 1)
	go func() {
		l, err := reg.Tags(listCtx)
		listed <- listing{l, err}
	}()
	// The config's and the layer's upload sessions open while the directory is packed too: the
	// claim's push then sends each blob with one PUT. Those it did not need (the registry had the
	// blobs, the commit was built, the build refused) are cancelled; a dry run opens none.
	var uploads *oci.Uploads
	if !in.DryRun {
		uploads = reg.PrepareUploads(ctx, 2)
		defer uploads.End(ctx)
	}
	layer, err := artifact.PackWith(in.Dir, artifact.Options{Ignore: in.Ignore, AllowEmpty: in.AllowEmpty, Log: log})
	if err != nil {
		return BuildResult{}, err
	}
	layerDigest, err := layer.Digest()
	if err != nil {
		return BuildResult{}, err
	}
	if in.Ready != nil {
		if err := in.Ready(); err != nil {
			return BuildResult{}, err
		}
	}
	meta := artifact.Metadata{
		Source:   in.Source,
		Revision: origin.String(),
		Created:  in.Created,
	}
	if in.Rules.Line != nil {
		meta.Line = in.Rules.Line.String()
	}
	l := <-listed
	if l.err != nil {
		return BuildResult{}, l.err
	}
	list := l.tags
	b := &build{reg: reg, in: in, log: log, short: short, layer: layer, layerDigest: layerDigest.String(), meta: meta, uploads: uploads}
	if tags.NewSet(list).Has(tags.Sha(short)) {
		uploads.Release(ctx) // nothing to upload
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
	// uploads are the sessions opened while packing, released after the first push.
	uploads *oci.Uploads
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
		Tags: []string{rc, tags.Sha(b.short), b.offered()},
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
	res.AlreadyBuilt = true
	if b.in.DryRun {
		return res, nil
	}
	if res.Signed, err = b.sign(ctx, m.Digest); err != nil {
		return BuildResult{}, err
	}
	set := tags.NewSet(list)
	for _, t := range []string{rc, b.offered()} {
		wrote, err := b.reg.Tag(ctx, t, m, oci.Write{KnownAbsent: !set.Has(t)})
		if err != nil {
			return BuildResult{}, err
		}
		res.Pushed = res.Pushed || wrote
	}
	if res.Pushed {
		// The step's own line says the commit was built; only the repair is news.
		b.log.Info("completed the tags of a commit built by an earlier run", "version", rc, "digest", m.Digest)
	}
	return res, nil
}

// sign signs digest when the build signs; it reports whether it did.
func (b *build) sign(ctx context.Context, digest string) (bool, error) {
	if b.in.Sign == nil {
		return false, nil
	}
	if err := b.in.Sign(ctx, digest); err != nil {
		return false, fmt.Errorf("sign %s: %w; run build-rc again: it signs the candidate before it writes its release-candidate tag", digest, err)
	}
	return true, nil
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
		pause = claim.JitteredPause
	}
	for attempt := 1; attempt <= attempts; attempt++ {
		if attempt > 1 {
			if err := claim.Backoff(ctx, attempt-1, b.in.Settle, pause); err != nil {
				return BuildResult{}, err
			}
			var err error
			if list, err = b.reg.Tags(ctx); err != nil {
				return BuildResult{}, err
			}
		}
		rc, highest, err := b.choose(ctx, list)
		if err != nil {
			return BuildResult{}, err
		}
		if err := b.unshadowed(list, rc); err != nil {
			return BuildResult{}, err
		}
		img, m, err := b.image(rc)
		if err != nil {
			return BuildResult{}, err
		}
		if b.in.DryRun {
			return b.result(rc, m, false, highest), nil
		}
		var signed bool
		cl, err := claim.New(rc, b.short, m.Digest)
		if err != nil {
			return BuildResult{}, err
		}
		// The claim is the artifact's first write: its push uploads the blobs too. The listing
		// that confirms it is read for claims (rivals, and this commit's own) and for sha-<s> and
		// integration-<s>: on a registry that lists by range it lists those alone (package claim).
		took, err := claim.Take{
			Claim: cl, Manifest: m, Settle: b.in.Settle,
			WriteClaim: func(ctx context.Context) error {
				_, err := b.reg.Push(ctx, img, cl.Tag())
				b.uploads.Release(ctx)
				return err
			},
			// The claim is confirmed and the release-candidate tag not yet written: sign here,
			// before integration can select the candidate.
			Check: func(ctx context.Context, after []string) (error, error) {
				if _, err := b.ownClaims(claim.In(after)); err != nil {
					return nil, err
				}
				var err error
				signed, err = b.sign(ctx, m.Digest)
				return nil, err
			},
			Ranged: true, CheckReads: []string{claim.Prefix, tags.Sha(b.short), b.offered()},
		}.Run(ctx, b.reg, list, pause)
		if err != nil {
			return BuildResult{}, err
		}
		if took.Contended != nil {
			b.log.Info("release candidate contended, backing off", "version", rc, "why", took.Contended, "attempt", attempt)
			continue
		}
		set := tags.NewSet(took.After)
		g, gctx := errgroup.WithContext(ctx)
		for _, t := range []string{tags.Sha(b.short), b.offered()} {
			g.Go(func() error {
				_, err := b.reg.Tag(gctx, t, m, oci.Write{KnownAbsent: !set.Has(t)})
				return err
			})
		}
		if err := g.Wait(); err != nil {
			return BuildResult{}, err
		}
		res := b.result(rc, m, true, highest)
		res.Signed = signed
		return res, nil
	}
	return BuildResult{}, fmt.Errorf("%w: gave up after %d attempts in %s; run build-rc in a concurrency group per repository so builds queue instead of racing", ErrContended, attempts, b.reg.Name())
}

// ErrShadowed is returned, before anything is written, when tags the pipeline did not write would
// be selected by integration over the new candidate.
var ErrShadowed = errors.New("foreign tags would shadow the new release candidate")

// unshadowed refuses a candidate that integration's selection would never pick. Numbering above
// the foreign tags instead would let any tag pushed into the repository move the release line:
// no X.Y.Z-rc.N of its base outranks 0.5.0-rc1 or 0.0.9-rc.1-hotfix, so the candidate would
// become 0.5.1-rc.1 or 0.0.10-rc.1, and live would skip versions nobody chose. Refusing names the
// tags and lets a person decide.
func (b *build) unshadowed(list []string, rc string) error {
	chain := chainOr(b.in.Stages)
	first := chain.First()
	sel, err := chain.Selection(first)
	if err != nil {
		return err
	}
	shadow, err := chain.Shadowing(list, first, rc)
	if err != nil || len(shadow) == 0 {
		return err
	}
	return fmt.Errorf("%w: %s in %s look like release candidates and rank at or above %s, so the %s selection (semver %s, semverFilter %s) would keep picking them and never this build; nothing was written. "+
		"Delete or rename them (they are not X.Y.Z-rc.N tags this pipeline writes), or push the other tool's artifacts to another repository, then run build-rc again",
		ErrShadowed, strings.Join(shadow, ", "), b.reg.Name(), rc, first, sel.Semver, sel.SemverFilter)
}

// offered is the marker of the first stage for this build: integration-<s> in the default chain.
func (b *build) offered() string {
	chain := chainOr(b.in.Stages)
	p, _ := chain.MarkerPrefix(chain.First())
	return p + b.short
}

// ErrConflictingBuild is returned when another artifact of the same commit holds a claim: the
// commit is being built with other inputs by another run, or two commits share the short sha.
var ErrConflictingBuild = errors.New("another artifact of this commit is being offered")

func (b *build) conflicting(other claim.Claim) error {
	return fmt.Errorf("%w: %s:%s claims %s for commit %s with other content (artifact sha256:%s…), so sha-%s and integration-%s cannot be written for this build: "+
		"another run is building this commit with a different ref, path or ignore list (run one build per commit, with the same inputs), "+
		"or a run with other inputs crashed (run it again with its inputs), or two commits share the short sha %s (raise short_sha_length)",
		ErrConflictingBuild, b.reg.Name(), other.Tag(), other.Version, b.in.Sha, other.Digest, b.short, b.short, b.short)
}

// ownClaims returns this artifact's release-candidate claims. A claim by this commit's short sha
// for other content is ErrConflictingBuild: neither artifact may take the commit's tags.
func (b *build) ownClaims(claims claim.Set) (claim.Set, error) {
	var mine claim.Set
	for _, c := range claims {
		if c.Short != b.short || c.Stable() {
			continue
		}
		_, m, err := b.image(c.Version)
		if err != nil {
			return nil, err
		}
		if !c.Of(m.Digest) {
			return nil, b.conflicting(c)
		}
		mine = append(mine, c)
	}
	return mine, nil
}

// choose returns the release candidate to take: this artifact's own claim when an earlier run
// left one and its base is still the one a new plan would take, else the next free number.
// Other artifacts' claims count as taken numbers.
func (b *build) choose(ctx context.Context, list []string) (rc, highest string, err error) {
	claims := claim.In(list)
	mine, err := b.ownClaims(claims)
	if err != nil {
		return "", "", err
	}
	others := claims.Filter(func(c claim.Claim) bool { return !c.Stable() && c.Short != b.short })
	rules := b.in.Rules
	rules.Reserved = append(slices.Clone(rules.Reserved), others.Versions()...)
	plan, err := version.NextRC(list, rules)
	if err != nil {
		return "", "", err
	}
	for _, c := range mine.Sorted() {
		if _, rival := claims.Rival(c); rival {
			continue
		}
		if base, _, _ := version.RC(c.SemVer()); base.LessThan(plan.Base) {
			continue // its base was released meanwhile: the number stays reserved, unused
		}
		if slices.Contains(list, c.Version) {
			cur, err := b.reg.Resolve(ctx, c.Version)
			if err != nil && !errors.Is(err, oci.ErrNotFound) {
				return "", "", err
			}
			if !c.Of(cur) {
				continue // someone wrote the number without claiming it: leave it to them
			}
		}
		b.log.Info("resuming this commit's claim from an earlier run", "version", c.Version)
		return c.Version, "", nil
	}
	return plan.Tag, plan.Highest, nil
}
