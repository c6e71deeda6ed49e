package artifact

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// ignoreMatcher decides which paths Pack leaves out, with the semantics of a .gitignore file at
// the root of the packed directory. Users already know those rules from Git and from Flux's
// .sourceignore, so a pattern means here what it means there.
type ignoreMatcher struct {
	patterns []ignorePattern
}

type ignorePattern struct {
	// segments is the pattern split at "/"; an unanchored pattern starts with a "**" segment.
	segments []patternSegment
	negate   bool
	dirOnly  bool
	// malformed patterns (an unclosed "[", a trailing "\") never match, as in Git.
	malformed bool
}

type patternSegment struct {
	doubleStar bool           // "**": any number of path components
	re         *regexp.Regexp // one path component
}

// compileIgnore reads gitignore-syntax patterns. An element may hold several newline-separated
// lines, so a whole .sourceignore file can be passed as one string.
func compileIgnore(sources []string) *ignoreMatcher {
	m := &ignoreMatcher{}
	for _, src := range sources {
		for _, line := range strings.Split(src, "\n") {
			if p, ok := parseIgnoreLine(line); ok {
				m.patterns = append(m.patterns, p)
			}
		}
	}
	return m
}

// CheckIgnore refuses caller-given ignore patterns that are malformed (an unclosed "[", an
// unknown [:class:], a trailing "\"). Git skips such a line silently, so a file the user meant to
// leave out would be published; from an input, that is a mistake to report.
func CheckIgnore(sources []string) error {
	var bad []string
	for _, src := range sources {
		for _, line := range strings.Split(src, "\n") {
			if p, ok := parseIgnoreLine(line); ok && p.malformed {
				bad = append(bad, strconv.Quote(strings.TrimSuffix(line, "\r")))
			}
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("ignore pattern %s is malformed (an unclosed [, an unknown [:class:] or a trailing \\) and would leave nothing out: fix it, or escape the character with a backslash", strings.Join(bad, ", "))
	}
	return nil
}

// excludes reports whether rel (slash-separated, relative to the packed directory) is left out.
// As in Git, a path below an excluded directory stays excluded whatever later patterns say,
// because Git never looks inside a directory it has excluded.
func (m *ignoreMatcher) excludes(rel string, isDir bool) bool {
	if len(m.patterns) == 0 {
		return false
	}
	parts := strings.Split(rel, "/")
	for i := 1; i < len(parts); i++ {
		if m.matchLast(parts[:i], true) {
			return true
		}
	}
	return m.matchLast(parts, isDir)
}

// matchLast applies the patterns to one path; the last pattern that matches decides.
func (m *ignoreMatcher) matchLast(parts []string, isDir bool) bool {
	excluded := false
	for _, p := range m.patterns {
		if p.malformed || (p.dirOnly && !isDir) {
			continue
		}
		if matchSegments(p.segments, parts) {
			excluded = !p.negate
		}
	}
	return excluded
}

func matchSegments(segs []patternSegment, parts []string) bool {
	for len(segs) > 0 {
		if segs[0].doubleStar {
			rest := segs[1:]
			if len(rest) == 0 {
				// A trailing "**" matches what is inside, not the directory itself.
				return len(parts) > 0
			}
			for i := 0; i <= len(parts); i++ {
				if matchSegments(rest, parts[i:]) {
					return true
				}
			}
			return false
		}
		if len(parts) == 0 || !segs[0].re.MatchString(parts[0]) {
			return false
		}
		segs, parts = segs[1:], parts[1:]
	}
	return len(parts) == 0
}

func parseIgnoreLine(line string) (ignorePattern, bool) {
	line = strings.TrimSuffix(line, "\r")
	if line == "" || strings.HasPrefix(line, "#") {
		return ignorePattern{}, false
	}
	line = trimUnescapedTrailingSpaces(line)

	var p ignorePattern
	if strings.HasPrefix(line, "!") {
		p.negate = true
		line = line[1:]
	}
	if strings.HasSuffix(line, "/") && !strings.HasSuffix(line, `\/`) {
		p.dirOnly = true
		line = strings.TrimSuffix(line, "/")
	}
	// A slash at the start or in the middle anchors the pattern to the packed directory.
	anchored := strings.Contains(line, "/")
	line = strings.TrimPrefix(line, "/")
	if line == "" {
		return ignorePattern{}, false
	}

	if !anchored {
		p.segments = append(p.segments, patternSegment{doubleStar: true})
	}
	for _, s := range strings.Split(line, "/") {
		if s == "**" {
			p.segments = append(p.segments, patternSegment{doubleStar: true})
			continue
		}
		re, ok := segmentRegexp(s)
		if !ok {
			p.malformed = true
			break
		}
		p.segments = append(p.segments, patternSegment{re: re})
	}
	return p, true
}

// trimUnescapedTrailingSpaces drops trailing spaces, except one written as "\ ", as Git does.
func trimUnescapedTrailingSpaces(s string) string {
	end := len(s)
	for end > 0 && s[end-1] == ' ' {
		backslashes := 0
		for i := end - 2; i >= 0 && s[i] == '\\'; i-- {
			backslashes++
		}
		if backslashes%2 == 1 {
			break
		}
		end--
	}
	return s[:end]
}

// segmentRegexp translates the glob for one path component. A component never holds "/", so
// "*", "?" and bracket expressions cannot cross directories by construction. "?" and bracket
// expressions match one character where Git matches one byte; Flux's own matcher (go-git's,
// built on filepath.Match) matches characters too, and only non-ASCII names can tell.
func segmentRegexp(glob string) (*regexp.Regexp, bool) {
	var b strings.Builder
	b.WriteString(`(?s)^`)
	rs := []rune(glob)
	for i := 0; i < len(rs); i++ {
		switch r := rs[i]; r {
		case '\\':
			if i+1 == len(rs) {
				return nil, false
			}
			i++
			b.WriteString(regexp.QuoteMeta(string(rs[i])))
		case '*':
			b.WriteString(`.*`)
		case '?':
			b.WriteString(`.`)
		case '[':
			class, n, ok := bracketRegexp(rs[i+1:])
			if !ok {
				return nil, false
			}
			b.WriteString(class)
			i += n
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString(`$`)
	re, err := regexp.Compile(b.String())
	return re, err == nil
}

// posixClasses are the [:name:] classes Git's wildmatch knows; Go's regexp knows the same names.
var posixClasses = map[string]bool{
	"alnum": true, "alpha": true, "blank": true, "cntrl": true, "digit": true, "graph": true,
	"lower": true, "print": true, "punct": true, "space": true, "upper": true, "xdigit": true,
}

// bracketRegexp translates a bracket expression whose "[" has been consumed. It returns the
// regexp class and how many runes of rs it used, including the closing "]".
func bracketRegexp(rs []rune) (string, int, bool) {
	var b strings.Builder
	b.WriteString("[")
	i := 0
	if i < len(rs) && (rs[i] == '!' || rs[i] == '^') {
		b.WriteString("^")
		i++
	}
	first := true
	for i < len(rs) {
		r := rs[i]
		if r == ']' && !first {
			b.WriteString("]")
			return b.String(), i + 1, true
		}
		first = false
		if r == '[' && i+1 < len(rs) && rs[i+1] == ':' {
			end := -1
			for j := i + 2; j+1 < len(rs); j++ {
				if rs[j] == ':' && rs[j+1] == ']' {
					end = j
					break
				}
			}
			if end < 0 || !posixClasses[string(rs[i+2:end])] {
				return "", 0, false
			}
			b.WriteString("[:" + string(rs[i+2:end]) + ":]")
			i = end + 2
			continue
		}
		lo, n, ok := classMember(rs[i:])
		if !ok {
			return "", 0, false
		}
		i += n
		if i+1 < len(rs) && rs[i] == '-' && rs[i+1] != ']' {
			hi, n, ok := classMember(rs[i+1:])
			if !ok {
				return "", 0, false
			}
			i += 1 + n
			// Git tests the start of a range as a member on its own, so a reversed range
			// such as [z-a] still matches "z".
			if lo > hi {
				hi = lo
			}
			b.WriteString(quoteClassRune(lo) + "-" + quoteClassRune(hi))
			continue
		}
		b.WriteString(quoteClassRune(lo))
	}
	return "", 0, false
}

// classMember reads one possibly backslash-escaped rune of a bracket expression.
func classMember(rs []rune) (rune, int, bool) {
	if rs[0] == '\\' {
		if len(rs) < 2 {
			return 0, 0, false
		}
		return rs[1], 2, true
	}
	return rs[0], 1, true
}

func quoteClassRune(r rune) string {
	switch r {
	case '\\', ']', '[', '^', '-':
		return `\` + string(r)
	}
	return string(r)
}

// LeftOut reports whether Pack leaves the file rel (slash-separated, relative to the packed
// directory) out of the artifact: under version-control metadata, or excluded by ignore.
func LeftOut(ignore []string, rel string) bool {
	parts := strings.Split(rel, "/")
	if slices.ContainsFunc(parts, func(p string) bool { return vcsMetadata[p] }) {
		return true
	}
	return compileIgnore(ignore).excludes(rel, false)
}
