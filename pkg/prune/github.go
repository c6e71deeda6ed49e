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
)

// GHCR is the registry whose packages are deleted through GitHub's Packages API: it does not
// implement the OCI manifest DELETE.
const GHCR = "ghcr.io"

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

	loaded   bool
	org      bool
	versions map[string]*github.PackageVersion
}

// NewGitHub prepares deletions from the container package pkg of owner.
func NewGitHub(client *github.Client, owner, pkg string) *GitHub {
	return &GitHub{client: client, owner: owner, pkg: pkg}
}

// PackageOf splits a repository into the package's owner and name as GitHub names them:
// ghcr.io/acme/team/app is package "team/app" of acme.
func PackageOf(repo name.Repository) (owner, pkg string, err error) {
	owner, pkg, ok := strings.Cut(repo.RepositoryStr(), "/")
	if !ok || owner == "" || pkg == "" {
		return "", "", fmt.Errorf("repository %s is not %s/OWNER/PACKAGE", repo.Name(), GHCR)
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
	g.versions = map[string]*github.PackageVersion{}
	opts := &github.PackageListOptions{ListOptions: github.ListOptions{PerPage: 100}}
	for {
		var page []*github.PackageVersion
		var resp *github.Response
		if g.org {
			page, resp, err = g.client.Organizations.PackageGetAllVersions(ctx, g.owner, packageType, g.pkg, opts)
		} else {
			page, resp, err = g.client.Users.PackageGetAllVersions(ctx, g.owner, packageType, url.PathEscape(g.pkg), opts)
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

// Delete removes the package version of it.Digest.
func (g *GitHub) Delete(ctx context.Context, it Item) error {
	v, err := g.version(ctx, it)
	if err != nil {
		return err
	}
	if g.org {
		_, err = g.client.Organizations.PackageDeleteVersion(ctx, g.owner, packageType, g.pkg, v.GetID())
	} else {
		_, err = g.client.Users.PackageDeleteVersion(ctx, g.owner, packageType, url.PathEscape(g.pkg), v.GetID())
	}
	var ge *github.ErrorResponse
	if errors.As(err, &ge) && ge.Response != nil && ge.Response.StatusCode == http.StatusNotFound {
		return nil
	}
	if err != nil {
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
			return fmt.Errorf("%s: the token may not manage packages of %s; it needs read:packages and delete:packages (a workflow's GITHUB_TOKEN needs packages: write and Admin access to the package in its settings): %w", doing, g.owner, err)
		case http.StatusNotFound:
			return fmt.Errorf("%s: GitHub does not know package %s of %s, or the token cannot see it: %w", doing, g.pkg, g.owner, err)
		}
	}
	return fmt.Errorf("%s: %w", doing, err)
}
