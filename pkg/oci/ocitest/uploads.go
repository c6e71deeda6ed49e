package ocitest

import (
	"net/http"
	"net/http/httptest"
	"path"
	"strings"
	"sync"
	"time"
)

// uploads keeps the upload sessions of the in-memory registry as a distribution registry keeps
// them: go-containerregistry's registry takes a PUT into any upload id, one never opened or
// already committed included, and answers DELETE of a session 400. Distribution answers
// BLOB_UPLOAD_UNKNOWN (404) for a session it does not have, forgets a session once its blob is
// committed or it is cancelled (DELETE, 204), and purges idle ones
// (storage.maintenance.uploadpurging, 168h by default; ExpireUploads shortens it).
type uploads struct {
	maxAge time.Duration // 0: never expire

	mu   sync.Mutex
	open map[string]time.Time // by upload id
}

// ExpireUploads makes the registry forget an upload session d after it opened, as a registry
// purging idle uploads does: a client that opens a session ahead of its upload must open another.
func ExpireUploads(d time.Duration) Option { return func(s *Server) { s.uploads.maxAge = d } }

const blobUploadUnknown = `{"errors":[{"code":"BLOB_UPLOAD_UNKNOWN","message":"blob upload unknown to registry"}]}`

// serve answers a request under /blobs/uploads/ in front of the in-memory registry.
func (u *uploads) serve(w http.ResponseWriter, r *http.Request, inner http.Handler) {
	id := path.Base(r.URL.Path)
	if r.Method == http.MethodPost {
		rec := httptest.NewRecorder()
		inner.ServeHTTP(rec, r)
		if rec.Code == http.StatusAccepted {
			u.mu.Lock()
			u.open[path.Base(rec.Header().Get("Location"))] = time.Now()
			u.mu.Unlock()
		}
		copyRecorded(w, rec)
		return
	}
	u.mu.Lock()
	opened, ok := u.open[id]
	if ok && u.maxAge > 0 && time.Since(opened) > u.maxAge {
		delete(u.open, id)
		ok = false
	}
	if ok && (r.Method == http.MethodDelete || r.Method == http.MethodPut) {
		// Committed or cancelled, the session is gone (a failed commit too: distribution
		// removes the upload when the digest does not match).
		delete(u.open, id)
	}
	u.mu.Unlock()
	switch {
	case !ok:
		w.Header().Set("Content-Type", "application/json")
		http.Error(w, blobUploadUnknown, http.StatusNotFound)
	case r.Method == http.MethodDelete:
		w.WriteHeader(http.StatusNoContent)
	default:
		inner.ServeHTTP(w, r)
	}
}

// isUpload reports whether r is about an upload session (not a cross-repository mount's answer).
func isUpload(r *http.Request) bool {
	return strings.Contains(r.URL.Path, "/blobs/uploads/")
}

func copyRecorded(w http.ResponseWriter, rec *httptest.ResponseRecorder) {
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	w.Write(rec.Body.Bytes())
}
