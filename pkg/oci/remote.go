package oci

import (
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Remote is the repository and the go-containerregistry remote options (this repository's
// transport, with its retries and time bounds, and its credentials) for reads this package does
// not do itself, such as package sign's referrers.
func (r *Repository) Remote() (name.Repository, []remote.Option) {
	return r.ref, []remote.Option{remote.WithTransport(r.base), remote.WithAuthFromKeychain(r.keychain)}
}
