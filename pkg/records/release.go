package records

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/go-github/v62/github"
)

// ReleaseTag is the Git tag of a stable version's release: vX.Y.Z, whether or not the OCI tag
// has the prefix.
func ReleaseTag(stable string) string { return "v" + strings.TrimPrefix(stable, "v") }

// releaseMarker ends the notes records writes, to tell its releases from hand-made ones.
const releaseMarker = "<!-- ocipromote:release -->"

// completeMarker follows releaseMarker once every pull request the release carried has its
// comment and label, so that a replay can tell from the release alone that nothing is left to do.
// Untrusted text in the notes cannot forge it: inline escapes "<".
const completeMarker = "<!-- ocipromote:complete -->"

// complete reports whether release notes say every comment and label is in place.
func complete(body string) bool { return strings.Contains(body, completeMarker) }

// withComplete appends completeMarker to release notes.
func withComplete(body string) string {
	return strings.TrimRight(body, "\r\n") + "\n" + completeMarker + "\n"
}

// commentMarker is the hidden line that makes a pull request comment findable, once per version.
func commentMarker(stable string) string {
	return "<!-- ocipromote:released:" + strings.TrimPrefix(stable, "v") + " -->"
}

// findRelease looks up the release of tag; nil when there is none.
func (c *Client) findRelease(ctx context.Context, tag string) (*github.RepositoryRelease, error) {
	rel, _, err := c.gh.Repositories.GetReleaseByTag(ctx, c.owner, c.repo, tag)
	switch {
	case isNotFound(err):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("look up the release: %w", err)
	}
	return rel, nil
}

// createRelease creates the release of p.Stable, which findRelease did not find, and returns it
// (nil when it could not). A Git tag of that name at another commit is never reused: GitHub
// would attach the release to the existing tag, not to the commit that was validated. Notes with
// no pull request to comment on are complete from the start.
func (c *Client) createRelease(ctx context.Context, p Promotion, ch *changes, rep *Report) *github.RepositoryRelease {
	tag := ReleaseTag(p.Stable)
	at, err := c.tagCommit(ctx, tag)
	if err != nil {
		rep.warn("release", tag, err)
		return nil
	}
	if at != "" && at != p.Sha {
		rep.warn("release", tag, fmt.Errorf("Git tag %s already points at commit %s, not at %s, the commit of %s@%s: no release created; delete or rename that tag and run again", tag, short(at), short(p.Sha), p.OCIRepository, shortDigest(p.Digest)))
		return nil
	}
	body := c.notes(p, ch)
	if len(ch.pulls) == 0 {
		body = withComplete(body)
	}
	rel, _, err := c.gh.Repositories.CreateRelease(ctx, c.owner, c.repo, &github.RepositoryRelease{
		TagName:         github.String(tag),
		TargetCommitish: github.String(p.Sha),
		Name:            github.String(tag),
		Body:            github.String(body),
		Draft:           github.Bool(false),
		Prerelease:      github.Bool(false),
		MakeLatest:      github.String(makeLatest(p)),
	})
	if err != nil {
		rep.warn("release", tag, fmt.Errorf("create the release: %w", err))
		return nil
	}
	c.log.Info("release created", "tag", tag, "url", rel.GetHTMLURL())
	rep.record(Record{Kind: "release", Subject: tag, State: "created", URL: rel.GetHTMLURL(), Wrote: true})
	return rel
}

// makeLatest is the release's make_latest: a hotfix of an older line must not become the
// repository's latest release.
func makeLatest(p Promotion) string {
	if p.Latest {
		return "true"
	}
	return "false"
}

// markComplete appends completeMarker to the notes of rel once every comment and label is in
// place (a single PATCH). The notes are otherwise left as they are; a hand-made release (without
// releaseMarker) is not touched at all, so its replays keep checking the pull requests.
func (c *Client) markComplete(ctx context.Context, p Promotion, rel *github.RepositoryRelease, rep *Report) {
	body := rel.GetBody()
	if complete(body) || !strings.Contains(body, releaseMarker) {
		return
	}
	tag := ReleaseTag(p.Stable)
	edit := &github.RepositoryRelease{Body: github.String(withComplete(body))}
	if !p.Latest {
		// Said again so that an edit can never make a hotfix the latest release, whatever GitHub
		// defaults make_latest to on an update.
		edit.MakeLatest = github.String(makeLatest(p))
	}
	if _, _, err := c.gh.Repositories.EditRelease(ctx, c.owner, c.repo, rel.GetID(), edit); err != nil {
		rep.warn("release", tag, fmt.Errorf("mark the release complete (every pull request has its comment and label): %w", err))
		return
	}
	c.log.Info("release marked complete", "tag", tag)
	for i := len(rep.Records) - 1; i >= 0; i-- {
		if r := &rep.Records[i]; r.Kind == "release" && r.Subject == tag {
			r.State += ", marked complete"
			r.Wrote = true
			return
		}
	}
}

// tagCommit is the commit Git tag points at ("" when there is no such tag), through an annotated
// tag's object when it is one.
func (c *Client) tagCommit(ctx context.Context, tag string) (string, error) {
	r, _, err := c.gh.Git.GetRef(ctx, c.owner, c.repo, "tags/"+tag)
	if isNotFound(err) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("look up Git tag %s: %w", tag, err)
	}
	obj := r.GetObject()
	if obj.GetType() != "tag" {
		return obj.GetSHA(), nil
	}
	t, _, err := c.gh.Git.GetTag(ctx, c.owner, c.repo, obj.GetSHA())
	if err != nil {
		return "", fmt.Errorf("read annotated tag %s: %w", tag, err)
	}
	return t.GetObject().GetSHA(), nil
}

// notes are the release's Markdown: what was released, how it was validated, what changed.
func (c *Client) notes(p Promotion, ch *changes) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Validated on %s and promoted to %s by ocipromote.\n\n", c.cluster(p), c.o.Live)
	b.WriteString("| | |\n|---|---|\n")
	if p.OCIRepository != "" {
		fmt.Fprintf(&b, "| Artifact | `%s:%s` |\n", p.OCIRepository, p.Stable)
	}
	fmt.Fprintf(&b, "| Digest | `%s` |\n", p.Digest)
	if p.RC != "" {
		fmt.Fprintf(&b, "| Release candidate | `%s` |\n", p.RC)
	}
	fmt.Fprintf(&b, "| Commit | [`%s`](%s) |\n", short(p.Sha), c.commitURL(p.Sha))
	fmt.Fprintf(&b, "| Validated | %s |\n", c.validated(p.Validation))
	if c.o.RunURL != "" {
		fmt.Fprintf(&b, "| Workflow run | %s |\n", c.o.RunURL)
	}
	b.WriteString(c.evidenceSection(p))

	if ch.first {
		fmt.Fprintf(&b, "\nThe first stable version: there is no earlier one to compare with. [History](%s/%s/%s/commits/%s)\n",
			c.o.ServerURL, c.owner, c.repo, p.Sha)
		b.WriteString("\n" + releaseMarker + "\n")
		return b.String()
	}
	head := b.String()
	var pulls, commits []string
	for _, pr := range ch.pulls {
		pulls = append(pulls, fmt.Sprintf("- #%d %s (@%s)\n", pr.number, inline(pr.title, 200), pr.user))
	}
	for _, cm := range ch.commits {
		commits = append(commits, fmt.Sprintf("- [`%s`](%s) %s (%s)\n", short(cm.sha), c.commitURL(cm.sha), inline(cm.title, 200), inline(cm.author, 60)))
	}
	tail := fmt.Sprintf("\n**Full changes**: %s\n\n%s\n", ch.compareURL, releaseMarker)
	// GitHub refuses a body over 125,000 characters (422): the lists are cut to fit, commits
	// first, and the comparison link carries the rest.
	fixed := utf8.RuneCountInString(head) + utf8.RuneCountInString(tail) + 300
	pulls, morePulls := fit(pulls, maxNotes-fixed)
	commits, moreCommits := fit(commits, maxNotes-fixed-runes(pulls))
	b.WriteString("\n## Pull requests\n\n")
	if len(ch.pulls) == 0 {
		b.WriteString("None: the commits below were pushed without a pull request.\n")
	}
	b.WriteString(strings.Join(pulls, ""))
	if morePulls > 0 {
		fmt.Fprintf(&b, "- … and %d more pull requests: see the full changes\n", morePulls)
	}
	fmt.Fprintf(&b, "\n## Commits since %s\n\n", p.Previous.Version)
	b.WriteString(strings.Join(commits, ""))
	if more := ch.more + moreCommits; more > 0 {
		fmt.Fprintf(&b, "- … and %d more: see the full changes\n", more)
	}
	b.WriteString(tail)
	return b.String()
}

// maxNotes is the budget of release notes, under GitHub's limit of 125,000 characters on a
// release body with room for completeMarker.
const maxNotes = 120000

// fit keeps the first lines whose characters add up to at most budget, and says how many it left.
func fit(lines []string, budget int) ([]string, int) {
	n := 0
	for i, l := range lines {
		if n += utf8.RuneCountInString(l); n > budget {
			return lines[:i], len(lines) - i
		}
	}
	return lines, 0
}

func runes(lines []string) int {
	n := 0
	for _, l := range lines {
		n += utf8.RuneCountInString(l)
	}
	return n
}

// validated describes the validation event in one Markdown line; its text is untrusted.
func (c *Client) validated(v Validation) string {
	cluster := c.o.Integration
	if v.Cluster != "" {
		cluster = inline(v.Cluster, 60)
	}
	s := "on `" + cluster + "`"
	if !v.Time.IsZero() {
		s += " at " + v.Time.UTC().Format(time.RFC3339)
	}
	if v.Message != "" {
		s += ": `" + inline(v.Message, 200) + "`"
	}
	return s
}

// comment leaves one comment and the label on every pull request the version carried, and
// reports whether every one of them has both now.
func (c *Client) comment(ctx context.Context, p Promotion, ch *changes, releaseURL string, rep *Report) bool {
	marker := commentMarker(p.Stable)
	body := c.commentBody(p, releaseURL)
	done := true
	for _, pr := range ch.pulls {
		if c.stopped(rep) {
			return false
		}
		subject := fmt.Sprintf("#%d", pr.number)
		found, err := c.findComment(ctx, pr.number, marker)
		switch {
		case err != nil:
			rep.warn("comment", subject, err)
			done = false
		case found != nil && releaseURL != "" && !strings.Contains(found.GetBody(), "]("+releaseURL+")"):
			// Written while the release did not exist (its creation failed): now it does, so the
			// comment gets its link.
			if _, _, err := c.gh.Issues.EditComment(ctx, c.owner, c.repo, found.GetID(), &github.IssueComment{Body: github.String(body)}); err != nil {
				rep.warn("comment", subject, fmt.Errorf("link the release from the comment: %w", err))
				done = false
			} else {
				rep.record(Record{Kind: "comment", Subject: subject, State: "linked to the release", URL: found.GetHTMLURL(), Wrote: true})
			}
		case found != nil:
			rep.record(Record{Kind: "comment", Subject: subject, State: "exists", URL: found.GetHTMLURL()})
		default:
			ic, _, err := c.gh.Issues.CreateComment(ctx, c.owner, c.repo, pr.number, &github.IssueComment{Body: github.String(body)})
			if err != nil {
				rep.warn("comment", subject, fmt.Errorf("comment on the pull request: %w", err))
				done = false
			} else {
				rep.record(Record{Kind: "comment", Subject: subject, State: "created", URL: ic.GetHTMLURL(), Wrote: true})
			}
		}
		if pr.labeled {
			continue
		}
		// A label the repository does not have yet is created by GitHub (grey, no description),
		// but only for a token with issues: write; GitHub's refusal names the permission.
		if _, _, err := c.gh.Issues.AddLabelsToIssue(ctx, c.owner, c.repo, pr.number, []string{c.o.Label}); err != nil {
			rep.warn("label", subject, fmt.Errorf("add label %s: %w", c.o.Label, err))
			done = false
			continue
		}
		rep.record(Record{Kind: "label", Subject: subject, State: c.o.Label, URL: pr.url, Wrote: true})
	}
	return done
}

// findComment looks through every page of the pull request's comments for the marker; nil when
// there is none.
func (c *Client) findComment(ctx context.Context, number int, marker string) (*github.IssueComment, error) {
	opts := &github.IssueListCommentsOptions{ListOptions: github.ListOptions{PerPage: c.o.PageSize}}
	for {
		page, resp, err := c.gh.Issues.ListComments(ctx, c.owner, c.repo, number, opts)
		if err != nil {
			return nil, fmt.Errorf("list the comments: %w", err)
		}
		for _, ic := range page {
			if strings.Contains(ic.GetBody(), marker) {
				return ic, nil
			}
		}
		if resp.NextPage == 0 {
			return nil, nil
		}
		opts.Page = resp.NextPage
	}
}

func (c *Client) commentBody(p Promotion, releaseURL string) string {
	version := strings.TrimPrefix(p.Stable, "v")
	var b strings.Builder
	b.WriteString(commentMarker(p.Stable) + "\n")
	if releaseURL != "" {
		fmt.Fprintf(&b, "Included in [%s](%s)", version, releaseURL)
	} else {
		fmt.Fprintf(&b, "Included in %s", version)
	}
	fmt.Fprintf(&b, ", validated on %s", c.cluster(p))
	if !p.Validation.Time.IsZero() {
		fmt.Fprintf(&b, " at %s", p.Validation.Time.UTC().Format(time.RFC3339))
	}
	fmt.Fprintf(&b, " and promoted to %s", c.o.Live)
	if c.o.RunURL != "" {
		fmt.Fprintf(&b, " ([workflow run](%s))", c.o.RunURL)
	}
	b.WriteString(".\n")
	return b.String()
}
