// Command artifact packs a directory with ocipromote's builder, as build-rc does before it
// talks to the registry, and prints the layer digest. The benchmark runs it as a process beside
// `fluxpeer build` to compare time and peak memory on the same tree.
package main

import (
	"fmt"
	"os"

	"github.com/ocipromote/ocipromote/pkg/artifact"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: artifact DIR")
		os.Exit(2)
	}
	layer, err := artifact.Pack(os.Args[1], nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, "artifact:", err)
		os.Exit(1)
	}
	d, err := layer.Digest()
	if err != nil {
		fmt.Fprintln(os.Stderr, "artifact:", err)
		os.Exit(1)
	}
	fmt.Println(d)
}
