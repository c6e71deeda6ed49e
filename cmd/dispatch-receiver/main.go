// Command dispatch-receiver reads the GitHub event that started the promotion workflow (a Flux
// notification through repository_dispatch or a commit status, or a manual workflow_dispatch) and
// decides, without writing anything, whether it earned a promotion, saying why either way.
//
// Given the artifact repository, it also answers promote=false with a reason starting "held:"
// while an operator's hold is on. That only saves the workflow a step: tag-validated checks the
// hold itself, so the guard holds even when dispatch-receiver is not given the repository.
//
// With stages other than the default, the event's cluster names the stage it comes from, and the
// evidence is recorded first (package pass: a healthy event's pass, a failure event's failure);
// it then answers from (the stage) and to (the next), which tag-validated promotes into.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/sethvargo/go-githubactions"

	"github.com/ocipromote/ocipromote/pkg/actionio"
	"github.com/ocipromote/ocipromote/pkg/event"
	"github.com/ocipromote/ocipromote/pkg/hold"
	"github.com/ocipromote/ocipromote/pkg/pipeline"
	"github.com/ocipromote/ocipromote/pkg/ref"
	"github.com/ocipromote/ocipromote/pkg/step"
)

var command = actionio.Command{
	Name:    "dispatch-receiver",
	Summary: "decide whether the triggering event (repository_dispatch, status or workflow_dispatch) promotes a release candidate",
	Inputs: append([]actionio.Input{
		{Name: "event_name", ContextEnv: "GITHUB_EVENT_NAME", Usage: "event that triggered the workflow: repository_dispatch, status or workflow_dispatch"},
		{Name: "event_path", ContextEnv: "GITHUB_EVENT_PATH", Usage: "file holding the event payload"},
		{Name: "object", Usage: "repository_dispatch only: the Flux object whose events promote, Kind/name.namespace, e.g. Kustomization/platform.flux-system"},
		{Name: "cluster", Usage: "repository_dispatch only: promote only events whose metadata names this cluster (the Alert's eventMetadata)"},
		{Name: "cluster_key", Default: event.DefaultClusterKey, Usage: "repository_dispatch only: metadata key that names the cluster"},
		{Name: "success_pattern", Default: event.DefaultSuccessPattern, Usage: "repository_dispatch only: regular expression a success message matches"},
		{Name: "status_context", Default: event.DefaultStatusContext, Usage: "status only: prefix of the commit status context Flux's github provider posts"},
		repositoryInput,
		step.StagesInput,
		{Name: "actor", ContextEnv: "GITHUB_ACTOR", Usage: "who records a stage's evidence, with stages other than the default (default $GITHUB_ACTOR)"},
		step.SettleInput,
	}, step.CredentialInputs...),
}

// repositoryInput is optional here: without it the decision is the event's alone.
var repositoryInput = actionio.Input{Name: "repository",
	Usage: "OCI repository of the artifact; when given, an event that would promote is answered held while an operator's hold is on (tag-validated checks the hold either way)"}

func outputs(d event.Decision) actionio.Outputs {
	return actionio.Outputs{
		actionio.Bool("promote", d.Promote),
		{Name: "reason", Value: d.Reason},
		{Name: "revision", Value: d.Revision},
		{Name: "digest", Value: d.Digest},
		{Name: "sha", Value: d.Sha},
		{Name: "version", Value: d.Version},
		{Name: "cluster", Value: d.Cluster},
		{Name: "message", Value: d.Message},
		{Name: "time", Value: d.Time},
		{Name: "from", Value: d.Stage},
		{Name: "to", Value: d.Next},
	}
}

func run(ctx context.Context, a *githubactions.Action, args []string, stdout, stderr io.Writer, env step.Env) error {
	v, err := actionio.Parse(command, a, args, stdout)
	if err != nil {
		return err
	}
	// A repository is checked up front, so a mistake in it shows on the first run, not on the
	// first event that would promote.
	if repo := v.Get("repository"); repo != "" {
		if err := step.CheckRepository(a, repo); err != nil {
			return err
		}
	}
	chain, err := step.Chain(v)
	if err != nil {
		return err
	}
	settle, err := step.Settle(v)
	if err != nil {
		return err
	}
	name, path := v.Get("event_name"), v.Get("event_path")
	if name == "" || path == "" {
		return actionio.Usagef("event_name and event_path are required: run in GitHub Actions (GITHUB_EVENT_NAME, GITHUB_EVENT_PATH) or pass both")
	}
	payload, err := readBounded(path, event.MaxPayloadBytes)
	if err != nil {
		return err
	}
	criteria := event.Criteria{
		Object:         v.Get("object"),
		Cluster:        v.Get("cluster"),
		ClusterKey:     v.Get("cluster_key"),
		SuccessPattern: v.Get("success_pattern"),
		StatusContext:  v.Get("status_context"),
	}
	staged := !chain.IsDefault()
	if staged {
		if v.Get("repository") == "" {
			return actionio.Usagef("input repository is required with stages %s: the evidence each stage's events give is recorded there", chain)
		}
		criteria.Stages = &chain
	}
	d, err := event.Decide(name, payload, criteria)
	if errors.Is(err, event.ErrUsage) {
		return actionio.Usagef("%v", err)
	}
	if err != nil {
		return err
	}
	switch {
	case staged && name == event.Status:
		// A commit status names no cluster, so it cannot say which stage it comes from.
		d = event.Decision{Reason: "ignored: a commit status names no stage; with stages " + chain.String() + ", each stage's Alert sends its events through a githubdispatch Provider with eventMetadata cluster: <stage>"}
	case staged:
		reg, err := step.Open(a, v, env)
		if err != nil {
			return err
		}
		res, err := pipeline.RecordEvent(ctx, reg, pipeline.EventInput{Decision: d, Chain: chain, Actor: v.Get("actor"), Now: time.Now(), Settle: settle})
		if err != nil {
			return err
		}
		d = res.Decision
	case d.Promote:
		d.Stage, d.Next = chain.First(), chain.Last()
		if v.Get("repository") == "" {
			break
		}
		if d, err = checkHold(ctx, a, v, env, d); err != nil {
			return err
		}
	}
	return actionio.Report(a, stdout, stderr, v.JSON, "dispatch-receiver: "+d.Reason, outputs(d))
}

// checkHold turns a promote decision into promote=false, reason "held: …", while a hold is on.
// A hold that cannot be read is an error, never a promotion.
func checkHold(ctx context.Context, a *githubactions.Action, v *actionio.Values, env step.Env, d event.Decision) (event.Decision, error) {
	reg, err := step.Open(a, v, env)
	if err != nil {
		return d, err
	}
	h, err := hold.Current(ctx, reg)
	if err != nil {
		return d, fmt.Errorf("check the hold: %w", err)
	}
	if !h.Held() {
		return d, nil
	}
	return event.Decision{Reason: "held: " + h.Describe() + "; this event would otherwise " + d.Reason}, nil
}

// readBounded reads at most limit bytes of the event file and refuses a larger one.
func readBounded(path string, limit int64) ([]byte, error) {
	const fix = "event_path (GITHUB_EVENT_PATH) should be the event file GitHub wrote for this run"
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read the event payload: %w; %s", err, fix)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read the event payload %s: %w; %s", ref.Quote(path), err, fix)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("event payload %s is larger than %d bytes, so it is not an event GitHub sends: %s", ref.Quote(path), limit, fix)
	}
	return b, nil
}

func main() { os.Exit(step.Main(command, run, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)) }
