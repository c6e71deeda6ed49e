package flux

import (
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ocipromote/ocipromote/pkg/sign/signtest"
	"github.com/ocipromote/ocipromote/test/registrytest"
)

const configMap = `apiVersion: v1
kind: ConfigMap
metadata:
  name: platform
  namespace: default
data:
  release: "%s"
`

// neverReady is a Deployment: with no kubelet its pods never run, so its health check fails as a
// real broken release's would.
const neverReady = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: never-ready
  namespace: default
spec:
  replicas: 1
  selector:
    matchLabels: {app: never-ready}
  template:
    metadata:
      labels: {app: never-ready}
    spec:
      containers:
        - name: app
          image: registry.invalid/never-ready:1
`

func configMapRelease(release string) string { return strings.Replace(configMap, "%s", release, 1) }

// TestFlux runs the examples' pipeline against real Flux: kube-apiserver and etcd on loopback,
// source- and kustomize-controller reconciling the example OCIRepositories and Kustomizations,
// notification-controller delivering the example Alerts through their Providers to a stand-in
// GitHub API, and the example workflows' steps answering each delivery.
func TestFlux(t *testing.T) {
	needTools(t, "etcd", "kubectl", "git", registrytest.Binary)
	began := time.Now()
	comps := buildComponents(t)
	p := &pipeline{bin: buildOcipromote(t), ws: t.TempDir(), gh: newGitHubAPI(t, "acme/platform"),
		promote: readWorkflow(t, "promote.yaml"), build: readWorkflow(t, "build-rc.yaml"),
		rollback: readWorkflow(t, "rollback.yaml"), capture: os.Getenv("OCIPROMOTE_FLUX_CAPTURE"), captured: map[string]bool{}}
	p.sigstore = startSigstore(t)
	p.registry = registrytest.Start(t)
	p.repo = p.registry + "/acme/platform-manifests"
	p.k = startCluster(t, comps)
	p.installFlux(t)
	p.git(t, "init", "-q", "-b", "main")
	t.Logf("cluster and examples up in %s", time.Since(began).Round(time.Second))
	scenarios := time.Now()
	defer func() { t.Logf("scenarios took %s", time.Since(scenarios).Round(time.Second)) }()

	// promoted checks that outs promoted c to version (at least one route, none to another
	// version) and that live then applied that same digest.
	promoted := func(t *testing.T, outs []outcome, c candidate, version, release string) {
		t.Helper()
		n := 0
		for _, o := range outs {
			if o.promote == nil {
				continue
			}
			if o.promote["digest"] != c.digest || o.promote["version"] != version {
				t.Fatalf("promoted %s@%s, want %s@%s: %s", o.promote["version"], o.promote["digest"], version, c.digest, o)
			}
			n++
		}
		if n == 0 {
			t.Fatalf("no delivery promoted %s: %v", c.revision(), outs)
		}
		p.applied(t, "live", version+"@"+c.digest)
		// Both clusters verified the signature of what they run (spec.verify with the offline
		// Sigstore's trusted root).
		p.verified(t, "live", version+"@"+c.digest)
		p.verified(t, "flux-system", c.revision())
		if got := p.configMapRelease(t, "live"); got != release {
			t.Errorf("live ConfigMap release = %q, want %q", got, release)
		}
		p.checkStatus(t)
	}
	// nothingPromoted checks that no delivery in outs promoted anything and that the stable tags
	// are still want.
	nothingPromoted := func(t *testing.T, outs []outcome, want []string) {
		t.Helper()
		for _, o := range outs {
			if o.promote != nil && o.promote["promoted"] == "true" {
				t.Errorf("promoted: %s", o)
			}
		}
		if got := p.stableTags(t); !slices.Equal(got, want) {
			t.Errorf("stable tags = %v, want %v", got, want)
		}
	}

	var first, second, noChange, fixed candidate
	var healthPassed outcome

	ok := t.Run("candidate reaches live through the real health-check dispatch", func(t *testing.T) {
		first = p.commit(t, "feat: platform config", map[string]string{"deploy/configmap.yaml": configMapRelease("1")})
		p.applied(t, "flux-system", first.revision())
		outs := p.await(t, "Health check passed dispatch and success status for "+first.version, func(ds []delivery) bool {
			return dispatchFor(ds, first.revision(), "Health check passed") && statusFor(ds, first.sha, "success")
		})
		for _, o := range outs {
			if o.delivery.Name == "repository_dispatch" && o.decide["promote"] == "true" {
				healthPassed = o
			}
		}
		if healthPassed.promote == nil || healthPassed.promote["promoted"] != "true" {
			t.Fatalf("the Health check passed dispatch did not promote: %v", outs)
		}
		promoted(t, outs, first, "0.0.1", "1")
	})
	if !ok {
		return
	}

	ok = t.Run("status route with the pinned status_context", func(t *testing.T) {
		second = p.commit(t, "feat: release 2", map[string]string{"deploy/configmap.yaml": configMapRelease("2")})
		p.applied(t, "flux-system", second.revision())
		// Hold the deliveries back to answer the status with a pinned context first.
		waitFor(t, "success status for "+second.sha[:7], func() string {
			if ds, _ := p.gh.since(p.mark); statusFor(ds, second.sha, "success") {
				return ""
			}
			return "none yet"
		})
		ds, _ := p.gh.since(p.mark)
		var status delivery
		for _, d := range ds {
			if d.Name == "status" && d.Payload["sha"] == second.sha {
				status = d
			}
		}
		uid := strings.TrimSpace(p.k.kubectl(t, "", "-n", "flux-system", "get", "provider", "github-status", "-o", "jsonpath={.metadata.uid}"))
		pinned := "kustomization/platform/" + strings.Split(uid, "-")[0]
		if status.Payload["context"] != pinned {
			t.Fatalf("status context = %v, want %s (the github Provider's uid)", status.Payload["context"], pinned)
		}
		// Another cluster's github Provider posts the same context with its own id.
		other := p.deliver(t, status, map[string]string{"status_context": "kustomization/platform/00000000"})
		if other.decide["promote"] != "false" || other.promote != nil {
			t.Fatalf("a status of another context was not ignored: %s", other)
		}
		o := p.deliver(t, status, map[string]string{"status_context": pinned})
		if o.promote == nil || o.promote["promoted"] != "true" {
			t.Fatalf("the pinned status_context did not promote: %s", o)
		}
		outs := p.await(t, "Health check passed dispatch for "+second.version, func(ds []delivery) bool {
			return dispatchFor(ds, second.revision(), "Health check passed")
		})
		promoted(t, append(outs, o), second, "0.0.2", "2")
	})
	if !ok {
		return
	}

	ok = t.Run("candidate that changes no object reaches live through the status route", func(t *testing.T) {
		noChange = p.commit(t, "docs: comment only", map[string]string{
			"deploy/configmap.yaml": "# The platform's settings; a comment changes no object.\n" + configMapRelease("2")})
		p.applied(t, "flux-system", noChange.revision())
		outs := p.await(t, "success status for "+noChange.sha[:7], func(ds []delivery) bool {
			return statusFor(ds, noChange.sha, "success")
		})
		for _, o := range outs {
			if dispatchFor([]delivery{o.delivery}, noChange.revision(), "") {
				t.Errorf("kustomize-controller sent a dispatch for a candidate that changes no object (the examples rely on the status route for it): %s", o)
			}
		}
		promoted(t, outs, noChange, "0.0.3", "2")
	})
	if !ok {
		return
	}

	ok = t.Run("candidate that never becomes healthy promotes nothing on either route", func(t *testing.T) {
		before := p.stableTags(t)
		broken := p.commit(t, "feat: a deployment", map[string]string{"deploy/deployment.yaml": neverReady})
		// The dispatch Alert's inclusionList lets only "Health check passed" through, so the
		// failure reaches GitHub as the failure status alone.
		outs := p.await(t, "failure status for "+broken.version, func(ds []delivery) bool {
			return statusFor(ds, broken.sha, "failure")
		})
		nothingPromoted(t, outs, before)
		for _, o := range outs {
			if dispatchFor([]delivery{o.delivery}, broken.revision(), "") {
				t.Errorf("a dispatch for the candidate that never became healthy: %s", o)
			}
		}
		live, _ := p.selected(t, "live")
		if live != "0.0.3@"+noChange.digest {
			t.Errorf("live selects %s, want 0.0.3@%s", live, noChange.digest)
		}
		p.checkStatus(t)

		fixed = p.commit(t, "fix: no deployment", map[string]string{"deploy/deployment.yaml": "", "deploy/configmap.yaml": configMapRelease("3")})
		outs = p.await(t, "Health check passed after the failure for "+fixed.version, func(ds []delivery) bool {
			return dispatchFor(ds, fixed.revision(), "Health check passed") && statusFor(ds, fixed.sha, "success")
		})
		promoted(t, outs, fixed, "0.0.4", "3")
	})
	if !ok {
		return
	}

	ok = t.Run("replays and late events promote nothing more", func(t *testing.T) {
		before := p.stableTags(t)
		o := p.deliver(t, healthPassed.delivery, nil)
		if o.promote == nil || o.promote["promoted"] != "false" {
			t.Errorf("a late Health check passed for %s: %s", first.version, o)
		}
		nothingPromoted(t, []outcome{o}, before)
		p.applied(t, "live", "0.0.4@"+fixed.digest)
		p.checkStatus(t)
	})
	if !ok {
		return
	}

	ok = t.Run("unsigned and foreign-signed candidates are refused by Flux and by tag-validated", func(t *testing.T) {
		before := p.stableTags(t)
		// Pushed with a candidate tag by someone with registry access, not by main's build.
		unsigned := p.commitSigned(t, "feat: pushed by hand", map[string]string{"deploy/configmap.yaml": configMapRelease("unsigned")},
			func(string) *signtest.Identity { return nil })
		first := p.refusedByFlux(t, "")
		p.promoteRefused(t, unsigned, "unsigned")
		// Signed keyless, with a valid certificate and log entry, but by the build workflow on
		// another branch: the one matchOIDCIdentity (refs/heads/main) refuses it.
		foreign := p.commitSigned(t, "feat: from a branch", map[string]string{"deploy/configmap.yaml": configMapRelease("branch")},
			func(sha string) *signtest.Identity {
				id := signtest.GitHub(p.gh.repo, ".github/workflows/build-rc.yaml", sha)
				id.Ref = "refs/heads/wip"
				return &id
			})
		p.refusedByFlux(t, first)
		p.promoteRefused(t, foreign, "untrusted-signer")
		// Whatever Flux reported meanwhile promotes nothing either.
		ds, next := p.gh.since(p.mark)
		p.mark = next
		var outs []outcome
		for _, d := range ds {
			outs = append(outs, p.deliver(t, d, nil))
		}
		nothingPromoted(t, outs, before)
		// status names the semver pick, which Flux refuses to take: with verify it shows why.
		sigs := p.signatures(t)
		for sha, want := range map[string]string{unsigned.sha: "unsigned", foreign.sha: "untrusted-signer", fixed.sha: "signed"} {
			if sigs[sha] != want {
				t.Errorf("ocipromote status --verify: %s is %q, want %s (all: %v)", sha[:7], sigs[sha], want, sigs)
			}
		}
		// The next candidate main's build signs moves integration past them and reaches live.
		signed := p.commit(t, "feat: release 5", map[string]string{"deploy/configmap.yaml": configMapRelease("5")})
		outs = p.await(t, "Health check passed and success for "+signed.version, func(ds []delivery) bool {
			return dispatchFor(ds, signed.revision(), "Health check passed") && statusFor(ds, signed.sha, "success")
		})
		promoted(t, outs, signed, "0.0.5", "5")
	})
	if !ok {
		return
	}

	t.Run("rollback is followed by live and later real events are held", func(t *testing.T) {
		s := p.rollback.named(t, "rollback", "rollback")
		inputs := map[string]string{}
		for k, v := range p.inputs(t, s.Env, map[string]string{"inputs.to": "0.0.2", "inputs.reason": "release 3 breaks checkout",
			"inputs.force": "false", "inputs.dry_run": "false", "github.actor": "oncall", "github.token": ""}) {
			if name, ok := strings.CutPrefix(k, "INPUT_"); ok {
				inputs[strings.ToLower(name)] = v
			}
		}
		// No GitHub records API here, as for build-rc and tag-validated: test/act and test/e2e
		// check the live deployment the rollback writes.
		inputs["deployments"] = "false"
		// verify as rollback.yaml sets it, against the offline Sigstore's trusted root.
		if inputs["verify"] != "true" {
			t.Fatalf("rollback.yaml's rollback step does not verify: inputs %v", inputs)
		}
		// This step runs without a GitHub context, so the signer's repository is given as
		// GITHUB_REPOSITORY would give it.
		inputs["trusted_root"], inputs["signer_repository"] = p.sigstore.trustedRoot, p.gh.repo
		args := strings.Fields(s.Run)
		r := runStep(t, p.bin+"/"+args[0], t.TempDir(), inputs, nil, args[1:]...)
		t.Logf("rollback: %v", r)
		p.applied(t, "live", "0.0.6@"+second.digest)
		if got := p.configMapRelease(t, "live"); got != "2" {
			t.Errorf("live ConfigMap release after the rollback = %q, want 2", got)
		}
		if st := p.checkStatus(t); st.Hold.State != "on" {
			t.Errorf("ocipromote status shows hold %q after the rollback, want on", st.Hold.State)
		}

		before := p.stableTags(t)
		late := p.commit(t, "feat: release 4", map[string]string{"deploy/configmap.yaml": configMapRelease("4")})
		outs := p.await(t, "Health check passed and success for "+late.version, func(ds []delivery) bool {
			return dispatchFor(ds, late.revision(), "Health check passed") && statusFor(ds, late.sha, "success")
		})
		held := 0
		for _, o := range outs {
			if strings.HasPrefix(o.decide["reason"], "held:") {
				held++
			}
		}
		if held < 2 {
			t.Errorf("%d deliveries answered held, want the dispatch and the status: %v", held, outs)
		}
		nothingPromoted(t, outs, before)
		p.applied(t, "live", "0.0.6@"+second.digest)
		p.checkStatus(t)
	})
}
