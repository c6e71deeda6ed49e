package ref

import (
	"strings"
	"testing"
	"unicode"
)

const hex64 = "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881"

func TestParseRevision(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in       string
		tag, dig string
		ok       bool
	}{
		{"0.4.2-rc.3@sha256:" + hex64, "0.4.2-rc.3", "sha256:" + hex64, true},
		{"sha256:" + hex64, "", "sha256:" + hex64, true},
		{"latest@sha256:" + hex64, "latest", "sha256:" + hex64, true},
		{"0.4.2-rc.3@sha256:" + strings.ToUpper(hex64), "", "", false},
		{"0.4.2-rc.3@sha256:" + hex64[:63], "", "", false},
		{"0.4.2-rc.3@sha512:" + hex64, "", "", false},
		{"main@sha1:9f2c4e1a7b3d5f60718293a4b5c6d7e8f9012345", "", "", false},
		{"$(reboot)@sha256:" + hex64, "", "", false},
		{"0.4.2-rc.3;rm -rf /@sha256:" + hex64, "", "", false},
		{"0.4.2-rc.3@sha256:" + hex64 + "\n::set-output name=x::y", "", "", false},
		{"@sha256:" + hex64, "", "", false},
		{"", "", "", false},
		{strings.Repeat("a", 600), "", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			r, err := ParseRevision(tc.in)
			if got, want := err == nil, tc.ok; got != want {
				t.Fatalf("ParseRevision(%q) err = %v, want ok=%v", tc.in, err, tc.ok)
			}
			if tc.ok && (r.Tag != tc.tag || r.Digest != tc.dig) {
				t.Errorf("ParseRevision(%q) = %+v", tc.in, r)
			}
			if tc.ok && r.String() != tc.in {
				t.Errorf("String() = %q, want %q", r.String(), tc.in)
			}
		})
	}
}

func TestParseOrigin(t *testing.T) {
	t.Parallel()
	const sha = "9f2c4e1a7b3d5f60718293a4b5c6d7e8f9012345"
	tests := []struct {
		in, ref string
		ok      bool
	}{
		{"main@sha1:" + sha, "main", true},
		{"refs/heads/release/1.4@sha1:" + sha, "refs/heads/release/1.4", true},
		{"sha1:" + sha, "", true},
		{"main@sha1:" + sha[:39], "", false},
		{"mainsha1:" + sha, "", false},
		{"@sha1:" + sha, "", false},
		{"main@sha256:" + hex64, "", false},
		{"", "", false},
	}
	for _, tc := range tests {
		o, err := ParseOrigin(tc.in)
		if got, want := err == nil, tc.ok; got != want {
			t.Errorf("ParseOrigin(%q) err = %v, want ok=%v", tc.in, err, tc.ok)
			continue
		}
		if tc.ok && (o.Ref != tc.ref || o.Sha != sha || o.String() != tc.in) {
			t.Errorf("ParseOrigin(%q) = %+v", tc.in, o)
		}
	}
}

func TestShaAndDigest(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"abcd", "9f2c4e1", "9f2c4e1a7b3d5f60718293a4b5c6d7e8f9012345"} {
		if _, err := Sha(s); err != nil {
			t.Errorf("Sha(%q): %v", s, err)
		}
	}
	for _, s := range []string{"abc", "9F2C4E1", "9f2c4e1g", "9f2c4e1a7b3d5f60718293a4b5c6d7e8f90123456", "-x", "9f2c 4e1"} {
		if _, err := Sha(s); err == nil {
			t.Errorf("Sha(%q) accepted", s)
		}
	}
	if _, err := Digest("sha256:" + hex64); err != nil {
		t.Error(err)
	}
	if _, err := Digest(hex64); err == nil {
		t.Error("Digest accepted a digest without its algorithm")
	}
}

func FuzzParseRevision(f *testing.F) {
	for _, s := range []string{"0.4.2-rc.3@sha256:" + hex64, "sha256:" + hex64, "$(x)@sha256:" + hex64, "a@b@sha256:" + hex64, ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRevision(s)
		if err != nil {
			if msg := err.Error(); strings.ContainsFunc(msg, func(c rune) bool { return c == '\n' || c == '\r' }) {
				t.Errorf("error message carries a raw line break: %q", msg)
			}
			return
		}
		if _, err := Digest(r.Digest); err != nil {
			t.Errorf("accepted %q with digest %q", s, r.Digest)
		}
		if strings.ContainsFunc(r.Tag, func(c rune) bool {
			return !strings.ContainsRune("._-", c) && !unicode.IsLetter(c) && !unicode.IsDigit(c)
		}) {
			t.Errorf("accepted %q with tag %q", s, r.Tag)
		}
		if r.String() != s {
			t.Errorf("round trip %q -> %q", s, r.String())
		}
	})
}
