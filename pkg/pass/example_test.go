package pass_test

import (
	"fmt"
	"time"

	"github.com/ocipromote/ocipromote/pkg/pass"
)

// A candidate passed preprod at 10:00, failed at 10:20 and passed again at 10:40: the failure
// cancelled the first pass, and the soak counts from 10:40.
func ExampleStanding() {
	at := func(hhmm string) time.Time { t, _ := time.Parse("15:04", hhmm); return t }
	passedAt, passed, cancelled := pass.Standing([]pass.Record{
		{Kind: pass.Pass, Time: at("10:00")},
		{Kind: pass.Fail, Time: at("10:20")},
		{Kind: pass.Pass, Time: at("10:40")},
		{Kind: pass.Pass, Time: at("11:00")},
	})
	fmt.Println(passedAt.Format("15:04"), passed, cancelled)
	tag, _ := pass.Tag("preprod", "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", 3)
	fmt.Println(tag)
	// Output:
	// 10:40 true false
	// pass-preprod-0123456789ab-3
}
