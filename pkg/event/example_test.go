package event_test

import (
	"fmt"

	"github.com/ocipromote/ocipromote/pkg/event"
)

func ExampleDecide() {
	// What a Flux githubdispatch Provider in the integration cluster sends once the platform
	// Kustomization (with wait: true) is healthy; GitHub adds action, sender and more around it.
	payload := []byte(`{
	  "action": "Kustomization/platform.flux-system",
	  "client_payload": {
	    "involvedObject": {"kind": "Kustomization", "namespace": "flux-system", "name": "platform"},
	    "severity": "info",
	    "message": "Health check passed in 4.2s",
	    "metadata": {
	      "cluster": "integration",
	      "revision": "0.4.2-rc.3@sha256:2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881",
	      "originRevision": "main@sha1:9f2c4e1a7b3d5f60718293a4b5c6d7e8f9012345"
	    }
	  }
	}`)
	c := event.Criteria{Object: "Kustomization/platform.flux-system", Cluster: "integration"}

	d, err := event.Decide("repository_dispatch", payload, c)
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	fmt.Println(d.Reason)
	fmt.Println("promote:", d.Promote)
	fmt.Println("version:", d.Version)
	fmt.Println("digest: ", d.Digest)
	fmt.Println("sha:    ", d.Sha)

	// The same event from the live cluster is not a reason to promote.
	c.Cluster = "live"
	d, _ = event.Decide("repository_dispatch", payload, c)
	fmt.Println(d.Reason)
	// Output:
	// promote: Kustomization/platform.flux-system reported "Health check passed in 4.2s" for 0.4.2-rc.3 on cluster integration
	// promote: true
	// version: 0.4.2-rc.3
	// digest:  sha256:2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881
	// sha:     9f2c4e1a7b3d5f60718293a4b5c6d7e8f9012345
	// ignored: event from cluster integration, expected live; only that cluster's events promote
}
