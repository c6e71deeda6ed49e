// Command demo runs the whole promotion pipeline against an in-memory registry: two merges build
// release candidates, integration's Flux sends a health-check event for the second, and
// dispatch-receiver and tag-validated promote exactly that digest. After each step it shows what
// a Flux OCIRepository on each cluster would select. Run it with `make demo`.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"

	"github.com/ocipromote/ocipromote/pkg/event"
	"github.com/ocipromote/ocipromote/pkg/oci"
	"github.com/ocipromote/ocipromote/pkg/pipeline"
	"github.com/ocipromote/ocipromote/pkg/version"
)

const object = "Kustomization/platform.flux-system"

var clusters = []struct{ name, semver, filter string }{
	{"integration", ">= 0.0.0-0", ".*-rc.*"},
	{"live", ">= 0.0.0", ""},
}

func main() {
	if err := run(context.Background(), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out io.Writer) error {
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	repo := strings.TrimPrefix(srv.URL, "http://") + "/acme/platform-manifests"
	reg, err := oci.Open(repo, oci.Options{})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "in-memory registry: oci://%s\n\n", repo)

	src, err := manifestsDir()
	if err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "ocipromote-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)

	commits := []struct{ sha, change string }{
		{"1d9f5c2a8e3b4f60718293a4b5c6d7e8f9012345", "replicas: 2"},
		{"7a4e0b9c1d2f3e4a5b6c7d8e9f0a1b2c3d4e5f60", "replicas: 3"},
	}
	var builds []pipeline.BuildResult
	for i, c := range commits {
		dir := filepath.Join(work, fmt.Sprint(i))
		if err := copyWithChange(src, dir, "replicas: 2", c.change); err != nil {
			return err
		}
		res, err := pipeline.BuildRC(ctx, reg, pipeline.BuildInput{
			Dir: dir, Sha: c.sha, Ref: "main", Source: "https://github.com/acme/platform",
			Created: time.Date(2026, 11, 25, 9, i, 0, 0, time.UTC), ShortLen: 7,
			Rules: version.Rules{Bump: version.Patch},
		})
		if err != nil {
			return err
		}
		builds = append(builds, res)
		fmt.Fprintf(out, "merge %s (%s) -> build-rc pushed %s\n  tags: %s\n  digest: %s\n", c.sha[:7], c.change, res.Version, strings.Join(res.Tags, ", "), res.Digest)
		if err := showSelection(ctx, out, reg); err != nil {
			return err
		}
	}

	newest := builds[len(builds)-1]
	events := []struct {
		title, cluster, message string
	}{
		{"integration: change set applied (not yet healthy)", "integration", "Deployment/podinfo/podinfo configured"},
		{"live cluster reports its own health check", "live", "Health check passed in 3.9s"},
		{"integration: health check passed", "integration", "Health check passed in 4.2s"},
		{"integration: the same success again (Flux repeats events)", "integration", "Health check passed in 4.4s"},
	}
	for _, e := range events {
		payload := fluxDispatch(e.cluster, e.message, newest.Version+"@"+newest.Digest, commits[len(commits)-1].sha)
		d, err := event.Decide(event.RepositoryDispatch, payload, event.Criteria{Object: object, Cluster: "integration"})
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "event %q -> dispatch-receiver: %s\n", e.title, d.Reason)
		if !d.Promote {
			fmt.Fprintln(out)
			continue
		}
		res, err := pipeline.TagValidated(ctx, reg, pipeline.PromoteInput{Revision: d.Revision})
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "  tag-validated: %s %s (wrote %s)\n", res.Reason, res.Version, strings.Join(orNone(res.Writes), ", "))
		if err := showSelection(ctx, out, reg); err != nil {
			return err
		}
	}
	return nil
}

func showSelection(ctx context.Context, out io.Writer, reg *oci.Repository) error {
	list, err := reg.Tags(ctx)
	if err != nil {
		return err
	}
	for _, c := range clusters {
		tag, err := version.Select(list, c.semver, c.filter)
		if err != nil {
			return err
		}
		if tag == "" {
			tag = "(nothing yet)"
		}
		ref := fmt.Sprintf("semver %q", c.semver)
		if c.filter != "" {
			ref += fmt.Sprintf(", semverFilter %q", c.filter)
		}
		fmt.Fprintf(out, "  Flux on %-11s %-42s selects %s\n", c.name, ref, tag)
	}
	fmt.Fprintln(out)
	return nil
}

// fluxDispatch is the repository_dispatch payload GitHub delivers for a Flux githubdispatch
// Provider: the Flux event itself is the client_payload.
func fluxDispatch(cluster, message, revision, sha string) []byte {
	b, _ := json.Marshal(map[string]any{
		"action": object,
		"client_payload": map[string]any{
			"involvedObject": map[string]string{"kind": "Kustomization", "name": "platform", "namespace": "flux-system"},
			"severity":       "info",
			"timestamp":      "2026-11-25T09:05:00Z",
			"message":        message,
			"reason":         "Progressing",
			"metadata": map[string]string{
				"revision": revision, "originRevision": "main@sha1:" + sha, "cluster": cluster,
			},
			"reportingController": "kustomize-controller",
		},
	})
	return b
}

func manifestsDir() (string, error) {
	for _, d := range []string{"examples/manifests", "../manifests", "manifests"} {
		if st, err := os.Stat(d); err == nil && st.IsDir() {
			return d, nil
		}
	}
	return "", fmt.Errorf("examples/manifests not found: run the demo from the repository root (make demo)")
}

func copyWithChange(src, dst, old, new string) error {
	entries, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), []byte(strings.ReplaceAll(string(b), old, new)), 0o644); err != nil {
			return err
		}
	}
	return nil
}

func orNone(s []string) []string {
	if len(s) == 0 {
		return []string{"nothing"}
	}
	return s
}
