// Package oci is ocipromote's only door to a registry. It lists tags completely, resolves and
// reads manifests, pushes artifacts, and writes tags write-once, with bounded retries. Everything
// above it works on tag names, digests and annotations.
//
// Every request is one the step needs. A Repository authenticates once (one GET /v2/, and on
// token registries one token for push and pull) and sends everything else over that one
// connection: tags are listed a thousand to a page where the registry allows it, a tag is written
// with a single manifest PUT, and a blob is checked at most once and uploaded monolithically
// (POST, then one PUT). The guards the pipeline relies
// on are requests too, and they stay: the read before a contested write, the read-back after it,
// and the complete listing.
package oci

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/ocipromote/ocipromote/pkg/ref"
)

// Sentinel errors callers branch on.
var (
	// ErrNotFound: the tag or manifest does not exist.
	ErrNotFound = errors.New("not found")
	// ErrTagConflict: the tag exists and points at another digest; write-once forbids moving it.
	ErrTagConflict = errors.New("tag already points at another digest")
)

// ConflictError details an ErrTagConflict.
type ConflictError struct {
	Repository, Tag, Existing, Wanted string
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("tag %s:%s already points at %s, not %s: tags are write-once and are never moved", e.Repository, e.Tag, e.Existing, e.Wanted)
}

func (e *ConflictError) Unwrap() error { return ErrTagConflict }

// DefaultPageSize is how many tags a listing asks for per page when Options.PageSize is 0.
// Registries may answer with fewer (GHCR pages by 100) and link to the next page; a registry that
// answers with all of them in one page (distribution without a limit) costs one request.
const DefaultPageSize = 1000

// Options configure Open.
type Options struct {
	// Username and Password, when set, are used for this registry and nothing else is tried.
	Username, Password string
	// GitHubToken (with GitHubActor) authenticates to ghcr.io when no Docker config has credentials.
	GitHubToken, GitHubActor string
	// Keychain replaces the Docker config keychain (tests).
	Keychain authn.Keychain
	// Transport replaces http.DefaultTransport (tests, fault injection, request counting).
	Transport http.RoundTripper
	// Retry bounds retries; the zero value means DefaultRetry.
	Retry RetryPolicy
	// PageSize asks the registry for this many tags per page (registries may return fewer);
	// 0 means DefaultPageSize.
	PageSize int
	// RequestTimeout bounds each request, answer included; 0 means DefaultRequestTimeout.
	RequestTimeout time.Duration
	// Timeout, when set, is the step's budget from Open on: no request and no wait before a
	// retry runs past it.
	Timeout time.Duration
	// Logf, when set, gets one line for each retried request: what failed, the attempt, and the
	// wait before the next one.
	Logf func(format string, args ...any)
	// ProgressEvery is how often a long blob upload tells Logf how much it has sent; 0 means
	// every 5 s, as packing does.
	ProgressEvery time.Duration
	// Insecure talks plain HTTP to any host (loopback hosts already use HTTP).
	Insecure  bool
	UserAgent string
}

// Repository is one OCI repository, e.g. ghcr.io/acme/platform-manifests. It is safe for
// concurrent use.
type Repository struct {
	ref      name.Repository
	keychain authn.Keychain
	base     http.RoundTripper
	pageSize int
	retries  atomic.Int64
	policy   RetryPolicy
	logf     func(format string, args ...any)
	// progressEvery is how often a long upload logs how far it got.
	progressEvery time.Duration
	// noHead is set once the registry has refused HEAD with 405: reads use GET from then on.
	noHead atomic.Bool
	// order is how the registry was seen to order tag listings (orderUnknown, …): TagsWith lists
	// by range only on one seen to order them lexically.
	order atomic.Int32
	// full is the last full listing, with the pages it took and how many tags the registry puts
	// on a page: what TagsWith weighs a ranged listing against.
	full fullListing

	mu sync.Mutex
	// client is authenticated for push and pull; nil until the first request.
	client *http.Client
	// blobs are the blob digests known to be in the repository: content-addressed, so a blob
	// seen once need not be checked again.
	blobs map[string]bool
	// prepared are the batches of upload sessions PrepareUploads opened and their callers have
	// not released: an upload takes its session from them.
	prepared []*Uploads
	// predial dials ahead for a plain-HTTP registry (nil otherwise, or with a caller's
	// Transport).
	predial *predial
}

// ErrCredentialsInRepository: the repository reference carries credentials before its host
// (user:token@ghcr.io/…). The error never repeats them; a caller may mask them (ref.Userinfo).
var ErrCredentialsInRepository = errors.New("repository carries credentials")

// ParseRepository validates a repository reference, accepting Flux's oci:// prefix. It is the one
// place a repository is checked: REGISTRY/PATH on one line, the registry a plain host name with an
// optional port (go-containerregistry alone takes any first component with a dot for a
// registry, shell metacharacters included, and such a name would be printed in every log line,
// output and summary), no tag, no digest and no credentials, which an error never repeats.
func ParseRepository(s string, insecure bool) (name.Repository, error) {
	const want = "give REGISTRY/PATH (for example ghcr.io/acme/platform-manifests, optionally with oci://)"
	if ref.HasUserinfo(s) {
		return name.Repository{}, fmt.Errorf("%w: repository %s carries credentials before the registry host: %s and pass the credentials as username and password, from a secret",
			ErrCredentialsInRepository, ref.Quote(ref.RedactUserinfo(s)), want)
	}
	trimmed := strings.TrimPrefix(strings.TrimSpace(s), "oci://")
	switch {
	case len(s) > ref.MaxInputLen:
		return name.Repository{}, fmt.Errorf("repository %s is %d bytes, over the %d-byte limit: %s", ref.Quote(s), len(s), ref.MaxInputLen, want)
	case strings.ContainsFunc(trimmed, func(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) }):
		return name.Repository{}, fmt.Errorf("repository %s contains a control character: %s on one line", ref.Quote(s), want)
	case trimmed == "" || strings.ContainsAny(trimmed, "@ \t\n") || !strings.Contains(trimmed, "/"):
		return name.Repository{}, fmt.Errorf("repository %s is not REGISTRY/PATH: %s", ref.Quote(s), want)
	}
	if i := strings.LastIndex(trimmed, ":"); i > strings.LastIndex(trimmed, "/") {
		return name.Repository{}, fmt.Errorf("repository %s has a tag; give the repository only (for example ghcr.io/acme/platform-manifests)", ref.Quote(s))
	}
	opts := []name.Option{name.StrictValidation}
	if insecure {
		opts = append(opts, name.Insecure)
	}
	r, err := name.NewRepository(trimmed, opts...)
	if err != nil {
		// go-containerregistry's message repeats the input raw; ours quotes it.
		return name.Repository{}, fmt.Errorf("repository %s is not a valid OCI repository reference: give REGISTRY/PATH in lower case (for example ghcr.io/acme/platform-manifests)", ref.Quote(s))
	}
	if _, err := ref.RegistryHost(r.RegistryStr()); err != nil {
		return name.Repository{}, fmt.Errorf("repository %s: %v: %s", ref.Quote(s), err, want)
	}
	return r, nil
}

// Open prepares access to a repository; it does not contact the registry yet.
func Open(repository string, o Options) (*Repository, error) {
	ref, err := ParseRepository(repository, o.Insecure)
	if err != nil {
		return nil, err
	}
	r := &Repository{ref: ref, policy: o.Retry, pageSize: o.PageSize, blobs: map[string]bool{}}
	if r.policy.Attempts == 0 {
		r.policy = DefaultRetry
	}
	if r.pageSize <= 0 {
		r.pageSize = DefaultPageSize
	}
	base := o.Transport
	if base == nil {
		base = remote.DefaultTransport
		if plainFirstFor(ref, o.Insecure) {
			base, r.predial = predialling(ref)
		}
	}
	b := bounds{request: o.RequestTimeout, step: o.Timeout}
	if b.request <= 0 {
		b.request = DefaultRequestTimeout
	}
	if o.Timeout > 0 {
		b.deadline = time.Now().Add(o.Timeout)
	}
	r.logf, r.progressEvery = o.Logf, o.ProgressEvery
	if r.progressEvery <= 0 {
		r.progressEvery = 5 * time.Second
	}
	var rt http.RoundTripper = &retryTransport{next: base, policy: r.policy, retries: &r.retries, bounds: b, logf: o.Logf}
	if plainFirstFor(ref, o.Insecure) {
		rt = &plainFirst{next: rt, probe: &retryTransport{next: base, policy: r.policy, retries: &r.retries, bounds: b, logf: o.Logf, answersOnly: true}, host: ref.RegistryStr()}
	}
	r.base = transport.NewUserAgent(rt, o.UserAgent)
	switch {
	case o.Username != "" || o.Password != "":
		r.keychain = staticKeychain{&authn.Basic{Username: o.Username, Password: o.Password}}
	default:
		r.keychain = o.Keychain
		if r.keychain == nil {
			r.keychain = authn.DefaultKeychain
		}
		if o.GitHubToken != "" {
			r.keychain = authn.NewMultiKeychain(r.keychain, githubKeychain{token: o.GitHubToken, actor: o.GitHubActor})
		}
	}
	return r, nil
}

// staticKeychain answers every registry with the same credentials (username and password given).
type staticKeychain struct{ auth authn.Authenticator }

func (k staticKeychain) Resolve(authn.Resource) (authn.Authenticator, error) { return k.auth, nil }

// githubKeychain answers for ghcr.io with the workflow's GITHUB_TOKEN.
type githubKeychain struct{ token, actor string }

func (k githubKeychain) Resolve(res authn.Resource) (authn.Authenticator, error) {
	if res.RegistryStr() != "ghcr.io" {
		return authn.Anonymous, nil
	}
	user := k.actor
	if user == "" {
		user = "x-access-token"
	}
	return &authn.Basic{Username: user, Password: k.token}, nil
}

// Name is the repository reference, e.g. ghcr.io/acme/platform-manifests.
func (r *Repository) Name() string { return r.ref.Name() }

// Retries counts the requests retried so far.
func (r *Repository) Retries() int64 { return r.retries.Load() }

// Tags lists every tag, across all pages. A repository that does not exist yet lists as empty;
// any other failure is an error, never an empty list.
func (r *Repository) Tags(ctx context.Context) ([]string, error) {
	tags, pages, first, err := r.listTags(ctx)
	if err != nil {
		if hasCode(err, transport.NameUnknownErrorCode) {
			return nil, nil
		}
		return nil, r.wrap(err, "list tags of")
	}
	r.noteListing(tags, pages, first)
	return tags, nil
}

// Resolve returns the manifest digest a tag points at, or ErrNotFound.
func (r *Repository) Resolve(ctx context.Context, tag string) (string, error) {
	d, err := r.headManifest(ctx, tag)
	if err != nil {
		if notFound(err) {
			return "", fmt.Errorf("%s:%s: %w", r.Name(), tag, ErrNotFound)
		}
		return "", r.wrap(err, "resolve tag "+tag+" in")
	}
	return d, nil
}

// Manifest is a manifest as stored: its digest, media type and bytes.
type Manifest struct {
	Digest    string
	MediaType types.MediaType
	Raw       []byte
	Parsed    *v1.Manifest
}

// Annotations of the manifest (nil when it has none).
func (m *Manifest) Annotations() map[string]string {
	if m == nil || m.Parsed == nil {
		return nil
	}
	return m.Parsed.Annotations
}

// Get reads the manifest with this digest, or ErrNotFound.
func (r *Repository) Get(ctx context.Context, digest string) (*Manifest, error) {
	if _, err := v1.NewHash(digest); err != nil {
		return nil, fmt.Errorf("read manifest %q in %s: not a digest: %w", digest, r.Name(), err)
	}
	raw, mt, err := r.getManifest(ctx, digest)
	if err != nil {
		if notFound(err) {
			return nil, fmt.Errorf("manifest %s@%s: %w", r.Name(), digest, ErrNotFound)
		}
		return nil, r.wrap(err, "read manifest "+digest+" in")
	}
	if got := sha256Digest(raw); got != digest {
		return nil, fmt.Errorf("registry returned manifest %s when asked for %s in %s", got, digest, r.Name())
	}
	return r.manifest(raw, mt)
}

// GetTag reads the manifest tag points at, or ErrNotFound: one GET where Resolve and Get take two
// round trips. Its digest is the bytes' own, not what the registry says it is.
func (r *Repository) GetTag(ctx context.Context, tag string) (*Manifest, error) {
	raw, mt, err := r.getManifest(ctx, tag)
	if err != nil {
		if notFound(err) {
			return nil, fmt.Errorf("%s:%s: %w", r.Name(), tag, ErrNotFound)
		}
		return nil, r.wrap(err, "read manifest "+tag+" in")
	}
	return r.manifest(raw, mt)
}

// manifest is the Manifest of raw, as read, parsed when it is an image manifest.
func (r *Repository) manifest(raw []byte, mt types.MediaType) (*Manifest, error) {
	m := &Manifest{Digest: sha256Digest(raw), MediaType: mt, Raw: raw}
	if mt.IsImage() {
		var err error
		if m.Parsed, err = v1.ParseManifest(strings.NewReader(string(raw))); err != nil {
			return nil, fmt.Errorf("manifest %s in %s is not a valid OCI manifest: %w", m.Digest, r.Name(), err)
		}
	}
	return m, nil
}

// Push uploads the image's blobs (skipping those the registry has) and its manifest under tag,
// write-once: the caller has checked that tag is free. It retries the whole upload a bounded
// number of times, since an upload whose answer was lost cannot be retried on its own.
func (r *Repository) Push(ctx context.Context, img v1.Image, tag string) (*Manifest, error) {
	m, err := ManifestOf(img)
	if err != nil {
		return nil, err
	}
	for attempt := 1; ; attempt++ {
		err = r.push(ctx, img, m, tag)
		if err == nil || attempt >= 3 || !retryable(err) {
			break
		}
		r.retries.Add(1)
		if r.logf != nil {
			r.logf("registry %s: pushing %s failed (%v); attempt %d of 3 of the whole upload failed, trying again now", r.ref.RegistryStr(), tag, err, attempt)
		}
	}
	if err != nil {
		return nil, r.wrap(err, "push "+tag+" to")
	}
	return m, nil
}

// Tag points tag at m, write-once. It reads the tag first: free, it writes the manifest under the
// tag (one manifest PUT, no blob is touched); already at m, it writes nothing and returns false; at
// another digest, it returns a *ConflictError.
//
// Every write is read back (or, with Write.Listed, listed by the caller) before it is reported: a registry may acknowledge a manifest PUT (201)
// and keep nothing, and a step must never report a tag it did not store. A tag missing after its
// write is written again, up to writeAttempts times in all, then reported as a *LostWriteError. A
// tag that reads back at another digest is a concurrent writer (a *ConflictError), once the
// manifest's own bytes confirm it: a registry whose Docker-Content-Digest header is wrong is an
// ErrDigestMismatch, reported at once rather than taken for a rival.
func (r *Repository) Tag(ctx context.Context, tag string, m *Manifest, w Write) (bool, error) {
	if !w.KnownAbsent {
		switch err := r.check(ctx, tag, m); {
		case err == nil:
			return false, nil
		case !errors.Is(err, ErrNotFound):
			return false, err
		}
	}
	for attempt := 1; ; attempt++ {
		if err := r.putManifest(ctx, tag, m); err != nil {
			return false, r.wrap(err, "write tag "+tag+" in")
		}
		if w.Listed {
			return true, nil
		}
		err := r.check(ctx, tag, m)
		if err == nil {
			return true, nil
		}
		if !errors.Is(err, ErrNotFound) {
			return false, fmt.Errorf("read tag %s back after writing it: %w", tag, err)
		}
		if attempt == writeAttempts {
			return false, &LostWriteError{Repository: r.Name(), Tag: tag, Digest: m.Digest, Writes: attempt}
		}
		if r.logf != nil {
			r.logf("registry %s: tag %s was acknowledged but is not there when read back; write %d of %d, writing it again", r.ref.RegistryStr(), tag, attempt, writeAttempts)
		}
		if err := r.pause(ctx, attempt); err != nil {
			return false, err
		}
	}
}

// writeAttempts bounds how often Tag writes a tag the registry acknowledges and does not keep.
const writeAttempts = 3

// check tells whether tag points at m: nil when it does, ErrNotFound when the tag is missing, a
// *ConflictError when it points elsewhere (confirmed by the manifest's bytes), ErrDigestMismatch
// when only the registry's digest header says so.
func (r *Repository) check(ctx context.Context, tag string, m *Manifest) error {
	cur, err := r.Resolve(ctx, tag)
	if err != nil || cur == m.Digest {
		return err
	}
	raw, _, err := r.getManifest(ctx, tag)
	if err != nil {
		if notFound(err) {
			return fmt.Errorf("%s:%s: %w", r.Name(), tag, ErrNotFound)
		}
		return r.wrap(err, "read tag "+tag+" in")
	}
	if got := sha256Digest(raw); got != cur {
		return &DigestMismatchError{Repository: r.Name(), Tag: tag, Header: cur, Content: got}
	}
	return &ConflictError{Repository: r.Name(), Tag: tag, Existing: cur, Wanted: m.Digest}
}

// pause waits a little before a tag is written again (the retry policy's first backoff, growing).
func (r *Repository) pause(ctx context.Context, attempt int) error {
	return r.policy.sleep(ctx, r.policy.Base*time.Duration(attempt))
}

// ErrWriteLost: the registry acknowledged a write and does not have it.
var ErrWriteLost = errors.New("the registry acknowledged a write it did not keep")

// LostWriteError details an ErrWriteLost.
type LostWriteError struct {
	Repository, Tag, Digest string
	Writes                  int
}

func (e *LostWriteError) Error() string {
	return fmt.Sprintf("tag %s:%s is missing after %d writes the registry acknowledged: the registry (or a proxy before it) answers writes it does not store; nothing after this write was done, check the registry and run the step again",
		e.Repository, e.Tag, e.Writes)
}

func (e *LostWriteError) Unwrap() error { return ErrWriteLost }

// ErrDigestMismatch: the registry's Docker-Content-Digest header is not the digest of the
// manifest it serves.
var ErrDigestMismatch = errors.New("the registry reports a digest that is not its manifest's")

// DigestMismatchError details an ErrDigestMismatch.
type DigestMismatchError struct {
	Repository, Tag, Header, Content string
}

func (e *DigestMismatchError) Error() string {
	return fmt.Sprintf("the registry answers tag %s:%s with Docker-Content-Digest %s, but the manifest it serves has digest %s: the registry (or a proxy before it) reports wrong digests, so no decision can rest on them; nothing more was written, fix the registry and run the step again",
		e.Repository, e.Tag, e.Header, e.Content)
}

func (e *DigestMismatchError) Unwrap() error { return ErrDigestMismatch }

// Write says what a caller knows about one tag write.
type Write struct {
	// KnownAbsent: a listing made during this run did not have the tag, so the read before the
	// write is skipped. Only for tags no other commit's run can write (its own sha-, integration-,
	// validated- tags, and release candidates it holds the claim for).
	KnownAbsent bool
	// Listed: the caller lists the tag after writing it and fails when it never appears (a
	// claim, which claim.Confirm lists), so the read-back is skipped.
	Listed bool
}

func hasCode(err error, code transport.ErrorCode) bool {
	var te *transport.Error
	if !errors.As(err, &te) {
		return false
	}
	for _, d := range te.Errors {
		if d.Code == code {
			return true
		}
	}
	return false
}

func notFound(err error) bool {
	var te *transport.Error
	if !errors.As(err, &te) {
		return false
	}
	if te.StatusCode == http.StatusNotFound {
		return true
	}
	return hasCode(err, transport.ManifestUnknownErrorCode)
}

// retryable tells whether a whole push is worth another try: the registry was briefly unable, an
// upload went wrong (a lost answer leaves an upload session the registry has closed), or a blob
// the manifest names was not there after all.
func retryable(err error) bool {
	var te *transport.Error
	if errors.As(err, &te) {
		switch te.StatusCode {
		case http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusBadGateway,
			http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			return true
		}
		return hasCode(err, transport.BlobUploadInvalidErrorCode) || hasCode(err, transport.DigestInvalidErrorCode) ||
			hasCode(err, transport.BlobUploadUnknownErrorCode) || hasCode(err, transport.ManifestBlobUnknownErrorCode) ||
			hasCode(err, transport.BlobUnknownErrorCode)
	}
	return transient(err)
}

// wrap adds what was being done and what a person can do about the common failures.
func (r *Repository) wrap(err error, doing string) error {
	var te *transport.Error
	if errors.As(err, &te) {
		switch {
		case te.StatusCode == http.StatusUnauthorized || hasCode(err, transport.UnauthorizedErrorCode):
			return fmt.Errorf("%s %s: %s: %w", doing, r.Name(), r.refused(), plainError{te})
		case te.StatusCode == http.StatusForbidden || hasCode(err, transport.DeniedErrorCode):
			return fmt.Errorf("%s %s: access denied; the credentials need read and write (packages: write) on this repository: %w", doing, r.Name(), plainError{te})
		case te.StatusCode == http.StatusTooManyRequests:
			return fmt.Errorf("%s %s: the registry is still rate-limiting after %d tries; run the step again later: %w", doing, r.Name(), r.policy.Attempts, plainError{te})
		}
	}
	return fmt.Errorf("%s %s: %w", doing, r.Name(), err)
}

// refused says why the registry did not authenticate: a wrong password reads differently from
// none at all.
func (r *Repository) refused() string {
	host := r.ref.RegistryStr()
	if _, given := r.keychain.(staticKeychain); given {
		return "the registry refused the username and password given: the password or token is wrong, expired or revoked; check it (a GitHub token needs read:packages, and write:packages to push)"
	}
	if auth, err := r.keychain.Resolve(r.ref); err == nil && auth != authn.Anonymous {
		return "the registry refused the credentials found for " + host + " (the Docker config, or GITHUB_TOKEN for ghcr.io): log in again with docker login " + host + ", or give username and password"
	}
	return "no credentials for " + host + " were found and the registry requires them: give username and password (--password-stdin on a command line), log in with docker login " + host + ", or give GITHUB_TOKEN for ghcr.io"
}

// plainError prints a registry error as its codes and messages. go-containerregistry's own
// message ends with each diagnostic's detail formatted with %v, a Go map dump such as
// "map[Action:pull Class: Name:acme/app Type:repository]" that tells a user nothing. It unwraps
// to the *transport.Error, so callers still inspect codes with errors.As.
type plainError struct{ te *transport.Error }

func (e plainError) Error() string {
	var parts []string
	for _, d := range e.te.Errors {
		p := string(d.Code)
		if d.Message != "" {
			p += ": " + d.Message
		}
		parts = append(parts, p)
	}
	if len(parts) == 0 {
		return fmt.Sprintf("HTTP %d", e.te.StatusCode)
	}
	return strings.Join(parts, "; ")
}

func (e plainError) Unwrap() error { return e.te }

// ManifestOf describes a locally built image the way Get describes a stored one.
func ManifestOf(img v1.Image) (*Manifest, error) {
	d, err := img.Digest()
	if err != nil {
		return nil, err
	}
	raw, err := img.RawManifest()
	if err != nil {
		return nil, err
	}
	mt, err := img.MediaType()
	if err != nil {
		return nil, err
	}
	parsed, err := img.Manifest()
	if err != nil {
		return nil, err
	}
	return &Manifest{Digest: d.String(), MediaType: mt, Raw: raw, Parsed: parsed}, nil
}
