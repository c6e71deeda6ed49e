package stage

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func mustWindow(t *testing.T, s string) Window {
	t.Helper()
	w, err := ParseWindow(s)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func TestParseWindow(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		days    []time.Weekday
		wantErr string
	}{
		{"Mon-Thu 09:00-16:00 Europe/London", []time.Weekday{1, 2, 3, 4}, ""},
		{"  mon,wed  09:00-16:00   UTC ", []time.Weekday{1, 3}, ""},
		{"Sat-Sun 00:00-24:00 UTC", []time.Weekday{0, 6}, ""},
		{"Fri-Mon 10:00-12:00 America/New_York", []time.Weekday{0, 1, 5, 6}, ""},
		{"Mon-Fri,Sun 10:00-12:00 Asia/Kolkata", []time.Weekday{0, 1, 2, 3, 4, 5}, ""},
		{"Wed-Wed 10:00-12:00 UTC", []time.Weekday{3}, ""},
		{"Mon-Thu 09:00-16:00", nil, "is not DAYS HH:MM-HH:MM ZONE"},
		{"Mon-Thu 09:00-16:00 Europe/London extra", nil, "is not DAYS"},
		{"Monday 09:00-16:00 UTC", nil, "give days as Mon"},
		{"Mon- 09:00-16:00 UTC", nil, "give days as Mon"},
		{"Mon,,Tue 09:00-16:00 UTC", nil, "give days as Mon"},
		{"Mon 9:00-16:00 UTC", nil, `time "9:00" is not HH:MM`},
		{"Mon 09:00 UTC", nil, "are not HH:MM-HH:MM"},
		{"Mon 09:60-16:00 UTC", nil, "is not HH:MM"},
		{"Mon 24:00-24:00 UTC", nil, "24:00 as the end"},
		{"Mon 09:00-24:01 UTC", nil, "is not HH:MM"},
		{"Mon 16:00-09:00 UTC", nil, "not after it opens"},
		{"Mon 09:00-09:00 UTC", nil, "not after it opens"},
		{"Mon 09:00-16:00 Local", nil, "the machine's own"},
		{"Mon 09:00-16:00 Mars/Olympus", nil, "is not an IANA time zone"},
		{"Mon 09:00-16:00 ../../etc/passwd", nil, "is not an IANA time zone"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			w, err := ParseWindow(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParseWindow(%q) = %v; want an error saying %q", tc.in, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var days []time.Weekday
			for d, on := range w.days {
				if on {
					days = append(days, time.Weekday(d))
				}
			}
			if !slices.Equal(days, tc.days) {
				t.Errorf("days %v, want %v", days, tc.days)
			}
		})
	}
}

// Europe/London in 2026: clocks go forward on Sunday 29 March at 01:00 UTC (01:00 GMT becomes
// 02:00 BST) and back on Sunday 25 October at 01:00 UTC (02:00 BST becomes 01:00 GMT).
func TestWindowAcrossDaylightSaving(t *testing.T) {
	t.Parallel()
	office := "Mon-Thu 09:00-16:00 Europe/London"
	// Opens in the hour the spring change skips, and in the hour the autumn change repeats.
	gap := "Sun 01:30-03:00 Europe/London"
	fold := "Sun 01:30-02:00 Europe/London"
	tests := []struct {
		window, at string
		open       bool
		next       string
	}{
		// Winter time: 09:00 GMT is 09:00 UTC; the end is excluded.
		{office, "2026-03-26T08:59:59Z", false, "2026-03-26T09:00:00Z"},
		{office, "2026-03-26T09:00:00Z", true, "2026-03-26T09:00:00Z"},
		{office, "2026-03-26T15:59:59Z", true, "2026-03-26T15:59:59Z"},
		// Thursday's end: the next opening is Monday, after the spring change, at 09:00 BST.
		{office, "2026-03-26T16:00:00Z", false, "2026-03-30T08:00:00Z"},
		{office, "2026-03-30T07:59:59Z", false, "2026-03-30T08:00:00Z"},
		{office, "2026-03-30T14:59:59Z", true, "2026-03-30T14:59:59Z"},
		{office, "2026-03-30T15:00:00Z", false, "2026-03-31T08:00:00Z"},
		// Summer time, then the autumn change over the weekend: Monday opens at 09:00 GMT.
		{office, "2026-10-22T08:00:00Z", true, "2026-10-22T08:00:00Z"},
		{office, "2026-10-22T15:00:00Z", false, "2026-10-26T09:00:00Z"},
		{office, "2026-10-26T08:30:00Z", false, "2026-10-26T09:00:00Z"},
		// 01:30 does not exist on 29 March; the window opens when the clock jumps to 02:00 BST.
		{gap, "2026-03-29T00:00:00Z", false, "2026-03-29T01:00:00Z"},
		{gap, "2026-03-29T00:59:59Z", false, "2026-03-29T01:00:00Z"},
		{gap, "2026-03-29T01:00:00Z", true, "2026-03-29T01:00:00Z"},
		{gap, "2026-03-29T01:59:59Z", true, "2026-03-29T01:59:59Z"},
		{gap, "2026-03-29T02:00:00Z", false, "2026-04-05T00:30:00Z"},
		// 01:30 happens twice on 25 October: first in BST (00:30 UTC), then in GMT (01:30 UTC).
		{fold, "2026-10-25T00:00:00Z", false, "2026-10-25T00:30:00Z"},
		{fold, "2026-10-25T00:45:00Z", true, "2026-10-25T00:45:00Z"},
		{fold, "2026-10-25T01:00:00Z", false, "2026-10-25T01:30:00Z"},
		{fold, "2026-10-25T01:59:59Z", true, "2026-10-25T01:59:59Z"},
		{fold, "2026-10-25T02:00:00Z", false, "2026-11-01T01:30:00Z"},
		// A zone without changes, a whole weekend, and a range over it.
		{"Sat-Sun 00:00-24:00 UTC", "2026-03-27T23:00:00Z", false, "2026-03-28T00:00:00Z"},
		{"Sat-Sun 00:00-24:00 UTC", "2026-03-29T23:59:59Z", true, "2026-03-29T23:59:59Z"},
		{"Sat-Sun 00:00-24:00 UTC", "2026-03-30T00:00:00Z", false, "2026-04-04T00:00:00Z"},
		{"Fri-Mon 10:00-12:00 UTC", "2026-03-31T11:00:00Z", false, "2026-04-03T10:00:00Z"},
		{"Fri-Mon 10:00-12:00 UTC", "2026-04-06T11:00:00Z", true, "2026-04-06T11:00:00Z"},
		// Half-hour offsets, far from UTC.
		{"Mon 09:00-10:00 Asia/Kolkata", "2026-03-30T03:00:00Z", false, "2026-03-30T03:30:00Z"},
	}
	for _, tc := range tests {
		t.Run(tc.window+"@"+tc.at, func(t *testing.T) {
			t.Parallel()
			w := mustWindow(t, tc.window)
			at := utc(tc.at)
			if got := w.Open(at); got != tc.open {
				t.Errorf("Open(%s) = %v, want %v", tc.at, got, tc.open)
			}
			next, ok := w.NextOpen(at)
			if !ok || !next.Equal(utc(tc.next)) {
				t.Errorf("NextOpen(%s) = %s, %v; want %s", tc.at, next.UTC().Format(time.RFC3339), ok, tc.next)
			}
			if !w.Open(next) {
				t.Errorf("NextOpen(%s) = %s, which is not open", tc.at, next)
			}
		})
	}
}

// NextOpen agrees with walking minute by minute from many starting points across both changes:
// windows open and close on whole minutes of zones whose offsets are whole minutes.
func TestNextOpenAgreesWithAWalk(t *testing.T) {
	t.Parallel()
	windows := []string{"Mon-Thu 09:00-16:00 Europe/London", "Sun 01:30-03:00 Europe/London", "Sun 01:30-02:00 Europe/London",
		"Sat,Sun 00:30-02:30 America/New_York", "Fri-Mon 23:00-24:00 Australia/Lord_Howe"}
	for _, spec := range windows {
		w := mustWindow(t, spec)
		for _, from := range []string{"2026-03-25T00:00:00Z", "2026-10-22T00:00:00Z", "2026-03-05T00:00:00Z", "2026-10-30T00:00:00Z", "2026-04-01T00:00:00Z"} {
			for at := utc(from); at.Before(utc(from).Add(9 * 24 * time.Hour)); at = at.Add(97 * time.Minute) {
				walk := at
				for !w.Open(walk) {
					walk = walk.Add(time.Minute)
				}
				if got, ok := w.NextOpen(at); !ok || !got.Equal(walk) {
					t.Errorf("%s: NextOpen(%s) = %s, %v; the walk finds %s", spec, at.Format(time.RFC3339), got.UTC().Format(time.RFC3339), ok, walk.Format(time.RFC3339))
				}
			}
		}
	}
}

func TestSchedule(t *testing.T) {
	t.Parallel()
	s := Schedule{mustWindow(t, "Mon 09:00-10:00 UTC"), mustWindow(t, "Mon 14:00-15:00 UTC")}
	for _, tc := range []struct {
		at, next string
		open     bool
	}{
		{"2026-03-30T08:00:00Z", "2026-03-30T09:00:00Z", false},
		{"2026-03-30T09:30:00Z", "2026-03-30T09:30:00Z", true},
		{"2026-03-30T10:00:00Z", "2026-03-30T14:00:00Z", false},
		{"2026-03-30T15:00:00Z", "2026-04-06T09:00:00Z", false},
	} {
		if got := s.Open(utc(tc.at)); got != tc.open {
			t.Errorf("Open(%s) = %v", tc.at, got)
		}
		if got, ok := s.NextOpen(utc(tc.at)); !ok || !got.Equal(utc(tc.next)) {
			t.Errorf("NextOpen(%s) = %s, %v; want %s", tc.at, got, ok, tc.next)
		}
	}
	var none Schedule
	at := utc("2026-03-30T03:00:00Z")
	if next, ok := none.NextOpen(at); !none.Open(at) || !ok || !next.Equal(at) {
		t.Error("a stage without windows is always open")
	}
}

func TestParseWindows(t *testing.T) {
	t.Parallel()
	c := mustParse(t, "dev,preprod,prod")
	got, err := ParseWindows(c, []string{"prod=Mon-Thu 09:00-16:00 Europe/London", "", " prod = Fri 09:00-12:00 Europe/London", "preprod=Mon-Fri 07:00-19:00 UTC"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"Mon-Thu 09:00-16:00 Europe/London", "Fri 09:00-12:00 Europe/London"}; !slices.Equal(got["prod"].Strings(), want) {
		t.Errorf("prod windows %q, want %q", got["prod"].Strings(), want)
	}
	if len(got["preprod"]) != 1 || len(got["dev"]) != 0 {
		t.Errorf("windows %v", got)
	}
	for in, want := range map[string]string{
		"prd=Mon 09:00-16:00 UTC":  `"prd" is not a stage of the chain dev,preprod,prod`,
		"dev=Mon 09:00-16:00 UTC":  "dev is the first stage",
		"Mon 09:00-16:00 UTC":      "is not STAGE=DAYS",
		"prod=Mon 16:00-09:00 UTC": "windows: prod: window",
	} {
		_, err := ParseWindows(c, []string{in})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseWindows(%q) = %v; want an error saying %q", in, err, want)
		}
	}
	if _, err := ParseWindows(c, []string{"staging=Mon 09:00-16:00 UTC"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("an unknown stage: %v, want ErrInvalid", err)
	}
}
