// Command tag-validated gives the release candidate integration validated its stable tag X.Y.Z,
// then validated-<s>. It promotes digests, never names, never moves a stable tag, and is safe to
// replay: duplicates and late events write nothing or repair a half-done run.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/sethvargo/go-githubactions"

	"github.com/ocipromote/ocipromote/pkg/actionio"
	"github.com/ocipromote/ocipromote/pkg/pipeline"
	"github.com/ocipromote/ocipromote/pkg/promote"
	"github.com/ocipromote/ocipromote/pkg/records"
	"github.com/ocipromote/ocipromote/pkg/sign"
	"github.com/ocipromote/ocipromote/pkg/step"
)

var command = actionio.Command{
	Name:    "tag-validated",
	Summary: "tag the release candidate integration validated as stable X.Y.Z, then validated-<s>",
	Inputs: slices.Concat([]actionio.Input{
		step.RepositoryInput,
		{Name: "revision", Usage: "Flux revision integration reconciled, TAG@sha256:DIGEST (preferred)"},
		{Name: "digest", Usage: "manifest digest sha256:... of the validated artifact"},
		{Name: "sha", Usage: "commit sha (full or short) of the validated artifact, found through integration-<s>"},
	}, stageInputs, step.CredentialInputs, []actionio.Input{step.SettleInput, step.DryRunInput}, records.PromoteInputs, sign.VerifyInputs),
}

// stageInputs say which stage to promote into and what gates it.
var stageInputs = []actionio.Input{
	step.StagesInput,
	{Name: "to", Usage: "the stage to promote into (default: the last of stages, live by default, whose tag is X.Y.Z); dispatch-receiver's output to"},
	{Name: "force", Bool: true, Usage: "promote through the soak, missing evidence, closed windows and over a stage the candidate has not passed (reported in forced and skipped); never through a hold"},
	step.WindowsInput,
	step.SoakInput,
	{Name: "pending", Bool: true, Usage: "name no candidate: promote into to the newest candidate of the stage before it that every rule and gate lets through (a scheduled run finishing deferred promotions); outputs weighed"},
}

func outputs(r pipeline.PromoteResult, weighed []pipeline.Weighed) actionio.Outputs {
	items := make([]string, len(weighed))
	for i, w := range weighed {
		items[i] = w.String()
	}
	return actionio.Outputs{
		actionio.Bool("promoted", r.Promoted),
		{Name: "reason", Value: r.Reason},
		{Name: "version", Value: r.Version},
		{Name: "digest", Value: r.Digest},
		{Name: "sha", Value: r.Sha},
		{Name: "from", Value: r.From},
		{Name: "to", Value: r.To},
		actionio.Bool("forced", r.Forced),
		actionio.List("skipped", r.Skipped),
		{Name: "gate", Value: r.Gate},
		{Name: "until", Value: until(r.Until)},
		actionio.List("weighed", items),
	}
}

// until is a deferral's time in RFC 3339, "" when it has none.
func until(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// stagePromotion reads the stage inputs; a mistake in them is a usage error.
func stagePromotion(v *actionio.Values) (pipeline.StagePromotion, error) {
	chain, err := step.Chain(v)
	if err != nil {
		return pipeline.StagePromotion{}, err
	}
	p := pipeline.StagePromotion{Chain: chain, To: v.Get("to"), Force: v.Bool("force")}
	if err := p.Check(); err != nil {
		return p, actionio.Usagef("to: %v", err)
	}
	if p.Windows, p.Soaks, err = step.Gates(v, chain); err != nil {
		return p, err
	}
	if len(p.Soaks) > 0 && chain.IsDefault() {
		return p, actionio.Usagef("soak counts from the pass records dispatch-receiver writes for a chain other than the default; name your stages (e.g. stages dev,preprod,prod) to soak in one")
	}
	return p, nil
}

func run(ctx context.Context, a *githubactions.Action, args []string, stdout, stderr io.Writer, env step.Env) error {
	v, err := actionio.Parse(command, a, args, stdout)
	if err != nil {
		return err
	}
	in := pipeline.PromoteInput{Revision: v.Get("revision"), Digest: v.Get("digest"), Sha: strings.ToLower(v.Get("sha")), DryRun: v.Bool("dry_run")}
	named := in.Revision != "" || in.Digest != "" || in.Sha != ""
	pending := v.Bool("pending")
	switch {
	case pending && named:
		return actionio.Usagef("input pending finds the candidates itself: give it without revision, digest or sha")
	case !pending && !named:
		return actionio.Usagef("name the validated artifact with input revision, input digest or input sha (or give pending to promote what waits)")
	}
	// The identifiers' form, and whether a revision and a digest agree, are known before anything
	// touches the registry: a mistake there is a usage error.
	if err := in.Validate(); named && err != nil {
		return actionio.Usagef("%v", err)
	}
	if in.Settle, err = step.Settle(v); err != nil {
		return err
	}
	if in.Stages, err = stagePromotion(v); err != nil {
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
	in.Log = step.Logger(stderr)
	if in.Verify, err = sign.FromInputs(v, reg, a.Getenv("PATH"), in.Log); err != nil {
		return err
	}
	var res pipeline.PromoteResult
	var weighed []pipeline.Weighed
	if pending {
		var p pipeline.PendingResult
		p, err = pipeline.PromotePending(ctx, reg, in)
		res, weighed = p.PromoteResult, p.Weighed
	} else {
		res, err = pipeline.TagValidated(ctx, reg, in)
	}
	if errors.Is(err, pipeline.ErrDisagree) {
		return actionio.Usagef("%v", err)
	}
	if refused := (*sign.RefusedError)(nil); errors.As(err, &refused) {
		outs := outputs(pipeline.PromoteResult{Reason: string(refused.Verdict.Outcome), Digest: res.Digest, Sha: res.Sha}, nil)
		if rerr := actionio.Report(a, stdout, stderr, v.JSON, "tag-validated: refused: "+string(refused.Verdict.Outcome), outs); rerr != nil {
			return rerr
		}
	}
	if err != nil {
		return err
	}
	outs := outputs(res, weighed)
	heading := fmt.Sprintf("tag-validated: %s (%s)", res.Reason, res.Detail)
	if res.DryRun {
		heading = "tag-validated (dry run): would write " + strings.Join(res.Writes, ", ") + "; " + res.Detail
	}
	if err := actionio.Report(a, stdout, stderr, v.JSON, heading, outs); err != nil {
		return err
	}
	// The GitHub records: the deployment of the stage promoted into, and the last stage's release.
	if slices.Contains([]string{promote.Deferred, promote.NothingPending, promote.Refused}, res.Reason) {
		return nil
	}
	validated := records.ValidationFrom(v.Get("validated_cluster"), v.Get("validated_message"), v.Get("validated_at"))
	if e := res.Evidence; validated == (records.Validation{}) && e != nil {
		// No event named (a pending run, or one by hand): the pass recorded in the stage left.
		validated = records.Validation{Cluster: e.Cluster, Message: e.Message, Time: e.Time}
	}
	gh.AfterPromote(ctx, reg, res, validated).Publish(a, stderr, command)
	return nil
}

func main() { os.Exit(step.Main(command, run, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)) }
