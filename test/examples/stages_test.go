package examples

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	"sigs.k8s.io/yaml"
)

// `ocipromote stages --format yaml` prints, per stage, a spec.ref that decodes strictly into
// source-controller's own OCIRepositoryRef; for the default stages it is exactly what the shipped
// examples/flux/<stage>/source.yaml select.
func TestStagesPrintsFluxRefs(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	bin := buildBinaries(t, root)
	refs := func(args ...string) []sourcev1.OCIRepositoryRef {
		t.Helper()
		docs, err := splitYAML(bytes.NewReader(runBinary(t, bin, "ocipromote", append([]string{"stages", "--format", "yaml"}, args...)...)))
		if err != nil {
			t.Fatal(err)
		}
		var out []sourcev1.OCIRepositoryRef
		for i, doc := range docs {
			js, err := yaml.YAMLToJSONStrict(doc)
			if err != nil {
				t.Fatalf("document %d: %v\n%s", i+1, err, doc)
			}
			var spec struct {
				Ref sourcev1.OCIRepositoryRef `json:"ref"`
			}
			dec := json.NewDecoder(bytes.NewReader(js))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&spec); err != nil {
				t.Fatalf("document %d: %v\n%s", i+1, err, doc)
			}
			out = append(out, spec.Ref)
		}
		return out
	}

	sources := map[string]*sourcev1.OCIRepository{}
	for _, o := range loadFluxExamples(t, root) {
		if src, ok := o.obj.(*sourcev1.OCIRepository); ok {
			sources[strings.Split(o.file, "/")[2]] = src
		}
	}
	for i, stage := range []string{"integration", "live"} {
		got := refs()
		if len(got) != 2 {
			t.Fatalf("default stages: %d refs, want 2", len(got))
		}
		src := sources[stage]
		if src == nil || src.Spec.Reference == nil {
			t.Fatalf("examples/flux/%s has no OCIRepository with a ref", stage)
		}
		if want := *src.Spec.Reference; got[i].SemVer != want.SemVer || got[i].SemverFilter != want.SemverFilter {
			t.Errorf("%s: ocipromote stages prints %+v, examples/flux/%s/source.yaml selects %+v", stage, got[i], stage, want)
		}
	}

	three := refs("--stages", "dev,preprod,prod")
	want := []sourcev1.OCIRepositoryRef{
		{SemVer: ">= 0.0.0-0", SemverFilter: `^v?\d+\.\d+\.\d+-rc\.[1-9]\d*$`},
		{SemVer: ">= 0.0.0-0", SemverFilter: `^v?\d+\.\d+\.\d+-preprod\.[1-9]\d*$`},
		{SemVer: ">= 0.0.0"},
	}
	if len(three) != len(want) {
		t.Fatalf("three stages: refs %+v", three)
	}
	for i := range want {
		if three[i] != want[i] {
			t.Errorf("stage %d: %+v, want %+v", i+1, three[i], want[i])
		}
	}
	// The three-stage example selects exactly what the command prints.
	checkStagesExample(t, root, three)
}
