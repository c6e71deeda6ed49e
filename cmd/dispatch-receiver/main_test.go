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
			r := steptest.Invoke(t, command, run, env, "--json")
			if r.Code != tc.code {
				t.Fatalf("exit %d, want %d:\n%s", r.Code, tc.code, r.Stderr)
			}
			var got map[string]string
			if err := steptest.DecodeOutputs(r.Stdout, &got); err != nil {
				t.Fatalf("stdout is not JSON: %v\n%s", err, r.Stdout)
			}
			steptest.CheckSchema(t, r.Stdout, filepath.Join("..", "..", "testdata", "schema", "dispatch-receiver.json"))
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
		{"no event", nil, 2, "--event-name and --event-path"},
		{"malformed JSON", []string{"--event-name", "repository_dispatch", "--event-path", bad, "--object", "Kustomization/platform.flux-system"}, 1, "JSON"},
		{"oversized", []string{"--event-name", "repository_dispatch", "--event-path", huge, "--object", "Kustomization/platform.flux-system"}, 1, "larger than"},
		{"missing file", []string{"--event-name", "status", "--event-path", bad + ".nope"}, 1, "no such file"},
		{"other event", []string{"--event-name", "push", "--event-path", bad}, 2, "push"},
		{"bad pattern", []string{"--event-name", "repository_dispatch", "--event-path", fixture("repository_dispatch.health-check-passed.json"), "--object", "Kustomization/platform.flux-system", "--success-pattern", "("}, 2, "--success-pattern"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := steptest.Invoke(t, command, run, map[string]string{}, tc.args...)
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
				if _, err := hold.Set(context.Background(), reg, nil, hold.Record{Reason: "rollback", Actor: "alice", Time: time.Now()}, hold.Options{}); err != nil {
					t.Fatal(err)
				}
			}
			env := map[string]string{
				"GITHUB_EVENT_NAME": "repository_dispatch", "GITHUB_EVENT_PATH": fixture("repository_dispatch.health-check-passed.json"),
				"INPUT_OBJECT": "Kustomization/platform.flux-system", "INPUT_CLUSTER": "integration", "INPUT_REPOSITORY": tc.repo(srv.Host),
			}
			r := steptest.Invoke(t, command, run, env, "--json")
			if got, want := r.Code, tc.code; got != want {
				t.Fatalf("exit %d, want %d:\n%s%s", got, want, r.Stdout, r.Stderr)
			}
			if tc.code != 0 {
				return
			}
			var got map[string]string
			if err := steptest.DecodeOutputs(r.Stdout, &got); err != nil {
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

// Hostile and malformed inputs: each is refused with exit 1 or 2 and a message saying what is
// wrong and what to do; dispatch-receiver writes nothing by design, and the registry given for
// the hold check proves it.
func TestDispatchReceiverBadInputs(t *testing.T) {
	t.Parallel()
	srv := ocitest.New(t)
	repo := srv.Host + "/acme/app"
	tmp := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(tmp, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	badJSON := write("bad.json", `{"action": [`)
	huge := write("huge.json", `{"x":"`+strings.Repeat("a", 2<<20)+`"}`)
	manual := func(sha string) string {
		b, err := json.Marshal(map[string]any{"inputs": map[string]string{"sha": sha}, "sender": map[string]string{"login": "oncall"}})
		if err != nil {
			t.Fatal(err)
		}
		return write("manual-"+strings.NewReplacer("/", "_", "$", "_").Replace(sha)+".json", string(b))
	}
	const token = "ghp_DispatchT0ken"
	passed := fixture("repository_dispatch.health-check-passed.json")
	dispatch := func(extra ...string) []string {
		return append([]string{"--event-name", "repository_dispatch", "--event-path", passed, "--object", "Kustomization/platform.flux-system", "--repository", repo}, extra...)
	}
	tests := []struct {
		name string
		env  map[string]string
		args []string
		code int
		want []string // what is wrong, and what to do
	}{
		{"no event", nil, nil, 2, []string{"--event-name and --event-path are required", "run in GitHub Actions"}},
		{"malformed JSON", nil, []string{"--event-name", "repository_dispatch", "--event-path", badJSON, "--object", "Kustomization/platform.flux-system", "--repository", repo}, 1, []string{"is not valid JSON", "GITHUB_EVENT_PATH should be the event file GitHub wrote"}},
		{"oversized payload", nil, []string{"--event-name", "repository_dispatch", "--event-path", huge, "--object", "Kustomization/platform.flux-system", "--repository", repo}, 1, []string{"is larger than 1048576 bytes", "should be the event file GitHub wrote"}},
		{"missing event file", nil, []string{"--event-name", "status", "--event-path", badJSON + ".nope"}, 1, []string{"no such file", "should be the event file GitHub wrote"}},
		{"event path a directory", nil, []string{"--event-name", "status", "--event-path", tmp}, 1, []string{"is a directory", "should be the event file GitHub wrote"}},
		{"unknown event name", nil, []string{"--event-name", "push\n::error::x", "--event-path", passed}, 2, []string{`"push\n::error::x"`, "trigger the workflow only on those"}},
		{"hostile object", nil, []string{"--event-name", "repository_dispatch", "--event-path", passed, "--object", "Kustomization/$(id).x"}, 2, []string{`--object "Kustomization/$(id).x" is not <Kind>/<name>.<namespace>`, "for example Kustomization/platform.flux-system"}},
		{"repository with shell metacharacters", nil, []string{"--event-name", "repository_dispatch", "--event-path", fixture("repository_dispatch.change-set.json"), "--object", "Kustomization/platform.flux-system", "--repository", repo + ";rm -rf /"}, 2, []string{"is not REGISTRY/PATH", "for example ghcr.io"}},
		{"repository with a newline", nil, dispatch("--repository", repo+"\n::set-output name=promote::true"), 2, []string{`\n::set-output`, "contains a control character", "give REGISTRY/PATH"}},
		{"repository with a command as its registry", nil, dispatch("--repository", "$(id).io/acme/app"), 2, []string{`registry "$(id).io" is not a host name`, "give REGISTRY/PATH"}},
		{"repository with credentials", nil, dispatch("--repository", "ci:"+token+"@"+repo), 2, []string{"carries credentials", "pass the credentials as username and password"}},
		{"oversized repository", nil, dispatch("--repository", srv.Host+"/"+strings.Repeat("a", 600)), 2, []string{"over the 512-byte limit", "give REGISTRY/PATH"}},
		{"repository in upper case", nil, dispatch("--repository", srv.Host+"/Acme/App"), 2, []string{"is not a valid OCI repository reference", "in lower case"}},
		{"hostile cluster key", nil, dispatch("--cluster-key", "cluster\n::error::x"), 2, []string{`--cluster-key "cluster\n::error::x" is not a metadata key name`, "use the key your Alert's spec.eventMetadata sets"}},
		{"cluster key Flux owns", nil, dispatch("--cluster-key", "revision"), 2, []string{"is a metadata key Flux sets itself", "use the key your Alert's spec.eventMetadata sets"}},
		{"hostile cluster", nil, dispatch("--cluster", "integration;id"), 2, []string{`cluster "integration;id" is not a cluster name`, "use the value your Alert's spec.eventMetadata.cluster sets"}},
		{"hostile status context", nil, []string{"--event-name", "status", "--event-path", fixture("status.success.json"), "--status-context", "kustomization/`id`", "--repository", repo}, 2, []string{"is not a commit status context prefix", "use the start of the context Flux's github Provider posts"}},
		{"invalid success pattern", nil, dispatch("--success-pattern", "(Health"), 2, []string{`--success-pattern "(Health" is not a Go regular expression`, "fix it"}},
		{"success pattern too large to compile", nil, dispatch("--success-pattern", "(a{1000}){1000}"), 2, []string{"invalid repeat count", "--success-pattern"}},
		{"oversized success pattern", nil, dispatch("--success-pattern", strings.Repeat("a|", 1000)+"a"), 2, []string{"over the 1024-byte limit", "match the start of Flux's success message"}},
		{"manual sha of 3 characters", nil, []string{"--event-name", "workflow_dispatch", "--event-path", manual("9f2"), "--repository", repo}, 2, []string{`commit sha "9f2" is not 4 to 40 hex characters`, "give the full or short commit sha"}},
		{"manual sha with a command", nil, []string{"--event-name", "workflow_dispatch", "--event-path", manual("$(id)"), "--repository", repo}, 2, []string{`"$(id)"`, "give the full or short commit sha"}},
		{"password without username", map[string]string{"INPUT_PASSWORD": token}, dispatch(), 2, []string{"--username and --password go together", "give both, or neither"}},
		{"bad json input", map[string]string{"INPUT_JSON": "maybe"}, dispatch(), 2, []string{"INPUT_JSON must be true or false"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			steptest.Refused(t, command, run, tc.env, tc.args, steptest.Refusal{Code: tc.code, Say: tc.want, Secret: token})
		})
	}
	t.Cleanup(func() {
		if w := srv.Writes(); len(w) != 0 {
			t.Errorf("dispatch-receiver wrote to the registry: %v", w)
		}
	})
}

// Go's regexp is linear whatever the pattern: a pattern that backtracks catastrophically
// elsewhere decides at once on a long hostile message, and the answer is an ignore, not an error.
func TestDispatchReceiverCatastrophicPattern(t *testing.T) {
	t.Parallel()
	var ev map[string]any
	b, err := os.ReadFile(fixture("repository_dispatch.health-check-passed.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatal(err)
	}
	ev["client_payload"].(map[string]any)["message"] = strings.Repeat("a", 500_000) + "!"
	if b, err = json.Marshal(ev); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "event.json")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	r := steptest.Invoke(t, command, run, map[string]string{}, "--event-name", "repository_dispatch", "--event-path", path,
		"--object", "Kustomization/platform.flux-system", "--success-pattern", `^(a+)+$`, "--json")
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("deciding took %v", took)
	}
	var got map[string]string
	if err := steptest.DecodeOutputs(r.Stdout, &got); err != nil || r.Code != 0 {
		t.Fatalf("exit %d, stdout %q (%v):\n%s", r.Code, r.Stdout, err, r.Stderr)
	}
	if got["promote"] != "false" || !strings.Contains(got["reason"], "is not a success signal") {
		t.Errorf("outputs = %v, want an ignore saying the message is not a success signal", got)
	}
}

// A manual promotion's sha is read as tag-validated reads it: upper case is lowered, not refused.
func TestDispatchReceiverManualUpperCaseSha(t *testing.T) {
	t.Parallel()
	const sha = "9f2c4e1a7b3d5f60718293a4b5c6d7e8f9012345"
	for _, in := range []string{strings.ToUpper(sha), strings.ToUpper(sha[:7])} {
		b, err := json.Marshal(map[string]any{"inputs": map[string]string{"sha": in}})
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "event.json")
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		r := steptest.Invoke(t, command, run, map[string]string{}, "--event-name", "workflow_dispatch", "--event-path", path, "--json")
		var got map[string]string
		if err := steptest.DecodeOutputs(r.Stdout, &got); err != nil || r.Code != 0 {
			t.Fatalf("sha %s: exit %d, stdout %q (%v):\n%s", in, r.Code, r.Stdout, err, r.Stderr)
		}
		if got["promote"] != "true" || got["sha"] != strings.ToLower(in) {
			t.Errorf("sha %s: outputs = %v, want promote=true and sha=%s", in, got, strings.ToLower(in))
		}
	}
}

// Neither the registry password nor the job token appears in anything dispatch-receiver prints or
// writes (stdout, stderr but for the mask commands, GITHUB_OUTPUT, the job summary, --json), on a
// promotion that read the hold with them and on one the registry refused.
func TestDispatchReceiverNeverPrintsSecrets(t *testing.T) {
	t.Parallel()
	const password, token = "s3cr3t-Passw0rd-value", "ghs_JobT0kenValue"
	tests := []struct {
		name     string
		password string
		code     int
	}{
		{"hold read with the credentials", password, 0},
		{"credentials refused", password + "-wrong", 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := ocitest.New(t, ocitest.TokenAuth("ci", password, "pull", "push"))
			tmp := t.TempDir()
			out, summary := filepath.Join(tmp, "output"), filepath.Join(tmp, "summary")
			env := map[string]string{
				"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": out, "GITHUB_STEP_SUMMARY": summary, "GITHUB_TOKEN": token, "GITHUB_ACTOR": "ci",
				"GITHUB_EVENT_NAME": "repository_dispatch", "GITHUB_EVENT_PATH": fixture("repository_dispatch.health-check-passed.json"),
				"INPUT_OBJECT": "Kustomization/platform.flux-system", "INPUT_CLUSTER": "integration",
				"INPUT_REPOSITORY": srv.Host + "/acme/app", "INPUT_USERNAME": "ci", "INPUT_PASSWORD": tc.password,
			}
			r := steptest.Invoke(t, command, run, env, "--json")
			if r.Code != tc.code {
				t.Fatalf("exit %d, want %d:\n%s", r.Code, tc.code, r.Stderr)
			}
			if tc.code == 0 && !strings.Contains(r.Stdout, `"promote":true`) {
				t.Errorf("stdout = %s, want promote=true", r.Stdout)
			}
			if len(srv.Requests()) == 0 {
				t.Error("the registry was not asked for the hold, so the credentials were not used")
			}
			for _, secret := range []string{tc.password, token} {
				if !strings.Contains(r.Stderr, "::add-mask::"+secret) {
					t.Errorf("%q is not masked in the Actions log:\n%s", secret, r.Stderr)
				}
				if where := steptest.Leaks(t, r, secret, out, summary); len(where) != 0 {
					t.Errorf("%q leaked into %v:\nstdout:\n%s\nstderr:\n%s", secret, where, r.Stdout, r.Stderr)
				}
			}
		})
	}
}
