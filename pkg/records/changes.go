package records

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/google/go-github/v62/github"
)

// maxCommits bounds the commits read for one release: each costs a request to find its pull
// requests. A release with more lists the first maxCommits and links the full comparison.
const maxCommits = 250

// changes are what a stable version carried since the previous one.
type changes struct {
	// first is true when there is no previous stable version to compare with.
	first   bool
	commits []commit // oldest first
	// more is the number of commits beyond maxCommits, not listed.
	more  int
	pulls []pull // by number
	// compareURL shows the full comparison on the web.
	compareURL string
}

type commit struct {
	sha, title, author string
}

type pull struct {
	number      int
	title, user string
	url         string
	labeled     bool // has the label already
}

// changes lists the commits from the previous stable version's commit to p.Sha (GitHub's
// compare, every page) and the merged pull requests they belong to.
func (c *Client) changes(ctx context.Context, p Promotion) (*changes, error) {
	if p.First {
		return &changes{first: true}, nil
	}
	if p.Previous.Sha == "" {
		return nil, fmt.Errorf("the commit of the stable version before %s is unknown", p.Stable)
	}
	ch := &changes{compareURL: fmt.Sprintf("%s/%s/%s/compare/%s...%s", c.o.ServerURL, c.owner, c.repo, p.Previous.Sha, p.Sha)}
	opts := &github.ListOptions{PerPage: c.o.PageSize}
	for {
		cmp, resp, err := c.gh.Repositories.CompareCommits(ctx, c.owner, c.repo, p.Previous.Sha, p.Sha, opts)
		if err != nil {
			return nil, fmt.Errorf("compare %s...%s: %w", short(p.Previous.Sha), short(p.Sha), err)
		}
		for _, rc := range cmp.Commits {
			if len(ch.commits) == maxCommits {
				ch.more = max(cmp.GetTotalCommits(), maxCommits+1) - maxCommits
				break
			}
			ch.commits = append(ch.commits, commit{sha: rc.GetSHA(), title: rc.GetCommit().GetMessage(), author: author(rc)})
		}
		if ch.more > 0 || resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	seen := map[int]bool{}
	for _, cm := range ch.commits {
		prs, err := c.pullsOf(ctx, cm.sha)
		if err != nil {
			return nil, err
		}
		for _, pr := range prs {
			// Only the pull requests that brought the commit in: open or closed-unmerged ones that
			// merely contain it were not released.
			if pr.MergedAt == nil || seen[pr.GetNumber()] {
				continue
			}
			seen[pr.GetNumber()] = true
			ch.pulls = append(ch.pulls, pull{
				number: pr.GetNumber(), title: pr.GetTitle(), user: pr.GetUser().GetLogin(), url: pr.GetHTMLURL(),
				labeled: slices.ContainsFunc(pr.Labels, func(l *github.Label) bool { return strings.EqualFold(l.GetName(), c.o.Label) }),
			})
		}
	}
	slices.SortFunc(ch.pulls, func(a, b pull) int { return a.number - b.number })
	return ch, nil
}

func (c *Client) pullsOf(ctx context.Context, sha string) ([]*github.PullRequest, error) {
	var all []*github.PullRequest
	opts := &github.ListOptions{PerPage: c.o.PageSize}
	for {
		page, resp, err := c.gh.PullRequests.ListPullRequestsWithCommit(ctx, c.owner, c.repo, sha, opts)
		if err != nil {
			return nil, fmt.Errorf("list the pull requests of commit %s: %w", short(sha), err)
		}
		all = append(all, page...)
		if resp.NextPage == 0 {
			return all, nil
		}
		opts.Page = resp.NextPage
	}
}

// author is the commit's GitHub login when GitHub knows it, else the name in the commit.
func author(rc *github.RepositoryCommit) string {
	if l := rc.GetAuthor().GetLogin(); l != "" {
		return "@" + l
	}
	return rc.GetCommit().GetAuthor().GetName()
}
