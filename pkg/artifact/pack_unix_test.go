//go:build unix

package artifact_test

import (
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/ocipromote/ocipromote/pkg/artifact"
)

func TestPackRefusesWhatFluxCannotCarry(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		create    func(t *testing.T, root string)
		ignore    []string
		want      []string // entries when the problem is ignored
		wantErr   bool
		wantInMsg []string
	}{
		{
			name:      "named pipe",
			create:    mkfifo("run/app.fifo"),
			wantErr:   true,
			wantInMsg: []string{"run/app.fifo", "named pipe", `add "/run/app.fifo" to ignore`},
		},
		{
			name:   "ignored named pipe",
			create: mkfifo("run/app.fifo"),
			ignore: []string{"*.fifo"},
			want:   []string{"app.yaml", "run/"},
		},
		{
			// source-controller rejects the whole archive over such a name.
			name:      "backslash in a name",
			create:    func(t *testing.T, root string) { writeTree(t, root, map[string]file{`win\path.yaml`: regular("x")}) },
			wantErr:   true,
			wantInMsg: []string{`win\path.yaml`, "backslash", `add "/win\\\\path.yaml" to ignore`},
		},
		{
			name:   "ignored backslash name",
			create: func(t *testing.T, root string) { writeTree(t, root, map[string]file{`win\path.yaml`: regular("x")}) },
			ignore: []string{`win\\path.yaml`},
			want:   []string{"app.yaml"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			root := t.TempDir()
			writeTree(t, root, map[string]file{"app.yaml": regular("a")})
			tc.create(t, root)
			layer, err := artifact.Pack(root, tc.ignore)
			if !tc.wantErr {
				if err != nil {
					t.Fatalf("Pack: %v", err)
				}
				if got, want := names(readLayer(t, layer)), tc.want; !slices.Equal(got, want) {
					t.Errorf("entries = %q, want %q", got, want)
				}
				return
			}
			if !errors.Is(err, artifact.ErrUnsupportedFile) {
				t.Fatalf("Pack error = %v, want one wrapping ErrUnsupportedFile", err)
			}
			for _, f := range tc.wantInMsg {
				if !strings.Contains(err.Error(), f) {
					t.Errorf("Pack error = %q, want it to mention %q", err, f)
				}
			}
		})
	}
}

func TestPackReportsEveryProblemAtOnce(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	writeTree(t, root, map[string]file{"a/leak": symlink("/etc/passwd"), "z/leak": symlink("../../x")})
	mkfifo("m/pipe")(t, root)
	_, err := artifact.Pack(root, nil)
	if !errors.Is(err, artifact.ErrSymlinkEscapes) || !errors.Is(err, artifact.ErrUnsupportedFile) {
		t.Fatalf("Pack error = %v, want one wrapping both ErrSymlinkEscapes and ErrUnsupportedFile", err)
	}
	for _, name := range []string{"a/leak", "m/pipe", "z/leak"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("Pack error = %q, want it to name %s", err, name)
		}
	}
}

func mkfifo(rel string) func(t *testing.T, root string) {
	return func(t *testing.T, root string) {
		t.Helper()
		p := filepath.Join(root, filepath.FromSlash(rel))
		writeTree(t, root, map[string]file{filepath.ToSlash(filepath.Dir(rel)): dir()})
		if err := syscall.Mkfifo(p, 0o644); err != nil {
			t.Skipf("cannot create a named pipe here: %v", err)
		}
	}
}
