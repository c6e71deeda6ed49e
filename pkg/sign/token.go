package sign

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
)

// TokenAudience is the audience Fulcio requires of the OIDC identity token it certifies.
const TokenAudience = "sigstore"

// maxToken bounds an identity token read (a GitHub Actions token is about 1.5 KB).
const maxToken = 64 << 10

// GitHubToken asks GitHub Actions' token endpoint for an OIDC identity token with audience
// sigstore. A job with `permissions: id-token: write` has the endpoint's URL in
// ACTIONS_ID_TOKEN_REQUEST_URL and a bearer token for it in ACTIONS_ID_TOKEN_REQUEST_TOKEN; the
// answer is {"value": "<JWT>"} (GitHub docs, "Configuring OpenID Connect in cloud providers").
// client nil is http.DefaultClient.
func GitHubToken(ctx context.Context, client *http.Client, requestURL, requestToken string) (string, error) {
	if requestURL == "" || requestToken == "" {
		return "", errors.New("no GitHub Actions identity token: ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN are not set; give the job `permissions: id-token: write` (or, outside Actions, pass input identity_token_file)")
	}
	u, err := url.Parse(requestURL)
	if err != nil {
		return "", fmt.Errorf("ACTIONS_ID_TOKEN_REQUEST_URL is not a URL: %w", err)
	}
	q := u.Query()
	q.Set("audience", TokenAudience)
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "bearer "+requestToken)
	req.Header.Set("Accept", "application/json")
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("request a GitHub Actions identity token: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxToken))
	if err != nil {
		return "", fmt.Errorf("read the GitHub Actions identity token: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GitHub Actions' token endpoint answered %s: %s", resp.Status, strings.TrimSpace(string(body)))
	}
	var answer struct {
		Value string `json:"value"`
	}
	if err := json.Unmarshal(body, &answer); err != nil || answer.Value == "" {
		return "", fmt.Errorf("GitHub Actions' token endpoint answered no token (%d bytes)", len(body))
	}
	return answer.Value, nil
}

// ReadToken reads an identity token from a file (its whitespace trimmed): for a test, or a
// setup that gets its token another way.
func ReadToken(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("identity token file: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxToken))
	if err != nil {
		return "", fmt.Errorf("identity token file %s: %w", path, err)
	}
	return strings.TrimSpace(string(b)), nil
}

// Claims are the GitHub Actions claims of an identity token that Fulcio puts in the certificate.
type Claims struct {
	Issuer     string `json:"iss"`
	Repository string `json:"repository"`
	Ref        string `json:"ref"`
	Sha        string `json:"sha"`
	// JobWorkflowRef is OWNER/REPO/PATH@REF of the workflow file running the job: the
	// certificate's identity is https://github.com/ followed by it.
	JobWorkflowRef string `json:"job_workflow_ref"`
}

// ParseClaims reads token's claims without checking its signature: Fulcio checks the token; the
// claims only say which signer the new certificate will name, so that an existing signature of
// that signer is recognised.
func ParseClaims(token string) (Claims, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return Claims{}, errors.New("the identity token is not a JWT")
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return Claims{}, fmt.Errorf("the identity token's claims are not base64url: %w", err)
	}
	var c Claims
	if err := json.Unmarshal(b, &c); err != nil {
		return Claims{}, fmt.Errorf("the identity token's claims are not JSON: %w", err)
	}
	return c, nil
}

// Policy is the signer a certificate for these claims names: the workflow of the repository at
// the ref and commit the job ran on.
func (c Claims) Policy() (Policy, error) {
	if c.Issuer == "" || c.Repository == "" || c.Ref == "" || c.Sha == "" || c.JobWorkflowRef == "" {
		return Policy{}, fmt.Errorf("the identity token is not a GitHub Actions token (issuer %s, claims repository, ref, sha and job_workflow_ref needed): sign in a GitHub Actions job with `permissions: id-token: write`", quote(c.Issuer))
	}
	wf, ref, ok := strings.Cut(c.JobWorkflowRef, "@")
	path, inRepo := strings.CutPrefix(wf, c.Repository+"/")
	if !ok || !inRepo || ref != c.Ref {
		return Policy{}, fmt.Errorf("the job's workflow %s is not a workflow of %s at %s (a reusable workflow of another repository signs as that repository): sign in %s's own build workflow", quote(c.JobWorkflowRef), c.Repository, c.Ref, c.Repository)
	}
	return Policy{Issuer: c.Issuer, Repository: c.Repository, Workflow: path, Ref: c.Ref, Commit: c.Sha}, nil
}
