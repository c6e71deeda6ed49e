package step

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/sethvargo/go-githubactions"

	"github.com/ocipromote/ocipromote/pkg/actionio"
	"github.com/ocipromote/ocipromote/pkg/oci"
)

var timeoutCommand = actionio.Command{Name: "demo", Inputs: append([]actionio.Input{RepositoryInput}, CredentialInputs...)}

func parseTimeouts(t *testing.T, args ...string) (*githubactions.Action, *actionio.Values) {
	t.Helper()
	a := githubactions.New(githubactions.WithGetenv(func(string) string { return "" }), githubactions.WithWriter(io.Discard))
	v, err := actionio.Parse(timeoutCommand, a, append([]string{"--repository", "127.0.0.1:1/acme/app"}, args...), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	return a, v
}

// The time bounds are inputs with defaults well under GitHub's six-hour job limit; a bound that
// is not a positive duration is a usage error; a request never gets more time than the step.
func TestTimeouts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		args          []string
		step, request time.Duration
		phrase        string
	}{
		{"defaults", nil, 10 * time.Minute, 30 * time.Second, ""},
		{"given", []string{"--timeout", "2m", "--request-timeout", "5s"}, 2 * time.Minute, 5 * time.Second, ""},
		{"no unit", []string{"--timeout", "600"}, 0, 0, `timeout must be a positive Go duration such as 10m or 30s, got "600"`},
		{"zero", []string{"--request-timeout", "0s"}, 0, 0, "request_timeout must be a positive Go duration"},
		{"negative", []string{"--timeout", "-1m"}, 0, 0, "timeout must be a positive Go duration"},
		{"request longer than the step", []string{"--timeout", "10s"}, 10 * time.Second, 10 * time.Second, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, v := parseTimeouts(t, tc.args...)
			step, request, err := Timeouts(v)
			if tc.phrase != "" {
				if !errors.Is(err, actionio.ErrUsage) || !strings.Contains(err.Error(), tc.phrase) {
					t.Errorf("Timeouts = %v, want a usage error saying %q", err, tc.phrase)
				}
				return
			}
			if err != nil || step != tc.step || request != tc.request {
				t.Errorf("Timeouts = %s, %s, %v; want %s, %s", step, request, err, tc.step, tc.request)
			}
		})
	}
}

// Once Open has read the timeout input, the run's context ends when it runs out, with the step's
// *oci.TimeoutError as its cause: git, the GitHub API and every wait stop too, not only requests.
func TestBindEndsTheRunAtTheTimeout(t *testing.T) {
	t.Parallel()
	ctx, env, cancel := Bind(context.Background(), Env{})
	defer cancel()
	a, v := parseTimeouts(t, "--timeout", "50ms", "--request-timeout", "10ms")
	if _, err := Open(a, v, env); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ctx.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the run's context did not end at the step's timeout")
	}
	var te *oci.TimeoutError
	if cause := context.Cause(ctx); !errors.As(cause, &te) || te.Request || te.Timeout != 50*time.Millisecond {
		t.Errorf("cause = %v, want the step's *oci.TimeoutError of 50ms", cause)
	}
	if !strings.Contains(context.Cause(ctx).Error(), "timeout of 50ms (input timeout)") {
		t.Errorf("cause %q does not name the input", context.Cause(ctx))
	}
}

// Each retry is one line in the step's log (stderr in Actions and in a terminal).
func TestOpenLogsRetries(t *testing.T) {
	t.Parallel()
	var log bytes.Buffer
	a := githubactions.New(githubactions.WithGetenv(func(string) string { return "" }), githubactions.WithWriter(&log))
	v, err := actionio.Parse(timeoutCommand, a, []string{"--repository", "127.0.0.1:1/acme/app", "--timeout", "3s"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	reg, err := Open(a, v, Env{Retry: oci.RetryPolicy{Attempts: 2, Base: time.Millisecond, Max: time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Tags(context.Background()); err == nil {
		t.Fatal("listing a closed port succeeded")
	}
	if got := log.String(); !strings.Contains(got, "registry 127.0.0.1:1: GET") || !strings.Contains(got, "attempt 1 of 2 failed, next in") {
		t.Errorf("log = %q, want one line for the retry", got)
	}
}
