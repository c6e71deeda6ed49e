package hold_test

import (
	"fmt"

	"github.com/ocipromote/ocipromote/pkg/hold"
)

// The current hold is the record with the highest number; numbers compare as numbers.
func ExampleLatest() {
	tag, n := hold.Latest([]string{"0.4.1", "hold-9", "hold-10", "sha-9f2c4e1"})
	fmt.Println(tag, n)
	// Output: hold-10 10
}
