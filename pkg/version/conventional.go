package version

import (
	"regexp"
	"strings"
	"sync"
)

// Auto asks for the bump level to be read from the commits since the highest stable version.
const Auto Bump = "auto"

// conventionalHeader is a Conventional Commits header: type, optional scope, optional "!".
// Compiled on first use (only bump auto reads commits), not at every process start.
var conventionalHeader = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^([A-Za-z]+)(\([^()\r\n]*\))?(!)?: \S`)
})

// BumpFromCommits reads Conventional Commit messages (https://www.conventionalcommits.org) and
// returns the release they call for: major for a breaking change ("!" after the type, or a
// BREAKING CHANGE footer), minor for a feature, patch otherwise, including when no message
// follows the convention.
func BumpFromCommits(messages []string) Bump {
	level := Patch
	for _, m := range messages {
		header, body, _ := strings.Cut(strings.ReplaceAll(m, "\r\n", "\n"), "\n")
		g := conventionalHeader().FindStringSubmatch(strings.TrimSpace(header))
		if g != nil && g[3] == "!" {
			return Major
		}
		for _, line := range strings.Split(body, "\n") {
			if strings.HasPrefix(line, "BREAKING CHANGE:") || strings.HasPrefix(line, "BREAKING-CHANGE:") {
				return Major
			}
		}
		if g != nil && strings.EqualFold(g[1], "feat") {
			level = Minor
		}
	}
	return level
}
