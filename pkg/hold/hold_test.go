package hold_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

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

func open(t *testing.T) (*ocitest.Server, *oci.Repository) {
	t.Helper()
	srv := ocitest.New(t, ocitest.MaxPage(3))
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
		change func(context.Context, hold.Registry, []string, hold.Record, bool) (hold.Change, error)
		reason string
		held   bool
		tag    string
		wrote  bool
	}{
		{"set", hold.Set, "freeze for the migration", true, "hold-1", true},
		{"set again", hold.Set, "another reason", true, "hold-1", false},
		{"release", hold.Release, "migration done", false, "hold-2", true},
		{"release again", hold.Release, "", false, "hold-2", false},
		{"set after release", hold.Set, "incident 42", true, "hold-3", true},
	}
	for _, s := range steps {
		ch, err := s.change(ctx, reg, tagsOf(t, reg), hold.Record{Reason: s.reason, Actor: "alice", Time: when}, false)
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
		if s.wrote {
			if got, want := cur.Reason, s.reason; got != want {
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
	ch, err := hold.Set(context.Background(), reg, nil, hold.Record{Reason: "r", Actor: "a", Time: when}, true)
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
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "app.yaml"), []byte("build: "+label+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sha := strings.Repeat(label, 40)[:40]
	res, err := pipeline.BuildRC(context.Background(), reg, pipeline.BuildInput{
		Dir: dir, Sha: sha, Ref: "main", Created: when, ShortLen: 7, Rules: version.Rules{Bump: version.Patch},
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
