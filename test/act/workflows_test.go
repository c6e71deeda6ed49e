package act

import (
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ocipromote/ocipromote/pkg/records/githubtest"
	"github.com/ocipromote/ocipromote/test/registrytest"
)

// The example workflows, each driven by the scenario below.
const (
	buildRCWorkflow  = "build-rc.yaml"
	promoteWorkflow  = "promote.yaml"
	rollbackWorkflow = "rollback.yaml"
	holdWorkflow     = "hold.yaml"
	pruneWorkflow    = "prune.yaml"
)

// The jobs of the example workflows, and the results of a run that builds, of one that only
// decides (the event promotes nothing), and of one that promotes.
const (
	buildJob    = "build-rc"
	decideJob   = "decide"
	promoteJob  = "promote"
	rollbackJob = "rollback"
	holdJob     = "hold"
	pruneJob    = "prune"
)

var (
	built       = map[string]string{buildJob: "success"}
	decidedOnly = map[string]string{decideJob: "success", promoteJob: "skipped"}
	promoted    = map[string]string{decideJob: "success", promoteJob: "success"}
)

// The ocipromote actions, as the workflows use them.
const (
	tagValidatedAction = "ocipromote/ocipromote/actions/tag-validated"
	statusAction       = "ocipromote/ocipromote/actions/status"
	holdAction         = "ocipromote/ocipromote/actions/hold"
	rootAction         = "ocipromote/ocipromote"
	checkoutAction     = "actions/checkout"
)

// pipeline is one repository of manifests with the example workflows, the artifact repository
// they write to, the GitHub API their records go to, and act to run them.
type pipeline struct {
	ws   *workspace
	act  *actRunner
	repo string             // the OCI repository, vars.OCI_REPOSITORY
	gh   *githubtest.Server // the fake GitHub API, GITHUB_API_URL
	// firstCommit is the repository's first content: the manifests under deploy/ and the example
	// workflows under .github/workflows/, unchanged but for the Sigstore they sign with and
	// verify against (sigstore.point).
	firstCommit map[string][]byte
}

func newPipeline(t *testing.T) *pipeline {
	t.Helper()
	return newPipelineOf(t, workflowsDir, []string{buildRCWorkflow, promoteWorkflow, rollbackWorkflow, holdWorkflow, pruneWorkflow})
}

// newPipelineOf is a pipeline whose repository holds the example workflows of dir, each of which
// has a scenario (the names in scenarios).
func newPipelineOf(t *testing.T, dir string, scenarios []string) *pipeline {
	t.Helper()
	root := repoRoot(t)
	workflows := exampleWorkflows(t, root, dir, scenarios)
	goenv := readGoEnv(t)
	actBin := installAct(t)
	repo := registrytest.Start(t) + "/acme/platform-manifests"
	gh, ghFlags := startGitHub(t)

	tmp := t.TempDir()
	home := filepath.Join(tmp, "home")
	logDir := filepath.Join(tmp, "logs")
	for _, d := range []string{filepath.Join(home, ".docker"), logDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	ocipromote := filepath.Join(tmp, "ocipromote")
	copyActionSource(t, root, ocipromote)
	t.Logf("copied ocipromote's actions and downloaded their modules in %s", time.Since(start).Round(10*time.Millisecond))

	standIns, err := filepath.Abs(filepath.Join("testdata", "stand-ins"))
	if err != nil {
		t.Fatal(err)
	}
	ws := newWorkspace(t, filepath.Join(tmp, "platform"), home)
	signing := startSigstore(t, ws.dir)
	// Both sets of examples sign and verify.
	for name, b := range workflows {
		workflows[name] = signing.point(t, name, b)
	}
	uses := actionFiles(t, ocipromote)
	for name, b := range workflows {
		uses[dir+"/"+name] = b
	}
	flags := []string{
		// Host mode: the steps run on this machine, which has Go, git and the registry.
		"-P", "ubuntu-latest=-self-hosted",
		"--no-cache-server",
		"--action-cache-path", filepath.Join(tmp, "act"),
		"--var", "OCI_REPOSITORY=" + repo,
		// One JSON object per line; --verbose adds the results of skipped jobs and steps.
		"--json", "--verbose",
	}
	flags = append(flags, ghFlags...)
	flags = append(flags, signing.flags...)
	remotes := remoteRepositories(t, ocipromote, standIns, uses)
	for _, k := range slices.Sorted(maps.Keys(remotes)) {
		flags = append(flags, "--local-repository", k+"="+remotes[k])
	}

	env := []string{
		// The go command running this test first, so the workflows build with the same toolchain.
		"PATH=" + filepath.Join(goenv.GOROOT, "bin") + string(os.PathListSeparator) + os.Getenv("PATH"),
		"HOME=" + home, // no ~/.actrc, Docker or git configuration of the host
		"DOCKER_CONFIG=" + filepath.Join(home, ".docker"),
		"GIT_CONFIG_NOSYSTEM=1",
		"GOCACHE=" + goenv.GOCACHE,
		"GOMODCACHE=" + goenv.GOMODCACHE,
		"GOPROXY=off", // the workflows fetch nothing, not even a Go module
		"GOTOOLCHAIN=local",
		"GOFLAGS=",
		"TZ=UTC",
		"ACT_DISABLE_VERSION_CHECK=1",
	}
	if d := os.Getenv("TMPDIR"); d != "" {
		env = append(env, "TMPDIR="+d)
	}
	p := &pipeline{
		ws:   ws,
		act:  &actRunner{bin: actBin, dir: ws.dir, logDir: logDir, env: env, flags: flags},
		repo: repo,
		gh:   gh,
	}

	files := map[string][]byte{}
	for name, b := range workflows {
		files[".github/workflows/"+name] = b
	}
	manifests, err := filepath.Glob(filepath.Join(root, "examples", "manifests", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range manifests {
		b, err := os.ReadFile(m)
		if err != nil {
			t.Fatal(err)
		}
		files["deploy/"+filepath.Base(m)] = b
	}
	if len(manifests) == 0 {
		t.Fatal("examples/manifests holds no manifests")
	}
	p.firstCommit = files
	return p
}

// TestExampleWorkflows runs the example workflows as GitHub would for a repository of manifests
// over its life: merges build release candidates, the integration cluster's Flux reports each
// one healthy by one of the three routes, events that must not promote are ignored, and a person
// rolls live back. Each run starts from what the previous ones left in the registry.
func TestExampleWorkflows(t *testing.T) {
	start := time.Now()
	p := newPipeline(t)
	t.Logf("set up in %s", time.Since(start).Round(10*time.Millisecond))

	epoch := time.Date(2026, 8, 1, 10, 0, 0, 0, time.UTC)
	var a, b, c string    // commits
	var d1, d2, d3 string // digests of their artifacts
	var dispatch1 map[string]any
	// The pull requests merged as commits a, b and c, one still open, and one merged during the
	// hold after the rollback.
	prs := []pullRequest{
		{1, "Deploy podinfo", "dev"},
		{2, "Scale podinfo to 3", "dev"},
		{3, "Scale podinfo to 4", "ops"},
		{4, "Try podinfo 6.8", "dev"},
		{5, "Scale podinfo to 2", "dev"},
	}

	steps := []runStep{
		{"push builds 0.0.1-rc.1", func(t *testing.T) {
			a = p.merge(t, prs[0], epoch, p.firstCommit)
			run := p.act.run(t, buildRCWorkflow, "push", "dev", p.pushEvent(t, "", a, prs[0].title, epoch))
			run.wantJobs(t, built)
			run.wantClean(t)
			run.wantStep(t, run.stepUsing(t, buildJob, checkoutAction), "success", nil)
			d1 = p.digest(t, "0.0.1-rc.1")
			run.wantStep(t, run.step(t, buildJob, "rc"), "success", map[string]string{
				"version": "0.0.1-rc.1", "digest": d1, "short_sha": a[:7], "pushed": "true", "signed": "true",
				"tags": "0.0.1-rc.1,sha-" + a[:7] + ",integration-" + a[:7],
			})
			// The signature's referrer is listed in the sha256-<hex> fallback tag: distribution has no referrers API.
			p.wantTags(t, "0.0.1-rc.1", "claim-0.0.1-rc.1-"+a[:7], "integration-"+a[:7], "sha-"+a[:7], fallbackTag(d1))
			p.wantTagsAt(t, d1, "0.0.1-rc.1", "sha-"+a[:7], "integration-"+a[:7])
			p.wantAnnotations(t, d1, map[string]string{
				"org.opencontainers.image.revision": "main@sha1:" + a,
				"org.opencontainers.image.source":   sourceURL,
				"org.opencontainers.image.created":  epoch.Format(time.RFC3339),
			})
			p.wantDeployments(t, deploymentWant{"integration", "0.0.1-rc.1", a, d1, []string{"in_progress"}})
		}},
		{"dispatch from the live cluster is ignored", func(t *testing.T) {
			// The same health check of the same candidate, but from live: it must not promote.
			before, writes := p.tags(t), len(p.gh.Writes())
			run := p.act.run(t, promoteWorkflow, "repository_dispatch", "flux-bot", p.dispatchEvent(t, "0.0.1-rc.1@"+d1, a, "live"))
			run.wantJobs(t, decidedOnly)
			run.wantClean(t)
			run.wantStep(t, run.step(t, decideJob, "decide"), "success", map[string]string{
				"promote": "false", "reason": "~cluster live", "revision": "", "digest": "", "sha": "",
			})
			p.wantSameTags(t, before)
			p.wantNoWritesSince(t, writes, "an ignored dispatch")
		}},
		{"dispatch from integration promotes 0.0.1", func(t *testing.T) {
			dispatch1 = p.dispatchEvent(t, "0.0.1-rc.1@"+d1, a, "integration")
			run := p.act.run(t, promoteWorkflow, "repository_dispatch", "flux-bot", dispatch1)
			run.wantJobs(t, promoted)
			run.wantClean(t)
			run.wantStep(t, run.step(t, decideJob, "decide"), "success", map[string]string{
				"promote": "true", "reason": "~Health check passed", "revision": "0.0.1-rc.1@" + d1,
				"digest": d1, "sha": a, "version": "0.0.1-rc.1", "cluster": "integration",
			})
			run.wantStep(t, run.stepUsing(t, promoteJob, tagValidatedAction), "success", map[string]string{
				"promoted": "true", "reason": "promoted", "version": "0.0.1", "digest": d1, "sha": a,
			})
			p.wantTags(t, "0.0.1", "0.0.1-rc.1", "claim-0.0.1-rc.1-"+a[:7], "integration-"+a[:7], "sha-"+a[:7], "validated-"+a[:7], fallbackTag(d1))
			p.wantTagsAt(t, d1, "0.0.1", "validated-"+a[:7])
			p.wantDeployments(t,
				deploymentWant{"integration", "0.0.1-rc.1", a, d1, []string{"in_progress", "success"}},
				deploymentWant{"live", "0.0.1", a, d1, []string{"success"}},
			)
			// The first stable version: its notes cite the event; no pull request is commented on.
			p.wantReleases(t, releaseWant{"v0.0.1", a, []string{d1, "`0.0.1-rc.1`", "on `integration`", "Health check passed"}})
			p.wantPullRequests(t, prs, nil)
		}},
		{"the same dispatch again writes nothing", func(t *testing.T) {
			before, writes := p.tags(t), len(p.gh.Writes())
			run := p.act.run(t, promoteWorkflow, "repository_dispatch", "flux-bot", dispatch1)
			run.wantJobs(t, promoted)
			run.wantClean(t)
			run.wantStep(t, run.stepUsing(t, promoteJob, tagValidatedAction), "success", map[string]string{
				"promoted": "false", "reason": "already-promoted", "version": "0.0.1", "digest": d1,
			})
			p.wantSameTags(t, before)
			p.wantNoWritesSince(t, writes, "a replayed dispatch")
		}},
		{"push builds 0.0.2-rc.1", func(t *testing.T) {
			b = p.merge(t, prs[1], epoch.Add(time.Hour), p.scale(t, 3))
			p.openPullRequest(prs[3], b)
			run := p.act.run(t, buildRCWorkflow, "push", "dev", p.pushEvent(t, a, b, prs[1].title, epoch.Add(time.Hour)))
			run.wantJobs(t, built)
			run.wantClean(t)
			d2 = p.digest(t, "0.0.2-rc.1")
			run.wantStep(t, run.step(t, buildJob, "rc"), "success", map[string]string{
				"version": "0.0.2-rc.1", "digest": d2, "short_sha": b[:7], "pushed": "true", "signed": "true",
				"tags": "0.0.2-rc.1,sha-" + b[:7] + ",integration-" + b[:7],
			})
			if d2 == d1 {
				t.Fatalf("the second commit's artifact has the first one's digest %s", d1)
			}
			p.wantTagsAt(t, d2, "0.0.2-rc.1", "sha-"+b[:7], "integration-"+b[:7])
		}},
		{"a CI commit status starts no job", func(t *testing.T) {
			before, writes := p.tags(t), len(p.gh.Writes())
			run := p.act.run(t, promoteWorkflow, "status", "ci-bot", p.statusEvent(t, "status.other-context.json", b))
			run.wantJobs(t, map[string]string{decideJob: "skipped", promoteJob: "skipped"})
			p.wantSameTags(t, before)
			p.wantNoWritesSince(t, writes, "a skipped job")
		}},
		{"Flux commit status promotes 0.0.2", func(t *testing.T) {
			run := p.act.run(t, promoteWorkflow, "status", "flux-bot", p.statusEvent(t, "status.success.json", b))
			run.wantJobs(t, promoted)
			run.wantClean(t)
			run.wantStep(t, run.step(t, decideJob, "decide"), "success", map[string]string{
				"promote": "true", "reason": "~kustomization/platform/", "sha": b,
			})
			run.wantStep(t, run.stepUsing(t, promoteJob, tagValidatedAction), "success", map[string]string{
				"promoted": "true", "reason": "promoted", "version": "0.0.2", "digest": d2, "sha": b,
			})
			p.wantTagsAt(t, d2, "0.0.2", "validated-"+b[:7])
			p.wantTagsAt(t, d1, "0.0.1", "validated-"+a[:7])
			p.wantDeployments(t,
				deploymentWant{"integration", "0.0.1-rc.1", a, d1, []string{"in_progress", "success", "inactive"}},
				deploymentWant{"live", "0.0.1", a, d1, []string{"success", "inactive"}},
				deploymentWant{"integration", "0.0.2-rc.1", b, d2, []string{"in_progress", "success"}},
				deploymentWant{"live", "0.0.2", b, d2, []string{"success"}},
			)
			p.wantReleases(t,
				releaseWant{"v0.0.1", a, nil},
				releaseWant{"v0.0.2", b, []string{d2, "#2 Scale podinfo to 3", "Commits since 0.0.1"}},
			)
			p.wantPullRequests(t, prs, map[int]string{2: "0.0.2"})
		}},
		{"manual workflow_dispatch promotes 0.0.3", func(t *testing.T) {
			c = p.merge(t, prs[2], epoch.Add(2*time.Hour), p.scale(t, 4))
			run := p.act.run(t, buildRCWorkflow, "push", "dev", p.pushEvent(t, b, c, prs[2].title, epoch.Add(2*time.Hour)))
			run.wantJobs(t, built)
			d3 = p.digest(t, "0.0.3-rc.1")
			run.wantStep(t, run.step(t, buildJob, "rc"), "success", map[string]string{"version": "0.0.3-rc.1", "digest": d3, "pushed": "true", "signed": "true"})

			run = p.act.run(t, promoteWorkflow, "workflow_dispatch", "oncall", p.manualEvent(t, c))
			run.wantJobs(t, promoted)
			run.wantClean(t)
			run.wantStep(t, run.step(t, decideJob, "decide"), "success", map[string]string{"promote": "true", "sha": c})
			run.wantStep(t, run.stepUsing(t, promoteJob, tagValidatedAction), "success", map[string]string{
				"promoted": "true", "reason": "promoted", "version": "0.0.3", "digest": d3, "sha": c,
			})
			p.wantTagsAt(t, d3, "0.0.3", "validated-"+c[:7], "0.0.3-rc.1")
			p.wantReleases(t,
				releaseWant{"v0.0.1", a, nil},
				releaseWant{"v0.0.2", b, nil},
				releaseWant{"v0.0.3", c, []string{d3, "#3 Scale podinfo to 4", "Commits since 0.0.2"}},
			)
			p.wantPullRequests(t, prs, map[int]string{2: "0.0.2", 3: "0.0.3"})
		}},
		{"every run again writes nothing", func(t *testing.T) {
			// A re-run of each workflow, as a person or a replayed event would make it: the tags
			// and the GitHub records stay as one run of each left them.
			before, writes := p.tags(t), len(p.gh.Writes())
			run := p.act.run(t, buildRCWorkflow, "push", "dev", p.pushEvent(t, b, c, prs[2].title, epoch.Add(2*time.Hour)))
			run.wantJobs(t, built)
			run.wantClean(t)
			run.wantStep(t, run.step(t, buildJob, "rc"), "success", map[string]string{"version": "0.0.3-rc.1", "digest": d3, "pushed": "false", "signed": "true"})
			for _, replay := range []struct {
				event, actor string
				payload      map[string]any
				version      string
			}{
				{"repository_dispatch", "flux-bot", dispatch1, "0.0.1"},
				{"status", "flux-bot", p.statusEvent(t, "status.success.json", b), "0.0.2"},
				{"workflow_dispatch", "oncall", p.manualEvent(t, c), "0.0.3"},
			} {
				run := p.act.run(t, promoteWorkflow, replay.event, replay.actor, replay.payload)
				run.wantJobs(t, promoted)
				run.wantClean(t)
				run.wantStep(t, run.stepUsing(t, promoteJob, tagValidatedAction), "success", map[string]string{
					"promoted": "false", "reason": "already-promoted", "version": replay.version,
				})
			}
			p.wantSameTags(t, before)
			p.wantNoWritesSince(t, writes, "re-runs of build-rc and promote")
			p.wantDeployments(t,
				deploymentWant{"integration", "0.0.1-rc.1", a, d1, []string{"in_progress", "success", "inactive"}},
				deploymentWant{"live", "0.0.1", a, d1, []string{"success", "inactive"}},
				deploymentWant{"integration", "0.0.2-rc.1", b, d2, []string{"in_progress", "success", "inactive"}},
				deploymentWant{"live", "0.0.2", b, d2, []string{"success", "inactive"}},
				deploymentWant{"integration", "0.0.3-rc.1", c, d3, []string{"in_progress", "success"}},
				deploymentWant{"live", "0.0.3", c, d3, []string{"success"}},
			)
			p.wantNoDuplicateWrites(t)
		}},
		{"rollback puts live back on 0.0.2's artifact", func(t *testing.T) {
			writes := len(p.gh.Writes())
			run := p.act.run(t, rollbackWorkflow, "workflow_dispatch", "oncall", p.rollbackEvent("0.0.2", "podinfo 4 replicas overload the node"))
			run.wantJobs(t, map[string]string{rollbackJob: "success"})
			run.wantClean(t)
			run.wantStep(t, run.stepUsing(t, rollbackJob, rootAction), "success", map[string]string{"bin_dir": "~/ocipromote/"})
			rollback := run.step(t, rollbackJob, "rollback")
			run.wantStep(t, rollback, "success", map[string]string{
				"version": "0.0.4", "digest": d2, "sha": b, "hold": "hold-1", "changed": "true",
			})
			run.wantStep(t, run.stepUsing(t, rollbackJob, statusAction), "success", map[string]string{
				"hold": "on", "live_tag": "0.0.4", "live_digest": d2, "live_sha": b[:7],
			})
			p.wantTagsAt(t, d2, "0.0.4", "0.0.2")
			p.wantTagsAt(t, d3, "0.0.3")
			if tags := p.tags(t); !slices.Contains(tags, "hold-1") {
				t.Errorf("no hold-1 tag after the rollback: %q", tags)
			}
			// The rollback records live's deployment: 0.0.4 (b's artifact) a success, 0.0.3 inactive.
			if w := p.writesSince(writes); len(w) != 3 {
				t.Errorf("the rollback workflow wrote %q, want live's deployment, its status and 0.0.3's", w)
			}
			p.wantDeployments(t,
				deploymentWant{"integration", "0.0.1-rc.1", a, d1, []string{"in_progress", "success", "inactive"}},
				deploymentWant{"live", "0.0.1", a, d1, []string{"success", "inactive"}},
				deploymentWant{"integration", "0.0.2-rc.1", b, d2, []string{"in_progress", "success", "inactive"}},
				deploymentWant{"live", "0.0.2", b, d2, []string{"success", "inactive"}},
				deploymentWant{"integration", "0.0.3-rc.1", c, d3, []string{"in_progress", "success"}},
				deploymentWant{"live", "0.0.3", c, d3, []string{"success", "inactive"}},
				deploymentWant{"live", "0.0.4", b, d2, []string{"success"}},
			)
		}},
		{"while the hold is on, integration's report of a new candidate is held", func(t *testing.T) {
			// Builds go on during the hold; a late validation event cannot promote past the
			// rollback: decide answers held and the promote job does not start.
			e := p.merge(t, prs[4], epoch.Add(3*time.Hour), p.scale(t, 2))
			run := p.act.run(t, buildRCWorkflow, "push", "dev", p.pushEvent(t, c, e, prs[4].title, epoch.Add(3*time.Hour)))
			run.wantJobs(t, built)
			d5 := p.digest(t, "0.0.5-rc.1")
			run.wantStep(t, run.step(t, buildJob, "rc"), "success", map[string]string{"version": "0.0.5-rc.1", "digest": d5, "pushed": "true", "signed": "true"})

			before, writes := p.tags(t), len(p.gh.Writes())
			run = p.act.run(t, promoteWorkflow, "repository_dispatch", "flux-bot", p.dispatchEvent(t, "0.0.5-rc.1@"+d5, e, "integration"))
			run.wantJobs(t, decidedOnly)
			run.wantClean(t)
			run.wantStep(t, run.step(t, decideJob, "decide"), "success", map[string]string{
				"promote": "false", "reason": "~held: ", "revision": "", "digest": "", "sha": "",
			})
			p.wantSameTags(t, before)
			p.wantNoWritesSince(t, writes, "a held dispatch")
		}},
		{"a freeze from the hold workflow keeps the rollback's reason", func(t *testing.T) {
			run := p.act.run(t, holdWorkflow, "workflow_dispatch", "lead", p.manualRun(holdWorkflow, "lead",
				map[string]any{"command": "set", "reason": "quarter-end freeze", "dry_run": "false"}))
			run.wantJobs(t, map[string]string{holdJob: "success"})
			run.wantClean(t)
			run.wantStep(t, run.stepUsing(t, holdJob, holdAction), "success", map[string]string{
				"hold": "on", "tag": "hold-2", "changed": "true", "reason": "podinfo 4 replicas overload the node; quarter-end freeze",
			})
			run.wantStep(t, run.stepUsing(t, holdJob, statusAction), "success", map[string]string{"hold": "on", "live_tag": "0.0.4"})
		}},
		{"the hold workflow releases the hold", func(t *testing.T) {
			run := p.act.run(t, holdWorkflow, "workflow_dispatch", "oncall", p.manualRun(holdWorkflow, "oncall",
				map[string]any{"command": "release", "reason": "node resized", "dry_run": "false"}))
			run.wantJobs(t, map[string]string{holdJob: "success"})
			run.wantClean(t)
			run.wantStep(t, run.stepUsing(t, holdJob, holdAction), "success", map[string]string{
				"hold": "off", "tag": "hold-3", "changed": "true", "reason": "node resized",
			})
		}},
		{"the prune workflow's dry run deletes nothing", func(t *testing.T) {
			before, writes := p.tags(t), len(p.gh.Writes())
			run := p.act.run(t, pruneWorkflow, "workflow_dispatch", "oncall", p.manualRun(pruneWorkflow, "oncall", map[string]any{"dry_run": "true"}))
			run.wantJobs(t, map[string]string{pruneJob: "success"})
			run.wantClean(t)
			prune := run.step(t, pruneJob, "prune")
			run.wantStep(t, prune, "success", map[string]string{"skipped": "0"})
			p.wantSameTags(t, before)
			p.wantNoWritesSince(t, writes, "a prune dry run")
		}},
	}
	p.runInOrder(t, start, steps)
}

// scale returns deploy/deployment.yaml with replicas set to n.
func (p *pipeline) scale(t *testing.T, n int) map[string][]byte {
	t.Helper()
	const path = "deploy/deployment.yaml"
	old := p.ws.read(t, path)
	lines := strings.SplitAfter(string(old), "\n")
	found := false
	for i, l := range lines {
		if strings.HasPrefix(strings.TrimSpace(l), "replicas:") {
			indent := l[:len(l)-len(strings.TrimLeft(l, " "))]
			lines[i] = indent + "replicas: " + strconv.Itoa(n) + "\n"
			found = true
		}
	}
	if !found {
		t.Fatalf("%s has no replicas: line", path)
	}
	return map[string][]byte{path: []byte(strings.Join(lines, ""))}
}

// runStep is one named run of a workflow test, on the repository the runs before it left.
type runStep struct {
	name string
	run  func(t *testing.T)
}

// runInOrder runs steps as subtests in order, stopping at the first that fails (the later ones
// build on it), and logs how many workflow runs they took since start.
func (p *pipeline) runInOrder(t *testing.T, start time.Time, steps []runStep) {
	t.Helper()
	for _, s := range steps {
		if !t.Run(s.name, s.run) {
			t.Fatalf("stopped after %q failed: the later runs build on it", s.name)
		}
	}
	t.Logf("%d workflow runs in %s", p.act.nextRun, time.Since(start).Round(10*time.Millisecond))
}
