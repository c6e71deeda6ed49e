package stage

import (
	"strings"
	"testing"

	"github.com/ocipromote/ocipromote/pkg/tags"
	"github.com/ocipromote/ocipromote/pkg/version"
)

func mustParse(t *testing.T, s string) Chain {
	t.Helper()
	c, err := Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestIn(t *testing.T) {
	t.Parallel()
	three := "dev,preprod,prod"
	tests := []struct {
		chain, rc, stage, want string
		wantErr                string
	}{
		{Default, "1.3.0-rc.4", "integration", "1.3.0-rc.4", ""},
		{Default, "1.3.0-rc.4", "live", "1.3.0", ""},
		{Default, "v1.3.0-rc.4", "live", "v1.3.0", ""},
		{three, "1.3.0-rc.4", "dev", "1.3.0-rc.4", ""},
		{three, "1.3.0-rc.4", "preprod", "1.3.0-preprod.4", ""},
		{three, "v1.3.0-rc.12", "preprod", "v1.3.0-preprod.12", ""},
		{three, "1.3.0-rc.4", "prod", "1.3.0", ""},
		{"a,b,c,d", "0.0.1-rc.1", "c", "0.0.1-c.1", ""},
		{three, "1.3.0-rc.4", "staging", "", `"staging" is not a stage of the chain dev,preprod,prod`},
		{three, "1.3.0", "preprod", "", "not a release candidate"},
		{three, "1.3.0-rc.01", "preprod", "", "not a version"},
		{three, "1.3.0-rc.0", "preprod", "", "not a release candidate"},
		{three, "1.3.0-rc.4+b", "preprod", "", "build metadata"},
		{three, "latest", "preprod", "", "not a version"},
	}
	for _, tc := range tests {
		t.Run(tc.chain+"/"+tc.rc+"/"+tc.stage, func(t *testing.T) {
			t.Parallel()
			c := mustParse(t, tc.chain)
			got, err := c.In(tc.rc, tc.stage)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("In(%s, %s) = %q, %v; want an error saying %q", tc.rc, tc.stage, got, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("In(%s, %s) = %q, %v; want %q", tc.rc, tc.stage, got, err, tc.want)
			}
			// Every tag In writes reads back as the stage's, with the same base and number.
			back, ok := c.ParseTag(got)
			if !ok || back.Stage != tc.stage || back.String() != got {
				t.Errorf("ParseTag(%s) = %+v, %v (%s); want stage %s", got, back, ok, c.WhyNot(got), tc.stage)
			}
		})
	}
}

// The default chain spells its tags exactly as the two-environment pipeline does.
func TestDefaultChainTagsAreToday(t *testing.T) {
	t.Parallel()
	c := MustDefault()
	v, _ := version.Parse("0.4.2-rc.3")
	base, n, _ := version.RC(v)
	for _, prefix := range []string{"", "v"} {
		if got, _ := c.Format("integration", prefix, base, n); got != version.RCTag(prefix, base, n) {
			t.Errorf("integration tag %q, want version.RCTag %q", got, version.RCTag(prefix, base, n))
		}
		if got, _ := c.Format("live", prefix, base, n); got != version.StableTag(prefix, base) {
			t.Errorf("live tag %q, want version.StableTag %q", got, version.StableTag(prefix, base))
		}
	}
	if got, _ := c.Marker("integration", "abc1234"); got != tags.Integration("abc1234") {
		t.Errorf("integration marker %q, want %q", got, tags.Integration("abc1234"))
	}
	if got, _ := c.Marker("live", "abc1234"); got != tags.Validated("abc1234") {
		t.Errorf("live marker %q, want %q", got, tags.Validated("abc1234"))
	}
	if p, _ := c.MarkerPrefix("integration"); p != tags.IntegrationPrefix {
		t.Errorf("integration marker prefix %q, want %q", p, tags.IntegrationPrefix)
	}
}

func TestParseTag(t *testing.T) {
	t.Parallel()
	c := mustParse(t, "dev,preprod,qa,prod")
	tests := []struct {
		tag, stage string
		n          uint64
		why        string
	}{
		{"1.3.0-rc.4", "dev", 4, ""},
		{"v1.3.0-rc.4", "dev", 4, ""},
		{"1.3.0-preprod.4", "preprod", 4, ""},
		{"1.3.0-qa.18446744073709551615", "qa", 18446744073709551615, ""},
		{"1.3.0", "prod", 0, ""},
		{"v1.3.0", "prod", 0, ""},
		// The first stage's candidates are rc.N, the last stage's stable: neither has its name.
		{"1.3.0-dev.4", "", 0, `"dev.4" is not rc.N (dev) or preprod.N or qa.N`},
		{"1.3.0-prod.4", "", 0, "is not rc.N"},
		{"1.3.0-preprod.0", "", 0, "is not rc.N"},
		{"1.3.0-preprod.04", "", 0, "not a version"},
		{"1.3.0-preprod", "", 0, "is not rc.N"},
		{"1.3.0-preprod.4.1", "", 0, "is not rc.N"},
		{"1.3.0-preprod.4-hotfix", "", 0, "is not rc.N"},
		{"1.3.0-staging.4", "", 0, "is not rc.N"},
		{"0.5.0-rc1", "", 0, "is not rc.N"},
		{"1.3.0-preprod.4+build", "", 0, "build metadata +build"},
		{"1.3.0+build", "", 0, "build metadata"},
		{"preprod-abc1234", "", 0, "not a version"},
		{"1.3", "", 0, "not a version"},
	}
	for _, tc := range tests {
		t.Run(tc.tag, func(t *testing.T) {
			t.Parallel()
			got, ok := c.ParseTag(tc.tag)
			why := c.WhyNot(tc.tag)
			if tc.why != "" {
				if ok || !strings.Contains(why, tc.why) {
					t.Errorf("ParseTag(%s) = %+v, %v, why %q; want no stage, saying %q", tc.tag, got, ok, why, tc.why)
				}
				return
			}
			if !ok || why != "" || got.Stage != tc.stage || got.N != tc.n || got.String() != tc.tag {
				t.Errorf("ParseTag(%s) = %+v (%s), %v, why %q; want stage %s, N %d", tc.tag, got, got.String(), ok, why, tc.stage, tc.n)
			}
		})
	}
}

func TestMarkers(t *testing.T) {
	t.Parallel()
	c := mustParse(t, "dev,preprod,prod")
	for stage, want := range map[string]string{"dev": "dev-abc1234", "preprod": "preprod-abc1234", "prod": "validated-abc1234"} {
		got, err := c.Marker(stage, "abc1234")
		if err != nil || got != want {
			t.Errorf("Marker(%s) = %q, %v; want %q", stage, got, err, want)
		}
		s, short, ok := c.ParseMarker(got)
		if !ok || s != stage || short != "abc1234" {
			t.Errorf("ParseMarker(%s) = %s, %s, %v", got, s, short, ok)
		}
	}
	for _, tag := range []string{"integration-abc1234", "sha-abc1234", "preprod-ABC1234", "preprod-abc", "dev-", "1.3.0-preprod.4", "claim-0.0.1-abc1234-x"} {
		if s, short, ok := c.ParseMarker(tag); ok {
			t.Errorf("ParseMarker(%s) = %s, %s: not a marker of this chain", tag, s, short)
		}
	}
	if _, err := c.Marker("staging", "abc1234"); err == nil {
		t.Error("a marker of a stage not in the chain")
	}
	if _, err := c.Marker("dev", "xyz"); err == nil {
		t.Error("a marker of a short sha that is not hex")
	}
}
