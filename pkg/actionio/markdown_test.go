package actionio

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// hostileReason is a decision reason carrying what an event payload could put in it.
const hostileReason = "ignored: message [x](https://evil) ![i](https://evil/p.png) <img src=x> **b** `c` a|b #\n::error::forged\r\u202egnp"

// markdownSyntax is what must not survive unescaped in a heading.
const markdownSyntax = "[]()!<>`*|#"

// unescaped returns the Markdown syntax characters of line that no backslash escapes.
func unescaped(line string) string {
	var out []rune
	escaped := false
	for _, r := range line {
		switch {
		case escaped:
			escaped = false
		case r == '\\':
			escaped = true
		case strings.ContainsRune(markdownSyntax, r):
			out = append(out, r)
		}
	}
	return string(out)
}

func TestMarkdownText(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"build-rc: pushed 0.0.1-rc.1 to ghcr.io/acme/app", "build-rc: pushed 0.0.1-rc.1 to ghcr.io/acme/app"},
		{"[x](https://evil)", `\[x\]\(https://evil\)`},
		{"![i](https://evil/p.png)", `\!\[i\]\(https://evil/p.png\)`},
		{"<img src=x>", "&lt;img src=x&gt;"},
		{"&lt;", "&amp;lt;"},
		{"a\n::error::x", `a ::error::x`},
		{"`code` *em* _em_ ~s~", "\\`code\\` \\*em\\* \\_em\\_ \\~s\\~"},
		{`back\slash`, `back\\slash`},
		{"bidi\u202eoverride\u200b", "bidi override "},
	}
	for _, tc := range tests {
		if got := MarkdownText(tc.in); got != tc.want {
			t.Errorf("MarkdownText(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// A decision reason carrying links, an image, HTML and a forged workflow command reaches the job
// summary heading as literal text on one line, and the log as one line.
func TestReportHostileHeading(t *testing.T) {
	t.Parallel()
	summary := filepath.Join(t.TempDir(), "summary")
	var log, stdout, stderr bytes.Buffer
	a := action(map[string]string{"GITHUB_STEP_SUMMARY": summary}, &log)
	if err := Report(a, &stdout, &stderr, false, "dispatch-receiver: "+hostileReason, Outputs{{Name: "reason", Value: hostileReason}}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(summary)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	heading := lines[0]
	if !strings.HasPrefix(heading, "### dispatch-receiver: ignored: message ") {
		t.Fatalf("summary does not start with the heading:\n%s", b)
	}
	if got := unescaped(strings.TrimPrefix(heading, "### ")); got != "" {
		t.Errorf("heading keeps Markdown syntax %q unescaped: %s", got, heading)
	}
	for _, raw := range []string{"<img", "](", "\u202e"} {
		if strings.Contains(heading, raw) {
			t.Errorf("heading carries %q: %s", raw, heading)
		}
	}
	if lines[1] != "" || !strings.HasPrefix(lines[2], "| output | value |") {
		t.Errorf("the heading spilled onto more lines:\n%s", b)
	}
	for _, l := range append(lines, strings.Split(stderr.String(), "\n")...) {
		if strings.HasPrefix(strings.TrimSpace(l), "::") {
			t.Errorf("a line reads as a workflow command: %q", l)
		}
	}
	if n := strings.Count(stderr.String(), "\n"); n != 1 {
		t.Errorf("the heading took %d lines of the log:\n%s", n, stderr.String())
	}
	if !strings.Contains(string(b), "| reason | `ignored: message [x](https://evil)") {
		t.Errorf("the reason output is not rendered as code in the table:\n%s", b)
	}
	if strings.Contains(string(b), "\u202e") {
		t.Errorf("a bidi override reached the summary:\n%s", b)
	}
}
