package status

import (
	"context"
	"errors"
	"testing"

	"github.com/ocipromote/ocipromote/pkg/sign"
)

func TestSignatureShort(t *testing.T) {
	t.Parallel()
	main := sign.Signer{Identity: "https://github.com/acme/platform/.github/workflows/build-rc.yaml@refs/heads/main", Commit: "c1"}
	tests := []struct {
		name string
		s    *Signature
		want string
	}{
		{"not checked", nil, ""},
		{"signed", &Signature{Outcome: sign.Signed, Signer: &main}, "signed by acme/platform/.github/workflows/build-rc.yaml@refs/heads/main"},
		{"unsigned", &Signature{Outcome: sign.Unsigned}, "unsigned"},
		{"foreign signer", &Signature{Outcome: sign.UntrustedSigner, Others: []sign.Signer{{Identity: "https://github.com/evil/fork/.github/workflows/x.yml@refs/heads/main", Commit: "c2"}}}, "untrusted-signer: signed by evil/fork/.github/workflows/x.yml@refs/heads/main at c2"},
		{"forged bundle", &Signature{Outcome: sign.UntrustedSigner}, "untrusted-signer: no bundle verifies"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := tc.s.Short(); got != tc.want {
				t.Errorf("Short() = %q, want %q", got, tc.want)
			}
		})
	}
}

// CheckSignatures asks once for every artifact shown, with its digest and revision, and keeps the
// signers the policy does not trust apart from the one it does.
func TestCheckSignatures(t *testing.T) {
	t.Parallel()
	main := sign.Signer{Identity: "main"}
	wip := sign.Signer{Identity: "wip"}
	r := Report{Artifacts: []Artifact{{Digest: "sha256:a", Revision: "main@sha1:a"}, {Digest: "sha256:b"}}}
	var calls int
	err := r.CheckSignatures(context.Background(), func(_ context.Context, arts []sign.Artifact) ([]sign.Verdict, error) {
		calls++
		if len(arts) != 2 || arts[0] != (sign.Artifact{Digest: "sha256:a", Revision: "main@sha1:a"}) || arts[1].Digest != "sha256:b" {
			t.Errorf("asked for %+v", arts)
		}
		return []sign.Verdict{
			{Outcome: sign.Signed, Signer: &main, Findings: []sign.Finding{{Bundle: true, Signer: &wip}, {Bundle: true, Signer: &main}}},
			{Outcome: sign.Unsigned},
		}, nil
	})
	if err != nil || calls != 1 {
		t.Fatalf("CheckSignatures: %v after %d calls, want one call", err, calls)
	}
	if s := r.Artifacts[0].Signature; s.Signer == nil || s.Signer.Identity != "main" || len(s.Others) != 1 || s.Others[0].Identity != "wip" {
		t.Errorf("signed artifact: %+v", s)
	}
	if s := r.Artifacts[1].Signature; s.Outcome != sign.Unsigned {
		t.Errorf("unsigned artifact: %+v", s)
	}
	boom := errors.New("offline")
	if err := (&Report{Artifacts: r.Artifacts}).CheckSignatures(context.Background(), func(context.Context, []sign.Artifact) ([]sign.Verdict, error) { return nil, boom }); !errors.Is(err, boom) {
		t.Errorf("a failed check gave %v, want it returned", err)
	}
}
