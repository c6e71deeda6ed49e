// Package pass keeps the evidence a chain of stages promotes on: that candidate C passed stage s.
// Evidence first, promotion second: a healthy event from the cluster of s records the pass (which
// cluster said so, what it said, when, and the revision it ran) before anything is promoted, and
// the record stays when a gate (a window, a soak, a hold) defers the promotion, so nothing has to
// be proved again. A failure event for the same candidate appends a failure record, which cancels
// the passes before it (Standing).
//
// The records live in the registry like the hold's (package hold): each is a small artifact whose
// manifest annotations and config blob hold the record, tagged
//
//	pass-<stage>-<first 12 hex of C's digest>-<n>
//
// with n one more than the highest written or claimed so far for that stage and candidate.
// Numbers are claimed through package claim (claim-pass-<stage>-<hex>-<n>-…), so concurrent
// writers never write one tag; a tag is written once and never moved. Flux ignores the tags (they
// are not versions), and prune keeps them. Stage names have no '-' and are never "pass" (package
// stage), so a tag reads one way only.
package pass

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

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/ocipromote/ocipromote/pkg/artifact"
	"github.com/ocipromote/ocipromote/pkg/claim"
	"github.com/ocipromote/ocipromote/pkg/oci"
	"github.com/ocipromote/ocipromote/pkg/ref"
	"github.com/ocipromote/ocipromote/pkg/stage"
)

// TagPrefix starts every pass record tag.
const TagPrefix = claim.PassPrefix

// ConfigMediaType marks a pass record: the media type of its config blob, which holds the record
// as JSON. The same fields are manifest annotations, so reading a record is one manifest GET.
const ConfigMediaType = "application/vnd.ocipromote.pass.v1+json"

// The annotations of a pass record's manifest; its time is the created annotation.
const (
	AnnotationStage    = "org.ocipromote.pass.stage"
	AnnotationDigest   = "org.ocipromote.pass.digest"
	AnnotationKind     = "org.ocipromote.pass.kind"
	AnnotationRevision = "org.ocipromote.pass.revision"
	AnnotationCluster  = "org.ocipromote.pass.cluster"
	AnnotationMessage  = "org.ocipromote.pass.message"
	AnnotationActor    = "org.ocipromote.pass.actor"
	AnnotationEvent    = "org.ocipromote.pass.event"
)

// The kinds of record.
const (
	// Pass: the stage's cluster reported the candidate healthy.
	Pass = "pass"
	// Fail: the stage's cluster reported the candidate failing; it cancels the passes before it.
	Fail = "fail"
)

// shortLen is how many hex characters of the candidate's digest a tag carries, as a claim tag does.
const shortLen = 12

// The bounds of a record's free text. Messages come from cluster events and are made one line and
// cut to MaxMessage (ref.PlainLine) before they are recorded; the other fields are refused when
// longer.
const (
	MaxMessage  = 500
	MaxRevision = 300
	MaxCluster  = 100
	MaxActor    = 100
	MaxEvent    = 200
)

// Record is one piece of evidence about candidate Digest in Stage.
type Record struct {
	Stage string `json:"stage"`
	// Digest is the candidate's manifest digest (sha256:<hex>): what the stage runs.
	Digest string `json:"digest"`
	// Kind is Pass or Fail.
	Kind string `json:"kind"`
	// Revision is the revision the cluster reported running, e.g. 1.3.0-rc.4@sha256:….
	Revision string `json:"revision"`
	// Cluster is the cluster that reported (the event's cluster metadata).
	Cluster string `json:"cluster"`
	Message string `json:"message,omitempty"`
	// Time is when the cluster reported (the event's time), to the second.
	Time time.Time `json:"time"`
	// Actor is who recorded it (the workflow run's actor or the person).
	Actor string `json:"actor,omitempty"`
	// Event names the event that proved it (the delivery's id), when it has one.
	Event string `json:"event,omitempty"`
}

// Normalize returns the record as it is stored: its message made one line within MaxMessage, its
// time in UTC to the second.
func (r Record) Normalize() Record {
	r.Message = strings.TrimSpace(ref.PlainLine(r.Message, MaxMessage))
	r.Time = r.Time.UTC().Truncate(time.Second)
	return r
}

// Check refuses a record that could not be written as it is: a stage that is no stage name, a
// digest that is not one, an unknown kind, no time, or a field that is not one line of printable
// text within its bound (the fields are printed in promotion logs, job summaries and release
// notes). The message is exempt: Normalize makes it one.
func (r Record) Check() error {
	if err := stage.ValidName(r.Stage); err != nil {
		return err
	}
	if _, err := ref.Digest(r.Digest); err != nil {
		return fmt.Errorf("pass record for %s: %w", r.Stage, err)
	}
	if r.Kind != Pass && r.Kind != Fail {
		return fmt.Errorf("pass record kind %s is neither %s nor %s", ref.Quote(r.Kind), Pass, Fail)
	}
	if r.Time.IsZero() {
		return fmt.Errorf("pass record for %s in %s has no time: give the event's time", r.Digest, r.Stage)
	}
	for _, f := range []struct {
		name, value string
		max         int
	}{
		{"revision", r.Revision, MaxRevision}, {"cluster", r.Cluster, MaxCluster}, {"actor", r.Actor, MaxActor}, {"event", r.Event, MaxEvent},
	} {
		if ref.PlainLine(f.value, f.max) != f.value {
			return fmt.Errorf("pass record %s %s is not one line of printable text within %d characters", f.name, ref.Quote(f.value), f.max)
		}
	}
	return nil
}

// Replays reports whether r says what o says: the same event about the same candidate in the same
// stage (who recorded it aside). A replayed delivery of an event is one record, written once.
func (r Record) Replays(o Record) bool {
	r, o = r.Normalize(), o.Normalize()
	return r.Stage == o.Stage && r.Digest == o.Digest && r.Kind == o.Kind && r.Revision == o.Revision &&
		r.Cluster == o.Cluster && r.Message == o.Message && r.Time.Equal(o.Time) && r.Event == o.Event
}

// Entry is a record as read from the registry, with its tag and number.
type Entry struct {
	Record
	Tag string `json:"tag"`
	N   uint64 `json:"n"`
}

// Prefix starts every record tag of candidate digest in stage name: pass-<stage>-<12 hex>-.
func Prefix(name, digest string) (string, error) {
	if err := stage.ValidName(name); err != nil {
		return "", err
	}
	hex, err := ref.Digest(digest)
	if err != nil {
		return "", err
	}
	hex, _ = strings.CutPrefix(hex, "sha256:")
	return TagPrefix + name + "-" + hex[:shortLen] + "-", nil
}

// Tag is the tag of the n-th record of candidate digest in stage name.
func Tag(name, digest string, n uint64) (string, error) {
	p, err := Prefix(name, digest)
	if err != nil {
		return "", err
	}
	return p + strconv.FormatUint(n, 10), nil
}

// ParseTag reads a pass record tag: the stage, the first 12 hex of the candidate's digest, and n
// (a positive decimal without leading zeros, so that one number has one tag).
func ParseTag(tag string) (name, short string, n uint64, ok bool) {
	rest, ok := strings.CutPrefix(tag, TagPrefix)
	if !ok {
		return "", "", 0, false
	}
	parts := strings.Split(rest, "-")
	if len(parts) != 3 || stage.ValidName(parts[0]) != nil || len(parts[1]) != shortLen || !ref.IsHex(parts[1]) {
		return "", "", 0, false
	}
	n, err := strconv.ParseUint(parts[2], 10, 64)
	if err != nil || n == 0 || strconv.FormatUint(n, 10) != parts[2] {
		return "", "", 0, false
	}
	return parts[0], parts[1], n, true
}

// IsTag reports whether tag is a pass record tag.
func IsTag(tag string) bool { _, _, _, ok := ParseTag(tag); return ok }

// numbers returns the record tags in list that start with prefix, ascending by number, and the
// highest number claimed for such a tag (0 when none).
func numbers(list []string, prefix string) (records []numbered, claimed uint64) {
	for _, t := range list {
		if _, _, n, ok := ParseTag(t); ok && strings.HasPrefix(t, prefix) {
			records = append(records, numbered{n, t})
		}
		if c, ok := claim.Parse(t); ok && c.Record() && strings.HasPrefix(c.Version, prefix) {
			if _, _, n, ok := ParseTag(c.Version); ok && n > claimed {
				claimed = n
			}
		}
	}
	slices.SortFunc(records, func(a, b numbered) int { return cmp.Compare(a.n, b.n) })
	return records, claimed
}

type numbered struct {
	n   uint64
	tag string
}

// Reader is what reading records needs of a repository; *oci.Repository implements it.
type Reader interface {
	Name() string
	Tags(ctx context.Context) ([]string, error)
	Resolve(ctx context.Context, tag string) (string, error)
	Get(ctx context.Context, digest string) (*oci.Manifest, error)
	GetTag(ctx context.Context, tag string) (*oci.Manifest, error)
}

// Writer is what writing records needs of a repository; *oci.Repository implements it.
type Writer interface {
	Reader
	Push(ctx context.Context, img v1.Image, tag string) (*oci.Manifest, error)
	Tag(ctx context.Context, tag string, m *oci.Manifest, w oci.Write) (bool, error)
}

var _ Writer = (*oci.Repository)(nil)

// ErrNotARecord is returned when a pass record tag points at something that is not a pass record
// of its stage. Readers fail closed on it: a promotion never rests on evidence it cannot read.
var ErrNotARecord = errors.New("not a pass record")

// History reads the records of candidate digest in stage name from list, a tag listing, in the
// order they were written (ascending n). It costs nothing when there are none, and a GET per
// record otherwise. A record of another candidate whose digest starts with the same 12
// hex is not one of them.
func History(ctx context.Context, reg Reader, list []string, name, digest string) ([]Entry, error) {
	prefix, err := Prefix(name, digest)
	if err != nil {
		return nil, err
	}
	found, _ := numbers(list, prefix)
	out := make([]Entry, 0, len(found))
	for _, f := range found {
		e, err := read(ctx, reg, f.tag, f.n)
		if err != nil {
			return nil, err
		}
		if e.Digest == digest {
			out = append(out, e)
		}
	}
	return out, nil
}

// Evidence is what the records of one candidate in one stage say (Standing), with the records.
type Evidence struct {
	Stage   string  `json:"stage"`
	Digest  string  `json:"digest"`
	Records []Entry `json:"records"`
	// Passed is true when a pass came after the last failure; PassedAt is the first such pass,
	// which a soak counts from.
	Passed   bool      `json:"passed"`
	PassedAt time.Time `json:"passed_at,omitzero"`
	// Cancelled is true when a failure came after a pass and no pass since.
	Cancelled bool `json:"cancelled"`
}

// Read reads the records of candidate digest in stage name from list (History) and what they say
// (Standing).
func Read(ctx context.Context, reg Reader, list []string, name, digest string) (Evidence, error) {
	entries, err := History(ctx, reg, list, name, digest)
	if err != nil {
		return Evidence{}, err
	}
	ev := Evidence{Stage: name, Digest: digest, Records: entries}
	ev.PassedAt, ev.Passed, ev.Cancelled = Standing(Records(entries))
	return ev, nil
}

// Records are the records of entries.
func Records(entries []Entry) []Record {
	out := make([]Record, len(entries))
	for i, e := range entries {
		out[i] = e.Record
	}
	return out
}

// read reads the record tagged tag.
func read(ctx context.Context, reg Reader, tag string, n uint64) (Entry, error) {
	m, err := reg.GetTag(ctx, tag)
	if err != nil {
		return Entry{}, fmt.Errorf("read the pass record %s: %w", tag, err)
	}
	rec, err := recordFrom(m)
	if err == nil {
		var p string
		if p, err = Prefix(rec.Stage, rec.Digest); err == nil && !strings.HasPrefix(tag, p) {
			err = fmt.Errorf("%w: it is about %s in %s, which is not what its tag names", ErrNotARecord, rec.Digest, rec.Stage)
		}
	}
	if err != nil {
		return Entry{}, fmt.Errorf("%s:%s (%s): %w; every %s… tag must point at a record written by ocipromote", reg.Name(), tag, m.Digest, err, TagPrefix)
	}
	return Entry{Record: rec, Tag: tag, N: n}, nil
}

// recordFrom reads a record from its manifest. The record may have been written by anyone who can
// write to the registry, so it is checked as a record to be written is, and its message cleaned.
func recordFrom(m *oci.Manifest) (Record, error) {
	if m.Parsed == nil || m.Parsed.Config.MediaType != ConfigMediaType {
		return Record{}, ErrNotARecord
	}
	a := m.Annotations()
	rec := Record{
		Stage: a[AnnotationStage], Digest: a[AnnotationDigest], Kind: a[AnnotationKind], Revision: a[AnnotationRevision],
		Cluster: a[AnnotationCluster], Message: a[AnnotationMessage], Actor: a[AnnotationActor], Event: a[AnnotationEvent],
		Time: artifact.MetadataFrom(a).Created,
	}.Normalize()
	if err := rec.Check(); err != nil {
		return Record{}, fmt.Errorf("%w: %v", ErrNotARecord, err)
	}
	return rec, nil
}

// Image is the artifact that stores rec (normalized): a manifest with the record as annotations
// and as its config blob, and no layers. One record is one artifact, byte for byte.
func Image(rec Record) (v1.Image, error) {
	rec = rec.Normalize()
	if err := rec.Check(); err != nil {
		return nil, err
	}
	config, err := json.Marshal(rec)
	if err != nil {
		return nil, err
	}
	annotations := artifact.Metadata{Created: rec.Time}.Annotations()
	for k, v := range map[string]string{
		AnnotationStage: rec.Stage, AnnotationDigest: rec.Digest, AnnotationKind: rec.Kind, AnnotationRevision: rec.Revision,
		AnnotationCluster: rec.Cluster, AnnotationMessage: rec.Message, AnnotationActor: rec.Actor, AnnotationEvent: rec.Event,
	} {
		if v != "" {
			annotations[k] = v
		}
	}
	return artifact.Record(ConfigMediaType, config, annotations)
}

// Standing is what records (one candidate's in one stage, in the order written) say: passed when
// a pass came after the last failure, passedAt the first such pass (the soak counts from it);
// cancelled when a failure came after a pass and no pass since. Records are ordered by their
// time, and a pass and a failure at the same second count the failure last: the event times say
// what the cluster saw, whatever order the events were delivered in, and a tie must not promote.
func Standing(records []Record) (passedAt time.Time, passed, cancelled bool) {
	sorted := slices.Clone(records)
	slices.SortStableFunc(sorted, func(a, b Record) int {
		if c := a.Time.Compare(b.Time); c != 0 {
			return c
		}
		return cmp.Compare(rank(a.Kind), rank(b.Kind))
	})
	for _, r := range sorted {
		switch r.Kind {
		case Pass:
			if !passed {
				passedAt, passed, cancelled = r.Time, true, false
			}
		case Fail:
			if passed {
				cancelled = true
			}
			passedAt, passed = time.Time{}, false
		}
	}
	return passedAt, passed, cancelled
}

func rank(kind string) int {
	if kind == Fail {
		return 1
	}
	return 0
}

// Options are how Write writes.
type Options struct {
	DryRun bool
	// Settle is the registry's listing bound (package claim): how long after a write a listing may
	// still miss it. 0 for a registry whose listing shows every write at once.
	Settle time.Duration
	// Pause waits before the next number after a contended claim (default: a jittered pause).
	Pause claim.Pause
}

// Written is the outcome of Write.
type Written struct {
	// Entry is the record written, or the one already there that rec replays.
	Entry Entry
	// Wrote is true when this call appended the record (on a dry run: would append it); false when
	// a record of the same event was there already.
	Wrote bool
	// After is a listing that shows the record written, made Options.Settle after it was first
	// listed. nil when nothing was written.
	After []string
}

// maxAttempts bounds how often Write takes the next number when concurrent writers claim the one
// it chose.
const maxAttempts = 10

// ErrCounterExhausted is returned when the highest record number of a candidate in a stage is the
// largest there can be.
var ErrCounterExhausted = errors.New("the pass record counter is exhausted")

// errReplayed stops an attempt whose confirming listing shows a record of the same event written
// meanwhile by a concurrent delivery.
var errReplayed = errors.New("a concurrent delivery recorded the same event")

// Write appends rec to the records of its candidate in its stage, unless a record of the same
// event is there (Replays): a replayed delivery writes nothing, so it neither adds evidence nor
// restarts a soak. list is a tag listing made during this run. The record's number is claimed
// (package claim), the tag is read back after its write (a write the registry acknowledged and
// lost is written again, then reported), and Write returns once a listing made o.Settle after the
// record was listed shows it: every step that lists afterwards sees the evidence.
func Write(ctx context.Context, reg Writer, list []string, rec Record, o Options) (Written, error) {
	img, err := Image(rec)
	if err != nil {
		return Written{}, err
	}
	m, err := oci.ManifestOf(img)
	if err != nil {
		return Written{}, err
	}
	if rec, err = recordFrom(m); err != nil {
		return Written{}, err
	}
	prefix, err := Prefix(rec.Stage, rec.Digest)
	if err != nil {
		return Written{}, err
	}
	pause := o.Pause
	if pause == nil {
		pause = claim.JitteredPause
	}
	seen := map[string]bool{}
	// replayed reads the records of list not read yet and returns one rec replays.
	replayed := func(ctx context.Context, list []string) (Entry, bool, error) {
		found, _ := numbers(list, prefix)
		for _, f := range found {
			if seen[f.tag] {
				continue
			}
			e, err := read(ctx, reg, f.tag, f.n)
			if err != nil {
				return Entry{}, false, err
			}
			seen[f.tag] = true
			if e.Digest == rec.Digest && rec.Replays(e.Record) {
				return e, true, nil
			}
		}
		return Entry{}, false, nil
	}
	var rivals []string
	for attempt := 1; attempt <= maxAttempts; attempt++ {
		if e, ok, err := replayed(ctx, list); err != nil || ok {
			return Written{Entry: e}, err
		}
		n, err := next(reg, list, prefix)
		if err != nil {
			return Written{}, err
		}
		tag := prefix + strconv.FormatUint(n, 10)
		if o.DryRun {
			return Written{Entry: Entry{Record: rec, Tag: tag, N: n}, Wrote: true}, nil
		}
		cl, err := claim.NewRecord(tag, m.Digest)
		if err != nil {
			return Written{}, err
		}
		var replay Entry
		took, err := claim.Take{
			Claim: cl, Manifest: m, Settle: o.Settle, Ranged: true, CheckReads: []string{prefix},
			WriteClaim: func(ctx context.Context) error { _, err := reg.Push(ctx, img, cl.Tag()); return err },
			Check: func(ctx context.Context, after []string) (error, error) {
				e, ok, err := replayed(ctx, after)
				if err != nil || !ok {
					return nil, err
				}
				replay = e
				return errReplayed, nil
			},
		}.Run(ctx, reg, list, pause)
		if err != nil {
			return Written{}, err
		}
		if errors.Is(took.Contended, errReplayed) {
			return Written{Entry: replay}, nil
		}
		if took.Contended == nil {
			after, err := claim.Listed(ctx, reg, []string{tag}, o.Settle, pause)
			if err != nil {
				return Written{}, fmt.Errorf("the pass record %s was written: %w", tag, err)
			}
			return Written{Entry: Entry{Record: rec, Tag: tag, N: n}, Wrote: true, After: after}, nil
		}
		rivals = append(rivals, took.Contended.Error())
		if err := claim.Backoff(ctx, attempt, o.Settle, pause); err != nil {
			return Written{}, err
		}
		if list, err = reg.Tags(ctx); err != nil {
			return Written{}, err
		}
	}
	return Written{}, fmt.Errorf("concurrent writers of %s… records in %s claimed each number this one tried, %d times (last: %s); nothing but claims was written: run the step again", prefix, reg.Name(), maxAttempts, rivals[len(rivals)-1])
}

// next is the number of the next record with prefix: one above every record written and every
// record claimed (a claimed number is taken).
func next(reg Reader, list []string, prefix string) (uint64, error) {
	found, n := numbers(list, prefix)
	if len(found) > 0 && found[len(found)-1].n > n {
		n = found[len(found)-1].n
	}
	if n == math.MaxUint64 {
		return 0, fmt.Errorf("%w: %s holds %s%d (or a claim on it), the highest number a record can have. ocipromote numbers records one by one from 1, so someone else wrote it: delete that tag and its claim from the repository, and run again", ErrCounterExhausted, reg.Name(), prefix, n)
	}
	return n + 1, nil
}
