package status_test

import (
	"fmt"

	"github.com/ocipromote/ocipromote/pkg/status"
)

func ExampleParseSelector() {
	s, _ := status.ParseSelector("integration=>= 0.0.0-0;.*-rc.*")
	fmt.Printf("%s: constraint %q, filter %q\n", s.Name, s.Constraint, s.Filter)
	// Output: integration: constraint ">= 0.0.0-0", filter ".*-rc.*"
}
