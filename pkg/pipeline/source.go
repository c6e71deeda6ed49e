package pipeline

import (
	"errors"
	"fmt"
	"strings"

	"github.com/ocipromote/ocipromote/pkg/artifact"
	"github.com/ocipromote/ocipromote/pkg/git"
)

// ErrNotCommitContent is returned by CheckCheckout when the directory to pack is not the
// content of the commit the artifact would be tagged with. Tags never move, so such an artifact
// would stay "the immutable artifact of commit X" for good while holding other files.
var ErrNotCommitContent = errors.New("the files to pack are not the content of the commit")

// maxNamed bounds how many changed files an error names.
const maxNamed = 10

// CheckCheckout refuses to build sha from a checkout whose HEAD is another commit, or whose
// files that Pack would take (those ignore does not leave out) differ from HEAD: edited,
// deleted, new or ignored by .gitignore.
func CheckCheckout(co git.Checkout, sha string, ignore []string) error {
	if co.Head != sha {
		return fmt.Errorf("%w: sha %s is not HEAD of the checkout (%s), and the files packed are HEAD's, so sha-<s> would hold another commit's content: check out %s first, or leave sha unset to build HEAD",
			ErrNotCommitContent, sha, co.Head, sha)
	}
	var packed []string
	for _, f := range co.Changed {
		if !artifact.LeftOut(ignore, f) {
			packed = append(packed, f)
		}
	}
	if len(packed) == 0 {
		return nil
	}
	named := packed[:min(len(packed), maxNamed)]
	more := ""
	if n := len(packed) - len(named); n > 0 {
		more = fmt.Sprintf(" and %d more", n)
	}
	return fmt.Errorf("%w: %d file(s) under the path differ from commit %s (edited, new, deleted or git-ignored): %s%s; commit them, remove them, or leave them out with ignore",
		ErrNotCommitContent, len(packed), sha, strings.Join(named, ", "), more)
}
