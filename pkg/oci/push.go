package oci

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// blob is one blob an image's manifest names: its digest, its size and a way to read it from the
// start, as often as an upload is tried.
type blob struct {
	digest string
	size   int64
	open   func() (io.ReadCloser, error)
}

// uncheckedLayer is the size under which a layer is uploaded without a HEAD asking whether the
// registry has it. Asking costs a round trip before the upload on every push; sending a blob the
// registry has costs only its bytes (blobs are content-addressed, the registry keeps one copy),
// and 256 KiB is about what a runner sends in one 20 ms round trip to GHCR at 100 Mbit/s. An
// artifact of a few hundred manifests packs well under it.
const uncheckedLayer = 256 << 10

// push uploads what the registry lacks of img, then writes its manifest under tag.
//
// Each layer of uncheckedLayer or more is checked with one HEAD, at most once per Repository; a
// smaller one is uploaded. The config is checked only when every layer was there: a config
// names its layers' diff IDs, so a new layer means a new config, and uploading it unchecked saves
// the HEAD that would only say so. The uploads run side by side, and each is monolithic, POST
// then one PUT with the whole blob, which every distribution-spec registry takes (oras-go uploads
// the same way); go-containerregistry's streaming upload sends a PATCH in between. Sessions
// opened ahead by PrepareUploads save the POST.
func (r *Repository) push(ctx context.Context, img v1.Image, m *Manifest, tag string) error {
	if m.Parsed == nil {
		return fmt.Errorf("image for %s has no parsed manifest", tag)
	}
	layers, err := img.Layers()
	if err != nil {
		return err
	}
	var missing []blob
	seen := map[string]bool{}
	for _, l := range layers {
		d, err := l.Digest()
		if err != nil {
			return err
		}
		if seen[d.String()] {
			continue
		}
		seen[d.String()] = true
		size, err := l.Size()
		if err != nil {
			return err
		}
		there := r.knownBlob(d.String())
		if !there && size >= uncheckedLayer {
			if there, err = r.hasBlob(ctx, d.String()); err != nil {
				return err
			}
		}
		if !there {
			missing = append(missing, blob{digest: d.String(), size: size, open: l.Compressed})
		}
	}
	config := m.Parsed.Config.Digest.String()
	if !seen[config] {
		raw, err := img.RawConfigFile()
		if err != nil {
			return err
		}
		openConfig := func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(raw)), nil }
		there := false
		if len(missing) == 0 {
			if there, err = r.hasBlob(ctx, config); err != nil {
				return err
			}
		}
		if !there {
			missing = append([]blob{{digest: config, size: int64(len(raw)), open: openConfig}}, missing...)
		}
	}
	if err := r.uploadAll(ctx, missing); err != nil {
		return err
	}
	if err := r.putManifest(ctx, tag, m); err != nil {
		// A blob the registry was thought to have may be gone (garbage collection): check again
		// on the next attempt.
		if retryable(err) {
			r.forgetBlobs()
		}
		return err
	}
	return nil
}

// uploadAll uploads the blobs side by side (the config and the layer of an artifact): their
// round trips overlap instead of adding up.
func (r *Repository) uploadAll(ctx context.Context, blobs []blob) error {
	errs := make([]error, len(blobs))
	var wg sync.WaitGroup
	for i, b := range blobs {
		wg.Go(func() { errs[i] = r.upload(ctx, b) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// knownBlob tells whether the blob was seen in the repository already, asking nothing.
func (r *Repository) knownBlob(digest string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.blobs[digest]
}

// hasBlob tells whether the repository has the blob, asking the registry once per Repository.
func (r *Repository) hasBlob(ctx context.Context, digest string) (bool, error) {
	if r.knownBlob(digest) {
		return true, nil
	}
	if r.noHead.Load() {
		return false, nil
	}
	resp, err := r.do(ctx, request{method: http.MethodHead, url: r.url("blobs/" + digest), want: []int{http.StatusOK, http.StatusNotFound}})
	if methodNotAllowed(err) {
		// A registry that refuses HEAD gets the blob uploaded: the upload of a blob it has
		// already is harmless (blobs are content-addressed), a GET of it would download it.
		r.noHead.Store(true)
		return false, nil
	}
	if err != nil {
		return false, err
	}
	drain(resp)
	if resp.StatusCode == http.StatusNotFound {
		return false, nil
	}
	r.knowBlob(digest)
	return true, nil
}

// upload sends one blob: POST opens an upload session (or one PrepareUploads opened is taken),
// one PUT carries the whole blob and commits it under its digest, which the registry checks against what it received. The body is
// read from b as it is sent (a packed layer from its spool file), so memory does not follow the
// blob's size; a retry opens it again from the start. A long upload logs how far it got.
func (r *Repository) upload(ctx context.Context, b blob) error {
	if loc := r.takePrepared(); loc != nil {
		err := r.send(ctx, b, loc)
		if !notFound(err) && !hasCode(err, transport.BlobUploadUnknownErrorCode) {
			return err
		}
		// The registry forgot the session it opened (it expires idle ones): open another.
	}
	loc, err := r.openUpload(ctx)
	if err != nil {
		return err
	}
	return r.send(ctx, b, loc)
}

// openUpload opens an upload session (POST) and returns where the blob goes.
func (r *Repository) openUpload(ctx context.Context) (*url.URL, error) {
	resp, err := r.do(ctx, request{method: http.MethodPost, url: r.url("blobs/uploads/"), want: []int{http.StatusAccepted}})
	if err != nil {
		return nil, err
	}
	drain(resp)
	return uploadLocation(resp)
}

// send puts the whole blob into the upload session at loc, committing it under its digest.
func (r *Repository) send(ctx context.Context, b blob, session *url.URL) error {
	loc := *session
	q := loc.Query()
	q.Set("digest", b.digest)
	loc.RawQuery = q.Encode()
	open := b.open
	if r.logf != nil {
		start := time.Now()
		open = func() (io.ReadCloser, error) {
			rc, err := b.open()
			if err != nil {
				return nil, err
			}
			return &uploadProgress{ReadCloser: rc, r: r, blob: b, every: r.progressEvery, start: start, last: time.Now()}, nil
		}
	}
	resp, err := r.do(ctx, request{method: http.MethodPut, url: &loc, open: open, size: b.size,
		header: http.Header{"Content-Type": {"application/octet-stream"}},
		want:   []int{http.StatusCreated, http.StatusAccepted, http.StatusNoContent}})
	if err != nil {
		return err
	}
	drain(resp)
	r.knowBlob(b.digest)
	return nil
}

// Uploads are upload sessions opened ahead of a push by PrepareUploads.
type Uploads struct {
	r      *Repository
	opened sync.WaitGroup // the sessions still opening
	mu     sync.Mutex
	locs   []*url.URL // opened, not taken yet
	once   sync.Once
	done   chan struct{} // closed once Release's cancellations have answered
}

// PrepareUploads opens n upload sessions in the background for a push to come: a session names
// no digest and holds nothing, so it can be opened while the content is still being packed, and
// the push then sends each blob with one PUT instead of a POST and a PUT. A session that fails
// to open is left to the push, which opens its own. The caller releases the sessions once its push
// is done (or will not happen) and ends them before it returns.
func (r *Repository) PrepareUploads(ctx context.Context, n int) *Uploads {
	u := &Uploads{r: r, done: make(chan struct{})}
	u.opened.Add(n)
	for range n {
		go func() {
			defer u.opened.Done()
			if loc, err := r.openUpload(ctx); err == nil {
				u.mu.Lock()
				u.locs = append(u.locs, loc)
				u.mu.Unlock()
			}
		}()
	}
	r.mu.Lock()
	r.prepared = append(r.prepared, u)
	r.mu.Unlock()
	return u
}

// take returns one of u's sessions, waiting for those still opening (they went out first, so
// they answer before a new one would), or nil when none is left.
func (u *Uploads) take() *url.URL {
	u.opened.Wait()
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.locs) == 0 {
		return nil
	}
	loc := u.locs[len(u.locs)-1]
	u.locs = u.locs[:len(u.locs)-1]
	return loc
}

// takePrepared returns a session PrepareUploads opened and no upload took yet, or nil.
func (r *Repository) takePrepared() *url.URL {
	r.mu.Lock()
	batches := slices.Clone(r.prepared)
	r.mu.Unlock()
	for _, u := range batches {
		if loc := u.take(); loc != nil {
			return loc
		}
	}
	return nil
}

// Release stops lending u's sessions to pushes and cancels, in the background, those no upload
// took: DELETE, which the distribution spec defines for cancelling an upload. A session the
// registry will not cancel holds no content and expires on its own, so a failure is logged, not
// returned. Release on nil does nothing.
func (u *Uploads) Release(ctx context.Context) {
	if u == nil {
		return
	}
	u.once.Do(func() {
		r := u.r
		r.mu.Lock()
		r.prepared = slices.DeleteFunc(r.prepared, func(x *Uploads) bool { return x == u })
		r.mu.Unlock()
		go func() {
			defer close(u.done)
			u.opened.Wait()
			u.mu.Lock()
			left := u.locs
			u.locs = nil
			u.mu.Unlock()
			var wg sync.WaitGroup
			for _, loc := range left {
				wg.Go(func() {
					resp, err := r.do(ctx, request{method: http.MethodDelete, url: loc, want: []int{http.StatusNoContent, http.StatusOK, http.StatusAccepted}})
					if err != nil {
						if r.logf != nil {
							r.logf("registry %s: could not cancel an unused upload session (%v); it holds nothing and the registry expires it", r.ref.RegistryStr(), err)
						}
						return
					}
					drain(resp)
				})
			}
			wg.Wait()
		}()
	})
}

// End releases u and waits until every request it started has answered, so that none outlives
// the step. End on nil does nothing.
func (u *Uploads) End(ctx context.Context) {
	if u == nil {
		return
	}
	u.Release(ctx)
	<-u.done
}

// uploadProgress logs, at most once per every, how much of a blob has been sent.
type uploadProgress struct {
	io.ReadCloser
	r           *Repository
	blob        blob
	every       time.Duration
	start, last time.Time
	sent        int64
}

func (p *uploadProgress) Read(b []byte) (int, error) {
	n, err := p.ReadCloser.Read(b)
	p.sent += int64(n)
	if now := time.Now(); now.Sub(p.last) >= p.every {
		p.last = now
		p.r.logf("registry %s: uploading blob %s: %d of %d MiB sent, %s elapsed", p.r.ref.RegistryStr(), p.blob.digest,
			p.sent>>20, p.blob.size>>20, now.Sub(p.start).Round(time.Second))
	}
	return n, err
}

// uploadLocation is where the registry wants the blob, resolved against the POST's URL.
func uploadLocation(resp *http.Response) (*url.URL, error) {
	loc := resp.Header.Get("Location")
	if loc == "" {
		return nil, fmt.Errorf("registry opened a blob upload without a Location")
	}
	u, err := resp.Request.URL.Parse(loc)
	if err != nil {
		return nil, fmt.Errorf("registry's blob upload Location %q: %w", loc, err)
	}
	return u, nil
}

func (r *Repository) knowBlob(digest string) {
	r.mu.Lock()
	r.blobs[digest] = true
	r.mu.Unlock()
}

func (r *Repository) forgetBlobs() {
	r.mu.Lock()
	clear(r.blobs)
	r.mu.Unlock()
}
