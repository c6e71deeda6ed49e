package main

import (
	"os/exec"
	"strings"
	"testing"
)

// The step binaries must not link sigstore-go: its package initialisation and size slow every
// run down (docs/performance.md), verify or not. They run this binary instead.
func TestStepsDoNotLinkSigstore(t *testing.T) {
	t.Parallel()
	const sigstore = "github.com/sigstore/sigstore-go"
	steps := []string{"build-rc", "tag-validated", "dispatch-receiver", "ocipromote"}
	for _, step := range steps {
		out, err := exec.Command("go", "list", "-deps", "github.com/ocipromote/ocipromote/cmd/"+step).Output()
		if err != nil {
			t.Fatalf("go list -deps cmd/%s: %v", step, err)
		}
		var linked []string
		for _, pkg := range strings.Fields(string(out)) {
			if pkg == sigstore || strings.HasPrefix(pkg, sigstore+"/") {
				linked = append(linked, pkg)
			}
		}
		if len(linked) > 0 {
			t.Errorf("cmd/%s depends on %s (%s): verify signatures through sign.Helper, which runs verify-bundles", step, sigstore, strings.Join(linked, ", "))
		}
	}
	// And the check itself sees what it looks for: verify-bundles does link it.
	out, err := exec.Command("go", "list", "-deps", "github.com/ocipromote/ocipromote/cmd/verify-bundles").Output()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), sigstore+"/pkg/verify\n") {
		t.Errorf("go list -deps cmd/verify-bundles lacks %s/pkg/verify: the check above would pass for nothing", sigstore)
	}
}
