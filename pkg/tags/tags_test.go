package tags

import (
	"slices"
	"testing"
)

func TestFindShort(t *testing.T) {
	t.Parallel()
	list := []string{"integration-abc1234", "integration-abc1299", "integration-def5678", "sha-abc1234", "integration-zz"}
	tests := []struct {
		sha  string
		want []string
	}{
		{"abc1234aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", []string{"abc1234"}},
		{"abc12", []string{"abc1234", "abc1299"}},
		{"def5678", []string{"def5678"}},
		{"0000000", nil},
	}
	for _, tc := range tests {
		if got := FindShort(list, IntegrationPrefix, tc.sha); !slices.Equal(got, tc.want) {
			t.Errorf("FindShort(%q) = %v, want %v", tc.sha, got, tc.want)
		}
	}
}

func TestShort(t *testing.T) {
	t.Parallel()
	const sha = "9f2c4e1a7b3d5f60718293a4b5c6d7e8f9012345"
	if s, err := Short(sha, 7); err != nil || s != "9f2c4e1" {
		t.Errorf("Short = %q, %v", s, err)
	}
	for _, n := range []int{3, 41} {
		if _, err := Short(sha, n); err == nil {
			t.Errorf("Short(%d) accepted", n)
		}
	}
}

func TestParseMarker(t *testing.T) {
	t.Parallel()
	tests := []struct {
		tag, prefix, short string
		ok                 bool
	}{
		{"sha-9f2c4e1", ShaPrefix, "9f2c4e1", true},
		{"integration-9f2c", IntegrationPrefix, "9f2c", true},
		{"validated-9f2c4e1a7b3d5f60718293a4b5c6d7e8f9012345", ValidatedPrefix, "9f2c4e1a7b3d5f60718293a4b5c6d7e8f9012345", true},
		{"sha-9f2", "", "", false},     // too short
		{"sha-9F2C4E1", "", "", false}, // upper case
		{"validated-9f2c4e1a7b3d5f60718293a4b5c6d7e8f90123456", "", "", false}, // 41 hex
		{"integration-main", "", "", false},
		{"claim-0.0.1-9f2c4e1-aaaaaaaaaaaa", "", "", false},
		{"0.0.1", "", "", false},
	}
	for _, tc := range tests {
		prefix, short, ok := ParseMarker(tc.tag)
		if prefix != tc.prefix || short != tc.short || ok != tc.ok {
			t.Errorf("ParseMarker(%q) = %q, %q, %v; want %q, %q, %v", tc.tag, prefix, short, ok, tc.prefix, tc.short, tc.ok)
		}
	}
}
