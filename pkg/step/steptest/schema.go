package steptest

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"sort"
	"testing"
)

// Schema is the subset of JSON Schema (https://json-schema.org/draft/2020-12/json-schema-validation)
// the --json outputs are described with: type (one name or a list), properties, required,
// additionalProperties false, and items.
type Schema struct {
	Type                 any                `json:"type"`
	Properties           map[string]*Schema `json:"properties"`
	Required             []string           `json:"required"`
	AdditionalProperties *bool              `json:"additionalProperties"`
	Items                *Schema            `json:"items"`
}

// CheckSchema checks that stdout is one JSON value that the schema in the file schemaPath
// accepts, and reports every place it does not.
func CheckSchema(t testing.TB, stdout, schemaPath string) {
	t.Helper()
	b, err := os.ReadFile(schemaPath)
	if err != nil {
		t.Fatal(err)
	}
	var s Schema
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("schema %s: %v", schemaPath, err)
	}
	var v any
	if err := json.Unmarshal([]byte(stdout), &v); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, stdout)
	}
	for _, p := range s.Check("$", v) {
		t.Errorf("%s: %s\n%s", schemaPath, p, stdout)
	}
}

// Check returns where v breaks the schema, each problem naming its JSON path.
func (s *Schema) Check(path string, v any) []string {
	if s == nil {
		return nil
	}
	got := typeOf(v)
	if want := s.types(); len(want) > 0 && !slices.Contains(want, got) && !(got == "integer" && slices.Contains(want, "number")) {
		return []string{fmt.Sprintf("%s is %s %v, want %v", path, got, v, want)}
	}
	var problems []string
	switch v := v.(type) {
	case map[string]any:
		for _, r := range s.Required {
			if _, ok := v[r]; !ok {
				problems = append(problems, fmt.Sprintf("%s lacks %q", path, r))
			}
		}
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			p, known := s.Properties[k]
			if !known && s.AdditionalProperties != nil && !*s.AdditionalProperties {
				problems = append(problems, fmt.Sprintf("%s has %q, which the schema does not list", path, k))
				continue
			}
			problems = append(problems, p.Check(path+"."+k, v[k])...)
		}
	case []any:
		for i, item := range v {
			problems = append(problems, s.Items.Check(fmt.Sprintf("%s[%d]", path, i), item)...)
		}
	}
	return problems
}

func (s *Schema) types() []string {
	switch t := s.Type.(type) {
	case string:
		return []string{t}
	case []any:
		var out []string
		for _, x := range t {
			if n, ok := x.(string); ok {
				out = append(out, n)
			}
		}
		return out
	}
	return nil
}

func typeOf(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case float64:
		if v == float64(int64(v)) {
			return "integer"
		}
		return "number"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}
