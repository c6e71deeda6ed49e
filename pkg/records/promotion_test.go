package records

import (
	"context"
	"errors"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/ocipromote/ocipromote/pkg/artifact"
	"github.com/ocipromote/ocipromote/pkg/oci"
	"github.com/ocipromote/ocipromote/pkg/pipeline"
	"github.com/ocipromote/ocipromote/pkg/ref"
)

// memRegistry maps tags to the commit whose artifact they point at (the digest is derived).
type memRegistry struct {
	tags map[string]string
	// noRevision leaves the revision annotation out.
	noRevision bool
	err        error
}

func (m memRegistry) Name() string { return "ghcr.io/acme/platform-manifests" }

func (m memRegistry) Tags(context.Context) ([]string, error) {
	if m.err != nil {
		return nil, m.err
	}
	var out []string
	for t := range m.tags {
		out = append(out, t)
	}
	return out, nil
}

func (m memRegistry) Resolve(_ context.Context, tag string) (string, error) {
	commit, ok := m.tags[tag]
	if !ok {
		return "", oci.ErrNotFound
	}
	return "sha256:" + strings.Repeat("0", 24) + commit, nil
}

func (m memRegistry) GetTag(ctx context.Context, tag string) (*oci.Manifest, error) {
	d, err := m.Resolve(ctx, tag)
	if err != nil {
		return nil, err
	}
	return m.Get(ctx, d)
}

func (m memRegistry) Get(_ context.Context, digest string) (*oci.Manifest, error) {
	meta := artifact.Metadata{Version: "0.0.1-rc.1"}
	if !m.noRevision {
		meta.Revision = ref.Origin{Ref: "main", Sha: strings.TrimPrefix(digest, "sha256:"+strings.Repeat("0", 24))}.String()
	}
	return &oci.Manifest{Digest: digest, Parsed: &v1.Manifest{Annotations: meta.Annotations()}}, nil
}

func TestPromotionFrom(t *testing.T) {
	t.Parallel()
	res := pipeline.PromoteResult{Reason: "promoted", Version: "0.2.0", Digest: digest(5), Sha: sha(5), RC: "0.2.0-rc.1"}
	tests := []struct {
		name       string
		reg        memRegistry
		res        pipeline.PromoteResult
		wantPrev   Previous
		wantFirst  bool
		wantLatest bool
		wantErr    string
	}{
		{name: "first stable version", reg: memRegistry{tags: map[string]string{"0.2.0": sha(5), "0.2.0-rc.1": sha(5)}}, res: res, wantFirst: true, wantLatest: true},
		{
			name: "previous is the highest stable below",
			reg:  memRegistry{tags: map[string]string{"0.1.0": sha(1), "0.1.1": sha(2), "v0.1.2": sha(3), "0.1.3-rc.1": sha(4), "0.2.0": sha(5)}},
			res:  res, wantPrev: Previous{Version: "v0.1.2", Sha: sha(3)}, wantLatest: true,
		},
		{
			name: "a hotfix below a newer line is not the latest",
			reg:  memRegistry{tags: map[string]string{"0.1.0": sha(1), "0.2.0": sha(5), "0.3.0": sha(6)}},
			res:  res, wantPrev: Previous{Version: "0.1.0", Sha: sha(1)}, wantLatest: false,
		},
		{
			name: "previous without a commit",
			reg:  memRegistry{tags: map[string]string{"0.1.0": sha(1), "0.2.0": sha(5)}, noRevision: true},
			res:  res, wantPrev: Previous{Version: "0.1.0"}, wantLatest: true, wantErr: "has no commit",
		},
		{name: "registry down", reg: memRegistry{err: errors.New("registry down")}, res: res, wantErr: "registry down"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, err := PromotionFrom(context.Background(), tc.reg, tc.res)
			if tc.wantErr == "" && err != nil {
				t.Fatal(err)
			}
			if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("error = %v, want it to contain %q", err, tc.wantErr)
			}
			if p.Previous != tc.wantPrev || p.First != tc.wantFirst || p.Latest != tc.wantLatest {
				t.Errorf("previous %+v first %v latest %v, want %+v %v %v", p.Previous, p.First, p.Latest, tc.wantPrev, tc.wantFirst, tc.wantLatest)
			}
			if p.Sha != res.Sha || p.Stable != res.Version || p.RC != res.RC || p.Digest != res.Digest || p.OCIRepository != tc.reg.Name() {
				t.Errorf("promotion = %+v does not carry the result %+v", p, res)
			}
		})
	}
}

// TestRegistryErrorRecordsNoRelease: when the previous version cannot be read, deployments are
// still recorded but no release claims to be the first.
func TestRegistryErrorRecordsNoRelease(t *testing.T) {
	t.Parallel()
	srv := fakeGitHub(t)
	history(srv)
	res := pipeline.PromoteResult{Reason: "promoted", Version: "0.0.2", Digest: digest(3), Sha: c3, RC: "0.0.2-rc.2"}
	rep := client(t, srv, all).AfterPromote(context.Background(), memRegistry{err: errors.New("registry down")}, res, validation)
	if len(srv.Releases()) != 0 {
		t.Errorf("releases = %+v, want none", srv.Releases())
	}
	if got := states(t, srv); got["live 0.0.2"] != "success" {
		t.Errorf("deployments = %v, want live 0.0.2 recorded", got)
	}
	if len(rep.Warnings) != 2 || !strings.Contains(rep.Warnings[0].Error(), "registry down") {
		t.Errorf("warnings = %v, want the registry error, then the records it held back", rep.Warnings)
	}
}

func TestAfterStepsRecordNothingOnDryRunOrHold(t *testing.T) {
	t.Parallel()
	srv := fakeGitHub(t)
	c := client(t, srv, all)
	ctx := context.Background()
	reg := memRegistry{tags: map[string]string{}}
	for _, rep := range []Report{
		c.AfterBuild(ctx, reg.Name(), sha(1), pipeline.BuildResult{Version: "0.0.1-rc.1", Digest: digest(1), DryRun: true}),
		c.AfterPromote(ctx, reg, pipeline.PromoteResult{Reason: "promoted", Version: "0.0.1", Digest: digest(1), Sha: sha(1), DryRun: true}, Validation{}),
		c.AfterPromote(ctx, reg, pipeline.PromoteResult{Reason: "held"}, Validation{}),
	} {
		if len(rep.Records)+len(rep.Warnings) != 0 {
			t.Errorf("report = %+v, want empty", rep)
		}
	}
	if r := srv.Requests(); len(r) != 0 {
		t.Errorf("requests = %v, want none", r)
	}
}

func TestValidationFrom(t *testing.T) {
	t.Parallel()
	v := ValidationFrom(" integration ", "Health check passed", "2026-08-01T12:00:00+02:00")
	if v.Cluster != "integration" || v.Message != "Health check passed" || !v.Time.Equal(day) || v.Time.Location().String() != "UTC" {
		t.Errorf("ValidationFrom = %+v", v)
	}
	if v := ValidationFrom("", "", "yesterday"); !v.Time.IsZero() {
		t.Errorf("an unparseable time gave %v, want it left out", v.Time)
	}
}

// The listing tag-validated decided from is enough: the records do not list the repository again.
func TestPromotionFromUsesTheStepsListing(t *testing.T) {
	t.Parallel()
	reg := listsNever{memRegistry{tags: map[string]string{"0.0.1": c1}}}
	res := pipeline.PromoteResult{Reason: "promoted", Version: "0.0.2", Digest: digest(3), Sha: c3, RC: "0.0.2-rc.2",
		Tags: []string{"0.0.1", "0.0.2-rc.2", "validated-" + c1[:7]}}
	p, err := PromotionFrom(context.Background(), reg, res)
	if err != nil {
		t.Fatal(err)
	}
	if p.Previous.Version != "0.0.1" || p.First || !p.Latest {
		t.Errorf("promotion = %+v, want 0.0.1 before it, and the latest", p)
	}
}

type listsNever struct{ memRegistry }

func (listsNever) Tags(context.Context) ([]string, error) {
	return nil, errors.New("listed again")
}
