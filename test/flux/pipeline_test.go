package flux

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// pipeline is the examples' pipeline on loopback: a manifests repository (git), the registry,
// the stand-in GitHub API and the cluster with the examples applied.
type pipeline struct {
	bin      string // the ocipromote binaries
	ws       string // the git work tree build-rc runs in
	registry string
	repo     string // registry/acme/platform-manifests
	gh       *githubAPI
	k        *cluster
	promote  workflow
	build    workflow
	rollback workflow
	// mark is how many GitHub deliveries the scenarios have handled.
	mark int
	// capture, when set, is where the real payloads are written (OCIPROMOTE_FLUX_CAPTURE).
	capture  string
	captured map[string]bool
	// candidates are the commits built so far.
	candidates []candidate
	// sigstore signs the candidates and both clusters verify its signatures.
	sigstore *sigstore
}

// Timings substituted into the examples so that a scenario takes seconds, not minutes: sources
// are polled every few seconds and a candidate that never becomes healthy fails after 20 s
// (which kustomize-controller v1.9.6 reports after about 30 s).
const (
	sourceInterval = "5s"
	syncTimeout    = "20s"
	retryInterval  = "10s"
	// eventWait bounds how long a scenario waits for Flux to reconcile and deliver.
	eventWait = 3 * time.Minute
)

// buildOcipromote builds the binaries the example workflows run.
func buildOcipromote(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if _, err := runIn(ctx, repoRoot, nil, "go", "build", "-o", dir+"/", "./cmd/..."); err != nil {
		t.Fatalf("go build ./cmd/...: %v", err)
	}
	return dir
}

// substitute replaces old by new in an example, failing when old does not occur exactly once,
// so that a change to the examples is noticed rather than silently run differently.
func substitute(t *testing.T, file, s, old, new string) string {
	t.Helper()
	if n := strings.Count(s, old); n != 1 {
		t.Fatalf("%s: %q occurs %d times, want once; update the substitutions of test/flux", file, old, n)
	}
	return strings.Replace(s, old, new, 1)
}

func readExample(t *testing.T, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, "examples", "flux", rel))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// installFlux applies examples/flux as shipped, but for the registry address, insecure, the
// timings above and the live cluster's namespace: one API server plays both clusters, so live's
// OCIRepository and Kustomization live in namespace live and apply into it (targetNamespace).
func (p *pipeline) installFlux(t *testing.T) {
	t.Helper()
	k := p.k
	k.kubectl(t, "", "create", "namespace", "live")
	for _, ns := range []string{"flux-system", "live"} {
		// The examples' OCIRepositories name this secret; the registry on loopback asks for none.
		k.kubectl(t, "", "-n", ns, "create", "secret", "docker-registry", "ghcr-auth",
			"--docker-server="+p.registry, "--docker-username=flux", "--docker-password=unused")
	}
	for _, ns := range []string{"flux-system", "live"} {
		// trustedRootSecretRef: the offline Sigstore's root, where the examples verify against
		// the public-good one.
		k.kubectl(t, "", "-n", ns, "create", "secret", "generic", trustedRootSecret,
			"--from-file=trusted_root.json="+p.sigstore.trustedRoot)
	}
	for _, name := range []string{"github-dispatch-token", "github-status-token"} {
		// The Provider secret's address overrides spec.address: notification-controller then
		// calls the stand-in exactly as it would call GitHub.
		k.kubectl(t, "", "-n", "flux-system", "create", "secret", "generic", name,
			"--from-literal=token="+p.gh.token, "--from-literal=address="+p.gh.address())
	}

	source := func(file, interval string) string {
		s := readExample(t, file)
		s = substitute(t, file, s, "url: oci://ghcr.io/acme/platform-manifests\n",
			"url: oci://"+p.repo+"\n  insecure: true\n")
		// The examples verify keyless against the public-good Sigstore, which this offline loop
		// cannot reach: the same verification (one matchOIDCIdentity, the examples' own) runs
		// against the offline Sigstore's trusted root, whose signatures build-rc makes here.
		s = substitute(t, file, s, "    provider: cosign\n",
			"    provider: cosign\n    trustedRootSecretRef:\n      name: "+trustedRootSecret+"\n")
		return substitute(t, file, s, "interval: "+interval+"\n", "interval: "+sourceInterval+"\n")
	}
	sync := func(file string) string {
		s := readExample(t, file)
		s = substitute(t, file, s, "timeout: 5m\n", "timeout: "+syncTimeout+"\n")
		return substitute(t, file, s, "retryInterval: 1m\n", "retryInterval: "+retryInterval+"\n")
	}
	integration := []string{
		source("integration/source.yaml", "1m"), sync("integration/sync.yaml"),
		readExample(t, "integration/provider.yaml"), readExample(t, "integration/alert.yaml"),
		readExample(t, "integration-status/provider.yaml"), readExample(t, "integration-status/alert.yaml"),
	}
	liveSync := substitute(t, "live/sync.yaml", sync("live/sync.yaml"), "  path: ./\n", "  path: ./\n  targetNamespace: live\n")
	live := []string{source("live/source.yaml", "5m"), liveSync}
	for i := range live {
		live[i] = substitute(t, "live", live[i], "  namespace: flux-system\n", "  namespace: live\n")
	}
	k.kubectl(t, strings.Join(append(integration, live...), "\n---\n"), "apply", "-f", "-")
}

// candidate is one commit built by build-rc.
type candidate struct {
	sha, version, digest string
}

func (c candidate) revision() string { return c.version + "@" + c.digest }

// commit writes files (path → content; "" deletes) into the manifests repository, commits and
// runs build-rc as build-rc.yaml does, signing as build-rc.yaml on main.
func (p *pipeline) commit(t *testing.T, message string, files map[string]string) candidate {
	t.Helper()
	return p.commitSigned(t, message, files, mainBuild(p.gh.repo))
}

// commitSigned is commit with the candidate signed by by's identity, or not signed (by returns
// nil): build-rc run by whoever can push, not by the build workflow.
func (p *pipeline) commitSigned(t *testing.T, message string, files map[string]string, by signer) candidate {
	t.Helper()
	for path, content := range files {
		full := filepath.Join(p.ws, path)
		if content == "" {
			if err := os.Remove(full); err != nil {
				t.Fatal(err)
			}
			continue
		}
		write(t, full, content)
	}
	p.git(t, "add", "-A")
	p.git(t, "commit", "-q", "-m", message)
	sha := strings.TrimSpace(p.git(t, "rev-parse", "HEAD"))

	s := p.build.action(t, "build-rc", "build-rc")
	inputs := p.inputs(t, s.With, nil)
	// No GitHub records API here: test/act runs build-rc's deployments against its own stand-in.
	inputs["deployments"] = "false"
	// The offline Sigstore stands in for the public-good one, and a token file for the job's
	// OIDC token (id-token: write).
	if id := by(sha); id != nil {
		for k, v := range p.sigstore.signInputs(t, *id) {
			inputs[k] = v
		}
	} else {
		inputs["sign"] = "false"
	}
	r := runStep(t, filepath.Join(p.bin, "build-rc"), p.ws, inputs, p.githubContext(sha, "push", ""))
	if r.Outputs["pushed"] != "true" {
		t.Fatalf("build-rc did not push %s: %v", sha, r)
	}
	c := candidate{sha: sha, version: r.Outputs["version"], digest: r.Outputs["digest"]}
	p.candidates = append(p.candidates, c)
	t.Logf("build-rc: %s (%s) is %s", message, sha[:7], c.revision())
	return c
}

func (p *pipeline) git(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := runIn(ctx, p.ws, []string{"GIT_AUTHOR_NAME=dev", "GIT_AUTHOR_EMAIL=dev@acme.example",
		"GIT_COMMITTER_NAME=dev", "GIT_COMMITTER_EMAIL=dev@acme.example"}, "git", args...)
	if err != nil {
		t.Fatalf("git %s: %v", strings.Join(args, " "), err)
	}
	return out
}

// inputs expands a step's with: (or env:) and sets insecure, the one input the registry on
// loopback adds (plain HTTP, as the OCIRepositories' spec.insecure).
func (p *pipeline) inputs(t *testing.T, with map[string]string, values map[string]string) map[string]string {
	t.Helper()
	all := map[string]string{"vars.OCI_REPOSITORY": p.repo}
	for k, v := range values {
		all[k] = v
	}
	inputs := map[string]string{}
	for k, v := range with {
		inputs[k] = expand(t, v, all)
	}
	inputs["insecure"] = "true"
	return inputs
}

func (p *pipeline) githubContext(sha, event, eventPath string) map[string]string {
	return map[string]string{
		"GITHUB_SHA": sha, "GITHUB_REF_NAME": "main", "GITHUB_REPOSITORY": p.gh.repo,
		"GITHUB_SERVER_URL": "https://github.com", "GITHUB_EVENT_NAME": event, "GITHUB_EVENT_PATH": eventPath,
		"GITHUB_ACTOR": "oncall",
	}
}

// outcome is how promote.yaml answered one delivery.
type outcome struct {
	delivery delivery
	started  bool // the workflow ran (on: and the decide job's if: let it)
	decide   map[string]string
	promote  map[string]string // nil when the promote job did not run
}

func (o outcome) String() string {
	return fmt.Sprintf("%s %s → decide %v, promote %v", o.delivery.Name, summary(o.delivery), o.decide, o.promote)
}

// deliver runs promote.yaml for one delivery as GitHub would: on: filters it, the decide job
// runs dispatch-receiver with its with: inputs, and the promote job runs tag-validated only when
// decide says promote. extra overrides decide's inputs (the pinned status_context scenario).
func (p *pipeline) deliver(t *testing.T, d delivery, extra map[string]string) outcome {
	t.Helper()
	o := outcome{delivery: d}
	switch d.Name {
	case "repository_dispatch":
		types, _ := p.promote.On["repository_dispatch"].(map[string]any)["types"].([]any)
		if !slices.Contains(types, any(d.Payload["action"])) {
			return o
		}
	case "status":
		// The decide job's if: startsWith(github.event.context, 'kustomization/').
		if ctx, _ := d.Payload["context"].(string); !strings.HasPrefix(ctx, "kustomization/") {
			return o
		}
	}
	o.started = true
	event := writeJSON(t, d.Payload)
	decide := p.inputs(t, p.promote.action(t, "decide", "dispatch-receiver").With, nil)
	for k, v := range extra {
		decide[k] = v
	}
	o.decide = runStep(t, filepath.Join(p.bin, "dispatch-receiver"), t.TempDir(), decide, p.githubContext("", d.Name, event)).Outputs
	if o.decide["promote"] != "true" {
		return o
	}
	values := map[string]string{}
	for k, v := range o.decide {
		values["needs.decide.outputs."+k] = v
	}
	inputs := p.inputs(t, p.promote.action(t, "promote", "tag-validated").With, values)
	// No GitHub records API here (test/act covers them). verify as promote.yaml sets it, against
	// the offline Sigstore's trusted root rather than the public-good one.
	inputs["deployments"], inputs["release"], inputs["comment_prs"] = "false", "false", "false"
	inputs["trusted_root"] = p.sigstore.trustedRoot
	o.promote = runStep(t, filepath.Join(p.bin, "tag-validated"), t.TempDir(), inputs, p.githubContext("", d.Name, event)).Outputs
	return o
}

// await waits until the deliveries since the last handled one satisfy done, then runs
// promote.yaml for each of them, in order, and returns the outcomes.
func (p *pipeline) await(t *testing.T, what string, done func([]delivery) bool) []outcome {
	t.Helper()
	deadline := time.Now().Add(eventWait)
	for {
		ds, _ := p.gh.since(p.mark)
		if done(ds) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s from Flux within %s; deliveries so far: %s", what, eventWait, summaries(ds))
		}
		time.Sleep(time.Second)
	}
	// Events of one reconciliation arrive within moments of each other: take the stragglers too.
	time.Sleep(3 * time.Second)
	ds, next := p.gh.since(p.mark)
	p.mark = next
	var outs []outcome
	for _, d := range ds {
		p.record(t, d)
		o := p.deliver(t, d, nil)
		t.Logf("%s", o)
		outs = append(outs, o)
	}
	return outs
}

// summary is one line for a delivery: its message or state, and revision or sha.
func summary(d delivery) string {
	if d.Name == "status" {
		return fmt.Sprintf("%v %v %q on %v", d.Payload["context"], d.Payload["state"], d.Payload["description"], d.Payload["sha"])
	}
	cp, _ := d.Payload["client_payload"].(map[string]any)
	meta, _ := cp["metadata"].(map[string]any)
	return fmt.Sprintf("%v %q (%v)", cp["severity"], cp["message"], meta["revision"])
}

func summaries(ds []delivery) string {
	var s []string
	for _, d := range ds {
		s = append(s, d.Name+": "+summary(d))
	}
	return "[" + strings.Join(s, "; ") + "]"
}

// dispatchFor reports whether ds hold a dispatch for revision whose message starts with prefix.
func dispatchFor(ds []delivery, revision, prefix string) bool {
	for _, d := range ds {
		if d.Name != "repository_dispatch" {
			continue
		}
		cp, _ := d.Payload["client_payload"].(map[string]any)
		meta, _ := cp["metadata"].(map[string]any)
		msg, _ := cp["message"].(string)
		if meta["revision"] == revision && strings.HasPrefix(msg, prefix) {
			return true
		}
	}
	return false
}

// statusFor reports whether ds hold a commit status on sha in state.
func statusFor(ds []delivery, sha, state string) bool {
	return slices.ContainsFunc(ds, func(d delivery) bool {
		return d.Name == "status" && d.Payload["sha"] == sha && d.Payload["state"] == state
	})
}

// waitFor polls until check returns "" (or fails the test with its last answer).
func waitFor(t *testing.T, what string, check func() string) {
	t.Helper()
	deadline := time.Now().Add(eventWait)
	for {
		last := check()
		if last == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s: %s", what, eventWait, last)
		}
		time.Sleep(time.Second)
	}
}

// applied waits until the Kustomization in ns has applied revision (and its OCIRepository
// selected it).
func (p *pipeline) applied(t *testing.T, ns, revision string) {
	t.Helper()
	waitFor(t, ns+" applies "+revision, func() string {
		src, _ := p.k.tryKubectl("", "-n", ns, "get", "ocirepository", "platform", "-o", "jsonpath={.status.artifact.revision}")
		ks, _ := p.k.tryKubectl("", "-n", ns, "get", "kustomization", "platform", "-o", "jsonpath={.status.lastAppliedRevision}")
		if src == revision && ks == revision {
			return ""
		}
		return fmt.Sprintf("OCIRepository %s/platform has %q, Kustomization %s/platform applied %q", ns, src, ns, ks)
	})
}

// selected is what the controllers of ns have now: the OCIRepository's artifact revision and the
// revision the Kustomization last attempted (applied, or failed to prove healthy).
func (p *pipeline) selected(t *testing.T, ns string) (source, attempted string) {
	t.Helper()
	source = p.k.kubectl(t, "", "-n", ns, "get", "ocirepository", "platform", "-o", "jsonpath={.status.artifact.revision}")
	attempted = p.k.kubectl(t, "", "-n", ns, "get", "kustomization", "platform", "-o", "jsonpath={.status.lastAttemptedRevision}")
	return source, attempted
}

// statusReport runs `ocipromote status --json` as rollback.yaml's status step does.
type statusReport struct {
	Selections []struct {
		Name   string `json:"name"`
		Tag    string `json:"tag"`
		Digest string `json:"digest"`
		Held   bool   `json:"held"`
	} `json:"selections"`
	Hold struct {
		State string `json:"state"`
	} `json:"hold"`
}

// checkStatus checks that `ocipromote status` names exactly what each cluster's controllers
// selected and applied.
func (p *pipeline) checkStatus(t *testing.T) statusReport {
	t.Helper()
	s := p.rollback.action(t, "rollback", "status")
	inputs := p.inputs(t, s.With, nil)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	env := []string{}
	for k, v := range inputs {
		env = append(env, "INPUT_"+strings.ToUpper(k)+"="+v)
	}
	out, err := runIn(ctx, t.TempDir(), env, filepath.Join(p.bin, "ocipromote"), "status", "--json")
	if err != nil {
		t.Fatalf("ocipromote status: %v", err)
	}
	var r statusReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("ocipromote status --json: %v: %s", err, out)
	}
	for _, c := range []struct{ name, ns string }{{"integration", "flux-system"}, {"live", "live"}} {
		source, attempted := p.selected(t, c.ns)
		i := slices.IndexFunc(r.Selections, func(s struct {
			Name   string `json:"name"`
			Tag    string `json:"tag"`
			Digest string `json:"digest"`
			Held   bool   `json:"held"`
		}) bool {
			return s.Name == c.name
		})
		if i < 0 {
			t.Fatalf("ocipromote status names no %s selection: %s", c.name, out)
		}
		got := r.Selections[i].Tag + "@" + r.Selections[i].Digest
		if got != source || got != attempted {
			t.Errorf("ocipromote status says %s selects %s; its OCIRepository has %s and its Kustomization attempted %s", c.name, got, source, attempted)
		}
	}
	return r
}

// allTags lists every tag of the repository, sorted.
func (p *pipeline) allTags(t *testing.T) []string {
	t.Helper()
	resp, err := http.Get("http://" + p.registry + "/v2/acme/platform-manifests/tags/list?n=10000")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var list struct {
		Tags []string `json:"tags"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		t.Fatal(err)
	}
	slices.Sort(list.Tags)
	return list.Tags
}

// stableTags lists the stable tags X.Y.Z in the registry, sorted.
func (p *pipeline) stableTags(t *testing.T) []string {
	t.Helper()
	var stable []string
	for _, tag := range p.allTags(t) {
		if strings.Count(tag, ".") == 2 && !strings.ContainsAny(tag, "-abcdefghijklmnopqrstuvwxyz") {
			stable = append(stable, tag)
		}
	}
	return stable
}

// configMapRelease is the data.release of ConfigMap platform in ns ("" when absent).
func (p *pipeline) configMapRelease(t *testing.T, ns string) string {
	t.Helper()
	out, _ := p.k.tryKubectl("", "-n", ns, "get", "configmap", "platform", "-o", "jsonpath={.data.release}")
	return out
}

func needTools(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is not on PATH: run make deps (scripts/deps.sh) first", tool)
		}
	}
}
