package sign_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ocipromote/ocipromote/pkg/sign"
	"github.com/ocipromote/ocipromote/pkg/sign/signtest"
)

const (
	repoName = "acme/platform"
	workflow = ".github/workflows/build.yml"
	sha      = "0123456789abcdef0123456789abcdef01234567"
)

func TestGitHubToken(t *testing.T) {
	t.Parallel()
	ss, err := signtest.New()
	if err != nil {
		t.Fatal(err)
	}
	id := signtest.GitHub(repoName, workflow, sha)
	var issued int
	srv := httptest.NewServer(ss.TokenEndpoint(signtest.Job(id), "request-token", &issued))
	t.Cleanup(srv.Close)
	// The runner's URL already carries a query (api-version); audience is added to it.
	tok, err := sign.GitHubToken(context.Background(), nil, srv.URL+"/token?api-version=2.0", "request-token")
	if err != nil {
		t.Fatal(err)
	}
	c, err := sign.ParseClaims(tok)
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.Policy()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := p, (sign.Policy{Issuer: sign.GitHubIssuer, Repository: repoName, Workflow: workflow, Ref: "refs/heads/main", Commit: sha}); got != want {
		t.Errorf("policy from the token = %+v, want %+v", got, want)
	}
	if issued != 1 {
		t.Errorf("%d tokens issued, want 1", issued)
	}
	if _, err := sign.GitHubToken(context.Background(), nil, srv.URL+"/token", "wrong"); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("wrong request token: err = %v, want the endpoint's 401", err)
	}
	if _, err := sign.GitHubToken(context.Background(), nil, "", ""); err == nil || !strings.Contains(err.Error(), "id-token: write") {
		t.Errorf("no token endpoint: err = %v, want it to name id-token: write", err)
	}
}

// A reusable workflow of another repository signs as that repository's workflow, which no
// policy of this repository accepts: refused before anything is signed.
func TestClaimsPolicyReusableWorkflow(t *testing.T) {
	t.Parallel()
	c := sign.Claims{Issuer: sign.GitHubIssuer, Repository: repoName, Ref: "refs/heads/main", Sha: sha, JobWorkflowRef: "other/shared/.github/workflows/build.yml@refs/heads/main"}
	if _, err := c.Policy(); err == nil || !strings.Contains(err.Error(), "reusable workflow") {
		t.Errorf("err = %v, want a reusable workflow refusal", err)
	}
}
