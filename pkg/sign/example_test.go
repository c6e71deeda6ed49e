package sign_test

import (
	"fmt"

	"github.com/ocipromote/ocipromote/pkg/sign"
)

// Decide over what Find and Verify found: here one bundle, verified, signed on a feature branch.
func ExampleDecide() {
	p, err := sign.GitHubPolicy("acme/platform", "build-rc.yaml", "main@sha1:0123456789abcdef0123456789abcdef01234567")
	if err != nil {
		panic(err)
	}
	v := sign.Decide(p, []sign.Finding{{
		Referrer: "sha256:5d1c…",
		Bundle:   true,
		Signer: &sign.Signer{
			Issuer:     sign.GitHubIssuer,
			Identity:   "https://github.com/acme/platform/.github/workflows/build-rc.yaml@refs/heads/feature",
			Repository: "https://github.com/acme/platform",
			Ref:        "refs/heads/feature",
			Commit:     "0123456789abcdef0123456789abcdef01234567",
		},
	}})
	fmt.Println(v.Outcome)
	fmt.Println(v.Reason)
	// Output:
	// untrusted-signer
	// no bundle is from https://github.com/acme/platform/.github/workflows/build-rc.yaml@refs/heads/main on commit 0123456789abcdef0123456789abcdef01234567: bundle sha256:5d1c… signed by https://github.com/acme/platform/.github/workflows/build-rc.yaml@refs/heads/feature: identity "https://github.com/acme/platform/.github/workflows/build-rc.yaml@refs/heads/feature", want https://github.com/acme/platform/.github/workflows/build-rc.yaml@refs/heads/main, source ref "refs/heads/feature", want refs/heads/main
}
