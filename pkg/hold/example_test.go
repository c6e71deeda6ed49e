package hold_test

import (
	"fmt"

	"github.com/ocipromote/ocipromote/pkg/hold"
	"github.com/ocipromote/ocipromote/pkg/stage"
)

// The current hold is the record with the highest number; numbers compare as numbers.
func ExampleLatest() {
	tag, n := hold.Latest([]string{"0.4.1", "hold-9", "hold-10", "sha-9f2c4e1"})
	fmt.Println(tag, n)
	// Output: hold-10 10
}

// Each stage of a chain has its own hold: the last stage's is hold-<n>, as with two stages;
// another stage's is hold-<stage>-<n>, and neither reads the other's records.
func ExampleStageOf() {
	chain, _ := stage.Parse("dev,preprod,prod")
	list := []string{"hold-4", "hold-preprod-2", "hold-preprod-3"}
	for _, name := range chain.Names()[1:] {
		s, _ := hold.StageOf(chain, name)
		tag, _ := s.Latest(list)
		fmt.Println(name, tag)
	}
	// Output:
	// preprod hold-preprod-3
	// prod hold-4
}
