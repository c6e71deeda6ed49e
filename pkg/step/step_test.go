package step

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/sethvargo/go-githubactions"

	"github.com/ocipromote/ocipromote/pkg/actionio"
)

// Main takes everything a process gives (arguments, streams, environment) from its caller and
// returns the exit status instead of exiting, so it runs here without a process.
func TestMainReturnsTheExitStatus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		err        error
		env        map[string]string
		code       int
		wantStderr string
	}{
		{"done", nil, nil, 0, ""},
		{"failure", errors.New("registry down; run again later"), nil, 1, "demo: error: registry down; run again later"},
		{"usage", actionio.Usagef("sha is required: pass --sha"), nil, 2, "demo: error: usage: sha is required"},
		{"annotation from the given environment", errors.New("boom"), map[string]string{"GITHUB_ACTIONS": "true"}, 1, "::error::demo: boom"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var gotArgs []string
			body := func(_ context.Context, a *githubactions.Action, args []string, stdout, _ io.Writer, _ Env) error {
				gotArgs = args
				_, _ = io.WriteString(stdout, a.Getenv("MARK"))
				return tc.err
			}
			env := map[string]string{"MARK": "from-getenv"}
			for k, v := range tc.env {
				env[k] = v
			}
			var stdout, stderr bytes.Buffer
			code := Main(actionio.Command{Name: "demo"}, body, []string{"--x", "1"}, &stdout, &stderr, func(k string) string { return env[k] })
			if got, want := code, tc.code; got != want {
				t.Errorf("Main = %d, want %d; stderr:\n%s", got, want, stderr.String())
			}
			if got, want := strings.Join(gotArgs, " "), "--x 1"; got != want {
				t.Errorf("body got args %q, want %q", got, want)
			}
			if got, want := stdout.String(), "from-getenv"; got != want {
				t.Errorf("body read %q from the environment, want %q (the getenv Main was given)", got, want)
			}
			if !strings.Contains(stderr.String(), tc.wantStderr) {
				t.Errorf("stderr = %q, want it to contain %q", stderr.String(), tc.wantStderr)
			}
		})
	}
}

// A repository input is checked before any registry is contacted; credentials written into it
// are refused without being repeated, and masked in the Actions log.
func TestCheckRepository(t *testing.T) {
	t.Parallel()
	const token = "ghp_R3poT0ken"
	tests := []struct {
		name, repository string
		actions          bool
		phrases          []string // what is wrong and what to do; nil when valid
	}{
		{"valid", "ghcr.io/acme/app", false, nil},
		{"flux prefix", "oci://ghcr.io/acme/app", false, nil},
		{"credentials", "ci:" + token + "@ghcr.io/acme/app", false, []string{`"***@ghcr.io/acme/app" carries credentials`, "pass the credentials as username and password"}},
		{"credentials with oci://", "oci://ci:" + token + "@ghcr.io/acme/app", true, []string{`"oci://***@ghcr.io/acme/app" carries credentials`, "give REGISTRY/PATH"}},
		{"token only", token + "@localhost:5000/acme/app", true, []string{"carries credentials"}},
		{"oversized", "ghcr.io/" + strings.Repeat("a", 600), false, []string{"608 bytes, over the 512-byte limit", "give REGISTRY/PATH"}},
		{"shell metacharacters", "ghcr.io/acme/app;rm -rf /", false, []string{"is not REGISTRY/PATH", "for example ghcr.io/acme/platform-manifests"}},
		{"newline", "ghcr.io/acme/app\n::error::x", false, []string{`"ghcr.io/acme/app\n::error::x" contains a control character`, "give REGISTRY/PATH"}},
		{"tag", "ghcr.io/acme/app:latest", false, []string{"has a tag", "give the repository only"}},
		{"upper case", "ghcr.io/Acme/App", false, []string{"is not a valid OCI repository reference", "in lower case"}},
		{"no path", "ghcr.io", false, []string{"is not REGISTRY/PATH"}},
		{"command in the registry", "$(id).io/acme/app", false, []string{`registry "$(id).io" is not a host name`, "give REGISTRY/PATH"}},
		{"quote in the registry", `"x.io/acme/app`, false, []string{"is not a host name", "give REGISTRY/PATH"}},
		{"bidi override in the registry", "ghcr\u202eoi.evil/acme/app", false, []string{"contains a control character", "give REGISTRY/PATH"}},
		{"command in a dotted registry", "a;b.io/acme/app", false, []string{`registry "a;b.io" is not a host name`, "give REGISTRY/PATH"}},
		{"colon for a registry", ":/acme/app", false, []string{"is not a host name"}},
		{"carriage return", "ghcr.io/acme\r/app", false, []string{`"ghcr.io/acme\r/app" contains a control character`, "on one line"}},
		{"terminal escape", "ghcr.io/acme/\x1b[2Japp", false, []string{"contains a control character", "give REGISTRY/PATH"}},
		{"surrounding spaces", "  ghcr.io/acme/app\n", false, nil},
		{"loopback with a port", "127.0.0.1:5000/acme/app", false, nil},
		{"ipv6", "[::1]:5000/acme/app", false, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var log bytes.Buffer
			env := map[string]string{}
			if tc.actions {
				env["GITHUB_ACTIONS"] = "true"
			}
			a := githubactions.New(githubactions.WithGetenv(func(k string) string { return env[k] }), githubactions.WithWriter(&log))
			err := CheckRepository(a, tc.repository)
			if tc.phrases == nil {
				if err != nil {
					t.Errorf("CheckRepository(%q) = %v", tc.repository, err)
				}
				return
			}
			if !errors.Is(err, actionio.ErrUsage) {
				t.Fatalf("CheckRepository(%q) = %v, want a usage error", tc.repository, err)
			}
			for _, p := range tc.phrases {
				if !strings.Contains(err.Error(), p) {
					t.Errorf("error %q does not say %q", err, p)
				}
			}
			if strings.Contains(err.Error(), token) {
				t.Errorf("error repeats the token: %q", err)
			}
			masked := strings.Contains(log.String(), "::add-mask::")
			if leaked := strings.ReplaceAll(log.String(), "::add-mask::", ""); !tc.actions && strings.Contains(leaked, token) {
				t.Errorf("the token was printed outside Actions: %q", log.String())
			}
			if tc.actions && strings.Contains(tc.repository, token) && !masked {
				t.Errorf("credentials not masked in Actions; log %q", log.String())
			}
		})
	}
}
