package oci_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/ocipromote/ocipromote/pkg/oci"
	"github.com/ocipromote/ocipromote/pkg/oci/ocitest"
)

// tag-validated on a long-lived repository paged by 100 (GHCR's page size) lists every tag once,
// for its decision, and confirms its claim on a ranged listing of rival claims and hold records
// where the registry lists lexically and honours last; where it lists in push order it lists
// every tag again, as it always did. The counts are the README's.
func TestTagValidatedRangedConfirmation(t *testing.T) {
	t.Parallel()
	for _, n := range []int{300, 3000} {
		t.Run(fmt.Sprintf("tags=%d", n), func(t *testing.T) {
			t.Parallel()
			requests := map[bool]int{}
			lists := map[bool]int{}
			for _, lexical := range []bool{true, false} {
				history := ocitest.History(n)
				slices.Reverse(history) // newest first, so that push order is not lexical order
				var opts []ocitest.Option
				if !lexical {
					opts = append(opts, ocitest.PushOrderListing())
				}
				srv := seeded(t, history, opts...)
				rc := build(t, openFresh(t, srv, oci.Options{}), tree(t, "a"), 1_000_000)
				before := len(srv.Requests())
				if res := promote(t, openFresh(t, srv, oci.Options{}), rc); !res.Promoted {
					t.Fatalf("promotion = %+v", res)
				}
				got := kinds(srv, before)
				requests[lexical] = len(got)
				for _, k := range got {
					if k == "list" {
						lists[lexical]++
					}
				}
			}
			// A full listing of n tags and the few this promotion's build added, 100 a page.
			fullPages := (n+4)/100 + 1
			if got, want := lists[false], 2*fullPages; got != want {
				t.Errorf("push-order registry: %d list requests, want two full listings, %d", got, want)
			}
			// The ranged confirmation: one range for claim-<version>-, claim-v<version>- and hold-
			// (one when the tags between them fit a page, as here: the claims on later versions).
			if got, want := lists[true], fullPages+1; got != want {
				t.Errorf("lexical registry: %d list requests, want a full listing and one range, %d", got, want)
			}
			if requests[true] >= requests[false] {
				t.Errorf("ranged confirmation took %d requests, full %d", requests[true], requests[false])
			}
			t.Logf("tag-validated at %d tags: %d requests (%d lists) with the ranged confirmation, %d (%d lists) with a full one", n, requests[true], lists[true], requests[false], lists[false])
		})
	}
}

// build-rc confirms its claim on a ranged listing too, of every claim (its Check reads this
// commit's own claims, whatever their version) and of sha-<s> and integration-<s>, where that
// takes fewer requests than a second full listing; elsewhere it lists every tag again.
func TestBuildRCRangedConfirmation(t *testing.T) {
	t.Parallel()
	for _, n := range []int{300, 3000} {
		t.Run(fmt.Sprintf("tags=%d", n), func(t *testing.T) {
			t.Parallel()
			requests := map[bool]int{}
			lists := map[bool]int{}
			for _, lexical := range []bool{true, false} {
				history := ocitest.History(n)
				slices.Reverse(history)
				var opts []ocitest.Option
				if !lexical {
					opts = append(opts, ocitest.PushOrderListing())
				}
				srv := seeded(t, history, opts...)
				before := len(srv.Requests())
				build(t, openFresh(t, srv, oci.Options{}), tree(t, "a"), 1_000_000)
				got := kinds(srv, before)
				requests[lexical] = len(got)
				for _, k := range got {
					if k == "list" {
						lists[lexical]++
					}
				}
			}
			// Every claim is a long range: at 300 tags (one page of claims, three of tags) the
			// ranges cost as much as a full listing, which is then used; at 3,000 they cost less.
			if lists[true] > lists[false] || (n >= 3000 && lists[true] >= lists[false]) {
				t.Errorf("build-rc listed %d pages on the lexical registry, %d on the push-order one", lists[true], lists[false])
			}
			t.Logf("build-rc at %d tags: %d requests (%d lists) with the ranged confirmation, %d (%d lists) with a full one", n, requests[true], lists[true], requests[false], lists[false])
		})
	}
}
