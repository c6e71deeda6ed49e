// Command build-rc pushes a directory of manifests as a Flux OCI artifact tagged X.Y.Z-rc.N,
// sha-<s> and integration-<s>. Run it on every merge to main; re-runs and concurrent runs are safe.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/sethvargo/go-githubactions"

	"github.com/ocipromote/ocipromote/pkg/actionio"
	"github.com/ocipromote/ocipromote/pkg/artifact"
	"github.com/ocipromote/ocipromote/pkg/git"
	"github.com/ocipromote/ocipromote/pkg/pipeline"
	"github.com/ocipromote/ocipromote/pkg/records"
	"github.com/ocipromote/ocipromote/pkg/ref"
	"github.com/ocipromote/ocipromote/pkg/sign/signexec"
	"github.com/ocipromote/ocipromote/pkg/step"
	"github.com/ocipromote/ocipromote/pkg/version"
)

var command = actionio.Command{
	Name:    "build-rc",
	Summary: "push the manifests directory as the next release candidate X.Y.Z-rc.N (with sha-<s> and integration-<s>)",
	Inputs: slices.Concat([]actionio.Input{
		step.RepositoryInput,
		{Name: "path", Default: ".", Usage: "directory of manifests to package"},
		{Name: "sha", ContextEnv: "GITHUB_SHA", Usage: "full commit sha the manifests come from (default $GITHUB_SHA, else HEAD of the checkout path is in)"},
		{Name: "ref", ContextEnv: "GITHUB_REF_NAME", Usage: "branch or tag name recorded in the revision annotation"},
		{Name: "source", Usage: "source repository URL for the source annotation (default $GITHUB_SERVER_URL/$GITHUB_REPOSITORY)"},
		{Name: "created", Usage: "creation time, RFC 3339 (default: the commit time of sha, read with git in path)"},
		{Name: "bump", Default: "patch", Usage: "part of the highest stable version to increment: patch, minor, major, or auto (from Conventional Commits since the highest stable; needs fetch-depth: 0)"},
		{Name: "version_line", Usage: "MAJOR.MINOR line to release on, e.g. 1.4 for a hotfix line (patch bumps only)"},
		{Name: "initial_version", Default: "0.0.0", Usage: "highest stable version to assume for an empty repository"},
		{Name: "tag_prefix", Usage: "prefix of version tags: empty or v"},
		{Name: "short_sha_length", Default: "7", Usage: "length of the short sha in sha-<s> and integration-<s> (4 to 40)"},
		{Name: "ignore", List: true, Usage: "gitignore-style patterns to leave out of the artifact, one per line (.git is always left out)"},
		{Name: "allow_dirty", Bool: true, Usage: "build from a checkout whose files under path differ from the commit (edited, new or git-ignored files), or whose HEAD is not sha (refused by default: the artifact of a commit is immutable)"},
		{Name: "allow_empty", Bool: true, Usage: "push an artifact with no file in it (refused by default: with prune: true, Flux would delete everything the Kustomization manages)"},
		step.StagesInput,
	}, step.CredentialInputs, []actionio.Input{step.SettleInput, step.DryRunInput}, records.BuildInputs, signInputs),
}

// signInputs sign the candidate keyless (docs/signing.md) with the sign-bundle binary, which
// holds the Sigstore code so that build-rc does not.
var signInputs = slices.Concat([]actionio.Input{
	{Name: "sign", Bool: true, Usage: "sign the candidate keyless before its release-candidate tag is written: a Sigstore bundle as cosign sign v3 writes it, attached as a referrer (needs permissions id-token: write and the sign-bundle binary; a re-run signs a candidate left unsigned)"},
}, signexec.Inputs)

// Outputs in documented order.
func outputs(r pipeline.BuildResult) actionio.Outputs {
	return actionio.Outputs{
		{Name: "version", Value: r.Version},
		{Name: "digest", Value: r.Digest},
		actionio.List("tags", r.Tags),
		{Name: "short_sha", Value: r.Short},
		actionio.Bool("pushed", r.Pushed),
		actionio.Bool("signed", r.Signed),
	}
}

func run(ctx context.Context, a *githubactions.Action, args []string, stdout, stderr io.Writer, env step.Env) error {
	v, err := actionio.Parse(command, a, args, stdout)
	if err != nil {
		return err
	}
	in, err := buildInput(ctx, a, v)
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
	in.Log = step.Logger(stderr)
	if v.Bool("sign") && !in.DryRun {
		if in.Sign, err = signer(a, v, stderr); err != nil {
			return err
		}
	}
	res, err := pipeline.BuildRC(ctx, reg, in)
	if errors.Is(err, artifact.ErrEmpty) {
		return actionio.Usagef("%v; to push it anyway, pass input allow_empty", err)
	}
	if err != nil {
		return err
	}
	outs := outputs(res)
	heading := "build-rc: pushed " + res.Version
	switch {
	case res.AlreadyBuilt && res.DryRun:
		heading = "build-rc (dry run): " + res.Short + " was already built as " + res.Version + "; nothing to push"
	case res.DryRun:
		heading = "build-rc (dry run): would push " + res.Version
	case !res.Pushed:
		heading = "build-rc: " + res.Short + " was already built as " + res.Version
	}
	if res.Signed {
		heading += ", signed,"
	}
	if err := actionio.Report(a, stdout, stderr, v.JSON, heading+" to "+reg.Name(), outs); err != nil {
		return err
	}
	gh.AfterBuild(ctx, reg.Name(), in.Sha, res).Publish(a, stderr, command)
	return nil
}

// signer runs sign-bundle for a digest, found before anything is written. OCIPROMOTE_SIGN_BUNDLE
// names another binary (tests).
func signer(a *githubactions.Action, v *actionio.Values, stderr io.Writer) (func(context.Context, string) error, error) {
	bin, err := signexec.Locate(a.Getenv("OCIPROMOTE_SIGN_BUNDLE"))
	if err != nil {
		return nil, actionio.Usagef("input sign: %v", err)
	}
	timeout, requestTimeout, err := step.Timeouts(v)
	if err != nil {
		return nil, err
	}
	req := signexec.Request{
		Repository: v.Get("repository"), FulcioURL: v.Get("fulcio_url"), RekorURL: v.Get("rekor_url"),
		TrustedRoot: v.Get("trusted_root"), IdentityTokenFile: v.Get("identity_token_file"),
		Username: v.Get("username"), Password: v.Get("password"), Insecure: v.Bool("insecure"),
		Timeout: timeout, RequestTimeout: requestTimeout, Env: a.Getenv,
	}
	return func(ctx context.Context, digest string) error {
		req := req
		req.Digest = digest
		res, err := signexec.Run(ctx, bin, req, stderr)
		if err != nil {
			return err
		}
		if !res.Signed {
			return fmt.Errorf("%s reported %s unsigned", bin, digest)
		}
		return nil
	}, nil
}

func buildInput(ctx context.Context, a *githubactions.Action, v *actionio.Values) (pipeline.BuildInput, error) {
	var ignore []string
	if ig := v.Get("ignore"); ig != "" {
		ignore = strings.Split(ig, "\n")
		if err := artifact.CheckIgnore(ignore); err != nil {
			return pipeline.BuildInput{}, actionio.Usagef("%v (input ignore)", err)
		}
	}
	in := pipeline.BuildInput{Dir: v.Get("path"), Sha: strings.ToLower(v.Get("sha")), Ref: v.Get("ref"), DryRun: v.Bool("dry_run"), AllowEmpty: v.Bool("allow_empty")}
	var err error
	if in.Stages, err = step.Chain(v); err != nil {
		return in, err
	}
	st, err := os.Stat(in.Dir)
	if err != nil || !st.IsDir() {
		return in, actionio.Usagef("input path %s is not a directory: give the directory of manifests to package", ref.Quote(in.Dir))
	}
	// git inspects the checkout while the directory is packed and the repository listed: its
	// answer is needed before anything is written (pipeline.BuildInput.Ready), not before
	// anything is read, unless sha is left to default to HEAD.
	inspect := inspectCheckout(ctx, in.Dir)
	if in.Sha == "" {
		co, checkout, err := inspect()
		if err != nil {
			return in, err
		}
		if !checkout {
			return in, actionio.Usagef("input sha is required outside a git checkout: pass it (in GitHub Actions it defaults to $GITHUB_SHA)")
		}
		in.Sha = co.Head
	}
	if _, err := ref.Sha(in.Sha); err != nil || len(in.Sha) != 40 {
		return in, actionio.Usagef("input sha %s must be the full 40-character commit sha", ref.Quote(in.Sha))
	}
	if _, err := ref.NewOrigin(in.Ref, in.Sha); err != nil {
		return in, actionio.Usagef("%v; pass it as input ref (default $GITHUB_REF_NAME)", err)
	}
	sha, allowDirty := in.Sha, v.Bool("allow_dirty")
	in.Ready = func() error {
		co, checkout, err := inspect()
		if err != nil || !checkout || allowDirty {
			return err
		}
		if err := pipeline.CheckCheckout(co, sha, ignore); err != nil {
			return actionio.Usagef("%v; to build it anyway, pass input allow_dirty", err)
		}
		return nil
	}
	if ws := a.Getenv("GITHUB_WORKSPACE"); ws != "" {
		if err := insideWorkspace(ws, in.Dir); err != nil {
			return in, err
		}
	}
	in.Source = v.Get("source")
	if in.Source == "" && a.Getenv("GITHUB_REPOSITORY") != "" {
		server := a.Getenv("GITHUB_SERVER_URL")
		if server == "" {
			server = "https://github.com"
		}
		in.Source = strings.TrimSuffix(server, "/") + "/" + a.Getenv("GITHUB_REPOSITORY")
		if _, err := ref.SourceURL(in.Source); err != nil {
			return in, actionio.Usagef("%v; it was made from GITHUB_SERVER_URL and GITHUB_REPOSITORY: pass input source instead", err)
		}
	} else if _, err := ref.SourceURL(in.Source); err != nil {
		return in, actionio.Usagef("%v; pass it as input source, or leave it empty for $GITHUB_SERVER_URL/$GITHUB_REPOSITORY", err)
	}
	if c := v.Get("created"); c != "" {
		t, err := time.Parse(time.RFC3339, c)
		if err != nil {
			return in, actionio.Usagef("input created %q is not an RFC 3339 time such as 2026-08-01T10:00:00Z", c)
		}
		in.Created = t.UTC()
	} else {
		t, err := git.CommitTime(ctx, in.Dir, in.Sha)
		if err != nil {
			return in, actionio.Usagef("input created is required when git cannot read the commit time (%v): give it (RFC 3339) or check out the commit (actions/checkout) before build-rc", err)
		}
		in.Created = t
	}
	if in.Settle, err = step.Settle(v); err != nil {
		return in, err
	}
	if in.ShortLen, err = v.Int("short_sha_length"); err != nil {
		return in, err
	}
	if in.ShortLen < 4 || in.ShortLen > 40 {
		return in, actionio.Usagef("short_sha_length must be between 4 and 40, got %d", in.ShortLen)
	}
	if in.Rules.Bump, err = version.ParseBump(v.Get("bump")); err != nil {
		return in, actionio.Usagef("%v", err)
	}
	if in.Rules.Line, err = version.ParseLine(v.Get("version_line")); err != nil {
		return in, actionio.Usagef("%v", err)
	}
	if in.Rules.Initial, err = version.ParseInitial(v.Get("initial_version")); err != nil {
		return in, actionio.Usagef("%v", err)
	}
	if in.Rules.Prefix, err = version.ParsePrefix(v.Get("tag_prefix")); err != nil {
		return in, actionio.Usagef("%v", err)
	}
	if in.Rules.Bump == version.Auto {
		dir, sha := in.Dir, in.Sha
		in.Commits = func(ctx context.Context, since string) ([]string, error) {
			return git.Messages(ctx, dir, since, sha)
		}
	} else if err := in.Rules.Validate(); err != nil {
		return in, actionio.Usagef("%v", err)
	}
	in.Ignore = ignore
	return in, nil
}

// inspectCheckout starts git.Inspect of dir and returns a wait for its answer: the checkout,
// whether dir is in one at all, or a usage error (git failing for another reason must not turn
// the check off).
func inspectCheckout(ctx context.Context, dir string) func() (git.Checkout, bool, error) {
	var co git.Checkout
	var err error
	done := make(chan struct{})
	go func() {
		defer close(done)
		co, err = git.Inspect(ctx, dir)
	}()
	return func() (git.Checkout, bool, error) {
		<-done
		switch {
		case errors.Is(err, git.ErrNotCheckout):
			return git.Checkout{}, false, nil
		case err != nil:
			return git.Checkout{}, false, actionio.Usagef("%v", err)
		}
		return co, true, nil
	}
}

// insideWorkspace refuses, in Actions, a path that leaves the checkout: the artifact must be
// built from the commit being released, not from whatever else is on the runner.
func insideWorkspace(workspace, path string) error {
	ws, err1 := filepath.EvalSymlinks(workspace)
	p, err2 := filepath.Abs(path)
	if err1 != nil || err2 != nil {
		return actionio.Usagef("cannot resolve path %q against GITHUB_WORKSPACE %q", path, workspace)
	}
	if p, err2 = filepath.EvalSymlinks(p); err2 != nil {
		return actionio.Usagef("cannot resolve path %q: %v", path, err2)
	}
	if rel, err := filepath.Rel(ws, p); err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return actionio.Usagef("input path %q is outside the checkout %s: give a directory of the repository being built", path, ws)
	}
	return nil
}

func main() { os.Exit(step.Main(command, run, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)) }
