package pipeline

import (
	"context"
	"slices"
	"testing"

	"github.com/ocipromote/ocipromote/pkg/oci/ocitest"
)

// crashAtEveryStep runs setup, then step with the registry frozen after each of its requests in
// turn (ocitest.Freezer: a runner killed mid-step), then step again, itself killed after as many
// requests, then step once more on a healthy registry. After every crash point the tags must
// equal a clean run's and no tag may ever have pointed at two digests. Between the crash and the
// re-runs, between may run (another commit's build, say); a clean run may then have run it
// before or after step, and the tags must equal one of the two.
func crashAtEveryStep(t *testing.T, name string, setup, step, between func(t *testing.T, reg Registry) error) {
	t.Helper()
	cleanRun := func(order ...func(t *testing.T, reg Registry) error) (map[string]string, int) {
		clean := newFixture(t)
		requests := 0
		for _, s := range order {
			before := len(clean.srv.Requests())
			if err := s(t, clean.repo("acme/crash")); err != nil {
				t.Fatal(err)
			}
			requests = len(clean.srv.Requests()) - before // of the last: step
		}
		return tagsAt(t, clean.repo("acme/crash")), requests
	}
	var wants []map[string]string
	var requests int
	if between == nil {
		want, n := cleanRun(setup, step)
		wants, requests = append(wants, want), n
	} else {
		want, n := cleanRun(setup, between, step)
		after, _ := cleanRun(setup, step, between)
		wants, requests = append(wants, want, after), n
	}

	converged, moved := 0, 0
	for k := 1; k <= requests; k++ {
		fr := &ocitest.Freezer{}
		f := newFixture(t, ocitest.Faults(fr.Fault))
		if err := setup(t, f.repo("acme/crash")); err != nil {
			t.Fatal(err)
		}
		fr.FreezeAfter(len(f.srv.Requests()) + k)
		_ = step(t, f.repo("acme/crash")) // killed mid-step: any outcome
		fr.Thaw()
		if between != nil {
			if err := between(t, f.repo("acme/crash")); err != nil {
				t.Fatalf("crash after request %d: %v", k, err)
			}
		}
		fr.FreezeAfter(len(f.srv.Requests()) + k)
		_ = step(t, f.repo("acme/crash")) // the re-run killed too
		fr.Thaw()
		err := step(t, f.repo("acme/crash"))
		m := f.srv.Moved()
		moved += len(m)
		switch got := tagsAt(t, f.repo("acme/crash")); {
		case len(m) != 0:
			t.Errorf("crash after request %d of %d: tags moved: %v", k, requests, m)
		case err != nil:
			t.Errorf("crash after request %d of %d: re-run failed: %v", k, requests, err)
		case !slices.ContainsFunc(wants, func(want map[string]string) bool { return equalMaps(got, want) }):
			t.Errorf("crash after request %d of %d: tags after re-run\n%v\nwant a clean run's\n%v", k, requests, got, wants)
		default:
			converged++
		}
	}
	t.Logf("reliability: %s killed after each request, then re-run | crash points tried %d | converged %d | tags moved %d", name, requests, converged, moved)
}

func TestBuildRCConvergesAfterACrashAtEveryRequest(t *testing.T) {
	t.Parallel()
	dirA, dirB, dirC := manifests(t, "a"), manifests(t, "b"), manifests(t, "c")
	build := func(dir string, n int) func(t *testing.T, reg Registry) error {
		return func(t *testing.T, reg Registry) error {
			_, err := BuildRC(context.Background(), reg, buildIn(dir, sha(n)))
			return err
		}
	}
	none := func(*testing.T, Registry) error { return nil }
	t.Run("first build", func(t *testing.T) {
		t.Parallel()
		crashAtEveryStep(t, "build-rc, first build,", none, build(dirA, 1), nil)
	})
	t.Run("second build", func(t *testing.T) {
		t.Parallel()
		crashAtEveryStep(t, "build-rc", build(dirA, 1), build(dirB, 2), nil)
	})
	t.Run("another commit built before the re-run", func(t *testing.T) {
		t.Parallel()
		crashAtEveryStep(t, "build-rc, another build before re-run,", build(dirA, 1), build(dirB, 2), build(dirC, 3))
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
		}, nil)
}
