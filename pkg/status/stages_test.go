package status_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ocipromote/ocipromote/pkg/hold"
	"github.com/ocipromote/ocipromote/pkg/oci"
	"github.com/ocipromote/ocipromote/pkg/oci/ocitest"
	"github.com/ocipromote/ocipromote/pkg/pass"
	"github.com/ocipromote/ocipromote/pkg/pipeline"
	"github.com/ocipromote/ocipromote/pkg/stage"
	"github.com/ocipromote/ocipromote/pkg/status"
)

func digestOf(label string) string { return "sha256:" + strings.Repeat(label, 64) }

// wednesday is 11:00 in London, inside prod's window Mon-Thu 09:00-16:00.
var wednesday = time.Date(2026, 8, 5, 10, 0, 0, 0, time.UTC)

// chainFacts is a dev → preprod → prod repository: a (1.2.0-rc.1) went all the way to prod as
// 1.2.0; b (1.3.0-rc.3) is in preprod as 1.3.0-preprod.3 and passed there 3h ago (preprod soaks
// 2h); c (1.3.0-rc.4) and d (1.3.0-rc.5) passed dev; e (1.1.0-rc.2) passed dev but ranks below
// what preprod runs; f (1.3.0-rc.6) only failed in dev.
func chainFacts(t *testing.T) status.ChainFacts {
	t.Helper()
	c, err := stage.Parse("dev,preprod,prod")
	if err != nil {
		t.Fatal(err)
	}
	windows, err := stage.ParseWindows(c, []string{"prod=Mon-Thu 09:00-16:00 Europe/London"})
	if err != nil {
		t.Fatal(err)
	}
	f := status.ChainFacts{
		Chain: status.Chain{Stages: c, Windows: windows, Soaks: stage.Soaks{"preprod": 2 * time.Hour}, Now: wednesday},
		Tags: []string{"1.2.0-rc.1", "1.2.0-preprod.1", "1.2.0", "1.3.0-rc.3", "1.3.0-preprod.3", "1.3.0-rc.4", "1.3.0-rc.5", "1.1.0-rc.2", "1.3.0-rc.6",
			"hold-1", "sha-aaaaaaa"},
		Digests: map[string]string{"1.2.0-preprod.1": digestOf("a"), "1.2.0": digestOf("a"), "1.3.0-preprod.3": digestOf("b")},
		Holds:   map[string]hold.State{},
	}
	for label, rc := range map[string]string{"a": "1.2.0-rc.1", "b": "1.3.0-rc.3", "c": "1.3.0-rc.4", "d": "1.3.0-rc.5", "e": "1.1.0-rc.2", "f": "1.3.0-rc.6"} {
		a := status.Artifact{Short: strings.Repeat(label, 7), Digest: digestOf(label), RC: rc}
		if label == "a" {
			a.Stable = []string{"1.2.0"}
		}
		f.Artifacts = append(f.Artifacts, a)
	}
	ev := func(name, label string, kinds ...string) pass.Evidence {
		var recs []pass.Record
		for i, k := range kinds {
			recs = append(recs, pass.Record{Stage: name, Digest: digestOf(label), Kind: k, Time: wednesday.Add(time.Duration(i-len(kinds)) * time.Hour)})
		}
		e := pass.Evidence{Stage: name, Digest: digestOf(label)}
		e.PassedAt, e.Passed, e.Cancelled = pass.Standing(recs)
		return e
	}
	f.Evidence = []pass.Evidence{
		ev("dev", "a", pass.Pass), ev("preprod", "a", pass.Pass),
		ev("dev", "b", pass.Pass), ev("preprod", "b", pass.Pass, pass.Pass, pass.Pass), // first pass 3h ago
		ev("dev", "c", pass.Pass), ev("dev", "d", pass.Pass), ev("dev", "e", pass.Pass), ev("dev", "f", pass.Fail),
	}
	return f
}

// pendingOf writes each stage's pending candidates as "<target> <gates>".
func pendingOf(stages []status.Stage) map[string][]string {
	out := map[string][]string{}
	for _, s := range stages {
		for _, p := range s.Pending {
			gate := "promote"
			if !p.Verdict.Promote {
				gate = p.Verdict.Reason
				if !p.Verdict.At.IsZero() {
					gate += " at " + p.Verdict.At.UTC().Format(time.RFC3339)
				}
			}
			out[s.Name] = append(out[s.Name], p.Target+" "+gate)
		}
	}
	return out
}

func TestStages(t *testing.T) {
	t.Parallel()
	held := hold.State{Record: hold.Record{State: hold.On, Reason: "load test", Actor: "alice", Time: wednesday.Add(-time.Hour)}, Tag: "hold-preprod-1"}
	tests := []struct {
		name   string
		change func(f *status.ChainFacts)
		want   map[string][]string
	}{
		{"every gate open", nil, map[string][]string{
			"preprod": {"1.3.0-preprod.5 promote", "1.3.0-preprod.4 promote"},
			"prod":    {"1.3.0 promote"},
		}},
		{"preprod held", func(f *status.ChainFacts) { f.Holds["preprod"] = held }, map[string][]string{
			"preprod": {"1.3.0-preprod.5 held", "1.3.0-preprod.4 held"},
			"prod":    {"1.3.0 promote"},
		}},
		{"outside prod's window: Wednesday 17:00 in London", func(f *status.ChainFacts) { f.Now = time.Date(2026, 8, 5, 16, 0, 0, 0, time.UTC) }, map[string][]string{
			"preprod": {"1.3.0-preprod.5 promote", "1.3.0-preprod.4 promote"},
			"prod":    {"1.3.0 window at 2026-08-06T08:00:00Z"},
		}},
		{"soaking in preprod for another hour", func(f *status.ChainFacts) { f.Soaks["preprod"] = 4 * time.Hour }, map[string][]string{
			"preprod": {"1.3.0-preprod.5 promote", "1.3.0-preprod.4 promote"},
			"prod":    {"1.3.0 soak at 2026-08-05T11:00:00Z"},
		}},
		{"a failure in preprod cancelled the pass", func(f *status.ChainFacts) {
			f.Evidence[3].Passed, f.Evidence[3].PassedAt, f.Evidence[3].Cancelled = false, time.Time{}, true
		}, map[string][]string{
			"preprod": {"1.3.0-preprod.5 promote", "1.3.0-preprod.4 promote"},
			"prod":    {"1.3.0 soak"},
		}},
		{"a newer candidate is in preprod already", func(f *status.ChainFacts) {
			f.Tags = append(f.Tags, "1.3.0-preprod.5")
			f.Digests["1.3.0-preprod.5"] = digestOf("d")
		}, map[string][]string{
			"prod": {"1.3.0 promote"},
		}},
		{"b is in prod already", func(f *status.ChainFacts) {
			f.Artifacts[slices.IndexFunc(f.Artifacts, func(a status.Artifact) bool { return a.RC == "1.3.0-rc.3" })].Stable = []string{"1.3.0"}
		}, map[string][]string{
			"preprod": {"1.3.0-preprod.5 promote", "1.3.0-preprod.4 promote"},
		}},
		{"b is superseded in prod", func(f *status.ChainFacts) {
			f.Artifacts[slices.IndexFunc(f.Artifacts, func(a status.Artifact) bool { return a.RC == "1.3.0-rc.3" })].SupersededBy = "1.3.1"
		}, map[string][]string{
			"preprod": {"1.3.0-preprod.5 promote", "1.3.0-preprod.4 promote"},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := chainFacts(t)
			if tc.change != nil {
				tc.change(&f)
			}
			stages, err := status.Stages(f)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := fmt.Sprint(pendingOf(stages)), fmt.Sprint(tc.want); got != want {
				t.Errorf("pending = %s\nwant      %s", got, want)
			}
		})
	}
}

// Each stage reports what its OCIRepository (the selection `ocipromote stages` prints) picks, and
// its hold and gates.
func TestStagesSelect(t *testing.T) {
	t.Parallel()
	f := chainFacts(t)
	f.Holds["prod"] = hold.State{Record: hold.Record{State: hold.Off}, Tag: "hold-1"}
	stages, err := status.Stages(f)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range stages {
		want, _ := f.Stages.Selection(s.Name)
		if s.Selection != want {
			t.Errorf("%s selection %+v, want %+v", s.Name, s.Selection, want)
		}
		got = append(got, fmt.Sprintf("%s from %q picks %s (%s) hold %v windows %v soak %q", s.Name, s.From, s.Tag, s.Short, s.Hold != nil, s.Windows, s.Soak))
	}
	want := []string{
		`dev from "" picks 1.3.0-rc.6 () hold false windows [] soak ""`,
		`preprod from "dev" picks 1.3.0-preprod.3 (bbbbbbb) hold false windows [] soak "2h0m0s"`,
		`prod from "preprod" picks 1.2.0 (aaaaaaa) hold true windows [Mon-Thu 09:00-16:00 Europe/London] soak ""`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("stages:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// The report of a chain says, in text and in a job summary with a flowchart, which gate holds
// each pending candidate.
func TestStagesRender(t *testing.T) {
	t.Parallel()
	f := chainFacts(t)
	f.Holds["preprod"] = hold.State{Record: hold.Record{State: hold.On, Reason: "load test", Actor: "alice", Time: wednesday.Add(-time.Hour)}, Tag: "hold-preprod-1"}
	f.Soaks["preprod"] = 4 * time.Hour
	stages, err := status.Stages(f)
	if err != nil {
		t.Fatal(err)
	}
	r := status.Report{Repository: "example.com/app", Chain: f.Stages.String(), Stages: stages}
	var text strings.Builder
	if err := r.Text(&text); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"stages dev → preprod → prod",
		"preprod is held: hold set by alice at 2026-08-05T09:00:00Z (hold-preprod-1): load test",
		"pending for preprod, newest first:\n  1.3.0-rc.5 (ddddddd) → 1.3.0-preprod.5: deferred (held): the stage is held: hold set by alice",
		"  1.3.0-preprod.3 (bbbbbbb) → 1.3.0: deferred (soak until 2026-08-05T11:00:00Z): soaking for 4h0m0s since 2026-08-05T07:00:00Z; it ends at 2026-08-05T11:00:00Z",
	} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, text.String())
		}
	}
	md := r.Markdown()
	for _, want := range []string{
		"```mermaid\nflowchart LR\n  s0[\"dev<br/>1.3.0-rc.6\"]\n  s1[\"preprod<br/>1.3.0-preprod.3<br/>held\"]\n  s2[\"prod<br/>1.2.0\"]\n  s0 -->|\"2 pending\"| s1\n  s1 -->|\"1 pending\"| s2\n```",
		"| prod | `1.3.0-preprod.3` | `1.3.0` | `bbbbbbb` | soak until 2026-08-05T11:00:00Z | soaking for 4h0m0s",
		"| preprod | `1.3.0-rc.5` | `1.3.0-preprod.5` | `ddddddd` | held | the stage is held: hold set by alice",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	if got, want := r.Headline(), "hold off; 2 pending for preprod; 1 pending for prod"; got != want {
		t.Errorf("headline %q, want %q", got, want)
	}
}

// GatherChain reads the pass records only of candidates that could be pending: b, in preprod
// already, has a pass in dev that costs no request; c's is read and makes it pending.
func TestGatherChainReadsOnlyWhatCanBePending(t *testing.T) {
	t.Parallel()
	srv := ocitest.New(t)
	reg, err := oci.Open(srv.Host+"/acme/app", oci.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	rcs := map[string]pipeline.BuildResult{}
	for i, label := range []string{"a", "b", "c"} {
		rcs[label] = build(t, reg, label, day.AddDate(0, 0, i))
	}
	m, err := reg.Get(ctx, rcs["b"].Digest)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Tag(ctx, "0.0.1-preprod.2", m, oci.Write{}); err != nil {
		t.Fatal(err)
	}
	passTags := map[string]string{}
	for _, label := range []string{"b", "c"} {
		list, err := reg.Tags(ctx)
		if err != nil {
			t.Fatal(err)
		}
		w, err := pass.Write(ctx, reg, list, pass.Record{Stage: "dev", Digest: rcs[label].Digest, Kind: pass.Pass, Cluster: "dev",
			Revision: rcs[label].Version + "@" + rcs[label].Digest, Time: wednesday}, pass.Options{})
		if err != nil {
			t.Fatal(err)
		}
		passTags[label] = w.Entry.Tag
	}
	c, err := stage.Parse("dev,preprod,prod")
	if err != nil {
		t.Fatal(err)
	}
	seen := len(srv.Requests())
	r, err := status.GatherChain(ctx, reg, status.ChainSelectors(c), status.Chain{Stages: c, Now: wednesday})
	if err != nil {
		t.Fatal(err)
	}
	if got := pendingOf(r.Stages); fmt.Sprint(got) != fmt.Sprint(map[string][]string{"preprod": {"0.0.1-preprod.3 promote"}}) {
		t.Errorf("pending %v", got)
	}
	for _, req := range srv.Requests()[seen:] {
		if strings.HasSuffix(req, "/manifests/"+passTags["b"]) {
			t.Errorf("read b's pass record, though b is in preprod already: %s", req)
		}
	}
}
