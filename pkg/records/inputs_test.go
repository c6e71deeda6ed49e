package records

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sethvargo/go-githubactions"

	"github.com/ocipromote/ocipromote/pkg/actionio"
)

func action(env map[string]string, out io.Writer) *githubactions.Action {
	return githubactions.New(githubactions.WithGetenv(func(k string) string { return env[k] }), githubactions.WithWriter(out))
}

func TestOptionsFromInputs(t *testing.T) {
	t.Parallel()
	env := map[string]string{
		"INPUT_DEPLOYMENTS": "true", "INPUT_RELEASE": "true", "INPUT_LIVE_URL": "https://live.example.com",
		"INPUT_VALIDATED_AT": "2026-08-01T10:00:00Z",
		"GITHUB_TOKEN":       "ghs_job", "GITHUB_REPOSITORY": "acme/platform", "GITHUB_SERVER_URL": "https://ghe.example.com",
		"GITHUB_API_URL": "https://ghe.example.com/api/v3", "GITHUB_RUN_ID": "42", "GITHUB_ACTIONS": "true",
	}
	var out bytes.Buffer
	a := action(env, &out)
	v, err := actionio.Parse(actionio.Command{Name: "tag-validated", Inputs: PromoteInputs}, a, nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	o := OptionsFrom(a, v, nil)
	want := Options{
		Deployments: true, Release: true, Token: "ghs_job", APIURL: "https://ghe.example.com/api/v3",
		Repository: "acme/platform", ServerURL: "https://ghe.example.com", RunURL: "https://ghe.example.com/acme/platform/actions/runs/42",
		LiveURL: "https://live.example.com", WriteInterval: time.Second, MaxWrites: 150,
	}
	if !reflect.DeepEqual(o, want) {
		t.Errorf("options = %+v\nwant      %+v", o, want)
	}
	if !strings.Contains(out.String(), "::add-mask::ghs_job") {
		t.Errorf("the token was not masked: %q", out.String())
	}
	if _, err := FromInputs(a, v, nil); err != nil {
		t.Error(err)
	}
}

func TestFromInputsWithoutToken(t *testing.T) {
	t.Parallel()
	a := action(map[string]string{"INPUT_COMMENT_PRS": "true", "GITHUB_REPOSITORY": "acme/platform"}, io.Discard)
	v, err := actionio.Parse(actionio.Command{Name: "tag-validated", Inputs: PromoteInputs}, a, nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	_, err = FromInputs(a, v, nil)
	if !errors.Is(err, actionio.ErrUsage) || !strings.Contains(err.Error(), "github_token is required") {
		t.Errorf("error = %v, want a usage error naming github_token", err)
	}
}

func TestPublish(t *testing.T) {
	t.Parallel()
	summary := filepath.Join(t.TempDir(), "summary.md")
	if err := os.WriteFile(summary, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	var out, stderr bytes.Buffer
	a := action(map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": summary}, &out)
	rep := Report{
		Records:  []Record{{Kind: "release", Subject: "v0.0.2", State: "created", URL: "https://github.com/acme/platform/releases/tag/v0.0.2", Wrote: true}},
		Warnings: []Warning{{Kind: "comment", Subject: "#2", Err: errors.New("boom\nsecond line")}},
	}
	rep.Publish(a, &stderr, actionio.Command{Name: "build-rc", Inputs: PacingInputs})
	if got := out.String(); !strings.Contains(got, "::warning::GitHub record not written: comment #2: boom second line") {
		t.Errorf("annotations = %q", got)
	}
	md, err := os.ReadFile(summary)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(md), "| release | [v0.0.2](https://github.com/acme/platform/releases/tag/v0.0.2) | created | yes |") {
		t.Errorf("summary = %s", md)
	}

	stderr.Reset()
	rep.Publish(action(map[string]string{}, io.Discard), &stderr, actionio.Command{Name: "build-rc", Inputs: PacingInputs})
	if got := stderr.String(); got != "warning: GitHub record not written: comment #2: boom second line\n" {
		t.Errorf("outside Actions: %q", got)
	}

	// A warning that names an input names the flag a terminal user types, and the input in Actions.
	capped := Report{Warnings: []Warning{{Kind: "release", Subject: "v0.0.2", Err: errors.New("stopped after 150 writes (github_max_writes)")}}}
	stderr.Reset()
	capped.Publish(action(map[string]string{}, io.Discard), &stderr, actionio.Command{Name: "build-rc", Inputs: PacingInputs})
	if got, want := stderr.String(), "warning: GitHub record not written: release v0.0.2: stopped after 150 writes (--github-max-writes)\n"; got != want {
		t.Errorf("outside Actions: %q, want %q", got, want)
	}
	out.Reset()
	capped.Publish(a, &stderr, actionio.Command{Name: "build-rc", Inputs: PacingInputs})
	if got := out.String(); !strings.Contains(got, "(github_max_writes)") {
		t.Errorf("in Actions the warning names the input: %q", got)
	}
}

// TestValidatedAtIsCheckedBeforeThePromotion: a validated_at that is not RFC 3339 is a mistake in
// the workflow, reported as a usage error by FromInputs, which tag-validated calls before it
// promotes anything; ValidationFrom, called after, then never meets one.
func TestValidatedAtIsCheckedBeforeThePromotion(t *testing.T) {
	t.Parallel()
	tests := []struct {
		at      string
		wantErr bool
	}{
		{at: ""},
		{at: "2026-08-01T10:00:00Z"},
		{at: " 2026-08-01T12:00:00+02:00 "},
		{at: "2026-08-01T10:00:00.123Z"},
		{at: "yesterday", wantErr: true},
		{at: "2026-08-01 10:00:00", wantErr: true},
		{at: "2026-08-01", wantErr: true},
		{at: "1754042400", wantErr: true},
	}
	for _, tc := range tests {
		// Every record off: the time is checked all the same, since a workflow that passes a
		// wrong one is wrong whether or not the records are on yet.
		a := action(map[string]string{"INPUT_VALIDATED_AT": tc.at}, io.Discard)
		v, err := actionio.Parse(actionio.Command{Name: "tag-validated", Inputs: PromoteInputs}, a, nil, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		_, err = FromInputs(a, v, nil)
		if tc.wantErr {
			if !errors.Is(err, actionio.ErrUsage) || !strings.Contains(err.Error(), "validated_at") || !strings.Contains(err.Error(), "RFC 3339") {
				t.Errorf("validated_at %q: error = %v, want a usage error naming validated_at and RFC 3339", tc.at, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("validated_at %q: %v", tc.at, err)
		}
	}
	// build-rc has no validated_at: nothing to check.
	a := action(map[string]string{}, io.Discard)
	v, err := actionio.Parse(actionio.Command{Name: "build-rc", Inputs: BuildInputs}, a, nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := FromInputs(a, v, nil); err != nil {
		t.Errorf("build-rc: %v", err)
	}
}
