package status_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ocipromote/ocipromote/pkg/claim"
	"github.com/ocipromote/ocipromote/pkg/hold"
	"github.com/ocipromote/ocipromote/pkg/oci"
	"github.com/ocipromote/ocipromote/pkg/oci/ocitest"
	"github.com/ocipromote/ocipromote/pkg/pipeline"
	"github.com/ocipromote/ocipromote/pkg/status"
	"github.com/ocipromote/ocipromote/pkg/version"
)

var day = time.Date(2026, 8, 1, 10, 0, 0, 0, time.UTC)

// repo is a repository where a (0.0.1-rc.1) became 0.0.1, b (0.0.1-rc.2) was never validated,
// and c (0.0.1-rc.3) became 0.0.2; each was committed a day after the one before.
func repo(t *testing.T) (*ocitest.Server, *oci.Repository, map[string]pipeline.BuildResult) {
	t.Helper()
	srv := ocitest.New(t, ocitest.MaxPage(4))
	reg, err := oci.Open(srv.Host+"/acme/app", oci.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	rcs := map[string]pipeline.BuildResult{}
	for i, label := range []string{"a", "b", "c"} {
		rcs[label] = build(t, reg, label, day.AddDate(0, 0, i))
	}
	for _, label := range []string{"a", "c"} {
		if _, err := pipeline.TagValidated(ctx, reg, pipeline.PromoteInput{Digest: rcs[label].Digest}); err != nil {
			t.Fatal(err)
		}
	}
	return srv, reg, rcs
}

// build pushes a release candidate of content label, as build-rc does.
func build(t *testing.T, reg *oci.Repository, label string, created time.Time) pipeline.BuildResult {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "app.yaml"), []byte("build: "+label+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	rc, err := pipeline.BuildRC(context.Background(), reg, pipeline.BuildInput{Dir: dir, Sha: strings.Repeat(label, 40), Ref: "main",
		Created: created, ShortLen: 7, Rules: version.Rules{Bump: version.Patch}})
	if err != nil {
		t.Fatal(err)
	}
	return rc
}

func TestGather(t *testing.T) {
	t.Parallel()
	srv, reg, rcs := repo(t)
	seen := len(srv.Requests())
	r, err := status.Gather(context.Background(), reg, status.DefaultSelectors)
	if err != nil {
		t.Fatal(err)
	}
	// One listing (paged), a HEAD per sha-<s>, validated-<s>, stable and selected tag, a GET per
	// manifest; nothing else.
	count := map[string]int{}
	for _, req := range srv.Requests()[seen:] {
		method, path, _ := strings.Cut(req, " ")
		switch {
		case strings.HasSuffix(path, "/tags/list"):
			count["list"]++
		case method == "HEAD":
			count["HEAD"]++
		case method == "GET" && strings.Contains(path, "/manifests/sha256:"):
			count["GET"]++
		default:
			t.Errorf("unexpected request %s", req)
		}
	}
	// 18 tags at 4 a page, so 5 pages: 3 artifacts with 4 tags each (sha-, integration-, the
	// release candidate and its claim), 2 stable tags with their claims, 2 validated- markers.
	// HEADs: 3 sha-, 2 validated-, 2 stable and integration's 0.0.1-rc.3.
	if got, want := count, map[string]int{"list": 5, "HEAD": 8, "GET": 3}; !maps.Equal(got, want) {
		t.Errorf("requests = %v, want %v", got, want)
	}
	want := []status.Artifact{
		{Short: "ccccccc", Sha: strings.Repeat("c", 40), RC: "0.0.1-rc.3", Stable: []string{"0.0.2"}, Validated: true, Digest: rcs["c"].Digest,
			Created: day.AddDate(0, 0, 2), Revision: "main@sha1:" + strings.Repeat("c", 40), SelectedBy: []string{"integration", "live"}},
		{Short: "bbbbbbb", Sha: strings.Repeat("b", 40), RC: "0.0.1-rc.2", Digest: rcs["b"].Digest,
			Created: day.AddDate(0, 0, 1), Revision: "main@sha1:" + strings.Repeat("b", 40), SupersededBy: "0.0.2"},
		{Short: "aaaaaaa", Sha: strings.Repeat("a", 40), RC: "0.0.1-rc.1", Stable: []string{"0.0.1"}, Validated: true, Digest: rcs["a"].Digest,
			Created: day, Revision: "main@sha1:" + strings.Repeat("a", 40)},
	}
	if got, want := len(r.Artifacts), len(want); got != want {
		t.Fatalf("%d artifacts, want %d: %+v", got, want, r.Artifacts)
	}
	for i := range want {
		got, _ := json.Marshal(r.Artifacts[i])
		exp, _ := json.Marshal(want[i])
		if !bytes.Equal(got, exp) {
			t.Errorf("artifact %d:\n got %s\nwant %s", i, got, exp)
		}
	}
	wantSel := []status.Selection{
		{Selector: status.DefaultSelectors[0], Tag: "0.0.1-rc.3", Digest: rcs["c"].Digest, Short: "ccccccc"},
		{Selector: status.DefaultSelectors[1], Tag: "0.0.2", Digest: rcs["c"].Digest, Short: "ccccccc"},
	}
	if got, want := r.Selections, wantSel; !reflect.DeepEqual(got, want) {
		t.Errorf("selections:\n got %+v\nwant %+v", got, want)
	}
	if r.Hold.Held() {
		t.Errorf("hold = %+v, want off", r.Hold)
	}
}

// After a rollback, live is on the rolled-back artifact and held; integration stays on the highest
// release candidate (the rollback's stable tag is not one), which is not held, since build-rc
// still moves it, and is pending: validating it would promote it above the rollback.
func TestGatherAfterRollback(t *testing.T) {
	t.Parallel()
	_, reg, rcs := repo(t)
	ctx := context.Background()
	rcs["d"] = build(t, reg, "d", day.AddDate(0, 0, 3))
	if _, err := hold.Rollback(ctx, reg, hold.RollbackInput{To: "aaaaaaa", Record: hold.Record{Reason: "bad | config", Actor: "alice", Time: day}}); err != nil {
		t.Fatal(err)
	}
	r, err := status.Gather(ctx, reg, status.DefaultSelectors)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, tag, short string
		held             bool
	}{
		{"integration", "0.0.3-rc.1", "ddddddd", false},
		{"live", "0.0.3", "aaaaaaa", true},
	}
	for i, tc := range tests {
		s := r.Selections[i]
		if s.Name != tc.name || s.Tag != tc.tag || s.Short != tc.short || s.Held != tc.held {
			t.Errorf("selection %d = %+v, want %s %s %s held=%v", i, s, tc.name, tc.tag, tc.short, tc.held)
		}
	}
	if d := r.Artifacts[0]; d.Short != "ddddddd" || d.SupersededBy != "" || len(d.Stable) != 0 {
		t.Errorf("integration's candidate = %+v, want it pending", d)
	}
	if got, want := r.Artifacts[3].Stable, []string{"0.0.3", "0.0.1"}; !slices.Equal(got, want) {
		t.Errorf("rolled-back artifact's stable tags = %v, want %v", got, want)
	}
	if !r.Hold.Held() || r.Hold.Digest != rcs["a"].Digest {
		t.Errorf("hold = %+v", r.Hold)
	}

	var text bytes.Buffer
	if err := r.Text(&text); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text.String(), "hold: ON: hold set by alice") {
		t.Errorf("text does not show the hold:\n%s", text.String())
	}
	for _, row := range [][]string{
		{"aaaaaaa", "0.0.1-rc.1", "0.0.3,0.0.1", "yes", "2026-08-01T10:00:00Z", rcs["a"].Digest[:19], "main@sha1:" + strings.Repeat("a", 40), "selected", "by", "live"},
		{"live", ">=", "0.0.0", "0.0.3", "aaaaaaa", rcs["a"].Digest[:19], "held"},
		{"integration", ">=", "0.0.0-0", "filter", ".*-rc.*", "0.0.3-rc.1", "ddddddd", rcs["d"].Digest[:19], "-"},
	} {
		if !hasRow(text.String(), row) {
			t.Errorf("text has no row %q:\n%s", row, text.String())
		}
	}
	md := r.Markdown()
	for _, want := range []string{"| live | `>= 0.0.0` | `0.0.3` | `aaaaaaa` | `" + rcs["a"].Digest + "` | held |", "bad \\| config", "| `bbbbbbb` | `0.0.1-rc.2` |"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
}

// Markers and claims count for the artifact they point at, and only for it: a validated-<s> on
// another artifact does not make <s> validated, a claim is no row and no stable version, and a
// stable version another artifact claimed but never wrote counts as taken by it (as
// tag-validated counts it), while the claimant's own claim does not.
func TestGatherMarkersAndClaims(t *testing.T) {
	t.Parallel()
	_, reg, rcs := repo(t)
	ctx := context.Background()
	rcs["d"] = build(t, reg, "d", day.AddDate(0, 0, 3))
	rcs["e"] = build(t, reg, "e", day.AddDate(0, 0, 4))
	tagAt := func(label string, tag string) {
		t.Helper()
		m, err := reg.Get(ctx, rcs[label].Digest)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := reg.Tag(ctx, tag, m, oci.Write{}); err != nil {
			t.Fatal(err)
		}
	}
	claimTag := func(v, label string) string {
		c, err := claim.New(v, strings.Repeat(label, 7), rcs[label].Digest)
		if err != nil {
			t.Fatal(err)
		}
		return c.Tag()
	}
	tagAt("a", "validated-bbbbbbb")    // a marker written by hand on the wrong artifact
	tagAt("b", claimTag("0.0.3", "b")) // b's promotion claimed 0.0.3, then backed off
	tagAt("e", claimTag("0.0.3", "e")) // e's promotion claimed 0.0.3 and is under way
	r, err := status.Gather(ctx, reg, status.DefaultSelectors)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range r.Artifacts {
		got = append(got, fmt.Sprintf("%s %s %v validated=%v superseded=%s", a.Short, a.RC, a.Stable, a.Validated, a.SupersededBy))
	}
	want := []string{
		"eeeeeee 0.0.3-rc.2 [] validated=false superseded=",
		"ddddddd 0.0.3-rc.1 [] validated=false superseded=0.0.3",
		"ccccccc 0.0.1-rc.3 [0.0.2] validated=true superseded=",
		"bbbbbbb 0.0.1-rc.2 [] validated=false superseded=0.0.3",
		"aaaaaaa 0.0.1-rc.1 [0.0.1] validated=true superseded=",
	}
	if !slices.Equal(got, want) {
		t.Errorf("artifacts:\n got %q\nwant %q", got, want)
	}
}

func hasRow(text string, fields []string) bool {
	for _, line := range strings.Split(text, "\n") {
		if slices.Equal(strings.Fields(line), fields) {
			return true
		}
	}
	return false
}

func TestLimit(t *testing.T) {
	t.Parallel()
	_, reg, _ := repo(t)
	r, err := status.Gather(context.Background(), reg, status.DefaultSelectors)
	if err != nil {
		t.Fatal(err)
	}
	r.Limit(1)
	if len(r.Artifacts) != 1 || r.Artifacts[0].Short != "ccccccc" || r.Omitted != 2 {
		t.Errorf("Limit(1) kept %+v, omitted %d", r.Artifacts, r.Omitted)
	}
}

func TestParseSelectors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		want    []status.Selector
		wantErr string
	}{
		{name: "none is the pipeline's two clusters", in: "\n", want: status.DefaultSelectors},
		{name: "one", in: "live=>= 1.0.0, < 2.0.0", want: []status.Selector{{Name: "live", Constraint: ">= 1.0.0, < 2.0.0"}}},
		{name: "with a semver filter", in: "integration=>= 0.0.0-0;.*-rc.*\nlive=>= 0.0.0", want: []status.Selector{
			{Name: "integration", Constraint: ">= 0.0.0-0", Filter: ".*-rc.*"}, {Name: "live", Constraint: ">= 0.0.0"}}},
		{name: "no name", in: "=>= 0.0.0", wantErr: "NAME=CONSTRAINT"},
		{name: "no constraint", in: "live", wantErr: "NAME=CONSTRAINT"},
		{name: "bad constraint", in: "live=>>1", wantErr: "constraint"},
		{name: "bad filter", in: "live=>= 0.0.0;(", wantErr: "filter"},
		{name: "twice", in: "live=>= 0.0.0\nlive=>= 1.0.0", wantErr: "twice"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := status.ParseSelectors(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParseSelectors(%q) error = %v, want %q", tc.in, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("ParseSelectors(%q) = %+v, want %+v", tc.in, got, tc.want)
			}
		})
	}
}

// Every hold record is shown, the current one first: a freeze, its release and a rollback's hold
// are three records, and a person reading status sees who changed the hold when, in order.
func TestGatherShowsEveryHoldRecord(t *testing.T) {
	t.Parallel()
	_, reg, _ := repo(t)
	ctx := context.Background()
	changes := []struct {
		change func(context.Context, hold.Writer, []string, hold.Record, hold.Options) (hold.Change, error)
		rec    hold.Record
	}{
		{hold.Set, hold.Record{Reason: "freeze", Actor: "alice", Time: day}},
		{hold.Release, hold.Record{Reason: "freeze over", Actor: "bob", Time: day.Add(time.Hour)}},
		{hold.Set, hold.Record{Reason: "incident 7", Actor: "carol", Time: day.Add(2 * time.Hour)}},
	}
	for _, c := range changes {
		list, err := reg.Tags(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.change(ctx, reg, list, c.rec, hold.Options{}); err != nil {
			t.Fatal(err)
		}
	}
	r, err := status.Gather(ctx, reg, status.DefaultSelectors)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, h := range r.HoldRecords {
		got = append(got, h.Tag+" "+h.State+" "+h.Actor)
	}
	if want := []string{"hold-3 on carol", "hold-2 off bob", "hold-1 on alice"}; !slices.Equal(got, want) {
		t.Errorf("hold records = %v, want %v", got, want)
	}
	if r.Hold.Tag != "hold-3" {
		t.Errorf("current hold = %s, want hold-3", r.Hold.Tag)
	}
	var text bytes.Buffer
	if err := r.Text(&text); err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"earlier: hold released by bob", "earlier: hold set by alice"} {
		if !strings.Contains(text.String(), line) || !strings.Contains(r.Markdown(), strings.TrimPrefix(line, "earlier: ")) {
			t.Errorf("text or markdown does not show %q:\n%s\n%s", line, text.String(), r.Markdown())
		}
	}
}

// Issue 14: status of a repository that does not exist said "(no commit artifacts)", exit 0.
func TestGatherNoRepository(t *testing.T) {
	t.Parallel()
	srv := ocitest.New(t)
	reg, err := oci.Open(srv.Host+"/acme/typo", oci.Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = status.Gather(context.Background(), reg, status.DefaultSelectors)
	if !errors.Is(err, status.ErrNoRepository) || !strings.Contains(err.Error(), "acme/typo") || !strings.Contains(err.Error(), "check the repository name") {
		t.Errorf("Gather of a missing repository = %v, want ErrNoRepository naming it", err)
	}
}

// Each stage's hold shows beside live's, and neither is taken for the other: a freeze of preprod
// leaves live's hold off, and the report names the stage in every format.
func TestGatherShowsStageHolds(t *testing.T) {
	t.Parallel()
	_, reg, _ := repo(t)
	ctx := context.Background()
	for _, c := range []struct {
		stage  hold.Stage
		change func(hold.Stage, context.Context, hold.Writer, []string, hold.Record, hold.Options) (hold.Change, error)
		rec    hold.Record
	}{
		{"preprod", hold.Stage.Set, hold.Record{Reason: "load test", Actor: "alice", Time: day}},
		{"dev", hold.Stage.Set, hold.Record{Reason: "cluster upgrade", Actor: "bob", Time: day}},
		{"dev", hold.Stage.Release, hold.Record{Reason: "upgraded", Actor: "bob", Time: day.Add(time.Hour)}},
	} {
		list, err := reg.Tags(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.change(c.stage, ctx, reg, list, c.rec, hold.Options{}); err != nil {
			t.Fatal(err)
		}
	}
	r, err := status.Gather(ctx, reg, status.DefaultSelectors)
	if err != nil {
		t.Fatal(err)
	}
	if r.Hold.Held() || r.Hold.Tag != "" || len(r.HoldRecords) != 0 {
		t.Errorf("live's hold = %+v, records %v; want never set", r.Hold, r.HoldRecords)
	}
	var got []string
	for _, h := range r.StageHolds {
		got = append(got, fmt.Sprintf("%s %s %s", h.Stage, h.Tag, h.State.State))
	}
	if want := []string{"dev hold-dev-2 off", "preprod hold-preprod-1 on"}; !slices.Equal(got, want) {
		t.Errorf("stage holds = %v, want %v", got, want)
	}
	for _, s := range r.Selections {
		if s.Held {
			t.Errorf("selection %s held by another stage's hold", s.Name)
		}
	}
	var text bytes.Buffer
	if err := r.Text(&text); err != nil {
		t.Fatal(err)
	}
	if want := "hold of stage preprod: ON: hold set by alice"; !strings.Contains(text.String(), want) {
		t.Errorf("text lacks %q:\n%s", want, text.String())
	}
	if want := "**hold of stage `preprod`:** ON: hold set by alice"; !strings.Contains(r.Markdown(), want) {
		t.Errorf("markdown lacks %q:\n%s", want, r.Markdown())
	}
	if h := r.Headline(); !strings.Contains(h, "hold of stage preprod on") || strings.Contains(h, "stage dev") {
		t.Errorf("headline %q: want preprod's hold on, dev's (released) not named", h)
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if want := `"stage_holds":[{"stage":"dev","state":"off"`; !strings.Contains(string(b), want) {
		t.Errorf("JSON lacks %s:\n%s", want, b)
	}
}
