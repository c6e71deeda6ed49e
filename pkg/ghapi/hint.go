package ghapi

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/google/go-github/v62/github"
)

// Accepted reads GitHub's X-Accepted-GitHub-Permissions header from a refused request: the sets
// of permissions any one of which would have done, each as a workflow's `permissions:` key names
// it ("pull-requests: write"). GitHub sends it to GitHub Apps and fine-grained tokens, which a
// workflow's GITHUB_TOKEN is: "All valid sets are included in the header, each set separated by
// a semicolon", e.g. "contents=write,workflows=write"
// (https://github.blog/changelog/2023-08-10-x-accepted-github-permissions-header-for-fine-grained-permission-actors).
func Accepted(err error) [][]string {
	var ge *github.ErrorResponse
	if !errors.As(err, &ge) || ge.Response == nil {
		return nil
	}
	return ParseAccepted(ge.Response.Header.Get("X-Accepted-GitHub-Permissions"))
}

// ParseAccepted parses the value of X-Accepted-GitHub-Permissions.
func ParseAccepted(h string) [][]string {
	var sets [][]string
	for _, set := range strings.Split(h, ";") {
		var perms []string
		for _, p := range strings.Split(set, ",") {
			name, level, ok := strings.Cut(strings.TrimSpace(p), "=")
			if !ok || name == "" {
				continue
			}
			perms = append(perms, strings.ReplaceAll(name, "_", "-")+": "+level)
		}
		if len(perms) > 0 {
			sets = append(sets, perms)
		}
	}
	return sets
}

// Hint says what to change when GitHub refused a request for lack of permission, from GitHub's
// own header; "" when the error is not such a refusal or GitHub named no permission.
func Hint(err error) string {
	var ge *github.ErrorResponse
	if !errors.As(err, &ge) || ge.Response == nil {
		return ""
	}
	if ge.Response.StatusCode == http.StatusUnauthorized {
		return "; github_token was refused: check that it is set and not expired"
	}
	sets := Accepted(err)
	if len(sets) == 0 {
		return ""
	}
	var alts []string
	workflows := true
	for _, set := range sets {
		alts = append(alts, "`"+strings.Join(set, "` and `")+"`")
		workflows = workflows && slices.ContainsFunc(set, func(p string) bool { return strings.HasPrefix(p, "workflows:") })
	}
	h := "; GitHub accepts " + strings.Join(alts, " or ") + " for this request (X-Accepted-GitHub-Permissions): grant it under the job's `permissions:`"
	if workflows {
		// GITHUB_TOKEN has no workflows permission, and `permissions:` has no such key.
		h = "; GitHub accepts only " + strings.Join(alts, " or ") + " for this request (X-Accepted-GitHub-Permissions), and a workflow's GITHUB_TOKEN can never hold `workflows`: pass github_token a GitHub App token with Workflows write (or a personal token with the workflow scope), or run when the commit's .github/workflows match the default branch's"
	}
	return h
}
