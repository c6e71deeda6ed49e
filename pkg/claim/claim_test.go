package claim

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

const (
	digestA = "sha256:aaaaaaaaaaaa1111111111111111111111111111111111111111111111111111"
	digestB = "sha256:bbbbbbbbbbbb2222222222222222222222222222222222222222222222222222"
)

func mustNew(t *testing.T, version, short, digest string) Claim {
	t.Helper()
	c, err := New(version, short, digest)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		tag                    string
		version, short, digest string
		ok                     bool
	}{
		{"claim-0.0.1-rc.3-abc1234-aaaaaaaaaaaa", "0.0.1-rc.3", "abc1234", "aaaaaaaaaaaa", true},
		{"claim-v1.2.0-rc.10-0123abcd-0123456789ab", "v1.2.0-rc.10", "0123abcd", "0123456789ab", true},
		{"claim-1.4.2-abc1234-aaaaaaaaaaaa", "1.4.2", "abc1234", "aaaaaaaaaaaa", true},
		{"claim-1.4.2-" + strings.Repeat("a", 40) + "-aaaaaaaaaaaa", "1.4.2", strings.Repeat("a", 40), "aaaaaaaaaaaa", true},
		{"claim-0.0.1-rc.3-abc1234", "", "", "", false},               // no digest: an older format
		{"claim-0.0.1-rc.3-abc1234-aaaaaaaaaaa", "", "", "", false},   // 11 hex
		{"claim-0.0.1-rc.3-abc1234-AAAAAAAAAAAA", "", "", "", false},  // not lower-case hex
		{"claim-0.0.1-rc.3-abc-aaaaaaaaaaaa", "", "", "", false},      // short sha too short
		{"claim-latest-abc1234-aaaaaaaaaaaa", "", "", "", false},      // not a version
		{"claim-1.2-abc1234-aaaaaaaaaaaa", "", "", "", false},         // not three parts
		{"claim--abc1234-aaaaaaaaaaaa", "", "", "", false},            // no version
		{"sha-abc1234", "", "", "", false},                            // not a claim
		{"claim-0.0.1-rc.3-xyz1234-aaaaaaaaaaaa", "", "", "", false},  // short sha not hex
		{"claim-0.0.1-rc.3-abc1234-aaaaaaaaaaaa-", "", "", "", false}, // trailing dash
		{"claim-hold-2-aaaaaaa-aaaaaaaaaaaa", "hold-2", "aaaaaaa", "aaaaaaaaaaaa", true},
		{"claim-hold-18446744073709551615-aaaaaaa-aaaaaaaaaaaa", "hold-18446744073709551615", "aaaaaaa", "aaaaaaaaaaaa", true},
		{"claim-hold-02-aaaaaaa-aaaaaaaaaaaa", "", "", "", false}, // leading zero: one number, one tag
		{"claim-hold-0-aaaaaaa-aaaaaaaaaaaa", "", "", "", false},
		{"claim-hold--aaaaaaa-aaaaaaaaaaaa", "", "", "", false},
		{"claim-hold-x-aaaaaaa-aaaaaaaaaaaa", "", "", "", false},
		{"claim-hold-prod-3-aaaaaaa-aaaaaaaaaaaa", "hold-prod-3", "aaaaaaa", "aaaaaaaaaaaa", true}, // a stage's hold
		{"claim-hold-prod-03-aaaaaaa-aaaaaaaaaaaa", "", "", "", false},
		{"claim-hold-Prod-3-aaaaaaa-aaaaaaaaaaaa", "", "", "", false},   // not a stage name
		{"claim-hold-rc-3-aaaaaaa-aaaaaaaaaaaa", "", "", "", false},     // a reserved word
		{"claim-hold-prod-x-3-aaaaaaa-aaaaaaaaaaaa", "", "", "", false}, // stage names have no '-'
		{"claim-pass-dev-0123456789ab-1-aaaaaaa-aaaaaaaaaaaa", "pass-dev-0123456789ab-1", "aaaaaaa", "aaaaaaaaaaaa", true},
		{"claim-pass-dev-0123456789a-1-aaaaaaa-aaaaaaaaaaaa", "", "", "", false}, // 11 hex
		{"claim-pass-dev-0123456789ab-0-aaaaaaa-aaaaaaaaaaaa", "", "", "", false},
		{"claim-pass-dev-1-aaaaaaa-aaaaaaaaaaaa", "", "", "", false},
		{"claim-pass-3-aaaaaaa-aaaaaaaaaaaa", "", "", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.tag, func(t *testing.T) {
			t.Parallel()
			c, ok := Parse(tc.tag)
			if ok != tc.ok || c.Version != tc.version || c.Short != tc.short || c.Digest != tc.digest {
				t.Fatalf("Parse(%q) = %+v, %v; want %q %q %q, %v", tc.tag, c, ok, tc.version, tc.short, tc.digest, tc.ok)
			}
			if ok && c.Tag() != tc.tag {
				t.Errorf("Tag() = %q, want %q", c.Tag(), tc.tag)
			}
		})
	}
}

func TestNew(t *testing.T) {
	t.Parallel()
	c := mustNew(t, "0.4.2", "9f2c4e1", digestA)
	if got, want := c.Tag(), "claim-0.4.2-9f2c4e1-aaaaaaaaaaaa"; got != want {
		t.Errorf("Tag() = %q, want %q", got, want)
	}
	if !c.Of(digestA) || c.Of(digestB) {
		t.Errorf("Of: the claim must be of %s only", digestA)
	}
	if !c.Stable() || mustNew(t, "0.4.2-rc.1", "9f2c4e1", digestA).Stable() {
		t.Error("Stable: 0.4.2 is stable, 0.4.2-rc.1 is not")
	}
	// The longest claim tag (a 40-character short sha and a long version) stays within the
	// 128 characters a tag may have.
	long := mustNew(t, "v1000000.1000000.1000000-rc.1000000", strings.Repeat("a", 40), digestA)
	if n := len(long.Tag()); n > 128 {
		t.Errorf("tag %q has %d characters, more than a registry takes", long.Tag(), n)
	}
	for _, bad := range []struct{ version, short, digest string }{
		{"latest", "9f2c4e1", digestA},
		{"0.4.2", "9f2c", "sha256:abc"},
		{"0.4.2", "9F2C4E1", digestA},
		{"0.4.2", "9f2c4e1", "md5:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},
	} {
		if _, err := New(bad.version, bad.short, bad.digest); err == nil {
			t.Errorf("New(%q, %q, %q) accepted", bad.version, bad.short, bad.digest)
		}
	}
}

func TestRival(t *testing.T) {
	t.Parallel()
	self := mustNew(t, "0.0.1", "aaaaaaa", digestA)
	tests := []struct {
		name  string
		list  []string
		rival string
	}{
		{"alone", []string{self.Tag(), "0.0.1-rc.1"}, ""},
		{"another commit on the same version", []string{self.Tag(), "claim-0.0.1-bbbbbbb-bbbbbbbbbbbb"}, "claim-0.0.1-bbbbbbb-bbbbbbbbbbbb"},
		{"v-prefixed is the same version for Flux", []string{self.Tag(), "claim-v0.0.1-bbbbbbb-bbbbbbbbbbbb"}, "claim-v0.0.1-bbbbbbb-bbbbbbbbbbbb"},
		{"another artifact of the same commit", []string{self.Tag(), "claim-0.0.1-aaaaaaa-bbbbbbbbbbbb"}, "claim-0.0.1-aaaaaaa-bbbbbbbbbbbb"},
		{"another version", []string{self.Tag(), "claim-0.0.2-bbbbbbb-bbbbbbbbbbbb", "claim-0.0.1-rc.1-bbbbbbb-bbbbbbbbbbbb"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, ok := In(tc.list).Rival(self)
			if got := map[bool]string{true: r.Tag(), false: ""}[ok]; got != tc.rival {
				t.Errorf("Rival = %q, want %q", got, tc.rival)
			}
		})
	}
}

func TestSorted(t *testing.T) {
	t.Parallel()
	s := In([]string{"claim-0.0.1-rc.2-aaaaaaa-aaaaaaaaaaaa", "claim-0.0.1-rc.10-aaaaaaa-aaaaaaaaaaaa", "claim-0.0.2-rc.1-aaaaaaa-aaaaaaaaaaaa"})
	if got, want := s.Sorted().Versions(), []string{"0.0.2-rc.1", "0.0.1-rc.10", "0.0.1-rc.2"}; !slices.Equal(got, want) {
		t.Errorf("Sorted = %v, want %v", got, want)
	}
}

// lagging lists tags as a registry whose listing lags behind its writes: the claim shows up only
// from the show-th listing on.
type lagging struct {
	claim string
	show  int
	calls int
}

func (l *lagging) Name() string { return "registry.example/acme/app" }

func (l *lagging) Tags(context.Context) ([]string, error) {
	l.calls++
	if l.calls >= l.show {
		return []string{"0.0.1-rc.1", l.claim}, nil
	}
	return []string{"0.0.1-rc.1"}, nil
}

func TestConfirm(t *testing.T) {
	t.Parallel()
	self := mustNew(t, "0.0.1", "aaaaaaa", digestA)
	noPause := func(context.Context, int) error { return nil }

	reg := &lagging{claim: self.Tag(), show: 3}
	list, err := Confirm(context.Background(), reg, self, 0, noPause)
	if err != nil || !slices.Contains(list, self.Tag()) || reg.calls != 3 {
		t.Fatalf("Confirm = %v, %v after %d listings; want the listing that shows the claim, after 3", list, err, reg.calls)
	}

	never := &lagging{claim: self.Tag(), show: 1000}
	if _, err := Confirm(context.Background(), never, self, 0, noPause); !errors.Is(err, ErrNotListed) || never.calls != confirmAttempts {
		t.Fatalf("Confirm on a registry that never lists the claim = %v after %d listings; want ErrNotListed after %d", err, never.calls, confirmAttempts)
	}
}

// Claims on hold records are rivals of claims on the same record only, and never count as
// versions.
func TestRecordClaims(t *testing.T) {
	t.Parallel()
	a, err := NewRecord("hold-3", digestA)
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewRecord("hold-3", digestB)
	if err != nil {
		t.Fatal(err)
	}
	other, err := NewRecord("hold-4", digestB)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewRecord("0.0.1", digestA); err == nil {
		t.Error("NewRecord accepted a version")
	}
	version := mustNew(t, "0.0.1", "bbbbbbb", digestB)
	if !a.Record() || version.Record() {
		t.Errorf("Record() = %v for %s and %v for %s", a.Record(), a.Tag(), version.Record(), version.Tag())
	}
	list := []string{a.Tag(), b.Tag(), other.Tag(), version.Tag()}
	if got, ok := All(list).Rival(a); !ok || got.Tag() != b.Tag() {
		t.Errorf("Rival(%s) = %s, %v; want %s", a.Tag(), got.Tag(), ok, b.Tag())
	}
	if got, ok := All([]string{a.Tag(), other.Tag(), version.Tag()}).Rival(a); ok {
		t.Errorf("Rival(%s) = %s, want none: other records and versions are not rivals", a.Tag(), got.Tag())
	}
	if got := In(list).Tags(); !slices.Equal(got, []string{version.Tag()}) {
		t.Errorf("In = %v, want only the version claim", got)
	}
}

// replicas lists as a registry whose listings come from replicas that lag independently: the
// claim shows in the listings given by shown (by call, from 1), and in every listing from call
// always on.
type replicas struct {
	claim  string
	shown  map[int]bool
	always int
	calls  int
}

func (r *replicas) Name() string { return "registry.example/acme/app" }

func (r *replicas) Tags(context.Context) ([]string, error) {
	r.calls++
	if r.shown[r.calls] || r.calls >= r.always {
		return []string{r.claim}, nil
	}
	return nil, nil
}

// With a settle time, the decision is made on a listing taken that long after the claim was
// first listed; a registry that then no longer lists the claim lags more than the settle time,
// which is an error rather than a decision on a listing that may miss rivals.
func TestConfirmSettles(t *testing.T) {
	t.Parallel()
	self := mustNew(t, "0.0.1", "aaaaaaa", digestA)
	noPause := func(context.Context, int) error { return nil }
	const settle = 30 * time.Millisecond

	reg := &replicas{claim: self.Tag(), always: 2}
	start := time.Now()
	if list, err := Confirm(context.Background(), reg, self, settle, noPause); err != nil || !slices.Contains(list, self.Tag()) || reg.calls != 3 {
		t.Fatalf("Confirm = %v, %v after %d listings; want the listing after the settle time, the third", list, err, reg.calls)
	}
	if waited := time.Since(start); waited < settle {
		t.Errorf("Confirm decided %v after the claim was listed, want at least %v", waited, settle)
	}

	flapping := &replicas{claim: self.Tag(), shown: map[int]bool{1: true}, always: 1000}
	if _, err := Confirm(context.Background(), flapping, self, settle, noPause); !errors.Is(err, ErrLagOverSettle) || !strings.Contains(err.Error(), "raise settle") {
		t.Fatalf("Confirm on a registry lagging beyond the settle time = %v; want ErrLagOverSettle saying to raise settle", err)
	}
}

// Backoff is the pause alone without a settle time, and with one adds a random wait below
// 2 × settle × attempt.
func TestBackoff(t *testing.T) {
	t.Parallel()
	paused := 0
	pause := func(context.Context, int) error { paused++; return nil }
	start := time.Now()
	if err := Backoff(context.Background(), 3, 0, pause); err != nil || paused != 1 || time.Since(start) > 50*time.Millisecond {
		t.Fatalf("Backoff without settle = %v after %v and %d pauses; want the pause alone", err, time.Since(start), paused)
	}
	const settle = 5 * time.Millisecond
	for attempt := 1; attempt <= 3; attempt++ {
		start := time.Now()
		if err := Backoff(context.Background(), attempt, settle, pause); err != nil {
			t.Fatal(err)
		}
		if waited := time.Since(start); waited > 2*settle*time.Duration(attempt)+50*time.Millisecond {
			t.Errorf("attempt %d waited %v, want below %v", attempt, waited, 2*settle*time.Duration(attempt))
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Backoff(ctx, 1, time.Hour, func(context.Context, int) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("Backoff on a cancelled context = %v, want context.Canceled", err)
	}
}

// RivalPrefixes cover every claim Rival counts as a rival: both spellings of a version, one
// record's claims, and nothing a rival could be named outside.
func TestRivalPrefixesCoverEveryRival(t *testing.T) {
	t.Parallel()
	const d = "sha256:abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789"
	tests := []struct {
		self   Claim
		rivals []string
	}{
		{must(New("1.0.0", "aaaaaaa", d)), []string{"claim-1.0.0-bbbbbbb-0123456789ab", "claim-v1.0.0-bbbbbbb-0123456789ab"}},
		{must(New("v1.0.0-rc.2", "aaaaaaa", d)), []string{"claim-1.0.0-rc.2-bbbbbbb-0123456789ab", "claim-v1.0.0-rc.2-bbbbbbb-0123456789ab"}},
		{must(NewRecord("hold-12", d)), []string{"claim-hold-12-0123456-0123456789ab"}},
	}
	for _, tc := range tests {
		prefixes := tc.self.RivalPrefixes()
		for _, tag := range append(tc.rivals, tc.self.Tag()) {
			if !slices.ContainsFunc(prefixes, func(p string) bool { return strings.HasPrefix(tag, p) }) {
				t.Errorf("%s: rival %s matches none of %q", tc.self.Tag(), tag, prefixes)
			}
		}
		for _, tag := range tc.rivals {
			if _, ok := All([]string{tag}).Rival(tc.self); !ok {
				t.Errorf("%s: %s is not a rival; the table is wrong", tc.self.Tag(), tag)
			}
		}
	}
}

func must(c Claim, err error) Claim {
	if err != nil {
		panic(err)
	}
	return c
}
