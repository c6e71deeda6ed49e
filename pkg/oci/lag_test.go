package oci_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/random"

	"github.com/ocipromote/ocipromote/pkg/oci/ocitest"
)

// The lag fronts hide a tag from listings only: HEAD by tag answers at once, and the listing
// shows the tag once the lag has passed (for every replica, by max).
func TestListingLagFronts(t *testing.T) {
	t.Parallel()
	const lag = 150 * time.Millisecond
	for name, opt := range map[string]ocitest.Option{
		"shared":      ocitest.ListingLag(lag),
		"per replica": ocitest.ReplicaLag(3, lag, 1),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := ocitest.New(t, opt)
			reg := open(t, srv, "acme/lag", 1, nil)
			ctx := context.Background()
			img, err := random.Image(64, 1)
			if err != nil {
				t.Fatal(err)
			}
			m, err := reg.Push(ctx, img, "a")
			if err != nil {
				t.Fatal(err)
			}
			if d, err := reg.Resolve(ctx, "a"); err != nil || d != m.Digest {
				t.Fatalf("Resolve(a) right after the write = %s, %v; want %s at once", d, err, m.Digest)
			}
			hidden := 0
			for range 5 {
				list, err := reg.Tags(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Contains(list, "a") {
					hidden++
				}
			}
			if name == "shared" && hidden != 5 {
				t.Errorf("%d of 5 listings right after the write hid it, want all", hidden)
			}
			time.Sleep(lag + 20*time.Millisecond)
			for range 5 {
				if list, err := reg.Tags(ctx); err != nil || !slices.Contains(list, "a") {
					t.Fatalf("Tags() %v after the write = %v, %v; want a listed", lag, list, err)
				}
			}
		})
	}
}
