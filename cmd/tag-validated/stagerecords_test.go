package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/ocipromote/ocipromote/pkg/pass"
	"github.com/ocipromote/ocipromote/pkg/records/githubtest"
	"github.com/ocipromote/ocipromote/pkg/step/steptest"
)

// TestStagePromotionRecordsItsDeployment: tag-validated promoting into the middle stage of
// dev,preprod,prod writes preprod's GitHub deployment with dev's pass in its status, and the
// promotion into prod writes prod's, with the release notes listing both stages' evidence.
func TestStagePromotionRecordsItsDeployment(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, repo, reg, chain, rc := builtInChain(t, "acme/records")
	const token = "ghs_StageRecordsT0ken"
	gh := githubtest.New(t, "acme", "platform", githubtest.Token(token))
	gh.AddCommit(githubtest.Commit{Sha: commit, Message: "change replicas", Author: "Alice", Date: time.Unix(0, 0).UTC()})
	env := map[string]string{
		"GITHUB_REPOSITORY": "acme/platform", "GITHUB_API_URL": gh.APIURL(), "GITHUB_TOKEN": token,
		"INPUT_DEPLOYMENTS": "true", "INPUT_RELEASE": "true", "INPUT_GITHUB_WRITE_INTERVAL": "0s",
	}
	at := time.Date(2026, 8, 1, 10, 0, 0, 0, time.UTC)
	passed := func(name, revision, cluster, message string, at time.Time) {
		t.Helper()
		list, err := reg.Tags(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := pass.Write(ctx, reg, list, pass.Record{Stage: name, Digest: rc.Digest, Kind: pass.Pass, Revision: revision, Cluster: cluster, Message: message, Time: at}, pass.Options{}); err != nil {
			t.Fatal(err)
		}
	}
	promoteTo := func(to string) {
		t.Helper()
		r := steptest.Invoke(t, command, run, env, "--repository", repo, "--digest", rc.Digest, "--stages", chain.String(), "--to", to, "--json")
		var got map[string]string
		if err := steptest.DecodeOutputs(r.Stdout, &got); err != nil || r.Code != 0 || got["promoted"] != "true" {
			t.Fatalf("to %s: exit %d, outputs %q (%v):\n%s", to, r.Code, r.Stdout, err, r.Stderr)
		}
		if strings.Contains(r.Stderr, "GitHub record not written") {
			t.Errorf("to %s: %s", to, r.Stderr)
		}
	}
	status := func(env string) (string, bool) {
		t.Helper()
		for _, d := range gh.Deployments() {
			if d.Environment == env && len(d.Statuses) > 0 {
				var p struct {
					Evidence *struct{ Stage string } `json:"evidence"`
				}
				if err := json.Unmarshal(d.Payload, &p); err != nil || p.Evidence == nil {
					t.Errorf("%s's deployment payload %s carries no evidence (%v)", env, d.Payload, err)
				}
				return d.Statuses[len(d.Statuses)-1].Description, true
			}
		}
		return "", false
	}

	passed("dev", rc.Version+"@"+rc.Digest, "dev-eu", "Health check passed in 3.1s", at)
	promoteTo("preprod")
	if got, ok := status("preprod"); !ok || got != "0.0.1-preprod.1 promoted to preprod; passed dev on dev-eu at 2026-08-01T10:00:00Z: Health check passed in 3.1s" {
		t.Errorf("preprod's deployment status = %q (found %v), want dev's pass", got, ok)
	}
	if len(gh.Releases()) != 0 {
		t.Errorf("a promotion into preprod made releases %+v; only the last stage is released", gh.Releases())
	}

	passed("preprod", "0.0.1-preprod.1@"+rc.Digest, "preprod-eu", "Kustomization/apps reconciled", at.Add(time.Hour))
	promoteTo("prod")
	if got, ok := status("prod"); !ok || !strings.HasPrefix(got, "0.0.1 promoted to prod; passed preprod on preprod-eu") {
		t.Errorf("prod's deployment status = %q (found %v), want preprod's pass", got, ok)
	}
	rels := gh.Releases()
	if len(rels) != 1 || !strings.Contains(rels[0].Body, "- **dev**: passed on `dev-eu`") || !strings.Contains(rels[0].Body, "- **preprod**: passed on `preprod-eu`") {
		t.Errorf("releases = %+v, want v0.0.1 with both stages' evidence", rels)
	}
}
