package records

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"

	"github.com/Masterminds/semver/v3"
	"github.com/google/go-github/v62/github"

	"github.com/ocipromote/ocipromote/pkg/stage"
	"github.com/ocipromote/ocipromote/pkg/version"
)

// Deployment states GitHub knows that records writes or reads.
const (
	stateInProgress = "in_progress"
	stateSuccess    = "success"
	stateInactive   = "inactive"
)

// active are the states of a deployment that is, or is about to be, what its environment runs;
// "" is a deployment whose run was stopped before its first status.
var active = []string{"", "pending", "queued", stateInProgress, stateSuccess}

// tool marks the deployments records writes, so that it never touches anyone else's.
const tool = "ocipromote"

// maxScan bounds how many of an environment's newest deployments are read when looking for newer
// or older ones: every success retires its predecessors, so only the newest few can be active.
const maxScan = 100

// Offer is a release candidate build-rc offered to integration.
type Offer struct {
	// Sha is the full commit sha.
	Sha string
	// Version is the release-candidate tag, e.g. 0.4.2-rc.3.
	Version string
	Digest  string
	// OCIRepository is the artifact repository, e.g. ghcr.io/acme/platform-manifests.
	OCIRepository string
}

// payload is the deployment payload: which artifact the environment was given.
type payload struct {
	Tool       string `json:"tool"`
	Repository string `json:"repository"`
	Version    string `json:"version"`
	Digest     string `json:"digest"`
	// Evidence is the pass of the stage before that the promotion into a stage of a chain rests
	// on (none in the default chain, whose evidence is the event that called the step).
	Evidence *Evidence `json:"evidence,omitempty"`
}

// target is a deployment to look up, and write when missing.
type target struct {
	env        string
	production bool
	sha        string
	p          payload
	v          *semver.Version
	envURL     string
	// status is the description of the state being recorded.
	status string
}

func (t target) subject() string { return t.env + " " + t.p.Version }

type deployment struct {
	id     int64
	sha    string
	p      payload
	v      *semver.Version
	url    string
	read   bool
	state  string // latest status, "" for none
	envURL string // of the latest status
}

// Offered records the offer as a deployment to integration, in progress until the candidate is
// validated or superseded.
func (c *Client) Offered(ctx context.Context, o Offer) Report {
	var rep Report
	if !c.o.Deployments {
		return rep
	}
	t := c.integration(o)
	t.status = fmt.Sprintf("%s offered to %s", o.Version, c.o.Integration)
	if err := o.check(); err != nil {
		rep.warn("deployment", t.subject(), err)
		return rep
	}
	c.deploy(ctx, t, stateInProgress, &rep)
	return rep
}

// Superseded marks the candidate's integration deployment inactive: a newer version is stable,
// so this candidate will never be promoted.
func (c *Client) Superseded(ctx context.Context, o Offer) Report {
	return c.superseded(ctx, o, o.Version+" superseded by a newer stable version; not promoted")
}

// superseded marks the candidate's deployment in the first stage inactive, saying why.
func (c *Client) superseded(ctx context.Context, o Offer, why string) Report {
	var rep Report
	if !c.o.Deployments {
		return rep
	}
	t := c.integration(o)
	if err := o.check(); err != nil {
		rep.warn("deployment", t.subject(), err)
		return rep
	}
	d, err := c.find(ctx, t)
	if err != nil {
		rep.warn("deployment", t.subject(), err)
		return rep
	}
	if d == nil {
		return rep
	}
	rec := Record{Kind: "deployment", Subject: t.subject(), State: d.state, URL: d.url}
	if slices.Contains(active, d.state) {
		if err := c.setState(ctx, d, stateInactive, why, ""); err != nil {
			rep.warn("deployment", t.subject(), err)
			return rep
		}
		rec.State, rec.Wrote = d.state, true
	}
	rep.record(rec)
	return rep
}

// RolledBack records a rollback of the stage named stage ("": the last, live by default): the
// artifact o (its new version in that stage) is the stage's deployment, a success, and the
// deployment it replaced becomes inactive, so GitHub no longer shows the rolled-back version as
// what the stage runs.
func (c *Client) RolledBack(ctx context.Context, stage string, o Offer) Report {
	var rep Report
	if !c.o.Deployments {
		return rep
	}
	t := c.stageTarget(c.environment(stage), o.Sha, o.Version, o.Digest, o.OCIRepository)
	t.status = fmt.Sprintf("%s: %s rolled back to %s", o.Version, t.env, shortDigest(o.Digest))
	if err := o.check(); err != nil {
		rep.warn("deployment", t.subject(), err)
		return rep
	}
	c.deploy(ctx, t, stateSuccess, &rep)
	return rep
}

// environment is the GitHub environment of the stage named name ("": the last): the first and
// last stages' are Integration and Live (the stages' own names in any chain but the default),
// and every other stage's is its name.
func (c *Client) environment(name string) string {
	chain := c.o.Stages
	if chain.Len() == 0 {
		chain = stage.MustDefault()
	}
	switch name {
	case "", chain.Last():
		return c.o.Live
	case chain.First():
		return c.o.Integration
	}
	return name
}

func (o Offer) check() error {
	if o.Sha == "" || o.Version == "" || o.Digest == "" {
		return fmt.Errorf("sha, version and digest are all needed to identify the deployment (got %q, %q, %q)", o.Sha, o.Version, o.Digest)
	}
	return nil
}

func (c *Client) integration(o Offer) target {
	v, _ := version.Parse(o.Version)
	return target{
		env: c.o.Integration, sha: o.Sha, v: v, envURL: c.o.IntegrationURL,
		p: payload{Tool: tool, Repository: o.OCIRepository, Version: o.Version, Digest: o.Digest},
	}
}

// deploy makes sure t exists and has reached state want. A deployment found in a later state
// (success when in_progress is wanted) or a final one (inactive, failure, error) is left alone,
// so a replay never moves an environment backwards. A missing deployment is not created when a
// newer version already holds the environment. Once t is a success, older deployments still
// active in the environment become inactive.
func (c *Client) deploy(ctx context.Context, t target, want string, rep *Report) {
	d, err := c.find(ctx, t)
	if err != nil {
		rep.warn("deployment", t.subject(), err)
		return
	}
	wrote := false
	if d == nil {
		holding := []string{stateSuccess}
		if want == stateInProgress {
			holding = active
		}
		newer, err := c.newer(ctx, t, holding)
		if err != nil {
			rep.warn("deployment", t.subject(), err)
			return
		}
		if newer != nil {
			c.log.Info("deployment not recorded: a newer version holds the environment", "environment", t.env, "version", t.p.Version, "newer", newer.p.Version, "state", newer.state)
			rep.record(Record{Kind: "deployment", Subject: t.subject(), State: "not recorded: " + newer.p.Version + " is " + newer.state, URL: newer.url})
			return
		}
		if d, err = c.create(ctx, t); err != nil {
			rep.warn("deployment", t.subject(), err)
			return
		}
		wrote = true
	}
	progress := d.state == "" || (want == stateSuccess && d.state != want && slices.Contains(active, d.state))
	if progress {
		if err := c.setState(ctx, d, want, t.status, t.envURL); err != nil {
			rep.warn("deployment", t.subject(), err)
			return
		}
		wrote = true
	}
	rep.record(Record{Kind: "deployment", Subject: t.subject(), State: d.state, URL: d.url, Wrote: wrote})
	if d.state == stateSuccess {
		c.retire(ctx, t, d, rep)
	}
}

// find looks up t's deployment: same environment, commit, version and digest.
func (c *Client) find(ctx context.Context, t target) (*deployment, error) {
	opts := &github.DeploymentsListOptions{SHA: t.sha, Environment: t.env, ListOptions: github.ListOptions{PerPage: c.o.PageSize}}
	for {
		page, resp, err := c.gh.Repositories.ListDeployments(ctx, c.owner, c.repo, opts)
		if err != nil {
			return nil, fmt.Errorf("look up the deployment: %w", err)
		}
		for _, gd := range page {
			if d := c.parse(gd); d != nil && d.p.Version == t.p.Version && d.p.Digest == t.p.Digest {
				return d, c.readState(ctx, d)
			}
		}
		if resp.NextPage == 0 {
			return nil, nil
		}
		opts.Page = resp.NextPage
	}
}

// parse reads a deployment records wrote; others give nil.
func (c *Client) parse(gd *github.Deployment) *deployment {
	var p payload
	if err := json.Unmarshal(gd.Payload, &p); err != nil || p.Tool != tool {
		return nil
	}
	v, _ := version.Parse(p.Version)
	return &deployment{id: gd.GetID(), sha: gd.GetSHA(), p: p, v: v, url: c.environmentsURL(gd.GetEnvironment())}
}

func (c *Client) environmentsURL(env string) string {
	return fmt.Sprintf("%s/%s/%s/deployments/%s", c.o.ServerURL, c.owner, c.repo, url.PathEscape(env))
}

// readState reads the deployment's latest status. GitHub does not document the order of "List
// deployment statuses" (it lists newest first in practice), so every page is read and the newest
// status taken: the latest created_at, and of two created in the same second the higher id.
// Records writes at most a few statuses per deployment, so that is one request.
func (c *Client) readState(ctx context.Context, d *deployment) error {
	if d.read {
		return nil
	}
	var latest *github.DeploymentStatus
	opts := &github.ListOptions{PerPage: c.o.PageSize}
	for {
		sts, resp, err := c.gh.Repositories.ListDeploymentStatuses(ctx, c.owner, c.repo, d.id, opts)
		if err != nil {
			return fmt.Errorf("read the status of deployment %d: %w", d.id, err)
		}
		for _, st := range sts {
			if latest == nil || createdAfter(st, latest) {
				latest = st
			}
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	d.read = true
	if latest != nil {
		d.state, d.envURL = latest.GetState(), latest.GetEnvironmentURL()
	}
	return nil
}

// createdAfter reports whether status a was created after b.
func createdAfter(a, b *github.DeploymentStatus) bool {
	at, bt := a.GetCreatedAt().Time, b.GetCreatedAt().Time
	if !at.Equal(bt) {
		return at.After(bt)
	}
	return a.GetID() > b.GetID()
}

func (c *Client) create(ctx context.Context, t target) (*deployment, error) {
	desc := fmt.Sprintf("%s %s", t.p.Version, shortDigest(t.p.Digest))
	gd, _, err := c.gh.Repositories.CreateDeployment(ctx, c.owner, c.repo, &github.DeploymentRequest{
		Ref:  github.String(t.sha),
		Task: github.String("deploy"),
		// Deploy exactly this commit: no merge of the default branch into it, and no wait for
		// commit statuses (Flux's own status on this commit may well be pending or failed).
		AutoMerge:             github.Bool(false),
		RequiredContexts:      &[]string{},
		Payload:               t.p,
		Environment:           github.String(t.env),
		Description:           github.String(limit(desc, 140)),
		TransientEnvironment:  github.Bool(false),
		ProductionEnvironment: github.Bool(t.production),
	})
	if err != nil {
		return nil, fmt.Errorf("create the deployment of %s: %w", short(t.sha), err)
	}
	c.log.Info("deployment created", "environment", t.env, "version", t.p.Version, "id", gd.GetID())
	return &deployment{id: gd.GetID(), sha: t.sha, p: t.p, v: t.v, url: c.environmentsURL(t.env), read: true}, nil
}

// setState adds a status; envURL "" keeps the environment URL of the latest status.
func (c *Client) setState(ctx context.Context, d *deployment, state, desc, envURL string) error {
	if envURL == "" {
		envURL = d.envURL
	}
	req := &github.DeploymentStatusRequest{State: github.String(state), Description: github.String(limit(desc, 140))}
	if c.o.RunURL != "" {
		req.LogURL = github.String(c.o.RunURL)
	}
	if envURL != "" {
		req.EnvironmentURL = github.String(envURL)
	}
	if _, _, err := c.gh.Repositories.CreateDeploymentStatus(ctx, c.owner, c.repo, d.id, req); err != nil {
		return fmt.Errorf("set deployment %d %s: %w", d.id, state, err)
	}
	d.state, d.envURL = state, envURL
	return nil
}

// scan calls fn for the newest deployments records wrote to env, newest first, until fn says
// stop or maxScan were seen.
func (c *Client) scan(ctx context.Context, env string, fn func(d *deployment) (more bool, err error)) error {
	opts := &github.DeploymentsListOptions{Environment: env, ListOptions: github.ListOptions{PerPage: c.o.PageSize}}
	seen := 0
	for {
		page, resp, err := c.gh.Repositories.ListDeployments(ctx, c.owner, c.repo, opts)
		if err != nil {
			return fmt.Errorf("list the deployments to %s: %w", env, err)
		}
		for _, gd := range page {
			d := c.parse(gd)
			if d == nil {
				continue
			}
			if seen++; seen > maxScan {
				return nil
			}
			if more, err := fn(d); err != nil || !more {
				return err
			}
		}
		if resp.NextPage == 0 {
			return nil
		}
		opts.Page = resp.NextPage
	}
}

// newer finds a deployment of a higher version than t's in one of the states.
func (c *Client) newer(ctx context.Context, t target, states []string) (*deployment, error) {
	if t.v == nil {
		return nil, nil
	}
	var found *deployment
	err := c.scan(ctx, t.env, func(d *deployment) (bool, error) {
		if d.v == nil || !d.v.GreaterThan(t.v) {
			return true, nil
		}
		if err := c.readState(ctx, d); err != nil {
			return false, err
		}
		if slices.Contains(states, d.state) {
			found = d
			return false, nil
		}
		return true, nil
	})
	return found, err
}

// retire makes the deployments of lower versions than ours that are still active inactive,
// newest first, up to the first one already inactive: everything before it was retired by an
// earlier success (or by GitHub, which retires earlier successful deployments of a non-production
// environment itself).
func (c *Client) retire(ctx context.Context, t target, ours *deployment, rep *Report) {
	if t.v == nil {
		return
	}
	err := c.scan(ctx, t.env, func(d *deployment) (bool, error) {
		if d.id == ours.id || d.v == nil || !d.v.LessThan(t.v) {
			return true, nil
		}
		if err := c.readState(ctx, d); err != nil {
			return false, err
		}
		switch {
		case d.state == stateInactive:
			return false, nil
		case slices.Contains(active, d.state):
			if err := c.setState(ctx, d, stateInactive, "replaced by "+t.p.Version, ""); err != nil {
				return false, err
			}
			rep.record(Record{Kind: "deployment", Subject: t.env + " " + d.p.Version, State: d.state, URL: d.url, Wrote: true})
		}
		return true, nil
	})
	if err != nil {
		rep.warn("deployment", t.env+" before "+t.p.Version, err)
	}
}

// limit cuts s to n characters, ending a cut with "…". GitHub counts characters; the cut also
// keeps s within n bytes, so that a limit counted in bytes holds as well (untrusted cluster
// messages may be far from ASCII).
func limit(s string, n int) string {
	if len(s) <= n {
		return s
	}
	r := []rune(s)
	if len(r) > n {
		r = r[:n-1]
	}
	for len(r) > 0 && len(string(r))+len("…") > n {
		r = r[:len(r)-1]
	}
	return string(r) + "…"
}
