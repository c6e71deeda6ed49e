// Command fluxpeer is the benchmark's stand-in for the shell a user would write around the flux
// CLI: each invocation is one process doing one operation, through Flux's own OCI client
// (github.com/fluxcd/pkg/oci), the way `flux list artifacts`, `flux push artifact` and
// `flux tag artifact` do. Credentials come from the Docker config, as with the CLI.
//
//	fluxpeer list    REPO                      # flux list artifacts oci://REPO --filter-semver '>=0.0.0-0'
//	fluxpeer resolve REPO:TAG                  # flux list artifacts oci://REPO --filter-regex '^TAG$'
//	fluxpeer push    REPO:TAG DIR SOURCE REVISION CREATED
//	                                           # flux push artifact oci://REPO:TAG --path DIR --source … --revision …
//	fluxpeer tag     REPO:TAG|REPO@DIGEST NEW  # flux tag artifact oci://… --tag NEW
//	fluxpeer build   DIR OUT                   # flux build artifact --path DIR --output OUT
//
// It prints what the CLI would: tags, a digest or a reference, one per line.
package main

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"

	fluxoci "github.com/fluxcd/pkg/oci"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "fluxpeer:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return errors.New("usage: fluxpeer list|resolve|push|tag|build ARGS")
	}
	client := fluxoci.NewClient(fluxoci.DefaultOptions())
	op, args := args[0], args[1:]
	switch {
	case op == "list" && len(args) == 1:
		metas, err := client.List(ctx, args[0], fluxoci.ListOptions{SemverFilter: ">=0.0.0-0"})
		if err != nil {
			return err
		}
		for _, m := range metas {
			fmt.Fprintln(stdout, m.URL[strings.LastIndex(m.URL, ":")+1:], m.Digest)
		}
	case op == "resolve" && len(args) == 1:
		i := strings.LastIndex(args[0], ":")
		metas, err := client.List(ctx, args[0][:i], fluxoci.ListOptions{RegexFilter: "^" + regexp.QuoteMeta(args[0][i+1:]) + "$"})
		if err != nil {
			return err
		}
		if len(metas) != 1 {
			return fmt.Errorf("%s: %d artifacts match", args[0], len(metas))
		}
		fmt.Fprintln(stdout, metas[0].Digest)
	case op == "push" && len(args) == 5:
		ref, err := client.Push(ctx, args[0], args[1], fluxoci.WithPushMetadata(fluxoci.Metadata{
			Source: args[2], Revision: args[3], Created: args[4],
		}))
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, ref)
	case op == "tag" && len(args) == 2:
		ref, err := client.Tag(ctx, args[0], args[1])
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, ref)
	case op == "build" && len(args) == 2:
		if err := client.Build(args[1], args[0], nil); err != nil {
			return err
		}
		f, err := os.Open(args[1])
		if err != nil {
			return err
		}
		defer f.Close()
		h := sha256.New()
		if _, err := io.Copy(h, f); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "sha256:%x\n", h.Sum(nil))
	default:
		return fmt.Errorf("usage: fluxpeer list|resolve|push|tag|build ARGS (got %q)", append([]string{op}, args...))
	}
	return nil
}
