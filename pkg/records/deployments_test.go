package records

import (
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ocipromote/ocipromote/pkg/records/githubtest"
)

// states maps "environment version" to the latest state of each deployment records wrote;
// a second deployment for the same key is reported as "duplicate".
func states(t *testing.T, srv *githubtest.Server) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, d := range srv.Deployments() {
		var p payload
		if json.Unmarshal(d.Payload, &p) != nil || p.Tool != tool {
			continue
		}
		k := d.Environment + " " + p.Version
		if _, dup := out[k]; dup {
			out[k] = "duplicate"
			continue
		}
		out[k] = d.State()
	}
	return out
}

func offer(n int, rc string) Offer {
	return Offer{Sha: sha(n), Version: rc, Digest: digest(n), OCIRepository: "ghcr.io/acme/platform-manifests"}
}

func promotion(n int, rc, stable string) Promotion {
	return Promotion{Sha: sha(n), RC: rc, Stable: stable, Digest: digest(n), OCIRepository: "ghcr.io/acme/platform-manifests", First: true}
}

func TestDeployments(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name string
		// faults fails requests while set; steps run in order.
		steps func(t *testing.T, c *Client, srv *githubtest.Server, fail *atomic.Bool) []Report
		want  map[string]string
		// wantWarnings is the number of warnings over all steps.
		wantWarnings int
	}{
		{
			name: "offer creates an in-progress integration deployment",
			steps: func(t *testing.T, c *Client, _ *githubtest.Server, _ *atomic.Bool) []Report {
				return []Report{c.Offered(ctx, offer(1, "0.0.1-rc.1"))}
			},
			want: map[string]string{"integration 0.0.1-rc.1": "in_progress"},
		},
		{
			name: "offer replayed writes once",
			steps: func(t *testing.T, c *Client, _ *githubtest.Server, _ *atomic.Bool) []Report {
				return []Report{c.Offered(ctx, offer(1, "0.0.1-rc.1")), c.Offered(ctx, offer(1, "0.0.1-rc.1")), c.Offered(ctx, offer(1, "0.0.1-rc.1"))}
			},
			want: map[string]string{"integration 0.0.1-rc.1": "in_progress"},
		},
		{
			name: "a run that created the deployment but failed on its status is completed by the next",
			steps: func(t *testing.T, c *Client, _ *githubtest.Server, fail *atomic.Bool) []Report {
				fail.Store(true)
				first := c.Offered(ctx, offer(1, "0.0.1-rc.1"))
				fail.Store(false)
				return []Report{first, c.Offered(ctx, offer(1, "0.0.1-rc.1"))}
			},
			want:         map[string]string{"integration 0.0.1-rc.1": "in_progress"},
			wantWarnings: 1,
		},
		{
			name: "a deployment stranded without a status is retired like an active one",
			steps: func(t *testing.T, c *Client, _ *githubtest.Server, fail *atomic.Bool) []Report {
				fail.Store(true)
				stranded := c.Offered(ctx, offer(1, "0.0.1-rc.1"))
				fail.Store(false)
				return []Report{stranded, c.Offered(ctx, offer(2, "0.0.1-rc.2")), c.Promoted(ctx, promotion(2, "0.0.1-rc.2", "0.0.1"))}
			},
			want:         map[string]string{"integration 0.0.1-rc.1": "inactive", "integration 0.0.1-rc.2": "success", "live 0.0.1": "success"},
			wantWarnings: 1,
		},
		{
			name: "an older candidate is not recorded once a newer one holds integration",
			steps: func(t *testing.T, c *Client, _ *githubtest.Server, _ *atomic.Bool) []Report {
				return []Report{c.Offered(ctx, offer(2, "0.0.1-rc.2")), c.Offered(ctx, offer(1, "0.0.1-rc.1"))}
			},
			want: map[string]string{"integration 0.0.1-rc.2": "in_progress"},
		},
		{
			name: "promotions move both environments forward and retire what they replace",
			steps: func(t *testing.T, c *Client, _ *githubtest.Server, _ *atomic.Bool) []Report {
				return []Report{
					c.Offered(ctx, offer(1, "0.0.1-rc.1")), c.Promoted(ctx, promotion(1, "0.0.1-rc.1", "0.0.1")),
					c.Offered(ctx, offer(2, "0.0.2-rc.1")), c.Promoted(ctx, promotion(2, "0.0.2-rc.1", "0.0.2")),
				}
			},
			want: map[string]string{
				"integration 0.0.1-rc.1": "inactive", "integration 0.0.2-rc.1": "success",
				"live 0.0.1": "inactive", "live 0.0.2": "success",
			},
		},
		{
			name: "a candidate that never succeeded is retired when a newer one does",
			steps: func(t *testing.T, c *Client, _ *githubtest.Server, _ *atomic.Bool) []Report {
				return []Report{
					c.Offered(ctx, offer(1, "0.0.1-rc.1")), c.Offered(ctx, offer(2, "0.0.1-rc.2")),
					c.Promoted(ctx, promotion(2, "0.0.1-rc.2", "0.0.1")),
				}
			},
			want: map[string]string{"integration 0.0.1-rc.1": "inactive", "integration 0.0.1-rc.2": "success", "live 0.0.1": "success"},
		},
		{
			name: "a late validation of an older candidate is recorded without taking live back",
			steps: func(t *testing.T, c *Client, _ *githubtest.Server, _ *atomic.Bool) []Report {
				return []Report{
					c.Offered(ctx, offer(1, "0.0.1-rc.1")), c.Offered(ctx, offer(2, "0.0.2-rc.1")),
					c.Promoted(ctx, promotion(2, "0.0.2-rc.1", "0.0.2")),
					// Replayed event for 0.0.1 after 0.0.2 went live: its live record is not created.
					c.Promoted(ctx, promotion(1, "0.0.1-rc.1", "0.0.1")),
				}
			},
			want: map[string]string{"integration 0.0.1-rc.1": "inactive", "integration 0.0.2-rc.1": "success", "live 0.0.2": "success"},
		},
		{
			name: "superseded retires the candidate's integration deployment",
			steps: func(t *testing.T, c *Client, _ *githubtest.Server, _ *atomic.Bool) []Report {
				return []Report{
					c.Offered(ctx, offer(1, "0.0.1-rc.1")), c.Offered(ctx, offer(2, "0.0.1-rc.2")),
					c.Superseded(ctx, offer(1, "0.0.1-rc.1")), c.Superseded(ctx, offer(1, "0.0.1-rc.1")),
					c.Superseded(ctx, offer(3, "0.0.1-rc.3")), // never offered: nothing to retire
				}
			},
			want: map[string]string{"integration 0.0.1-rc.1": "inactive", "integration 0.0.1-rc.2": "in_progress"},
		},
		{
			name: "replayed promotions write nothing",
			steps: func(t *testing.T, c *Client, srv *githubtest.Server, _ *atomic.Bool) []Report {
				reps := []Report{c.Offered(ctx, offer(1, "0.0.1-rc.1")), c.Promoted(ctx, promotion(1, "0.0.1-rc.1", "0.0.1"))}
				before := len(srv.Writes())
				reps = append(reps, c.Promoted(ctx, promotion(1, "0.0.1-rc.1", "0.0.1")), c.Offered(ctx, offer(1, "0.0.1-rc.1")))
				if w := srv.Writes()[before:]; len(w) != 0 {
					t.Errorf("replays wrote %v", w)
				}
				return reps
			},
			want: map[string]string{"integration 0.0.1-rc.1": "success", "live 0.0.1": "success"},
		},
		{
			name: "other tools' deployments are left alone",
			steps: func(t *testing.T, c *Client, srv *githubtest.Server, _ *atomic.Bool) []Report {
				srv.AddDeployment(githubtest.Deployment{Sha: sha(9), Ref: sha(9), Environment: "live", Payload: json.RawMessage(`{"version":"0.0.0"}`),
					Statuses: []githubtest.Status{{ID: 1, State: "success"}}})
				return []Report{c.Offered(ctx, offer(1, "0.0.1-rc.1")), c.Promoted(ctx, promotion(1, "0.0.1-rc.1", "0.0.1"))}
			},
			want: map[string]string{"integration 0.0.1-rc.1": "success", "live 0.0.1": "success"},
		},
	}
	// GitHub does not document the order of a deployment's statuses: each case runs with the
	// newest listed first, as GitHub does in practice, and with the oldest first.
	orders := []struct {
		name string
		opts []githubtest.Option
	}{{name: "statuses newest first"}, {name: "statuses oldest first", opts: []githubtest.Option{githubtest.StatusesOldestFirst()}}}
	for _, tc := range tests {
		for _, order := range orders {
			t.Run(tc.name+"/"+order.name, func(t *testing.T) {
				t.Parallel()
				var fail atomic.Bool
				faults := githubtest.Faults(func(r *http.Request) githubtest.Fault {
					if fail.Load() && r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/statuses") {
						return githubtest.Fault{Status: http.StatusBadGateway}
					}
					return githubtest.Fault{}
				})
				srv := fakeGitHub(t, slices.Concat(order.opts, []githubtest.Option{faults})...)
				for n := 1; n <= 9; n++ {
					srv.AddCommit(githubtest.Commit{Sha: sha(n), Message: "commit", Author: "Alice", Date: day})
				}
				c := client(t, srv, Options{Deployments: true})
				warnings := 0
				for _, rep := range tc.steps(t, c, srv, &fail) {
					warnings += len(rep.Warnings)
				}
				if got := states(t, srv); !maps.Equal(got, tc.want) {
					t.Errorf("deployments = %v, want %v", got, tc.want)
				}
				if warnings != tc.wantWarnings {
					t.Errorf("%d warnings, want %d", warnings, tc.wantWarnings)
				}
				for _, d := range srv.Deployments() {
					if d.Environment == "live" && d.Sha != sha(9) && !d.Production {
						t.Errorf("live deployment %d is not a production environment", d.ID)
					}
					if d.Environment == "integration" && d.Production {
						t.Errorf("integration deployment %d is a production environment", d.ID)
					}
				}
			})
		}
	}
}

// TestDeploymentRequests checks the request bodies against the documented fields.
func TestDeploymentRequests(t *testing.T) {
	t.Parallel()
	srv := fakeGitHub(t)
	srv.AddCommit(githubtest.Commit{Sha: sha(1), Message: "init", Author: "Alice", Date: day})
	o := Options{Deployments: true, IntegrationURL: "https://integration.example.com"}
	rep := client(t, srv, o).Offered(context.Background(), offer(1, "0.0.1-rc.1"))
	if len(rep.Warnings) != 0 {
		t.Fatal(rep.Warnings)
	}
	var create, status map[string]any
	for _, r := range srv.Requests() {
		switch {
		case r.Method == http.MethodPost && r.Path == srv.RepoPath("/deployments"):
			if err := json.Unmarshal(r.Body, &create); err != nil {
				t.Fatal(err)
			}
		case r.Method == http.MethodPost && strings.HasSuffix(r.Path, "/statuses"):
			if err := json.Unmarshal(r.Body, &status); err != nil {
				t.Fatal(err)
			}
		}
	}
	wantCreate := map[string]any{
		"ref": sha(1), "task": "deploy", "auto_merge": false, "required_contexts": []any{},
		"environment": "integration", "description": "0.0.1-rc.1 sha256:000000000000",
		"transient_environment": false, "production_environment": false,
		"payload": map[string]any{"tool": "ocipromote", "repository": "ghcr.io/acme/platform-manifests", "version": "0.0.1-rc.1", "digest": digest(1)},
	}
	if got, want := jsonString(t, create), jsonString(t, wantCreate); got != want {
		t.Errorf("create deployment body =\n%s\nwant\n%s", got, want)
	}
	wantStatus := map[string]any{"state": "in_progress", "description": "0.0.1-rc.1 offered to integration", "log_url": runURL, "environment_url": "https://integration.example.com"}
	if got, want := jsonString(t, status), jsonString(t, wantStatus); got != want {
		t.Errorf("create status body =\n%s\nwant\n%s", got, want)
	}
	if got := rep.Records; len(got) != 1 || !got[0].Wrote || got[0].State != "in_progress" ||
		got[0].URL != "https://github.com/acme/platform/deployments/integration" {
		t.Errorf("records = %+v", got)
	}
}

func TestIntegrationURLIsKept(t *testing.T) {
	t.Parallel()
	srv := fakeGitHub(t)
	srv.AddCommit(githubtest.Commit{Sha: sha(1), Message: "init", Author: "Alice", Date: day})
	ctx := context.Background()
	client(t, srv, Options{Deployments: true, IntegrationURL: "https://integration.example.com"}).Offered(ctx, offer(1, "0.0.1-rc.1"))
	// tag-validated knows only the live URL: the integration status keeps the one build-rc gave.
	client(t, srv, Options{Deployments: true, LiveURL: "https://live.example.com"}).Promoted(ctx, promotion(1, "0.0.1-rc.1", "0.0.1"))
	urls := map[string]string{}
	for _, d := range srv.Deployments() {
		urls[d.Environment] = d.Statuses[len(d.Statuses)-1].EnvironmentURL
	}
	want := map[string]string{"integration": "https://integration.example.com", "live": "https://live.example.com"}
	if !maps.Equal(urls, want) {
		t.Errorf("environment URLs = %v, want %v", urls, want)
	}
}

func TestDeploymentListsArePaged(t *testing.T) {
	t.Parallel()
	srv := fakeGitHub(t)
	ctx := context.Background()
	c := client(t, srv, Options{Deployments: true})
	for n := 1; n <= 5; n++ {
		srv.AddCommit(githubtest.Commit{Sha: sha(n), Message: "commit", Author: "Alice", Date: day})
	}
	// Five candidates of the same base offered in a row, then the first validated late: finding
	// that none of the newer ones succeeded reads every page of the environment's deployments.
	for n := 1; n <= 5; n++ {
		c.Offered(ctx, offer(n, "0.0.1-rc."+string(rune('0'+n))))
	}
	c.Promoted(ctx, promotion(5, "0.0.1-rc.5", "0.0.1"))
	paged := slices.ContainsFunc(srv.Requests(), func(r githubtest.Request) bool {
		return r.Path == srv.RepoPath("/deployments") && strings.Contains(r.Query, "page=3")
	})
	if !paged {
		t.Error("no request read the third page of deployments")
	}
	want := map[string]string{"live 0.0.1": "success", "integration 0.0.1-rc.5": "success"}
	for n := 1; n <= 4; n++ {
		want["integration 0.0.1-rc."+string(rune('0'+n))] = "inactive"
	}
	if got := states(t, srv); !maps.Equal(got, want) {
		t.Errorf("deployments = %v, want %v", got, want)
	}
}

func jsonString(t *testing.T, v any) string {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
