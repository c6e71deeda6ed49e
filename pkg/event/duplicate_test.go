package event

import (
	"errors"
	"strings"
	"testing"
)

// A key repeated in another case would be read by its last spelling (encoding/json matches struct
// fields without case): {"severity":"error","SEVERITY":"info"} is not a success to promote on.
func TestDuplicateKeysAreMalformed(t *testing.T) {
	t.Parallel()
	const rc = `"metadata":{"revision":"0.4.2-rc.3@sha256:2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db022587179f3a04d2","cluster":"integration"}`
	object := `"involvedObject":{"kind":"Kustomization","name":"platform","namespace":"flux-system"}`
	tests := []struct {
		name, eventName, payload, phrase string
	}{
		{"severity in two cases", RepositoryDispatch,
			`{"action":"Kustomization/platform.flux-system","client_payload":{` + object + `,"severity":"error","SEVERITY":"info","message":"Health check passed in 1s",` + rc + `}}`,
			"repeats the key SEVERITY in client_payload"},
		{"the same key twice", RepositoryDispatch,
			`{"action":"Kustomization/platform.flux-system","client_payload":{` + object + `,"severity":"info","message":"health check failed","message":"Health check passed in 1s",` + rc + `}}`,
			"repeats the key message in client_payload"},
		{"deep in involvedObject", RepositoryDispatch,
			`{"action":"Kustomization/platform.flux-system","client_payload":{"involvedObject":{"kind":"Kustomization","name":"other","Name":"platform","namespace":"flux-system"},"severity":"info","message":"Health check passed in 1s",` + rc + `}}`,
			"repeats the key Name in client_payload.involvedObject"},
		{"top-level action", RepositoryDispatch,
			`{"action":"Kustomization/other.flux-system","Action":"Kustomization/platform.flux-system","client_payload":{}}`,
			"repeats the key Action (compared without case"},
		{"status state", Status, `{"sha":"` + strings.Repeat("a", 40) + `","state":"failure","State":"success","context":"kustomization/platform/x"}`,
			"repeats the key State"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d, err := Decide(tc.eventName, []byte(tc.payload), Criteria{Object: "Kustomization/platform.flux-system", Cluster: "integration"})
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("Decide = %+v, %v; want ErrMalformed", d, err)
			}
			if !strings.Contains(err.Error(), tc.phrase) {
				t.Errorf("error %q lacks %q", err, tc.phrase)
			}
		})
	}
	// Keys that differ in more than case, and equal keys in different objects, are fine.
	if _, _, dup := duplicateKey([]byte(`{"a":{"x":1},"b":{"x":[{"x":2},{"x":3}]},"ab":"a"}`)); dup {
		t.Error("duplicateKey found a duplicate in an object without one")
	}
}
