package flux

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ocipromote/ocipromote/pkg/sign/signtest"
)

// sigstore is the offline Sigstore the loop signs and verifies with: signtest's Fulcio (GitHub-
// shaped certificates with an embedded SCT) and Rekor (a transparency-log entry per signature)
// on loopback, and its trusted_root.json, which the steps take as input trusted_root and both
// clusters' OCIRepositories through trustedRootSecretRef.
type sigstore struct {
	ss               *signtest.Sigstore
	fulcio, rekor    string
	trustedRoot, dir string
}

// trustedRootSecret names the Secret holding trusted_root.json in each cluster's namespace.
const trustedRootSecret = "sigstore-trusted-root"

func startSigstore(t *testing.T) *sigstore {
	t.Helper()
	ss, err := signtest.New()
	if err != nil {
		t.Fatal(err)
	}
	fulcio, rekor := signtest.Serve(t, ss)
	return &sigstore{ss: ss, fulcio: fulcio, rekor: rekor, trustedRoot: signtest.TrustedRootFile(t, ss), dir: t.TempDir()}
}

// signInputs are build-rc's inputs that sign as id: the job's OIDC token for id (what
// id-token: write gives the real job) in a file, and the offline Fulcio, Rekor and trusted root.
func (s *sigstore) signInputs(t *testing.T, id signtest.Identity) map[string]string {
	t.Helper()
	tok, err := s.ss.Token(id, signtest.Audience)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.CreateTemp(s.dir, "token")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(tok); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return map[string]string{"sign": "true", "fulcio_url": s.fulcio, "rekor_url": s.rekor,
		"trusted_root": s.trustedRoot, "identity_token_file": f.Name()}
}

// signer says how a commit's candidate is signed: by the identity it returns for the commit, or
// not at all (nil), as a candidate pushed by hand.
type signer func(sha string) *signtest.Identity

// mainBuild is the examples' signer: build-rc.yaml on main of the repository, at the commit.
func mainBuild(repo string) signer {
	return func(sha string) *signtest.Identity {
		id := signtest.GitHub(repo, ".github/workflows/build-rc.yaml", sha)
		return &id
	}
}

// verifyFailed is "" when the OCIRepository in ns is not Ready because its signature check
// failed, else what it reports instead.
func (p *pipeline) verifyFailed(t *testing.T, ns string) string {
	t.Helper()
	ready, _ := p.k.tryKubectl("", "-n", ns, "get", "ocirepository", "platform", "-o", `jsonpath={.status.conditions[?(@.type=="Ready")].status} {.status.conditions[?(@.type=="Ready")].reason}: {.status.conditions[?(@.type=="Ready")].message}`)
	if strings.HasPrefix(ready, "False VerificationError") {
		return ""
	}
	return "Ready " + ready
}

// promoteRefused runs promote.yaml's tag-validated step for c as if decide had said promote (a
// forged or replayed event naming it) and checks that it exits 1 saying reason, writing no tag.
func (p *pipeline) promoteRefused(t *testing.T, c candidate, reason string) {
	t.Helper()
	values := map[string]string{
		"needs.decide.outputs.revision": c.revision(), "needs.decide.outputs.digest": c.digest,
		"needs.decide.outputs.sha": c.sha, "needs.decide.outputs.cluster": "integration",
		"needs.decide.outputs.message": "Health check passed", "needs.decide.outputs.time": time.Now().UTC().Format(time.RFC3339),
	}
	inputs := p.inputs(t, p.promote.action(t, "promote", "tag-validated").With, values)
	if inputs["verify"] != "true" {
		t.Fatalf("promote.yaml's tag-validated step does not verify: %v", inputs)
	}
	inputs["deployments"], inputs["release"], inputs["comment_prs"] = "false", "false", "false"
	inputs["trusted_root"] = p.sigstore.trustedRoot
	env := []string{"GITHUB_OUTPUT=" + filepath.Join(t.TempDir(), "output")}
	for k, v := range inputs {
		env = append(env, "INPUT_"+strings.ToUpper(k)+"="+v)
	}
	for k, v := range p.githubContext("", "repository_dispatch", writeJSON(t, map[string]any{})) {
		env = append(env, k+"="+v)
	}
	before := p.allTags(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	_, err := runIn(ctx, t.TempDir(), env, filepath.Join(p.bin, "tag-validated"))
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 || !strings.Contains(err.Error(), reason) {
		t.Errorf("tag-validated --verify of %s: %v, want exit 1 saying %s", c.revision(), err, reason)
	}
	if after := p.allTags(t); !slices.Equal(before, after) {
		t.Errorf("refused, yet the tags changed: %v -> %v", before, after)
	}
}

// refusedByFlux waits until the integration OCIRepository fails to verify its newest candidate
// with a message other than previous (a second refusal is told from the first by its message)
// and checks that both clusters still have what they had: the real source-controller refused it.
func (p *pipeline) refusedByFlux(t *testing.T, previous string) string {
	t.Helper()
	integration, _ := p.selected(t, "flux-system")
	live, _ := p.selected(t, "live")
	var msg string
	waitFor(t, "integration's OCIRepository refuses the signature", func() string {
		if why := p.verifyFailed(t, "flux-system"); why != "" {
			return why
		}
		msg, _ = p.k.tryKubectl("", "-n", "flux-system", "get", "ocirepository", "platform", "-o", `jsonpath={.status.conditions[?(@.type=="SourceVerified")].message}`)
		if msg == previous {
			return "still the earlier refusal: " + msg
		}
		return ""
	})
	t.Logf("source-controller: %s", msg)
	if src, _ := p.selected(t, "flux-system"); src != integration {
		t.Errorf("integration's OCIRepository moved from %s to %s", integration, src)
	}
	if src, _ := p.selected(t, "live"); src != live {
		t.Errorf("live's OCIRepository moved from %s to %s", live, src)
	}
	return msg
}

// verified checks that the OCIRepository in ns verified the signature of the revision it has:
// source-controller records it in condition SourceVerified.
func (p *pipeline) verified(t *testing.T, ns, revision string) {
	t.Helper()
	got := p.k.kubectl(t, "", "-n", ns, "get", "ocirepository", "platform", "-o", `jsonpath={.status.conditions[?(@.type=="SourceVerified")].status} {.status.conditions[?(@.type=="SourceVerified")].message}`)
	if !strings.HasPrefix(got, "True ") || !strings.Contains(got, strings.TrimPrefix(revision[strings.Index(revision, "@")+1:], "sha256:")) {
		t.Errorf("OCIRepository %s/platform SourceVerified = %q, want True for %s", ns, got, revision)
	}
}

// signatures runs rollback.yaml's status step with verify on (against the offline trusted root)
// and returns each artifact's signature outcome by commit.
func (p *pipeline) signatures(t *testing.T) map[string]string {
	t.Helper()
	s := p.rollback.action(t, "rollback", "status")
	inputs := p.inputs(t, s.With, nil)
	inputs["verify"], inputs["trusted_root"], inputs["signer_repository"] = "true", p.sigstore.trustedRoot, p.gh.repo
	env := []string{}
	for k, v := range inputs {
		env = append(env, "INPUT_"+strings.ToUpper(k)+"="+v)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := runIn(ctx, t.TempDir(), env, filepath.Join(p.bin, "ocipromote"), "status", "--json")
	if err != nil {
		t.Fatalf("ocipromote status --verify: %v", err)
	}
	var r struct {
		Artifacts []struct {
			Sha       string `json:"sha"`
			Signature *struct {
				Outcome string `json:"outcome"`
			} `json:"signature"`
		} `json:"artifacts"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("ocipromote status --verify --json: %v: %s", err, out)
	}
	got := map[string]string{}
	for _, a := range r.Artifacts {
		if a.Signature != nil {
			got[a.Sha] = a.Signature.Outcome
		}
	}
	return got
}
