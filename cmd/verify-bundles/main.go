// Command verify-bundles verifies Sigstore bundles with sigstore-go for tag-validated and
// ocipromote rollback (input verify), which run it rather than link sigstore-go: its package
// initialisation and 20 MB would slow every run of the steps, verify or not.
//
// It reads one JSON request on standard input (sign.BundlesRequest: a trusted_root.json, a
// manifest digest and the bundles attached to it) and writes one JSON answer on standard output
// (sign.BundlesResponse: per bundle, its verified signer or why it does not verify). Exit 1 with a
// message on standard error when the request or the trusted root cannot be read. It reads no
// registry and no environment, and decides nothing: package sign compares signers with the policy.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/ocipromote/ocipromote/pkg/sign/bundleverify"
)

const usage = "Usage: verify-bundles < request.json > response.json\n\nVerifies Sigstore bundles for tag-validated and ocipromote rollback (input verify), which run it;\nsee docs/signing.md. It takes no arguments."

func main() {
	if len(os.Args) > 1 {
		if h := os.Args[1]; len(os.Args) == 2 && (h == "-h" || h == "-help" || h == "--help") {
			fmt.Println(usage)
			return
		}
		fmt.Fprintln(os.Stderr, usage)
		os.Exit(2)
	}
	if err := bundleverify.Serve(context.Background(), os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "verify-bundles:", err)
		os.Exit(1)
	}
}
