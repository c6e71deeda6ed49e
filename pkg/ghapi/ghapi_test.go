package ghapi_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-github/v62/github"

	"github.com/ocipromote/ocipromote/pkg/ghapi"
)

func TestHint(t *testing.T) {
	t.Parallel()
	refusal := func(status int, accepted string) error {
		h := http.Header{}
		if accepted != "" {
			h.Set("X-Accepted-GitHub-Permissions", accepted)
		}
		return &github.ErrorResponse{Response: &http.Response{StatusCode: status, Header: h}, Message: "Resource not accessible by integration"}
	}
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"one permission", refusal(403, "issues=write"), "GitHub accepts `issues: write` for this request"},
		{"either of two", refusal(403, "issues=write; pull_requests=write"), "`issues: write` or `pull-requests: write`"},
		{"both of a set", refusal(403, "contents=read,pull_requests=read"), "`contents: read` and `pull-requests: read`"},
		{"workflows", refusal(403, "contents=write,workflows=write"), "GITHUB_TOKEN can never hold `workflows`"},
		{"no header", refusal(403, ""), ""},
		{"bad token", refusal(401, ""), "github_token was refused"},
		{"not GitHub's", errors.New("boom"), ""},
	}
	for _, tc := range tests {
		got := ghapi.Hint(tc.err)
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("%s: Hint = %q, want %q", tc.name, got, tc.want)
		}
	}
}

// fakeClock is moved by the pacer's sleeps.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }
func (c *fakeClock) sleep(_ context.Context, d time.Duration) error {
	c.t = c.t.Add(d)
	return nil
}

func TestPacingAndStop(t *testing.T) {
	t.Parallel()
	var sent, writes atomic.Int32
	var at []time.Time
	clock := &fakeClock{t: time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC)}
	limitAfter := int32(3)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sent.Add(1)
		if r.Method == http.MethodPost {
			at = append(at, clock.now())
			if writes.Add(1) > limitAfter {
				w.Header().Set("Retry-After", "42")
				w.WriteHeader(http.StatusTooManyRequests)
				w.Write([]byte(`{"message":"You have exceeded a secondary rate limit"}`))
				return
			}
		}
		w.Write([]byte(`{}`))
	}))
	t.Cleanup(srv.Close)
	c, err := ghapi.New(ghapi.Options{APIURL: srv.URL, Token: "t", WriteInterval: time.Second, Now: clock.now, Sleep: clock.sleep})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	post := func() error {
		req, _ := c.NewRequest("POST", "x", map[string]string{})
		_, err := c.Do(ctx, req, nil)
		return err
	}
	get := func() error {
		req, _ := c.NewRequest("GET", "x", nil)
		_, err := c.Do(ctx, req, nil)
		return err
	}
	for i := 0; i < 3; i++ {
		if err := post(); err != nil {
			t.Fatal(err)
		}
		if err := get(); err != nil {
			t.Fatal(err)
		}
	}
	for i := 1; i < len(at); i++ {
		if gap := at[i].Sub(at[i-1]); gap < time.Second {
			t.Errorf("writes %d and %d %s apart, want at least 1s", i, i+1, gap)
		}
	}
	err = post()
	stop := ghapi.Limited(err)
	if stop == nil || stop.RetryAfter != 42*time.Second || stop.Status != 429 {
		t.Fatalf("Limited(%v) = %+v, want the 429 with retry-after 42s", err, stop)
	}
	before := sent.Load()
	if err := get(); !errors.Is(err, ghapi.ErrStopped) {
		t.Errorf("a request after the limit: %v, want ErrStopped", err)
	}
	if sent.Load() != before || c.Stopped() == nil {
		t.Errorf("a request was sent after the rate limit")
	}
}

func TestMaxWrites(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`{}`)) }))
	t.Cleanup(srv.Close)
	c, err := ghapi.New(ghapi.Options{APIURL: srv.URL, MaxWrites: 2})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		req, _ := c.NewRequest("DELETE", "x", nil)
		_, err := c.Do(ctx, req, nil)
		var stop *ghapi.StopError
		if got := errors.As(err, &stop) && stop.Budget; got != (i == 2) {
			t.Errorf("write %d: %v", i+1, err)
		}
	}
	req, _ := c.NewRequest("GET", "x", nil)
	if _, err := c.Do(ctx, req, nil); err != nil {
		t.Errorf("a read after the write budget: %v, want it sent", err)
	}
	if c.Writes() != 2 {
		t.Errorf("writes = %d, want 2", c.Writes())
	}
}
