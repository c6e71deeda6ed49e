package version

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
)

// The parsers of build-rc's inputs. Each accepted value means exactly one thing and prints back
// to something the parser reads the same way; each refused value is named, quoted, in the error.
// Seeds are in testdata/fuzz/<FuzzName>.

// quoted reports whether err names the input as %q prints it.
func quoted(err error, s string) bool { return strings.Contains(err.Error(), fmt.Sprintf("%q", s)) }

func FuzzParseLine(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		l, err := ParseLine(s)
		if err != nil {
			if !quoted(err, strings.TrimSpace(s)) {
				t.Errorf("ParseLine(%q) error %q does not name the input", s, err)
			}
			return
		}
		if l == nil {
			if strings.TrimSpace(s) != "" {
				t.Errorf("ParseLine(%q) = no line", s)
			}
			return
		}
		again, err := ParseLine(l.String())
		if err != nil || *again != *l {
			t.Errorf("ParseLine(%q) = %v, which reads back as %v, %v", s, l, again, err)
		}
		if want := strings.TrimPrefix(strings.TrimSpace(s), "v"); l.String() != want {
			t.Errorf("ParseLine(%q) = %v, want %s (no leading zeros, nothing else)", s, l, want)
		}
		// A line contains its own releases and no other.
		v, ok := Parse(l.String() + ".7")
		if !ok || !l.Contains(v) {
			t.Errorf("line %v does not contain %s.7", l, l)
		}
		if w, ok := Parse(fmt.Sprintf("%d.%d.0", l.Major, l.Minor+1)); ok && l.Contains(w) {
			t.Errorf("line %v contains %s", l, w)
		}
	})
}

func FuzzParsePrefix(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePrefix(s)
		if err != nil {
			if s == "" || s == "v" {
				t.Errorf("ParsePrefix(%q) refused a prefix Flux reads: %v", s, err)
			}
			if !quoted(err, s) {
				t.Errorf("ParsePrefix(%q) error %q does not name the input", s, err)
			}
			return
		}
		if p != s || (p != "" && p != "v") {
			t.Errorf("ParsePrefix(%q) = %q", s, p)
		}
		// Whatever prefix is accepted, the tags made with it are versions Flux selects.
		if _, ok := Parse(p + "1.2.3-rc.4"); !ok {
			t.Errorf("prefix %q makes tags Flux does not read", p)
		}
	})
}

func FuzzParseBump(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		b, err := ParseBump(s)
		if err != nil {
			if !quoted(err, s) {
				t.Errorf("ParseBump(%q) error %q does not name the input", s, err)
			}
			return
		}
		switch b {
		case Patch, Minor, Major, Auto:
		default:
			t.Fatalf("ParseBump(%q) = %q, not a bump level", s, b)
		}
		norm := strings.ToLower(strings.TrimSpace(s))
		if norm != string(b) && !(norm == "" && b == Patch) {
			t.Errorf("ParseBump(%q) = %q", s, b)
		}
		if again, err := ParseBump(string(b)); err != nil || again != b {
			t.Errorf("ParseBump(%q) = %q, which reads back as %q, %v", s, b, again, err)
		}
	})
}

func FuzzParseInitial(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseInitial(s)
		if err != nil {
			if !quoted(err, strings.TrimSpace(s)) {
				t.Errorf("ParseInitial(%q) error %q does not name the input", s, err)
			}
			return
		}
		if !IsStable(v) || v.Metadata() != "" {
			t.Errorf("ParseInitial(%q) = %s, not a plain stable version", s, v)
		}
		tag := StableTag("", v)
		again, err := ParseInitial(tag)
		if err != nil || !again.Equal(v) {
			t.Errorf("ParseInitial(%q) = %s, which reads back as %v, %v", s, tag, again, err)
		}
		// The first candidate after it is above it, or, at the largest patch, an ErrOverflow
		// (never a panic).
		p, err := NextRC(nil, Rules{Bump: Patch, Initial: v})
		switch {
		case v.Patch() == math.MaxUint64:
			if !errors.Is(err, ErrOverflow) {
				t.Errorf("NextRC from initial %s = %+v, %v; want ErrOverflow", v, p, err)
			}
		case err != nil || !p.Base.GreaterThan(v):
			t.Errorf("NextRC from initial %s = %+v, %v", v, p, err)
		}
	})
}
