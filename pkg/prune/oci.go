package prune

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// OCI deletes through the distribution API, DELETE /v2/<name>/manifests/<digest>, which removes
// the manifest and every tag on it. Distribution needs storage.delete.enabled: true for it.
type OCI struct {
	repo name.Repository
	opts []remote.Option
}

// OCIOptions are the credentials and transport of an OCI deleter.
type OCIOptions struct {
	// Username and Password, when set, are used; otherwise Keychain (default: the Docker config).
	Username, Password string
	Keychain           authn.Keychain
	Transport          http.RoundTripper
}

// NewOCI prepares deletions from repo.
func NewOCI(repo name.Repository, o OCIOptions) *OCI {
	var opts []remote.Option
	switch {
	case o.Username != "" || o.Password != "":
		opts = append(opts, remote.WithAuth(&authn.Basic{Username: o.Username, Password: o.Password}))
	case o.Keychain != nil:
		opts = append(opts, remote.WithAuthFromKeychain(o.Keychain))
	default:
		opts = append(opts, remote.WithAuthFromKeychain(authn.DefaultKeychain))
	}
	if o.Transport != nil {
		opts = append(opts, remote.WithTransport(o.Transport))
	}
	return &OCI{repo: repo, opts: opts}
}

// Check agrees: the OCI API's view is the registry's, which Run has just checked again.
func (d *OCI) Check(context.Context, Item) error { return nil }

// Delete removes the manifest; one already gone is not an error.
func (d *OCI) Delete(ctx context.Context, it Item) error {
	err := remote.Delete(d.repo.Digest(it.Digest), append(d.opts, remote.WithContext(ctx))...)
	var te *transport.Error
	if err == nil || !errors.As(err, &te) {
		return err
	}
	for _, diag := range te.Errors {
		switch diag.Code {
		case transport.ManifestUnknownErrorCode:
			return nil
		case transport.UnsupportedErrorCode:
			return unsupported(d.repo, err)
		}
	}
	switch te.StatusCode {
	case http.StatusNotFound:
		return nil
	case http.StatusMethodNotAllowed:
		return unsupported(d.repo, err)
	}
	return err
}

func unsupported(repo name.Repository, err error) error {
	return fmt.Errorf("%s does not allow deleting manifests (a distribution registry needs storage.delete.enabled: true; for ghcr.io use delete_api github): %w", repo.RegistryStr(), err)
}
