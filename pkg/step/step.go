// Package step holds what every ocipromote binary shares around its own package: the registry
// inputs, opening the repository from them, and the structured log.
package step

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"os/user"
	"strings"
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
// ghcr.io, GITHUB_TOKEN are used.
var CredentialInputs = []actionio.Input{
	{Name: "username", Usage: "registry user name (default: Docker config, then GITHUB_ACTOR with GITHUB_TOKEN for ghcr.io)"},
	{Name: "password", Usage: "registry password or token", Secret: true},
}

// DryRunInput makes a step print its plan and write nothing.
var DryRunInput = actionio.Input{Name: "dry_run", Bool: true, Usage: "print what would be written and write nothing"}

// Env holds what a binary may take from its environment besides inputs; tests set it.
type Env struct {
	// Transport replaces the HTTP transport (tests, request counting).
	Transport http.RoundTripper
	// Retry replaces the retry policy (tests).
	Retry oci.RetryPolicy
	// Stdin is the process's standard input, for --password-stdin; nil reads as empty.
	Stdin io.Reader
	// User names the user the process runs as, the last fallback of who does something (a
	// hold's actor); nil in tests, where the process's user is no fact of the test.
	User func() string
}

// osUser is the user name of the process, from the system's user database; "" when unknown.
func osUser() string {
	u, err := user.Current()
	if err != nil {
		return ""
	}
	return u.Username
}

// Open opens the repository named by the inputs with their credentials.
func Open(a *githubactions.Action, v *actionio.Values, env Env) (*oci.Repository, error) {
	token := a.Getenv("GITHUB_TOKEN")
	v.Mask(a, token)
	if err := ReadPassword(a, v, env); err != nil {
		return nil, err
	}
	if (v.Get("username") == "") != (v.Get("password") == "") {
		return nil, actionio.Usagef("username and password go together: give both, or neither to use the Docker config or GITHUB_TOKEN")
	}
	if userinfo, found := ref.Userinfo(v.Get("repository")); found {
		v.Mask(a, userinfo)
	}
	r, err := oci.Open(v.Get("repository"), oci.Options{
		Username:    v.Get("username"),
		Password:    v.Get("password"),
		GitHubToken: token,
		GitHubActor: a.Getenv("GITHUB_ACTOR"),
		Transport:   env.Transport,
		Retry:       env.Retry,
		UserAgent:   "ocipromote",
	})
	if err != nil {
		return nil, actionio.Usagef("%v", err)
	}
	return r, nil
}

// maxPassword bounds what --password-stdin reads: a token is far shorter.
const maxPassword = 64 << 10

// ReadPassword reads the password from standard input once, when --password-stdin asks for it
// (as `docker login --password-stdin` does): its first line, without the line break.
func ReadPassword(a *githubactions.Action, v *actionio.Values, env Env) error {
	if !v.PasswordStdin {
		return nil
	}
	v.PasswordStdin = false
	if v.Get("password") != "" {
		return actionio.Usagef("--password-stdin and a password (--password or INPUT_PASSWORD) were both given: give one")
	}
	in := env.Stdin
	if in == nil {
		in = strings.NewReader("")
	}
	b, err := io.ReadAll(io.LimitReader(in, maxPassword))
	if err != nil {
		return fmt.Errorf("read the password from standard input: %w", err)
	}
	pw, _, _ := strings.Cut(string(b), "\n")
	pw = strings.TrimSuffix(pw, "\r")
	if pw == "" {
		return actionio.Usagef("--password-stdin read no password from standard input: pipe it in, e.g. printf '%%s' \"$TOKEN\" | ... --password-stdin")
	}
	v.Mask(a, pw)
	v.Set("password", pw)
	return nil
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
		return body(ctx, a, args, stdout, stderr, Env{User: osUser, Stdin: os.Stdin})
	}
	return actionio.Main(ctx, name, run, a, args, stdout, stderr)
}
