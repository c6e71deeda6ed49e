package step

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/sethvargo/go-githubactions"

	"github.com/ocipromote/ocipromote/pkg/actionio"
)

// plainHTTPRegistry answers like a registry that serves plain HTTP only, under any host name:
// an HTTPS request fails as a TLS handshake with an HTTP server does (Flux's OCIRepository
// spec.insecure exists for such registries). It records the URLs it was asked for.
type plainHTTPRegistry struct{ asked []string }

func (p *plainHTTPRegistry) RoundTrip(req *http.Request) (*http.Response, error) {
	p.asked = append(p.asked, req.URL.String())
	if req.URL.Scheme != "http" {
		return nil, errors.New("tls: first record does not look like a TLS handshake")
	}
	body := `{}`
	if strings.HasSuffix(req.URL.Path, "/tags/list") {
		body = `{"name":"acme/platform-manifests","tags":["0.4.1"]}`
	}
	return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(body)), Request: req}, nil
}

// A registry by name (not loopback or private, which use HTTP anyway) that serves plain HTTP is
// reached only with insecure, the input named after the OCIRepository field.
func TestOpenInsecure(t *testing.T) {
	t.Parallel()
	cmd := actionio.Command{Name: "demo", Inputs: append([]actionio.Input{RepositoryInput}, CredentialInputs...)}
	tests := []struct {
		name   string
		env    map[string]string
		wantOK bool
	}{
		{"insecure input", map[string]string{"INPUT_INSECURE": "true"}, true},
		{"without it", nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := map[string]string{"INPUT_REPOSITORY": "registry.internal:5000/acme/platform-manifests"}
			for k, v := range tc.env {
				env[k] = v
			}
			a := githubactions.New(githubactions.WithGetenv(func(k string) string { return env[k] }), githubactions.WithWriter(io.Discard))
			v, err := actionio.Parse(cmd, a, nil, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			reg := &plainHTTPRegistry{}
			r, err := Open(a, v, Env{Transport: reg})
			if err != nil {
				t.Fatal(err)
			}
			tags, err := r.Tags(context.Background())
			if got := err == nil; got != tc.wantOK {
				t.Fatalf("Tags: err = %v, want success %v; asked %v", err, tc.wantOK, reg.asked)
			}
			if tc.wantOK && (len(tags) != 1 || tags[0] != "0.4.1") {
				t.Errorf("tags = %v, want [0.4.1]", tags)
			}
		})
	}
}
