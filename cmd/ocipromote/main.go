// Command ocipromote is the on-call tool for a repository the pipeline promotes in:
//
//	ocipromote status   --repository R [--select NAME=CONSTRAINT]...   where each commit is, what each cluster selects
//	ocipromote rollback --repository R [--to VERSION|SHA|DIGEST] --reason TEXT [--stage S]   put live (or a stage) back, and hold promotion
//	ocipromote hold set|release|show --repository R --reason TEXT [--stage S]   stop, resume or show automatic promotion
//	ocipromote prune    --repository R --keep-stable N --keep-rc-days D [--dry-run]   remove old artifacts
//	ocipromote stages   [--stages dev,preprod,prod] [--format text|yaml]   each stage's tags and Flux selection
//
// Inputs follow the other binaries: a flag, else INPUT_<NAME>, else the GitHub context; --json
// prints the result as JSON.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/sethvargo/go-githubactions"

	"github.com/ocipromote/ocipromote/pkg/actionio"
	"github.com/ocipromote/ocipromote/pkg/hold"
	"github.com/ocipromote/ocipromote/pkg/prune"
	"github.com/ocipromote/ocipromote/pkg/records"
	"github.com/ocipromote/ocipromote/pkg/sign"
	"github.com/ocipromote/ocipromote/pkg/stage"
	"github.com/ocipromote/ocipromote/pkg/status"
	"github.com/ocipromote/ocipromote/pkg/step"
)

const name = "ocipromote"

var selectInput = actionio.Input{Name: "select", List: true,
	Usage: "a Flux OCIRepository selection NAME=CONSTRAINT or NAME=CONSTRAINT;SEMVER_FILTER; default integration=>= 0.0.0-0;.*-rc.* and live=>= 0.0.0, as the example clusters select"}

var actorInput = actionio.Input{Name: "actor", ContextEnv: "GITHUB_ACTOR", Usage: "who does this, recorded in the hold (default $GITHUB_ACTOR, then $USER, $LOGNAME, the user the process runs as)"}

func withRegistry(inputs ...actionio.Input) []actionio.Input {
	return append(append([]actionio.Input{step.RepositoryInput}, inputs...), step.CredentialInputs...)
}

var (
	statusCommand = actionio.Command{
		Name:    name + " status",
		Summary: "show each commit artifact (newest first), what each cluster's semver constraint selects now, and the hold; for a chain of stages, every stage with the candidates pending for it and the gates that hold them",
		Inputs: append(withRegistry(selectInput,
			actionio.Input{Name: "format", Default: "text", Usage: "text (a terminal) or markdown (a job summary); --json prints JSON"},
			actionio.Input{Name: "limit", Default: "0", Usage: "show only the newest N artifacts (0: all)"},
			step.StagesInput, step.WindowsInput, step.SoakInput,
			actionio.Input{Name: "now", Usage: "RFC 3339 time to weigh the gates at (default: the current time)"},
		), sign.StatusInputs...),
	}
	rollbackCommand = actionio.Command{
		Name:    name + " rollback",
		Summary: "give a validated artifact the next stable patch above the highest, so live selects it, and hold automatic promotion; with stage, roll back any stage of a chain and hold promotions into it",
		Inputs: append(withRegistry(
			actionio.Input{Name: "to", Usage: "the artifact to roll back to: a version (0.4.2 or 0.4.2-rc.3), a commit sha (full or short) or a digest sha256:…; default: the previous version in the stage (while a rollback's hold is on the stage, that rollback's artifact)"},
			actionio.Input{Name: "stage", Usage: "the stage to roll back (default: the last of stages, live by default); its hold is set"},
			step.StagesInput,
			actionio.Input{Name: "reason", Required: true, Usage: "why, recorded in the hold"},
			actorInput,
			actionio.Input{Name: "force", Bool: true, Usage: "roll back to an artifact that was never validated"},
			step.SettleInput, step.DryRunInput,
		), slices.Concat(records.RollbackInputs, sign.VerifyInputs)...),
	}
	holdCommand = actionio.Command{
		Name:    name + " hold",
		Summary: "set, release or show the hold on automatic promotion (a freeze): while it is on, tag-validated and dispatch-receiver answer held",
		Inputs: withRegistry(
			actionio.Input{Name: "command", Usage: "set, release or show (on the command line, the word after hold: ocipromote hold set)"},
			actionio.Input{Name: "reason", Usage: "why, recorded in the hold (required by set; release records \"released\" without it); a hold set while one is on keeps both reasons"},
			actorInput,
			actionio.Input{Name: "stage", Usage: "the stage whose hold to set, release or show: a hold on a stage defers promotions into it (default: the last of stages, live by default, whose hold is hold-<n>)"},
			step.StagesInput,
			step.SettleInput, step.DryRunInput,
		),
	}
	pruneCommand = actionio.Command{
		Name:    name + " prune",
		Summary: "remove the artifacts of old release candidates (and with --prune-stable, stable versions beyond the newest N)",
		Inputs: withRegistry(
			actionio.Input{Name: "keep_stable", Required: true, Usage: "keep the newest N stable versions (at least 1)"},
			actionio.Input{Name: "keep_rc_days", Required: true, Usage: "keep every artifact created less than D days ago"},
			actionio.Input{Name: "prune_stable", Bool: true, Usage: "also remove stable versions older than the newest keep_stable (by default stable versions are never removed)"},
			selectInput,
			step.StagesInput,
			actionio.Input{Name: "now", Usage: "RFC 3339 time to measure ages from (default: the current time)"},
			actionio.Input{Name: "delete_api", Default: prune.APIAuto, Usage: "how to delete: oci (DELETE /v2/<name>/manifests/<digest>), github (GitHub Packages API) or auto (github for ghcr.io, GitHub Enterprise Server's containers.HOST and containers.*.ghe.com, else oci)"},
			actionio.Input{Name: "github_api_url", ContextEnv: "GITHUB_API_URL", Default: "https://api.github.com/", Usage: "GitHub API for delete_api github"},
			actionio.Input{Name: "github_token", ContextEnv: "GITHUB_TOKEN", Secret: true, Usage: "token for the GitHub Packages API: a workflow token needs packages: write and the repository's Admin role on the package; a classic personal token read:packages and delete:packages"},
			actionio.Input{Name: "max_deletions", Default: "100", Usage: "delete at most N artifacts per run, the rest on the next run (0: no cap); keeps a run under GitHub's secondary rate limit"},
			records.PacingInputs[0],
			step.DryRunInput,
		),
	}
	stagesCommand = actionio.Command{
		Name:    name + " stages",
		Summary: "print each stage's tags, marker and Flux OCIRepository selection (semver, semverFilter), and check the stages, windows and soak inputs; reads no registry",
		Inputs: []actionio.Input{
			step.StagesInput, step.WindowsInput, step.SoakInput,
			{Name: "tag_prefix", Usage: "prefix of version tags: empty or v (as build-rc's)"},
			{Name: "format", Default: "text", Usage: "text (a table) or yaml (each stage's OCIRepository spec.ref); --json prints JSON"},
		},
	}
)

// binary declares ocipromote with the inputs of all its commands, for step.Main.
var binary = actionio.Command{Name: name, Inputs: slices.Concat(statusCommand.Inputs, rollbackCommand.Inputs, holdCommand.Inputs, pruneCommand.Inputs, stagesCommand.Inputs)}

const usage = `ocipromote: operate the promotion pipeline of one artifact repository

Usage:
  ocipromote status       --repository R [--select NAME=CONSTRAINT]... [--stages dev,preprod,prod] [--format text|markdown] [--json]
  ocipromote rollback     --repository R [--to VERSION|SHA|DIGEST] --reason TEXT [--stage S --stages dev,preprod,prod] [--force] [--dry-run]
  ocipromote hold set     --repository R --reason TEXT [--stage S] [--dry-run]
  ocipromote hold release --repository R [--reason TEXT] [--stage S] [--dry-run]
  ocipromote hold show    --repository R [--stage S]
  ocipromote prune        --repository R --keep-stable N --keep-rc-days D [--stages dev,preprod,prod] [--prune-stable] [--dry-run]
  ocipromote stages       [--stages dev,preprod,prod] [--windows STAGE=WINDOW]... [--soak STAGE=DURATION]... [--format text|yaml] [--json]

Run "ocipromote COMMAND --help" for a command's inputs.
`

func run(ctx context.Context, a *githubactions.Action, args []string, stdout, stderr io.Writer, env step.Env) error {
	if len(args) == 0 {
		return actionio.Usagef("no command given; run %s --help", name)
	}
	switch cmd, rest := args[0], args[1:]; cmd {
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage+"\n"+actionio.ExitStatusHelp+"\n")
		return actionio.ErrHelp
	case "-version", "--version", "version":
		fmt.Fprintf(stdout, "%s %s\n", name, actionio.Version())
		return actionio.ErrHelp
	case "status":
		return runStatus(ctx, a, rest, stdout, stderr, env)
	case "rollback":
		return runRollback(ctx, a, rest, stdout, stderr, env)
	case "hold":
		return runHold(ctx, a, rest, stdout, stderr, env)
	case "prune":
		return runPrune(ctx, a, rest, stdout, stderr, env)
	case "stages":
		return runStages(a, rest, stdout, stderr)
	default:
		return actionio.Usagef("unknown command %q; run %s --help", cmd, name)
	}
}

func selectors(v *actionio.Values) ([]status.Selector, error) {
	s, err := status.ParseSelectors(v.Get("select"))
	if err != nil {
		return nil, actionio.Usagef("%v", err)
	}
	return s, nil
}

func runStatus(ctx context.Context, a *githubactions.Action, args []string, stdout, stderr io.Writer, env step.Env) error {
	v, err := actionio.Parse(statusCommand, a, args, stdout)
	if err != nil {
		return err
	}
	sel, err := selectors(v)
	if err != nil {
		return err
	}
	format := v.Get("format")
	if format != "text" && format != "markdown" {
		return actionio.Usagef("input format must be text or markdown, got %q (--json prints JSON)", format)
	}
	limit, err := v.Int("limit")
	if err != nil {
		return err
	}
	if limit < 0 {
		return actionio.Usagef("input limit must be 0 (every artifact) or a positive number of artifacts, got %d", limit)
	}
	chain, err := chainOf(v)
	if err != nil {
		return err
	}
	if chain.Now, err = now(v); err != nil {
		return err
	}
	// The default chain without gates is reported as it always was; any other with its stages.
	staged := !chain.Stages.IsDefault() || len(chain.Windows) > 0 || len(chain.Soaks) > 0
	if staged && v.Get("select") == "" {
		sel = status.ChainSelectors(chain.Stages)
	}
	reg, err := step.Open(a, v, env)
	if err != nil {
		return err
	}
	signers, err := sign.SignersFromInputs(v, reg, a.Getenv("PATH"))
	if err != nil {
		return err
	}
	var r status.Report
	if staged {
		r, err = status.GatherChain(ctx, reg, sel, chain)
	} else {
		r, err = status.Gather(ctx, reg, sel)
	}
	if err != nil {
		return err
	}
	r.Limit(limit)
	if signers != nil {
		// After Limit: only the artifacts shown are checked, in one verify-bundles run.
		if err := r.CheckSignatures(ctx, signers); err != nil {
			return err
		}
	}
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
	// selections holds every selection in one output, so that a workflow reads any chain's stage
	// (fromJSON(...).prod.tag) though an action declares its outputs by name in advance.
	type picked struct {
		Tag    string `json:"tag"`
		Digest string `json:"digest"`
		Sha    string `json:"sha"`
	}
	selections := make(map[string]picked, len(r.Selections))
	outs := actionio.Outputs{{Name: "hold", Value: onOff(r.Hold.Held())}}
	for _, s := range r.Selections {
		key := outputKey(s.Name)
		outs = append(outs, actionio.Output{Name: key + "_tag", Value: s.Tag}, actionio.Output{Name: key + "_digest", Value: s.Digest}, actionio.Output{Name: key + "_sha", Value: s.Short})
		selections[s.Name] = picked{s.Tag, s.Digest, s.Short}
	}
	raw, err := json.Marshal(selections)
	if err != nil {
		return err
	}
	outs = append(outs, actionio.Output{Name: "selections", Value: string(raw)})
	// stdout carries the report itself; the outputs go to GITHUB_OUTPUT.
	return actionio.Report(a, io.Discard, stderr, false, "status: "+r.Headline(), outs)
}

// stageOf reads the stages input and the stage input of rollback and hold (default: the chain's
// last stage), with that stage's hold.
func stageOf(v *actionio.Values) (stage.Chain, string, hold.Stage, error) {
	chain, err := step.Chain(v)
	if err != nil {
		return stage.Chain{}, "", "", err
	}
	name := v.Get("stage")
	if name == "" {
		name = chain.Last()
	}
	held, err := hold.StageOf(chain, name)
	if err != nil {
		return stage.Chain{}, "", "", actionio.Usagef("stage: %v", err)
	}
	return chain, name, held, nil
}

// chainOf reads the stages, windows and soak inputs.
func chainOf(v *actionio.Values) (status.Chain, error) {
	c, err := step.Chain(v)
	if err != nil {
		return status.Chain{}, err
	}
	windows, soaks, err := step.Gates(v, c)
	if err != nil {
		return status.Chain{}, err
	}
	return status.Chain{Stages: c, Windows: windows, Soaks: soaks}, nil
}

// now reads the now input: the current time when it is not given.
func now(v *actionio.Values) (time.Time, error) {
	s := v.Get("now")
	if s == "" {
		return time.Now().UTC(), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, actionio.Usagef("input now %q is not an RFC 3339 time such as 2026-08-01T10:00:00Z", s)
	}
	return t, nil
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
func record(a *githubactions.Action, v *actionio.Values, env step.Env, reason string) (hold.Record, error) {
	// Many containers set neither USER nor LOGNAME; the user database still names the user.
	actor := v.Get("actor")
	for _, name := range []string{"USER", "LOGNAME"} {
		if actor == "" {
			actor = a.Getenv(name)
		}
	}
	if actor == "" && env.User != nil {
		actor = env.User()
	}
	if actor == "" {
		return hold.Record{}, actionio.Usagef("say who you are with input actor; it is recorded in the hold")
	}
	rec := hold.Record{Reason: reason, Actor: actor, Time: time.Now().UTC()}
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
	if to := v.Get("to"); to != "" {
		if err := hold.CheckTo(to); err != nil {
			return actionio.Usagef("input to: %v", err)
		}
	}
	chain, stageName, _, err := stageOf(v)
	if err != nil {
		return err
	}
	rec, err := record(a, v, env, v.Get("reason"))
	if err != nil {
		return err
	}
	settle, err := step.Settle(v)
	if err != nil {
		return err
	}
	reg, err := step.Open(a, v, env)
	if err != nil {
		return err
	}
	gh, err := records.FromInputs(a, v, env.Transport)
	if err != nil {
		return err
	}
	log := step.Logger(stderr)
	// The artifact put live is checked as tag-validated checks a candidate: a rollback must not
	// be the way round signature verification.
	verify, err := sign.FromInputs(v, reg, a.Getenv("PATH"), log)
	if err != nil {
		return err
	}
	res, err := hold.Rollback(ctx, reg, hold.RollbackInput{To: v.Get("to"), Chain: chain, Stage: stageName, Record: rec, Force: v.Bool("force"), DryRun: v.Bool("dry_run"), Settle: settle, Log: log, Verify: verify})
	if refused := (*sign.RefusedError)(nil); errors.As(err, &refused) {
		return fmt.Errorf("rollback refused (%s): %w", refused.Verdict.Outcome, err)
	}
	if err != nil {
		return err
	}
	if !res.DryRun && res.Version != "" {
		// The stage's deployment on GitHub follows the rollback (a warning when it cannot).
		gh.RolledBack(ctx, stageName, records.Offer{Sha: res.Sha, Version: res.Version, Digest: res.Digest, OCIRepository: reg.Name()}).Publish(a, stderr, binary)
	}
	outs := actionio.Outputs{
		{Name: "version", Value: res.Version},
		{Name: "digest", Value: res.Digest},
		{Name: "sha", Value: res.Sha},
		{Name: "candidate_version", Value: res.RC},
		// Deprecated: the same as candidate_version, kept for workflows that read it.
		{Name: "rc", Value: res.RC},
		actionio.Bool("validated", res.Validated),
		{Name: "hold", Value: res.Hold.Tag},
		{Name: "stage", Value: res.Stage},
		actionio.List("writes", res.Writes),
		actionio.Bool("changed", res.Changed() && !res.DryRun),
	}
	heading := "rollback: " + res.Detail
	if res.DryRun {
		heading = "rollback (dry run): would write " + strings.Join(res.Writes, ", ") + "; " + res.Detail
	}
	return actionio.Report(a, stdout, stderr, v.JSON, heading, outs)
}

func isHelp(arg string) bool {
	return arg == "-h" || arg == "-help" || arg == "--help"
}

// holdVerbs are the hold commands, in the order the usage lists them.
var holdVerbs = []string{"set", "release", "show"}

func runHold(ctx context.Context, a *githubactions.Action, args []string, stdout, stderr io.Writer, env step.Env) error {
	// The verb is the first argument on a command line, or the command input in a workflow.
	if len(args) > 0 && slices.Contains(holdVerbs, args[0]) {
		args = append([]string{"--command", args[0]}, args[1:]...)
	}
	badVerb := func(verb string) error {
		return actionio.Usagef("hold takes set, release or show, got %q: %s hold set --reason TEXT, %s hold release, %s hold show (in a workflow: the command input)", verb, name, name, name)
	}
	// A missing verb is the first thing to say, before any missing input.
	if !slices.ContainsFunc(args, isHelp) && !slices.Contains(args, "--command") && !slices.Contains(holdVerbs, a.GetInput("command")) {
		verb := a.GetInput("command")
		if verb == "" && len(args) > 0 && !strings.HasPrefix(args[0], "-") {
			verb = args[0]
		}
		return badVerb(verb)
	}
	v, err := actionio.Parse(holdCommand, a, args, stdout)
	if err != nil {
		return err
	}
	verb := v.Get("command")
	if !slices.Contains(holdVerbs, verb) {
		return badVerb(verb)
	}
	// Inputs are checked before the registry is contacted.
	_, stageName, held, err := stageOf(v)
	if err != nil {
		return err
	}
	var rec hold.Record
	if verb != "show" {
		reason := v.Get("reason")
		switch {
		case verb == "set" && reason == "":
			return actionio.Usagef("hold set needs a reason: pass input reason; it is recorded in the hold")
		case verb == "release" && reason == "":
			reason = "released"
		}
		if rec, err = record(a, v, env, reason); err != nil {
			return err
		}
	}
	settle, err := step.Settle(v)
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
	var ch hold.Change
	switch verb {
	case "show":
		ch.State, err = held.Read(ctx, reg, list)
	case "set":
		ch, err = held.Set(ctx, reg, list, rec, hold.Options{DryRun: v.Bool("dry_run"), Settle: settle})
	case "release":
		ch, err = held.Release(ctx, reg, list, rec, hold.Options{DryRun: v.Bool("dry_run"), Settle: settle})
	}
	if err != nil {
		return err
	}
	outs := actionio.Outputs{
		{Name: "hold", Value: onOff(ch.State.Held())},
		{Name: "tag", Value: ch.State.Tag},
		actionio.Bool("changed", ch.Wrote && !v.Bool("dry_run")),
		{Name: "reason", Value: ch.State.Reason},
		{Name: "stage", Value: stageName},
	}
	// The last stage's hold is the hold, as it always was; another stage's is named.
	subject := "hold"
	if held != hold.Last {
		subject = "hold of stage " + stageName
	}
	heading := subject + " " + verb + ": " + ch.State.Describe()
	switch {
	case verb == "show":
		heading = subject + ": " + ch.State.Describe()
	case v.Bool("dry_run") && ch.Wrote:
		heading = subject + " " + verb + " (dry run): would write " + ch.State.Tag
	case !ch.Wrote:
		heading = subject + " " + verb + ": nothing to do, " + ch.State.Describe()
	}
	return actionio.Report(a, stdout, stderr, v.JSON, heading, outs)
}

func runPrune(ctx context.Context, a *githubactions.Action, args []string, stdout, stderr io.Writer, env step.Env) error {
	v, err := actionio.Parse(pruneCommand, a, args, stdout)
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
			return actionio.Usagef("input now %q is not an RFC 3339 time such as 2026-08-01T10:00:00Z", s)
		}
	}
	if err := o.Rules.Validate(); err != nil {
		return actionio.Usagef("%v", err)
	}
	if o.Selectors, err = selectors(v); err != nil {
		return err
	}
	chain, err := step.Chain(v)
	if err != nil {
		return err
	}
	if !chain.IsDefault() {
		// Every stage's pick and pending candidates stay; without select, the selections are the
		// stages' own.
		o.Chain = chain
		if v.Get("select") == "" {
			o.Selectors = status.ChainSelectors(chain)
		}
	}
	if o.MaxDeletions, err = v.Int("max_deletions"); err != nil {
		return err
	}
	if o.MaxDeletions < 0 {
		return actionio.Usagef("max_deletions must be 0 (no cap) or a positive number, got %d", o.MaxDeletions)
	}
	interval, err := time.ParseDuration(v.Get("github_write_interval"))
	if err != nil || interval < 0 {
		return actionio.Usagef("github_write_interval %q is not a duration such as 1s", v.Get("github_write_interval"))
	}
	reg, err := step.Open(a, v, env)
	if err != nil {
		return err
	}
	del, err := prune.NewDeleter(v.Get("repository"), prune.DeleterOptions{API: v.Get("delete_api"), Username: v.Get("username"), Password: v.Get("password"), Insecure: v.Bool("insecure"),
		GitHubAPIURL: v.Get("github_api_url"), GitHubToken: v.Get("github_token"), GitHubServerURL: a.Getenv("GITHUB_SERVER_URL"),
		WriteInterval: interval, Transport: env.Transport})
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
		actionio.Int("deleted", len(res.Deleted)),
		actionio.List("deleted_tags", res.DeletedTags()),
		actionio.Int("skipped", len(res.Skipped)),
		actionio.Int("left", len(res.Left)),
	}
	if res.Stopped != "" {
		if actionio.InActions(a) {
			a.Warningf("prune stopped: %s", res.Stopped)
		} else {
			fmt.Fprintln(stderr, "warning: prune stopped: "+binary.Speak(res.Stopped))
		}
	}
	// stdout carries the result itself; the outputs go to GITHUB_OUTPUT.
	return actionio.Report(a, io.Discard, stderr, false, "prune: "+res.Summary(), outs)
}

func runStages(a *githubactions.Action, args []string, stdout, stderr io.Writer) error {
	v, err := actionio.Parse(stagesCommand, a, args, stdout)
	if err != nil {
		return err
	}
	format := v.Get("format")
	if format != "text" && format != "yaml" {
		return actionio.Usagef("format must be text or yaml, got %q (--json prints JSON)", format)
	}
	chain, err := step.Chain(v)
	if err != nil {
		return err
	}
	windows, soaks, err := step.Gates(v, chain)
	if err != nil {
		return err
	}
	r, err := chain.Describe(v.Get("tag_prefix"), windows, soaks)
	if err != nil {
		return actionio.Usagef("tag_prefix: %v", err)
	}
	switch {
	case v.JSON:
		err = encodeJSON(stdout, r)
	case format == "yaml":
		err = r.YAML(stdout)
	default:
		err = r.Text(stdout)
	}
	if err != nil {
		return err
	}
	outs := actionio.Outputs{actionio.List("stages", chain.Names()), {Name: "first", Value: chain.First()}, {Name: "last", Value: chain.Last()}}
	// stdout carries the report itself; the outputs go to GITHUB_OUTPUT.
	return actionio.Report(a, io.Discard, stderr, false, "stages: "+r.Summary(), outs)
}

func main() { os.Exit(step.Main(binary, run, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)) }
