// Package records leaves a record of the pipeline in GitHub, for the people who look there rather
// than in a registry: a GitHub Deployment per environment (integration when build-rc offers a
// release candidate, live when tag-validated promotes it; in a chain of stages, one per stage,
// carrying the pass evidence of the stage before) whose statuses follow the pipeline, a
// GitHub release vX.Y.Z for each stable version, and a comment and a label on every pull request
// a stable version carried.
//
// Every record is looked up before it is written, so running a step again (a replayed event, a
// re-run workflow) writes nothing twice and repairs what an interrupted run left out. The records
// are a report, not part of the promotion: a GitHub API failure becomes a Warning for the step's
// summary, never an error, and the registry stays the only state the pipeline decides from.
package records

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/go-github/v62/github"

	"github.com/ocipromote/ocipromote/pkg/ghapi"
	"github.com/ocipromote/ocipromote/pkg/stage"
)

// Defaults for the Options left empty.
const (
	DefaultAPIURL      = "https://api.github.com/"
	DefaultServerURL   = "https://github.com"
	DefaultIntegration = "integration"
	DefaultLive        = "live"
	DefaultLabel       = "released"
)

// Options configure New. The three switches choose the records; Token is required when any is on.
type Options struct {
	// Deployments records a GitHub Deployment per environment (needs deployments: write).
	Deployments bool
	// Release creates a GitHub release vX.Y.Z for each stable version (needs contents: write).
	Release bool
	// CommentPRs comments on and labels each pull request a stable version carried (needs
	// pull-requests: write, and issues: write while the label does not exist: GitHub creates a
	// missing label only for a token with issues: write).
	CommentPRs bool

	Token string
	// APIURL is the REST API root (GITHUB_API_URL), default DefaultAPIURL.
	APIURL string
	// Repository is the GitHub repository, owner/name (GITHUB_REPOSITORY).
	Repository string
	// ServerURL is the web root (GITHUB_SERVER_URL), default DefaultServerURL.
	ServerURL string
	// RunURL links the workflow run that writes the records:
	// $GITHUB_SERVER_URL/$GITHUB_REPOSITORY/actions/runs/$GITHUB_RUN_ID.
	RunURL string

	// Integration and Live name the GitHub environments (default DefaultIntegration, DefaultLive).
	Integration, Live string
	// Stages is the chain of stages (zero: the default, integration and live). In any other
	// chain each stage's environment is named after the stage, the first's and the last's too
	// (Integration and Live are then ignored), and a promotion into any stage is recorded.
	Stages stage.Chain
	// IntegrationURL and LiveURL are the environments' links on GitHub ("View deployment"),
	// optional. A status that leaves its URL empty keeps the one before.
	IntegrationURL, LiveURL string
	// Label is put on the pull requests a stable version carried (default DefaultLabel).
	Label string

	// WriteInterval is the least time between two content-creating requests (GitHub asks for a
	// second); 0 does not pace them (tests). The steps' github_write_interval defaults to 1s.
	WriteInterval time.Duration
	// MaxWrites caps a run's content-creating requests (0: no cap): a release with hundreds of
	// pull requests is then completed over successive runs, each under GitHub's secondary limit
	// of 500 content-generating requests an hour.
	MaxWrites int
	// Sleep and Now replace the pacing's clock (tests).
	Sleep func(ctx context.Context, d time.Duration) error
	Now   func() time.Time

	// PageSize is the per_page of list requests (default and maximum 100); tests lower it.
	PageSize int
	// HTTPClient replaces the HTTP client (tests).
	HTTPClient *http.Client
	Log        *slog.Logger
}

func (o Options) any() bool { return o.Deployments || o.Release || o.CommentPRs }

// Client writes the records chosen in its Options. Its methods never fail: what goes wrong is
// reported as warnings.
type Client struct {
	o           Options
	gh          *ghapi.Client
	owner, repo string
	log         *slog.Logger
}

// New checks the options and prepares a client. With every record off it returns a client whose
// methods do nothing, so a step can call them unconditionally.
func New(o Options) (*Client, error) {
	c := &Client{o: o, log: o.Log}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if !o.any() {
		return c, nil
	}
	if o.Token == "" {
		return nil, errors.New("github_token is required when input deployments, input release or comment_prs is on: pass a token (the job's GITHUB_TOKEN is used by default) with the permissions the records need")
	}
	owner, repo, ok := strings.Cut(o.Repository, "/")
	if !ok || owner == "" || repo == "" || strings.Contains(repo, "/") {
		return nil, fmt.Errorf("GitHub repository %q is not owner/name: run in GitHub Actions (GITHUB_REPOSITORY) or name the repository whose records to write", o.Repository)
	}
	c.owner, c.repo = owner, repo
	if c.o.ServerURL == "" {
		c.o.ServerURL = DefaultServerURL
	}
	c.o.ServerURL = strings.TrimSuffix(c.o.ServerURL, "/")
	if u, err := url.Parse(c.o.ServerURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("GitHub server URL %q is not an http(s) URL such as %s (GITHUB_SERVER_URL)", o.ServerURL, DefaultServerURL)
	}
	if c.o.Stages.Len() > 0 && !c.o.Stages.IsDefault() {
		c.o.Integration, c.o.Live = c.o.Stages.First(), c.o.Stages.Last()
	}
	if c.o.Integration == "" {
		c.o.Integration = DefaultIntegration
	}
	if c.o.Live == "" {
		c.o.Live = DefaultLive
	}
	if c.o.Integration == c.o.Live {
		return nil, fmt.Errorf("the integration and live environments must differ, both are %q", c.o.Live)
	}
	if c.o.Label == "" {
		c.o.Label = DefaultLabel
	}
	if c.o.PageSize <= 0 || c.o.PageSize > 100 {
		c.o.PageSize = 100
	}
	var transport http.RoundTripper
	if o.HTTPClient != nil {
		transport = o.HTTPClient.Transport
	}
	gh, err := ghapi.New(ghapi.Options{APIURL: o.APIURL, Token: o.Token, WriteInterval: o.WriteInterval, MaxWrites: o.MaxWrites,
		Transport: transport, Sleep: o.Sleep, Now: o.Now})
	if err != nil {
		return nil, err
	}
	c.gh = gh
	return c, nil
}

// Report is what a call wrote or found, and what went wrong.
type Report struct {
	Records  []Record
	Warnings []Warning
	// Stopped is true when the run stopped before GitHub's rate limit or at its share of writes:
	// what is missing is left for the next run.
	Stopped bool
}

// Record is one record looked up, and written when it was missing.
type Record struct {
	// Kind is "deployment", "release", "comment" or "label".
	Kind string
	// Subject names it: "integration 0.4.2-rc.3", "v0.4.2", "#12".
	Subject string
	// State is what it is now: the deployment's state, "created" or "exists".
	State string
	URL   string
	// Wrote is true when this call wrote it.
	Wrote bool
}

// Warning is a record that could not be looked up or written. The promotion is not affected.
type Warning struct {
	Kind    string
	Subject string
	Err     error
}

func (w Warning) Error() string {
	if w.Subject == "" {
		return fmt.Sprintf("%s: %v", w.Kind, w.Err)
	}
	h := ghapi.Hint(w.Err)
	if h != "" {
		h += " (" + permissionsDoc + " lists what each record needs)"
	}
	return fmt.Sprintf("%s %s: %v%s", w.Kind, w.Subject, w.Err, h)
}

// permissionsDoc documents the permissions of the records.
const permissionsDoc = "https://github.com/ocipromote/ocipromote/blob/main/docs/github.md"

func (w Warning) Unwrap() error { return w.Err }

func (r *Report) record(rec Record) { r.Records = append(r.Records, rec) }

// warn records a warning. A request that was not sent because the run stopped (GitHub's rate
// limit, or the run's share of writes spent) is not a warning of its own: one warning says the
// run stopped, and the next run goes on from there.
func (r *Report) warn(kind, subject string, err error) {
	var stop *ghapi.StopError
	if errors.As(err, &stop) {
		r.stop(stop)
		return
	}
	if stop := ghapi.Limited(err); stop != nil {
		r.stop(stop)
		return
	}
	r.Warnings = append(r.Warnings, Warning{Kind: kind, Subject: subject, Err: err})
}

// stop records, once, that the run stopped writing.
func (r *Report) stop(stop *ghapi.StopError) {
	if stop == nil || r.Stopped {
		return
	}
	r.Stopped = true
	r.Warnings = append(r.Warnings, Warning{Kind: "stopped", Err: stop})
}

// stopped reports whether requests have stopped, and records it in rep.
func (c *Client) stopped(rep *Report) bool {
	if s := c.gh.Stopped(); s != nil {
		rep.stop(s)
		return true
	}
	return false
}

// Markdown renders the report for the job summary ("" when there is nothing to say).
func (r Report) Markdown() string {
	if len(r.Records) == 0 && len(r.Warnings) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("#### GitHub records\n\n")
	if len(r.Records) > 0 {
		b.WriteString("| record | subject | state | written by this run |\n|---|---|---|---|\n")
		for _, rec := range r.Records {
			subject := cell(rec.Subject)
			if rec.URL != "" {
				subject = "[" + subject + "](" + rec.URL + ")"
			}
			wrote := "no"
			if rec.Wrote {
				wrote = "yes"
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", rec.Kind, subject, cell(rec.State), wrote)
		}
		b.WriteString("\n")
	}
	if len(r.Warnings) > 0 {
		b.WriteString("Not recorded (the promotion is not affected; run the workflow again to retry, nothing is written twice):\n\n")
		for _, w := range r.Warnings {
			fmt.Fprintf(&b, "- %s\n", oneLine(w.Error()))
		}
	}
	return b.String()
}

func cell(s string) string { return strings.NewReplacer("|", "\\|", "\n", " ", "\r", " ").Replace(s) }

// isNotFound reports a 404 from GitHub.
func isNotFound(err error) bool {
	var ge *github.ErrorResponse
	return errors.As(err, &ge) && ge.Response != nil && ge.Response.StatusCode == http.StatusNotFound
}

// inline makes untrusted or multi-line text safe to show inline in Markdown: the first line,
// cut to max runes, with nothing that could open HTML, a comment or a code span.
func inline(s string, max int) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	s = strings.TrimSpace(strings.TrimSuffix(s, "\r"))
	if r := []rune(s); len(r) > max {
		s = string(r[:max-1]) + "…"
	}
	return strings.NewReplacer("<", "&lt;", ">", "&gt;", "`", "'", "\r", " ").Replace(s)
}

func oneLine(s string) string { return strings.NewReplacer("\r", " ", "\n", " ").Replace(s) }

// short is the first 7 characters of a sha.
func short(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}

// shortDigest is "sha256:" and the first 12 hex characters.
func shortDigest(d string) string {
	if len(d) > len("sha256:")+12 {
		return d[:len("sha256:")+12]
	}
	return d
}

func (c *Client) commitURL(sha string) string {
	return fmt.Sprintf("%s/%s/%s/commit/%s", c.o.ServerURL, c.owner, c.repo, sha)
}
