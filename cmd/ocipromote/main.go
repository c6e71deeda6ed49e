// Command ocipromote is the on-call tool for a repository the pipeline promotes in:
//
//	ocipromote status   --repository R [--select NAME=CONSTRAINT]...   where each commit is, what each cluster selects
//	ocipromote rollback --repository R --to VERSION|SHA|DIGEST --reason TEXT   put live back, and hold promotion
//	ocipromote hold set|release --repository R --reason TEXT   stop or resume automatic promotion
//	ocipromote prune    --repository R --keep-stable N --keep-rc-days D [--dry-run]   remove old artifacts
//
// Inputs follow the other binaries: a flag, else INPUT_<NAME>, else the GitHub context; --json
// prints the result as JSON.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/sethvargo/go-githubactions"

	"github.com/ocipromote/ocipromote/pkg/actionio"
	"github.com/ocipromote/ocipromote/pkg/hold"
	"github.com/ocipromote/ocipromote/pkg/prune"
	"github.com/ocipromote/ocipromote/pkg/status"
	"github.com/ocipromote/ocipromote/pkg/step"
)

const name = "ocipromote"

var selectInput = actionio.Input{Name: "select",
	Usage: "a Flux OCIRepository selection NAME=CONSTRAINT or NAME=CONSTRAINT;SEMVER_FILTER; repeat the flag (or one per line in INPUT_SELECT); default integration=>= 0.0.0-0;.*-rc.* and live=>= 0.0.0, as the example clusters select"}

var actorInput = actionio.Input{Name: "actor", ContextEnv: "GITHUB_ACTOR", Usage: "who does this, recorded in the hold (default $GITHUB_ACTOR, then $USER)"}

func withRegistry(inputs ...actionio.Input) []actionio.Input {
	return append(append([]actionio.Input{step.RepositoryInput}, inputs...), step.CredentialInputs...)
}

var (
	statusCommand = actionio.Command{
		Name:    name + " status",
		Summary: "show each commit artifact (newest first), what each cluster's semver constraint selects now, and the hold",
		Inputs: withRegistry(selectInput,
			actionio.Input{Name: "format", Default: "text", Usage: "text (a terminal) or markdown (a job summary); --json prints JSON"},
			actionio.Input{Name: "limit", Default: "0", Usage: "show only the newest N artifacts (0: all)"},
		),
	}
	rollbackCommand = actionio.Command{
		Name:    name + " rollback",
		Summary: "give a validated artifact the next stable patch above the highest, so live selects it, and hold automatic promotion",
		Inputs: withRegistry(
			actionio.Input{Name: "to", Required: true, Usage: "the artifact to roll back to: a version (0.4.2 or 0.4.2-rc.3), a commit sha (full or short) or a digest sha256:…"},
			actionio.Input{Name: "reason", Required: true, Usage: "why, recorded in the hold"},
			actorInput,
			actionio.Input{Name: "force", Bool: true, Usage: "roll back to an artifact that was never validated"},
			step.DryRunInput,
		),
	}
	holdSetCommand = actionio.Command{
		Name:    name + " hold set",
		Summary: "hold automatic promotion (a freeze): tag-validated and dispatch-receiver answer held until it is released",
		Inputs: withRegistry(
			actionio.Input{Name: "reason", Required: true, Usage: "why, recorded in the hold"},
			actorInput, step.DryRunInput,
		),
	}
	holdReleaseCommand = actionio.Command{
		Name:    name + " hold release",
		Summary: "release the hold: the next validated candidate newer than live is promoted again",
		Inputs: withRegistry(
			actionio.Input{Name: "reason", Default: "released", Usage: "why, recorded in the release"},
			actorInput, step.DryRunInput,
		),
	}
	pruneCommand = actionio.Command{
		Name:    name + " prune",
		Summary: "remove the artifacts of old release candidates (and with prune_stable, stable versions beyond the newest N)",
		Inputs: withRegistry(
			actionio.Input{Name: "keep_stable", Required: true, Usage: "keep the newest N stable versions (at least 1)"},
			actionio.Input{Name: "keep_rc_days", Required: true, Usage: "keep every artifact created less than D days ago"},
			actionio.Input{Name: "prune_stable", Bool: true, Usage: "also remove stable versions older than the newest keep_stable (by default stable versions are never removed)"},
			selectInput,
			actionio.Input{Name: "now", Usage: "RFC 3339 time to measure ages from (default: the current time)"},
			actionio.Input{Name: "delete_api", Default: prune.APIAuto, Usage: "how to delete: oci (DELETE /v2/<name>/manifests/<digest>), github (GitHub Packages API) or auto (github for ghcr.io, else oci)"},
			actionio.Input{Name: "github_api_url", ContextEnv: "GITHUB_API_URL", Default: "https://api.github.com/", Usage: "GitHub API for delete_api github"},
			actionio.Input{Name: "github_token", ContextEnv: "GITHUB_TOKEN", Secret: true, Usage: "token for the GitHub Packages API (read:packages, delete:packages)"},
			step.DryRunInput,
		),
	}
)

const usage = `ocipromote: operate the promotion pipeline of one artifact repository

Usage:
  ocipromote status       --repository R [--select NAME=CONSTRAINT]... [--format text|markdown] [--json]
  ocipromote rollback     --repository R --to VERSION|SHA|DIGEST --reason TEXT [--force] [--dry-run]
  ocipromote hold set     --repository R --reason TEXT [--dry-run]
  ocipromote hold release --repository R [--reason TEXT] [--dry-run]
  ocipromote prune        --repository R --keep-stable N --keep-rc-days D [--prune-stable] [--dry-run]

Run "ocipromote COMMAND --help" for a command's inputs.
`

func run(ctx context.Context, a *githubactions.Action, args []string, stdout, stderr io.Writer, env step.Env) error {
	if len(args) == 0 {
		return actionio.Usagef("no command given; run %s --help", name)
	}
	switch cmd, rest := args[0], args[1:]; cmd {
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return actionio.ErrHelp
	case "status":
		return runStatus(ctx, a, rest, stdout, stderr, env)
	case "rollback":
		return runRollback(ctx, a, rest, stdout, stderr, env)
	case "hold":
		if len(rest) == 0 || (rest[0] != "set" && rest[0] != "release") {
			return actionio.Usagef("hold takes set or release: %s hold set --reason TEXT, %s hold release", name, name)
		}
		return runHold(ctx, a, rest[0], rest[1:], stdout, stderr, env)
	case "prune":
		return runPrune(ctx, a, rest, stdout, stderr, env)
	default:
		return actionio.Usagef("unknown command %q; run %s --help", cmd, name)
	}
}

// joinRepeated lets a flag be given more than once: its values are joined by newlines, the form
// INPUT_<NAME> takes in a workflow.
func joinRepeated(args []string, flagName string) []string {
	var values, rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			rest = append(rest, args[i:]...)
			break
		}
		switch {
		case a == "--"+flagName || a == "-"+flagName:
			if i+1 < len(args) {
				values = append(values, args[i+1])
				i++
				continue
			}
		case strings.HasPrefix(a, "--"+flagName+"=") || strings.HasPrefix(a, "-"+flagName+"="):
			_, v, _ := strings.Cut(a, "=")
			values = append(values, v)
			continue
		}
		rest = append(rest, a)
	}
	if len(values) == 0 {
		return args
	}
	return append([]string{"--" + flagName, strings.Join(values, "\n")}, rest...)
}

func selectors(v *actionio.Values) ([]status.Selector, error) {
	s, err := status.ParseSelectors(v.Get("select"))
	if err != nil {
		return nil, actionio.Usagef("%v", err)
	}
	return s, nil
}

func runStatus(ctx context.Context, a *githubactions.Action, args []string, stdout, stderr io.Writer, env step.Env) error {
	v, err := actionio.Parse(statusCommand, a, joinRepeated(args, "select"), stdout)
	if err != nil {
		return err
	}
	sel, err := selectors(v)
	if err != nil {
		return err
	}
	format := v.Get("format")
	if format != "text" && format != "markdown" {
		return actionio.Usagef("format must be text or markdown, got %q (--json prints JSON)", format)
	}
	limit, err := v.Int("limit")
	if err != nil {
		return err
	}
	if limit < 0 {
		return actionio.Usagef("limit must be 0 (every artifact) or a positive number of artifacts, got %d", limit)
	}
	reg, err := step.Open(a, v, env)
	if err != nil {
		return err
	}
	r, err := status.Gather(ctx, reg, sel)
	if err != nil {
		return err
	}
	r.Limit(limit)
	actionio.Summary(a, r.Markdown())
	switch {
	case v.JSON:
		err = encodeJSON(stdout, r)
	case format == "markdown":
		_, err = io.WriteString(stdout, r.Markdown())
	default:
		err = r.Text(stdout)
	}
	if err != nil {
		return err
	}
	outs := actionio.Outputs{{Name: "hold", Value: onOff(r.Hold.Held())}}
	for _, s := range r.Selections {
		key := outputKey(s.Name)
		outs = append(outs, actionio.Output{Name: key + "_tag", Value: s.Tag}, actionio.Output{Name: key + "_digest", Value: s.Digest}, actionio.Output{Name: key + "_sha", Value: s.Short})
	}
	// stdout carries the report itself; the outputs go to GITHUB_OUTPUT.
	return actionio.Report(a, io.Discard, stderr, false, "status: "+r.Headline(), outs)
}

var nonKey = regexp.MustCompile(`[^a-z0-9]+`)

// outputKey turns a selection name into an output name: lower case, underscores.
func outputKey(s string) string {
	return strings.Trim(nonKey.ReplaceAllString(strings.ToLower(s), "_"), "_")
}

func onOff(b bool) string {
	if b {
		return hold.On
	}
	return hold.Off
}

func encodeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// record is the hold record this run writes: who, when, why.
func record(a *githubactions.Action, v *actionio.Values) (hold.Record, error) {
	actor := v.Get("actor")
	if actor == "" {
		actor = a.Getenv("USER")
	}
	if actor == "" {
		return hold.Record{}, actionio.Usagef("say who you are with --actor (or INPUT_ACTOR); it is recorded in the hold")
	}
	rec := hold.Record{Reason: v.Get("reason"), Actor: actor, Time: time.Now().UTC()}
	if err := rec.Check(); err != nil {
		return hold.Record{}, actionio.Usagef("%v", err)
	}
	return rec, nil
}

func runRollback(ctx context.Context, a *githubactions.Action, args []string, stdout, stderr io.Writer, env step.Env) error {
	v, err := actionio.Parse(rollbackCommand, a, args, stdout)
	if err != nil {
		return err
	}
	if err := hold.CheckTo(v.Get("to")); err != nil {
		return actionio.Usagef("to: %v", err)
	}
	rec, err := record(a, v)
	if err != nil {
		return err
	}
	reg, err := step.Open(a, v, env)
	if err != nil {
		return err
	}
	res, err := hold.Rollback(ctx, reg, hold.RollbackInput{To: v.Get("to"), Record: rec, Force: v.Bool("force"), DryRun: v.Bool("dry_run"), Log: step.Logger(stderr)})
	if err != nil {
		return err
	}
	outs := actionio.Outputs{
		{Name: "version", Value: res.Version},
		{Name: "digest", Value: res.Digest},
		{Name: "sha", Value: res.Sha},
		{Name: "rc", Value: res.RC},
		{Name: "validated", Value: strconv.FormatBool(res.Validated)},
		{Name: "hold", Value: res.Hold.Tag},
		{Name: "writes", Value: strings.Join(res.Writes, ",")},
		{Name: "changed", Value: strconv.FormatBool(res.Changed() && !res.DryRun)},
	}
	heading := "rollback: " + res.Detail
	if res.DryRun {
		heading = "rollback (dry run): would write " + strings.Join(res.Writes, ", ") + "; " + res.Detail
	}
	return actionio.Report(a, stdout, stderr, v.JSON, heading, outs)
}

func runHold(ctx context.Context, a *githubactions.Action, verb string, args []string, stdout, stderr io.Writer, env step.Env) error {
	cmd := holdSetCommand
	if verb == "release" {
		cmd = holdReleaseCommand
	}
	v, err := actionio.Parse(cmd, a, args, stdout)
	if err != nil {
		return err
	}
	rec, err := record(a, v)
	if err != nil {
		return err
	}
	reg, err := step.Open(a, v, env)
	if err != nil {
		return err
	}
	list, err := reg.Tags(ctx)
	if err != nil {
		return err
	}
	change := hold.Set
	if verb == "release" {
		change = hold.Release
	}
	ch, err := change(ctx, reg, list, rec, v.Bool("dry_run"))
	if err != nil {
		return err
	}
	outs := actionio.Outputs{
		{Name: "hold", Value: onOff(ch.State.Held())},
		{Name: "tag", Value: ch.State.Tag},
		{Name: "changed", Value: strconv.FormatBool(ch.Wrote && !v.Bool("dry_run"))},
		{Name: "reason", Value: ch.State.Reason},
	}
	heading := "hold " + verb + ": " + ch.State.Describe()
	switch {
	case v.Bool("dry_run") && ch.Wrote:
		heading = "hold " + verb + " (dry run): would write " + ch.State.Tag
	case !ch.Wrote:
		heading = "hold " + verb + ": nothing to do, " + ch.State.Describe()
	}
	return actionio.Report(a, stdout, stderr, v.JSON, heading, outs)
}

func runPrune(ctx context.Context, a *githubactions.Action, args []string, stdout, stderr io.Writer, env step.Env) error {
	v, err := actionio.Parse(pruneCommand, a, joinRepeated(args, "select"), stdout)
	if err != nil {
		return err
	}
	o := prune.Options{DryRun: v.Bool("dry_run"), Log: step.Logger(stderr), Rules: prune.Rules{PruneStable: v.Bool("prune_stable"), Now: time.Now().UTC()}}
	if o.KeepStable, err = v.Int("keep_stable"); err != nil {
		return err
	}
	if o.KeepRCDays, err = v.Int("keep_rc_days"); err != nil {
		return err
	}
	if s := v.Get("now"); s != "" {
		if o.Now, err = time.Parse(time.RFC3339, s); err != nil {
			return actionio.Usagef("now %q is not an RFC 3339 time such as 2026-08-01T10:00:00Z", s)
		}
	}
	if err := o.Rules.Validate(); err != nil {
		return actionio.Usagef("%v", err)
	}
	if o.Selectors, err = selectors(v); err != nil {
		return err
	}
	reg, err := step.Open(a, v, env)
	if err != nil {
		return err
	}
	del, err := prune.NewDeleter(v.Get("repository"), prune.DeleterOptions{API: v.Get("delete_api"), Username: v.Get("username"), Password: v.Get("password"), Insecure: v.Bool("insecure"),
		GitHubAPIURL: v.Get("github_api_url"), GitHubToken: v.Get("github_token"), Transport: env.Transport})
	if err != nil {
		return actionio.Usagef("%v", err)
	}
	res, err := prune.Run(ctx, reg, del, o)
	if err != nil {
		return err
	}
	actionio.Summary(a, res.Markdown())
	if v.JSON {
		err = encodeJSON(stdout, res)
	} else {
		err = res.Text(stdout)
	}
	if err != nil {
		return err
	}
	outs := actionio.Outputs{
		{Name: "deleted", Value: strconv.Itoa(len(res.Deleted))},
		{Name: "deleted_tags", Value: strings.Join(res.DeletedTags(), ",")},
		{Name: "skipped", Value: strconv.Itoa(len(res.Skipped))},
	}
	// stdout carries the result itself; the outputs go to GITHUB_OUTPUT.
	return actionio.Report(a, io.Discard, stderr, false, "prune: "+res.Summary(), outs)
}

func main() { os.Exit(step.Main(name, run, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)) }
