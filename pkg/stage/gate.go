package stage

import (
	"fmt"
	"strings"
	"time"
)

// Soaks are the soak times of the stages that have one: how long a candidate must have run
// healthy in a stage before it is promoted out of it.
type Soaks map[string]time.Duration

// ParseSoak reads the soak input, one STAGE=DURATION per entry, e.g. "preprod=2h" (a Go duration
// above zero: 90m, 2h, 1h30m). Nothing is promoted out of the last stage, so it takes none; a
// stage is named once.
func ParseSoak(c Chain, entries []string) (Soaks, error) {
	out := Soaks{}
	for _, e := range entries {
		if strings.TrimSpace(e) == "" {
			continue
		}
		name, spec, ok := strings.Cut(e, "=")
		name = strings.TrimSpace(name)
		if !ok {
			return nil, fmt.Errorf("soak: %q is not STAGE=DURATION, e.g. \"preprod=2h\"", e)
		}
		i, found := c.Index(name)
		switch {
		case !found:
			return nil, fmt.Errorf("soak: %w", c.unknown(name))
		case i == c.Len()-1:
			return nil, fmt.Errorf("soak: %w: %s is the last stage, and nothing is promoted out of it; a soak applies to the stage a candidate leaves (%s)",
				ErrInvalid, name, strings.Join(c.names[:len(c.names)-1], ", "))
		}
		if _, twice := out[name]; twice {
			return nil, fmt.Errorf("soak: %w: stage %s is given twice; give one soak time per stage", ErrInvalid, name)
		}
		d, err := time.ParseDuration(strings.TrimSpace(spec))
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("soak: %s: %q is not a duration above zero such as 30m, 2h or 1h30m", name, strings.TrimSpace(spec))
		}
		out[name] = d
	}
	return out, nil
}

// The gates that defer a promotion, as Verdict.Reason and Deferral.Gate name them.
const (
	// GateHeld: a hold on the target stage (a change freeze, or a rollback's) defers every
	// promotion into it until it is released; it has no time.
	GateHeld = "held"
	// GateUnproven: the candidate has no healthy pass in the stage it leaves, or a failure
	// cancelled it; it has no time, since it must pass again.
	GateUnproven = "unproven"
	// GateSoak: the candidate has not yet run healthy in the stage it leaves for its soak time,
	// or a failure during the soak cancelled its pass.
	GateSoak = "soak"
	// GateWindow: the target stage's change windows are closed.
	GateWindow = "window"
)

// Pass is the evidence that a candidate ran healthy in the stage it leaves: the first healthy pass
// after the last failure, as the pass records hold it.
type Pass struct {
	// At is when it passed; zero when there is no pass.
	At time.Time
	// Cancelled is set when a failure event for the same revision came during the soak.
	Cancelled bool
}

// GateInput is everything Gate weighs for a candidate about to enter a target stage.
type GateInput struct {
	Now time.Time
	// Held is set when the target stage is held; Hold describes the hold for people ("hold by
	// alice since …: freeze").
	Held bool
	Hold string
	// Windows are the target stage's change windows (none: always open).
	Windows Schedule
	// Soak is the soak time of the stage the candidate leaves (0: none), Pass its pass there.
	Soak time.Duration
	Pass Pass
	// Force is a person's promotion with --force: it overrides the soak, the evidence and the
	// windows (Verdict.Overridden records which), never a hold, which is released on purpose
	// (ocipromote hold release) rather than forced through.
	Force bool
}

// Deferral is one gate that defers the promotion now.
type Deferral struct {
	Gate string `json:"gate"`
	// Until is when this gate alone would let it go: the soak's end, the window's opening; zero
	// for a hold and for missing evidence, which have no time.
	Until  time.Time `json:"until,omitzero"`
	Detail string    `json:"detail"`
}

// Verdict is Gate's answer.
type Verdict struct {
	Promote bool `json:"promote"`
	// Reason is the first gate that defers (held, unproven, soak, window), "" when promoting.
	Reason string `json:"reason,omitempty"`
	// At is the earliest time every gate with a time lets the candidate go (the soak ends, and
	// then a window is open); zero when promoting now, or when a hold or missing evidence defers.
	At time.Time `json:"at,omitzero"`
	// Deferred are the gates that defer now, in the order held, unproven, soak, window.
	Deferred []Deferral `json:"deferred,omitempty"`
	// Overridden are the gates a forced promotion went through (recorded with it).
	Overridden []Deferral `json:"overridden,omitempty"`
	Detail     string     `json:"detail"`
}

// Gate decides whether a candidate enters its target stage now:
//   - a hold on the target defers it, forced or not, with no time;
//   - without a healthy pass in the stage it leaves (none, or cancelled by a failure) it waits
//     for one: gate soak when that stage has a soak, else unproven, with no time;
//   - before the soak ends (Pass.At + Soak; at that instant it may go) it waits for the soak;
//   - outside the target's windows (a window's end is excluded) it waits for one to open;
//   - otherwise it is promoted now. At is when it may go: the first window open at or after the
//     soak's end. Force promotes through everything but a hold.
func Gate(in GateInput) Verdict {
	var deferred []Deferral
	if in.Held {
		deferred = append(deferred, Deferral{Gate: GateHeld, Detail: "the stage is held: " + in.Hold})
	}
	earliest := in.Now
	timed := true
	switch {
	case in.Pass.At.IsZero() || in.Pass.Cancelled:
		gate := GateUnproven
		if in.Soak > 0 {
			gate = GateSoak
		}
		why := "no healthy pass is recorded in the stage it leaves"
		if in.Pass.Cancelled {
			why = "a failure cancelled its pass in the stage it leaves"
		}
		deferred = append(deferred, Deferral{Gate: gate, Detail: why + "; it must pass there again"})
		timed = false
	case in.Soak > 0 && in.Pass.At.Add(in.Soak).After(in.Now):
		end := in.Pass.At.Add(in.Soak)
		deferred = append(deferred, Deferral{Gate: GateSoak, Until: end,
			Detail: fmt.Sprintf("soaking for %s since %s; it ends at %s", in.Soak, stamp(in.Pass.At), stamp(end))})
		earliest = end
	}
	if !in.Windows.Open(in.Now) {
		d := Deferral{Gate: GateWindow, Detail: "outside the change windows " + strings.Join(in.Windows.Strings(), "; ")}
		if at, ok := in.Windows.NextOpen(in.Now); ok {
			d.Until = at
			d.Detail += "; the next opens at " + stamp(at)
		}
		deferred = append(deferred, d)
	}
	if in.Force {
		var kept, overridden []Deferral
		for _, d := range deferred {
			if d.Gate == GateHeld {
				kept = append(kept, d)
			} else {
				overridden = append(overridden, d)
			}
		}
		deferred = kept
		if len(deferred) == 0 {
			v := Verdict{Promote: true, Overridden: overridden, Detail: "promote now"}
			if len(overridden) > 0 {
				v.Detail = "promote now, forced through " + gateNames(overridden)
			}
			return v
		}
		return Verdict{Reason: GateHeld, Deferred: deferred, Detail: deferred[0].Detail + "; force does not go through a hold: release it first (ocipromote hold release)"}
	}
	if len(deferred) == 0 {
		return Verdict{Promote: true, Detail: "promote now"}
	}
	v := Verdict{Reason: deferred[0].Gate, Deferred: deferred, Detail: deferred[0].Detail}
	if !in.Held && timed {
		// A zone that leaves no window open in the weeks searched leaves no time to give.
		if at, ok := in.Windows.NextOpen(earliest); ok {
			v.At = at
			if len(deferred) > 1 || !at.Equal(deferred[0].Until) {
				v.Detail = fmt.Sprintf("%s; it may go at %s", gateDetails(deferred), stamp(at))
			}
		}
	}
	return v
}

func gateNames(ds []Deferral) string {
	names := make([]string, len(ds))
	for i, d := range ds {
		names[i] = d.Gate
	}
	return strings.Join(names, ", ")
}

func gateDetails(ds []Deferral) string {
	details := make([]string, len(ds))
	for i, d := range ds {
		details[i] = d.Detail
	}
	return strings.Join(details, "; ")
}

// stamp writes a time for people and logs, in UTC.
func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }
