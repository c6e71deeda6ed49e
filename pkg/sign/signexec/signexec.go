// Package signexec runs the sign-bundle binary for a step that signs: sigstore-go's signer is
// large and slow to link in, and the steps must stay small and quick to start, so signing is a
// process of its own, run only when a step signs. This package holds no Sigstore code: it
// declares the signing inputs, finds the binary, hands it the request through flags and its
// environment (credentials never go on its command line), and reads its JSON outputs.
package signexec

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ocipromote/ocipromote/pkg/actionio"
)

// Binary is the signing binary's name, installed next to the steps' binaries.
const Binary = "sign-bundle"

// The public-good Sigstore instance.
const (
	DefaultFulcioURL = "https://fulcio.sigstore.dev"
	DefaultRekorURL  = "https://rekor.sigstore.dev"
)

// Inputs are the signing inputs, the same in sign-bundle and in a step that runs it.
var Inputs = []actionio.Input{
	{Name: "fulcio_url", Default: DefaultFulcioURL, Usage: "Fulcio that certifies the identity token (default: the public-good instance)"},
	{Name: "rekor_url", Default: DefaultRekorURL, Usage: "Rekor (v1 API) that logs the signature (default: the public-good instance)"},
	{Name: "trusted_root", Usage: "Sigstore trusted_root.json the signatures are verified against (default: the public-good one, fetched through Sigstore's TUF repository)"},
	{Name: "identity_token_file", Usage: "file holding the OIDC identity token (default: the GitHub Actions job's token, which needs permissions id-token: write)"},
}

// Request is one digest to sign and how to reach the registry and Sigstore.
type Request struct {
	Repository, Digest                                  string
	FulcioURL, RekorURL, TrustedRoot, IdentityTokenFile string
	Username, Password                                  string
	Insecure                                            bool
	Timeout, RequestTimeout                             time.Duration
	// Env holds the calling step's GitHub context the signer reads (see Passed), from the
	// step's environment rather than the process's, so that tests can set it.
	Env func(string) string
}

// Passed are the environment variables of the calling step handed on to sign-bundle: whether it
// runs in Actions, the job token and actor for ghcr.io, and the OIDC token endpoint.
var Passed = []string{"GITHUB_ACTIONS", "GITHUB_TOKEN", "GITHUB_ACTOR", "ACTIONS_ID_TOKEN_REQUEST_URL", "ACTIONS_ID_TOKEN_REQUEST_TOKEN"}

// withheld are never inherited: INPUT_* are the calling step's own inputs, the GITHUB_* files
// are its outputs, summary, state and environment, which sign-bundle must not write.
func withheld(kv string) bool {
	k, _, _ := strings.Cut(kv, "=")
	switch k {
	case "GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", "GITHUB_STATE", "GITHUB_ENV", "GITHUB_PATH":
		return true
	}
	for _, p := range Passed {
		if k == p {
			return true
		}
	}
	return strings.HasPrefix(k, "INPUT_")
}

// Result is sign-bundle's outputs.
type Result struct {
	Signed   bool   `json:"signed"`
	Written  bool   `json:"written"`
	Referrer string `json:"referrer"`
	Signer   string `json:"signer"`
}

// Locate finds sign-bundle: path when given, else next to the running executable (where the
// release archive and the actions install every binary), else on PATH.
func Locate(path string) (string, error) {
	if path != "" {
		return path, nil
	}
	if self, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(self), Binary)
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
	}
	p, err := exec.LookPath(Binary)
	if err != nil {
		return "", fmt.Errorf("the %s binary is neither next to this one nor on PATH: install it with the others (make build, the release archive, or actions/build-rc)", Binary)
	}
	return p, nil
}

// Run runs bin for req. Its log goes to stderr as it comes, except its error, which is returned;
// it ends with ctx.
func Run(ctx context.Context, bin string, req Request, stderr io.Writer) (Result, error) {
	cmd := exec.CommandContext(ctx, bin, "--json")
	cmd.WaitDelay = 5 * time.Second
	var env []string
	for _, kv := range cmd.Environ() {
		if !withheld(kv) {
			env = append(env, kv)
		}
	}
	if req.Env != nil {
		for _, k := range Passed {
			if v := req.Env(k); v != "" {
				env = append(env, k+"="+v)
			}
		}
	}
	for k, v := range map[string]string{
		"repository": req.Repository, "digest": req.Digest,
		"fulcio_url": req.FulcioURL, "rekor_url": req.RekorURL, "trusted_root": req.TrustedRoot, "identity_token_file": req.IdentityTokenFile,
		"username": req.Username, "password": req.Password, "insecure": strconv.FormatBool(req.Insecure),
		"timeout": duration(req.Timeout), "request_timeout": duration(req.RequestTimeout),
	} {
		if v != "" {
			env = append(env, actionio.Input{Name: k}.Env()+"="+v)
		}
	}
	cmd.Env = env
	var stdout bytes.Buffer
	errs := &errorLines{w: stderr}
	cmd.Stdout, cmd.Stderr = &stdout, errs
	err := cmd.Run()
	if cause := context.Cause(ctx); cause != nil {
		return Result{}, fmt.Errorf("%s (waiting for the OIDC token, Fulcio, Rekor or the registry) was stopped: %w", Binary, cause)
	}
	if err != nil {
		if msg := errs.last(); msg != "" {
			return Result{}, errors.New(msg)
		}
		return Result{}, fmt.Errorf("%s: %w", bin, err)
	}
	var res Result
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		return Result{}, fmt.Errorf("%s printed no outputs (%v): %q", bin, err, stdout.String())
	}
	return res, nil
}

func duration(d time.Duration) string {
	if d <= 0 {
		return ""
	}
	return d.String()
}

// errorLines passes sign-bundle's log through and keeps its error line (an ::error:: workflow
// command in Actions, "sign-bundle: error: …" elsewhere) for the caller to report as its own.
type errorLines struct {
	w       io.Writer
	mu      sync.Mutex
	partial []byte
	err     string
}

func (e *errorLines) Write(p []byte) (int, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.partial = append(e.partial, p...)
	for {
		i := bytes.IndexByte(e.partial, '\n')
		if i < 0 {
			return len(p), nil
		}
		line := string(e.partial[:i+1])
		e.partial = e.partial[i+1:]
		if msg, ok := errorMessage(line); ok {
			e.err = msg
			continue
		}
		if _, err := io.WriteString(e.w, line); err != nil {
			return len(p), err
		}
	}
}

func (e *errorLines) last() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if msg, ok := errorMessage(string(e.partial)); ok {
		return msg
	}
	return e.err
}

func errorMessage(line string) (string, bool) {
	line = strings.TrimRight(line, "\r\n")
	if rest, ok := strings.CutPrefix(line, "::error::"); ok {
		// Actions escapes a workflow command's message (percent, CR, LF).
		rest = strings.NewReplacer("%0D", "\r", "%0A", "\n", "%25", "%").Replace(rest)
		return strings.TrimPrefix(rest, Binary+": "), true
	}
	if rest, ok := strings.CutPrefix(line, Binary+": error: "); ok {
		return rest, true
	}
	return "", false
}
