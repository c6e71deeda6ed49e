package prune

import (
	"fmt"
	"net/http"
	"time"

	"github.com/ocipromote/ocipromote/pkg/ghapi"

	"github.com/ocipromote/ocipromote/pkg/oci"
)

// The ways to delete, as the delete_api input names them.
const (
	APIAuto   = "auto"
	APIOCI    = "oci"
	APIGitHub = "github"
)

// DeleterOptions choose and configure the deleter of a repository.
type DeleterOptions struct {
	// API is APIOCI, APIGitHub, or APIAuto ("" too): GitHub's Packages API for GitHub's Container
	// registry (IsGitHubPackages), which does not implement the OCI manifest DELETE, else the OCI API.
	API string
	// Username and Password are the registry credentials for the OCI API (else the Docker config).
	Username, Password string
	// Insecure reaches the registry over plain HTTP (the insecure input).
	Insecure bool
	// GitHubAPIURL (default https://api.github.com/) and GitHubToken are for GitHub's Packages API.
	GitHubAPIURL, GitHubToken string
	// GitHubServerURL (GITHUB_SERVER_URL) tells auto a GitHub Enterprise Server's registry,
	// containers.HOST.
	GitHubServerURL string
	// WriteInterval spaces the DELETEs (GitHub asks for a second between writes).
	WriteInterval time.Duration
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
		if IsGitHubPackages(repo.RegistryStr(), o.GitHubServerURL) {
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
		if o.GitHubToken == "" {
			return nil, fmt.Errorf("delete_api github needs github_token (or GITHUB_TOKEN): %s", adminHelp)
		}
		client, err := ghapi.New(ghapi.Options{APIURL: o.GitHubAPIURL, Token: o.GitHubToken, Transport: o.Transport, WriteInterval: o.WriteInterval})
		if err != nil {
			return nil, err
		}
		return NewGitHub(client.Client, owner, pkg), nil
	}
	return nil, fmt.Errorf("delete_api must be %s, %s or %s, got %q", APIAuto, APIOCI, APIGitHub, api)
}
