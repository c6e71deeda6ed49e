// Package step holds what every ocipromote binary shares around its own package: the registry
// inputs, opening the repository from them, and the structured log.
package step

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"github.com/sethvargo/go-githubactions"

	"github.com/ocipromote/ocipromote/pkg/actionio"
	"github.com/ocipromote/ocipromote/pkg/oci"
	"github.com/ocipromote/ocipromote/pkg/ref"
)

// RepositoryInput names the artifact repository.
var RepositoryInput = actionio.Input{Name: "repository", Required: true,
	Usage: "OCI repository of the artifact, e.g. ghcr.io/acme/platform-manifests (oci:// accepted)"}

// CredentialInputs are the registry credentials; without them the Docker config and, for
// ghcr.io, GITHUB_TOKEN are used. insecure goes with them: it is how the registry is reached.
var CredentialInputs = []actionio.Input{
	{Name: "username", Usage: "registry user name (default: Docker config, then GITHUB_ACTOR with GITHUB_TOKEN for ghcr.io)"},
	{Name: "password", Usage: "registry password or token", Secret: true},
	InsecureInput,
}

// InsecureInput reaches the registry over plain HTTP, as a Flux OCIRepository's spec.insecure
// does. Without it, plain HTTP is used only for loopback and private addresses (localhost,
// 127.0.0.1, 10.x, 192.168.x, …) and *.localhost names (go-containerregistry's
// name.Registry.Scheme); any other name, such as registry.internal:5000, is reached over HTTPS.
var InsecureInput = actionio.Input{Name: "insecure", Bool: true,
	Usage: "reach the registry over plain HTTP, as a Flux OCIRepository's spec.insecure (loopback and private addresses use HTTP without it)"}

// DryRunInput makes a step print its plan and write nothing.
var DryRunInput = actionio.Input{Name: "dry_run", Bool: true, Usage: "print what would be written and write nothing"}

// Env holds what a binary may take from its environment besides inputs; tests set it.
type Env struct {
	// Transport replaces the HTTP transport (tests, request counting).
	Transport http.RoundTripper
	// Retry replaces the retry policy (tests).
	Retry oci.RetryPolicy
}

// Open opens the repository named by the inputs with their credentials.
func Open(a *githubactions.Action, v *actionio.Values, env Env) (*oci.Repository, error) {
	token := a.Getenv("GITHUB_TOKEN")
	if token != "" && actionio.InActions(a) {
		a.AddMask(token)
	}
	if (v.Get("username") == "") != (v.Get("password") == "") {
		return nil, actionio.Usagef("username and password go together: give both, or neither to use the Docker config or GITHUB_TOKEN")
	}
	maskCredentials(a, v.Get("repository"))
	r, err := oci.Open(v.Get("repository"), oci.Options{
		Username:    v.Get("username"),
		Password:    v.Get("password"),
		GitHubToken: token,
		GitHubActor: a.Getenv("GITHUB_ACTOR"),
		Insecure:    v.Bool("insecure"),
		Transport:   env.Transport,
		Retry:       env.Retry,
		UserAgent:   "ocipromote",
	})
	if err != nil {
		return nil, actionio.Usagef("%v", err)
	}
	return r, nil
}

// CheckRepository checks the form of a repository input without contacting the registry, as a
// usage error. Credentials written into it ("user:token@ghcr.io/…") are refused without being
// repeated, and masked in the Actions log, since the input is not a secret and every other
// message would print it; an oversized value is refused before it is echoed anywhere.
func CheckRepository(a *githubactions.Action, repository string) error {
	maskCredentials(a, repository)
	if _, err := oci.ParseRepository(repository, false); err != nil {
		return actionio.Usagef("%v", err)
	}
	return nil
}

// maskCredentials masks, in Actions, credentials written into a repository reference, which
// oci.ParseRepository refuses without repeating them.
func maskCredentials(a *githubactions.Action, repository string) {
	if userinfo, found := ref.Userinfo(repository); found && actionio.InActions(a) {
		a.AddMask(userinfo)
	}
}

// Logger writes the step's progress as text to w (stderr), so stdout stays for outputs.
func Logger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

// Body is a binary's run function with its test seams.
type Body func(ctx context.Context, a *githubactions.Action, args []string, stdout, stderr io.Writer, env Env) error

// Main runs body as a process with the process's arguments (without the program name), standard
// streams and environment, all handed over by the binary's main: Ctrl-C cancels it, workflow
// commands go to stderr so stdout stays for outputs. It returns the exit status actionio.Main
// decides, for main to pass to os.Exit; nothing here exits or reads the environment itself.
func Main(name string, body Body, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	a := githubactions.New(githubactions.WithGetenv(getenv), githubactions.WithWriter(stderr))
	run := func(ctx context.Context, a *githubactions.Action, args []string, stdout, stderr io.Writer) error {
		return body(ctx, a, args, stdout, stderr, Env{})
	}
	return actionio.Main(ctx, name, run, a, args, stdout, stderr)
}
