package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ocipromote/ocipromote/pkg/hold"
	"github.com/ocipromote/ocipromote/pkg/oci"
	"github.com/ocipromote/ocipromote/pkg/oci/ocitest"
	"github.com/ocipromote/ocipromote/pkg/step/steptest"
)

// The fixtures are the real-shaped events of testdata/events (see its README).
func fixture(name string) string { return filepath.Join("..", "..", "testdata", "events", name) }

func TestDispatchReceiverRoutes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, event, file string
		promote           string
		code              int
		reason            string
	}{
		{"health check passed", "repository_dispatch", "repository_dispatch.health-check-passed.json", "true", 0, "promote:"},
		{"change set", "repository_dispatch", "repository_dispatch.change-set.json", "false", 0, "ignored:"},
		{"health check failed", "repository_dispatch", "repository_dispatch.health-check-failed.json", "false", 0, "ignored:"},
		{"status success", "status", "status.success.json", "true", 0, "promote:"},
		{"manual", "workflow_dispatch", "workflow_dispatch.sha.json", "true", 0, "promote:"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out := filepath.Join(t.TempDir(), "output")
			env := map[string]string{
				"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": tc.event, "GITHUB_EVENT_PATH": fixture(tc.file),
				"GITHUB_OUTPUT": out, "INPUT_OBJECT": "Kustomization/platform.flux-system", "INPUT_CLUSTER": "integration",
			}
			r := steptest.Invoke(t, command.Name, run, env, "--json")
			if r.Code != tc.code {
				t.Fatalf("exit %d, want %d:\n%s", r.Code, tc.code, r.Stderr)
			}
			var got map[string]string
			if err := json.Unmarshal([]byte(r.Stdout), &got); err != nil {
				t.Fatalf("stdout is not JSON: %v\n%s", err, r.Stdout)
			}
			if got["promote"] != tc.promote || !strings.HasPrefix(got["reason"], tc.reason) {
				t.Errorf("outputs = %v, want promote=%s and a reason starting %q", got, tc.promote, tc.reason)
			}
			b, _ := os.ReadFile(out)
			if !strings.Contains(string(b), "promote<<") {
				t.Errorf("GITHUB_OUTPUT has no promote output:\n%s", b)
			}
		})
	}
}

func TestDispatchReceiverErrors(t *testing.T) {
	t.Parallel()
	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(bad, []byte(`{"action": [`), 0o644); err != nil {
		t.Fatal(err)
	}
	huge := filepath.Join(t.TempDir(), "huge.json")
	if err := os.WriteFile(huge, []byte(`{"x":"`+strings.Repeat("a", 2<<20)+`"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no event", nil, 2, "event_name and event_path"},
		{"malformed JSON", []string{"--event-name", "repository_dispatch", "--event-path", bad, "--object", "Kustomization/platform.flux-system"}, 1, "JSON"},
		{"oversized", []string{"--event-name", "repository_dispatch", "--event-path", huge, "--object", "Kustomization/platform.flux-system"}, 1, "larger than"},
		{"missing file", []string{"--event-name", "status", "--event-path", bad + ".nope"}, 1, "no such file"},
		{"other event", []string{"--event-name", "push", "--event-path", bad}, 2, "push"},
		{"bad pattern", []string{"--event-name", "repository_dispatch", "--event-path", fixture("repository_dispatch.health-check-passed.json"), "--object", "Kustomization/platform.flux-system", "--success-pattern", "("}, 2, "success pattern"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := steptest.Invoke(t, command.Name, run, map[string]string{}, tc.args...)
			if r.Code != tc.code || !strings.Contains(r.Stdout+r.Stderr, tc.want) {
				t.Errorf("exit %d (want %d), output lacks %q?\n%s%s", r.Code, tc.code, tc.want, r.Stdout, r.Stderr)
			}
		})
	}
}

// Given the repository, an event that would promote is answered held while a hold is on; a hold
// that cannot be read is an error, never a promotion.
func TestDispatchReceiverHold(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		hold    bool
		repo    func(host string) string
		code    int
		promote string
		reason  string
	}{
		{"no hold", false, func(h string) string { return h + "/acme/app" }, 0, "true", "promote:"},
		{"hold on", true, func(h string) string { return h + "/acme/app" }, 0, "false", "held: hold set by alice"},
		{"repository not given", true, func(string) string { return "" }, 0, "true", "promote:"},
		{"registry unreachable", false, func(string) string { return "127.0.0.1:1/acme/app" }, 1, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := ocitest.New(t)
			if tc.hold {
				reg, err := oci.Open(srv.Host+"/acme/app", oci.Options{})
				if err != nil {
					t.Fatal(err)
				}
				if _, err := hold.Set(context.Background(), reg, nil, hold.Record{Reason: "rollback", Actor: "alice", Time: time.Now()}, false); err != nil {
					t.Fatal(err)
				}
			}
			env := map[string]string{
				"GITHUB_EVENT_NAME": "repository_dispatch", "GITHUB_EVENT_PATH": fixture("repository_dispatch.health-check-passed.json"),
				"INPUT_OBJECT": "Kustomization/platform.flux-system", "INPUT_CLUSTER": "integration", "INPUT_REPOSITORY": tc.repo(srv.Host),
			}
			r := steptest.Invoke(t, command.Name, run, env, "--json")
			if got, want := r.Code, tc.code; got != want {
				t.Fatalf("exit %d, want %d:\n%s%s", got, want, r.Stdout, r.Stderr)
			}
			if tc.code != 0 {
				return
			}
			var got map[string]string
			if err := json.Unmarshal([]byte(r.Stdout), &got); err != nil {
				t.Fatalf("stdout is not JSON: %v\n%s", err, r.Stdout)
			}
			if got["promote"] != tc.promote || !strings.HasPrefix(got["reason"], tc.reason) {
				t.Errorf("outputs = %v, want promote=%s and a reason starting %q", got, tc.promote, tc.reason)
			}
			if tc.promote == "false" && (got["digest"] != "" || got["revision"] != "") {
				t.Errorf("a held decision names an artifact: %v", got)
			}
		})
	}
}
