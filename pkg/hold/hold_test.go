package hold_test

import (
	"context"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/ocipromote/ocipromote/pkg/hold"
	"github.com/ocipromote/ocipromote/pkg/oci"
	"github.com/ocipromote/ocipromote/pkg/oci/ocitest"
	"github.com/ocipromote/ocipromote/pkg/pipeline"
	"github.com/ocipromote/ocipromote/pkg/version"
)

var when = time.Date(2026, 8, 2, 9, 30, 0, 0, time.UTC)

func TestParseTag(t *testing.T) {
	t.Parallel()
	tests := []struct {
		tag string
		n   uint64
		ok  bool
	}{
		{"hold-1", 1, true},
		{"hold-42", 42, true},
		{"hold-0", 0, false},
		{"hold-01", 0, false},
		{"hold-", 0, false},
		{"hold-1a", 0, false},
		{"hold-+1", 0, false},
		{"1.0.0", 0, false},
		{"held-1", 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.tag, func(t *testing.T) {
			t.Parallel()
			n, ok := hold.ParseTag(tc.tag)
			if got, want := ok, tc.ok; got != want {
				t.Fatalf("ParseTag(%q) ok = %v, want %v", tc.tag, got, want)
			}
			if got, want := n, tc.n; got != want {
				t.Errorf("ParseTag(%q) = %d, want %d", tc.tag, got, want)
			}
			if _, isVersion := version.Parse(tc.tag); isVersion && ok {
				t.Errorf("%s is a hold tag and a version: Flux would select it", tc.tag)
			}
		})
	}
}

func TestLatestComparesNumbers(t *testing.T) {
	t.Parallel()
	tag, n := hold.Latest([]string{"hold-9", "0.0.1", "hold-10", "hold-2", "hold-010"})
	if got, want := tag, "hold-10"; got != want || n != 10 {
		t.Errorf("Latest = %s (%d), want %s", got, n, want)
	}
	if tag, n := hold.Latest([]string{"0.0.1"}); tag != "" || n != 0 {
		t.Errorf("Latest without hold tags = %q, %d", tag, n)
	}
}

// open starts a test registry paging tag lists by 3, with opts (which may override that).
func open(t *testing.T, opts ...ocitest.Option) (*ocitest.Server, *oci.Repository) {
	t.Helper()
	srv := ocitest.New(t, append([]ocitest.Option{ocitest.MaxPage(3)}, opts...)...)
	reg, err := oci.Open(srv.Host+"/acme/app", oci.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return srv, reg
}

func tagsOf(t *testing.T, reg *oci.Repository) []string {
	t.Helper()
	list, err := reg.Tags(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return list
}

// A freeze and its release append records; repeating either writes nothing.
func TestSetAndRelease(t *testing.T) {
	t.Parallel()
	srv, reg := open(t)
	ctx := context.Background()
	st, err := hold.Read(ctx, reg, nil)
	if err != nil || st.Held() || st.Tag != "" {
		t.Fatalf("empty repository: hold %+v, %v", st, err)
	}
	steps := []struct {
		name   string
		change func(context.Context, hold.Writer, []string, hold.Record, hold.Options) (hold.Change, error)
		reason string
		held   bool
		tag    string
		wrote  bool
		// recorded is the reason the hold then gives, when not reason.
		recorded string
	}{
		{"set", hold.Set, "freeze for the migration", true, "hold-1", true, ""},
		{"set again", hold.Set, "freeze for the migration", true, "hold-1", false, ""},
		// Issue 14: a second cause used to be dropped with "nothing to do"; the hold keeps both.
		{"set for another reason", hold.Set, "another reason", true, "hold-2", true, "freeze for the migration; another reason"},
		{"set again for either reason", hold.Set, "another reason", true, "hold-2", false, ""},
		{"release", hold.Release, "migration done", false, "hold-3", true, ""},
		{"release again", hold.Release, "", false, "hold-3", false, ""},
		{"set after release", hold.Set, "incident 42", true, "hold-4", true, ""},
	}
	for _, s := range steps {
		ch, err := s.change(ctx, reg, tagsOf(t, reg), hold.Record{Reason: s.reason, Actor: "alice", Time: when}, hold.Options{})
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if got, want := ch.Wrote, s.wrote; got != want {
			t.Errorf("%s: wrote = %v, want %v", s.name, got, want)
		}
		cur, err := hold.Read(ctx, reg, tagsOf(t, reg))
		if err != nil {
			t.Fatalf("%s: read: %v", s.name, err)
		}
		if got, want := cur.Held(), s.held; got != want {
			t.Errorf("%s: held = %v, want %v", s.name, got, want)
		}
		if got, want := cur.Tag, s.tag; got != want {
			t.Errorf("%s: tag = %s, want %s", s.name, got, want)
		}
		if s.recorded == "" {
			s.recorded = s.reason
		}
		if s.wrote {
			if got, want := cur.Reason, s.recorded; got != want {
				t.Errorf("%s: reason = %q, want %q", s.name, got, want)
			}
			if got, want := cur.Actor, "alice"; got != want {
				t.Errorf("%s: actor = %q, want %q", s.name, got, want)
			}
			if !cur.Time.Equal(when) {
				t.Errorf("%s: time = %s, want %s", s.name, cur.Time, when)
			}
		}
	}
	if moved := srv.Moved(); len(moved) != 0 {
		t.Errorf("tags moved: %v", moved)
	}
}

func TestDryRunWritesNothing(t *testing.T) {
	t.Parallel()
	srv, reg := open(t)
	ch, err := hold.Set(context.Background(), reg, nil, hold.Record{Reason: "r", Actor: "a", Time: when}, hold.Options{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if !ch.Wrote || ch.State.Tag != "hold-1" || !ch.State.Held() {
		t.Errorf("dry run = %+v, want a planned hold-1", ch)
	}
	if w := srv.Writes(); len(w) != 0 {
		t.Errorf("dry run wrote %v", w)
	}
}

// A hold-<n> tag that is not a record stops promotion with an error instead of being ignored.
func TestReadFailsClosed(t *testing.T) {
	t.Parallel()
	_, reg := open(t)
	ctx := context.Background()
	rc := build(t, reg, "a")
	m, err := reg.Get(ctx, rc.Digest)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Tag(ctx, "hold-1", m, oci.Write{}); err != nil {
		t.Fatal(err)
	}
	_, err = hold.Read(ctx, reg, tagsOf(t, reg))
	if !errors.Is(err, hold.ErrNotARecord) {
		t.Fatalf("Read = %v, want ErrNotARecord", err)
	}
	if !strings.Contains(err.Error(), "hold-1") {
		t.Errorf("error does not name the tag: %v", err)
	}
}

// Records are small, have no layer, and are ignored by Flux.
func TestImage(t *testing.T) {
	t.Parallel()
	img, err := hold.Image(hold.Record{State: hold.On, Reason: "why", Actor: "bob", Time: when, Digest: "sha256:" + strings.Repeat("a", 64)})
	if err != nil {
		t.Fatal(err)
	}
	m, err := oci.ManifestOf(img)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(m.Parsed.Config.MediaType), hold.ConfigMediaType; got != want {
		t.Errorf("config media type = %s, want %s", got, want)
	}
	if got := len(m.Parsed.Layers); got != 0 {
		t.Errorf("%d layers, want none", got)
	}
	for k, want := range map[string]string{hold.AnnotationState: "on", hold.AnnotationReason: "why", hold.AnnotationActor: "bob", hold.AnnotationDigest: "sha256:" + strings.Repeat("a", 64)} {
		if got := m.Annotations()[k]; got != want {
			t.Errorf("annotation %s = %q, want %q", k, got, want)
		}
	}
	config, err := img.RawConfigFile()
	if err != nil || !strings.Contains(string(config), `"reason":"why"`) {
		t.Errorf("config = %s, %v", config, err)
	}
	if _, err := hold.Image(hold.Record{State: "maybe"}); err == nil {
		t.Error("a record with state maybe was accepted")
	}
}

// build pushes one release candidate of content label, as build-rc does.
func build(t *testing.T, reg pipeline.Registry, label string) pipeline.BuildResult {
	t.Helper()
	return buildBump(t, reg, label, version.Patch)
}

// buildBump builds as build() with the given bump of the highest stable version.
func buildBump(t *testing.T, reg pipeline.Registry, label string, bump version.Bump) pipeline.BuildResult {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "app.yaml"), []byte("build: "+label+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sha := strings.Repeat(label, 40)[:40]
	res, err := pipeline.BuildRC(context.Background(), reg, pipeline.BuildInput{
		Dir: dir, Sha: sha, Ref: "main", Created: when, ShortLen: 7, Rules: version.Rules{Bump: bump},
	})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func validate(t *testing.T, reg pipeline.Registry, rc pipeline.BuildResult) pipeline.PromoteResult {
	t.Helper()
	res, err := pipeline.TagValidated(context.Background(), reg, pipeline.PromoteInput{Revision: rc.Version + "@" + rc.Digest})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func sorted(list []string) []string {
	list = slices.Clone(list)
	slices.Sort(list)
	return list
}

// Every promotion log prints the hold's reason and actor, so a record is refused unless each is
// one short line of printable text.
func TestRecordCheck(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		reason, actor string
		want          string // "" when accepted
	}{
		{name: "plain", reason: "0.4.2 breaks checkout, see INC-42", actor: "alice"},
		{name: "any script", reason: "Störung im Checkout — 障害", actor: "jürgen"},
		{name: "reason of the longest length", reason: strings.Repeat("r", hold.MaxReason), actor: "a"},
		{name: "reason with a workflow command on its own line", reason: "r\n::error::boom $(id)", actor: "a", want: "line break"},
		{name: "reason with a carriage return", reason: "r\r::warning::x", actor: "a", want: "line break"},
		{name: "reason with a terminal escape", reason: "r\x1b[31m", actor: "a", want: "unprintable"},
		{name: "reason with a bidi override", reason: "r\u202egnp.exe", actor: "a", want: "unprintable"},
		{name: "reason with a tab", reason: "r\tx", actor: "a", want: "unprintable"},
		{name: "reason not UTF-8", reason: "r\xff", actor: "a", want: "UTF-8"},
		{name: "reason too long", reason: strings.Repeat("r", hold.MaxReason+1), actor: "a", want: "over the limit of 500"},
		{name: "actor on two lines", reason: "r", actor: "a\nb", want: "actor"},
		{name: "actor too long", reason: "r", actor: strings.Repeat("a", hold.MaxActor+1), want: "over the limit of 100"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := hold.Record{State: hold.On, Reason: tc.reason, Actor: tc.actor}.Check()
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Check() = %v, want it accepted", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Check() = %v, want an error containing %q", err, tc.want)
			}
			if strings.ContainsAny(err.Error(), "\n\r\x1b") {
				t.Errorf("the error repeats the raw text: %q", err)
			}
			srv, reg := open(t)
			if _, err := hold.Set(context.Background(), reg, nil, hold.Record{Reason: tc.reason, Actor: tc.actor, Time: when}, hold.Options{}); err == nil {
				t.Error("Set wrote a record Check refuses")
			}
			if w := srv.Writes(); len(w) != 0 {
				t.Errorf("a refused record was written: %v", w)
			}
		})
	}
}

// A record read back is cleaned whoever wrote it: one line, printable, bounded, before anything
// prints it; a digest or sha that is not one makes it no record.
func TestReadCleansRecords(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		annotations   map[string]string
		reason, actor string
		wantErr       error
	}{
		{name: "workflow command on a second line", annotations: map[string]string{hold.AnnotationReason: "r\n::error::boom $(id)", hold.AnnotationActor: "a\nb"}, reason: "r", actor: "a"},
		{name: "line starting with a carriage return", annotations: map[string]string{hold.AnnotationReason: "\r::error::x", hold.AnnotationActor: "mallory"}, reason: "", actor: "mallory"},
		{name: "control and format characters", annotations: map[string]string{hold.AnnotationReason: "bad\x1b[31m red\u202e", hold.AnnotationActor: "a\x00b"}, reason: "bad[31m red", actor: "ab"},
		{name: "oversized", annotations: map[string]string{hold.AnnotationReason: strings.Repeat("r", 10000), hold.AnnotationActor: strings.Repeat("é", 1000)},
			reason: strings.Repeat("r", hold.MaxReason-1) + "…", actor: strings.Repeat("é", hold.MaxActor-1) + "…"},
		{name: "not a digest", annotations: map[string]string{hold.AnnotationDigest: "sha256:x\n::error::x"}, wantErr: hold.ErrNotARecord},
		{name: "not a sha", annotations: map[string]string{hold.AnnotationSha: "$(id)"}, wantErr: hold.ErrNotARecord},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, reg := open(t)
			ctx := context.Background()
			img, err := hold.Image(hold.Record{State: hold.On, Reason: "placeholder", Actor: "placeholder", Time: when})
			if err != nil {
				t.Fatal(err)
			}
			if img, err = mutateAnnotations(img, tc.annotations); err != nil {
				t.Fatal(err)
			}
			if _, err := reg.Push(ctx, img, "hold-1"); err != nil {
				t.Fatal(err)
			}
			st, err := hold.Read(ctx, reg, []string{"hold-1"})
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) || strings.ContainsAny(err.Error(), "\n\r") {
					t.Fatalf("Read = %v, want %v on one line", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if st.Reason != tc.reason || st.Actor != tc.actor {
				t.Errorf("read reason %q, actor %q; want %q, %q", st.Reason, st.Actor, tc.reason, tc.actor)
			}
			if d := st.Describe(); strings.ContainsAny(d, "\n\r\x1b\x00\u202e") {
				t.Errorf("Describe() = %q, want one clean line", d)
			}
		})
	}
}

// mutateAnnotations replaces annotations of a record's manifest, as a hand-made record would.
func mutateAnnotations(img v1.Image, set map[string]string) (v1.Image, error) {
	m, err := img.Manifest()
	if err != nil {
		return nil, err
	}
	all := maps.Clone(m.Annotations)
	maps.Copy(all, set)
	return mutate.Annotations(img, all).(v1.Image), nil
}

func TestCheckTo(t *testing.T) {
	t.Parallel()
	tests := []struct {
		to   string
		want string // "" when accepted
	}{
		{to: "0.4.2"}, {to: "v0.4.2"}, {to: "0.4.2-rc.3"}, {to: "9f2c4e1"}, {to: " 9F2C4E1 "}, {to: strings.Repeat("a", 40)},
		{to: "sha256:" + strings.Repeat("0", 64)},
		{to: "", want: "name the artifact"},
		{to: "0.4.2; rm -rf /", want: "not a version, a commit sha or a digest"},
		{to: "$(id)", want: "not a version"},
		{to: "0.4.2\n::error::x", want: "not a version"},
		{to: "sha256:abc", want: "sha256:<64 lower-case hex>"},
		{to: "latest", want: "not a version"},
		{to: strings.Repeat("a", 41), want: "not a version"},
	}
	for _, tc := range tests {
		t.Run(tc.to, func(t *testing.T) {
			t.Parallel()
			err := hold.CheckTo(tc.to)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("CheckTo(%q) = %v", tc.to, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("CheckTo(%q) = %v, want one line containing %q", tc.to, err, tc.want)
			}
		})
	}
}

// A freeze set during a rollback's hold keeps the rollback's reason and target and adds its own;
// a reason that would make the record too long is refused, and nothing is written.
func TestSetDuringRollbackHold(t *testing.T) {
	t.Parallel()
	_, reg := open(t)
	ctx := context.Background()
	const digest = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
	const sha = "9f2c4e1a7b3d5f60718293a4b5c6d7e8f9012345"
	if _, err := hold.Set(ctx, reg, tagsOf(t, reg), hold.Record{Reason: "0.4.2 broke login", Actor: "oncall", Time: when, Digest: digest, Sha: sha}, hold.Options{}); err != nil {
		t.Fatal(err)
	}
	ch, err := hold.Set(ctx, reg, tagsOf(t, reg), hold.Record{Reason: "freeze", Actor: "lead", Time: when}, hold.Options{})
	if err != nil || !ch.Wrote {
		t.Fatalf("freeze during the rollback's hold: %+v, %v; want a new record", ch, err)
	}
	cur, err := hold.Read(ctx, reg, tagsOf(t, reg))
	if err != nil {
		t.Fatal(err)
	}
	if cur.Reason != "0.4.2 broke login; freeze" || cur.Digest != digest || cur.Sha != sha || cur.Actor != "lead" || !cur.Held() {
		t.Errorf("hold after the freeze = %+v, want both reasons, the rollback's target and the new actor", cur)
	}
	long := strings.Repeat("x", hold.MaxReason-10)
	if _, err := hold.Set(ctx, reg, tagsOf(t, reg), hold.Record{Reason: long, Actor: "lead", Time: when}, hold.Options{}); err == nil || !strings.Contains(err.Error(), "release the hold and set it again") {
		t.Errorf("a reason too long to join: err = %v", err)
	}
	if after, _ := hold.Read(ctx, reg, tagsOf(t, reg)); after.Tag != cur.Tag {
		t.Errorf("a refused join wrote %s", after.Tag)
	}
}
