package status

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ocipromote/ocipromote/pkg/hold"
)

// HoldLine is the hold in one line.
func (r Report) HoldLine() string { return holdLine(r.Hold) }

func holdLine(h hold.State) string {
	switch {
	case h.Tag == "":
		return "off (never set)"
	case h.Held():
		s := "ON: " + h.Describe()
		if h.Digest != "" {
			s += fmt.Sprintf("; rolled back to %s", h.Digest)
		}
		return s
	}
	return "off: " + h.Describe()
}

// Headline is the report in one line: the hold, and what each selection picks.
func (r Report) Headline() string {
	parts := []string{"hold " + hold.Off}
	if r.Hold.Held() {
		parts[0] = "hold " + hold.On
	}
	for _, s := range r.Selections {
		p := s.Name + " selects " + dash(s.Tag)
		if s.Short != "" {
			p += " (" + s.Short + ")"
		}
		parts = append(parts, p)
	}
	for _, h := range r.StageHolds {
		if h.Held() {
			parts = append(parts, "hold of stage "+h.Stage+" "+hold.On)
		}
	}
	parts = append(parts, r.stagesHeadline()...)
	return strings.Join(parts, "; ")
}

// Text writes the report for a terminal.
func (r Report) Text(w io.Writer) error {
	fmt.Fprintf(w, "repository %s\nhold: %s\n", r.Repository, r.HoldLine())
	for _, h := range r.earlierHolds() {
		fmt.Fprintf(w, "  earlier: %s\n", h.Describe())
	}
	for _, h := range r.StageHolds {
		fmt.Fprintf(w, "hold of stage %s: %s\n", h.Stage, holdLine(h.State))
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	signatures := r.signatures()
	head := "COMMIT\tRC\tSTABLE\tVALIDATED\tCREATED\tDIGEST\tREVISION\tNOTE"
	if signatures {
		head += "\tSIGNATURE"
	}
	fmt.Fprintln(tw, head)
	for _, a := range r.Artifacts {
		row := fmt.Sprintf("%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s", a.Short, dash(a.RC), dash(strings.Join(a.Stable, ",")),
			yesNo(a.Validated), dash(created(a.Created)), shortDigest(a.Digest), dash(a.Revision), dash(a.Note()))
		if signatures {
			row += "\t" + dash(a.Signature.Short())
		}
		fmt.Fprintln(tw, row)
	}
	if len(r.Artifacts) == 0 {
		fmt.Fprintln(tw, "(no commit artifacts)")
	}
	if r.Omitted > 0 {
		fmt.Fprintf(tw, "(%d older not shown)\n", r.Omitted)
	}
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "SELECTION\tCONSTRAINT\tTAG\tCOMMIT\tDIGEST\tHOLD")
	for _, s := range r.Selections {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", s.Name, s.describe(), dash(s.Tag), dash(s.Short), dash(shortDigest(s.Digest)), heldWord(s.Held))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, s := range r.Selections {
		if warning := s.ForeignWarning(); warning != "" {
			fmt.Fprintf(w, "\nwarning: %s\n", warning)
		}
	}
	return r.stagesText(w)
}

// Markdown renders the report for a job summary.
func (r Report) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "### ocipromote status: %s\n\n**hold:** %s\n\n", code(r.Repository), cell(r.HoldLine()))
	if earlier := r.earlierHolds(); len(earlier) > 0 {
		b.WriteString("Earlier hold records, newest first:\n\n")
		for _, h := range earlier {
			fmt.Fprintf(&b, "- %s\n", cell(h.Describe()))
		}
		b.WriteString("\n")
	}
	for _, h := range r.StageHolds {
		fmt.Fprintf(&b, "**hold of stage %s:** %s\n\n", code(h.Stage), cell(holdLine(h.State)))
	}
	b.WriteString("| selection | constraint | tag | commit | digest | hold |\n|---|---|---|---|---|---|\n")
	for _, s := range r.Selections {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", cell(s.Name), code(s.describe()), code(s.Tag), code(s.Short), code(s.Digest), heldWord(s.Held))
	}
	for _, s := range r.Selections {
		if warning := s.ForeignWarning(); warning != "" {
			fmt.Fprintf(&b, "\n> [!WARNING]\n> %s\n", cell(warning))
		}
	}
	signatures := r.signatures()
	if signatures {
		b.WriteString("\n| commit | RC | stable | validated | created | digest | revision | note | signature |\n|---|---|---|---|---|---|---|---|---|\n")
	} else {
		b.WriteString("\n| commit | RC | stable | validated | created | digest | revision | note |\n|---|---|---|---|---|---|---|---|\n")
	}
	for _, a := range r.Artifacts {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s |", code(a.Short), code(a.RC), code(strings.Join(a.Stable, ", ")),
			yesNo(a.Validated), cell(created(a.Created)), code(a.Digest), code(a.Revision), cell(a.Note()))
		if signatures {
			fmt.Fprintf(&b, " %s |", cell(a.Signature.Short()))
		}
		b.WriteString("\n")
	}
	if r.Omitted > 0 {
		fmt.Fprintf(&b, "\n%d older artifacts not shown.\n", r.Omitted)
	}
	r.stagesMarkdown(&b)
	return b.String()
}

// earlierHolds are the hold records before the current one, newest first.
func (r Report) earlierHolds() []hold.State {
	if len(r.HoldRecords) < 2 {
		return nil
	}
	return r.HoldRecords[1:]
}

// Note says what a person should know about the artifact beyond its columns.
func (a Artifact) Note() string {
	var notes []string
	for _, n := range a.SelectedBy {
		notes = append(notes, "selected by "+n)
	}
	if a.SupersededBy != "" {
		notes = append(notes, "superseded by "+a.SupersededBy)
	}
	return strings.Join(notes, "; ")
}

func (s Selection) describe() string {
	if s.Filter == "" {
		return s.Constraint
	}
	return s.Constraint + " filter " + s.Filter
}

func created(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// shortDigest keeps "sha256:" and 12 hex digits, enough to tell artifacts apart on a terminal.
func shortDigest(d string) string {
	if len(d) > len("sha256:")+12 {
		return d[:len("sha256:")+12]
	}
	return d
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func heldWord(b bool) string {
	if b {
		return "held"
	}
	return "-"
}

var cellEscaper = strings.NewReplacer("|", "\\|", "\r", " ", "\n", " ", "<", "&lt;", ">", "&gt;")

func cell(s string) string { return cellEscaper.Replace(s) }

func code(s string) string {
	if s == "" {
		return ""
	}
	return "`" + strings.NewReplacer("`", "'", "|", "\\|", "\r", " ", "\n", " ").Replace(s) + "`"
}

// ForeignWarning says, when the selection considers foreign tags, which ones and what they do:
// one that is the selection's pick holds the cluster on an artifact the pipeline did not build,
// and build-rc refuses to offer a candidate below it.
func (s Selection) ForeignWarning() string {
	if len(s.Foreign) == 0 {
		return ""
	}
	list := strings.Join(s.Foreign, ", ")
	if slices.Contains(s.Foreign, s.Tag) {
		return fmt.Sprintf("%s selects %s, a tag the pipeline did not write (foreign tags it considers: %s); no candidate the pipeline builds reaches it while such a tag ranks highest, and build-rc refuses to build below one: delete or rename them", s.Name, s.Tag, list)
	}
	return fmt.Sprintf("%s considers tags the pipeline did not write: %s; they rank below its pick now, but Flux selects them like any other", s.Name, list)
}
