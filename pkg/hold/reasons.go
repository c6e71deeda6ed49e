package hold

import (
	"fmt"
	"slices"
	"strings"
)

// reasonSeparator joins the reasons of a hold set for several causes.
const reasonSeparator = "; "

// joinReasons is the record that adds rec's reason to the hold cur, which is on: a freeze set
// during a rollback's hold must not vanish ("nothing to do") when the rollback's cause is fixed,
// nor erase the rollback's reason and target, which say why live is where it is. So the new
// record keeps cur's reasons and rollback target and appends rec's reason; a reason cur already
// gives returns cur's record unchanged (a replay writes nothing).
func joinReasons(cur State, rec Record) (Record, error) {
	if rec.Reason == "" || slices.Contains(strings.Split(cur.Reason, reasonSeparator), rec.Reason) {
		return cur.Record, nil
	}
	joined := rec
	joined.Reason = rec.Reason
	if cur.Reason != "" {
		joined.Reason = cur.Reason + reasonSeparator + rec.Reason
	}
	joined.Digest, joined.Sha = cur.Digest, cur.Sha
	if err := joined.Check(); err != nil {
		return Record{}, fmt.Errorf("the hold (%s) is on already, and adding this reason to its own would make it too long: %w; release the hold and set it again with one reason", cur.Tag, err)
	}
	return joined, nil
}
