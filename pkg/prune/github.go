package prune

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-github/v62/github"

	"github.com/ocipromote/ocipromote/pkg/ghapi"
)

// GHCR is the registry whose packages are deleted through GitHub's Packages API: it does not
// implement the OCI manifest DELETE.
const GHCR = "ghcr.io"

// IsGitHubPackages reports whether registry is GitHub's Container registry, which deletes only
// through GitHub's Packages API: ghcr.io, containers.HOST of a GitHub Enterprise Server at
// serverURL (https://HOST), and containers.SUBDOMAIN.ghe.com of GitHub Enterprise Cloud with data
// residency (https://docs.github.com/enterprise-server/packages/working-with-a-github-packages-registry/working-with-the-container-registry).
func IsGitHubPackages(registry, serverURL string) bool {
	registry = strings.ToLower(registry)
	if registry == GHCR || (strings.HasPrefix(registry, "containers.") && strings.HasSuffix(registry, ".ghe.com")) {
		return true
	}
	u, err := url.Parse(serverURL)
	return err == nil && u.Host != "" && registry == "containers."+strings.ToLower(u.Host)
}

// packageType is the Packages API's name for OCI images and artifacts on ghcr.io.
const packageType = "container"

// GitHub deletes package versions through GitHub's Packages API, for packages owned by a user or
// by an organization. A container package version is one manifest: its name is the digest and
// metadata.container.tags its tags. It deletes a version only when every tag GitHub lists on it
// is one the plan removes, so a tag written after the plan's listing keeps the version.
type GitHub struct {
	client *github.Client
	owner  string
	pkg    string

	loaded bool
	org    bool
	// own is true when the package is the caller's own (a user's): GitHub serves a user's
	// private package only under /user/packages; /users/{username}/packages lists public ones.
	own      bool
	versions map[string]*github.PackageVersion
}

// adminHelp is what to do when GitHub will not delete: deleting a container version needs Admin
// access to the package, which a token's permissions alone never give.
const adminHelp = "the token needs Admin access to the package: for a workflow's GITHUB_TOKEN, grant `packages: write` and give the repository the Admin role in the package's settings (Package settings > Manage Actions access); a personal access token (classic) needs read:packages and delete:packages and its user Admin access to the package"

// NewGitHub prepares deletions from the container package pkg of owner.
func NewGitHub(client *github.Client, owner, pkg string) *GitHub {
	return &GitHub{client: client, owner: owner, pkg: pkg}
}

// PackageOf splits a repository into the package's owner and name as GitHub names them:
// ghcr.io/acme/team/app is package "team/app" of acme.
func PackageOf(repo name.Repository) (owner, pkg string, err error) {
	owner, pkg, ok := strings.Cut(repo.RepositoryStr(), "/")
	if !ok || owner == "" || pkg == "" {
		return "", "", fmt.Errorf("repository %s is not %s/OWNER/PACKAGE", repo.Name(), repo.RegistryStr())
	}
	return owner, pkg, nil
}

// load reads whether the owner is an organization and every version of the package, all pages.
func (g *GitHub) load(ctx context.Context) error {
	if g.loaded {
		return nil
	}
	u, _, err := g.client.Users.Get(ctx, g.owner)
	if err != nil {
		return g.explain("look up owner "+g.owner, err)
	}
	g.org = u.GetType() == "Organization"
	if !g.org {
		// A workflow's token is no user: GET /user answers 403, and the package is reached
		// under /users/{username}, as a public package.
		me, _, err := g.client.Users.Get(ctx, "")
		g.own = err == nil && strings.EqualFold(me.GetLogin(), g.owner)
	}
	g.versions = map[string]*github.PackageVersion{}
	opts := &github.PackageListOptions{ListOptions: github.ListOptions{PerPage: 100}}
	for {
		var page []*github.PackageVersion
		var resp *github.Response
		if g.org {
			page, resp, err = g.client.Organizations.PackageGetAllVersions(ctx, g.owner, packageType, g.pkg, opts)
		} else {
			page, resp, err = g.client.Users.PackageGetAllVersions(ctx, g.user(), packageType, url.PathEscape(g.pkg), opts)
		}
		if err != nil {
			return g.explain("list the versions of package "+g.pkg, err)
		}
		for _, v := range page {
			g.versions[v.GetName()] = v
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	g.loaded = true
	return nil
}

// user is the user argument of go-github's package calls: "" for the caller's own package.
func (g *GitHub) user() string {
	if g.own {
		return ""
	}
	return g.owner
}

// Check finds the package version of it.Digest and compares its tags with the plan's.
func (g *GitHub) Check(ctx context.Context, it Item) error {
	_, err := g.version(ctx, it)
	return err
}

func (g *GitHub) version(ctx context.Context, it Item) (*github.PackageVersion, error) {
	if err := g.load(ctx); err != nil {
		return nil, err
	}
	v, ok := g.versions[it.Digest]
	if !ok {
		return nil, fmt.Errorf("%w: package %s of %s has no version %s", ErrSkipped, g.pkg, g.owner, it.Digest)
	}
	for _, t := range v.GetMetadata().GetContainer().Tags {
		if !slices.Contains(it.Tags, t) {
			return nil, fmt.Errorf("%w: package version %d (%s) also has tag %s, which is kept", ErrSkipped, v.GetID(), it.Digest, t)
		}
	}
	return v, nil
}

// Delete removes the package version of it.Digest. GitHub answers 404 "Package not found." both
// for a version already gone and for a token without Admin access to the package, so a 404 is
// checked by listing again: a version still listed was not deleted. A version GitHub refuses to
// delete (400 for the last tagged version of a package, or a public version with more than 5,000
// downloads; 422) is skipped with GitHub's message, and the rest go on.
func (g *GitHub) Delete(ctx context.Context, it Item) error {
	v, err := g.version(ctx, it)
	if err != nil {
		return err
	}
	if g.org {
		_, err = g.client.Organizations.PackageDeleteVersion(ctx, g.owner, packageType, g.pkg, v.GetID())
	} else {
		_, err = g.client.Users.PackageDeleteVersion(ctx, g.user(), packageType, url.PathEscape(g.pkg), v.GetID())
	}
	var ge *github.ErrorResponse
	switch {
	case err == nil:
	case errors.As(err, &ge) && ge.Response != nil && ge.Response.StatusCode == http.StatusNotFound:
		g.loaded = false
		if lerr := g.load(ctx); lerr != nil {
			return lerr
		}
		if _, still := g.versions[it.Digest]; still {
			return fmt.Errorf("GitHub answered 404 %q to the DELETE of package version %d (%s) of %s, which is still listed: it was not deleted; %s", ge.Message, v.GetID(), it.Digest, g.pkg, adminHelp)
		}
	case errors.As(err, &ge) && ge.Response != nil && (ge.Response.StatusCode == http.StatusBadRequest || ge.Response.StatusCode == http.StatusUnprocessableEntity):
		return fmt.Errorf("%w: GitHub refused to delete package version %d: %s", ErrSkipped, v.GetID(), ge.Message)
	default:
		return g.explain(fmt.Sprintf("delete package version %d", v.GetID()), err)
	}
	delete(g.versions, it.Digest)
	return nil
}

func (g *GitHub) explain(doing string, err error) error {
	var ge *github.ErrorResponse
	if errors.As(err, &ge) && ge.Response != nil {
		switch ge.Response.StatusCode {
		case http.StatusUnauthorized, http.StatusForbidden:
			return fmt.Errorf("%s: GitHub refused the token for package %s of %s%s; %s: %w", doing, g.pkg, g.owner, ghapi.Hint(err), adminHelp, err)
		case http.StatusNotFound:
			return fmt.Errorf("%s: GitHub does not know package %s of %s, or the token cannot see it (a workflow's GITHUB_TOKEN needs `packages: read` and the repository's access in the package's settings): %w", doing, g.pkg, g.owner, err)
		}
	}
	return fmt.Errorf("%s: %w", doing, err)
}
