package stage

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/ocipromote/ocipromote/pkg/version"
)

// Description is one stage as `ocipromote stages` prints it: what its tags look like, its marker,
// what its cluster's OCIRepository selects, and its gates.
type Description struct {
	Name string `json:"name"`
	// From is the stage a candidate is promoted from; "" for the first stage, which every build
	// enters.
	From string `json:"from,omitempty"`
	// Tag is the form of the stage's version tags, e.g. X.Y.Z-preprod.N.
	Tag string `json:"tag"`
	// Marker is the form of its marker tags, e.g. preprod-<sha>.
	Marker    string    `json:"marker"`
	Selection Selection `json:"selection"`
	// Windows are the change windows of the promotions into the stage (none: any time).
	Windows []string `json:"windows"`
	// Soak is how long a candidate must run healthy in the stage before it leaves it ("": none).
	Soak string `json:"soak,omitempty"`
}

// Report is the chain as `ocipromote stages` prints it.
type Report struct {
	// Chain is the stages input that gives this chain, e.g. dev,preprod,prod.
	Chain  string        `json:"chain"`
	Stages []Description `json:"stages"`
}

// Describe describes every stage of the chain, with the repository's tag prefix ("" or "v").
func (c Chain) Describe(prefix string, windows Windows, soaks Soaks) (Report, error) {
	if _, err := version.ParsePrefix(prefix); err != nil {
		return Report{}, err
	}
	r := Report{Chain: c.String()}
	for i, name := range c.names {
		d := Description{Name: name, Windows: windows[name].Strings()}
		if i > 0 {
			d.From = c.names[i-1]
		}
		switch i {
		case 0:
			d.Tag = prefix + "X.Y.Z-" + rcWord + ".N"
		case c.Len() - 1:
			d.Tag = prefix + "X.Y.Z"
		default:
			d.Tag = prefix + "X.Y.Z-" + name + ".N"
		}
		marker, _ := c.MarkerPrefix(name)
		d.Marker = marker + "<sha>"
		d.Selection, _ = c.Selection(name)
		if s := soaks[name]; s > 0 {
			d.Soak = s.String()
		}
		r.Stages = append(r.Stages, d)
	}
	return r, nil
}

// Text writes the report as a table for a terminal.
func (r Report) Text(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "STAGE\tFROM\tTAG\tMARKER\tSEMVER\tSEMVER FILTER\tWINDOWS\tSOAK")
	for _, d := range r.Stages {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", d.Name, dash(d.From), d.Tag, d.Marker, d.Selection.Semver, dash(d.Selection.SemverFilter),
			dash(strings.Join(d.Windows, "; ")), dash(d.Soak))
	}
	return tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// YAML writes, for each stage, the spec.ref of its cluster's OCIRepository, ready to paste under
// spec:, one YAML document per stage with the stage named in a comment.
func (r Report) YAML(w io.Writer) error {
	var b strings.Builder
	for i, d := range r.Stages {
		if i > 0 {
			b.WriteString("---\n")
		}
		fmt.Fprintf(&b, "# %s: the OCIRepository of the %s cluster selects its newest %s\n", d.Name, d.Name, d.Tag)
		b.WriteString("ref:\n")
		fmt.Fprintf(&b, "  semver: %s\n", yamlQuote(d.Selection.Semver))
		if d.Selection.SemverFilter != "" {
			fmt.Fprintf(&b, "  semverFilter: %s\n", yamlQuote(d.Selection.SemverFilter))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// yamlQuote writes s as a single-quoted YAML scalar, in which a backslash is itself (a regular
// expression's \d stays \d) and a quote is doubled.
func yamlQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// Summary is one line for a log: the chain, with each stage's gates.
func (r Report) Summary() string {
	parts := make([]string, len(r.Stages))
	for i, d := range r.Stages {
		var gates []string
		if len(d.Windows) > 0 {
			gates = append(gates, "windows "+strings.Join(d.Windows, "; "))
		}
		if d.Soak != "" {
			gates = append(gates, "soak "+d.Soak)
		}
		parts[i] = d.Name
		if len(gates) > 0 {
			parts[i] += " (" + strings.Join(gates, ", ") + ")"
		}
	}
	return strings.Join(parts, " → ")
}
