package stage

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseSoak(t *testing.T) {
	t.Parallel()
	c := mustParse(t, "dev,preprod,prod")
	got, err := ParseSoak(c, []string{"preprod=2h", "", " dev = 1h30m "})
	if err != nil {
		t.Fatal(err)
	}
	if got["preprod"] != 2*time.Hour || got["dev"] != 90*time.Minute || len(got) != 2 {
		t.Errorf("soaks %v", got)
	}
	for in, want := range map[string]string{
		"prd=2h":        `"prd" is not a stage of the chain dev,preprod,prod`,
		"prod=2h":       "prod is the last stage",
		"preprod":       "is not STAGE=DURATION",
		"preprod=2":     `"2" is not a duration above zero`,
		"preprod=0s":    "above zero",
		"preprod=-1h":   "above zero",
		"preprod=2days": "is not a duration",
	} {
		_, err := ParseSoak(c, []string{in})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseSoak(%q) = %v; want an error saying %q", in, err, want)
		}
	}
	if _, err := ParseSoak(c, []string{"preprod=1h", "preprod=2h"}); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "given twice") {
		t.Errorf("a stage given twice: %v", err)
	}
}

func TestGate(t *testing.T) {
	t.Parallel()
	// Monday 30 March 2026, after the spring change: the window is 08:00-15:00 UTC.
	window := Schedule{mustWindow(t, "Mon-Thu 09:00-16:00 Europe/London")}
	passed := utc("2026-03-30T09:00:00Z")
	healthy := Pass{At: passed}
	// early passed before the window opens.
	early := Pass{At: utc("2026-03-30T06:00:00Z")}
	const hold = "hold by alice since 2026-03-30T07:00:00Z: change freeze"
	tests := []struct {
		name       string
		in         GateInput
		reason     string // "" promotes
		at         string // when it may go ("" none)
		deferred   []string
		overridden []string
	}{
		{name: "no gates", in: GateInput{Now: passed, Pass: healthy}},
		{name: "held", in: GateInput{Now: passed, Pass: healthy, Held: true, Hold: hold}, reason: GateHeld, deferred: []string{GateHeld}},
		{name: "no pass", in: GateInput{Now: passed}, reason: GateUnproven, deferred: []string{GateUnproven}},

		// Soak alone: its end is included.
		{name: "soaking", in: GateInput{Now: passed.Add(time.Hour), Soak: 2 * time.Hour, Pass: healthy}, reason: GateSoak, at: "2026-03-30T11:00:00Z", deferred: []string{GateSoak}},
		{name: "a nanosecond before the soak ends", in: GateInput{Now: passed.Add(2*time.Hour - 1), Soak: 2 * time.Hour, Pass: healthy}, reason: GateSoak, at: "2026-03-30T11:00:00Z", deferred: []string{GateSoak}},
		{name: "the soak ends", in: GateInput{Now: passed.Add(2 * time.Hour), Soak: 2 * time.Hour, Pass: healthy}},
		{name: "a failure cancelled the soak", in: GateInput{Now: passed.Add(3 * time.Hour), Soak: 2 * time.Hour, Pass: Pass{At: passed, Cancelled: true}}, reason: GateSoak, deferred: []string{GateSoak}},
		{name: "a failure cancelled a pass without soak", in: GateInput{Now: passed, Pass: Pass{At: passed, Cancelled: true}}, reason: GateUnproven, deferred: []string{GateUnproven}},

		// Window alone: its start is included, its end excluded.
		{name: "window open", in: GateInput{Now: utc("2026-03-30T08:00:00Z"), Pass: early, Windows: window}},
		{name: "a second before the window closes", in: GateInput{Now: utc("2026-03-30T14:59:59Z"), Pass: healthy, Windows: window}},
		{name: "the window closes", in: GateInput{Now: utc("2026-03-30T15:00:00Z"), Pass: healthy, Windows: window}, reason: GateWindow, at: "2026-03-31T08:00:00Z", deferred: []string{GateWindow}},
		{name: "before the window", in: GateInput{Now: utc("2026-03-30T07:59:59Z"), Pass: early, Windows: window}, reason: GateWindow, at: "2026-03-30T08:00:00Z", deferred: []string{GateWindow}},

		// Combined.
		{name: "the soak ends inside the window", in: GateInput{Now: passed.Add(time.Hour), Soak: 2 * time.Hour, Pass: healthy, Windows: window}, reason: GateSoak, at: "2026-03-30T11:00:00Z", deferred: []string{GateSoak}},
		{name: "the soak ends after the window closes", in: GateInput{Now: passed.Add(time.Hour), Soak: 6 * time.Hour, Pass: healthy, Windows: window}, reason: GateSoak, at: "2026-03-31T08:00:00Z", deferred: []string{GateSoak}},
		{name: "the soak ends as the window closes", in: GateInput{Now: passed.Add(time.Hour), Soak: 6 * time.Hour, Pass: Pass{At: utc("2026-03-30T09:00:00Z")}, Windows: window}, reason: GateSoak, at: "2026-03-31T08:00:00Z", deferred: []string{GateSoak}},
		{name: "soaking outside the window", in: GateInput{Now: utc("2026-03-30T16:00:00Z"), Soak: 24 * time.Hour, Pass: Pass{At: utc("2026-03-30T15:30:00Z")}, Windows: window}, reason: GateSoak, at: "2026-04-01T08:00:00Z", deferred: []string{GateSoak, GateWindow}},
		{name: "soaked, window closed", in: GateInput{Now: utc("2026-03-30T16:00:00Z"), Soak: time.Hour, Pass: healthy, Windows: window}, reason: GateWindow, at: "2026-03-31T08:00:00Z", deferred: []string{GateWindow}},
		{name: "soaked on Thursday evening: Monday", in: GateInput{Now: utc("2026-04-02T16:00:00Z"), Soak: time.Hour, Pass: Pass{At: utc("2026-04-02T13:00:00Z")}, Windows: window}, reason: GateWindow, at: "2026-04-06T08:00:00Z", deferred: []string{GateWindow}},
		{name: "held, soaking, window closed", in: GateInput{Now: utc("2026-03-30T16:00:00Z"), Held: true, Hold: hold, Soak: 2 * time.Hour, Pass: Pass{At: utc("2026-03-30T15:30:00Z")}, Windows: window}, reason: GateHeld, deferred: []string{GateHeld, GateSoak, GateWindow}},
		{name: "cancelled soak, window closed", in: GateInput{Now: utc("2026-03-30T16:00:00Z"), Soak: time.Hour, Pass: Pass{At: passed, Cancelled: true}, Windows: window}, reason: GateSoak, deferred: []string{GateSoak, GateWindow}},

		// Forced: through the soak, the evidence and the window, never a hold.
		{name: "forced through soak and window", in: GateInput{Now: utc("2026-03-30T16:00:00Z"), Force: true, Soak: 2 * time.Hour, Pass: Pass{At: utc("2026-03-30T15:30:00Z")}, Windows: window}, overridden: []string{GateSoak, GateWindow}},
		{name: "forced without a pass", in: GateInput{Now: passed, Force: true}, overridden: []string{GateUnproven}},
		{name: "forced with nothing to force", in: GateInput{Now: passed, Force: true, Pass: healthy}},
		{name: "forced into a hold", in: GateInput{Now: utc("2026-03-30T16:00:00Z"), Force: true, Held: true, Hold: hold, Windows: window, Pass: healthy}, reason: GateHeld, deferred: []string{GateHeld}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v := Gate(tc.in)
			if got, want := v.Promote, tc.reason == ""; got != want {
				t.Errorf("Promote = %v, want %v (%s)", got, want, v.Detail)
			}
			if v.Reason != tc.reason {
				t.Errorf("Reason = %q, want %q (%s)", v.Reason, tc.reason, v.Detail)
			}
			var at string
			if !v.At.IsZero() {
				at = v.At.UTC().Format(time.RFC3339)
			}
			if at != tc.at {
				t.Errorf("At = %q, want %q (%s)", at, tc.at, v.Detail)
			}
			if got := gateList(v.Deferred); !slices.Equal(got, tc.deferred) {
				t.Errorf("Deferred = %q, want %q", got, tc.deferred)
			}
			if got := gateList(v.Overridden); !slices.Equal(got, tc.overridden) {
				t.Errorf("Overridden = %q, want %q", got, tc.overridden)
			}
			if v.Detail == "" || v.Reason == GateHeld && !strings.Contains(v.Detail, hold) {
				t.Errorf("Detail %q does not say why", v.Detail)
			}
			if v.At.IsZero() {
				return
			}
			// At is a time every gate with a time allows, so the candidate would go then.
			later := tc.in
			later.Now = v.At
			if !Gate(later).Promote {
				t.Errorf("at %s it still waits: %s", at, Gate(later).Detail)
			}
		})
	}
}

func gateList(ds []Deferral) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.Gate)
	}
	return out
}
