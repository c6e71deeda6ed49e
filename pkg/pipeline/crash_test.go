package pipeline

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/ocipromote/ocipromote/pkg/oci/ocitest"
)

// freezer stands for a runner killed mid-step: once armed, every request after the k-th is
// dropped, until the test thaws the registry for the re-run.
type freezer struct{ after atomic.Int64 }

func (f *freezer) fault(n int, _ *http.Request) ocitest.Fault {
	if a := f.after.Load(); a > 0 && int64(n) > a {
		return ocitest.Drop
	}
	return ocitest.None
}

// crashAtEveryStep runs setup, then step with the registry frozen after each of its requests in
// turn, then step again on a healthy registry; the final tags must equal a clean run's and no
// tag may ever have pointed at two digests.
func crashAtEveryStep(t *testing.T, name string, setup, step func(t *testing.T, reg Registry) error) {
	t.Helper()
	clean := newFixture(t)
	if err := setup(t, clean.repo("acme/crash")); err != nil {
		t.Fatal(err)
	}
	before := len(clean.srv.Requests())
	if err := step(t, clean.repo("acme/crash")); err != nil {
		t.Fatal(err)
	}
	requests := len(clean.srv.Requests()) - before
	want := tagsAt(t, clean.repo("acme/crash"))

	converged := 0
	for k := 1; k <= requests; k++ {
		fr := &freezer{}
		f := newFixture(t, ocitest.Faults(fr.fault))
		if err := setup(t, f.repo("acme/crash")); err != nil {
			t.Fatal(err)
		}
		fr.after.Store(int64(len(f.srv.Requests()) + k))
		_ = step(t, f.repo("acme/crash")) // killed mid-step: any outcome
		fr.after.Store(0)
		if err := step(t, f.repo("acme/crash")); err != nil {
			t.Errorf("crash after request %d of %d: re-run failed: %v", k, requests, err)
			continue
		}
		if got := tagsAt(t, f.repo("acme/crash")); !equalMaps(got, want) {
			t.Errorf("crash after request %d of %d: tags after re-run\n%v\nwant a clean run's\n%v", k, requests, got, want)
			continue
		}
		if moved := f.srv.Moved(); len(moved) != 0 {
			t.Errorf("crash after request %d: tags moved: %v", k, moved)
			continue
		}
		converged++
	}
	t.Logf("reliability: %s killed after each request, then re-run | crash points tried %d | converged %d | tags moved 0", name, requests, converged)
}

func TestBuildRCConvergesAfterACrashAtEveryRequest(t *testing.T) {
	t.Parallel()
	dirA, dirB := manifests(t, "a"), manifests(t, "b")
	crashAtEveryStep(t, "build-rc",
		func(t *testing.T, reg Registry) error {
			_, err := BuildRC(context.Background(), reg, buildIn(dirA, sha(1)))
			return err
		},
		func(t *testing.T, reg Registry) error {
			_, err := BuildRC(context.Background(), reg, buildIn(dirB, sha(2)))
			return err
		})
}

func TestTagValidatedConvergesAfterACrashAtEveryRequest(t *testing.T) {
	t.Parallel()
	dirA, dirB := manifests(t, "a"), manifests(t, "b")
	var rc2 BuildResult
	crashAtEveryStep(t, "tag-validated",
		func(t *testing.T, reg Registry) error {
			ctx := context.Background()
			rc1, err := BuildRC(ctx, reg, buildIn(dirA, sha(1)))
			if err != nil {
				return err
			}
			if rc2, err = BuildRC(ctx, reg, buildIn(dirB, sha(2))); err != nil {
				return err
			}
			_, err = TagValidated(ctx, reg, PromoteInput{Revision: revision(rc1)})
			return err
		},
		func(t *testing.T, reg Registry) error {
			_, err := TagValidated(context.Background(), reg, PromoteInput{Revision: revision(rc2)})
			return err
		})
}
