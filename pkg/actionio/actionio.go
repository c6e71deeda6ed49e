// Package actionio is the one place where ocipromote's binaries meet GitHub Actions and the
// command line: inputs come from a flag first, then INPUT_<NAME>, then a documented default from
// the GitHub context; outputs go to GITHUB_OUTPUT when set and to stdout as JSON with --json; the
// job summary goes to GITHUB_STEP_SUMMARY when set; errors become ::error:: annotations.
package actionio

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"regexp"
	"runtime/debug"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"github.com/sethvargo/go-githubactions"

	"github.com/ocipromote/ocipromote/pkg/ref"
)

// ErrUsage marks an error in how a binary was called; main exits 2 for it.
var ErrUsage = errors.New("usage")

// Usagef returns an ErrUsage error with a message.
func Usagef(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrUsage, fmt.Sprintf(format, args...))
}

// Input declares one input of a binary. Name uses underscores (as in action.yml); the flag is the
// same name with hyphens and the environment variable is INPUT_<NAME>.
type Input struct {
	Name    string
	Usage   string
	Default string
	// ContextEnv names a GitHub context variable (such as GITHUB_SHA) that supplies the default
	// when it is set.
	ContextEnv string
	Required   bool
	// Secret values are masked in the Actions log.
	Secret bool
	// Bool inputs take true/false and may be given as a bare flag.
	Bool bool
	// List inputs hold one value per line (as a workflow's multi-line input does); the flag may be
	// repeated, each occurrence adding a line (another flag given twice takes the last value).
	List bool
}

// Flag is the command-line spelling of the input.
func (in Input) Flag() string { return strings.ReplaceAll(in.Name, "_", "-") }

// Env is the environment spelling of the input.
func (in Input) Env() string { return "INPUT_" + strings.ToUpper(in.Name) }

// Command is a binary's declaration: what it is for and the inputs it reads.
type Command struct {
	Name    string
	Summary string
	Inputs  []Input
}

// Values are the inputs as resolved by Parse.
type Values struct {
	values map[string]string
	// JSON is set by --json: print the outputs as one JSON object on stdout.
	JSON bool
	// Args are the positional arguments left after the flags.
	Args []string
	// PasswordStdin is set by --password-stdin (for commands with a password input): the
	// password is the first line of standard input, so it stays out of the shell history and the
	// process list. Whoever reads it stores it with Set and clears this.
	PasswordStdin bool
	// inActions: the step runs in GitHub Actions, where a user sets inputs, not flags.
	inActions bool
	// masked are the values already masked in this step's log.
	masked map[string]bool
}

// Mask hides s in the Actions log, once: the runner needs one ::add-mask:: per value, and a
// second one only adds noise. Outside Actions it does nothing, since masking is an Actions log
// command that another log would print, secret included.
func (v *Values) Mask(a *githubactions.Action, s string) {
	if s == "" || !v.inActions || v.masked[s] {
		return
	}
	if v.masked == nil {
		v.masked = map[string]bool{}
	}
	v.masked[s] = true
	a.AddMask(s)
}

// Speak rewrites msg, a message that names inputs as a workflow sets them, for a user on a
// command line, who types flags: each input of c named as "input NAME", "the NAME input" or,
// for a name with an underscore, bare (keep_stable, not keep_stable_x, GITHUB_TOKEN or
// trusted_root.json) becomes its flag (--keep-stable). Every message is written for Actions and
// spoken here, in Main, so that no caller has to know where it runs.
func (c Command) Speak(msg string) string {
	for _, in := range c.Inputs {
		name := regexp.QuoteMeta(in.Name)
		flag := "${1}--" + in.Flag() + "${2}"
		msg = replaceAll(msg, `(^|[^A-Za-z0-9_$.-])(?:input `+name+`|the `+name+` input)($|[^A-Za-z0-9_])`, flag)
		if strings.Contains(in.Name, "_") {
			msg = replaceAll(msg, `(^|[^A-Za-z0-9_$.-])`+name+`($|[^A-Za-z0-9_.]|\.$|\.[^A-Za-z0-9_])`, flag)
		}
	}
	return msg
}

// replaceAll replaces every match of pattern in s until none is left: a match takes the
// character after it, which a name right after it (a, b) needs before it.
func replaceAll(s, pattern, repl string) string {
	re := regexp.MustCompile(pattern)
	for {
		next := re.ReplaceAllString(s, repl)
		if next == s {
			return s
		}
		s = next
	}
}

// Set replaces an input's value after parsing, for a value read from elsewhere (a password
// given on standard input).
func (v *Values) Set(name, value string) { v.values[name] = value }

// Get returns an input's value ("" when unset).
func (v *Values) Get(name string) string { return v.values[name] }

// Bool returns a boolean input; Parse has validated it.
func (v *Values) Bool(name string) bool {
	b, _ := strconv.ParseBool(v.values[name])
	return b
}

// Int returns an integer input, or a usage error naming the input.
func (v *Values) Int(name string) (int, error) {
	s := v.values[name]
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, Usagef("input %s must be a whole number, got %q", name, s)
	}
	return n, nil
}

type boolFlag interface{ IsBoolFlag() bool }

type stringValue struct {
	s      *string
	isBool bool
	list   bool
	// given counts the flag's occurrences.
	given *int
}

func (v stringValue) String() string {
	if v.s == nil {
		return ""
	}
	return *v.s
}

func (v stringValue) Set(s string) error {
	*v.given++
	if v.list && *v.given > 1 {
		*v.s += "\n" + s
	} else {
		*v.s = s
	}
	return nil
}

func (v stringValue) IsBoolFlag() bool { return v.isBool }

var _ boolFlag = stringValue{}

// ErrHelp is returned by Parse when --help was asked for; the help text has been printed.
var ErrHelp = flag.ErrHelp

// Parse resolves c's inputs from args, then INPUT_* and the GitHub context through a (so tests
// can fake the environment), then defaults. Help goes to help.
func Parse(c Command, a *githubactions.Action, args []string, help io.Writer) (*Values, error) {
	fs := flag.NewFlagSet(c.Name, flag.ContinueOnError)
	fs.SetOutput(help)
	flagged := make(map[string]*string, len(c.Inputs))
	for _, in := range c.Inputs {
		s := new(string)
		flagged[in.Name] = s
		usage := in.Usage
		if in.Required {
			usage += " (required)"
		}
		if in.List {
			usage += " (repeat the flag for more; one per line in the environment variable)"
		}
		usage += fmt.Sprintf(" [env %s", in.Env())
		if in.ContextEnv != "" {
			usage += ", default $" + in.ContextEnv
		}
		if in.Default != "" {
			usage += fmt.Sprintf(", default %q", in.Default)
		}
		usage += "]"
		fs.Var(stringValue{s: s, isBool: in.Bool, list: in.List, given: new(int)}, in.Flag(), usage)
	}
	jsonOut := fs.Bool("json", false, "print the outputs as one JSON object on stdout")
	version := fs.Bool("version", false, "print the version and exit")
	var passwordStdin *bool
	if slices.ContainsFunc(c.Inputs, func(in Input) bool { return in.Name == "password" }) {
		passwordStdin = fs.Bool("password-stdin", false, "read the registry password from the first line of standard input (instead of --password)")
	}
	// The flag package would print the usage before its error; the error is returned instead, to
	// be printed last, where it is seen.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(help)
			fmt.Fprintf(help, "%s: %s\n\nUsage: %s [flags]\n\nEvery flag can also be given as the environment variable shown (as GitHub Actions does for inputs).\n\n", c.Name, c.Summary, c.Name)
			fs.PrintDefaults()
			fmt.Fprintf(help, "\n%s\n", ExitStatusHelp)
			return nil, ErrHelp
		}
		msg := escapeControl(err.Error())
		if name, unknown := strings.CutPrefix(msg, "flag provided but not defined: -"); unknown {
			msg = "unknown flag --" + strings.TrimLeft(name, "-") + suggest(err, fs)
		}
		return nil, Usagef("%s; run %s --help for every flag", msg, c.Name)
	}
	if *version {
		fmt.Fprintf(help, "%s %s\n", c.Name, Version())
		return nil, ErrHelp
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })

	v := &Values{values: make(map[string]string, len(c.Inputs)), JSON: *jsonOut, Args: fs.Args(), inActions: InActions(a)}
	if passwordStdin != nil {
		v.PasswordStdin = *passwordStdin
	}
	if s := a.GetInput("json"); s != "" && !set["json"] {
		b, err := strconv.ParseBool(s)
		if err != nil {
			return nil, Usagef("INPUT_JSON must be true or false, got %q", s)
		}
		v.JSON = b
	}
	var missing []string
	for _, in := range c.Inputs {
		val := ""
		switch {
		case set[in.Flag()]:
			val = strings.TrimSpace(*flagged[in.Name])
		case a.GetInput(in.Name) != "":
			val = a.GetInput(in.Name)
		case in.ContextEnv != "" && a.Getenv(in.ContextEnv) != "":
			val = strings.TrimSpace(a.Getenv(in.ContextEnv))
		default:
			val = in.Default
		}
		if in.Bool {
			if val == "" {
				val = "false"
			}
			b, err := strconv.ParseBool(val)
			if err != nil {
				return nil, Usagef("input %s must be true or false, got %q", in.Name, val)
			}
			val = strconv.FormatBool(b)
		}
		// Masking is an Actions log command: on a terminal, or in another CI's log, it would
		// print the secret instead of hiding it.
		if in.Secret {
			v.Mask(a, val)
		}
		if in.Required && val == "" {
			missing = append(missing, fmt.Sprintf("input %s (or %s)", in.Name, in.Env()))
		}
		v.values[in.Name] = val
	}
	if len(missing) > 0 {
		return nil, Usagef("missing required %s; run %s --help", strings.Join(missing, ", "), c.Name)
	}
	if len(v.Args) > 0 {
		return nil, Usagef("unexpected argument %q; every input is a --flag", v.Args[0])
	}
	return v, nil
}

// ExitStatusHelp ends every --help.
const ExitStatusHelp = "Exit status: 0 when the step did its job or decided there was nothing to do (such decisions,\n" +
	"like ignored or already promoted, are outputs), 1 on a failure, 2 on a usage error."

// Version is the version of the running binary: its module version (a release build's tag, or
// (devel)) and the commit and time it was built from, as the Go toolchain records them.
func Version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown version)"
	}
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	var extra []string
	for _, st := range bi.Settings {
		switch st.Key {
		case "vcs.revision":
			extra = append(extra, "commit "+st.Value)
		case "vcs.time":
			extra = append(extra, "built from a commit of "+st.Value)
		case "vcs.modified":
			if st.Value == "true" {
				extra = append(extra, "with local changes")
			}
		}
	}
	extra = append(extra, bi.GoVersion)
	return v + " (" + strings.Join(extra, ", ") + ")"
}

// suggest names the flag a mistyped one was probably meant to be: "; did you mean --dry-run?".
func suggest(err error, fs *flag.FlagSet) string {
	name, found := strings.CutPrefix(err.Error(), "flag provided but not defined: -")
	if !found {
		return ""
	}
	name = strings.TrimLeft(name, "-")
	best, bestDist := "", 3 // at most two edits away
	fs.VisitAll(func(f *flag.Flag) {
		d := editDistance(strings.ReplaceAll(name, "_", "-"), f.Name)
		if strings.HasPrefix(f.Name, name) && len(name) >= 3 {
			d = min(d, 1)
		}
		if d < bestDist {
			best, bestDist = f.Name, d
		}
	})
	if best == "" {
		return ""
	}
	return " (did you mean --" + best + "?)"
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// Output is one named output of a step. Value is the text GitHub Actions gets (every step output
// is a string there); Typed, when set, is what --json prints instead: a bool, a number or a list,
// so that `jq -e .promoted` is false when nothing was promoted.
type Output struct {
	Name  string
	Value string
	Typed any
}

// Bool is a true/false output: "true" or "false" in Actions, a JSON boolean with --json.
func Bool(name string, b bool) Output {
	return Output{Name: name, Value: strconv.FormatBool(b), Typed: b}
}

// Int is a numeric output.
func Int(name string, n int) Output {
	return Output{Name: name, Value: strconv.Itoa(n), Typed: n}
}

// List is a list output: comma-separated in Actions (the items never hold a comma), a JSON
// array (never null) with --json.
func List(name string, items []string) Output {
	if items == nil {
		items = []string{}
	}
	return Output{Name: name, Value: strings.Join(items, ","), Typed: items}
}

// Outputs are a step's outputs in the order they are documented.
type Outputs []Output

// Emit publishes outputs: to GITHUB_OUTPUT when it is set; to stdout as one JSON object when
// jsonOut is set, otherwise as name=value lines so a shell can read them too.
func Emit(a *githubactions.Action, stdout io.Writer, jsonOut bool, outs Outputs) error {
	if a.Getenv("GITHUB_OUTPUT") != "" {
		for _, o := range outs {
			a.SetOutput(o.Name, o.Value)
		}
	}
	if jsonOut {
		m := make(map[string]any, len(outs))
		for _, o := range outs {
			m[o.Name] = o.Value
			if o.Typed != nil {
				m[o.Name] = o.Typed
			}
		}
		enc := json.NewEncoder(stdout)
		enc.SetEscapeHTML(false)
		return enc.Encode(m)
	}
	for _, o := range outs {
		if _, err := fmt.Fprintf(stdout, "%s=%s\n", o.Name, ref.PlainLine(o.Value, 0)); err != nil {
			return err
		}
	}
	return nil
}

// Summary appends Markdown to the job summary when GITHUB_STEP_SUMMARY is set.
func Summary(a *githubactions.Action, markdown string) {
	if a.Getenv("GITHUB_STEP_SUMMARY") != "" {
		a.AddStepSummary(markdown)
	}
}

// Table renders a two-column Markdown table of outputs under a heading. The heading may carry
// text from an untrusted event (a decision's reason), so it is rendered as plain text (see
// MarkdownText); the values are rendered as code.
func Table(heading string, outs Outputs) string {
	var b strings.Builder
	fmt.Fprintf(&b, "### %s\n\n| output | value |\n|---|---|\n", MarkdownText(heading))
	for _, o := range outs {
		fmt.Fprintf(&b, "| %s | %s |\n", o.Name, cell(o.Value))
	}
	return b.String()
}

func cell(s string) string {
	if s == "" {
		return ""
	}
	return "`" + strings.NewReplacer("`", "'", "|", "\\|").Replace(ref.PlainLine(s, 0)) + "`"
}

// markdownEscaper escapes every character that CommonMark, GitHub's Markdown extensions or inline
// HTML give a meaning inside a line: links and images ([, ], (, ), !), emphasis and strikethrough
// (*, _, ~), code (`), HTML and autolinks in angle brackets (<, >, &), a heading's closing
// sequence (#) and table cells (|).
var markdownEscaper = strings.NewReplacer(
	`\`, `\\`, "`", "\\`", "*", `\*`, "_", `\_`, "~", `\~`, "[", `\[`, "]", `\]`, "(", `\(`, ")", `\)`,
	"!", `\!`, "#", `\#`, "|", `\|`, "<", "&lt;", ">", "&gt;", "&", "&amp;",
)

// MarkdownText renders untrusted text as one line of literal Markdown text: line breaks and other
// control or format characters (bidi overrides, zero-width characters) become spaces, and Markdown
// and HTML syntax is escaped, so the text cannot become a link, an image, markup or a second line.
// A bare URL stays text that GitHub may show as a link to itself, never a disguised one.
func MarkdownText(s string) string {
	return markdownEscaper.Replace(ref.PlainLine(s, 0))
}

// escapeControl writes control and format characters of a message as Go escapes (\n, \x1b,
// \u202e), so a flag name typed with a line break cannot break the error onto a second line.
func escapeControl(s string) string {
	if !strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) }) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// InActions reports whether the process runs as a GitHub Actions step.
func InActions(a *githubactions.Action) bool { return a.Getenv("GITHUB_ACTIONS") == "true" }

// Keys lists the names of outputs, sorted; handy for documentation tests.
func (o Outputs) Keys() []string {
	k := make([]string, len(o))
	for i, x := range o {
		k[i] = x.Name
	}
	sort.Strings(k)
	return k
}

// Run is a binary's body: everything but process wiring.
type Run func(ctx context.Context, a *githubactions.Action, args []string, stdout, stderr io.Writer) error

// Main runs a binary's body and turns its error into an ::error:: annotation (in Actions) or a
// plain message that names c's inputs as flags (see Speak), and an exit status: 0 done, 1
// failure, 2 usage error. It is the only place that decides exit codes; it returns the code
// instead of exiting so it can be tested. c holds every input of the binary, of all its
// subcommands.
func Main(ctx context.Context, c Command, run Run, a *githubactions.Action, args []string, stdout, stderr io.Writer) int {
	err := run(ctx, a, args, stdout, stderr)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, ErrHelp):
		return 0
	}
	msg := err.Error()
	if InActions(a) {
		a.Errorf("%s: %s", c.Name, msg)
	} else {
		fmt.Fprintf(stderr, "%s: error: %s\n", c.Name, c.Speak(msg))
	}
	if errors.Is(err, ErrUsage) {
		return 2
	}
	return 1
}

// Report ends a step: the heading on stderr for the log, the heading and outputs as the job
// summary, and the outputs themselves (see Emit).
func Report(a *githubactions.Action, stdout, stderr io.Writer, jsonOut bool, heading string, outs Outputs) error {
	// One line, so text in a heading cannot start a line the runner reads as a workflow command.
	fmt.Fprintln(stderr, ref.PlainLine(heading, 0))
	Summary(a, Table(heading, outs))
	return Emit(a, stdout, jsonOut, outs)
}
