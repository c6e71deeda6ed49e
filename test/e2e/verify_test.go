package e2e

import (
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/ocipromote/ocipromote/pkg/sign/signtest"
)

// The binaries as make build leaves them: tag-validated and rollback find verify-bundles beside
// themselves (PATH here is the host's, without it), verify on Debian's distribution (no referrers
// API: the sha256-<hex> fallback tag), promote the signed candidate and refuse the unsigned one
// with nothing written.
func TestVerifyWithTheBuiltBinaries(t *testing.T) {
	t.Parallel()
	ss, err := signtest.New()
	if err != nil {
		t.Fatal(err)
	}
	trustedRoot := signtest.TrustedRootFile(t, ss)
	verify := []string{"--verify", "--trusted-root", trustedRoot, "--signer-repository", "acme/platform"}
	repo := newRepo(t)
	rcs := candidates(t, repo, "signed", "unsigned")
	r, err := name.NewRepository(repo)
	if err != nil {
		t.Fatal(err)
	}
	desc, err := remote.Head(r.Digest(rcs[0]["digest"]))
	if err != nil {
		t.Fatal(err)
	}
	id := signtest.GitHub("acme/platform", ".github/workflows/build-rc.yaml", commit(t, "signed"))
	s, err := ss.Sign(id, signtest.Statement(r.Name(), desc.Digest))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := signtest.Attach(r, v1.Descriptor{MediaType: desc.MediaType, Digest: desc.Digest, Size: desc.Size}, s.Bundle); err != nil {
		t.Fatal(err)
	}

	before := listTags(t, repo)
	refused := run(t, nil, "tag-validated", append([]string{"--repository", repo, "--digest", rcs[1]["digest"]}, verify...)...)
	if refused.code != 1 || !strings.Contains(refused.stderr, "is unsigned") {
		t.Errorf("tag-validated of the unsigned candidate:\n%s", refused)
	}
	wantSameTags(t, repo, before)

	out := tagValidated(t, repo, append([]string{"--digest", rcs[0]["digest"]}, verify...)...)
	wantDecision(t, out, "true", "promoted", "0.0.1")

	before = listTags(t, repo)
	refused = run(t, nil, "ocipromote", append([]string{"rollback", "--repository", repo, "--to", rcs[1]["version"], "--reason", "r", "--actor", "oncall", "--force"}, verify...)...)
	if refused.code != 1 || !strings.Contains(refused.stderr, "rollback refused (unsigned)") {
		t.Errorf("rollback to the unsigned candidate:\n%s", refused)
	}
	wantSameTags(t, repo, before)
}
