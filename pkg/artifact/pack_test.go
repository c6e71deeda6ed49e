package artifact_test

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the time zone test must not depend on the host's zoneinfo

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/ocipromote/ocipromote/pkg/artifact"
)

// file is one entry of a test tree: a regular file, a directory (mode has fs.ModeDir) or a
// symlink (link is set).
type file struct {
	content string
	mode    fs.FileMode
	link    string
}

func regular(content string) file { return file{content: content, mode: 0o644} }

func executable(content string) file { return file{content: content, mode: 0o755} }

func dir() file { return file{mode: fs.ModeDir | 0o755} }

func symlink(target string) file { return file{link: target} }

// writeTree creates tree under root. Entries are created in the map's (random) order, which
// also checks that creation order does not leak into the archive.
func writeTree(t *testing.T, root string, tree map[string]file) {
	t.Helper()
	for name, f := range tree {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		switch {
		case f.link != "":
			if err := os.Symlink(f.link, p); err != nil {
				t.Skipf("cannot create symlinks here: %v", err)
			}
		case f.mode.IsDir():
			if err := os.MkdirAll(p, f.mode.Perm()); err != nil {
				t.Fatal(err)
			}
		default:
			if err := os.WriteFile(p, []byte(f.content), f.mode.Perm()); err != nil {
				t.Fatal(err)
			}
			// WriteFile's mode is filtered by the umask; the test wants exactly this one.
			if err := os.Chmod(p, f.mode.Perm()); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// tarEntry is what the test reads back from a layer.
type tarEntry struct {
	name    string
	typ     byte
	mode    int64
	content string
}

func readLayer(t *testing.T, layer v1.Layer) []tarEntry {
	t.Helper()
	rc, err := layer.Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var entries []tarEntry
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Uid != 0 || h.Gid != 0 || h.Uname != "" || h.Gname != "" {
			t.Errorf("%s: owner %d:%d (%q:%q), want 0:0 with no names", h.Name, h.Uid, h.Gid, h.Uname, h.Gname)
		}
		if got, want := h.ModTime, time.Unix(0, 0); !got.Equal(want) {
			t.Errorf("%s: mtime %v, want %v", h.Name, got, want)
		}
		if !h.AccessTime.IsZero() || !h.ChangeTime.IsZero() {
			t.Errorf("%s: atime %v, ctime %v, want neither", h.Name, h.AccessTime, h.ChangeTime)
		}
		for k := range h.PAXRecords {
			if k != "path" {
				t.Errorf("%s: PAX record %q, want only path records", h.Name, k)
			}
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		entries = append(entries, tarEntry{name: h.Name, typ: h.Typeflag, mode: h.Mode, content: string(b)})
	}
	return entries
}

func names(entries []tarEntry) []string {
	var out []string
	for _, e := range entries {
		out = append(out, e.name)
	}
	return out
}

func pack(t *testing.T, dir string, ignore ...string) v1.Layer {
	t.Helper()
	layer, err := artifact.Pack(dir, ignore)
	if err != nil {
		t.Fatalf("Pack: %v", err)
	}
	return layer
}

func digests(t *testing.T, layer v1.Layer) (layerDigest, manifestDigest string) {
	t.Helper()
	img, err := artifact.Image(layer, fixedMetadata)
	if err != nil {
		t.Fatal(err)
	}
	ld, err := layer.Digest()
	if err != nil {
		t.Fatal(err)
	}
	md, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return ld.String(), md.String()
}

var fixedMetadata = artifact.Metadata{
	Source:   "https://github.com/acme/platform",
	Revision: "main@sha1:0123456789abcdef0123456789abcdef01234567",
	Created:  time.Date(2026, 8, 1, 10, 0, 0, 0, time.UTC),
	Version:  "0.4.2-rc.3",
}

// sampleTree is a small manifest repository with the shapes that matter: nesting, an executable,
// an empty directory, names that sort differently per directory and per path, and a long name.
var sampleTree = map[string]file{
	"README.md":                       regular("# platform\n"),
	"a.txt":                           regular("a\n"),
	"a/b.yaml":                        regular("kind: ConfigMap\n"),
	"apps/podinfo/kustomization.yaml": regular("resources:\n  - deployment.yaml\n"),
	"apps/podinfo/deployment.yaml":    regular("kind: Deployment\n"),
	"empty":                           dir(),
	"scripts/check.sh":                executable("#!/bin/sh\nexit 0\n"),
	"café/ünïcode.yaml":               regular("x: y\n"),
	strings.Repeat("long-directory-name/", 8) + "file.yaml": regular("long: name\n"),
}

func TestPackIsReproducible(t *testing.T) {
	t.Parallel()
	reference := t.TempDir()
	writeTree(t, reference, sampleTree)
	wantLayer, wantManifest := digests(t, pack(t, reference))

	tests := []struct {
		name   string
		mutate func(t *testing.T, root string)
	}{
		{
			name:   "re-run on the same directory",
			mutate: func(*testing.T, string) {},
		},
		{
			name: "different modification and access times",
			mutate: func(t *testing.T, root string) {
				old := time.Date(1999, 12, 31, 23, 59, 59, 123456789, time.FixedZone("x", -7*3600))
				walk(t, root, func(p string, _ fs.DirEntry) {
					if err := os.Chtimes(p, old, old); err != nil {
						t.Fatal(err)
					}
				})
			},
		},
		{
			name: "restrictive umask: 0600 files, 0700 directories and executables",
			mutate: func(t *testing.T, root string) {
				walk(t, root, func(p string, d fs.DirEntry) {
					mode := fs.FileMode(0o600)
					if d.IsDir() || strings.HasSuffix(p, ".sh") {
						mode = 0o700
					}
					if err := os.Chmod(p, mode); err != nil {
						t.Fatal(err)
					}
				})
			},
		},
		{
			name: "permissive umask: 0666 files, 0777 directories, group-only execute bit",
			mutate: func(t *testing.T, root string) {
				walk(t, root, func(p string, d fs.DirEntry) {
					mode := fs.FileMode(0o666)
					if d.IsDir() {
						mode = 0o777
					} else if strings.HasSuffix(p, ".sh") {
						mode = 0o654
					}
					if err := os.Chmod(p, mode); err != nil {
						t.Fatal(err)
					}
				})
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			root := t.TempDir()
			writeTree(t, root, sampleTree)
			tc.mutate(t, root)
			gotLayer, gotManifest := digests(t, pack(t, root))
			if gotLayer != wantLayer {
				t.Errorf("layer digest = %s, want %s", gotLayer, wantLayer)
			}
			if gotManifest != wantManifest {
				t.Errorf("manifest digest = %s, want %s", gotManifest, wantManifest)
			}
		})
	}
}

// walk calls fn for every entry below root, deepest first so that chmod 0700 on a directory
// cannot lock the walk out.
func walk(t *testing.T, root string, fn func(string, fs.DirEntry)) {
	t.Helper()
	type visit struct {
		p string
		d fs.DirEntry
	}
	var all []visit
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != root {
			all = append(all, visit{p, d})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := len(all) - 1; i >= 0; i-- {
		fn(all[i].p, all[i].d)
	}
}

func TestPackDigestChangesWithContent(t *testing.T) {
	t.Parallel()
	reference := t.TempDir()
	writeTree(t, reference, sampleTree)
	refLayer, _ := digests(t, pack(t, reference))

	tests := []struct {
		name string
		edit map[string]file
	}{
		{"one byte of content", map[string]file{"a.txt": regular("b\n")}},
		{"an execute bit", map[string]file{"a.txt": executable("a\n")}},
		{"a new empty directory", map[string]file{"new": dir()}},
		{"a new file", map[string]file{"apps/new.yaml": regular("")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			root := t.TempDir()
			writeTree(t, root, sampleTree)
			writeTree(t, root, tc.edit)
			if got, _ := digests(t, pack(t, root)); got == refLayer {
				t.Errorf("layer digest %s did not change", got)
			}
		})
	}
}

// The pin below is the artifact format. If this test fails, the bytes Pack or Image produce
// have changed, so every commit rebuilt by the pipeline would get a new digest and collide
// with the write-once tags it already has. Change the pin only for a deliberate format change,
// and say so in the release notes.
func TestPackGolden(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	writeTree(t, root, map[string]file{
		".sourceignore":                   regular("*.md\n"),
		"README.md":                       regular("# platform\n"),
		"apps/podinfo/kustomization.yaml": regular("resources:\n  - deployment.yaml\n"),
		"apps/podinfo/deployment.yaml":    regular("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: podinfo\n"),
		"scripts/check.sh":                executable("#!/bin/sh\nexit 0\n"),
		"empty":                           dir(),
	})
	layer := pack(t, root)
	img, err := artifact.Image(layer, fixedMetadata)
	if err != nil {
		t.Fatal(err)
	}
	diffID, err := layer.DiffID()
	if err != nil {
		t.Fatal(err)
	}
	layerDigest, manifestDigest := digests(t, layer)
	configDigest, err := img.ConfigName()
	if err != nil {
		t.Fatal(err)
	}

	for _, pin := range []struct{ what, got, want string }{
		{"diff id (uncompressed tar)", diffID.String(), "sha256:3a134646a832680c710072cc15d14fbbe83258c2a6be8fd1c4b50f499042e66e"},
		{"layer digest", layerDigest, "sha256:302ff1cf1211921e09d9a0ada5c235c781fcfca5728cac26b2664917e0b60786"},
		{"config digest", configDigest.String(), "sha256:51dc102036d030b85a78278648ffdf2d724cff4d768be3280d85ca508800acf2"},
		{"manifest digest", manifestDigest, "sha256:85bf29d4ed4093fee3cf49b29b7ceec5229ab0182ae2c8ff0f9b01d16afde2e9"},
	} {
		if pin.got != pin.want {
			t.Errorf("%s = %s, want %s", pin.what, pin.got, pin.want)
		}
	}
}

func TestPackContent(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	writeTree(t, root, map[string]file{
		".git/HEAD":             regular("ref: refs/heads/main\n"),
		".git/objects/ab/cdef":  regular("blob"),
		".gitignore":            regular("*.log\n"),
		".sourceignore":         regular("# cluster-side rules\n"),
		".hg/store/data":        regular("x"),
		".svn/entries":          regular("x"),
		"a.txt":                 regular("a\n"),
		"a/b.yaml":              regular("b: 1\n"),
		"a/c":                   dir(),
		"bin/run.sh":            executable("#!/bin/sh\n"),
		"bin/lib.sh":            file{content: "lib\n", mode: 0o744},
		"bin/private":           file{content: "p\n", mode: 0o600},
		"debug.log":             regular("ignored by pattern\n"),
		"tmp/cache.yaml":        regular("ignored with its directory\n"),
		"sub/.git":              regular("gitdir: ../.git/modules/sub\n"),
		"sub/deploy.yaml":       regular("kind: Deployment\n"),
		"sub/.bzr/branch":       regular("x"),
		"nested/repo/.git/HEAD": regular("x"),
		"nested/repo/app.yaml":  regular("app\n"),
	})
	layer := pack(t, root, "*.log", "tmp/")

	want := []tarEntry{
		{".gitignore", tar.TypeReg, 0o644, "*.log\n"},
		{".sourceignore", tar.TypeReg, 0o644, "# cluster-side rules\n"},
		{"a.txt", tar.TypeReg, 0o644, "a\n"},
		{"a/", tar.TypeDir, 0o755, ""},
		{"a/b.yaml", tar.TypeReg, 0o644, "b: 1\n"},
		{"a/c/", tar.TypeDir, 0o755, ""},
		{"bin/", tar.TypeDir, 0o755, ""},
		{"bin/lib.sh", tar.TypeReg, 0o755, "lib\n"},
		{"bin/private", tar.TypeReg, 0o644, "p\n"},
		{"bin/run.sh", tar.TypeReg, 0o755, "#!/bin/sh\n"},
		{"nested/", tar.TypeDir, 0o755, ""},
		{"nested/repo/", tar.TypeDir, 0o755, ""},
		{"nested/repo/app.yaml", tar.TypeReg, 0o644, "app\n"},
		{"sub/", tar.TypeDir, 0o755, ""},
		{"sub/deploy.yaml", tar.TypeReg, 0o644, "kind: Deployment\n"},
	}
	got := readLayer(t, layer)
	if !slices.Equal(got, want) {
		t.Errorf("layer entries:\n got %q\nwant %q", names(got), names(want))
		for i := range min(len(got), len(want)) {
			if got[i] != want[i] {
				t.Errorf("entry %d: got %+v, want %+v", i, got[i], want[i])
			}
		}
	}
}

func TestPackNamesSortBytewise(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	writeTree(t, root, sampleTree)
	got := names(readLayer(t, pack(t, root)))
	if !slices.IsSorted(got) {
		t.Errorf("entries are not sorted bytewise: %q", got)
	}
	for _, name := range []string{"café/ünïcode.yaml", strings.Repeat("long-directory-name/", 8) + "file.yaml"} {
		if !slices.Contains(got, name) {
			t.Errorf("entry %q missing from %q", name, got)
		}
	}
}

func TestPackGzipHeader(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	writeTree(t, root, sampleTree)
	rc, err := pack(t, root).Compressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	head := make([]byte, 10)
	if _, err := io.ReadFull(rc, head); err != nil {
		t.Fatal(err)
	}
	// RFC 1952: ID1 ID2 CM FLG MTIME(4) XFL OS. FLG 0 means no file name or comment, XFL 0 is
	// the default compression level (Flux's), OS 255 is "unknown".
	if got, want := head, []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255}; !bytes.Equal(got, want) {
		t.Errorf("gzip header = % x, want % x", got, want)
	}
}

func TestPackIgnore(t *testing.T) {
	t.Parallel()
	tree := map[string]file{
		"apps/app.yaml":         regular("a"),
		"apps/app.test.yaml":    regular("t"),
		"apps/keep.test.yaml":   regular("k"),
		"build/out.yaml":        regular("o"),
		"build/keep.yaml":       regular("k"),
		"docs":                  regular("a file named docs"),
		"site/docs/index.md":    regular("i"),
		"scratch/notes.txt":     regular("n"),
		"scratch/keep/this.txt": regular("k"),
	}
	tests := []struct {
		name   string
		ignore []string
		want   []string
	}{
		{
			name:   "nothing ignored",
			ignore: nil,
			want: []string{"apps/", "apps/app.test.yaml", "apps/app.yaml", "apps/keep.test.yaml", "build/", "build/keep.yaml", "build/out.yaml",
				"docs", "scratch/", "scratch/keep/", "scratch/keep/this.txt", "scratch/notes.txt", "site/", "site/docs/", "site/docs/index.md"},
		},
		{
			name:   "negation re-includes a file",
			ignore: []string{"*.test.yaml", "!keep.test.yaml"},
			want: []string{"apps/", "apps/app.yaml", "apps/keep.test.yaml", "build/", "build/keep.yaml", "build/out.yaml",
				"docs", "scratch/", "scratch/keep/", "scratch/keep/this.txt", "scratch/notes.txt", "site/", "site/docs/", "site/docs/index.md"},
		},
		{
			name:   "directory-only pattern leaves a file of that name",
			ignore: []string{"docs/"},
			want: []string{"apps/", "apps/app.test.yaml", "apps/app.yaml", "apps/keep.test.yaml", "build/", "build/keep.yaml", "build/out.yaml",
				"docs", "scratch/", "scratch/keep/", "scratch/keep/this.txt", "scratch/notes.txt", "site/"},
		},
		{
			name:   "nothing below an ignored directory comes back",
			ignore: []string{"build/", "!build/keep.yaml"},
			want: []string{"apps/", "apps/app.test.yaml", "apps/app.yaml", "apps/keep.test.yaml",
				"docs", "scratch/", "scratch/keep/", "scratch/keep/this.txt", "scratch/notes.txt", "site/", "site/docs/", "site/docs/index.md"},
		},
		{
			name:   "a whole ignore file in one element",
			ignore: []string{"# local only\n/scratch/*\n!/scratch/keep/\n\n/site\n"},
			want: []string{"apps/", "apps/app.test.yaml", "apps/app.yaml", "apps/keep.test.yaml", "build/", "build/keep.yaml", "build/out.yaml",
				"docs", "scratch/", "scratch/keep/", "scratch/keep/this.txt"},
		},
		{
			name:   "patterns cannot bring VCS metadata back",
			ignore: []string{"!.git", "!.git/**"},
			want: []string{"apps/", "apps/app.test.yaml", "apps/app.yaml", "apps/keep.test.yaml", "build/", "build/keep.yaml", "build/out.yaml",
				"docs", "scratch/", "scratch/keep/", "scratch/keep/this.txt", "scratch/notes.txt", "site/", "site/docs/", "site/docs/index.md"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			root := t.TempDir()
			writeTree(t, root, tree)
			writeTree(t, root, map[string]file{".git/config": regular("[core]\n")})
			if got, want := names(readLayer(t, pack(t, root, tc.ignore...))), tc.want; !slices.Equal(got, want) {
				t.Errorf("ignore %q:\n got %q\nwant %q", tc.ignore, got, want)
			}
		})
	}
}

func TestPackSymlinksInsideAreLeftOut(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		tree   map[string]file
		ignore []string
		want   []string
	}{
		{
			name: "link to a file",
			tree: map[string]file{"app.yaml": regular("a"), "link.yaml": symlink("app.yaml")},
			want: []string{"app.yaml"},
		},
		{
			name: "link to a directory is neither kept nor followed",
			tree: map[string]file{"apps/app.yaml": regular("a"), "current": symlink("apps")},
			want: []string{"apps/", "apps/app.yaml"},
		},
		{
			name: "link up into a sibling directory",
			tree: map[string]file{"base/app.yaml": regular("a"), "overlay/app.yaml": symlink("../base/app.yaml")},
			want: []string{"base/", "base/app.yaml", "overlay/"},
		},
		{
			name: "link through a linked directory",
			tree: map[string]file{"base/app.yaml": regular("a"), "b": symlink("base"), "x/y.yaml": symlink("../b/app.yaml")},
			want: []string{"base/", "base/app.yaml", "x/"},
		},
		{
			name: "dangling link",
			tree: map[string]file{"app.yaml": regular("a"), "gone.yaml": symlink("missing/gone.yaml")},
			want: []string{"app.yaml"},
		},
		{
			name: "loop",
			tree: map[string]file{"app.yaml": regular("a"), "l1": symlink("l2"), "l2": symlink("l1")},
			want: []string{"app.yaml"},
		},
		{
			name:   "ignored link that escapes is not checked",
			tree:   map[string]file{"app.yaml": regular("a"), "leak": symlink("../../etc/passwd")},
			ignore: []string{"/leak"},
			want:   []string{"app.yaml"},
		},
		{
			name:   "escaping link in an ignored directory is not checked",
			tree:   map[string]file{"app.yaml": regular("a"), "vendor/leak": symlink("/etc/passwd")},
			ignore: []string{"vendor/"},
			want:   []string{"app.yaml"},
		},
		{
			name: "escaping link in VCS metadata is not checked",
			tree: map[string]file{"app.yaml": regular("a"), ".git/hooks/leak": symlink("/etc/passwd")},
			want: []string{"app.yaml"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			root := t.TempDir()
			writeTree(t, root, tc.tree)
			if got, want := names(readLayer(t, pack(t, root, tc.ignore...))), tc.want; !slices.Equal(got, want) {
				t.Errorf("entries:\n got %q\nwant %q", got, want)
			}
		})
	}
}

func TestPackRefusesEscapingSymlinks(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		tree map[string]file
		// wantInMessage are fragments each error message must hold, one list per expected error.
		wantInMessage [][]string
	}{
		{
			name:          "relative link out",
			tree:          map[string]file{"deploy/secret.yaml": symlink("../../outside.yaml")},
			wantInMessage: [][]string{{"deploy/secret.yaml -> ../../outside.yaml", "outside", `add "/deploy/secret.yaml" to ignore`, "replace the link with a copy"}},
		},
		{
			name:          "absolute link out",
			tree:          map[string]file{"passwd": symlink("/etc/passwd")},
			wantInMessage: [][]string{{"passwd -> /etc/passwd", "absolute path"}},
		},
		{
			name:          "dangling link out",
			tree:          map[string]file{"x": symlink("../nowhere/x")},
			wantInMessage: [][]string{{"x -> ../nowhere/x"}},
		},
		{
			name: "chain of links",
			tree: map[string]file{"a": symlink("b"), "b": symlink("../outside.yaml")},
			wantInMessage: [][]string{
				{"a -> b", "via b -> ../outside.yaml"},
				{"b -> ../outside.yaml"},
			},
		},
		{
			name: "through a directory link that points up",
			tree: map[string]file{"up": symlink(".."), "x.yaml": symlink("up/outside.yaml")},
			wantInMessage: [][]string{
				{"up -> .."},
				{"x.yaml -> up/outside.yaml", "via up -> .."},
			},
		},
		{
			name:          "out and back in through the directory's own name",
			tree:          map[string]file{"app.yaml": regular("a"), "again.yaml": symlink("../root/app.yaml")},
			wantInMessage: [][]string{{"again.yaml -> ../root/app.yaml"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			root := filepath.Join(t.TempDir(), "root")
			writeTree(t, root, tc.tree)
			_, err := artifact.Pack(root, nil)
			if !errors.Is(err, artifact.ErrSymlinkEscapes) {
				t.Fatalf("Pack error = %v, want one wrapping ErrSymlinkEscapes", err)
			}
			msgs := strings.Split(err.Error(), "\n")
			if got, want := len(msgs), len(tc.wantInMessage); got != want {
				t.Fatalf("Pack reported %d problems, want %d:\n%s", got, want, err)
			}
			for i, fragments := range tc.wantInMessage {
				for _, f := range fragments {
					if !strings.Contains(msgs[i], f) {
						t.Errorf("problem %d = %q, want it to mention %q", i, msgs[i], f)
					}
				}
			}
		})
	}
}

func TestPackRefusesAbsoluteLinkEvenInside(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	writeTree(t, root, map[string]file{"app.yaml": regular("a")})
	writeTree(t, root, map[string]file{"self.yaml": symlink(filepath.Join(root, "app.yaml"))})
	// The same link would point elsewhere in any other checkout, so the verdict must not
	// depend on where this one happens to be.
	if _, err := artifact.Pack(root, nil); !errors.Is(err, artifact.ErrSymlinkEscapes) {
		t.Errorf("Pack error = %v, want one wrapping ErrSymlinkEscapes", err)
	}
}

func TestPackDirectoryErrors(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	writeTree(t, base, map[string]file{"file.yaml": regular("x")})
	tests := []struct {
		name     string
		dir      string
		wantIs   error
		wantText string
	}{
		{"missing", filepath.Join(base, "missing"), fs.ErrNotExist, "does not exist"},
		{"a file", filepath.Join(base, "file.yaml"), nil, "is not a directory"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := artifact.Pack(tc.dir, nil)
			if err == nil {
				t.Fatal("Pack succeeded, want an error")
			}
			if tc.wantIs != nil && !errors.Is(err, tc.wantIs) {
				t.Errorf("Pack error = %v, want one wrapping %v", err, tc.wantIs)
			}
			if !strings.Contains(err.Error(), tc.wantText) || !strings.Contains(err.Error(), tc.dir) {
				t.Errorf("Pack error = %q, want it to name %s and say %q", err, tc.dir, tc.wantText)
			}
		})
	}
}

func TestPackThroughLinkedRoot(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	writeTree(t, base, map[string]file{"real/app.yaml": regular("a"), "real/sub/x.yaml": symlink("../app.yaml")})
	link := filepath.Join(base, "link")
	if err := os.Symlink("real", link); err != nil {
		t.Skipf("cannot create symlinks here: %v", err)
	}
	viaLink, _ := digests(t, pack(t, link))
	direct, _ := digests(t, pack(t, filepath.Join(base, "real")))
	if viaLink != direct {
		t.Errorf("layer via linked root = %s, via real path = %s, want equal", viaLink, direct)
	}
}

// TestPackIgnoresTimeZone packs the same tree in processes with different TZ settings: the time
// zone is process state, so only a fresh process can change it without racing other tests.
func TestPackIgnoresTimeZone(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	writeTree(t, root, sampleTree)
	results := map[string]string{}
	for _, tz := range []string{"UTC", "America/Los_Angeles", "Asia/Kolkata", "Pacific/Chatham"} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperPackDigest$", "-test.count=1")
		cmd.Env = append(os.Environ(), helperDirEnv+"="+root, "TZ="+tz)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("helper with TZ=%s: %v\n%s", tz, err, out)
		}
		line := ""
		for _, l := range strings.Split(string(out), "\n") {
			if s, ok := strings.CutPrefix(l, "digests "); ok {
				line = s
			}
		}
		if line == "" {
			t.Fatalf("helper with TZ=%s printed no digests:\n%s", tz, out)
		}
		zone, digests, _ := strings.Cut(line, " ")
		if tz == "Asia/Kolkata" && zone != "+0530" {
			t.Errorf("helper with TZ=%s ran in zone %s; the test does not test anything", tz, zone)
		}
		results[tz] = digests
	}
	for tz, got := range results {
		if want := results["UTC"]; got != want {
			t.Errorf("TZ=%s: digests %s, want %s as under UTC", tz, got, want)
		}
	}
}

const helperDirEnv = "ARTIFACT_TEST_HELPER_DIR"

// TestHelperPackDigest is run by TestPackIgnoresTimeZone in a child process.
func TestHelperPackDigest(t *testing.T) {
	dir := os.Getenv(helperDirEnv)
	if dir == "" {
		t.Skip("only run as a helper process")
	}
	layer, err := artifact.Pack(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	// A commit time read in the local zone, as a caller would get it from git.
	m := fixedMetadata
	m.Created = fixedMetadata.Created.Local()
	img, err := artifact.Image(layer, m)
	if err != nil {
		t.Fatal(err)
	}
	ld, _ := layer.Digest()
	md, _ := img.Digest()
	os.Stdout.WriteString("digests " + time.Now().Format("-0700") + " " + ld.String() + " " + md.String() + "\n")
}

// An artifact with no file in it is a trap (issue 14): with prune: true, Flux deletes everything
// the Kustomization manages when it applies one. Pack refuses it, naming the directory and the
// patterns that emptied it, unless the caller allows it.
func TestPackRefusesEmpty(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		tree   map[string]file
		ignore []string
		say    []string
		// entries is what the artifact holds when it is allowed.
		entries []string
	}{
		{"empty directory", map[string]file{}, nil, []string{"no ignore patterns"}, nil},
		{"only directories", map[string]file{"a/b": dir(), "c": dir()}, nil, []string{"no ignore patterns"}, []string{"a/", "a/b/", "c/"}},
		{"only version control", map[string]file{".git/config": regular("x")}, nil, []string{".git"}, nil},
		{"everything ignored", map[string]file{"app.yaml": regular("x"), "secret.env": regular("y")},
			[]string{"*.yaml", "# a comment\n*.env"}, []string{`"*.yaml"`, `"*.env"`}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			root := t.TempDir()
			writeTree(t, root, tc.tree)
			_, err := artifact.Pack(root, tc.ignore)
			if !errors.Is(err, artifact.ErrEmpty) {
				t.Fatalf("Pack error = %v, want one wrapping ErrEmpty", err)
			}
			for _, want := range append([]string{"no files to package after ignore", root}, tc.say...) {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("Pack error = %q, want it to say %q", err, want)
				}
			}
			if strings.Contains(err.Error(), "comment") {
				t.Errorf("Pack error = %q lists a comment line as a pattern", err)
			}
			layer, err := artifact.PackWith(root, artifact.Options{Ignore: tc.ignore, AllowEmpty: true})
			if err != nil {
				t.Fatalf("PackWith(AllowEmpty) = %v", err)
			}
			if got := names(readLayer(t, layer)); !slices.Equal(got, tc.entries) {
				t.Errorf("allowed empty artifact holds %q, want %q", got, tc.entries)
			}
		})
	}
}
