package act

import (
	"bytes"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"

	"github.com/ocipromote/ocipromote/pkg/sign/signtest"
)

// sigstore is the offline Sigstore the example workflows sign with and verify against: GitHub's
// OIDC token endpoint, Fulcio and Rekor on loopback, and their trusted root in a file.
type sigstore struct {
	flags       []string // act flags: the token endpoint, as the runner hands it to a job with id-token: write
	fulcio      string
	rekor       string
	trustedRoot string
}

// startSigstore starts the services. The token endpoint answers for the job building the
// workspace's HEAD, as GitHub's answers for the job whose request token asks: the build workflow
// of githubRepository on main at the commit being built.
func startSigstore(t *testing.T, workspace string) sigstore {
	t.Helper()
	ss, err := signtest.New()
	if err != nil {
		t.Fatal(err)
	}
	job := func() (signtest.Identity, error) {
		cmd := exec.Command("git", "rev-parse", "HEAD")
		cmd.Dir = workspace
		head, err := cmd.Output()
		if err != nil {
			return signtest.Identity{}, err
		}
		return signtest.GitHub(githubRepository, ".github/workflows/"+buildRCWorkflow, strings.TrimSpace(string(head))), nil
	}
	const requestToken = "act-id-token-request"
	tokens := httptest.NewServer(ss.TokenEndpoint(job, requestToken, nil))
	t.Cleanup(tokens.Close)
	fulcio, rekor := signtest.Serve(t, ss)
	return sigstore{
		flags: []string{"--env", "ACTIONS_ID_TOKEN_REQUEST_URL=" + tokens.URL + "/token?api-version=2.0",
			"--env", "ACTIONS_ID_TOKEN_REQUEST_TOKEN=" + requestToken},
		fulcio: fulcio, rekor: rekor, trustedRoot: signtest.TrustedRootFile(t, ss),
	}
}

// point makes a workflow sign with, and verify against, this Sigstore instead of the public-good
// one, which is not reachable here: the one change test/act makes to the example workflows.
func (s sigstore) point(t *testing.T, name string, b []byte) []byte {
	t.Helper()
	// edit adds with after line, which must occur times times.
	edit := func(line, with string, times int) {
		if n := bytes.Count(b, []byte(line)); n != times {
			t.Fatalf("%s: %q occurs %d times, want %d; update test/act's sigstore", name, line, n, times)
		}
		b = bytes.ReplaceAll(b, []byte(line), []byte(line+with))
	}
	const indent = "          "
	switch name {
	case buildRCWorkflow:
		edit(indent+"sign: true\n", indent+"fulcio_url: "+s.fulcio+"\n"+indent+"rekor_url: "+s.rekor+"\n"+indent+"trusted_root: "+s.trustedRoot+"\n", 1)
	case promoteWorkflow:
		edit(indent+"verify: true\n", indent+"trusted_root: "+s.trustedRoot+"\n", 1)
	case pendingWorkflow:
		// Its two promoting jobs, into preprod and into prod.
		edit(indent+"verify: true\n", indent+"trusted_root: "+s.trustedRoot+"\n", 2)
	case rollbackWorkflow:
		edit(indent+"INPUT_VERIFY: 'true'\n", indent+"INPUT_TRUSTED_ROOT: "+s.trustedRoot+"\n", 1)
	}
	return b
}

// fallbackTag is the referrers fallback tag of digest, sha256-<hex>.
func fallbackTag(digest string) string { return strings.Replace(digest, ":", "-", 1) }
