package records

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ocipromote/ocipromote/pkg/pass"
	"github.com/ocipromote/ocipromote/pkg/pipeline"
	"github.com/ocipromote/ocipromote/pkg/version"
)

// Evidence is what one stage's pass records (package pass) say of a candidate, as the records
// show it: in the status and payload of the next stage's deployment, and in the release notes of
// the last stage. Its text comes from cluster events: pass has made each field one line of
// printable text within its bound, and it is escaped again wherever it is shown.
type Evidence struct {
	Stage string `json:"stage"`
	// Passed is true when the stage has a standing pass; the fields below are that pass's (the
	// first after the last failure, which a soak counts from).
	Passed   bool      `json:"passed"`
	Cluster  string    `json:"cluster,omitempty"`
	Message  string    `json:"message,omitempty"`
	Time     time.Time `json:"time,omitzero"`
	Revision string    `json:"revision,omitempty"`
	// Record is the tag of the pass record in the registry.
	Record string `json:"record,omitempty"`
	// Skipped is true when the promotion went over the stage with force; Cancelled when a
	// failure came after its pass and no pass since.
	Skipped   bool `json:"skipped,omitempty"`
	Cancelled bool `json:"cancelled,omitempty"`
}

// Stages is where a promotion in a chain of stages came from, and the evidence it rests on.
type Stages struct {
	// From is the stage the candidate left, FromVersion its tag there: X.Y.Z-rc.N in the first
	// stage, X.Y.Z-<stage>.N in one between.
	From, FromVersion string
	// Trail is the evidence of the stages below the one promoted into, in chain order: From's
	// at least, and every one below the last for the last stage's release notes.
	Trail []Evidence
}

// from is the evidence of the stage left.
func (s Stages) from() Evidence {
	for _, e := range s.Trail {
		if e.Stage == s.From {
			return e
		}
	}
	return Evidence{Stage: s.From}
}

// StagePromotion is a candidate promoted into a stage between a chain's first and last.
type StagePromotion struct {
	// Sha is the full commit sha the artifact was built from.
	Sha string
	// RC is the candidate's release-candidate tag, Version its tag in To (X.Y.Z-<to>.N).
	RC, Version, Digest string
	// OCIRepository is the artifact repository, e.g. ghcr.io/acme/platform-manifests.
	OCIRepository string
	To            string
	Stages
}

// PromotedToStage records a promotion into a stage between the first and the last: the
// candidate's deployment in the stage it left succeeds with its pass, and its deployment in To
// (environment To) is created and succeeds with the pass of the stage left in its status and
// payload; older ones in To become inactive. Call it for promoted and for already-promoted: a
// re-run completes what an interrupted run left out, and writes nothing when it is complete.
func (c *Client) PromotedToStage(ctx context.Context, p StagePromotion) Report {
	var rep Report
	if !c.o.Deployments {
		return rep
	}
	if p.Sha == "" || p.Version == "" || p.Digest == "" || p.To == "" || p.From == "" {
		rep.warn("deployment", p.To+" "+p.Version, errors.New("sha, version, digest and both stages are all needed to record a promotion into a stage"))
		return rep
	}
	c.stageDeployments(ctx, p.Sha, p.Digest, p.OCIRepository, p.Stages, p.To, p.Version, &rep)
	return rep
}

// stageDeployments records a promotion from s.From into stage to, where the candidate is
// toVersion: the deployment of the stage left, then the one of the stage entered, each a
// success whose status says what the stage left proved.
func (c *Client) stageDeployments(ctx context.Context, sha, digest, repository string, s Stages, to, toVersion string, rep *Report) {
	ev := s.from()
	if s.FromVersion != "" {
		from := c.stageTarget(s.From, sha, s.FromVersion, digest, repository)
		from.status = s.FromVersion + " " + ev.summary()
		c.deploy(ctx, from, stateSuccess, rep)
	}
	t := c.stageTarget(to, sha, toVersion, digest, repository)
	t.p.Evidence = &ev
	t.status = fmt.Sprintf("%s promoted to %s; %s", toVersion, to, ev.summary())
	c.deploy(ctx, t, stateSuccess, rep)
}

// stageTarget is the deployment of the candidate at version in the environment named env: the
// first and last stages keep their environment links, and the last is the production one.
func (c *Client) stageTarget(env, sha, ver, digest, repository string) target {
	v, _ := version.Parse(ver)
	t := target{env: env, sha: sha, v: v, p: payload{Tool: tool, Repository: repository, Version: ver, Digest: digest}}
	switch env {
	case c.o.Integration:
		t.envURL = c.o.IntegrationURL
	case c.o.Live:
		t.envURL, t.production = c.o.LiveURL, true
	}
	return t
}

// summary says in one plain line what the stage's evidence is, for a deployment status
// (which GitHub cuts at 140 characters: the payload holds the whole).
func (e Evidence) summary() string {
	switch {
	case e.Passed:
		s := "passed " + e.Stage
		if e.Cluster != "" {
			s += " on " + e.Cluster
		}
		if !e.Time.IsZero() {
			s += " at " + e.Time.UTC().Format(time.RFC3339)
		}
		if e.Message != "" {
			s += ": " + e.Message
		}
		return oneLine(s)
	case e.Skipped:
		return "skipped " + e.Stage + " with force"
	case e.Cancelled:
		return "no standing pass in " + e.Stage + ": a failure cancelled it"
	}
	return "no pass record in " + e.Stage
}

// markdown is the evidence as a line of the release notes' Evidence section.
func (e Evidence) markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "- **%s**: ", e.Stage)
	switch {
	case e.Passed:
		b.WriteString("passed")
		if e.Cluster != "" {
			b.WriteString(" on `" + inline(e.Cluster, 60) + "`")
		}
		if !e.Time.IsZero() {
			b.WriteString(" at " + e.Time.UTC().Format(time.RFC3339))
		}
		if e.Message != "" {
			b.WriteString(": `" + inline(e.Message, 200) + "`")
		}
		var refs []string
		if e.Revision != "" {
			refs = append(refs, "revision `"+inline(e.Revision, pass.MaxRevision)+"`")
		}
		if e.Record != "" {
			refs = append(refs, "record `"+inline(e.Record, 200)+"`")
		}
		if len(refs) > 0 {
			b.WriteString(" (" + strings.Join(refs, ", ") + ")")
		}
	case e.Skipped:
		b.WriteString("skipped with force: no pass record")
	case e.Cancelled:
		b.WriteString("no standing pass: a failure cancelled it")
	default:
		b.WriteString("no pass record")
	}
	b.WriteString("\n")
	return b.String()
}

// maxEvidence bounds the Evidence section of release notes: a chain has few stages, but nothing
// bounds how many, and the notes must stay under GitHub's limit with room for the changes.
const maxEvidence = 20000

// evidenceSection is the release notes' Evidence: each stage below the last with what its pass
// records say ("" outside a chain of stages).
func (c *Client) evidenceSection(p Promotion) string {
	if p.Stages == nil || len(p.Stages.Trail) == 0 {
		return ""
	}
	lines := make([]string, len(p.Stages.Trail))
	for i, e := range p.Stages.Trail {
		lines[i] = e.markdown()
	}
	lines, more := fit(lines, maxEvidence)
	var b strings.Builder
	fmt.Fprintf(&b, "\n## Evidence\n\nWhat each stage before %s recorded of this candidate (pass records in the registry", c.o.Live)
	if p.OCIRepository != "" {
		fmt.Fprintf(&b, " `%s`", p.OCIRepository)
	}
	b.WriteString("):\n\n")
	b.WriteString(strings.Join(lines, ""))
	if more > 0 {
		fmt.Fprintf(&b, "- … and %d more stages: see the pass records\n", more)
	}
	return b.String()
}

// afterStages records a promotion in a chain other than the default: into a stage between, its
// deployments; into the last, the promotion with the evidence of every stage below. The evidence
// is read from the pass records first: when it cannot be read nothing is recorded (a deployment
// status and release notes are never rewritten, so they would miss it for good), and the warning
// leaves the records to a re-run.
func (c *Client) afterStages(ctx context.Context, reg Registry, res pipeline.PromoteResult, v Validation) Report {
	chain := c.o.Stages
	last := res.To == chain.Last()
	var rep Report
	s := Stages{From: res.From}
	if s.From == "" {
		s.From = chain.First()
	}
	s.FromVersion = res.RC
	if s.From != chain.First() {
		var err error
		if s.FromVersion, err = chain.In(res.RC, s.From); err != nil {
			rep.warn("deployment", res.To+" "+res.Version, err)
			return rep
		}
	}
	if c.o.Deployments || (last && c.o.Release) {
		stages := []string{s.From}
		if last && c.o.Release {
			stages = chain.Names()[:chain.Len()-1]
		}
		var err error
		if s.Trail, err = trail(ctx, reg, res, stages); err != nil {
			rep.warn("evidence", reg.Name(), fmt.Errorf("%w; the GitHub records of this promotion wait for a run that can read the pass records", err))
			return rep
		}
	}
	if !last {
		return c.PromotedToStage(ctx, StagePromotion{Sha: res.Sha, RC: res.RC, Version: res.Version, Digest: res.Digest, OCIRepository: reg.Name(), To: res.To, Stages: s})
	}
	p, err := PromotionFrom(ctx, reg, res)
	p.Validation, p.Stages = v, &s
	rep = c.Promoted(ctx, p)
	if err != nil {
		rep.Warnings = append([]Warning{{Kind: "registry", Subject: reg.Name(), Err: err}}, rep.Warnings...)
	}
	return rep
}

// trail reads the evidence of candidate res.Digest in each of stages from its pass records; a
// stage the promotion skipped has none to read.
func trail(ctx context.Context, reg Registry, res pipeline.PromoteResult, stages []string) ([]Evidence, error) {
	list := res.Tags
	if list == nil {
		var err error
		if list, err = reg.Tags(ctx); err != nil {
			return nil, err
		}
	}
	out := make([]Evidence, 0, len(stages))
	for _, name := range stages {
		if slices.Contains(res.Skipped, name) {
			out = append(out, Evidence{Stage: name, Skipped: true})
			continue
		}
		ev, err := pass.Read(ctx, reg, list, name, res.Digest)
		if err != nil {
			return nil, err
		}
		out = append(out, evidenceOf(ev))
	}
	return out, nil
}

// evidenceOf is what the records read say: the standing pass, when there is one.
func evidenceOf(ev pass.Evidence) Evidence {
	e := Evidence{Stage: ev.Stage, Passed: ev.Passed, Cancelled: ev.Cancelled}
	if !ev.Passed {
		return e
	}
	for _, r := range ev.Records {
		if r.Kind == pass.Pass && r.Time.Equal(ev.PassedAt) {
			e.Cluster, e.Message, e.Time, e.Revision, e.Record = r.Cluster, r.Message, r.Time, r.Revision, r.Tag
			break
		}
	}
	return e
}
