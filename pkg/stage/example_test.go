package stage_test

import (
	"fmt"
	"time"

	"github.com/ocipromote/ocipromote/pkg/stage"
)

func ExampleChain_In() {
	c, _ := stage.Parse("dev,preprod,prod")
	for _, s := range c.Names() {
		tag, _ := c.In("1.3.0-rc.4", s)
		sel, _ := c.Selection(s)
		marker, _ := c.Marker(s, "abc1234")
		fmt.Printf("%-8s %-16s %-18s semver %q filter %q\n", s, tag, marker, sel.Semver, sel.SemverFilter)
	}
	// Output:
	// dev      1.3.0-rc.4       dev-abc1234        semver ">= 0.0.0-0" filter "^v?\\d+\\.\\d+\\.\\d+-rc\\.[1-9]\\d*$"
	// preprod  1.3.0-preprod.4  preprod-abc1234    semver ">= 0.0.0-0" filter "^v?\\d+\\.\\d+\\.\\d+-preprod\\.[1-9]\\d*$"
	// prod     1.3.0            validated-abc1234  semver ">= 0.0.0" filter ""
}

func ExampleGate() {
	c, _ := stage.Parse("dev,preprod,prod")
	windows, _ := stage.ParseWindows(c, []string{"prod=Mon-Thu 09:00-16:00 Europe/London"})
	soaks, _ := stage.ParseSoak(c, []string{"preprod=2h"})
	// Passed preprod on Thursday 2 April 2026 at 14:00 BST; two hours later prod's window is shut.
	passed := time.Date(2026, 4, 2, 13, 0, 0, 0, time.UTC)
	v := stage.Gate(stage.GateInput{Now: passed.Add(time.Hour), Windows: windows["prod"], Soak: soaks["preprod"], Pass: stage.Pass{At: passed}})
	fmt.Println(v.Promote, v.Reason, v.At.Format(time.RFC3339))
	// Output: false soak 2026-04-06T08:00:00Z
}
