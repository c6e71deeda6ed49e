package records

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/sethvargo/go-githubactions"

	"github.com/ocipromote/ocipromote/pkg/actionio"
	"github.com/ocipromote/ocipromote/pkg/ref"
	"github.com/ocipromote/ocipromote/pkg/stage"
)

// The inputs both steps share.
var (
	deploymentsInput = actionio.Input{Name: "deployments", Bool: true,
		Usage: "record a GitHub deployment per environment, one per stage named after it (integration and live by default), whose status follows the pipeline (needs permissions deployments: write)"}
	tokenInput = actionio.Input{Name: "github_token", ContextEnv: "GITHUB_TOKEN", Secret: true,
		Usage: "token for the GitHub records (deployments, release, comment_prs); default the job's token"}
	// No Default: an action.yml default would arrive as INPUT_GITHUB_API_URL and hide the
	// GITHUB_API_URL of a GitHub Enterprise Server; New falls back to DefaultAPIURL.
	apiInput = actionio.Input{Name: "github_api_url", ContextEnv: "GITHUB_API_URL",
		Usage: "GitHub REST API for the records (default " + DefaultAPIURL + ")"}
)

// PacingInputs space and cap the content-creating requests to GitHub (records and prune).
var PacingInputs = []actionio.Input{
	{Name: "github_write_interval", Default: "1s", Usage: "least time between two requests that write to GitHub (GitHub asks for one second; 0s in tests)"},
	{Name: "github_max_writes", Default: "150", Usage: "most requests that write to GitHub in one run, under GitHub's secondary limit of 500 an hour; what is left is written by the next run (0: no cap)"},
}

// Pacing reads PacingInputs.
func Pacing(v *actionio.Values) (time.Duration, int, error) {
	d, err := time.ParseDuration(v.Get("github_write_interval"))
	if err != nil || d < 0 {
		return 0, 0, actionio.Usagef("github_write_interval %s is not a duration such as 1s", ref.Quote(v.Get("github_write_interval")))
	}
	n, err := v.Int("github_max_writes")
	if err != nil {
		return 0, 0, err
	}
	if n < 0 {
		return 0, 0, actionio.Usagef("github_max_writes must be 0 (no cap) or a positive number, got %d", n)
	}
	return d, n, nil
}

// BuildInputs are build-rc's inputs for the records it keeps: the integration deployment.
var BuildInputs = []actionio.Input{
	deploymentsInput, tokenInput, apiInput,
	{Name: "integration_url", Usage: "link shown for the integration environment on GitHub (View deployment), e.g. its dashboard"},
	PacingInputs[0], PacingInputs[1],
}

// RollbackInputs are ocipromote rollback's inputs for the deployment it records in the stage it
// rolls back.
var RollbackInputs = []actionio.Input{
	deploymentsInput, tokenInput, apiInput, liveURLInput, PacingInputs[0], PacingInputs[1],
}

var liveURLInput = actionio.Input{Name: "live_url", Usage: "link shown for the live environment on GitHub (View deployment)"}

// PromoteInputs are tag-validated's inputs for the records it keeps: both deployments, the
// release and the pull request comments, and the validation event the notes and comments cite.
var PromoteInputs = []actionio.Input{
	deploymentsInput,
	{Name: "release", Bool: true, Usage: "create the GitHub release vX.Y.Z at the promoted commit, listing the commits and pull requests since the previous stable version (needs permissions contents: write and pull-requests: read)"},
	{Name: "comment_prs", Bool: true, Usage: "comment \"included in X.Y.Z\" on each pull request the version carried and label it released (needs permissions pull-requests: write, and issues: write to create the label)"},
	tokenInput, apiInput, liveURLInput,
	{Name: "validated_cluster", Usage: "cluster that validated the candidate, for the release notes and comments (dispatch-receiver's cluster)"},
	{Name: "validated_message", Usage: "message of the event that validated the candidate, e.g. Health check passed in 12.3s"},
	{Name: "validated_at", Usage: "time of that event, RFC 3339 (dispatch-receiver's time), e.g. 2026-08-01T10:00:00Z"},
	PacingInputs[0], PacingInputs[1],
}

// OptionsFrom reads the records' inputs (those of BuildInputs or PromoteInputs) and the GitHub
// context: GITHUB_REPOSITORY, GITHUB_SERVER_URL and GITHUB_RUN_ID for the link to this run.
// transport replaces the HTTP transport when not nil (tests).
func OptionsFrom(a *githubactions.Action, v *actionio.Values, transport http.RoundTripper) Options {
	interval, writes, _ := Pacing(v)
	o := Options{
		WriteInterval: interval, MaxWrites: writes,
		Deployments: v.Bool("deployments"), Release: v.Bool("release"), CommentPRs: v.Bool("comment_prs"),
		Token: v.Get("github_token"), APIURL: v.Get("github_api_url"),
		Repository: a.Getenv("GITHUB_REPOSITORY"), ServerURL: a.Getenv("GITHUB_SERVER_URL"),
		IntegrationURL: v.Get("integration_url"), LiveURL: v.Get("live_url"),
	}
	if o.ServerURL == "" {
		o.ServerURL = DefaultServerURL
	}
	// The steps that take stages have refused a malformed chain before they write anything; one
	// without the input keeps the two environments.
	if chain, err := stage.Parse(v.Get("stages")); err == nil {
		o.Stages = chain
	}
	if id := a.Getenv("GITHUB_RUN_ID"); id != "" && o.Repository != "" {
		o.RunURL = fmt.Sprintf("%s/%s/actions/runs/%s", strings.TrimSuffix(o.ServerURL, "/"), o.Repository, id)
	}
	if transport != nil {
		o.HTTPClient = &http.Client{Transport: transport}
	}
	return o
}

// FromInputs is New(OptionsFrom(…)), with an invalid option reported as a usage error. It also
// checks validated_at (tag-validated), so that a time that is not RFC 3339 stops the step before
// it promotes anything rather than vanishing from the release notes afterwards.
func FromInputs(a *githubactions.Action, v *actionio.Values, transport http.RoundTripper) (*Client, error) {
	if _, err := validatedAt(v.Get("validated_at")); err != nil {
		return nil, actionio.Usagef("%v", err)
	}
	if _, _, err := Pacing(v); err != nil {
		return nil, err
	}
	c, err := New(OptionsFrom(a, v, transport))
	if err != nil {
		return nil, actionio.Usagef("%v", err)
	}
	return c, nil
}

// Publish shows the report: each warning as a ::warning:: annotation in Actions (a line on
// stderr elsewhere, naming c's inputs as the flags a terminal user types), and the records as a
// table in the job summary.
func (r Report) Publish(a *githubactions.Action, stderr io.Writer, c actionio.Command) {
	for _, w := range r.Warnings {
		msg := "GitHub record not written: " + oneLine(w.Error())
		if actionio.InActions(a) {
			a.Warningf("%s", msg)
		} else {
			fmt.Fprintln(stderr, "warning: "+c.Speak(msg))
		}
	}
	if md := r.Markdown(); md != "" {
		actionio.Summary(a, md)
	}
}
