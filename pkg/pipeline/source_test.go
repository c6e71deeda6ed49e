package pipeline

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/ocipromote/ocipromote/pkg/git"
)

func TestCheckCheckout(t *testing.T) {
	t.Parallel()
	const head, other = "9f2c4e1a7b3d5f60718293a4b5c6d7e8f9012345", "1111111111111111111111111111111111111111"
	many := make([]string, 12)
	for i := range many {
		many[i] = fmt.Sprintf("f%02d.yaml", i)
	}
	tests := []struct {
		name    string
		co      git.Checkout
		sha     string
		ignore  []string
		say     []string
		refused bool
	}{
		{"clean, sha is HEAD", git.Checkout{Head: head}, head, nil, nil, false},
		{"sha is not HEAD", git.Checkout{Head: head}, other, nil, []string{"sha " + other + " is not HEAD", head, "check out " + other}, true},
		{"an edited file", git.Checkout{Head: head, Changed: []string{"app.yaml"}}, head, nil, []string{"1 file(s)", "app.yaml", "commit them"}, true},
		{"changes the artifact leaves out", git.Checkout{Head: head, Changed: []string{"big.bin", "tmp/x", ".git/hooks/y"}}, head, []string{"*.bin", "tmp/"}, nil, false},
		{"some left out, one packed", git.Checkout{Head: head, Changed: []string{"big.bin", "secret.env"}}, head, []string{"*.bin"}, []string{"secret.env"}, true},
		{"many files are counted, ten named", git.Checkout{Head: head, Changed: many}, head, nil, []string{"12 file(s)", "f09.yaml", "and 2 more"}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := CheckCheckout(tc.co, tc.sha, tc.ignore)
			if got := err != nil; got != tc.refused {
				t.Fatalf("CheckCheckout = %v, refused %v, want %v", err, got, tc.refused)
			}
			if err == nil {
				return
			}
			if !errors.Is(err, ErrNotCommitContent) {
				t.Errorf("error %v does not wrap ErrNotCommitContent", err)
			}
			for _, want := range tc.say {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
			if strings.Contains(err.Error(), "f10.yaml") {
				t.Errorf("error names more than ten files: %q", err)
			}
		})
	}
}
