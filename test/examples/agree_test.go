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

// ocipromoteStep finds the step that uses the named ocipromote action.
func ocipromoteStep(w workflowFile, action string) (step, bool) {
	for _, s := range w.allSteps() {
		if strings.HasPrefix(s.Uses, "ocipromote/ocipromote/actions/"+action+"@") {
			return s, true
		}
	}
	return step{}, false
}

func concurrencyGroups(w workflowFile) []string {
	var groups []string
	for _, j := range w.Jobs {
		if c, ok := j.Concurrency.(map[string]any); ok {
			groups = append(groups, fmt.Sprint(c["group"]))
		}
	}
	return groups
}

// The example workflows and Flux objects are one setup: the names, the cluster, the success
// message and the artifact repository line up, so that copying them gives a pipeline that fires.
func TestExamplesAgree(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	build := loadWorkflow(t, root, "examples/github/workflows/build-rc.yaml")
	promote := loadWorkflow(t, root, "examples/github/workflows/promote.yaml")

	buildStep, ok := ocipromoteStep(build, "build-rc")
	if !ok {
		t.Fatal("build-rc.yaml does not use actions/build-rc")
	}
	decide, ok := ocipromoteStep(promote, "dispatch-receiver")
	if !ok {
		t.Fatal("promote.yaml does not use actions/dispatch-receiver")
	}
	tagStep, ok := ocipromoteStep(promote, "tag-validated")
	if !ok {
		t.Fatal("promote.yaml does not use actions/tag-validated")
	}

	// One artifact repository, one concurrency group for builds and promotions.
	repository := fmt.Sprint(buildStep.With["repository"])
	if got := fmt.Sprint(tagStep.With["repository"]); got != repository {
		t.Errorf("tag-validated repository %q, build-rc repository %q", got, repository)
	}
	expr := strings.TrimSuffix(strings.TrimPrefix(repository, "${{ "), " }}")
	for _, w := range []struct {
		name string
		wf   workflowFile
	}{{"build-rc.yaml", build}, {"promote.yaml", promote}} {
		groups := concurrencyGroups(w.wf)
		if len(groups) == 0 {
			t.Errorf("%s: no job has a concurrency group", w.name)
		}
		for _, g := range groups {
			if want := "ocipromote-${{ " + expr + " }}"; g != want {
				t.Errorf("%s: concurrency group %q, want %q", w.name, g, want)
			}
		}
	}
	fallback := regexp.MustCompile(`\|\|\s*'([^']+)'`).FindStringSubmatch(expr)
	if fallback == nil {
		t.Fatalf("repository %q has no fallback literal to compare the Flux sources with", repository)
	}
	pins := map[string]bool{}
	for _, s := range append(build.allSteps(), promote.allSteps()...) {
		if rest, ok := strings.CutPrefix(s.Uses, "ocipromote/ocipromote/"); ok {
			pins[rest[strings.Index(rest, "@"):]] = true
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
	if got, want := fmt.Sprint(tagStep.If), "steps."+decide.ID+".outputs.promote == 'true'"; got != want {
		t.Errorf("promote.yaml: tag-validated runs if %q, want %q", got, want)
	}
	for _, out := range []string{"revision", "digest", "sha"} {
		if got, want := fmt.Sprint(tagStep.With[out]), "${{ steps."+decide.ID+".outputs."+out+" }}"; got != want {
			t.Errorf("promote.yaml: tag-validated %s is %q, want %q", out, got, want)
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
