package signexec

import (
	"bytes"
	"testing"
)

// sign-bundle's log passes through line by line, whatever the writes' boundaries; its error line
// (a workflow command in Actions, escaped as Actions escapes it, or a terminal's error line) is
// kept for the caller instead.
func TestErrorLines(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		writes    []string
		log, last string
	}{
		{"actions", []string{"time=1 msg=signing\n::error::sign-bundle: Fulcio returned 401: 100%25 wrong%0Atoken\n"}, "time=1 msg=signing\n", "Fulcio returned 401: 100% wrong\ntoken"},
		{"terminal", []string{"sign-bundle: error: --digest is not", " a manifest digest\n"}, "", "--digest is not a manifest digest"},
		{"split log", []string{"a", "b\nc", "\n"}, "ab\nc\n", ""},
		{"unterminated error", []string{"log\n::error::sign-bundle: cut short"}, "log\n", "cut short"},
	}
	for _, tc := range tests {
		var log bytes.Buffer
		e := &errorLines{w: &log}
		for _, w := range tc.writes {
			if _, err := e.Write([]byte(w)); err != nil {
				t.Fatal(err)
			}
		}
		if got := log.String(); got != tc.log {
			t.Errorf("%s: log %q, want %q", tc.name, got, tc.log)
		}
		if got := e.last(); got != tc.last {
			t.Errorf("%s: error %q, want %q", tc.name, got, tc.last)
		}
	}
}

// The calling step's outputs, summary, state and inputs are never handed to sign-bundle; the
// context variables it reads come from the step, not the process.
func TestWithheld(t *testing.T) {
	t.Parallel()
	for kv, want := range map[string]bool{
		"GITHUB_OUTPUT=/tmp/o": true, "GITHUB_STEP_SUMMARY=/tmp/s": true, "GITHUB_ENV=/tmp/e": true,
		"INPUT_PASSWORD=x": true, "INPUT_REPOSITORY=r": true, "GITHUB_TOKEN=t": true, "ACTIONS_ID_TOKEN_REQUEST_URL=u": true,
		"HOME=/root": false, "PATH=/bin": false, "DOCKER_CONFIG=/d": false, "RUNNER_TEMP=/tmp": false,
	} {
		if got := withheld(kv); got != want {
			t.Errorf("withheld(%q) = %v, want %v", kv, got, want)
		}
	}
}
