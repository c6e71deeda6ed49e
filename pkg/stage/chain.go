// Package stage holds the chain of environments a candidate is promoted through, in order: the
// first stage takes every build, the last is the stable one. The default chain is today's two
// environments, integration and live. Everything here is a pure function over names.
package stage

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Default is the chain when none is configured: every build goes to integration, live takes what
// integration proved. Its tags are the two-environment pipeline's, unchanged.
const Default = "integration,live"

// MaxName bounds a stage name: it becomes part of tags (X.Y.Z-<stage>.N, <stage>-<sha>), which
// the distribution API limits to 128 characters.
const MaxName = 32

// ErrInvalid is wrapped by every error about a malformed chain or stage name.
var ErrInvalid = errors.New("invalid stages")

// reserved are the words the pipeline already uses as tag kinds or pre-releases; a stage named
// after one would write tags that read as something else (rc: candidates, X.Y.Z-rc.N; sha,
// validated: markers; hold, claim, pass: records; sha256: signature and referrer fallback tags).
var reserved = []string{"rc", "sha", "sha256", "validated", "hold", "claim", "pass", "fail"}

// Chain is an ordered list of at least two distinct stage names.
type Chain struct{ names []string }

// Parse reads the stages input: names separated by commas (spaces around them are ignored), in
// promotion order, e.g. "dev,preprod,prod".
func Parse(s string) (Chain, error) {
	if strings.TrimSpace(s) == "" {
		return Chain{}, fmt.Errorf("%w: empty: give at least two stage names in promotion order, e.g. %q", ErrInvalid, Default)
	}
	parts := strings.Split(s, ",")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return New(parts)
}

// New builds a chain from names in promotion order.
func New(names []string) (Chain, error) {
	if len(names) < 2 {
		return Chain{}, fmt.Errorf("%w: %q: a chain needs at least two stages (the first takes every build, the last is stable), e.g. %q", ErrInvalid, strings.Join(names, ","), Default)
	}
	for i, n := range names {
		if err := ValidName(n); err != nil {
			return Chain{}, err
		}
		if slices.Contains(names[:i], n) {
			return Chain{}, fmt.Errorf("%w: stage %q appears twice: each stage is one environment", ErrInvalid, n)
		}
	}
	return Chain{names: slices.Clone(names)}, nil
}

// MustDefault is the default chain.
func MustDefault() Chain {
	c, err := Parse(Default)
	if err != nil {
		panic(err)
	}
	return c
}

// ValidName reports whether name can be a stage: lowercase ASCII letters and digits, starting
// with a letter (a pre-release identifier of digits only would be compared as a number), at most
// MaxName long, and not a word the pipeline's tags already use.
func ValidName(name string) error {
	if name == "" {
		return fmt.Errorf("%w: a stage name is empty (two commas in a row?)", ErrInvalid)
	}
	if len(name) > MaxName {
		return fmt.Errorf("%w: stage %q is longer than %d characters", ErrInvalid, name, MaxName)
	}
	for i, r := range name {
		letter := r >= 'a' && r <= 'z'
		if !letter && (i == 0 || r < '0' || r > '9') {
			return fmt.Errorf("%w: stage %q: use lowercase letters and digits, starting with a letter", ErrInvalid, name)
		}
	}
	if slices.Contains(reserved, name) {
		return fmt.Errorf("%w: stage %q is a word the pipeline's tags already use (%s); choose another name", ErrInvalid, name, strings.Join(reserved, ", "))
	}
	return nil
}

// Names returns the stages in promotion order.
func (c Chain) Names() []string { return slices.Clone(c.names) }

// Len is the number of stages.
func (c Chain) Len() int { return len(c.names) }

// First is the stage every build goes to.
func (c Chain) First() string { return c.names[0] }

// Last is the stable stage.
func (c Chain) Last() string { return c.names[len(c.names)-1] }

// Index returns the position of name in the chain (0 for the first stage).
func (c Chain) Index(name string) (int, bool) {
	i := slices.Index(c.names, name)
	return i, i >= 0
}

// Has reports whether name is a stage of the chain.
func (c Chain) Has(name string) bool { return slices.Contains(c.names, name) }

// Next is the stage after name: where a candidate that passed name goes. ok is false for the last
// stage and for a name not in the chain.
func (c Chain) Next(name string) (next string, ok bool) {
	i, found := c.Index(name)
	if !found || i == len(c.names)-1 {
		return "", false
	}
	return c.names[i+1], true
}

// Previous is the stage before name: the one a candidate must have passed to enter name. ok is
// false for the first stage and for a name not in the chain.
func (c Chain) Previous(name string) (prev string, ok bool) {
	i, found := c.Index(name)
	if !found || i == 0 {
		return "", false
	}
	return c.names[i-1], true
}

// IsDefault reports whether the chain is today's two environments.
func (c Chain) IsDefault() bool { return c.String() == Default }

// String is the chain as the stages input spells it.
func (c Chain) String() string { return strings.Join(c.names, ",") }
