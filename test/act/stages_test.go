package act

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// The workflows of a chain of three stages, and the jobs promote-pending.yaml adds.
const (
	pendingWorkflow = "promote-pending.yaml"
	findJob         = "find"
)

// passTag is the first pass record of the candidate with digest in stage (package pass).
func passTag(stage, digest string) string {
	hex, _ := strings.CutPrefix(digest, "sha256:")
	return "pass-" + stage + "-" + hex[:12] + "-1"
}

// withWindows runs the next workflows with the Actions variable OCIPROMOTE_WINDOWS set to
// windows ("" unsets it).
func (p *pipeline) withWindows(base []string, windows string) {
	p.act.flags = slices.Clone(base)
	if windows != "" {
		p.act.flags = append(p.act.flags, "--var", "OCIPROMOTE_WINDOWS="+windows)
	}
}

// TestStagesExampleWorkflows runs the workflows of examples/github/stages/workflows for a chain
// dev, preprod, prod: a build goes to dev, dev's healthy event promotes it to preprod in the
// promote job (the job GitHub runs in the target stage's environment), preprod's event is
// deferred by prod's closed change window with its evidence recorded, and the scheduled
// promote-pending.yaml promotes it to prod once the window is open. The GitHub records follow:
// a deployment per stage, and prod's release listing the evidence of dev and preprod. A second
// build reaches preprod, rollback.yaml puts preprod back on the first, holding it, hold.yaml
// releases the hold, and prune.yaml's dry run deletes nothing.
func TestStagesExampleWorkflows(t *testing.T) {
	start := time.Now()
	p := newPipelineOf(t, stagesDir, []string{buildRCWorkflow, promoteWorkflow, pendingWorkflow, rollbackWorkflow, holdWorkflow, pruneWorkflow})
	base := slices.Clone(p.act.flags)
	epoch := time.Date(2026, 8, 1, 10, 0, 0, 0, time.UTC)
	now := time.Now().UTC()
	// A window three days from today is closed today; one of today and tomorrow is open for the
	// whole test, even across midnight.
	closed := "prod=" + now.AddDate(0, 0, 3).Format("Mon") + " 00:00-24:00 UTC"
	open := "prod=" + now.Format("Mon") + "," + now.AddDate(0, 0, 1).Format("Mon") + " 00:00-24:00 UTC"
	var a, b, d1, d2 string
	var writes int
	prs := []pullRequest{{1, "Deploy podinfo", "dev"}, {2, "Scale podinfo to 3", "dev"}}

	steps := []runStep{
		{"push builds 0.0.1-rc.1 for dev", func(t *testing.T) {
			a = p.merge(t, prs[0], epoch, p.firstCommit)
			run := p.act.run(t, buildRCWorkflow, "push", "dev", p.pushEvent(t, "", a, "Deploy podinfo", epoch))
			run.wantJobs(t, built)
			run.wantClean(t)
			d1 = p.digest(t, "0.0.1-rc.1")
			run.wantStep(t, run.step(t, buildJob, "rc"), "success", map[string]string{
				"version": "0.0.1-rc.1", "digest": d1, "pushed": "true", "signed": "true", "tags": "0.0.1-rc.1,sha-" + a[:7] + ",dev-" + a[:7],
			})
			p.wantTags(t, "0.0.1-rc.1", "claim-0.0.1-rc.1-"+a[:7], "dev-"+a[:7], "sha-"+a[:7], fallbackTag(d1))
			p.wantDeployments(t, deploymentWant{"dev", "0.0.1-rc.1", a, d1, []string{"in_progress"}})
		}},
		{"dev's event promotes it to preprod", func(t *testing.T) {
			run := p.act.run(t, promoteWorkflow, "repository_dispatch", "flux-bot", p.dispatchEvent(t, "0.0.1-rc.1@"+d1, a, "dev"))
			run.wantJobs(t, promoted)
			run.wantClean(t)
			run.wantStep(t, run.step(t, decideJob, "decide"), "success", map[string]string{
				"promote": "true", "revision": "0.0.1-rc.1@" + d1, "from": "dev", "to": "preprod", "cluster": "dev",
			})
			run.wantStep(t, run.stepUsing(t, promoteJob, tagValidatedAction), "success", map[string]string{
				"promoted": "true", "reason": "promoted", "version": "0.0.1-preprod.1", "digest": d1, "from": "dev", "to": "preprod",
			})
			p.wantTagsAt(t, d1, "0.0.1-preprod.1", "preprod-"+a[:7])
			p.wantTags(t, "0.0.1-rc.1", "claim-0.0.1-rc.1-"+a[:7], "dev-"+a[:7], "sha-"+a[:7], fallbackTag(d1),
				passTag("dev", d1), "0.0.1-preprod.1", "preprod-"+a[:7])
			// dev's deployment succeeds with its pass, preprod's is created with it; no release
			// nor comment below the last stage.
			p.wantDeployments(t,
				deploymentWant{"dev", "0.0.1-rc.1", a, d1, []string{"in_progress", "success"}},
				deploymentWant{"preprod", "0.0.1-preprod.1", a, d1, []string{"success"}},
			)
			p.wantReleases(t)
			p.wantPullRequests(t, prs, nil)
		}},
		{"preprod's event outside prod's window records the pass and defers", func(t *testing.T) {
			p.withWindows(base, closed)
			writes = len(p.gh.Writes())
			run := p.act.run(t, promoteWorkflow, "repository_dispatch", "flux-bot", p.dispatchEvent(t, "0.0.1-preprod.1@"+d1, a, "preprod"))
			run.wantJobs(t, promoted)
			run.wantClean(t)
			run.wantStep(t, run.step(t, decideJob, "decide"), "success", map[string]string{"promote": "true", "from": "preprod", "to": "prod"})
			run.wantStep(t, run.stepUsing(t, promoteJob, tagValidatedAction), "success", map[string]string{
				"promoted": "false", "reason": "deferred", "gate": "window", "from": "preprod", "to": "prod",
			})
			p.wantTags(t, "0.0.1-rc.1", "claim-0.0.1-rc.1-"+a[:7], "dev-"+a[:7], "sha-"+a[:7], fallbackTag(d1),
				passTag("dev", d1), "0.0.1-preprod.1", "preprod-"+a[:7], passTag("preprod", d1))
			p.wantNoWritesSince(t, writes, "a deferred promotion")
		}},
		{"promote-pending promotes it to prod once the window is open", func(t *testing.T) {
			p.withWindows(base, open)
			run := p.act.run(t, pendingWorkflow, "schedule", "github-actions", map[string]any{"schedule": "*/15 * * * *", "repository": repositoryPayload()})
			run.wantJobs(t, map[string]string{findJob: "success", "preprod": "skipped", "prod": "success"})
			run.wantClean(t)
			// The dry runs: nothing waits for preprod, prod would take 0.0.1-preprod.1.
			run.wantStep(t, run.step(t, findJob, "preprod"), "success", map[string]string{"reason": "nothing-pending", "promoted": "false"})
			run.wantStep(t, run.step(t, findJob, "prod"), "success", map[string]string{
				"reason": "would-promote", "version": "0.0.1", "weighed": "0.0.1-preprod.1:would-promote",
			})
			run.wantStep(t, run.stepUsing(t, "prod", tagValidatedAction), "success", map[string]string{
				"promoted": "true", "reason": "promoted", "version": "0.0.1", "digest": d1, "from": "preprod", "to": "prod",
				"weighed": "0.0.1-preprod.1:promoted",
			})
			p.wantTagsAt(t, d1, "0.0.1", "validated-"+a[:7])
			p.wantDeployments(t,
				deploymentWant{"dev", "0.0.1-rc.1", a, d1, []string{"in_progress", "success"}},
				deploymentWant{"preprod", "0.0.1-preprod.1", a, d1, []string{"success"}},
				deploymentWant{"prod", "0.0.1", a, d1, []string{"success"}},
			)
			// The change request: the release of prod lists what dev and preprod proved.
			p.wantReleases(t, releaseWant{"v0.0.1", a, []string{d1, "## Evidence", "- **dev**: passed on `dev`", "- **preprod**: passed on `preprod`",
				"`" + passTag("dev", d1) + "`", "`" + passTag("preprod", d1) + "`"}})
			// The first stable version comments on no pull request (docs/github.md).
			p.wantPullRequests(t, prs, nil)
			p.wantNoDuplicateWrites(t)
		}},
		{"a second build goes to dev, and dev's event promotes it to preprod", func(t *testing.T) {
			b = p.merge(t, prs[1], epoch.Add(time.Hour), p.scale(t, 3))
			run := p.act.run(t, buildRCWorkflow, "push", "dev", p.pushEvent(t, a, b, prs[1].title, epoch.Add(time.Hour)))
			run.wantJobs(t, built)
			run.wantClean(t)
			d2 = p.digest(t, "0.0.2-rc.1")
			run = p.act.run(t, promoteWorkflow, "repository_dispatch", "flux-bot", p.dispatchEvent(t, "0.0.2-rc.1@"+d2, b, "dev"))
			run.wantJobs(t, promoted)
			run.wantClean(t)
			run.wantStep(t, run.stepUsing(t, promoteJob, tagValidatedAction), "success", map[string]string{
				"promoted": "true", "reason": "promoted", "version": "0.0.2-preprod.1", "digest": d2, "from": "dev", "to": "preprod",
			})
			p.wantTagsAt(t, d2, "0.0.2-rc.1", "dev-"+b[:7], "sha-"+b[:7], "0.0.2-preprod.1", "preprod-"+b[:7])
		}},
		{"rollback puts preprod back on the first build and holds it", func(t *testing.T) {
			run := p.act.run(t, rollbackWorkflow, "workflow_dispatch", "oncall", p.manualRun(rollbackWorkflow, "oncall", map[string]any{
				"stage": "preprod", "to": a, "reason": "load test failed", "force": "false", "dry_run": "false",
			}))
			run.wantJobs(t, map[string]string{rollbackJob: "success"})
			run.wantClean(t)
			run.wantStep(t, run.step(t, rollbackJob, "rollback"), "success", map[string]string{
				"stage": "preprod", "version": "0.0.2-preprod.2", "digest": d1, "sha": a, "hold": "hold-preprod-1", "changed": "true",
			})
			p.wantTagsAt(t, d1, "0.0.2-preprod.2")
			if tags := p.tags(t); !slices.Contains(tags, "hold-preprod-1") || slices.Contains(tags, "hold-1") {
				t.Errorf("tags after preprod's rollback: %q, want preprod's hold and none on prod", tags)
			}
			// preprod's deployment follows the rollback; prod's stays.
			p.wantDeployments(t,
				deploymentWant{"dev", "0.0.1-rc.1", a, d1, []string{"in_progress", "success", "inactive"}},
				deploymentWant{"preprod", "0.0.1-preprod.1", a, d1, []string{"success", "inactive"}},
				deploymentWant{"prod", "0.0.1", a, d1, []string{"success"}},
				deploymentWant{"dev", "0.0.2-rc.1", b, d2, []string{"in_progress", "success"}},
				deploymentWant{"preprod", "0.0.2-preprod.1", b, d2, []string{"success", "inactive"}},
				deploymentWant{"preprod", "0.0.2-preprod.2", a, d1, []string{"success"}},
			)
			p.wantNoDuplicateWrites(t)
		}},
		{"the hold workflow releases preprod's hold", func(t *testing.T) {
			run := p.act.run(t, holdWorkflow, "workflow_dispatch", "oncall", p.manualRun(holdWorkflow, "oncall",
				map[string]any{"stage": "preprod", "command": "release", "reason": "load test passes", "dry_run": "false"}))
			run.wantJobs(t, map[string]string{holdJob: "success"})
			run.wantClean(t)
			run.wantStep(t, run.stepUsing(t, holdJob, holdAction), "success", map[string]string{
				"stage": "preprod", "hold": "off", "tag": "hold-preprod-2", "changed": "true", "reason": "load test passes",
			})
			// The status step's selections output names every stage of the chain, which the
			// action cannot declare one by one.
			run.wantStep(t, run.stepUsing(t, holdJob, statusAction), "success", map[string]string{
				"selections": `{"dev":{"tag":"0.0.2-rc.1","digest":"` + d2 + `","sha":"` + b[:7] + `"},` +
					`"preprod":{"tag":"0.0.2-preprod.2","digest":"` + d1 + `","sha":"` + a[:7] + `"},` +
					`"prod":{"tag":"0.0.1","digest":"` + d1 + `","sha":"` + a[:7] + `"}}`,
			})
		}},
		{"the prune workflow's dry run deletes nothing", func(t *testing.T) {
			before, writes := p.tags(t), len(p.gh.Writes())
			run := p.act.run(t, pruneWorkflow, "workflow_dispatch", "oncall", p.manualRun(pruneWorkflow, "oncall", map[string]any{"dry_run": "true"}))
			run.wantJobs(t, map[string]string{pruneJob: "success"})
			run.wantClean(t)
			run.wantStep(t, run.step(t, pruneJob, "prune"), "success", map[string]string{"skipped": "0"})
			p.wantSameTags(t, before)
			p.wantNoWritesSince(t, writes, "a prune dry run")
		}},
	}
	p.runInOrder(t, start, steps)
}

// act runs a job whatever its environment, so the approval gate is checked here: every job that
// promotes runs in the GitHub environment named after the stage it promotes into, whose required
// reviewers approve it; the jobs that only decide or look run in none.
func TestStagesWorkflowsPromoteInTheTargetEnvironment(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	want := map[string]map[string]string{
		promoteWorkflow: {decideJob: "", promoteJob: "${{ needs.decide.outputs.to }}"},
		pendingWorkflow: {findJob: "", "preprod": "preprod", "prod": "prod"},
	}
	for name, jobs := range want {
		b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(stagesDir), name))
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Jobs map[string]struct {
				Environment string `yaml:"environment"`
				Steps       []struct {
					Uses string         `yaml:"uses"`
					With map[string]any `yaml:"with"`
				} `yaml:"steps"`
			} `yaml:"jobs"`
		}
		if err := yaml.Unmarshal(b, &doc); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(doc.Jobs) != len(jobs) {
			t.Errorf("%s has %d jobs, the test knows %d", name, len(doc.Jobs), len(jobs))
		}
		for id, env := range jobs {
			job, ok := doc.Jobs[id]
			if !ok {
				t.Errorf("%s has no job %s", name, id)
				continue
			}
			if job.Environment != env {
				t.Errorf("%s: job %s runs in environment %q, want %q", name, id, job.Environment, env)
			}
			// A job in no environment never writes a tag: it decides, or looks with a dry run.
			for _, s := range job.Steps {
				if strings.Contains(s.Uses, "/tag-validated@") && env == "" && s.With["dry_run"] != true {
					t.Errorf("%s: job %s promotes outside any environment", name, id)
				}
			}
		}
	}
}
