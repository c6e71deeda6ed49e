package stage

import (
	"testing"
)

// Every tag a stage reads as its own is written back the same, is picked by that stage's
// selection and by no other stage's: the selections are exact, for any tag.
func FuzzStageTags(f *testing.F) {
	for _, s := range []string{"1.3.0-rc.4", "v1.3.0-preprod.4", "1.3.0", "1.3.0-rcx.1", "0.5.0-rc1", "1.3.0-preprod.0", "1.3.0-preprod.4+b",
		"9.0.0-rc.1-hotfix", "preprod-abc1234", "v0.0.0-rc.18446744073709551615", "1.0.0-qa.1"} {
		f.Add(s)
	}
	chains := []Chain{MustDefault()}
	for _, s := range []string{"dev,preprod,prod", "dev,rcx,qa,prod"} {
		c, err := Parse(s)
		if err != nil {
			f.Fatal(err)
		}
		chains = append(chains, c)
	}
	f.Fuzz(func(t *testing.T, tag string) {
		for _, c := range chains {
			own, ok := c.ParseTag(tag)
			if !ok {
				continue
			}
			if got := own.String(); got != tag {
				t.Fatalf("%s: ParseTag(%q) writes back %q", c, tag, got)
			}
			for _, s := range c.Names() {
				picked, err := c.Select([]string{tag}, s)
				if err != nil {
					t.Fatal(err)
				}
				if mine := s == own.Stage; (picked == tag) != mine {
					t.Fatalf("%s: %s's selection picks %q of stage %s: %q", c, s, tag, own.Stage, picked)
				}
			}
		}
	})
}
