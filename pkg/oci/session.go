package oci

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// manifestLimit bounds a manifest read; go-containerregistry allows the same.
const manifestLimit = 100 << 20

// acceptManifests is what a manifest read accepts: any image or index, OCI or Docker.
var acceptManifests = strings.Join([]string{
	string(types.OCIManifestSchema1), string(types.DockerManifestSchema2),
	string(types.OCIImageIndex), string(types.DockerManifestList),
	string(types.DockerManifestSchema1), string(types.DockerManifestSchema1Signed),
}, ",")

// session returns the client every request of this Repository goes through. The first call
// authenticates: one GET /v2/ learns how the registry wants to be talked to and, on a registry
// with token auth, one token is fetched for push and pull, so a step that reads and then writes
// does not authenticate twice. Credentials that may only read still work for reading: when the
// token service refuses push, the session asks for pull alone, and a write later fails with the
// registry's refusal.
func (r *Repository) session(ctx context.Context) (*http.Client, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.client != nil {
		return r.client, nil
	}
	auth, err := authn.Resolve(ctx, r.keychain, r.ref)
	if err != nil {
		return nil, fmt.Errorf("find credentials for %s: %w", r.ref.RegistryStr(), err)
	}
	rt, err := transport.NewWithContext(ctx, r.ref.Registry, auth, r.base, []string{r.ref.Scope(transport.PushScope)})
	if err != nil && tokenRefused(err) {
		rt, err = transport.NewWithContext(ctx, r.ref.Registry, auth, r.base, []string{r.ref.Scope(transport.PullScope)})
	}
	if err != nil {
		return nil, err
	}
	r.client = &http.Client{Transport: rt}
	return r.client, nil
}

// tokenRefused tells a token service's refusal (401 or 403 from the realm) from a registry that
// refuses everything (the ping itself failed).
func tokenRefused(err error) bool {
	var te *transport.Error
	if !errors.As(err, &te) || te.Request == nil || te.Request.URL == nil || te.Request.URL.Path == "/v2/" {
		return false
	}
	return te.StatusCode == http.StatusUnauthorized || te.StatusCode == http.StatusForbidden
}

// url is the address of path below /v2/<repository>/.
func (r *Repository) url(path string) *url.URL {
	return &url.URL{Scheme: r.ref.Scheme(), Host: r.ref.RegistryStr(), Path: "/v2/" + r.ref.RepositoryStr() + "/" + path}
}

// request is one registry request; body may be nil. A body too large to hold is streamed
// instead: open reads its size bytes from the start, once per attempt.
type request struct {
	method string
	url    *url.URL
	header http.Header
	body   []byte
	open   func() (io.ReadCloser, error)
	size   int64
	// want are the status codes that mean success.
	want []int
}

// do sends req and returns the response when its status is wanted, with the body still to be
// read and closed; any other status is a *transport.Error and the body is consumed.
func (r *Repository) do(ctx context.Context, req request) (*http.Response, error) {
	c, err := r.session(ctx)
	if err != nil {
		return nil, err
	}
	var body io.Reader
	if req.body != nil {
		body = bytes.NewReader(req.body)
	}
	hr, err := http.NewRequestWithContext(ctx, req.method, req.url.String(), body)
	if err != nil {
		return nil, err
	}
	if req.open != nil && req.size > 0 {
		// GetBody lets the retrying transport send the body again without buffering it.
		if hr.Body, err = req.open(); err != nil {
			return nil, err
		}
		hr.GetBody, hr.ContentLength = req.open, req.size
	}
	for k, v := range req.header {
		hr.Header[k] = v
	}
	resp, err := c.Do(hr)
	if err != nil {
		return nil, err
	}
	if err := transport.CheckError(resp, req.want...); err != nil {
		drain(resp)
		return nil, err
	}
	return resp, nil
}

// drain reads what is left of a body (a little, at most) and closes it, so that the connection
// goes back to the pool and the next request does not open another.
func drain(resp *http.Response) {
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
}

// MaxPages bounds a listing: 100,000 tags at GHCR's 100 a page, far beyond any repository the
// pipeline writes (the prune command keeps it small), and a few minutes of requests at most.
const MaxPages = 1000

// ErrEndlessListing: the registry's tag list does not end.
var ErrEndlessListing = errors.New("the registry's tag list does not end")

// listTags reads every page of the tag list: GET tags/list?n=<page size>, then the Link header's
// next page until there is none. A registry that links to pages forever is stopped: a page that
// brings no tag not listed before while linking to yet another, or more than MaxPages pages.
// It also returns how many pages it took and how many tags the first held.
func (r *Repository) listTags(ctx context.Context) (tags []string, pages, first int, err error) {
	err = r.listPages(ctx, "", func(page []string) bool {
		if pages == 0 {
			first = len(page)
		}
		pages++
		tags = append(tags, page...)
		return true
	})
	if err == nil && tags == nil {
		tags = []string{}
	}
	return tags, pages, first, err
}

// listPages reads the tag list page by page from the tag after last ("" for the first), handing
// each page's tags not listed before to visit until it returns false or no page follows.
func (r *Repository) listPages(ctx context.Context, last string, visit func(page []string) bool) error {
	next := r.url("tags/list")
	q := url.Values{"n": {strconv.Itoa(r.pageSize)}}
	if last != "" {
		q.Set("last", last)
	}
	next.RawQuery = q.Encode()
	seen := map[string]bool{}
	listed := map[string]bool{}
	for pages := 0; next != nil; pages++ {
		if pages == MaxPages {
			return fmt.Errorf("%w: tag list of %s still links to another page after %d pages (%d tags); the registry's paging is broken, or the repository holds far more tags than a pipeline writes: prune it", ErrEndlessListing, r.Name(), pages, len(listed))
		}
		// A registry that links back to a page it served would make the listing endless.
		if seen[next.String()] {
			return fmt.Errorf("%w: tag list of %s: the registry links back to page %s it already served; the listing would never end", ErrEndlessListing, r.Name(), next.Redacted())
		}
		seen[next.String()] = true
		resp, err := r.do(ctx, request{method: http.MethodGet, url: next, want: []int{http.StatusOK}})
		if err != nil {
			if pages > 0 && hasCode(err, transport.NameUnknownErrorCode) {
				// A repository gone between two pages is a failure, not an empty list.
				return fmt.Errorf("repository disappeared while listing its tags: %w", err)
			}
			return err
		}
		var page struct {
			Tags []string `json:"tags"`
		}
		err = json.NewDecoder(io.LimitReader(resp.Body, manifestLimit)).Decode(&page)
		drain(resp)
		if err != nil {
			return fmt.Errorf("tag list page %s: %w", next.Redacted(), err)
		}
		fresh := make([]string, 0, len(page.Tags))
		for _, t := range page.Tags {
			if !listed[t] {
				listed[t] = true
				fresh = append(fresh, t)
			}
		}
		if !visit(fresh) {
			return nil
		}
		current := next
		if next, err = nextPage(resp, next); err != nil {
			return err
		}
		if next != nil && len(fresh) == 0 && !seen[next.String()] {
			return fmt.Errorf("%w: page %s of the tag list of %s has no tag not listed before, yet links to page %s; a registry pages by the last tag listed, so this listing would never end", ErrEndlessListing, current.Redacted(), r.Name(), next.Redacted())
		}
	}
	return nil
}

// nextPage follows a Link: <...>; rel="next" header, only to the same registry.
func nextPage(resp *http.Response, current *url.URL) (*url.URL, error) {
	for _, link := range resp.Header.Values("Link") {
		for _, part := range strings.Split(link, ",") {
			target, params, ok := strings.Cut(strings.TrimSpace(part), ";")
			if !ok || !strings.Contains(strings.ReplaceAll(params, " ", ""), `rel="next"`) {
				continue
			}
			target = strings.TrimSpace(target)
			if !strings.HasPrefix(target, "<") || !strings.HasSuffix(target, ">") {
				return nil, fmt.Errorf("tag list: malformed Link header %q", link)
			}
			u, err := current.Parse(strings.Trim(target, "<>"))
			if err != nil {
				return nil, fmt.Errorf("tag list: malformed Link header %q: %w", link, err)
			}
			if u.Host != current.Host || u.Scheme != current.Scheme {
				return nil, fmt.Errorf("tag list: next page %s is on another host than %s; refusing to follow it", u.Redacted(), current.Host)
			}
			return u, nil
		}
	}
	return nil, nil
}

// headManifest returns the digest a reference (tag or digest) points at. A registry that leaves
// out Docker-Content-Digest on HEAD is asked with GET instead, and so is one that refuses HEAD
// with 405 (distribution 2.2 behind token auth did, distribution/distribution#1485; crane falls
// back the same way): from then on this Repository asks it with GET only.
func (r *Repository) headManifest(ctx context.Context, reference string) (string, error) {
	if !r.noHead.Load() {
		resp, err := r.do(ctx, request{method: http.MethodHead, url: r.url("manifests/" + reference),
			header: http.Header{"Accept": {acceptManifests}}, want: []int{http.StatusOK}})
		switch {
		case methodNotAllowed(err):
			r.noHead.Store(true)
		case err != nil:
			return "", err
		default:
			drain(resp)
			if d := resp.Header.Get("Docker-Content-Digest"); validDigest(d) {
				return d, nil
			}
		}
	}
	raw, _, err := r.getManifest(ctx, reference)
	if err != nil {
		return "", err
	}
	return sha256Digest(raw), nil
}

// methodNotAllowed tells a registry's 405, its refusal of a method such as HEAD.
func methodNotAllowed(err error) bool {
	var te *transport.Error
	return errors.As(err, &te) && te.StatusCode == http.StatusMethodNotAllowed
}

// getManifest reads a manifest's bytes and media type.
func (r *Repository) getManifest(ctx context.Context, reference string) ([]byte, types.MediaType, error) {
	resp, err := r.do(ctx, request{method: http.MethodGet, url: r.url("manifests/" + reference),
		header: http.Header{"Accept": {acceptManifests}}, want: []int{http.StatusOK}})
	if err != nil {
		return nil, "", err
	}
	defer drain(resp)
	raw, err := io.ReadAll(io.LimitReader(resp.Body, manifestLimit+1))
	if err != nil {
		return nil, "", err
	}
	if len(raw) > manifestLimit {
		return nil, "", fmt.Errorf("manifest %s is larger than %d bytes", reference, manifestLimit)
	}
	return raw, mediaTypeOf(resp.Header.Get("Content-Type"), raw), nil
}

// mediaTypeOf is the Content-Type without parameters, or the manifest's own mediaType field when
// the registry sent none or a generic one.
func mediaTypeOf(contentType string, raw []byte) types.MediaType {
	if mt, _, err := mime.ParseMediaType(contentType); err == nil && mt != "application/json" && mt != "application/octet-stream" && mt != "text/plain" {
		return types.MediaType(mt)
	}
	var probe struct {
		MediaType string `json:"mediaType"`
	}
	if json.Unmarshal(raw, &probe) == nil && probe.MediaType != "" {
		return types.MediaType(probe.MediaType)
	}
	return types.MediaType(contentType)
}

// putManifest writes m's bytes unchanged under reference: one PUT, no read before it.
func (r *Repository) putManifest(ctx context.Context, reference string, m *Manifest) error {
	resp, err := r.do(ctx, request{method: http.MethodPut, url: r.url("manifests/" + reference),
		header: http.Header{"Content-Type": {string(m.MediaType)}}, body: m.Raw,
		want: []int{http.StatusOK, http.StatusCreated, http.StatusAccepted}})
	if err != nil {
		return err
	}
	drain(resp)
	return nil
}

func sha256Digest(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

func validDigest(d string) bool {
	algo, hexPart, ok := strings.Cut(d, ":")
	if !ok || algo == "" || hexPart == "" {
		return false
	}
	_, err := hex.DecodeString(hexPart)
	return err == nil
}
