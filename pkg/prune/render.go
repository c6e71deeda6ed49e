package prune

import (
	"fmt"
	"io"
	"strings"
)

// Summary is the result in one line: how many artifacts went, were skipped and stay.
func (r Result) Summary() string {
	s := fmt.Sprintf("%s %d artifacts, skipped %d, kept %d", r.verb(), len(r.Deleted), len(r.Skipped), len(r.Plan.Keep))
	if len(r.Left) > 0 {
		s += fmt.Sprintf(", left %d for the next run (%s)", len(r.Left), r.Stopped)
	}
	return s
}

func (r Result) verb() string {
	if r.DryRun {
		return "would delete"
	}
	return "deleted"
}

// Text writes the result for a terminal: one line per artifact, then the summary.
func (r Result) Text(w io.Writer) error {
	for _, it := range r.Deleted {
		fmt.Fprintf(w, "%s %s %s: %s\n", r.verb(), it.Digest, strings.Join(it.Tags, " "), it.Reason)
	}
	for _, it := range r.Skipped {
		fmt.Fprintf(w, "skip %s %s: %s\n", it.Digest, strings.Join(it.Tags, " "), it.Reason)
	}
	for _, it := range r.Left {
		fmt.Fprintf(w, "left %s %s: %s\n", it.Digest, strings.Join(it.Tags, " "), it.Reason)
	}
	for _, it := range r.Plan.Keep {
		fmt.Fprintf(w, "keep %s %s: %s\n", it.Digest, strings.Join(it.Tags, " "), it.Reason)
	}
	_, err := fmt.Fprintln(w, r.Summary())
	return err
}

// Markdown renders the result for a job summary.
func (r Result) Markdown() string {
	var b strings.Builder
	title := "ocipromote prune"
	if r.DryRun {
		title += " (dry run)"
	}
	fmt.Fprintf(&b, "### %s: %d deleted, %d skipped, %d kept\n\n| action | digest | tags | reason |\n|---|---|---|---|\n", title, len(r.Deleted), len(r.Skipped), len(r.Plan.Keep))
	rows := func(action string, items []Item) {
		for _, it := range items {
			fmt.Fprintf(&b, "| %s | `%s` | `%s` | %s |\n", action, it.Digest, strings.Join(it.Tags, " "), cellEscaper.Replace(it.Reason))
		}
	}
	verb := "delete"
	if r.DryRun {
		verb = "would delete"
	}
	rows(verb, r.Deleted)
	rows("skip", r.Skipped)
	rows("left for the next run", r.Left)
	rows("keep", r.Plan.Keep)
	return b.String()
}

var cellEscaper = strings.NewReplacer("|", "\\|", "\r", " ", "\n", " ", "<", "&lt;", ">", "&gt;")

// DeletedTags lists the tags of the artifacts deleted, in their order.
func (r Result) DeletedTags() []string {
	var out []string
	for _, it := range r.Deleted {
		out = append(out, it.Tags...)
	}
	return out
}
