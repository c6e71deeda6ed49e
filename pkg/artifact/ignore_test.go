package artifact

import (
	"strings"
	"testing"
)

func TestIgnoreExcludes(t *testing.T) {
	t.Parallel()
	type probe struct {
		path  string
		isDir bool
		want  bool
	}
	tests := []struct {
		name     string
		patterns []string
		probes   []probe
	}{
		{
			name:     "no patterns exclude nothing",
			patterns: nil,
			probes:   []probe{{"a", false, false}, {"a/b", true, false}},
		},
		{
			name:     "pattern without slash matches a name at any depth",
			patterns: []string{"foo"},
			probes: []probe{
				{"foo", false, true}, {"foo", true, true}, {"a/foo", false, true}, {"a/b/foo", true, true},
				{"foobar", false, false}, {"a/foo.txt", false, false}, {"xfoo", false, false},
			},
		},
		{
			name:     "a file below a matched directory is excluded",
			patterns: []string{"foo"},
			probes:   []probe{{"foo/bar", false, true}, {"a/foo/b/c", false, true}},
		},
		{
			name:     "leading slash anchors to the root",
			patterns: []string{"/foo"},
			probes:   []probe{{"foo", false, true}, {"foo/x", false, true}, {"a/foo", false, false}},
		},
		{
			name:     "middle slash anchors too",
			patterns: []string{"doc/frotz"},
			probes:   []probe{{"doc/frotz", false, true}, {"a/doc/frotz", false, false}},
		},
		{
			name:     "trailing slash matches directories only",
			patterns: []string{"build/"},
			probes: []probe{
				{"build", true, true}, {"a/build", true, true}, {"build/x.yaml", false, true},
				{"build", false, false}, {"a/build", false, false},
			},
		},
		{
			name:     "leading and trailing slash",
			patterns: []string{"/build/"},
			probes:   []probe{{"build", true, true}, {"build", false, false}, {"a/build", true, false}},
		},
		{
			name:     "star stays inside one component",
			patterns: []string{"*.yaml"},
			probes: []probe{
				{"x.yaml", false, true}, {"a/b/x.yaml", false, true}, {".x.yaml", false, true},
				{"x.yml", false, false}, {"x.yaml.bak", false, false},
			},
		},
		{
			name:     "anchored star does not cross directories",
			patterns: []string{"a/*.yaml"},
			probes:   []probe{{"a/x.yaml", false, true}, {"a/b/x.yaml", false, false}, {"b/a/x.yaml", false, false}},
		},
		{
			name:     "star after slash matches entries and so everything below them",
			patterns: []string{"foo/*"},
			probes:   []probe{{"foo/test.json", false, true}, {"foo/bar", true, true}, {"foo/bar/hello.c", false, true}, {"foo", true, false}},
		},
		{
			name:     "question mark is one character, not a slash",
			patterns: []string{"?.txt", "x?y"},
			probes: []probe{
				{"a.txt", false, true}, {"ü.txt", false, true}, {"ab.txt", false, false}, {".txt", false, false},
				{"x/y", false, false},
			},
		},
		{
			name:     "bracket expressions",
			patterns: []string{"[abc].txt", "[!abc].md", "[^abc].json", "[a-c]x", "[[:digit:]]*.log", "[]]y", "[a-]z", `[\]]w`},
			probes: []probe{
				{"b.txt", false, true}, {"d.txt", false, false},
				{"d.md", false, true}, {"a.md", false, false},
				{"d.json", false, true}, {"a.json", false, false},
				{"bx", false, true}, {"dx", false, false},
				{"1abc.log", false, true}, {"abc.log", false, false},
				{"]y", false, true}, {"y", false, false},
				{"-z", false, true}, {"az", false, true}, {"bz", false, false},
				{"]w", false, true},
			},
		},
		{
			name:     "leading double star matches in all directories",
			patterns: []string{"**/foo", "**/bar/baz"},
			probes: []probe{
				{"foo", false, true}, {"a/foo", false, true}, {"a/b/foo", true, true},
				{"bar/baz", false, true}, {"x/bar/baz", false, true}, {"bar/x/baz", false, false},
			},
		},
		{
			name:     "trailing double star matches everything inside but not the directory",
			patterns: []string{"abc/**"},
			probes:   []probe{{"abc/x", false, true}, {"abc/x/y", false, true}, {"abc", true, false}, {"x/abc/y", false, false}},
		},
		{
			name:     "middle double star matches zero or more directories",
			patterns: []string{"a/**/b"},
			probes: []probe{
				{"a/b", false, true}, {"a/x/b", false, true}, {"a/x/y/b", false, true},
				{"a/xb", false, false}, {"x/a/b", false, false},
			},
		},
		{
			name:     "double star alone matches everything",
			patterns: []string{"**"},
			probes:   []probe{{"a", false, true}, {"a/b/c", false, true}},
		},
		{
			name:     "double star inside a component is a plain star",
			patterns: []string{"a**z"},
			probes:   []probe{{"abcz", false, true}, {"a/z", false, false}, {"x/abz", false, true}},
		},
		{
			name:     "negation re-includes",
			patterns: []string{"*.yaml", "!keep.yaml"},
			probes:   []probe{{"x.yaml", false, true}, {"keep.yaml", false, false}, {"a/keep.yaml", false, false}},
		},
		{
			name:     "the last matching pattern wins",
			patterns: []string{"!keep.yaml", "*.yaml"},
			probes:   []probe{{"keep.yaml", false, true}},
		},
		{
			name:     "a file below an excluded directory cannot be re-included",
			patterns: []string{"build/", "!build/keep.yaml"},
			probes:   []probe{{"build/keep.yaml", false, true}, {"build/x", false, true}},
		},
		{
			name:     "excluding the contents instead allows re-including one file",
			patterns: []string{"build/*", "!build/keep.yaml"},
			probes:   []probe{{"build/keep.yaml", false, false}, {"build/x", false, true}, {"build", true, false}},
		},
		{
			name:     "a directory itself can be re-included",
			patterns: []string{"build/", "!build/"},
			probes:   []probe{{"build", true, false}, {"build/x", false, false}},
		},
		{
			name:     "negated directory-only pattern leaves files alone",
			patterns: []string{"out", "!out/"},
			probes:   []probe{{"out", true, false}, {"out", false, true}},
		},
		{
			name:     "comments, blank lines and lone slashes are not patterns",
			patterns: []string{"# secret", "", "   ", "/", "!", "#"},
			probes:   []probe{{"# secret", false, false}, {"secret", false, false}, {"a", false, false}},
		},
		{
			name:     "escaped hash and bang are literal",
			patterns: []string{`\#notes`, `\!important`},
			probes: []probe{
				{"#notes", false, true}, {"!important", false, true}, {"important", false, false}, {"notes", false, false},
			},
		},
		{
			name:     "escaped glob characters are literal",
			patterns: []string{`\*.yaml`, `what\?`, `\[x]`},
			probes: []probe{
				{"*.yaml", false, true}, {"x.yaml", false, false},
				{"what?", false, true}, {"whats", false, false},
				{"[x]", false, true}, {"x", false, false},
			},
		},
		{
			name:     "trailing spaces are dropped unless escaped",
			patterns: []string{"foo   ", `bar\ `},
			probes:   []probe{{"foo", false, true}, {"foo   ", false, false}, {"bar ", false, true}, {"bar", false, false}},
		},
		{
			name:     "one element may hold a whole ignore file",
			patterns: []string{"# generated\r\n*.tmp\r\n\n!keep.tmp\ncache/\n"},
			probes: []probe{
				{"x.tmp", false, true}, {"keep.tmp", false, false}, {"cache", true, true}, {"# generated", false, false},
			},
		},
		{
			name:     "malformed patterns match nothing",
			patterns: []string{"[abc", `foo\`, "[[:nope:]]"},
			probes: []probe{
				{"[abc", false, false}, {"a", false, false}, {"foo", false, false}, {`foo\`, false, false},
				{"n", false, false},
			},
		},
		{
			name:     "a reversed range matches only its first character, as in Git",
			patterns: []string{"[z-a]"},
			probes:   []probe{{"z", false, true}, {"a", false, false}, {"m", false, false}},
		},
		{
			name:     "matching is case-sensitive",
			patterns: []string{"*.YAML"},
			probes:   []probe{{"x.yaml", false, false}, {"x.YAML", false, true}},
		},
		{
			name:     "regexp metacharacters are literal",
			patterns: []string{"a.b", "(x)+", "^$"},
			probes: []probe{
				{"a.b", false, true}, {"axb", false, false}, {"(x)+", false, true}, {"xx", false, false}, {"^$", false, true},
			},
		},
		{
			name:     "names with newlines",
			patterns: []string{"a*"},
			probes:   []probe{{"a\nb", false, true}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := compileIgnore(tc.patterns)
			for _, p := range tc.probes {
				if got, want := m.excludes(p.path, p.isDir), p.want; got != want {
					t.Errorf("patterns %q: excludes(%q, dir=%t) = %t, want %t", tc.patterns, p.path, p.isDir, got, want)
				}
			}
		})
	}
}

func TestCheckIgnore(t *testing.T) {
	t.Parallel()
	if err := CheckIgnore([]string{"*.tmp\n!keep.tmp\ncache/\n# comment\n[z-a]\n\\[literal"}); err != nil {
		t.Errorf("well-formed patterns refused: %v", err)
	}
	for _, bad := range []string{"[abc", `foo\`, "[[:nope:]]", "ok\n[abc"} {
		err := CheckIgnore([]string{bad})
		if err == nil || !strings.Contains(err.Error(), "malformed") || !strings.Contains(err.Error(), "fix it") {
			t.Errorf("CheckIgnore(%q) = %v, want it refused saying what to do", bad, err)
		}
	}
	if _, err := Pack(t.TempDir(), []string{"[abc"}); err == nil {
		t.Error("Pack accepted a malformed ignore pattern")
	}
}
