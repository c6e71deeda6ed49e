package examples

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	notificationv1 "github.com/fluxcd/notification-controller/api/v1"
	notificationv1beta3 "github.com/fluxcd/notification-controller/api/v1beta3"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	"sigs.k8s.io/yaml"
)

// A message Flux's kustomize-controller sends when a Kustomization with wait: true is healthy.
const healthyMessage = "Health check passed in 12.3s"

// workflowFile is the part of an example workflow the agreement checks read.
type workflowFile struct {
	actionFile
	On map[string]any `json:"on"`
}

func loadWorkflow(t *testing.T, root, file string) workflowFile {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(root, file))
	if err != nil {
		t.Fatal(err)
	}
	var w workflowFile
	if err := yaml.Unmarshal(raw, &w); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	// YAML 1.1 reads a bare `on:` key as true.
	var loose map[string]any
	if err := yaml.Unmarshal(raw, &loose); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	if on, ok := loose["true"].(map[string]any); ok && w.On == nil {
		w.On = on
	}
	return w
}

// ocipromoteStep finds the step that uses the named ocipromote action, and the job it is in.
func ocipromoteStep(w workflowFile, action string) (step, string, bool) {
	for name, j := range w.Jobs {
		for _, s := range j.Steps {
			if strings.HasPrefix(s.Uses, "ocipromote/ocipromote/actions/"+action+"@") {
				return s, name, true
			}
		}
	}
	return step{}, "", false
}

// concurrencyGroup is a job's concurrency group, "" when it has none.
func concurrencyGroup(j job) string {
	if c, ok := j.Concurrency.(map[string]any); ok {
		return fmt.Sprint(c["group"])
	}
	return ""
}

// The example workflows and Flux objects are one setup: the names, the cluster, the success
// message and the artifact repository line up, so that copying them gives a pipeline that fires.
func TestExamplesAgree(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	build := loadWorkflow(t, root, "examples/github/workflows/build-rc.yaml")
	promote := loadWorkflow(t, root, "examples/github/workflows/promote.yaml")
	rollback := loadWorkflow(t, root, "examples/github/workflows/rollback.yaml")
	holdW := loadWorkflow(t, root, "examples/github/workflows/hold.yaml")
	pruneW := loadWorkflow(t, root, "examples/github/workflows/prune.yaml")

	buildStep, buildJob, ok := ocipromoteStep(build, "build-rc")
	if !ok {
		t.Fatal("build-rc.yaml does not use actions/build-rc")
	}
	decide, decideJob, ok := ocipromoteStep(promote, "dispatch-receiver")
	if !ok {
		t.Fatal("promote.yaml does not use actions/dispatch-receiver")
	}
	tagStep, promoteJob, ok := ocipromoteStep(promote, "tag-validated")
	if !ok {
		t.Fatal("promote.yaml does not use actions/tag-validated")
	}
	if decideJob == promoteJob {
		t.Fatalf("promote.yaml decides and promotes in one job %s: a decision must not take a place in the promotion group", decideJob)
	}

	// One artifact repository; builds in a concurrency group of their own, promotions and
	// rollbacks in another, deciding in none.
	repository := fmt.Sprint(buildStep.With["repository"])
	if got := fmt.Sprint(tagStep.With["repository"]); got != repository {
		t.Errorf("tag-validated repository %q, build-rc repository %q", got, repository)
	}
	if got := fmt.Sprint(decide.With["repository"]); got != repository {
		t.Errorf("dispatch-receiver repository %q, want %q: without it an event is not answered held during a rollback", got, repository)
	}
	if holdStep, _, ok := ocipromoteStep(holdW, "hold"); !ok || fmt.Sprint(holdStep.With["repository"]) != repository {
		t.Errorf("hold.yaml: no actions/hold step on the repository %q", repository)
	}
	expr := strings.TrimSuffix(strings.TrimPrefix(repository, "${{ "), " }}")
	buildGroup, promotionGroup := "ocipromote-build-${{ "+expr+" }}", "ocipromote-promote-${{ "+expr+" }}"
	for _, g := range []struct {
		file, job string
		w         workflowFile
		want      string
	}{
		{"build-rc.yaml", buildJob, build, buildGroup},
		{"promote.yaml", decideJob, promote, ""},
		{"promote.yaml", promoteJob, promote, promotionGroup},
		{"rollback.yaml", "rollback", rollback, promotionGroup},
		{"hold.yaml", "hold", holdW, ""},
		{"prune.yaml", "prune", pruneW, "ocipromote-prune-${{ " + expr + " }}"},
	} {
		j, ok := g.w.Jobs[g.job]
		if !ok {
			t.Errorf("%s has no job %s", g.file, g.job)
			continue
		}
		if got := concurrencyGroup(j); got != g.want {
			t.Errorf("%s: job %s has concurrency group %q, want %q", g.file, g.job, got, g.want)
		}
		if c, ok := j.Concurrency.(map[string]any); ok && c["cancel-in-progress"] != false {
			t.Errorf("%s: job %s may be cancelled while it writes tags (cancel-in-progress: %v)", g.file, g.job, c["cancel-in-progress"])
		}
	}
	examples := map[string]workflowFile{"build-rc.yaml": build, "promote.yaml": promote, "rollback.yaml": rollback, "hold.yaml": holdW, "prune.yaml": pruneW}
	for name, w := range examples {
		if w.Concurrency != nil {
			t.Errorf("%s has a workflow-level concurrency group: it would hold back every job, deciding too", name)
		}
	}

	// decide writes nothing and hands its decision on; promote runs only on a promote decision.
	decidePerms, _ := promote.Jobs[decideJob].Permissions.(map[string]any)
	for k, v := range decidePerms {
		if v != "read" {
			t.Errorf("promote.yaml: job %s asks for %s: %v; it writes nothing", decideJob, k, v)
		}
	}
	if decidePerms["packages"] != "read" {
		t.Errorf("promote.yaml: job %s needs packages: read to read the hold", decideJob)
	}
	pj := promote.Jobs[promoteJob]
	if needs := fmt.Sprint(pj.Needs); needs != decideJob && needs != "["+decideJob+"]" {
		t.Errorf("promote.yaml: job %s needs %v, want %s", promoteJob, pj.Needs, decideJob)
	}
	if got, want := fmt.Sprint(pj.If), "needs."+decideJob+".outputs.promote == 'true'"; got != want {
		t.Errorf("promote.yaml: job %s runs if %q, want %q", promoteJob, got, want)
	}
	outputs := promote.Jobs[decideJob].Outputs
	for out, in := range map[string]string{"promote": "", "revision": "revision", "digest": "digest", "sha": "sha",
		"cluster": "validated_cluster", "message": "validated_message", "time": "validated_at"} {
		if got, want := fmt.Sprint(outputs[out]), "${{ steps."+decide.ID+".outputs."+out+" }}"; got != want {
			t.Errorf("promote.yaml: job %s output %s is %q, want %q", decideJob, out, got, want)
		}
		if in == "" {
			continue
		}
		if got, want := fmt.Sprint(tagStep.With[in]), "${{ needs."+decideJob+".outputs."+out+" }}"; got != want {
			t.Errorf("promote.yaml: tag-validated %s is %q, want %q", in, got, want)
		}
	}
	if tagStep.If != nil {
		t.Errorf("promote.yaml: tag-validated has its own if: %v; the job's if decides", tagStep.If)
	}
	for name, w := range examples {
		if w.Permissions == nil || fmt.Sprint(w.Permissions) != "map[]" {
			t.Errorf("%s: workflow-level permissions %v, want {} (each job asks for its own)", name, w.Permissions)
		}
		for jn, j := range w.Jobs {
			perms, ok := j.Permissions.(map[string]any)
			if !ok {
				t.Errorf("%s: job %s does not list its permissions", name, jn)
			}
			if _, ok := perms["issues"]; ok && !(name == "promote.yaml" && jn == "promote") {
				t.Errorf("%s: job %s asks for issues permission; only the promote job's comment_prs needs it", name, jn)
			}
		}
	}

	// The promote job grants what docs/github.md lists for the records it switches on.
	doc, err := os.ReadFile(filepath.Join(root, "docs", "github.md"))
	if err != nil {
		t.Fatal(err)
	}
	granted, _ := promote.Jobs["promote"].Permissions.(map[string]any)
	for _, row := range regexp.MustCompile("(?m)^\\| `(\\w+)` \\| (.+) \\|$").FindAllStringSubmatch(string(doc), -1) {
		if fmt.Sprint(tagStep.With[row[1]]) != "true" {
			continue
		}
		for _, p := range strings.Split(row[2], ",") {
			perm, level, _ := strings.Cut(strings.Trim(strings.TrimSpace(p), "`"), ": ")
			if got := fmt.Sprint(granted[perm]); got != level && !(level == "read" && got == "write") {
				t.Errorf("promote.yaml: the promote job grants %s: %s, docs/github.md says %s needs %s", perm, got, row[1], level)
			}
		}
	}

	// Issue 14: with the variable unset, the workflows used a placeholder repository. Every job
	// now stops first, naming the variable and an example repository, the one the Flux sources use.
	if expr != "vars.OCI_REPOSITORY" {
		t.Errorf("the workflows' repository is %q, want ${{ vars.OCI_REPOSITORY }} with no fallback", repository)
	}
	example := regexp.MustCompile(`e\.g\. (\S+)"`)
	var fallback []string
	for name, w := range examples {
		for jn, j := range w.Jobs {
			if len(j.Steps) == 0 || fmt.Sprint(j.Steps[0].If) != "vars.OCI_REPOSITORY == ''" || j.Steps[0].Run == nil ||
				!strings.Contains(*j.Steps[0].Run, "::error title=OCI_REPOSITORY is not set::") || !strings.Contains(*j.Steps[0].Run, "exit 1") {
				t.Errorf("%s: job %s does not start by stopping with an error when OCI_REPOSITORY is unset", name, jn)
				continue
			}
			if m := example.FindStringSubmatch(*j.Steps[0].Run); m != nil {
				fallback = m
			}
		}
	}
	if fallback == nil {
		t.Fatal("no workflow names an example repository to compare the Flux sources with")
	}
	pins := map[string]bool{}
	for _, s := range slices.Concat(build.allSteps(), promote.allSteps(), rollback.allSteps(), holdW.allSteps(), pruneW.allSteps()) {
		if action, ref, ok := strings.Cut(s.Uses, "@"); ok && (action == "ocipromote/ocipromote" || strings.HasPrefix(action, "ocipromote/ocipromote/")) {
			pins[ref] = true
		}
	}
	if len(pins) != 1 {
		t.Errorf("the examples pin ocipromote at %d different commits, want one", len(pins))
	}

	// The routes promote.yaml listens on.
	dispatch, _ := promote.On["repository_dispatch"].(map[string]any)
	object := fmt.Sprint(decide.With["object"])
	if types := fmt.Sprint(dispatch["types"]); types != "["+object+"]" {
		t.Errorf("promote.yaml: repository_dispatch types %s, want [%s] (the object dispatch-receiver promotes)", types, object)
	}
	if _, ok := promote.On["status"]; !ok {
		t.Error("promote.yaml does not listen to status (the commit-status route)")
	}
	manual, _ := promote.On["workflow_dispatch"].(map[string]any)
	inputs, _ := manual["inputs"].(map[string]any)
	for _, in := range []string{"sha", "digest", "revision"} {
		if _, ok := inputs[in]; !ok {
			t.Errorf("promote.yaml: workflow_dispatch has no input %s", in)
		}
	}

	// The Flux side.
	objs := loadFluxExamples(t, root)
	in := func(dir string) []fluxObject {
		var r []fluxObject
		for _, o := range objs {
			if strings.HasPrefix(o.file, "examples/flux/"+dir+"/") {
				r = append(r, o)
			}
		}
		return r
	}
	wantURL := "oci://" + fallback[1]
	checkCluster := func(dir, semver, filter string) *kustomizev1.Kustomization {
		var src *sourcev1.OCIRepository
		var ks *kustomizev1.Kustomization
		for _, o := range in(dir) {
			switch v := o.obj.(type) {
			case *sourcev1.OCIRepository:
				src = v
			case *kustomizev1.Kustomization:
				ks = v
			}
		}
		if src == nil || ks == nil {
			t.Fatalf("examples/flux/%s needs an OCIRepository and a Kustomization", dir)
		}
		if src.Spec.URL != wantURL {
			t.Errorf("%s: OCIRepository url %s, want %s (the workflows' repository)", dir, src.Spec.URL, wantURL)
		}
		if ref := src.Spec.Reference; ref == nil || ref.SemVer != semver || ref.SemverFilter != filter {
			t.Errorf("%s: OCIRepository ref %+v, want semver %q, semverFilter %q", dir, ref, semver, filter)
		}
		if ks.Spec.SourceRef.Kind != sourcev1.OCIRepositoryKind || ks.Spec.SourceRef.Name != src.Name {
			t.Errorf("%s: Kustomization sourceRef %+v, want OCIRepository %s", dir, ks.Spec.SourceRef, src.Name)
		}
		if !ks.Spec.Wait || !ks.Spec.Prune {
			t.Errorf("%s: Kustomization wait %v, prune %v; want both", dir, ks.Spec.Wait, ks.Spec.Prune)
		}
		return ks
	}
	integration := checkCluster("integration", ">= 0.0.0-0", ".*-rc.*")
	checkCluster("live", ">= 0.0.0", "")
	if got := "Kustomization/" + integration.Name + "." + integration.Namespace; got != object {
		t.Errorf("the integration Kustomization is %s; dispatch-receiver promotes %s", got, object)
	}
	for _, o := range in("live") {
		if _, ok := o.obj.(*notificationv1beta3.Alert); ok {
			t.Errorf("%s: the live cluster must not send events that could promote", o.file)
		}
	}

	checkAlert := func(dir, providerType string) *notificationv1beta3.Alert {
		var p *notificationv1beta3.Provider
		var a *notificationv1beta3.Alert
		for _, o := range in(dir) {
			switch v := o.obj.(type) {
			case *notificationv1beta3.Provider:
				p = v
			case *notificationv1beta3.Alert:
				a = v
			}
		}
		if p == nil || a == nil {
			t.Fatalf("examples/flux/%s needs a Provider and an Alert", dir)
		}
		if p.Spec.Type != providerType || p.Spec.SecretRef == nil {
			t.Errorf("%s: Provider type %q (secretRef %v), want %q with a secretRef", dir, p.Spec.Type, p.Spec.SecretRef, providerType)
		}
		if a.Spec.ProviderRef.Name != p.Name || a.Namespace != integration.Namespace {
			t.Errorf("%s: Alert %s/%s refers to Provider %s, want %s in %s", dir, a.Namespace, a.Name, a.Spec.ProviderRef.Name, p.Name, integration.Namespace)
		}
		if !slices.ContainsFunc(a.Spec.EventSources, func(s notificationv1.CrossNamespaceObjectReference) bool {
			return s.Kind == kustomizev1.KustomizationKind && s.Name == integration.Name
		}) {
			t.Errorf("%s: Alert event sources %+v lack Kustomization %s", dir, a.Spec.EventSources, integration.Name)
		}
		if a.Spec.EventSeverity != "info" {
			t.Errorf("%s: Alert eventSeverity %q, want info (successes are info events)", dir, a.Spec.EventSeverity)
		}
		return a
	}

	dispatchAlert := checkAlert("integration", notificationv1beta3.GitHubDispatchProvider)
	actionDefaults := loadActionDefaults(t, root, "actions/dispatch-receiver/action.yml")
	key := actionDefaults["cluster_key"]
	if got, want := dispatchAlert.Spec.EventMetadata[key], fmt.Sprint(decide.With["cluster"]); got != want {
		t.Errorf("integration Alert eventMetadata %s=%q; dispatch-receiver promotes cluster %q", key, got, want)
	}
	for _, pattern := range append(slices.Clone(dispatchAlert.Spec.InclusionList), actionDefaults["success_pattern"]) {
		if !regexp.MustCompile(pattern).MatchString(healthyMessage) {
			t.Errorf("pattern %q does not let %q through", pattern, healthyMessage)
		}
	}

	checkAlert("integration-status", notificationv1beta3.GitHubProvider)
	if got, want := actionDefaults["status_context"], "kustomization/"+integration.Name+"/"; got != want {
		t.Errorf("dispatch-receiver status_context default %q; the github Provider posts contexts %q<id>", got, want)
	}
}

func loadActionDefaults(t *testing.T, root, file string) map[string]string {
	t.Helper()
	a, _, err := loadActionFile(root, file)
	if err != nil {
		t.Fatal(err)
	}
	defaults := map[string]string{}
	for name, in := range a.Inputs {
		if in.Default != nil {
			defaults[name] = fmt.Sprint(in.Default)
		}
	}
	return defaults
}
