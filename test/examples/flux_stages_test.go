package examples

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	notificationv1 "github.com/fluxcd/notification-controller/api/v1"
	notificationv1beta3 "github.com/fluxcd/notification-controller/api/v1beta3"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"
)

// stagesExample is the three-stage Flux setup, one directory per stage, in promotion order.
const stagesExample = "examples/flux-stages"

var exampleStages = []string{"dev", "preprod", "prod"}

// checkStagesExample checks examples/flux-stages against refs, what `ocipromote stages --stages
// dev,preprod,prod --format yaml` prints: each stage's directory holds exactly one OCIRepository
// (selecting exactly its printed ref), a Kustomization that applies it and reports health, and an
// Alert through a githubdispatch Provider whose eventMetadata names the stage; every file decodes
// strictly into Flux's own API types.
func checkStagesExample(t *testing.T, root string, refs []sourcev1.OCIRepositoryRef) {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(root, stagesExample))
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for _, e := range entries {
		if e.IsDir() {
			dirs = append(dirs, e.Name())
		}
	}
	if !slices.Equal(slices.Sorted(slices.Values(dirs)), slices.Sorted(slices.Values(exampleStages))) {
		t.Fatalf("%s holds %v, want one directory per stage %v", stagesExample, dirs, exampleStages)
	}
	if len(refs) != len(exampleStages) {
		t.Fatalf("ocipromote stages printed %d refs for %d stages", len(refs), len(exampleStages))
	}
	var url string
	for i, stage := range exampleStages {
		var srcs []*sourcev1.OCIRepository
		var ks *kustomizev1.Kustomization
		var p *notificationv1beta3.Provider
		var a *notificationv1beta3.Alert
		for _, file := range findFiles(t, root, filepath.Join(stagesExample, stage), ".yaml", ".yml") {
			b, err := os.ReadFile(filepath.Join(root, file))
			if err != nil {
				t.Fatal(err)
			}
			if want := "# " + filepath.ToSlash(file) + "\n"; string(b[:min(len(b), len(want))]) != want {
				t.Errorf("%s does not start with the line %q", file, want)
			}
			docs, err := splitYAML(bytes.NewReader(b))
			if err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			for j, doc := range docs {
				o, err := decodeFlux(doc)
				if err != nil {
					t.Errorf("%s, document %d: %v", file, j+1, err)
					continue
				}
				if o == nil {
					continue
				}
				switch v := o.obj.(type) {
				case *sourcev1.OCIRepository:
					srcs = append(srcs, v)
				case *kustomizev1.Kustomization:
					ks = v
				case *notificationv1beta3.Provider:
					p = v
				case *notificationv1beta3.Alert:
					a = v
				}
			}
		}
		if len(srcs) != 1 || ks == nil || p == nil || a == nil {
			t.Errorf("%s/%s: %d OCIRepositories, Kustomization %v, Provider %v, Alert %v; want one of each", stagesExample, stage, len(srcs), ks != nil, p != nil, a != nil)
			continue
		}
		src := srcs[0]
		if got := src.Spec.Reference; got == nil || *got != refs[i] {
			t.Errorf("%s: the OCIRepository selects %+v; ocipromote stages prints %+v", stage, got, refs[i])
		}
		if url == "" {
			url = src.Spec.URL
		}
		if src.Spec.URL != url {
			t.Errorf("%s: OCIRepository url %s, want the chain's one repository %s", stage, src.Spec.URL, url)
		}
		if ks.Spec.SourceRef.Kind != sourcev1.OCIRepositoryKind || ks.Spec.SourceRef.Name != src.Name || ks.Namespace != src.Namespace {
			t.Errorf("%s: Kustomization sourceRef %+v, want OCIRepository %s/%s", stage, ks.Spec.SourceRef, src.Namespace, src.Name)
		}
		if !ks.Spec.Wait || !ks.Spec.Prune {
			t.Errorf("%s: Kustomization wait %v, prune %v; want both (wait makes Flux report health)", stage, ks.Spec.Wait, ks.Spec.Prune)
		}
		if p.Spec.Type != notificationv1beta3.GitHubDispatchProvider || p.Spec.SecretRef == nil {
			t.Errorf("%s: Provider type %q (secretRef %v), want %q with a secretRef", stage, p.Spec.Type, p.Spec.SecretRef, notificationv1beta3.GitHubDispatchProvider)
		}
		if a.Spec.ProviderRef.Name != p.Name || a.Namespace != p.Namespace {
			t.Errorf("%s: Alert %s/%s refers to Provider %s, want %s/%s", stage, a.Namespace, a.Name, a.Spec.ProviderRef.Name, p.Namespace, p.Name)
		}
		if got := a.Spec.EventMetadata["cluster"]; got != stage {
			t.Errorf("%s: Alert eventMetadata cluster %q, want %q: the event must say which stage spoke", stage, got, stage)
		}
		if !slices.ContainsFunc(a.Spec.EventSources, func(s notificationv1.CrossNamespaceObjectReference) bool {
			return s.Kind == kustomizev1.KustomizationKind && s.Name == ks.Name
		}) {
			t.Errorf("%s: Alert event sources %+v lack Kustomization %s", stage, a.Spec.EventSources, ks.Name)
		}
		if !slices.Contains(a.Spec.InclusionList, "^Health check passed.*") {
			t.Errorf("%s: Alert inclusionList %v lets no health check through", stage, a.Spec.InclusionList)
		}
	}
}
