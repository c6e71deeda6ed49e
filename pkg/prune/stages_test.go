package prune_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ocipromote/ocipromote/pkg/oci"
	"github.com/ocipromote/ocipromote/pkg/oci/ocitest"
	"github.com/ocipromote/ocipromote/pkg/pass"
	"github.com/ocipromote/ocipromote/pkg/pipeline"
	"github.com/ocipromote/ocipromote/pkg/prune"
	"github.com/ocipromote/ocipromote/pkg/stage"
	"github.com/ocipromote/ocipromote/pkg/status"
	"github.com/ocipromote/ocipromote/pkg/version"
)

// chainHistory is a dev → preprod → prod repository, every artifact 60 days old: a..e are
// 0.0.1-rc.1 to rc.5; a and b went into preprod (0.0.1-preprod.1 and .2: preprod selects b), e
// went to prod as 0.0.1, which supersedes the others there; c passed dev (a pass record), so it is
// pending for preprod; d did nothing.
func chainHistory(t *testing.T) (*oci.Repository, map[string]string) {
	t.Helper()
	srv := ocitest.New(t, ocitest.MaxPage(5))
	reg, err := oci.Open(srv.Host+"/acme/team/app", oci.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	digests := map[string]string{}
	for i, label := range []string{"a", "b", "c", "d", "e"} {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "app.yaml"), []byte("build: "+label+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		res, err := pipeline.BuildRC(ctx, reg, pipeline.BuildInput{Dir: dir, Sha: strings.Repeat(label, 40), Ref: "main",
			Created: day.AddDate(0, 0, i), ShortLen: 7, Rules: version.Rules{Bump: version.Patch}})
		if err != nil {
			t.Fatal(err)
		}
		digests[label] = res.Digest
	}
	for tag, label := range map[string]string{"0.0.1-preprod.1": "a", "0.0.1-preprod.2": "b", "preprod-aaaaaaa": "a", "preprod-bbbbbbb": "b"} {
		m, err := reg.Get(ctx, digests[label])
		if err != nil {
			t.Fatal(err)
		}
		if _, err := reg.Tag(ctx, tag, m, oci.Write{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := pipeline.TagValidated(ctx, reg, pipeline.PromoteInput{Digest: digests["e"]}); err != nil {
		t.Fatal(err)
	}
	list, err := reg.Tags(ctx)
	if err != nil {
		t.Fatal(err)
	}
	w, err := pass.Write(ctx, reg, list, pass.Record{Stage: "dev", Digest: digests["c"], Kind: pass.Pass, Cluster: "dev",
		Revision: "0.0.1-rc.3@" + digests["c"], Time: day.AddDate(0, 0, 3)}, pass.Options{})
	if err != nil {
		t.Fatal(err)
	}
	digests["pass"], err = reg.Resolve(ctx, w.Entry.Tag)
	if err != nil {
		t.Fatal(err)
	}
	return reg, digests
}

// With a chain, prune keeps what every stage selects and every candidate pending for a stage
// (with the pass records its promotion rests on), and takes the rest: a stage's own tags and
// markers are the pipeline's, not foreign. Without the chain those tags are foreign, so whatever
// carries them stays, and a candidate whose evidence is a pass record goes like any superseded one.
func TestRunKeepsWhatStagesNeed(t *testing.T) {
	t.Parallel()
	chain, err := stage.Parse("dev,preprod,prod")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		chain stage.Chain
		gone  []string
		why   map[string]string // label → the start of the reason it stays
	}{
		{"default chain", stage.Chain{}, []string{"c", "d"}, map[string]string{"a": "tag 0.0.1-preprod.1 is not one the pipeline writes", "pass": "pass record"}},
		{"dev, preprod, prod", chain, []string{"a", "d"}, map[string]string{
			"b":    "selected by stage preprod (it picks 0.0.1-preprod.2)",
			"c":    "pending for stage preprod: 0.0.1-rc.3 passed dev and would enter it as 0.0.1-preprod.3",
			"e":    "selected by",
			"pass": "pass record",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			reg, digests := chainHistory(t)
			o := prune.Options{Rules: prune.Rules{KeepStable: 1, KeepRCDays: 30, Now: now, Chain: tc.chain}, Selectors: status.DefaultSelectors}
			del := &recorder{}
			res, err := prune.Run(context.Background(), reg, del, o)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := digestsOf(res.Deleted), labels(digests, tc.gone...); !slices.Equal(got, want) {
				t.Errorf("deleted %v, want %v (%v)", got, want, tc.gone)
			}
			for label, why := range tc.why {
				i := slices.IndexFunc(res.Plan.Keep, func(it prune.Item) bool { return it.Digest == digests[label] })
				if i < 0 || !strings.HasPrefix(res.Plan.Keep[i].Reason, why) {
					t.Errorf("%s kept: %v; want the reason %q; plan %+v", label, i >= 0, why, res.Plan.Keep)
				}
			}
		})
	}
}
