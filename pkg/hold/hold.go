// Package hold lets operators take live, or any stage, out of the pipeline's hands. A hold stops automatic
// promotion (tag-validated and dispatch-receiver answer "held" and write nothing) until it is
// released; a rollback puts live back on a known-good artifact and sets a hold, so that a late
// validation event cannot promote past it.
//
// The hold lives in the registry, like every other piece of the pipeline's state, and needs
// neither tag deletion nor a moved tag: each change appends a record, an artifact tagged
// hold-<n> with n one more than the highest written or claimed so far, and the record with the
// highest n is the current state. Record numbers are claimed like versions (package claim), so
// two concurrent changes never write one hold-<n>. Flux ignores hold-<n> tags (they are not versions) and prune never removes them.
//
// With a chain of stages (package stage), each stage has its own hold, a change freeze on
// promotions into it: the last (stable) stage keeps the hold-<n> records above, so the default
// chain's hold is today's, and every other stage s has records hold-<s>-<n>, numbered, claimed
// and read the same way but apart (Stage). A stage name has no '-' and starts with a letter, so
// no tag is a record of two stages.
package hold

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/ocipromote/ocipromote/pkg/artifact"
	"github.com/ocipromote/ocipromote/pkg/claim"
	"github.com/ocipromote/ocipromote/pkg/oci"
	"github.com/ocipromote/ocipromote/pkg/ref"
	"github.com/ocipromote/ocipromote/pkg/stage"
)

// TagPrefix starts every hold record tag: hold-1, hold-2, …
const TagPrefix = "hold-"

// ConfigMediaType marks a hold record: it is the media type of the record's config blob, which
// holds the record as JSON. The same fields are manifest annotations, so reading a record is one
// manifest GET.
const ConfigMediaType = "application/vnd.ocipromote.hold.v1+json"

// The annotations of a hold record's manifest.
const (
	AnnotationState  = "org.ocipromote.hold.state"
	AnnotationReason = "org.ocipromote.hold.reason"
	AnnotationActor  = "org.ocipromote.hold.actor"
	AnnotationDigest = "org.ocipromote.hold.digest"
	AnnotationSha    = "org.ocipromote.hold.sha"
)

// The states a record sets.
const (
	On  = "on"
	Off = "off"
)

// Record is one change of the hold.
type Record struct {
	// State is On or Off.
	State  string    `json:"state"`
	Reason string    `json:"reason"`
	Actor  string    `json:"actor"`
	Time   time.Time `json:"time"`
	// Digest and Sha name the artifact live was rolled back to, for a hold set by a rollback.
	Digest string `json:"digest,omitempty"`
	Sha    string `json:"sha,omitempty"`
}

// State is the current hold: the record with the highest hold-<n> tag.
type State struct {
	Record
	// Tag is the record's tag; "" when no hold was ever set.
	Tag string `json:"tag,omitempty"`
}

// The bounds of a record's free text. Every promotion log and job summary prints the reason and
// the actor (State.Describe), so each is one short line.
const (
	MaxReason = 500
	MaxActor  = 100
)

// Check refuses a record's reason or actor that is not one line of printable characters within
// MaxReason and MaxActor characters: text that could start a line of its own in a log (such as a
// workflow command, ::error::) or swamp it. Records are checked before they are written; records
// read back are cleaned anyway (see Read), since anyone who can write to the registry can write one.
func (r Record) Check() error {
	for _, f := range []struct {
		name, value, what string
		max               int
	}{
		{"reason", r.Reason, "say why in one line, and link the incident or ticket for the details", MaxReason},
		{"actor", r.Actor, "give the user name of whoever does this", MaxActor},
	} {
		if !utf8.ValidString(f.value) {
			return fmt.Errorf("%s %s is not valid UTF-8: %s", f.name, ref.Quote(f.value), f.what)
		}
		for _, c := range f.value {
			if !unicode.IsPrint(c) {
				return fmt.Errorf("%s %s has a line break or another unprintable character (%U); it must be one line of printable characters: %s", f.name, ref.Quote(f.value), c, f.what)
			}
		}
		if n := utf8.RuneCountInString(f.value); n > f.max {
			return fmt.Errorf("%s %s is %d characters, over the limit of %d: %s", f.name, ref.Quote(f.value), n, f.max, f.what)
		}
	}
	return nil
}

// cleanText makes free text read from a record safe to print on one line: only its first line is
// kept, without unprintable characters, and at most max characters of it.
func cleanText(s string, max int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if i := strings.IndexFunc(s, isLineBreak); i >= 0 {
		s = s[:i]
	}
	s = strings.Map(func(c rune) rune {
		if unicode.IsPrint(c) {
			return c
		}
		return -1
	}, s)
	if r := []rune(s); len(r) > max {
		s = string(r[:max-1]) + "…"
	}
	return strings.TrimSpace(s)
}

func isLineBreak(c rune) bool {
	switch c {
	case '\n', '\r', '\v', '\f', '\u0085', '\u2028', '\u2029':
		return true
	}
	return false
}

// Held reports whether automatic promotion is stopped.
func (s State) Held() bool { return s.State == On }

// Describe is a sentence for people: what the hold is and who set it when.
func (s State) Describe() string {
	if s.Tag == "" {
		return "no hold was ever set"
	}
	verb := "set"
	if !s.Held() {
		verb = "released"
	}
	d := fmt.Sprintf("hold %s by %s at %s (%s)", verb, s.Actor, s.Time.UTC().Format(time.RFC3339), s.Tag)
	if s.Reason != "" {
		d += ": " + s.Reason
	}
	return d
}

// Stage is the stage a hold is on, as its records spell it. The zero value, Last, is the last
// (stable) stage of any chain, whose records are hold-<n>: today's hold of live. Any other stage
// s is Stage(s), with records hold-<s>-<n>. StageOf gives it for a stage of a chain.
type Stage string

// Last is the hold of a chain's last stage: the hold-<n> records.
const Last Stage = ""

// StageOf is the hold of stage name in chain c: Last for its last stage, Stage(name) for another.
func StageOf(c stage.Chain, name string) (Stage, error) {
	if !c.Has(name) {
		return "", fmt.Errorf("%w: %q is not a stage of %q; give one of them", stage.ErrInvalid, name, c.String())
	}
	if name == c.Last() {
		return Last, nil
	}
	return Stage(name), nil
}

// Name is the stage's name in chain c (Last is c's last stage).
func (s Stage) Name(c stage.Chain) string {
	if s == Last {
		return c.Last()
	}
	return string(s)
}

// Prefix starts every record tag of the stage's hold and no other hold's: hold- for Last (with a
// number after it, see ParseTag), hold-<stage>- for another stage.
func (s Stage) Prefix() string {
	if s == Last {
		return TagPrefix
	}
	return TagPrefix + string(s) + "-"
}

// Tag formats the tag of the stage's n-th record.
func (s Stage) Tag(n uint64) string { return s.Prefix() + strconv.FormatUint(n, 10) }

// ParseTag reads n from a record tag of the stage's hold; n is a positive decimal without
// leading zeros, so that one number has one tag. hold-<stage>-<n> is no tag of Last, and
// hold-<n> no tag of a stage.
func (s Stage) ParseTag(tag string) (uint64, bool) {
	rest, ok := strings.CutPrefix(tag, s.Prefix())
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseUint(rest, 10, 64)
	if err != nil || n == 0 || strconv.FormatUint(n, 10) != rest {
		return 0, false
	}
	return n, true
}

// Latest returns the highest record tag of the stage's hold in list and its number ("" and 0
// when none).
func (s Stage) Latest(list []string) (string, uint64) {
	var best uint64
	for _, t := range list {
		if n, ok := s.ParseTag(t); ok && n > best {
			best = n
		}
	}
	if best == 0 {
		return "", 0
	}
	return s.Tag(best), best
}

// StageOfTag reads whose hold record tag is: hold-<n> is Last's, hold-<stage>-<n> the stage's
// (a valid stage name, package stage).
func StageOfTag(tag string) (Stage, uint64, bool) {
	if n, ok := Last.ParseTag(tag); ok {
		return Last, n, true
	}
	rest, ok := strings.CutPrefix(tag, TagPrefix)
	if !ok {
		return "", 0, false
	}
	name, _, ok := strings.Cut(rest, "-")
	if !ok || stage.ValidName(name) != nil {
		return "", 0, false
	}
	n, ok := Stage(name).ParseTag(tag)
	if !ok {
		return "", 0, false
	}
	return Stage(name), n, true
}

// Stages are the stages with a hold record in list, Last first if it has one, then by name.
func Stages(list []string) []Stage {
	seen := map[Stage]bool{}
	for _, t := range list {
		if s, _, ok := StageOfTag(t); ok {
			seen[s] = true
		}
	}
	out := make([]Stage, 0, len(seen))
	for s := range seen {
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

// Tag formats the tag of the n-th record of the last stage's hold (hold-<n>).
func Tag(n uint64) string { return Last.Tag(n) }

// ParseTag reads n from hold-<n>, a record of the last stage's hold (Last.ParseTag).
func ParseTag(tag string) (uint64, bool) { return Last.ParseTag(tag) }

// IsTag reports whether tag is a hold record tag of any stage: hold-<n> or hold-<stage>-<n>.
func IsTag(tag string) bool { _, _, ok := StageOfTag(tag); return ok }

// Latest returns the highest hold-<n> tag in list and its number (Last.Latest).
func Latest(list []string) (string, uint64) { return Last.Latest(list) }

// Reader is what reading the hold needs of a repository.
type Reader interface {
	Name() string
	Tags(ctx context.Context) ([]string, error)
	Resolve(ctx context.Context, tag string) (string, error)
	Get(ctx context.Context, digest string) (*oci.Manifest, error)
	GetTag(ctx context.Context, tag string) (*oci.Manifest, error)
}

// Registry is what changing the hold needs of a repository; *oci.Repository implements it.
type Registry interface {
	Reader
	Push(ctx context.Context, img v1.Image, tag string) (*oci.Manifest, error)
}

var _ Registry = (*oci.Repository)(nil)

// ErrNotARecord is returned when a hold-<n> tag points at something that is not a hold record.
// The guard fails closed on it: promotion stops with an error rather than ignore a hold it
// cannot read.
var ErrNotARecord = errors.New("not a hold record")

// Read returns the current hold of the last stage given the repository's tag list (Last.Read).
func Read(ctx context.Context, reg Reader, list []string) (State, error) {
	return Last.Read(ctx, reg, list)
}

// Read returns the stage's current hold given the repository's tag list. It costs nothing when
// no hold was ever set, and one GET otherwise.
func (s Stage) Read(ctx context.Context, reg Reader, list []string) (State, error) {
	tag, _ := s.Latest(list)
	if tag == "" {
		return State{Record: Record{State: Off}}, nil
	}
	m, err := reg.GetTag(ctx, tag)
	if err != nil {
		return State{}, fmt.Errorf("read the hold %s: %w", tag, err)
	}
	rec, err := recordFrom(m)
	if err != nil {
		return State{}, fmt.Errorf("%s:%s (%s): %w; every %s<n> tag must point at a record written by ocipromote", reg.Name(), tag, m.Digest, err, s.Prefix())
	}
	return State{Record: rec, Tag: tag}, nil
}

// History reads every record of the last stage's hold in list (Last.History).
func History(ctx context.Context, reg Reader, list []string) ([]State, error) {
	return Last.History(ctx, reg, list)
}

// History reads every record of the stage's hold in list, highest number (the current hold)
// first: what each change said, and who made it when. Like Read, it fails on a record tag that
// is not a record.
func (s Stage) History(ctx context.Context, reg Reader, list []string) ([]State, error) {
	type numbered struct {
		n   uint64
		tag string
	}
	var found []numbered
	for _, t := range list {
		if n, ok := s.ParseTag(t); ok {
			found = append(found, numbered{n, t})
		}
	}
	slices.SortFunc(found, func(a, b numbered) int { return cmp.Compare(b.n, a.n) })
	out := make([]State, 0, len(found))
	for _, f := range found {
		st, err := s.Read(ctx, reg, []string{f.tag})
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, nil
}

// Current lists the repository's tags and reads the last stage's current hold.
func Current(ctx context.Context, reg Reader) (State, error) { return Last.Current(ctx, reg) }

// Current lists the repository's tags and reads the stage's current hold.
func (s Stage) Current(ctx context.Context, reg Reader) (State, error) {
	list, err := reg.Tags(ctx)
	if err != nil {
		return State{}, err
	}
	return s.Read(ctx, reg, list)
}

// recordFrom reads a record from its manifest. Its reason and actor are cleaned (cleanText), and a
// digest or sha that is not one makes it no record: the record may have been written by anyone
// who can write to the registry, and what it says is printed in every promotion's log.
func recordFrom(m *oci.Manifest) (Record, error) {
	if m.Parsed == nil || m.Parsed.Config.MediaType != ConfigMediaType {
		return Record{}, ErrNotARecord
	}
	a := m.Annotations()
	rec := Record{State: a[AnnotationState], Reason: cleanText(a[AnnotationReason], MaxReason), Actor: cleanText(a[AnnotationActor], MaxActor),
		Digest: a[AnnotationDigest], Sha: a[AnnotationSha]}
	if rec.State != On && rec.State != Off {
		return Record{}, fmt.Errorf("%w: state %s is neither %s nor %s", ErrNotARecord, ref.Quote(rec.State), On, Off)
	}
	if rec.Digest != "" {
		if _, err := ref.Digest(rec.Digest); err != nil {
			return Record{}, fmt.Errorf("%w: %v", ErrNotARecord, err)
		}
	}
	if rec.Sha != "" {
		if _, err := ref.Sha(rec.Sha); err != nil {
			return Record{}, fmt.Errorf("%w: %v", ErrNotARecord, err)
		}
	}
	rec.Time = artifact.MetadataFrom(a).Created
	return rec, nil
}

// Image is the artifact that stores rec: a manifest with the record as annotations and as its
// config blob, and no layers.
func Image(rec Record) (v1.Image, error) {
	if rec.State != On && rec.State != Off {
		return nil, fmt.Errorf("hold state %q is neither %s nor %s", rec.State, On, Off)
	}
	if err := rec.Check(); err != nil {
		return nil, err
	}
	rec.Time = rec.Time.UTC().Truncate(time.Second)
	config, err := json.Marshal(rec)
	if err != nil {
		return nil, err
	}
	annotations := artifact.Metadata{Created: rec.Time}.Annotations()
	for k, v := range map[string]string{AnnotationState: rec.State, AnnotationReason: rec.Reason, AnnotationActor: rec.Actor, AnnotationDigest: rec.Digest, AnnotationSha: rec.Sha} {
		if v != "" {
			annotations[k] = v
		}
	}
	return artifact.Record(ConfigMediaType, config, annotations)
}

// Change is the outcome of Set or Release.
type Change struct {
	State State
	// Wrote is true when this call appended a record (on a dry run: would append one); false when
	// the hold already was as asked.
	Wrote bool
	// After is a listing that shows the record written, made Options.Settle after it was first
	// listed: every step that lists from then on sees the change. nil when nothing was written.
	After []string
}

// Options are how Set and Release write.
type Options struct {
	DryRun bool
	// Settle is the registry's listing bound (package claim): how long after a write a listing
	// may still miss it. 0 for a registry whose listing shows every write at once.
	Settle time.Duration
	// Pause waits before the next number after a contended claim (default: a jittered pause).
	Pause claim.Pause
}

// maxAttempts bounds how often a write takes the next number when concurrent hold changes claim
// the one it chose.
const maxAttempts = 10

// ErrCounterExhausted is returned when the highest hold record number is the largest there can
// be: no later record could be written, and a record nobody reads must never be written.
var ErrCounterExhausted = errors.New("the hold record counter is exhausted")

// Set turns the last stage's hold on (Last.Set).
func Set(ctx context.Context, reg Writer, list []string, rec Record, o Options) (Change, error) {
	return Last.Set(ctx, reg, list, rec, o)
}

// Release turns the last stage's hold off (Last.Release).
func Release(ctx context.Context, reg Writer, list []string, rec Record, o Options) (Change, error) {
	return Last.Release(ctx, reg, list, rec, o)
}

// Set turns the stage's hold on with rec (its State is set to On). A hold on already keeps its
// reason and gains rec's (see joinReasons), unless it holds it already. A hold on for another
// rollback target than rec.Digest is replaced by rec, so the record says why the stage is where
// it is; list is a tag listing made during this run.
func (s Stage) Set(ctx context.Context, reg Writer, list []string, rec Record, o Options) (Change, error) {
	rec.State = On
	cur, err := s.Read(ctx, reg, list)
	if err != nil {
		return Change{}, err
	}
	if cur.Held() && (rec.Digest == "" || rec.Digest == cur.Digest) {
		if rec, err = joinReasons(cur, rec); err != nil || rec.Reason == cur.Reason {
			return Change{State: cur}, err
		}
	}
	return s.write(ctx, reg, list, rec, o)
}

// Release turns the stage's hold off with rec (its State is set to Off), unless it is off already.
func (s Stage) Release(ctx context.Context, reg Writer, list []string, rec Record, o Options) (Change, error) {
	rec.State = Off
	cur, err := s.Read(ctx, reg, list)
	if err != nil {
		return Change{}, err
	}
	if !cur.Held() {
		return Change{State: cur}, nil
	}
	return s.write(ctx, reg, list, rec, o)
}

// next is the number of the next record: one above every record written and every record claimed
// (a claimed number is taken, as a claimed version is).
func (s Stage) next(reg Reader, list []string) (uint64, error) {
	_, n := s.Latest(list)
	for _, c := range claim.All(list) {
		if m, ok := s.ParseTag(c.Version); ok && c.Record() && m > n {
			n = m
		}
	}
	if n == math.MaxUint64 {
		return 0, fmt.Errorf("%w: %s holds %s (or a claim on it), the highest number a hold record can have, so no record can follow it and the hold can no longer change. ocipromote numbers records one by one from %s, so someone else wrote it: check what it says, delete that tag and its claim-%s-… tag from the repository, and run again",
			ErrCounterExhausted, reg.Name(), s.Tag(n), s.Tag(1), s.Tag(n))
	}
	return n + 1, nil
}

// write appends rec as the next record, claimed like a version (package claim): it claims
// hold-<n> for the record, and writes hold-<n> only when the listing that confirms the claim
// shows no rival claim on n; a rival makes it claim a later number. Two concurrent hold changes
// therefore never write one record tag, and the one with the higher number decides. It returns
// once a listing made o.Settle after the record was listed shows it, so every step that lists
// afterwards sees the change.
func (s Stage) write(ctx context.Context, reg Writer, list []string, rec Record, o Options) (Change, error) {
	img, err := Image(rec)
	if err != nil {
		return Change{}, err
	}
	m, err := oci.ManifestOf(img)
	if err != nil {
		return Change{}, err
	}
	rec, err = recordFrom(m)
	if err != nil {
		return Change{}, err
	}
	pause := o.Pause
	if pause == nil {
		pause = claim.JitteredPause
	}
	var rivals []string
	for attempt := 1; attempt <= maxAttempts; attempt++ {
		n, err := s.next(reg, list)
		if err != nil {
			return Change{}, err
		}
		tag := s.Tag(n)
		if o.DryRun {
			return Change{State: State{Record: rec, Tag: tag}, Wrote: true}, nil
		}
		cl, err := claim.NewRecord(tag, m.Digest)
		if err != nil {
			return Change{}, err
		}
		took, err := claim.Take{
			Claim: cl, Manifest: m, Settle: o.Settle,
			WriteClaim: func(ctx context.Context) error { _, err := reg.Push(ctx, img, cl.Tag()); return err },
		}.Run(ctx, reg, list, pause)
		if err != nil {
			return Change{}, err
		}
		if took.Contended == nil {
			after, err := claim.Listed(ctx, reg, []string{tag}, o.Settle, pause)
			if err != nil {
				return Change{}, fmt.Errorf("the hold record %s was written: %w", tag, err)
			}
			return Change{State: State{Record: rec, Tag: tag}, Wrote: true, After: after}, nil
		}
		rivals = append(rivals, took.Contended.Error())
		if err := claim.Backoff(ctx, attempt, o.Settle, pause); err != nil {
			return Change{}, err
		}
		if list, err = reg.Tags(ctx); err != nil {
			return Change{}, err
		}
	}
	return Change{}, fmt.Errorf("concurrent hold changes in %s claimed each number this one tried, %d times (last: %s); nothing but claims was written: run ocipromote again", reg.Name(), maxAttempts, rivals[len(rivals)-1])
}
