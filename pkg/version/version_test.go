package version

import (
	"errors"
	"fmt"
	"testing"

	"github.com/Masterminds/semver/v3"
)

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		tag  string
		ok   bool
		want string
	}{
		{"1.2.3", true, "1.2.3"},
		{"v1.2.3", true, "1.2.3"},
		{"0.0.1-rc.1", true, "0.0.1-rc.1"},
		{"1.2.3+build.5", true, "1.2.3+build.5"},
		{"1.2", false, ""},
		{"1", false, ""},
		{"v1", false, ""},
		{"latest", false, ""},
		{"sha-abc1234", false, ""},
		{"integration-abc1234", false, ""},
		{"validated-abc1234", false, ""},
		{"sha256-0123456789abcdef.sig", false, ""},
		{"01.2.3", false, ""},
		{"1.2.3-01", false, ""},
		{"V1.2.3", false, ""},
		{"vv1.2.3", false, ""},
		{"", false, ""},
	}
	for _, tc := range tests {
		t.Run(tc.tag, func(t *testing.T) {
			t.Parallel()
			v, ok := Parse(tc.tag)
			if got, want := ok, tc.ok; got != want {
				t.Fatalf("Parse(%q) ok = %v, want %v", tc.tag, got, want)
			}
			if ok {
				if got, want := v.String(), tc.want; got != want {
					t.Errorf("Parse(%q) = %s, want %s", tc.tag, got, want)
				}
			}
		})
	}
}

func TestRC(t *testing.T) {
	t.Parallel()
	tests := []struct {
		tag  string
		ok   bool
		base string
		n    uint64
	}{
		{"0.0.1-rc.1", true, "0.0.1", 1},
		{"v2.3.4-rc.10", true, "2.3.4", 10},
		{"1.0.0", false, "", 0},
		{"1.0.0-beta.1", false, "", 0},
		{"1.0.0-rc.0", false, "", 0},
		{"1.0.0-rc.x", false, "", 0},
		{"1.0.0-rc.1.2", false, "", 0},
		{"1.0.0-rc.1+meta", false, "", 0},
	}
	for _, tc := range tests {
		t.Run(tc.tag, func(t *testing.T) {
			t.Parallel()
			v, ok := Parse(tc.tag)
			if !ok {
				t.Fatalf("Parse(%q) failed", tc.tag)
			}
			b, n, ok := RC(v)
			if got, want := ok, tc.ok; got != want {
				t.Fatalf("RC(%q) ok = %v, want %v", tc.tag, got, want)
			}
			if ok && (b.String() != tc.base || n != tc.n) {
				t.Errorf("RC(%q) = %s, %d; want %s, %d", tc.tag, b, n, tc.base, tc.n)
			}
		})
	}
}

func TestNextRC(t *testing.T) {
	t.Parallel()
	line14 := &Line{Major: 1, Minor: 4}
	tests := []struct {
		name    string
		tags    []string
		rules   Rules
		want    string
		highest string
	}{
		{"empty repository", nil, Rules{}, "0.0.1-rc.1", ""},
		{"second build", []string{"0.0.1-rc.1", "sha-aaaaaaa", "integration-aaaaaaa"}, Rules{}, "0.0.1-rc.2", ""},
		{"rc.10 is above rc.9", []string{"0.0.1-rc.9", "0.0.1-rc.10", "0.0.1-rc.2"}, Rules{}, "0.0.1-rc.11", ""},
		{"after a stable", []string{"0.0.1-rc.1", "0.0.1-rc.2", "0.0.1"}, Rules{}, "0.0.2-rc.1", "0.0.1"},
		{"bump minor", []string{"0.0.1"}, Rules{Bump: Minor}, "0.1.0-rc.1", "0.0.1"},
		{"bump major", []string{"1.4.2"}, Rules{Bump: Major}, "2.0.0-rc.1", "1.4.2"},
		{"v prefix read as equal", []string{"v1.0.0", "1.0.0"}, Rules{}, "1.0.1-rc.1", "1.0.0"},
		{"v prefix written", []string{"v1.0.0"}, Rules{Prefix: "v"}, "v1.0.1-rc.1", "v1.0.0"},
		{"v-prefixed rcs count", []string{"1.0.0", "v1.0.1-rc.3"}, Rules{}, "1.0.1-rc.4", "1.0.0"},
		{"non-semver ignored", []string{"latest", "1.2", "sha-1.2.3", "1.2.3.4", "main"}, Rules{}, "0.0.1-rc.1", ""},
		{"other pre-releases ignored", []string{"0.0.1-beta.7"}, Rules{}, "0.0.1-rc.1", ""},
		{"initial version", nil, Rules{Initial: semver.MustParse("1.0.0")}, "1.0.1-rc.1", ""},
		{"initial below existing", []string{"2.0.0"}, Rules{Initial: semver.MustParse("1.0.0")}, "2.0.1-rc.1", "2.0.0"},
		{"pending higher base wins", []string{"0.0.1", "0.1.0-rc.1"}, Rules{}, "0.1.0-rc.2", "0.0.1"},
		{"version line", []string{"1.4.2", "1.5.0", "1.5.1-rc.1"}, Rules{Line: line14}, "1.4.3-rc.1", "1.4.2"},
		{"version line rcs", []string{"1.4.2", "1.4.3-rc.1", "1.5.0"}, Rules{Line: line14}, "1.4.3-rc.2", "1.4.2"},
		{"empty version line", []string{"2.0.0"}, Rules{Line: line14}, "1.4.0-rc.1", ""},
		{"reserved numbers", []string{"0.0.1-rc.1"}, Rules{Reserved: []string{"0.0.1-rc.2", "0.0.1-rc.3"}}, "0.0.1-rc.4", ""},
		{"reserved numbers of a v-prefixed base", []string{"0.0.1-rc.1"}, Rules{Reserved: []string{"v0.0.1-rc.2"}}, "0.0.1-rc.3", ""},
		// A crashed major build's claim must not make every later patch build a 1.0.0 candidate.
		{"a reserved higher base does not move the line", []string{"0.3.0", "0.3.1-rc.1"}, Rules{Reserved: []string{"1.0.0-rc.1"}}, "0.3.1-rc.2", "0.3.0"},
		{"build metadata stable", []string{"1.0.0+build.1"}, Rules{}, "1.0.1-rc.1", "1.0.0+build.1"},
	}
	// A hostile tag at a part's maximum is an error, never a panic that stops every build.
	for _, tc := range []struct {
		tags  []string
		rules Rules
	}{
		{[]string{"0.0.18446744073709551615"}, Rules{}},
		{[]string{"0.18446744073709551615.0"}, Rules{Bump: Minor}},
		{[]string{"18446744073709551615.0.0"}, Rules{Bump: Major}},
		{[]string{"0.0.1-rc.18446744073709551615"}, Rules{}},
	} {
		if p, err := NextRC(tc.tags, tc.rules); !errors.Is(err, ErrOverflow) {
			t.Errorf("NextRC(%v, %+v) = %+v, %v; want ErrOverflow", tc.tags, tc.rules, p, err)
		}
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, err := NextRC(tc.tags, tc.rules)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := p.Tag, tc.want; got != want {
				t.Errorf("NextRC(%v) = %s, want %s", tc.tags, got, want)
			}
			if got, want := p.Highest, tc.highest; got != want {
				t.Errorf("NextRC(%v) highest = %q, want %q", tc.tags, got, want)
			}
		})
	}
}

func TestNextRCRejectsMinorBumpInLine(t *testing.T) {
	t.Parallel()
	_, err := NextRC(nil, Rules{Bump: Minor, Line: &Line{1, 4}})
	if !errors.Is(err, ErrBumpOutsideLine) {
		t.Fatalf("err = %v, want ErrBumpOutsideLine", err)
	}
}

func TestSelectMatchesFlux(t *testing.T) {
	t.Parallel()
	tags := []string{"latest", "0.0.1", "0.0.2-rc.1", "0.0.2-rc.2", "v0.0.1-rc.9", "sha-abc1234", "0.0.10-rc.1", "1.2"}
	tests := []struct {
		constraint, filter, want string
	}{
		{">= 0.0.0-0", "", "0.0.10-rc.1"},
		{">= 0.0.0-0", ".*-rc.*", "0.0.10-rc.1"},
		{">= 0.0.0", "", "0.0.1"},
		{">= 0.0.2-0, < 0.0.3-0", "", "0.0.2-rc.2"},
		{">= 5.0.0", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.constraint+tc.filter, func(t *testing.T) {
			t.Parallel()
			got, err := Select(tags, tc.constraint, tc.filter)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("Select(%q, %q) = %q, want %q", tc.constraint, tc.filter, got, tc.want)
			}
		})
	}
	if _, err := Select(tags, "not a constraint", ""); err == nil {
		t.Error("Select accepted an invalid constraint")
	}
}

func TestParseInputs(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"1", "1.4.2", "x.y", "-1.2"} {
		if _, err := ParseLine(s); err == nil {
			t.Errorf("ParseLine(%q) accepted", s)
		}
	}
	if l, err := ParseLine("1.4"); err != nil || l.String() != "1.4" {
		t.Errorf("ParseLine(1.4) = %v, %v", l, err)
	}
	for _, s := range []string{"fix", "PATCHES", "1"} {
		if _, err := ParseBump(s); err == nil {
			t.Errorf("ParseBump(%q) accepted", s)
		}
	}
	for _, s := range []string{"1.0", "1.0.0-rc.1", "latest"} {
		if _, err := ParseInitial(s); err == nil {
			t.Errorf("ParseInitial(%q) accepted", s)
		}
	}
	if _, err := ParsePrefix("release-"); err == nil {
		t.Error("ParsePrefix accepted a prefix Flux cannot read")
	}
}

func ExampleNextRC() {
	p, _ := NextRC([]string{"0.4.1", "0.4.2-rc.1", "0.4.2-rc.2", "latest"}, Rules{})
	fmt.Println(p.Tag)
	// Output: 0.4.2-rc.3
}

func ExampleSelect() {
	tags := []string{"0.4.1", "0.4.2-rc.3", "sha-9f2c4e1"}
	integration, _ := Select(tags, ">= 0.0.0-0", ".*-rc.*")
	live, _ := Select(tags, ">= 0.0.0", "")
	fmt.Println(integration, live)
	// Output: 0.4.2-rc.3 0.4.1
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"1.2.3", "v1.2.3-rc.10", "1.2", "latest", "1.2.3+meta", "01.2.3", "1.2.3-rc.01"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, tag string) {
		v, ok := Parse(tag)
		if !ok {
			return
		}
		// Whatever Flux accepts has three numeric parts; an RC we read back formats to the same tag.
		if b, n, isRC := RC(v); isRC {
			if got := RCTag(Prefix(tag), b, n); got != tag {
				t.Errorf("RC %q formats back as %q", tag, got)
			}
		}
		// Any tag plans a next candidate, or, when a part is at its maximum, says so.
		if _, err := NextRC([]string{tag}, Rules{}); err != nil && !errors.Is(err, ErrOverflow) {
			t.Errorf("NextRC with %q: %v", tag, err)
		}
	})
}

func TestIsRCTag(t *testing.T) {
	t.Parallel()
	for tag, want := range map[string]bool{
		"0.0.1-rc.1": true, "v1.2.0-rc.10": true, "0.0.1": false, "0.0.1-beta.1": false,
		"0.0.1-rc": false, "claim-0.0.1-rc.1-9f2c4e1-aaaaaaaaaaaa": false, "latest": false,
	} {
		if got := IsRCTag(tag); got != want {
			t.Errorf("IsRCTag(%q) = %v, want %v", tag, got, want)
		}
	}
}
