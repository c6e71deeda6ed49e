// Command sign-bundle signs one manifest digest keyless, as `cosign sign` v3 does: a Fulcio
// certificate for the job's OIDC identity, a Rekor entry, and a Sigstore bundle v0.3 attached as
// a referrer. It writes nothing when a valid signature of the same signer is already attached.
// build-rc runs it (input sign): it is a binary of its own so that build-rc does not link
// sigstore-go and starts as fast as the other steps.
package main

import (
	"context"
	"io"
	"os"
	"slices"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/sethvargo/go-githubactions"

	"github.com/ocipromote/ocipromote/pkg/actionio"
	"github.com/ocipromote/ocipromote/pkg/ref"
	"github.com/ocipromote/ocipromote/pkg/sign"
	"github.com/ocipromote/ocipromote/pkg/sign/bundleverify"
	"github.com/ocipromote/ocipromote/pkg/sign/keyless"
	"github.com/ocipromote/ocipromote/pkg/sign/signexec"
	"github.com/ocipromote/ocipromote/pkg/step"
)

var command = actionio.Command{
	Name:    "sign-bundle",
	Summary: "sign a manifest digest keyless (Fulcio, Rekor) and attach the Sigstore bundle as a referrer, as cosign sign v3 does",
	Inputs: slices.Concat([]actionio.Input{
		step.RepositoryInput,
		{Name: "digest", Required: true, Usage: "manifest digest sha256:... to sign"},
	}, signexec.Inputs, step.CredentialInputs),
}

func outputs(r keyless.SignResult) actionio.Outputs {
	signer := ""
	if r.Signer != nil {
		signer = r.Signer.Identity
	}
	return actionio.Outputs{
		actionio.Bool("signed", r.Signer != nil),
		actionio.Bool("written", r.Written),
		{Name: "referrer", Value: r.Referrer},
		{Name: "signer", Value: signer},
	}
}

func run(ctx context.Context, a *githubactions.Action, args []string, stdout, stderr io.Writer, env step.Env) error {
	v, err := actionio.Parse(command, a, args, stdout)
	if err != nil {
		return err
	}
	d := v.Get("digest")
	if h, err := v1.NewHash(d); err != nil || h.Algorithm != "sha256" {
		return actionio.Usagef("input digest %s is not a manifest digest sha256:<64 hex>", ref.Quote(d))
	}
	token, err := identityToken(ctx, a, v)
	if err != nil {
		return err
	}
	v.Mask(a, token)
	if _, err := sign.ParseClaims(token); err != nil {
		return actionio.Usagef("%v", err)
	}
	trusted, err := bundleverify.TrustedRoot(v.Get("trusted_root"))
	if err != nil {
		return err
	}
	reg, err := step.Open(a, v, env)
	if err != nil {
		return err
	}
	repo, opts := reg.Remote()
	k := &keyless.Keyless{FulcioURL: v.Get("fulcio_url"), RekorURL: v.Get("rekor_url"), Token: token, Trusted: trusted, Transport: env.Transport, Log: step.Logger(stderr)}
	res, err := k.Sign(ctx, repo.Digest(d), opts...)
	if err != nil {
		return err
	}
	heading := "sign-bundle: signed " + d + " as " + res.Signer.Identity
	if !res.Written {
		heading = "sign-bundle: " + d + " was already signed by " + res.Signer.Identity + "; nothing written"
	}
	return actionio.Report(a, stdout, stderr, v.JSON, heading, outputs(res))
}

// identityToken is the identity_token_file's token, else GitHub Actions'.
func identityToken(ctx context.Context, a *githubactions.Action, v *actionio.Values) (string, error) {
	if f := v.Get("identity_token_file"); f != "" {
		tok, err := sign.ReadToken(f)
		if err != nil {
			return "", actionio.Usagef("input identity_token_file: %v", err)
		}
		return tok, nil
	}
	reqToken := a.Getenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN")
	v.Mask(a, reqToken)
	return sign.GitHubToken(ctx, nil, a.Getenv("ACTIONS_ID_TOKEN_REQUEST_URL"), reqToken)
}

func main() { os.Exit(step.Main(command, run, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)) }
