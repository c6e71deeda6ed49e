package prune

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/go-github/v62/github"

	"github.com/ocipromote/ocipromote/pkg/oci"
)

// The ways to delete, as the delete_api input names them.
const (
	APIAuto   = "auto"
	APIOCI    = "oci"
	APIGitHub = "github"
)

// GitHubTimeout bounds each request to GitHub's API, so a stalled connection fails the run
// instead of holding it until the job's timeout.
const GitHubTimeout = 30 * time.Second

// DeleterOptions choose and configure the deleter of a repository.
type DeleterOptions struct {
	// API is APIOCI, APIGitHub, or APIAuto ("" too): GitHub's Packages API for ghcr.io, which does
	// not implement the OCI manifest DELETE, else the OCI API.
	API string
	// Username and Password are the registry credentials for the OCI API (else the Docker config).
	Username, Password string
	// Insecure reaches the registry over plain HTTP (the insecure input).
	Insecure bool
	// GitHubAPIURL (default https://api.github.com/) and GitHubToken are for GitHub's Packages API.
	GitHubAPIURL, GitHubToken string
	// Transport replaces the HTTP transport (tests).
	Transport http.RoundTripper
}

// NewDeleter picks how manifests of repository are deleted. Its errors are all about the inputs.
func NewDeleter(repository string, o DeleterOptions) (Deleter, error) {
	repo, err := oci.ParseRepository(repository, o.Insecure)
	if err != nil {
		return nil, err
	}
	api := o.API
	if api == "" || api == APIAuto {
		api = APIOCI
		if repo.RegistryStr() == GHCR {
			api = APIGitHub
		}
	}
	switch api {
	case APIOCI:
		return NewOCI(repo, OCIOptions{Username: o.Username, Password: o.Password, Transport: o.Transport}), nil
	case APIGitHub:
		owner, pkg, err := PackageOf(repo)
		if err != nil {
			return nil, err
		}
		apiURL := o.GitHubAPIURL
		if apiURL == "" {
			apiURL = "https://api.github.com/"
		}
		base, err := url.Parse(strings.TrimSuffix(apiURL, "/") + "/")
		if err != nil || (base.Scheme != "https" && base.Scheme != "http") || base.Host == "" {
			return nil, fmt.Errorf("github_api_url %q is not an http(s) URL such as https://api.github.com/", apiURL)
		}
		if o.GitHubToken == "" {
			return nil, fmt.Errorf("delete_api github needs github_token (or GITHUB_TOKEN) with read:packages and delete:packages")
		}
		client := github.NewClient(&http.Client{Transport: o.Transport, Timeout: GitHubTimeout}).WithAuthToken(o.GitHubToken)
		client.BaseURL = base
		return NewGitHub(client, owner, pkg), nil
	}
	return nil, fmt.Errorf("delete_api must be %s, %s or %s, got %q", APIAuto, APIOCI, APIGitHub, api)
}
