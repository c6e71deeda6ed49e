package steptest

import (
	"encoding/json"
	"testing"
)

func TestSchemaCheck(t *testing.T) {
	t.Parallel()
	var s Schema
	if err := json.Unmarshal([]byte(`{"type":"object","required":["ok","tags"],"additionalProperties":false,
		"properties":{"ok":{"type":"boolean"},"tags":{"type":"array","items":{"type":"string"}},"n":{"type":["integer","null"]}}}`), &s); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		doc      string
		problems int
	}{
		{`{"ok":false,"tags":["a"],"n":3}`, 0},
		{`{"ok":false,"tags":[],"n":null}`, 0},
		{`{"ok":"false","tags":["a"]}`, 1},
		{`{"ok":true,"tags":"a,b"}`, 1},
		{`{"ok":true,"tags":null}`, 1},
		{`{"ok":true,"tags":[1]}`, 1},
		{`{"ok":true}`, 1},
		{`{"ok":true,"tags":[],"extra":1}`, 1},
		{`{"ok":true,"tags":[],"n":1.5}`, 1},
	}
	for _, tc := range tests {
		var v any
		if err := json.Unmarshal([]byte(tc.doc), &v); err != nil {
			t.Fatal(err)
		}
		if got := s.Check("$", v); len(got) != tc.problems {
			t.Errorf("Check(%s) = %q, want %d problem(s)", tc.doc, got, tc.problems)
		}
	}
}
