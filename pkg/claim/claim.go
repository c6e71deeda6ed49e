// Package claim reserves a version tag before it is written, on registries that have no
// compare-and-swap. Every step that writes a version tag other steps may also want — build-rc a
// release candidate X.Y.Z-rc.N, tag-validated and rollback a stable X.Y.Z — first writes a claim
// tag that names the version, the commit and the artifact:
//
//	claim-<version>-<short sha>-<first 12 hex of the manifest digest>
//
// then lists the tags again (Confirm, which waits the settle time below) and looks for a rival:
// another artifact's claim on the same version. On a registry within the listing bound below, of
// two claimants at least one sees the other: two never both proceed, and a version tag is never
// written by two artifacts. Both may back off; they then count each other's claims as taken and
// choose again (Backoff).
//
// Hold records (hold-<n> and hold-<stage>-<n>, package hold) and pass records
// (pass-<stage>-<hex>-<n>, package pass) are claimed the same way, with the record's artifact as
// claimant: claim-hold-<n>-<first 7 hex>-<first 12 hex of the record's digest>.
//
// The protocol needs one assumption of the registry, its listing bound L: a listing made at least
// L after a write was acknowledged shows that write (HEAD and GET by tag may be immediate; only
// tags/list lags). Each claimant decides on a listing made at least L after its own claim was
// listed (Settle: list until the claim shows, wait L, list again), so for two claimants X and Y
// whose claims were written at tX <= tY, Y's deciding listing is made after tY + L >= tX + L and
// shows X's claim: Y backs off. With L = 0 (Settle 0) this is the consistent-registry case, where
// the first listing that shows my claim shows every claim written before it. No way without a
// wait is sound on a distribution registry: the API has no conditional write (RFC 7232
// preconditions were proposed, opencontainers/distribution-spec#251, never adopted), and mutual
// exclusion among an unknown number of writers with only reads and writes needs either the set
// of writers (the listing, which lags) or a bound on time (this L).
//
// The deciding listing need not list the whole repository: it must show every tag the decision
// reads of it, here rival claims (claim-<version>-… for both spellings of the version, with and
// without v, or claim-hold-<n>-…) and what a Take's Check reads (tag-validated: every hold-<n>;
// build-rc: every claim, sha-<s> and integration-<s>).
// A registry that orders its listing lexically and answers GET tags/list?last=T with the tags
// after T (the distribution spec's paging) lists exactly the tags with prefix P from last = P
// without its final '-' (the lowest byte a tag holds after its first) up to the first tag past P:
// the same tags with P as a full listing made then, from the same index, so within the same
// bound L. Such a ranged listing (Take.Ranged) is one request where a full one is a page per 100
// tags on GHCR. It is used only where oci.Repository.TagsWith has seen the registry list in
// lexical order and answer last as asked, and checks every answer; anywhere else the
// confirmation lists every tag, as before.
//
// A claim tag is written by one artifact only (its name holds the artifact's digest), so writing
// it never moves anything. Flux ignores it: it is not a version. A claim left by a run that
// crashed is taken up again by that run's re-run; everyone else treats it as taken.
package claim

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/Masterminds/semver/v3"

	"github.com/ocipromote/ocipromote/pkg/oci"
	"github.com/ocipromote/ocipromote/pkg/ref"
	"github.com/ocipromote/ocipromote/pkg/stage"
	"github.com/ocipromote/ocipromote/pkg/version"
)

// Prefix starts every claim tag.
const Prefix = "claim-"

// digestLen is how many hex characters of the manifest digest a claim tag carries: enough that
// two artifacts of one commit never share a claim tag name, short enough for the 128-character
// tag limit with a 40-character short sha.
const digestLen = 12

// Claim is one claim tag: Version (a release-candidate or stable tag, prefix included, or a hold
// record tag hold-<n>) reserved for the artifact whose digest starts with Digest (hex, digestLen
// long), built from commit Short (for a hold record: the start of its digest).
type Claim struct {
	Version string
	Short   string
	Digest  string
	v       *semver.Version
}

// New is the claim of version for the artifact with manifest digest (sha256:<hex>) of commit short.
func New(version, short, digest string) (Claim, error) {
	hex, ok := strings.CutPrefix(digest, "sha256:")
	if !ok || len(hex) < digestLen || !ref.IsHex(hex) {
		return Claim{}, fmt.Errorf("claim %s: %q is not a sha256 digest", version, digest)
	}
	c, ok := Parse(Prefix + version + "-" + short + "-" + hex[:digestLen])
	if !ok {
		return Claim{}, fmt.Errorf("cannot claim %q for commit %q: not a version and a short sha", version, short)
	}
	return c, nil
}

// RecordPrefix starts the numbered records claimed like versions: hold-<n> (package hold).
const RecordPrefix = "hold-"

// PassPrefix starts the pass records (package pass), claimed like hold records.
const PassPrefix = "pass-"

// NewRecord is the claim of a record tag (hold-<n>, hold-<stage>-<n> or pass-<stage>-<hex>-<n>)
// for the record artifact with manifest digest.
func NewRecord(tag, digest string) (Claim, error) {
	hex, ok := strings.CutPrefix(digest, "sha256:")
	if !ok || len(hex) < digestLen || !ref.IsHex(hex) {
		return Claim{}, fmt.Errorf("claim %s: %q is not a sha256 digest", tag, digest)
	}
	c, ok := Parse(Prefix + tag + "-" + hex[:7] + "-" + hex[:digestLen])
	if !ok || c.v != nil {
		return Claim{}, fmt.Errorf("cannot claim %q: not a record tag (%s<n>, %s<stage>-<n> or %s<stage>-<hex>-<n>)", tag, RecordPrefix, RecordPrefix, PassPrefix)
	}
	return c, nil
}

// isRecord reports whether name is a record tag: a hold record of the last stage (hold-<n>) or
// of another stage (hold-<stage>-<n>), or a pass record (pass-<stage>-<12 hex>-<n>), n a positive
// decimal without leading zeros. Stage names have no '-' (package stage), so each form reads
// one way only.
func isRecord(name string) bool {
	parts := strings.Split(name, "-")
	if !positive(parts[len(parts)-1]) {
		return false
	}
	switch {
	case parts[0]+"-" == RecordPrefix && len(parts) == 2:
		return true
	case parts[0]+"-" == RecordPrefix && len(parts) == 3:
		return stage.ValidName(parts[1]) == nil
	case parts[0]+"-" == PassPrefix && len(parts) == 4:
		return stage.ValidName(parts[1]) == nil && len(parts[2]) == digestLen && ref.IsHex(parts[2])
	}
	return false
}

// positive reports whether s is a positive decimal without leading zeros, of at most 20 digits.
func positive(s string) bool {
	return s != "" && s[0] != '0' && len(s) <= 20 && strings.Trim(s, "0123456789") == ""
}

// Parse reads a claim tag.
func Parse(tag string) (Claim, bool) {
	rest, ok := strings.CutPrefix(tag, Prefix)
	if !ok {
		return Claim{}, false
	}
	i := strings.LastIndexByte(rest, '-')
	if i <= 0 || len(rest)-i-1 != digestLen || !ref.IsHex(rest[i+1:]) {
		return Claim{}, false
	}
	digest := rest[i+1:]
	rest = rest[:i]
	j := strings.LastIndexByte(rest, '-')
	if j <= 0 || len(rest)-j-1 < 4 || !ref.IsHex(rest[j+1:]) {
		return Claim{}, false
	}
	v, ok := version.Parse(rest[:j])
	if !ok && !isRecord(rest[:j]) {
		return Claim{}, false
	}
	return Claim{Version: rest[:j], Short: rest[j+1:], Digest: digest, v: v}, true
}

// Tag is the claim's tag name.
func (c Claim) Tag() string { return Prefix + c.Version + "-" + c.Short + "-" + c.Digest }

// Of reports whether the claim is for the artifact with manifest digest d.
func (c Claim) Of(d string) bool {
	hex, _ := strings.CutPrefix(d, "sha256:")
	return strings.HasPrefix(hex, c.Digest) && c.Digest != ""
}

// Stable reports whether the claimed version is a stable version (no pre-release).
func (c Claim) Stable() bool { return c.v != nil && version.IsStable(c.v) }

// SemVer is the claimed version.
func (c Claim) SemVer() *semver.Version { return c.v }

// RivalPrefixes are the prefixes of every tag that may be a claim on c's version or record, c's
// own included: claim-<version>- with the version spelled without and with a v (v1.0.0 and 1.0.0
// are one version, and a tag holds neither build metadata nor another spelling of a strict
// semantic version), or claim-<record tag>-. A prefix may also match claims on other versions
// (claim-1.0.0- matches claim-1.0.0-rc.1-…); Rival tells them apart.
func (c Claim) RivalPrefixes() []string {
	if c.v == nil {
		return []string{Prefix + c.Version + "-"}
	}
	plain := c.v.String()
	return []string{Prefix + plain + "-", Prefix + "v" + plain + "-"}
}

// same is true for claims by one claimant: one artifact of one commit.
func (c Claim) same(o Claim) bool { return c.Short == o.Short && c.Digest == o.Digest }

// Record reports whether the claim is on a record tag (a hold or pass record) rather than a version.
func (c Claim) Record() bool { return c.v == nil }

// sameName is true for claims on one version (v1.0.0 and 1.0.0 are one, as for Flux) or one record.
func (c Claim) sameName(o Claim) bool {
	if c.v == nil || o.v == nil {
		return c.v == nil && o.v == nil && c.Version == o.Version
	}
	return c.v.Equal(o.v)
}

// Set is the claims found in a tag list.
type Set []Claim

// In finds the claims on versions in a tag list.
func In(list []string) Set {
	return All(list).Filter(func(c Claim) bool { return !c.Record() })
}

// All finds every claim in a tag list: on versions and on records.
func All(list []string) Set {
	var s Set
	for _, t := range list {
		if c, ok := Parse(t); ok {
			s = append(s, c)
		}
	}
	return s
}

// Rival returns another claimant's claim on self's version or record.
func (s Set) Rival(self Claim) (Claim, bool) {
	for _, c := range s {
		if !c.same(self) && c.sameName(self) {
			return c, true
		}
	}
	return Claim{}, false
}

// Has reports whether the set holds exactly this claim.
func (s Set) Has(self Claim) bool {
	return slices.ContainsFunc(s, func(c Claim) bool { return c.Tag() == self.Tag() })
}

// Sorted returns the claims highest version first.
func (s Set) Sorted() Set {
	out := slices.Clone(s)
	slices.SortStableFunc(out, func(a, b Claim) int { return b.v.Compare(a.v) })
	return out
}

// Filter returns the claims for which keep is true.
func (s Set) Filter(keep func(Claim) bool) Set {
	var out Set
	for _, c := range s {
		if keep(c) {
			out = append(out, c)
		}
	}
	return out
}

// Unwritten returns the claims on stable versions that no tag of list has yet (v1.0.0 and 1.0.0
// being one version): promotions under way, or ones that backed off. Each counts as its version
// taken.
func (s Set) Unwritten(list []string) Set {
	written := map[string]bool{}
	for _, tv := range version.Versions(list) {
		if version.IsStable(tv.Version) {
			written[tv.Version.String()] = true
		}
	}
	return s.Filter(func(c Claim) bool { return c.Stable() && !written[c.v.String()] })
}

// Tags are the claim tags.
func (s Set) Tags() []string {
	out := make([]string, 0, len(s))
	for _, c := range s {
		out = append(out, c.Tag())
	}
	return out
}

// Versions are the claimed version tags.
func (s Set) Versions() []string {
	out := make([]string, 0, len(s))
	for _, c := range s {
		out = append(out, c.Version)
	}
	return out
}

// Registry lists tags; *oci.Repository implements it.
type Registry interface {
	Name() string
	Tags(ctx context.Context) ([]string, error)
}

// RangeLister lists only the tags that start with one of prefixes, all of them (what a full
// listing filtered by the prefixes would show); *oci.Repository implements it.
type RangeLister interface {
	TagsWith(ctx context.Context, prefixes ...string) ([]string, error)
}

// Writer also reads and writes tags; *oci.Repository implements it.
type Writer interface {
	Registry
	Resolve(ctx context.Context, tag string) (string, error)
	Tag(ctx context.Context, tag string, m *oci.Manifest, w oci.Write) (bool, error)
}

// Take is one claimant's attempt at a version: claim it, then write it.
type Take struct {
	// Claim names the version, the commit and the artifact; Manifest is the artifact's.
	Claim    Claim
	Manifest *oci.Manifest
	// WriteClaim writes the claim tag; nil writes Manifest under it with one manifest PUT, for an
	// artifact whose blobs are in the repository already.
	WriteClaim func(ctx context.Context) error
	// Check, when set, looks at the listing that confirms the claim before the version is written:
	// a contended answer stops the attempt with nothing more written.
	Check func(ctx context.Context, after []string) (contended, err error)
	// Settle is the registry's listing bound L (see the package comment): the decision waits for
	// a listing made Settle after the claim was first listed. 0 for a registry whose listing shows
	// every write at once.
	Settle time.Duration
	// Ranged confirms the claim on a listing of only the tags the decision reads, rival claims
	// (RivalPrefixes) and CheckReads, where the registry lists by range (RangeLister; see the
	// package comment): Taken.After then holds only those. Unset, the claim is confirmed on a
	// full listing.
	Ranged bool
	// CheckReads are the prefixes of every tag Check reads in the listing it is given (Ranged).
	CheckReads []string
}

// Taken is what an attempt did.
type Taken struct {
	// After is the listing the attempt decided on: the one that confirmed its claim (with
	// Take.Ranged, possibly of the claim's and Check's prefixes only), or the listing it was
	// given when the claim was in it already (an earlier run's).
	After []string
	// Wrote is true when this attempt wrote the version tag (false when it was the artifact's
	// already).
	Wrote bool
	// Contended says why the attempt stopped without the version: a rival's claim, Check's
	// answer, or the version at another artifact (an *oci.ConflictError). Nothing but the claim
	// was written then; the caller decides again.
	Contended error
}

// Run makes the attempt, on list, a listing made before it. The version tag is read right before
// it is written and read back after: a writer that does not claim (another tool, a person) is
// caught rather than overwritten, and a lost race is contended.
//
// The read before the write is not sent beside the confirming listing, though that would save a
// round trip: between a read and the write it allows, a write by anyone who does not see our
// claim (a writer that does not claim, or a rival whose claim lags past settle) is overwritten
// unseen, and that window would grow by the listing's time. Under the listing bound a rival never
// writes there, but the read is the guard for when the bound is broken, so it stays right
// before the write.
func (t Take) Run(ctx context.Context, reg Writer, list []string, pause Pause) (Taken, error) {
	res := Taken{After: list}
	if !All(list).Has(t.Claim) {
		var err error
		if t.WriteClaim != nil {
			err = t.WriteClaim(ctx)
		} else {
			_, err = reg.Tag(ctx, t.Claim.Tag(), t.Manifest, oci.Write{KnownAbsent: true, Listed: true})
		}
		if err != nil {
			return Taken{}, err
		}
		if res.After, err = listed(ctx, reg.Name(), t.lister(reg), []string{t.Claim.Tag()}, t.Settle, pause); err != nil {
			return Taken{}, err
		}
	}
	if t.Check != nil {
		contended, err := t.Check(ctx, res.After)
		if err != nil || contended != nil {
			res.Contended = contended
			return res, err
		}
	}
	if rival, ok := All(res.After).Rival(t.Claim); ok {
		res.Contended = fmt.Errorf("%s claims %s for commit %s", rival.Tag(), t.Claim.Version, rival.Short)
		return res, nil
	}
	wrote, err := reg.Tag(ctx, t.Claim.Version, t.Manifest, oci.Write{})
	if errors.Is(err, oci.ErrTagConflict) {
		res.Contended = err
		return res, nil
	}
	res.Wrote = wrote
	return res, err
}

// lister is how the attempt lists to confirm its claim: by range when asked and reg can.
func (t Take) lister(reg Registry) func(ctx context.Context) ([]string, error) {
	rl, ok := reg.(RangeLister)
	if !t.Ranged || !ok {
		return reg.Tags
	}
	prefixes := append(t.Claim.RivalPrefixes(), t.CheckReads...)
	return func(ctx context.Context) ([]string, error) { return rl.TagsWith(ctx, prefixes...) }
}

// Pause waits between attempts; tests replace it.
type Pause func(ctx context.Context, attempt int) error

// JitteredPause spreads concurrent claimants apart so that they stop colliding.
func JitteredPause(ctx context.Context, attempt int) error {
	return wait(ctx, time.Duration(50+rand.IntN(200*attempt))*time.Millisecond)
}

// wait sleeps for d, or until ctx ends.
func wait(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Backoff waits before a claimant decides again after contention: pause, then, with a settle
// time, a random wait of up to 2 × settle × attempt. Claimants that saw each other all back off
// and would collide again on the next version; one of them gets it only once it claims about a
// settle time (its deciding listing) after the others, so the spread must scale with settle, or
// concurrent claimants stay in step until they give up.
func Backoff(ctx context.Context, attempt int, settle time.Duration, pause Pause) error {
	if err := pause(ctx, attempt); err != nil || settle <= 0 {
		return err
	}
	return wait(ctx, time.Duration(rand.Int64N(int64(2*settle)*int64(attempt))))
}

// confirmAttempts bounds how often Listed lists while the registry's listing lags behind the
// tags just written.
const confirmAttempts = 5

// ErrNotListed is returned when the registry's tag list never showed a tag just written.
var ErrNotListed = errors.New("the registry's tag list does not show a tag just written")

// ErrLagOverSettle is returned when a listing made the settle time after a write was first
// listed no longer shows it: the registry's listing lags more than the settle time, which the
// claim protocol assumes it does not.
var ErrLagOverSettle = errors.New("the registry's tag list lags behind writes by more than the settle time")

// Confirm lists the tags after self was written until a listing made settle after the first one
// that showed it (Listed): only such a listing is sure to show every rival claim written before
// ours, which is what makes the protocol safe (see the package comment).
func Confirm(ctx context.Context, reg Registry, self Claim, settle time.Duration, pause Pause) ([]string, error) {
	return Listed(ctx, reg, []string{self.Tag()}, settle, pause)
}

// Listed returns a listing made settle after the first listing that showed every tag of written
// (Shown), which must still show them (else ErrLagOverSettle): a decision made on it sees every
// write acknowledged settle or more before it, on a registry within that bound.
func Listed(ctx context.Context, reg Registry, written []string, settle time.Duration, pause Pause) ([]string, error) {
	return listed(ctx, reg.Name(), reg.Tags, written, settle, pause)
}

// listed is Listed with the listing made by list.
func listed(ctx context.Context, name string, list func(context.Context) ([]string, error), written []string, settle time.Duration, pause Pause) ([]string, error) {
	tags, err := shown(ctx, name, list, written, settle, pause)
	if err != nil || settle <= 0 {
		return tags, err
	}
	if err := wait(ctx, settle); err != nil {
		return nil, err
	}
	if tags, err = list(ctx); err != nil {
		return nil, err
	}
	if missing := missingFrom(tags, written); len(missing) != 0 {
		return nil, fmt.Errorf("%w: %s listed %s, then %s later did not; raise settle above the registry's listing lag and run the step again (nothing else was written)", ErrLagOverSettle, name, strings.Join(missing, ","), settle)
	}
	return tags, nil
}

// Shown lists the tags until a listing shows every tag of written, pausing between listings, and
// returns that listing. It gives up with ErrNotListed after confirmAttempts listings and at least
// within (the registry's listing bound, within which a registry that keeps it lists them).
func Shown(ctx context.Context, reg Registry, written []string, within time.Duration, pause Pause) ([]string, error) {
	return shown(ctx, reg.Name(), reg.Tags, written, within, pause)
}

// shown is Shown with the listing made by list.
func shown(ctx context.Context, name string, list func(context.Context) ([]string, error), written []string, within time.Duration, pause Pause) ([]string, error) {
	if pause == nil {
		pause = JitteredPause
	}
	start := time.Now()
	for attempt := 1; ; attempt++ {
		// The bound is on when a listing is asked for: one asked within of the write shows it.
		asked := time.Now()
		tags, err := list(ctx)
		if err != nil {
			return nil, err
		}
		missing := missingFrom(tags, written)
		if len(missing) == 0 {
			return tags, nil
		}
		if attempt >= confirmAttempts && asked.Sub(start) >= within {
			return nil, fmt.Errorf("%w: %s:%s was written but is still missing from the listing after %d listings in %s (settle %s); nothing else was written, run the step again, with a larger settle if the registry lags more", ErrNotListed, name, strings.Join(missing, ","), attempt, time.Since(start).Round(time.Millisecond), within)
		}
		if err := pause(ctx, attempt); err != nil {
			return nil, err
		}
	}
}

// missingFrom returns the tags of written that list lacks.
func missingFrom(list, written []string) []string {
	set := make(map[string]bool, len(list))
	for _, t := range list {
		set[t] = true
	}
	var missing []string
	for _, t := range written {
		if !set[t] {
			missing = append(missing, t)
		}
	}
	return missing
}
