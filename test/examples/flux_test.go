package examples

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	notificationv1beta3 "github.com/fluxcd/notification-controller/api/v1beta3"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// fluxKinds are the Flux objects the examples may hold, by apiVersion and kind, as the Go types
// of the controllers' own API modules.
var fluxKinds = map[metav1.TypeMeta]func() any{
	{APIVersion: sourcev1.GroupVersion.String(), Kind: sourcev1.OCIRepositoryKind}:                  func() any { return &sourcev1.OCIRepository{} },
	{APIVersion: kustomizev1.GroupVersion.String(), Kind: kustomizev1.KustomizationKind}:            func() any { return &kustomizev1.Kustomization{} },
	{APIVersion: notificationv1beta3.GroupVersion.String(), Kind: notificationv1beta3.ProviderKind}: func() any { return &notificationv1beta3.Provider{} },
	{APIVersion: notificationv1beta3.GroupVersion.String(), Kind: notificationv1beta3.AlertKind}:    func() any { return &notificationv1beta3.Alert{} },
}

// fluxObject is one decoded document of an example file.
type fluxObject struct {
	file string
	doc  int
	meta metav1.TypeMeta
	obj  any
}

// loadFluxExamples decodes every YAML document under examples/flux into its Flux type, rejecting
// duplicate keys, unknown fields and unknown kinds.
func loadFluxExamples(t *testing.T, root string) []fluxObject {
	t.Helper()
	var objs []fluxObject
	for _, file := range findFiles(t, root, filepath.Join("examples", "flux"), ".yaml", ".yml") {
		f, err := os.Open(filepath.Join(root, file))
		if err != nil {
			t.Fatal(err)
		}
		docs, err := splitYAML(f)
		f.Close()
		if err != nil {
			t.Errorf("%s: %v", file, err)
			continue
		}
		for i, doc := range docs {
			o, err := decodeFlux(doc)
			if err != nil {
				t.Errorf("%s, document %d: %v", file, i+1, err)
				continue
			}
			if o == nil {
				continue // only comments
			}
			o.file, o.doc = file, i+1
			objs = append(objs, *o)
		}
	}
	return objs
}

func splitYAML(r io.Reader) ([][]byte, error) {
	var docs [][]byte
	yr := utilyaml.NewYAMLReader(bufio.NewReader(r))
	for {
		doc, err := yr.Read()
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		docs = append(docs, doc)
	}
}

func decodeFlux(doc []byte) (*fluxObject, error) {
	js, err := yaml.YAMLToJSONStrict(doc)
	if err != nil {
		return nil, err
	}
	if string(bytes.TrimSpace(js)) == "null" {
		return nil, nil
	}
	var tm metav1.TypeMeta
	if err := json.Unmarshal(js, &tm); err != nil {
		return nil, fmt.Errorf("not a Kubernetes object: %v", err)
	}
	newObj, ok := fluxKinds[tm]
	if !ok {
		return nil, fmt.Errorf("apiVersion %q kind %q is not a Flux kind the examples may use", tm.APIVersion, tm.Kind)
	}
	obj := newObj()
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	if err := dec.Decode(obj); err != nil {
		return nil, fmt.Errorf("%s: %v", tm.Kind, err)
	}
	if om := obj.(metav1.Object); om.GetName() == "" || om.GetNamespace() == "" {
		return nil, fmt.Errorf("%s needs metadata.name and metadata.namespace", tm.Kind)
	}
	return &fluxObject{meta: tm, obj: obj}, nil
}

func TestFluxExamplesDecodeIntoFluxTypes(t *testing.T) {
	t.Parallel()
	objs := loadFluxExamples(t, repoRoot(t))
	seen := map[string]int{}
	for _, o := range objs {
		seen[o.meta.Kind]++
	}
	for _, kind := range []string{sourcev1.OCIRepositoryKind, kustomizev1.KustomizationKind, notificationv1beta3.ProviderKind, notificationv1beta3.AlertKind} {
		if seen[kind] == 0 {
			t.Errorf("examples/flux holds no %s", kind)
		}
	}
}

// The strict decoding itself must catch what a person gets wrong.
func TestDecodeFluxRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		doc  string
	}{
		{"unknown field", "apiVersion: source.toolkit.fluxcd.io/v1\nkind: OCIRepository\nmetadata: {name: a, namespace: b}\nspec:\n  url: oci://x/y\n  interval: 1m\n  ref: {semver: '>= 0.0.0', semverFilters: '.*'}\n"},
		{"unknown kind", "apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata: {name: a, namespace: b}\n"},
		{"old apiVersion", "apiVersion: notification.toolkit.fluxcd.io/v1beta2\nkind: Alert\nmetadata: {name: a, namespace: b}\n"},
		{"duplicate key", "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: {name: a, namespace: b}\nspec:\n  prune: true\n  prune: false\n"},
		{"no namespace", "apiVersion: notification.toolkit.fluxcd.io/v1beta3\nkind: Provider\nmetadata: {name: a}\nspec: {type: github}\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if _, err := decodeFlux([]byte(tc.doc)); err == nil {
				t.Errorf("decodeFlux accepted:\n%s", tc.doc)
			}
		})
	}
}
