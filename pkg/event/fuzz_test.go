package event

import (
	"errors"
	"os"
	"strings"
	"testing"
)

// FuzzDecide feeds Decide arbitrary event names and payloads, seeded with every fixture under each
// route's name, and checks the invariants a caller relies on: no panic, identifiers only from ref's
// parsers and only on a promotion, and a Reason that stays one inert line.
func FuzzDecide(f *testing.F) {
	entries, err := os.ReadDir(fixtureDir)
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		payload := readFixture(f, e.Name())
		for _, name := range []string{RepositoryDispatch, Status, WorkflowDispatch} {
			f.Add(name, payload)
		}
	}
	criteria := []Criteria{
		integration,
		{Object: platform, ClusterKey: "env", SuccessPattern: `passed`, StatusContext: "kustomization/platform"},
	}
	f.Fuzz(func(t *testing.T, name string, payload []byte) {
		for _, c := range criteria {
			d, err := Decide(name, payload, c)
			checkInvariants(t, d, err)
		}
	})
}

// FuzzCriteria feeds Decide arbitrary dispatch-receiver inputs (object, cluster, cluster_key,
// success_pattern, status_context) with real events of every route. Whatever they hold, the
// decision keeps the invariants; a mistake in them is a usage error, never a malformed-event
// error; and they never block a manual promotion. Seeds are in testdata/fuzz/FuzzCriteria.
func FuzzCriteria(f *testing.F) {
	events := map[string][]byte{
		RepositoryDispatch: readFixture(f, "repository_dispatch.health-check-passed.json"),
		Status:             readFixture(f, "status.success.json"),
		WorkflowDispatch:   readFixture(f, "workflow_dispatch.sha.json"),
	}
	f.Fuzz(func(t *testing.T, object, cluster, clusterKey, pattern, statusContext string) {
		c := Criteria{Object: object, Cluster: cluster, ClusterKey: clusterKey, SuccessPattern: pattern, StatusContext: statusContext}
		for name, payload := range events {
			d, err := Decide(name, payload, c)
			checkInvariants(t, d, err)
			if errors.Is(err, ErrMalformed) {
				t.Errorf("%s: criteria %+v made a real event malformed: %v", name, c, err)
			}
			if name == WorkflowDispatch && (err != nil || !d.Promote) {
				t.Errorf("criteria %+v blocked a manual promotion: %+v, %v", c, d, err)
			}
		}
	})
}
