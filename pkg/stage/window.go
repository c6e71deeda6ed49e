package stage

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	// Zones must resolve on runners and containers without a zoneinfo database.
	_ "time/tzdata"
)

// Window is a weekly change window: the days it opens on, and the wall-clock hours in its zone
// when it is open, start included and end excluded: "Mon-Thu 09:00-16:00 Europe/London".
type Window struct {
	days       [7]bool // by time.Weekday
	start, end time.Duration
	zone       *time.Location
	spec       string
}

var weekdays = map[string]time.Weekday{"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday,
	"wed": time.Wednesday, "thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday}

// ParseWindow reads "DAYS HH:MM-HH:MM ZONE": DAYS a list of days and day ranges separated by
// commas (Mon,Wed; Mon-Thu; Fri-Mon wraps over the weekend; Mon-Fri,Sun), HH:MM 24-hour times
// with the end after the start (24:00 is the end of the day), ZONE an IANA zone such as
// Europe/London or UTC, whose daylight-saving changes the window follows.
func ParseWindow(s string) (Window, error) {
	fields := strings.Fields(s)
	if len(fields) != 3 {
		return Window{}, fmt.Errorf("window %q is not DAYS HH:MM-HH:MM ZONE, e.g. \"Mon-Thu 09:00-16:00 Europe/London\"", s)
	}
	w := Window{spec: strings.Join(fields, " ")}
	if err := w.parseDays(fields[0]); err != nil {
		return Window{}, fmt.Errorf("window %q: %w", s, err)
	}
	from, to, ok := strings.Cut(fields[1], "-")
	var err error
	if !ok {
		return Window{}, fmt.Errorf("window %q: hours %q are not HH:MM-HH:MM", s, fields[1])
	}
	if w.start, err = clock(from, false); err != nil {
		return Window{}, fmt.Errorf("window %q: %w", s, err)
	}
	if w.end, err = clock(to, true); err != nil {
		return Window{}, fmt.Errorf("window %q: %w", s, err)
	}
	if w.end <= w.start {
		return Window{}, fmt.Errorf("window %q: it ends at %s, not after it opens at %s; a window lies within one day (use two windows to span midnight)", s, to, from)
	}
	// "Local" would make the window depend on the machine that runs the step.
	if fields[2] == "Local" {
		return Window{}, fmt.Errorf("window %q: zone Local is the machine's own; name an IANA zone such as Europe/London or UTC", s)
	}
	if w.zone, err = time.LoadLocation(fields[2]); err != nil {
		return Window{}, fmt.Errorf("window %q: zone %q is not an IANA time zone (such as Europe/London or UTC): %w", s, fields[2], err)
	}
	return w, nil
}

func (w *Window) parseDays(s string) error {
	for _, part := range strings.Split(s, ",") {
		from, to, isRange := strings.Cut(part, "-")
		a, ok := weekdays[strings.ToLower(from)]
		b, ok2 := weekdays[strings.ToLower(to)]
		if !ok || isRange && !ok2 {
			return fmt.Errorf("days %q: give days as Mon, Tue, Wed, Thu, Fri, Sat, Sun, ranges such as Mon-Thu or lists such as Mon,Wed", s)
		}
		if !isRange {
			b = a
		}
		for d := a; ; d = (d + 1) % 7 {
			w.days[d] = true
			if d == b {
				break
			}
		}
	}
	return nil
}

// clock reads HH:MM as the time since midnight; 24:00 only as an end.
func clock(s string, end bool) (time.Duration, error) {
	h, m, ok := strings.Cut(s, ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || len(h) != 2 || len(m) != 2 || err1 != nil || err2 != nil || mm > 59 || hh > 24 || hh == 24 && (mm != 0 || !end) {
		return 0, fmt.Errorf("time %q is not HH:MM from 00:00 to 23:59 (or 24:00 as the end)", s)
	}
	return time.Duration(hh)*time.Hour + time.Duration(mm)*time.Minute, nil
}

// String is the window as it was given, spaces normalised.
func (w Window) String() string { return w.spec }

// Open reports whether t falls in the window: its day, in the window's zone, is one of the
// window's days and its wall-clock time is at or after the start and before the end.
func (w Window) Open(t time.Time) bool {
	local := t.In(w.zone)
	if !w.days[local.Weekday()] {
		return false
	}
	// Measured on the wall clock, not as elapsed time, so a daylight-saving change earlier in the
	// day does not shift the window.
	wall := time.Duration(local.Hour())*time.Hour + time.Duration(local.Minute())*time.Minute +
		time.Duration(local.Second())*time.Second + time.Duration(local.Nanosecond())
	return wall >= w.start && wall < w.end
}

// searchSegments bounds NextOpen's walk over the zone's offset changes: a week holds a handful at
// most, whatever a government decides.
const searchSegments = 64

// NextOpen is the first instant at or after t when the window is open (t itself when it is open
// now). ok is false only if the zone leaves no open instant in the weeks searched.
//
// The zone's offset is constant between two of its changes (time.Time.ZoneBounds); within such a
// stretch the wall clock runs with the instant, so the first open wall-clock time is found on a
// calendar with that one offset, and kept if it falls before the next change. A window that opens
// in the hour a spring change skips opens at the change; one that opens in the hour an autumn
// change repeats opens at its first occurrence.
func (w Window) NextOpen(t time.Time) (time.Time, bool) {
	from := t
	for range searchSegments {
		local := from.In(w.zone)
		_, offset := local.Zone()
		_, segmentEnd := local.ZoneBounds()
		shift := time.Duration(offset) * time.Second
		// wall reads the local date and time in UTC's fields, on a calendar without changes.
		wall := from.Add(shift).UTC()
		at, ok := w.nextWall(wall)
		if !ok {
			return time.Time{}, false
		}
		next := at.Add(-shift)
		if segmentEnd.IsZero() || next.Before(segmentEnd) {
			return next.In(t.Location()), true
		}
		from = segmentEnd
	}
	return time.Time{}, false
}

// nextWall is the first wall-clock time at or after wall (in UTC's fields) inside the window.
func (w Window) nextWall(wall time.Time) (time.Time, bool) {
	y, m, d := wall.Date()
	midnight := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	for i := range 8 {
		day := midnight.AddDate(0, 0, i)
		if !w.days[day.Weekday()] {
			continue
		}
		start, end := day.Add(w.start), day.Add(w.end)
		switch {
		case !wall.Before(end):
			continue
		case wall.Before(start):
			return start, true
		default:
			return wall, true
		}
	}
	return time.Time{}, false
}

// Schedule is a stage's change windows; it is open when any of them is. An empty schedule is
// always open: the stage has no window.
type Schedule []Window

// Open reports whether t falls in one of the windows, or the schedule has none.
func (s Schedule) Open(t time.Time) bool {
	return len(s) == 0 || slices.ContainsFunc(s, func(w Window) bool { return w.Open(t) })
}

// NextOpen is the first instant at or after t when one of the windows is open (t itself for an
// empty schedule).
func (s Schedule) NextOpen(t time.Time) (time.Time, bool) {
	if len(s) == 0 {
		return t, true
	}
	var best time.Time
	found := false
	for _, w := range s {
		if at, ok := w.NextOpen(t); ok && (!found || at.Before(best)) {
			best, found = at, true
		}
	}
	return best, found
}

// Strings are the windows as given.
func (s Schedule) Strings() []string {
	out := make([]string, len(s))
	for i, w := range s {
		out[i] = w.String()
	}
	return out
}

// Windows are the change windows of the stages that have any.
type Windows map[string]Schedule

// ParseWindows reads the windows input, one STAGE=DAYS HH:MM-HH:MM ZONE per entry, e.g.
// "prod=Mon-Thu 09:00-16:00 Europe/London"; a stage may have several. A window applies to the
// promotions into its stage, so the first stage, which every build enters, takes none.
func ParseWindows(c Chain, entries []string) (Windows, error) {
	out := Windows{}
	for _, e := range entries {
		if strings.TrimSpace(e) == "" {
			continue
		}
		name, spec, ok := strings.Cut(e, "=")
		name = strings.TrimSpace(name)
		if !ok {
			return nil, fmt.Errorf("windows: %q is not STAGE=DAYS HH:MM-HH:MM ZONE, e.g. \"prod=Mon-Thu 09:00-16:00 Europe/London\"", e)
		}
		if err := c.target(name, "windows"); err != nil {
			return nil, err
		}
		w, err := ParseWindow(spec)
		if err != nil {
			return nil, fmt.Errorf("windows: %s: %w", name, err)
		}
		out[name] = append(out[name], w)
	}
	return out, nil
}

// target checks that name is a stage a promotion enters: in the chain, and not the first.
func (c Chain) target(name, input string) error {
	i, ok := c.Index(name)
	switch {
	case !ok:
		return fmt.Errorf("%s: %w", input, c.unknown(name))
	case i == 0:
		return fmt.Errorf("%s: %w: %s is the first stage, which every build enters at once; %s apply to the stages a candidate is promoted into (%s)",
			input, ErrInvalid, name, input, strings.Join(c.names[1:], ", "))
	}
	return nil
}
