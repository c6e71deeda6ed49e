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
	"sync"
	"syscall"
	"time"

	"github.com/sethvargo/go-githubactions"

	"github.com/ocipromote/ocipromote/pkg/actionio"
	"github.com/ocipromote/ocipromote/pkg/oci"
	"github.com/ocipromote/ocipromote/pkg/ref"
)

// RepositoryInput names the artifact repository.
var RepositoryInput = actionio.Input{Name: "repository", Required: true,
	Usage: "OCI repository of the artifact, e.g. ghcr.io/acme/platform-manifests (oci:// accepted)"}

// CredentialInputs are the registry credentials (without them the Docker config and, for
// ghcr.io, GITHUB_TOKEN are used) and the time bounds of every registry request: every binary
// that opens the repository takes them. A step takes seconds on a healthy registry and a few
// minutes when a registry rate-limits (five tries, Retry-After capped at a minute), so the
// ten-minute default timeout ends a stalled step long before GitHub's six-hour job timeout, and
// before a hung promotion holds the concurrency group that rollback shares for long; the request
// timeout is oci.DefaultRequestTimeout. insecure goes with them: it is how the registry is reached.
var CredentialInputs = []actionio.Input{
	{Name: "username", Usage: "registry user name (default: Docker config, then GITHUB_ACTOR with GITHUB_TOKEN for ghcr.io)"},
	{Name: "password", Usage: "registry password or token", Secret: true},
	{Name: "timeout", Default: "10m", Usage: "the step's time budget (Go duration such as 10m); the step ends with an error when it runs out"},
	{Name: "request_timeout", Default: "30s", Usage: "time one registry request may take, answer included, before it is retried (Go duration such as 30s)"},
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

// DefaultSettle is the default of SettleInput. The issue that asked for it measured listings
// served from replicas 0 to 1 s behind writes; public reports show caches and replicas behind by
// seconds to minutes (docs/reliability.md, "Listing lag and claims"). 5 s covers the first with
// margin at a cost of about 5 s per claim; a registry known to lag more needs a larger value.
const DefaultSettle = 5 * time.Second

// SettleInput is the registry's listing bound L of the claim protocol (package claim): a step
// that claims a version or a hold record decides on a listing made this long after its claim
// was first listed.
var SettleInput = actionio.Input{Name: "settle", Default: DefaultSettle.String(),
	Usage: "how long after a write the registry's tag list may still miss it; steps that claim a version or a hold record wait this long before deciding (a Go duration such as 5s; 0s for a registry that lists every write at once)"}

// Settle reads SettleInput: a duration from 0 to 10 minutes, else a usage error.
func Settle(v *actionio.Values) (time.Duration, error) {
	s := v.Get(SettleInput.Name)
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 || d > 10*time.Minute {
		return 0, actionio.Usagef("input settle %s must be a duration from 0s to 10m, such as 5s or 500ms", ref.Quote(s))
	}
	return d, nil
}

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

	// bound, set by Bind, ends the run's context once the timeout input has passed.
	bound func(time.Duration)
}

// Bind prepares one run of a body: Open, given the returned Env, ends the returned context when
// the timeout input runs out, so that everything the step waits for (registry, git, GitHub API)
// stops with a *oci.TimeoutError as its cause. cancel releases the timer.
func Bind(ctx context.Context, env Env) (context.Context, Env, context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(ctx)
	var timer *time.Timer
	var mu sync.Mutex
	env.bound = func(d time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		if timer == nil {
			timer = time.AfterFunc(d, func() { cancel(&oci.TimeoutError{Timeout: d}) })
		}
	}
	return ctx, env, func() {
		mu.Lock()
		if timer != nil {
			timer.Stop()
		}
		mu.Unlock()
		cancel(nil)
	}
}

// Timeouts reads the timeout and request_timeout inputs; a request never gets more than the step.
func Timeouts(v *actionio.Values) (step, request time.Duration, err error) {
	parse := func(name string) (time.Duration, error) {
		d, err := time.ParseDuration(v.Get(name))
		if err != nil || d <= 0 {
			return 0, actionio.Usagef("input %s must be a positive Go duration such as 10m or 30s, got %s", name, ref.Quote(v.Get(name)))
		}
		return d, nil
	}
	if step, err = parse("timeout"); err != nil {
		return 0, 0, err
	}
	if request, err = parse("request_timeout"); err != nil {
		return 0, 0, err
	}
	// The step's deadline bounds every request anyway; a shorter step (--timeout 1m with the
	// default request timeout) is not a mistake.
	request = min(request, step)
	return step, request, nil
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
		return nil, actionio.Usagef("input username and input password go together: give both, or neither to use the Docker config or GITHUB_TOKEN")
	}
	if userinfo, found := ref.Userinfo(v.Get("repository")); found {
		v.Mask(a, userinfo)
	}
	timeout, requestTimeout, err := Timeouts(v)
	if err != nil {
		return nil, err
	}
	if env.bound != nil {
		env.bound(timeout)
	}
	r, err := oci.Open(v.Get("repository"), oci.Options{
		Username:    v.Get("username"),
		Password:    v.Get("password"),
		GitHubToken: token,
		GitHubActor: a.Getenv("GITHUB_ACTOR"),
		Insecure:    v.Bool("insecure"),
		Transport:   env.Transport,
		Retry:       env.Retry,
		UserAgent:   "ocipromote",

		Timeout:        timeout,
		RequestTimeout: requestTimeout,
		Logf:           a.Infof,
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
// decides, for main to pass to os.Exit; nothing here exits or reads the environment itself. c
// declares the binary, its name and every input of it (of all its subcommands): an error on a
// command line names them as flags.
func Main(c actionio.Command, body Body, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	a := githubactions.New(githubactions.WithGetenv(getenv), githubactions.WithWriter(stderr))
	run := func(ctx context.Context, a *githubactions.Action, args []string, stdout, stderr io.Writer) error {
		ctx, env, cancel := Bind(ctx, Env{User: osUser, Stdin: os.Stdin})
		defer cancel()
		return body(ctx, a, args, stdout, stderr, env)
	}
	return actionio.Main(ctx, c, run, a, args, stdout, stderr)
}
