package fluxcompat

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	fluxoci "github.com/fluxcd/pkg/oci"

	"github.com/ocipromote/ocipromote/pkg/event/eventtest"
	"github.com/ocipromote/ocipromote/pkg/stage"
	"github.com/ocipromote/ocipromote/pkg/status"
	"github.com/ocipromote/ocipromote/test/registrytest"
)

// chain is the chain of TestFluxFollowsAThreeStageChain.
const chain = "dev,preprod,prod"

// A chain of three stages driven through the built binaries on a real distribution registry, as
// the stages' workflows drive it: build-rc, each stage's Flux event through dispatch-receiver,
// tag-validated --to the next stage. After every step, each stage's OCIRepository selection (as
// `ocipromote stages` prints it), applied by Flux's own selection code and by Flux's OCI client,
// picks exactly the tag and digest `ocipromote status --stages` reports for that stage.
func TestFluxFollowsAThreeStageChain(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	bin := buildBinaries(t)
	repo := registrytest.Start(t) + "/flux/chain"
	client := fluxoci.NewClient(fluxoci.DefaultOptions())
	selections := printedSelections(t, bin)

	// check compares, stage by stage, what Flux selects, what status reports and want (stage:
	// tag, "" for nothing), and returns the digest Flux pulls for each stage.
	check := func(when string, want map[string]string) map[string]string {
		t.Helper()
		rep := chainStatus(t, bin, repo)
		if rep.Chain != chain || len(rep.Stages) != 3 {
			t.Fatalf("%s: status reports chain %q with %d stages, want %s", when, rep.Chain, len(rep.Stages), chain)
		}
		digests := map[string]string{}
		for _, s := range rep.Stages {
			if s.Selection != selections[s.Name] {
				t.Errorf("%s: status selects %s with %+v, `ocipromote stages` prints %+v", when, s.Name, s.Selection, selections[s.Name])
			}
			flux := selectTag(ctx, t, client, repo, s.Selection.Semver, s.Selection.SemverFilter)
			if flux.tag != s.Tag || flux.meta.Digest != s.Digest {
				t.Errorf("%s: Flux's %s OCIRepository picks %q (%s), status reports %q (%s)", when, s.Name, flux.tag, flux.meta.Digest, s.Tag, s.Digest)
			}
			if s.Tag != want[s.Name] {
				t.Errorf("%s: %s selects %q, want %q", when, s.Name, s.Tag, want[s.Name])
			}
			digests[s.Name] = flux.meta.Digest
		}
		return digests
	}
	// promote answers a stage's healthy event about revision as the promote workflow does:
	// dispatch-receiver records the pass and names the promotion, tag-validated makes it.
	promote := func(from, revision, sha, to, version string) {
		t.Helper()
		dec := runJSON(t, filepath.Join(bin, "dispatch-receiver"), "--event-name", "repository_dispatch",
			"--event-path", stageEvent(t, from, revision, sha), "--object", "Kustomization/platform.flux-system",
			"--stages", chain, "--repository", repo, "--json")
		if dec["promote"] != "true" || dec["from"] != from || dec["to"] != to || dec["revision"] != revision {
			t.Fatalf("%s's event about %s = %v, want a promotion from %s to %s", from, revision, dec, from, to)
		}
		out := runJSON(t, filepath.Join(bin, "tag-validated"), "--repository", repo, "--revision", dec["revision"],
			"--stages", chain, "--to", dec["to"], "--json")
		if out["promoted"] != "true" || out["version"] != version {
			t.Fatalf("tag-validated --to %s %s = %v, want %s promoted", to, revision, out, version)
		}
	}
	build := func(label, sha, version string) string {
		t.Helper()
		out := runJSON(t, filepath.Join(bin, "build-rc"), "--repository", repo, "--path", sourceTree(t, label), "--sha", sha,
			"--ref", "main", "--source", source, "--created", created, "--stages", chain, "--json")
		if out["version"] != version {
			t.Fatalf("build-rc of %s = %v, want %s", label, out, version)
		}
		return out["digest"]
	}

	one := build("one", shaOne, "0.0.1-rc.1")
	if got := check("after the first build", map[string]string{"dev": "0.0.1-rc.1"}); got["dev"] != one {
		t.Errorf("dev pulls %s, want the first build %s", got["dev"], one)
	}

	promote("dev", "0.0.1-rc.1@"+one, shaOne, "preprod", "0.0.1-preprod.1")
	if got := check("after dev's event", map[string]string{"dev": "0.0.1-rc.1", "preprod": "0.0.1-preprod.1"}); got["preprod"] != one {
		t.Errorf("preprod pulls %s, want the first build %s", got["preprod"], one)
	}

	// A second build goes to dev alone; preprod keeps what dev proved.
	two := build("two", shaTwo, "0.0.1-rc.2")
	got := check("after the second build", map[string]string{"dev": "0.0.1-rc.2", "preprod": "0.0.1-preprod.1"})
	if got["dev"] != two || got["preprod"] != one {
		t.Errorf("dev pulls %s and preprod %s, want the second build %s and the first %s", got["dev"], got["preprod"], two, one)
	}

	promote("preprod", "0.0.1-preprod.1@"+one, shaOne, "prod", "0.0.1")
	got = check("after preprod's event", map[string]string{"dev": "0.0.1-rc.2", "preprod": "0.0.1-preprod.1", "prod": "0.0.1"})
	if got["prod"] != one {
		t.Errorf("prod pulls %s, want the first build %s", got["prod"], one)
	}

	// The second build, proved in dev, enters preprod above the first; prod keeps the first.
	promote("dev", "0.0.1-rc.2@"+two, shaTwo, "preprod", "0.0.1-preprod.2")
	got = check("after dev's event about the second build", map[string]string{"dev": "0.0.1-rc.2", "preprod": "0.0.1-preprod.2", "prod": "0.0.1"})
	if got["preprod"] != two || got["prod"] != one {
		t.Errorf("preprod pulls %s and prod %s, want the second build %s and the first %s", got["preprod"], got["prod"], two, one)
	}

	// Proved in preprod, it enters prod as the next patch, 0.0.1 being the first build's.
	promote("preprod", "0.0.1-preprod.2@"+two, shaTwo, "prod", "0.0.2")
	got = check("after preprod's event about the second build", map[string]string{"dev": "0.0.1-rc.2", "preprod": "0.0.1-preprod.2", "prod": "0.0.2"})
	if got["dev"] != two || got["preprod"] != two || got["prod"] != two {
		t.Errorf("dev, preprod and prod pull %s, %s and %s, want the second build %s", got["dev"], got["preprod"], got["prod"], two)
	}
}

// printedSelections are the selections `ocipromote stages` prints for the chain, by stage.
func printedSelections(t *testing.T, bin string) map[string]stage.Selection {
	t.Helper()
	var printed struct {
		Stages []struct {
			Name      string          `json:"name"`
			Selection stage.Selection `json:"selection"`
		} `json:"stages"`
	}
	if err := json.Unmarshal(runOut(t, filepath.Join(bin, "ocipromote"), "stages", "--stages", chain, "--json"), &printed); err != nil {
		t.Fatal(err)
	}
	out := map[string]stage.Selection{}
	for _, s := range printed.Stages {
		out[s.Name] = s.Selection
	}
	if len(out) != 3 {
		t.Fatalf("ocipromote stages printed %d stages, want 3: %+v", len(out), printed)
	}
	return out
}

// chainStatus is `ocipromote status --stages` of the repository.
func chainStatus(t *testing.T, bin, repo string) status.Report {
	t.Helper()
	var rep status.Report
	if err := json.Unmarshal(runOut(t, filepath.Join(bin, "ocipromote"), "status", "--repository", repo, "--stages", chain, "--json"), &rep); err != nil {
		t.Fatal(err)
	}
	return rep
}

// runOut runs a binary with a clean environment and returns its standard output.
func runOut(t *testing.T, bin string, args ...string) []byte {
	t.Helper()
	home := t.TempDir()
	cmd := exec.Command(bin, args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "DOCKER_CONFIG=" + filepath.Join(home, ".docker")}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %v: %v\nstderr:\n%s", filepath.Base(bin), args, err, stderr.String())
	}
	return stdout.Bytes()
}

// stageEvent writes the repository_dispatch a stage's Flux Alert sends when its Kustomization
// reports revision healthy (eventtest.StageEvent on the fixture of testdata/events).
func stageEvent(t *testing.T, stage, revision, sha string) string {
	return eventtest.StageEvent(t, filepath.Join("..", "..", "testdata", "events", "repository_dispatch.health-check-passed.json"), stage, revision, sha)
}
