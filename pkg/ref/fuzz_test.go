package ref

import (
	"regexp"
	"strings"
	"testing"
)

// The seed corpora of these targets live in testdata/fuzz/<FuzzName>; go test runs them every
// time and make fuzz explores from them.

// noLineBreak fails when an error message could start a new log line or forge a workflow command.
func noLineBreak(t *testing.T, err error) {
	t.Helper()
	if strings.ContainsAny(err.Error(), "\n\r") {
		t.Errorf("error message carries a raw line break: %q", err)
	}
}

// FuzzParseOrigin: an accepted annotation has a full sha, a ref ParseOrigin itself would split the
// same way, and prints back byte for byte; a refused one is named in a one-line error.
func FuzzParseOrigin(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		o, err := ParseOrigin(s)
		if err != nil {
			noLineBreak(t, err)
			if !strings.Contains(err.Error(), Quote(s)) {
				t.Errorf("ParseOrigin(%q) error %q does not name the input", s, err)
			}
			return
		}
		if !fullShaRE.MatchString(o.Sha) {
			t.Errorf("ParseOrigin(%q) accepted sha %q", s, o.Sha)
		}
		if got := o.String(); got != s {
			t.Errorf("ParseOrigin(%q) prints back as %q", s, got)
		}
		if again, err := ParseOrigin(o.String()); err != nil || again != o {
			t.Errorf("ParseOrigin(%q) = %+v, then %+v, %v", s, o, again, err)
		}
	})
}

// FuzzNewOrigin: whatever ref build-rc accepts makes a revision annotation that every later step
// reads back exactly (the 600-byte ref that built fine and then failed tag-validated forever);
// whatever it refuses is named in a one-line error that says what to give instead.
func FuzzNewOrigin(f *testing.F) {
	f.Fuzz(func(t *testing.T, refName, sha string) {
		_, refErr := GitRef(refName)
		o, err := NewOrigin(refName, sha)
		if err != nil {
			noLineBreak(t, err)
			if refErr != nil && !strings.Contains(err.Error(), Quote(refName)) {
				t.Errorf("NewOrigin(%q, %q) error %q does not name the ref", refName, sha, err)
			}
			if refErr == nil && !strings.Contains(err.Error(), Quote(sha)) {
				t.Errorf("NewOrigin(%q, %q) error %q does not name the sha", refName, sha, err)
			}
			if !strings.Contains(err.Error(), "give ") {
				t.Errorf("NewOrigin(%q, %q) error %q does not say what to give", refName, sha, err)
			}
			return
		}
		if refErr != nil {
			t.Errorf("NewOrigin accepted ref %q that GitRef refuses: %v", refName, refErr)
		}
		back, err := ParseOrigin(o.String())
		if err != nil || back != (Origin{Ref: refName, Sha: sha}) {
			t.Errorf("annotation %q reads back as %+v, %v", o.String(), back, err)
		}
		if len(refName) > MaxRefLen || strings.ContainsAny(refName, " \t\r\n$`;|&<>()'\"\\~^:?*[") || strings.Contains(refName, "..") {
			t.Errorf("GitRef accepted %q", refName)
		}
	})
}

// FuzzSourceURL: an accepted source is a one-line http(s) URL without credentials; a refused one
// is named in a one-line error, and a URL with credentials written into it is always refused
// without repeating them.
func FuzzSourceURL(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		const token = "XYZZY-t0ken"
		withToken := "https://ci:" + token + "@" + s
		if _, err := SourceURL(withToken); err == nil || strings.Contains(err.Error(), token) {
			t.Errorf("SourceURL(%q) = %v; want it refused without repeating the token", withToken, err)
		}
		got, err := SourceURL(s)
		if err != nil {
			noLineBreak(t, err)
			if !strings.Contains(err.Error(), Quote(RedactUserinfo(s))) {
				t.Errorf("SourceURL(%q) error %q does not name the input", s, err)
			}
			return
		}
		if got != s {
			t.Errorf("SourceURL(%q) = %q, want the input unchanged", s, got)
		}
		if s == "" {
			return
		}
		if l := strings.ToLower(s); !strings.HasPrefix(l, "https://") && !strings.HasPrefix(l, "http://") {
			t.Errorf("SourceURL accepted %q, which is not http(s)", s)
		}
		if HasUserinfo(s) || strings.ContainsAny(s, " \t\r\n") || len(s) > MaxInputLen {
			t.Errorf("SourceURL accepted %q", s)
		}
	})
}

// fullShaRE is the oracle the fuzz targets check accepted shas against.
var fullShaRE = regexp.MustCompile(`^[0-9a-f]{40}$`)
