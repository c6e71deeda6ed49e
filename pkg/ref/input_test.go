package ref

import (
	"strings"
	"testing"
)

const sha40 = "9f2c4e1a7b3d5f60718293a4b5c6d7e8f9012345"

func TestGitRef(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		wrong    string // "" when the ref is valid; else what the message must name
	}{
		{"empty", "", ""},
		{"branch", "main", ""},
		{"nested branch", "release/1.4", ""},
		{"full ref", "refs/heads/feature/x_y-z", ""},
		{"tag", "v1.2.3+build.7", ""},
		{"pull request", "42/merge", ""},
		{"unicode letters", "fonctionnalité/été", ""},
		{"at sign inside", "user@work", ""},
		{"longest", strings.Repeat("a", MaxRefLen), ""},
		{"too long", strings.Repeat("a", MaxRefLen+1), "256 bytes"},
		{"600 characters", strings.Repeat("r", 600), "600 bytes"},
		{"newline", "main\n::error::x", "control character"},
		{"carriage return", "main\r", "control character"},
		{"tab", "ma\tin", "control character"},
		{"space", "my branch", "whitespace"},
		{"bidi override", "main\u202egnp", "control character"},
		{"dot dot", "a..b", `".."`},
		{"reflog", "main@{1}", `"@{"`},
		{"lone at", "@", "HEAD"},
		{"lock", "main.lock", ".lock"},
		{"lock component", "heads.lock/main", ".lock"},
		{"trailing slash", "main/", `"/"`},
		{"leading slash", "/main", `"/"`},
		{"double slash", "a//b", `"//"`},
		{"trailing dot", "main.", `"."`},
		{"hidden component", "feature/.x", `"."`},
		{"leading dash", "-main", `"-"`},
		{"command substitution", "$(id)", `'$'`},
		{"backticks", "`id`", "'`'"},
		{"semicolon", "main;rm -rf /", `';'`},
		{"pipe", "main|x", `'|'`},
		{"colon", "main:x", `':'`},
		{"tilde", "main~1", `'~'`},
		{"caret", "main^", `'^'`},
		{"glob", "feat*", `'*'`},
		{"backslash", `a\b`, `'\\'`},
		{"quote", `a"b`, `'"'`},
		{"percent", "a%0Ab", `'%'`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := GitRef(tc.in)
			if tc.wrong == "" {
				if err != nil || got != tc.in {
					t.Errorf("GitRef(%q) = %q, %v; want it accepted unchanged", tc.in, got, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("GitRef(%q) accepted", tc.in)
			}
			msg := err.Error()
			for _, want := range []string{tc.wrong, "give a git branch or tag name"} {
				if !strings.Contains(msg, want) {
					t.Errorf("GitRef(%q) error %q does not say %q", tc.in, msg, want)
				}
			}
			if strings.ContainsAny(msg, "\n\r") {
				t.Errorf("GitRef(%q) error carries a raw line break: %q", tc.in, msg)
			}
		})
	}
}

func TestNewOrigin(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, ref, sha string
		want           string // the annotation, "" for an error
		msg            string
	}{
		{"branch", "main", sha40, "main@sha1:" + sha40, ""},
		{"no ref", "", sha40, "sha1:" + sha40, ""},
		{"ref with an at sign", "a@b", sha40, "a@b@sha1:" + sha40, ""},
		{"longest ref reads back", strings.Repeat("x", MaxRefLen), sha40, strings.Repeat("x", MaxRefLen) + "@sha1:" + sha40, ""},
		{"oversized ref", strings.Repeat("x", 600), sha40, "", "over the 255-byte limit"},
		{"newline ref", "main\nx", sha40, "", "control character"},
		{"short sha", "main", sha40[:7], "", "full 40"},
		{"upper-case sha", "main", strings.ToUpper(sha40), "", "full 40"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			o, err := NewOrigin(tc.ref, tc.sha)
			if tc.want == "" {
				if err == nil || !strings.Contains(err.Error(), tc.msg) || !strings.Contains(err.Error(), "give ") {
					t.Errorf("NewOrigin(%q, %q) = %v, %v; want an error saying %q and what to give", tc.ref, tc.sha, o, err, tc.msg)
				}
				return
			}
			if err != nil {
				t.Fatalf("NewOrigin(%q, %q): %v", tc.ref, tc.sha, err)
			}
			if got := o.String(); got != tc.want {
				t.Errorf("annotation = %q, want %q", got, tc.want)
			}
			if back, err := ParseOrigin(o.String()); err != nil || back != o {
				t.Errorf("ParseOrigin(%q) = %+v, %v; want %+v", o.String(), back, err, o)
			}
		})
	}
}

func TestSourceURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		wrong    string // "" when valid
	}{
		{"empty", "", ""},
		{"github", "https://github.com/acme/platform", ""},
		{"enterprise over http", "http://git.example.com:8080/acme/platform", ""},
		{"not a URL", "acme/platform", "not an absolute http(s) URL"},
		{"ssh", "git@github.com:acme/platform.git", "credentials"},
		{"other scheme", "ftp://example.com/x", "not an absolute http(s) URL"},
		{"javascript", "javascript:alert(1)", "not an absolute http(s) URL"},
		{"no host", "https:///acme", "not an absolute http(s) URL"},
		{"newline", "https://github.com/acme/platform\n::error::x", "control character"},
		{"space", "https://github.com/acme/plat form", "whitespace"},
		{"oversized", "https://github.com/" + strings.Repeat("a", 600), "over the 512-byte limit"},
		{"credentials", "https://ci:ghp_t0ken@github.com/acme/platform", "credentials"},
		{"credentials and a bad escape", "https://ci:ghp_t0ken@github.com/%zz", "credentials"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := SourceURL(tc.in)
			if tc.wrong == "" {
				if err != nil || got != tc.in {
					t.Errorf("SourceURL(%q) = %q, %v; want it accepted unchanged", tc.in, got, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("SourceURL(%q) accepted", tc.in)
			}
			msg := err.Error()
			for _, want := range []string{tc.wrong, "give the repository's web address"} {
				if !strings.Contains(msg, want) {
					t.Errorf("SourceURL(%q) error %q does not say %q", tc.in, msg, want)
				}
			}
			if strings.Contains(msg, "ghp_t0ken") {
				t.Errorf("SourceURL error repeats the credentials: %q", msg)
			}
		})
	}
}

func TestRedactUserinfo(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"ghcr.io/acme/app", "ghcr.io/acme/app"},
		{"oci://ghcr.io/acme/app", "oci://ghcr.io/acme/app"},
		{"ci:tok@ghcr.io/acme/app", "***@ghcr.io/acme/app"},
		{"oci://ci:tok@ghcr.io/acme/app", "oci://***@ghcr.io/acme/app"},
		{"https://ci:p@ss@github.com/a/b", "https://***@github.com/a/b"},
		{"tok@host", "***@host"},
		{"ci:tok@oci://ghcr.io/acme/app", "***@oci://ghcr.io/acme/app"},
		{"ci:tok@https://x", "***@https://x"},
		{"ghcr.io/acme/app@sha256:abc", "ghcr.io/acme/app@sha256:abc"},
		{"", ""},
	}
	for _, tc := range tests {
		if got := RedactUserinfo(tc.in); got != tc.want {
			t.Errorf("RedactUserinfo(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if got, want := HasUserinfo(tc.in), tc.in != tc.want; got != want {
			t.Errorf("HasUserinfo(%q) = %v, want %v", tc.in, got, want)
		}
		if u, ok := Userinfo(tc.in); ok && strings.Replace(tc.in, u+"@", "***@", 1) != tc.want {
			t.Errorf("Userinfo(%q) = %q, which is not what RedactUserinfo replaced", tc.in, u)
		}
	}
}

func TestNormalizeSha(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{sha40, sha40},
		{strings.ToUpper(sha40), sha40},
		{" 9F2C4E1 ", "9f2c4e1"},
		{"9f2", ""},
		{"zzzzzzz", ""},
		{"$(id)", ""},
	}
	for _, tc := range tests {
		got, err := NormalizeSha(tc.in)
		if tc.want == "" {
			if err == nil || !strings.Contains(err.Error(), Quote(strings.TrimSpace(tc.in))) {
				t.Errorf("NormalizeSha(%q) = %q, %v; want an error naming the input", tc.in, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("NormalizeSha(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestRegistryHost(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{"ghcr.io", "localhost", "localhost:5000", "127.0.0.1:5000", "[::1]:5000", "[::1]", "registry-1.docker.io", "index.docker.io", "GHCR.IO"} {
		if _, err := RegistryHost(ok); err != nil {
			t.Errorf("RegistryHost(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"", ":", "$(id).io", `"x.io`, "a;b.io", "a'b.io", "a&b.io", "a<b>.io", "a\u202eb.io", "!.io", "*.io", "a..b", "-a.io", "a-.io", "x.io:abc", "x.io:", "x.io:123456", "[::1", "a b.io", "a\n.io", strings.Repeat("a.", 130) + "io"} {
		_, err := RegistryHost(bad)
		if err == nil {
			t.Errorf("RegistryHost(%q) accepted", bad)
			continue
		}
		for _, want := range []string{Quote(bad), "is not a host name", "for example ghcr.io"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("RegistryHost(%q) error %q does not say %q", bad, err, want)
			}
		}
	}
}
