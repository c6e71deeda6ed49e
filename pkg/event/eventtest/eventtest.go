// Package eventtest writes the GitHub events the tests feed the steps, from the real-shaped
// fixtures of testdata/events.
package eventtest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// StageEvent writes the repository_dispatch a stage's Flux Alert sends when its Kustomization
// reports revision healthy: the fixture (testdata/events/repository_dispatch.health-check-passed.json)
// with the stage as the cluster metadata (the Alert's eventMetadata), the revision, and the
// commit as originRevision. It returns the file's path.
func StageEvent(t testing.TB, fixture, stage, revision, sha string) string {
	t.Helper()
	raw, err := os.ReadFile(fixture)
	if err != nil {
		t.Fatal(err)
	}
	var event map[string]any
	if err := json.Unmarshal(raw, &event); err != nil {
		t.Fatal(err)
	}
	payload, _ := event["client_payload"].(map[string]any)
	metadata, _ := payload["metadata"].(map[string]any)
	if metadata == nil {
		t.Fatalf("%s has no client_payload.metadata", fixture)
	}
	metadata["cluster"], metadata["revision"], metadata["originRevision"] = stage, revision, "main@sha1:"+sha
	b, err := json.Marshal(event)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), stage+"-event.json")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
