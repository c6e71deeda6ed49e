package status

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ocipromote/ocipromote/pkg/hold"
	"github.com/ocipromote/ocipromote/pkg/pass"
	"github.com/ocipromote/ocipromote/pkg/stage"
	"github.com/ocipromote/ocipromote/pkg/version"
)

// Chain is a chain of stages with its gates, for a report of every stage (GatherChain).
type Chain struct {
	Stages  stage.Chain
	Windows stage.Windows
	Soaks   stage.Soaks
	// Now is when the gates are weighed.
	Now time.Time
}

// Stage is one stage of a chain: what its cluster's OCIRepository selects now (the selection
// `ocipromote stages` prints for it), its hold and gates, and the candidates pending for it.
type Stage struct {
	Name string `json:"name"`
	// From is the stage a candidate enters it from; "" for the first stage, which every build
	// enters.
	From      string          `json:"from,omitempty"`
	Selection stage.Selection `json:"selection"`
	// Tag is what the selection picks now ("" for nothing), Digest its manifest, Short its commit.
	Tag    string `json:"tag"`
	Digest string `json:"digest,omitempty"`
	Short  string `json:"short_sha,omitempty"`
	// Hold is the stage's current hold record; nil when it never had one.
	Hold *hold.State `json:"hold,omitempty"`
	// Windows are the change windows of promotions into the stage (none: any time).
	Windows []string `json:"windows"`
	// Soak is how long a candidate must run healthy in the stage before it leaves it ("": none).
	Soak string `json:"soak,omitempty"`
	// Pending are the candidates waiting to enter the stage, newest first.
	Pending []Pending `json:"pending"`
}

// Pending is a candidate that passed the stage before (by its pass records) and is not in this
// one yet, with what its gates say now.
type Pending struct {
	// Tag is the candidate's tag in the stage it leaves; Target the tag it gets in this one (the
	// last stage's is its own version, to which the promotion rules may give a later patch).
	Tag    string `json:"tag"`
	Target string `json:"target"`
	Digest string `json:"digest"`
	Short  string `json:"short_sha,omitempty"`
	// PassedAt is its first healthy pass after the last failure in the stage it leaves (zero when
	// a failure cancelled it).
	PassedAt time.Time     `json:"passed_at,omitzero"`
	Verdict  stage.Verdict `json:"verdict"`
}

// ChainFacts is what Stages weighs: a chain with its gates, and what the repository holds.
type ChainFacts struct {
	Chain
	// Tags is the tag listing; Digests maps the tags of the stages after the first (and any other
	// resolved tag) to their manifest digests.
	Tags    []string
	Digests map[string]string
	// Artifacts are the commit artifacts, as the report lists them (their release candidate,
	// stable tags and whether the promotion rules call them superseded).
	Artifacts []Artifact
	// Holds are the stages' current holds by stage name; a stage without one was never held.
	Holds map[string]hold.State
	// Evidence are the pass records of candidates, one entry per stage and candidate.
	Evidence []pass.Evidence
}

// Stages reports every stage of the chain. For each stage after the first, the pending
// candidates are those that passed the stage before (a healthy pass record, standing or cancelled
// by a later failure), that no tag of this stage points at, and that would move the stage: for
// an intermediate stage its tag there ranks above the stage's pick; for the last stage the
// promotion rules do not call it superseded (Artifact.SupersededBy). Each gets stage.Gate's
// verdict: the stage's hold and windows, the soak of the stage it leaves, its pass there.
func Stages(f ChainFacts) ([]Stage, error) {
	c := f.Chain.Stages
	byDigest := map[string]Artifact{}
	for _, a := range f.Artifacts {
		byDigest[a.Digest] = a
	}
	var out []Stage
	for i, name := range c.Names() {
		sel, err := c.Selection(name)
		if err != nil {
			return nil, err
		}
		st := Stage{Name: name, Selection: sel, Windows: f.Windows[name].Strings(), Pending: []Pending{}}
		if st.Windows == nil {
			st.Windows = []string{}
		}
		if d := f.Soaks[name]; d > 0 {
			st.Soak = d.String()
		}
		if h, ok := f.Holds[name]; ok && h.Tag != "" {
			st.Hold = &h
		}
		if st.Tag, err = version.Select(f.Tags, sel.Semver, sel.SemverFilter); err != nil {
			return nil, err
		}
		if st.Tag != "" {
			st.Digest = f.Digests[st.Tag]
			st.Short = byDigest[st.Digest].Short
		}
		if i > 0 {
			st.From, _ = c.Previous(name)
			if st.Pending, err = pending(f, st, byDigest); err != nil {
				return nil, err
			}
		}
		out = append(out, st)
	}
	return out, nil
}

// waiting is a candidate that would be pending for a stage once it passed the stage before: its
// tag there and the tag it would get.
type waiting struct{ from, target string }

// awaiting returns, by digest, the artifacts that would move stage name (not the first) were they
// promoted into it: no tag of the stage points at them, and for a stage between the first and
// the last their tag there ranks above its pick (picked); for the last stage the promotion rules
// would still promote them (no stable version, not superseded).
func awaiting(f ChainFacts, name, picked string) map[string]waiting {
	c := f.Chain.Stages
	from, _ := c.Previous(name)
	last := name == c.Last()
	in := map[string]bool{}
	for t, d := range f.Digests {
		if pt, ok := c.ParseTag(t); ok && pt.Stage == name {
			in[d] = true
		}
	}
	top, _ := version.Parse(picked)
	out := map[string]waiting{}
	for _, a := range f.Artifacts {
		if a.RC == "" || in[a.Digest] {
			continue
		}
		// An RC the chain cannot name (another prefix's) has no stage tag to be promoted to.
		target, err := c.In(a.RC, name)
		if err != nil {
			continue
		}
		fromTag, err := c.In(a.RC, from)
		if err != nil {
			continue
		}
		if last {
			if len(a.Stable) > 0 || a.SupersededBy != "" {
				continue
			}
		} else if v, _ := version.Parse(target); top != nil && !v.GreaterThan(top) {
			continue
		}
		out[a.Digest] = waiting{from: fromTag, target: target}
	}
	return out
}

// pending lists the candidates waiting to enter stage st, newest first: those awaiting it with a
// pass in the stage before (standing, or cancelled by a later failure), each with its verdict.
func pending(f ChainFacts, st Stage, byDigest map[string]Artifact) ([]Pending, error) {
	aw := awaiting(f, st.Name, st.Tag)
	h := f.Holds[st.Name]
	out := []Pending{}
	for _, ev := range f.Evidence {
		w, ok := aw[ev.Digest]
		if ev.Stage != st.From || !ok || !(ev.Passed || ev.Cancelled) {
			continue
		}
		p := Pending{Tag: w.from, Target: w.target, Digest: ev.Digest, Short: byDigest[ev.Digest].Short, PassedAt: ev.PassedAt}
		p.Verdict = stage.Gate(stage.GateInput{
			Now: f.Now, Held: h.Held(), Hold: h.Describe(), Windows: f.Windows[st.Name],
			Soak: f.Soaks[st.From], Pass: stage.Pass{At: ev.PassedAt, Cancelled: ev.Cancelled},
		})
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b Pending) int {
		va, _ := version.Parse(a.Target)
		vb, _ := version.Parse(b.Target)
		if c := vb.Compare(va); c != 0 {
			return c
		}
		return cmp.Compare(a.Digest, b.Digest)
	})
	return out, nil
}

// Gates says in a few words which gates hold the candidate and until when, or "open" when none
// does: its promotion then waits only for the promoting job, which asks for approval where the
// target stage's GitHub environment has required reviewers.
func (p Pending) Gates() string {
	if p.Verdict.Promote {
		return "open"
	}
	parts := make([]string, len(p.Verdict.Deferred))
	for i, d := range p.Verdict.Deferred {
		parts[i] = d.Gate
		if !d.Until.IsZero() {
			parts[i] += " until " + d.Until.UTC().Format(time.RFC3339)
		}
	}
	return strings.Join(parts, ", ")
}

// stagesText writes the stages of a chain for a terminal: a row per stage, then the pending
// candidates of each stage with what holds them.
func (r Report) stagesText(w io.Writer) error {
	if len(r.Stages) == 0 {
		return nil
	}
	fmt.Fprintf(w, "\nstages %s\n", strings.Join(r.stageNames(), " → "))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "STAGE\tFROM\tSELECTS\tTAG\tCOMMIT\tHOLD\tWINDOWS\tSOAK\tPENDING")
	for _, s := range r.Stages {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\n", s.Name, dash(s.From), s.selects(), dash(s.Tag), dash(s.Short), s.holdWord(),
			dash(strings.Join(s.Windows, "; ")), dash(s.Soak), len(s.Pending))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, s := range r.Stages {
		if s.Hold != nil && s.Hold.Held() {
			fmt.Fprintf(w, "%s is held: %s\n", s.Name, s.Hold.Describe())
		}
	}
	for _, s := range r.Stages {
		if len(s.Pending) == 0 {
			continue
		}
		fmt.Fprintf(w, "\npending for %s, newest first:\n", s.Name)
		for _, p := range s.Pending {
			fmt.Fprintf(w, "  %s (%s) → %s: %s\n", p.Tag, dash(p.Short), p.Target, p.describe())
		}
	}
	return nil
}

// stagesMarkdown renders the stages of a chain for a job summary: a mermaid flowchart of the
// chain, a table of the stages and one of the pending candidates.
func (r Report) stagesMarkdown(b *strings.Builder) {
	if len(r.Stages) == 0 {
		return
	}
	fmt.Fprintf(b, "\n#### Stages %s\n\n```mermaid\nflowchart LR\n", code(r.Chain))
	for i, s := range r.Stages {
		label := []string{s.Name, dash(s.Tag)}
		if s.Hold != nil && s.Hold.Held() {
			label = append(label, "held")
		}
		fmt.Fprintf(b, "  s%d[\"%s\"]\n", i, mermaidText(strings.Join(label, "<br/>")))
	}
	for i, s := range r.Stages[1:] {
		edge := "-->"
		if n := len(s.Pending); n > 0 {
			edge = fmt.Sprintf("-->|\"%d pending\"|", n)
		}
		fmt.Fprintf(b, "  s%d %s s%d\n", i, edge, i+1)
	}
	b.WriteString("```\n\n| stage | from | selects | tag | commit | hold | windows | soak | pending |\n|---|---|---|---|---|---|---|---|---|\n")
	for _, s := range r.Stages {
		hold := s.holdWord()
		if s.Hold != nil && s.Hold.Held() {
			hold = cell(s.Hold.Describe())
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s | %s | %s | %d |\n", cell(s.Name), cell(s.From), code(s.selects()), code(s.Tag), code(s.Short), hold,
			cell(strings.Join(s.Windows, "; ")), cell(s.Soak), len(s.Pending))
	}
	var rows []string
	for _, s := range r.Stages {
		for _, p := range s.Pending {
			rows = append(rows, fmt.Sprintf("| %s | %s | %s | %s | %s | %s |\n", cell(s.Name), code(p.Tag), code(p.Target), code(p.Short), cell(p.Gates()), cell(p.Verdict.Detail)))
		}
	}
	if len(rows) > 0 {
		b.WriteString("\nPending, newest first:\n\n| into | candidate | gets | commit | gates | detail |\n|---|---|---|---|---|---|\n")
		b.WriteString(strings.Join(rows, ""))
	}
}

// mermaidText keeps a node label inside its quotes: a quote is written as mermaid's #quot;.
func mermaidText(s string) string { return strings.ReplaceAll(s, `"`, "#quot;") }

// stagesHeadline says, for each stage with pending candidates, how many.
func (r Report) stagesHeadline() []string {
	var parts []string
	for _, s := range r.Stages {
		if n := len(s.Pending); n > 0 {
			parts = append(parts, fmt.Sprintf("%d pending for %s", n, s.Name))
		}
	}
	return parts
}

func (r Report) stageNames() []string {
	names := make([]string, len(r.Stages))
	for i, s := range r.Stages {
		names[i] = s.Name
	}
	return names
}

func (s Stage) selects() string {
	if s.Selection.SemverFilter == "" {
		return s.Selection.Semver
	}
	return s.Selection.Semver + " filter " + s.Selection.SemverFilter
}

func (s Stage) holdWord() string {
	return heldWord(s.Hold != nil && s.Hold.Held())
}

// describe is the candidate's state for people: ready, or what defers it and when it may go.
func (p Pending) describe() string {
	if p.Verdict.Promote {
		return "the gates are open: the next promotion takes it (after approval, where the stage's GitHub environment requires one)"
	}
	return "deferred (" + p.Gates() + "): " + p.Verdict.Detail
}
