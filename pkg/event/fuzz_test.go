package event

import (
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
