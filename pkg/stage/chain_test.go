package stage

import (
	"errors"
	"slices"
	"testing"
)

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		want     []string
		wantErr  bool
	}{
		{name: "default", in: Default, want: []string{"integration", "live"}},
		{name: "three stages with spaces", in: " dev, preprod ,prod", want: []string{"dev", "preprod", "prod"}},
		{name: "digits after a letter", in: "dev1,prod2", want: []string{"dev1", "prod2"}},
		{name: "empty", in: " ", wantErr: true},
		{name: "one stage", in: "prod", wantErr: true},
		{name: "empty name", in: "dev,,prod", wantErr: true},
		{name: "uppercase", in: "Dev,prod", wantErr: true},
		{name: "starts with a digit", in: "1dev,prod", wantErr: true},
		{name: "hyphen", in: "pre-prod,prod", wantErr: true},
		{name: "dot", in: "pre.prod,prod", wantErr: true},
		{name: "twice", in: "dev,prod,dev", wantErr: true},
		{name: "reserved rc", in: "dev,rc,prod", wantErr: true},
		{name: "reserved validated", in: "dev,validated", wantErr: true},
		{name: "reserved sha256", in: "sha256,prod", wantErr: true},
		{name: "too long", in: "dev,abcdefghijklmnopqrstuvwxyzabcdefg", wantErr: true},
		{name: "non-ASCII letter", in: "dév,prod", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := Parse(tc.in)
			if tc.wantErr {
				if !errors.Is(err, ErrInvalid) {
					t.Fatalf("Parse(%q) = %v, %v; want an error wrapping ErrInvalid", tc.in, c.Names(), err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.in, err)
			}
			if got := c.Names(); !slices.Equal(got, tc.want) {
				t.Errorf("Parse(%q) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}

func TestChainNavigation(t *testing.T) {
	t.Parallel()
	c, err := Parse("dev,preprod,prod")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.First(), "dev"; got != want {
		t.Errorf("First = %q, want %q", got, want)
	}
	if got, want := c.Last(), "prod"; got != want {
		t.Errorf("Last = %q, want %q", got, want)
	}
	for _, tc := range []struct {
		stage, next, prev string
		hasNext, hasPrev  bool
	}{
		{stage: "dev", next: "preprod", hasNext: true},
		{stage: "preprod", next: "prod", hasNext: true, prev: "dev", hasPrev: true},
		{stage: "prod", prev: "preprod", hasPrev: true},
		{stage: "staging"},
	} {
		if next, ok := c.Next(tc.stage); next != tc.next || ok != tc.hasNext {
			t.Errorf("Next(%q) = %q, %v; want %q, %v", tc.stage, next, ok, tc.next, tc.hasNext)
		}
		if prev, ok := c.Previous(tc.stage); prev != tc.prev || ok != tc.hasPrev {
			t.Errorf("Previous(%q) = %q, %v; want %q, %v", tc.stage, prev, ok, tc.prev, tc.hasPrev)
		}
	}
	if c.IsDefault() || !MustDefault().IsDefault() {
		t.Errorf("IsDefault: %q %v, default %v", c, c.IsDefault(), MustDefault().IsDefault())
	}
	names := c.Names()
	names[0] = "changed"
	if c.First() != "dev" {
		t.Errorf("Names returned the chain's own slice: changing it changed the chain")
	}
}
