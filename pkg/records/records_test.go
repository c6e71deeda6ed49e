package records

import (
	"context"
	"crypto/sha1"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ocipromote/ocipromote/pkg/records/githubtest"
)

const (
	token  = "ghs_test-token"
	runURL = "https://github.com/acme/platform/actions/runs/42"
)

// sha is a distinct, realistic commit sha for each n.
func sha(n int) string { return fmt.Sprintf("%x", sha1.Sum([]byte{byte(n)})) }

func digest(n int) string { return fmt.Sprintf("sha256:%064x", n) }

var day = time.Date(2026, 8, 1, 10, 0, 0, 0, time.UTC)

// fakeGitHub serves acme/platform with a small page cap, so every list spans pages.
func fakeGitHub(t *testing.T, opts ...githubtest.Option) *githubtest.Server {
	t.Helper()
	return githubtest.New(t, "acme", "platform", append([]githubtest.Option{githubtest.Token(token), githubtest.MaxPage(2)}, opts...)...)
}

// client writes every record to srv; o overrides the switches and names.
func client(t *testing.T, srv *githubtest.Server, o Options) *Client {
	t.Helper()
	o.Token, o.APIURL, o.Repository, o.RunURL, o.PageSize = token, srv.APIURL(), "acme/platform", runURL, 2
	c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var all = Options{Deployments: true, Release: true, CommentPRs: true}

func TestNew(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		o       Options
		wantErr string
	}{
		{name: "all off needs nothing", o: Options{}},
		{name: "token required", o: Options{Release: true, Repository: "acme/platform"}, wantErr: "github_token is required"},
		{name: "repository required", o: Options{Deployments: true, Token: "t"}, wantErr: `GitHub repository "" is not owner/name`},
		{name: "repository with three parts", o: Options{Deployments: true, Token: "t", Repository: "acme/platform/x"}, wantErr: "is not owner/name"},
		{name: "api url scheme", o: Options{CommentPRs: true, Token: "t", Repository: "acme/platform", APIURL: "ftp://api"}, wantErr: `GitHub API URL "ftp://api"`},
		{name: "server url", o: Options{CommentPRs: true, Token: "t", Repository: "acme/platform", ServerURL: "github.com"}, wantErr: `GitHub server URL "github.com"`},
		{name: "same environments", o: Options{Deployments: true, Token: "t", Repository: "acme/platform", Integration: "prod", Live: "prod"}, wantErr: "must differ"},
		{name: "enterprise", o: Options{Deployments: true, Token: "t", Repository: "acme/platform", APIURL: "https://ghe.example.com/api/v3", ServerURL: "https://ghe.example.com/"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := New(tc.o)
			if tc.wantErr == "" {
				if err != nil || c == nil {
					t.Fatalf("New() = %v, %v; want a client", c, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("New() error = %v, want it to contain %q", err, tc.wantErr)
			}
		})
	}
}

func TestEnterpriseBaseURL(t *testing.T) {
	t.Parallel()
	c, err := New(Options{Deployments: true, Token: "t", Repository: "acme/platform", APIURL: "https://ghe.example.com/api/v3"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.gh.BaseURL.String(), "https://ghe.example.com/api/v3/"; got != want {
		t.Errorf("base URL = %s, want %s", got, want)
	}
}

func TestOffNothingIsCalled(t *testing.T) {
	t.Parallel()
	c, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	o := Offer{Sha: sha(1), Version: "0.0.1-rc.1", Digest: digest(1)}
	for _, rep := range []Report{c.Offered(ctx, o), c.Superseded(ctx, o), c.Promoted(ctx, Promotion{Sha: sha(1), Stable: "0.0.1", Digest: digest(1), First: true})} {
		if len(rep.Records) != 0 || len(rep.Warnings) != 0 {
			t.Errorf("report = %+v, want empty with every record off", rep)
		}
	}
}

func TestInline(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		max  int
		want string
	}{
		{"Health check passed in 12.3s", 200, "Health check passed in 12.3s"},
		{"first\nsecond", 200, "first"},
		{"<!-- ocipromote:released:9.9.9 --> `x`", 200, "&lt;!-- ocipromote:released:9.9.9 --&gt; 'x'"},
		{strings.Repeat("a", 30), 10, strings.Repeat("a", 9) + "…"},
	}
	for _, tc := range tests {
		if got := inline(tc.in, tc.max); got != tc.want {
			t.Errorf("inline(%q, %d) = %q, want %q", tc.in, tc.max, got, tc.want)
		}
	}
}
