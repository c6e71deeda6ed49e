package artifact

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

var (
	// ErrEmpty is returned (wrapped, naming the directory and the ignore patterns) when the
	// directory holds no regular file once ignore patterns are applied. Such an artifact is
	// almost always a mistake (a wrong path, an ignore pattern that matches everything), and it
	// is a dangerous one: a Kustomization with prune: true deletes everything it manages when
	// it applies an empty artifact.
	ErrEmpty = errors.New("no files to package after ignore")
	// ErrSymlinkEscapes is returned (wrapped, naming the link and its target) when a symlink
	// in the packed directory leads outside it.
	ErrSymlinkEscapes = errors.New("symlink points outside the packed directory")
	// ErrUnsupportedFile is returned (wrapped, naming the path) for an entry a Flux artifact
	// cannot carry: a socket, device or named pipe, or a name source-controller refuses.
	ErrUnsupportedFile = errors.New("entry cannot be carried in a Flux artifact")
)

// vcsMetadata are the version-control directories (and, for .git in worktrees and submodules,
// files) that describe history rather than content. They are left out at any depth and cannot
// be re-included by a pattern.
var vcsMetadata = map[string]bool{
	".git": true, ".hg": true, ".svn": true, ".bzr": true, ".jj": true, "_darcs": true,
}

const (
	// gzipOSUnknown is the gzip header's OS byte for "unknown": the host's OS must not leak
	// into the digest.
	gzipOSUnknown = 255
	// maxSymlinkHops bounds link chains, as the kernel's ELOOP does (Linux allows 40).
	maxSymlinkHops = 40
)

// epoch is the modification time of every entry; the zero time.Time would not fit a tar header.
var epoch = time.Unix(0, 0).UTC()

// Pack archives dir as a deterministic tar+gzip layer with media type ContentMediaType; see the
// package documentation for the exact format. ignore holds gitignore-syntax patterns relative to
// dir, one per element, though an element may also hold several lines of a .sourceignore file.
//
// All problems found in the tree (symlinks leading outside it, special files) are reported
// together, so that one run shows everything to fix.
//
// A directory with no regular file to package is refused with ErrEmpty; PackWith can allow it.
func Pack(dir string, ignore []string) (v1.Layer, error) {
	return PackWith(dir, Options{Ignore: ignore})
}

// Options tune PackWith.
type Options struct {
	// Ignore holds gitignore-syntax patterns, as for Pack.
	Ignore []string
	// AllowEmpty packs a directory that holds no regular file (after Ignore) instead of
	// refusing it with ErrEmpty.
	AllowEmpty bool
}

// PackWith is Pack with options.
func PackWith(dir string, o Options) (v1.Layer, error) {
	if err := CheckIgnore(o.Ignore); err != nil {
		return nil, err
	}
	root, err := packRoot(dir)
	if err != nil {
		return nil, err
	}
	w := &walker{root: root, ignore: compileIgnore(o.Ignore)}
	if err := w.walk(""); err != nil {
		return nil, err
	}
	if len(w.problems) > 0 {
		return nil, errors.Join(w.problems...)
	}
	if !o.AllowEmpty && !slices.ContainsFunc(w.entries, func(e entry) bool { return !e.dir }) {
		return nil, emptyError(dir, o.Ignore)
	}
	slices.SortFunc(w.entries, func(a, b entry) int { return strings.Compare(a.name, b.name) })
	layer, err := writeLayer(w.entries)
	if err != nil {
		return nil, err
	}
	return layer, nil
}

func emptyError(dir string, ignore []string) error {
	var patterns []string
	for _, element := range ignore {
		for _, line := range strings.Split(element, "\n") {
			if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
				patterns = append(patterns, strconv.Quote(line))
			}
		}
	}
	applied := "no ignore patterns"
	if len(patterns) > 0 {
		applied = "ignore patterns " + strings.Join(patterns, ", ")
	}
	return fmt.Errorf("artifact: %w: %q holds no regular file once .git and the %s are left out; "+
		"an empty artifact would make a Kustomization with prune: true delete everything it manages: "+
		"check the path and the ignore patterns", ErrEmpty, dir, applied)
}

// packRoot returns dir as an absolute path free of symlinks, so that "inside dir" has one
// meaning when symlinks are resolved against it.
func packRoot(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("artifact: resolving %q: %w", dir, err)
	}
	fi, err := os.Stat(abs)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "", fmt.Errorf("artifact: directory to pack %q does not exist; pass the directory that holds the manifests: %w", dir, err)
	case err != nil:
		return "", fmt.Errorf("artifact: directory to pack %q: %w", dir, err)
	case !fi.IsDir():
		return "", fmt.Errorf("artifact: %q is not a directory; pass the directory that holds the manifests", dir)
	}
	root, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return "", fmt.Errorf("artifact: resolving %q: %w", dir, err)
	}
	return root, nil
}

type entry struct {
	name string // in the archive: slash-separated, relative, directories end in "/"
	path string // on disk
	dir  bool
}

type walker struct {
	root     string
	ignore   *ignoreMatcher
	entries  []entry
	problems []error
}

// walk records the entries below the directory rel ("" is the root). I/O errors stop it;
// problems with the tree's content are collected and it carries on.
func (w *walker) walk(rel string) error {
	abs := filepath.Join(w.root, filepath.FromSlash(rel))
	des, err := os.ReadDir(abs)
	if err != nil {
		return fmt.Errorf("artifact: reading directory %s: %w", abs, err)
	}
	for _, de := range des {
		if vcsMetadata[de.Name()] {
			continue
		}
		r := path.Join(rel, de.Name())
		t := de.Type()
		// Git does not follow symlinks, so a link to a directory is matched as a file.
		if w.ignore.excludes(r, t.IsDir()) {
			continue
		}
		p := filepath.Join(w.root, filepath.FromSlash(r))
		if (t.IsDir() || t.IsRegular()) && strings.Contains(de.Name(), `\`) {
			// source-controller refuses the whole artifact when one name holds a backslash.
			w.problems = append(w.problems, fmt.Errorf("artifact: %w: %s has a backslash in its name, which source-controller refuses to extract; rename it or add %s to ignore", ErrUnsupportedFile, r, ignoreHint(r)))
			continue
		}
		switch {
		case t.IsDir():
			w.entries = append(w.entries, entry{name: r + "/", path: p, dir: true})
			if err := w.walk(r); err != nil {
				return err
			}
		case t.IsRegular():
			w.entries = append(w.entries, entry{name: r, path: p})
		case t&fs.ModeSymlink != 0:
			// Left out like Flux does; only a link that leads outside is an error.
			if err := w.checkSymlink(r, p); err != nil {
				w.problems = append(w.problems, err)
			}
		default:
			w.problems = append(w.problems, fmt.Errorf("artifact: %w: %s is a %s; delete it or add %s to ignore", ErrUnsupportedFile, r, describeType(t), ignoreHint(r)))
		}
	}
	return nil
}

func describeType(t fs.FileMode) string {
	switch {
	case t&fs.ModeSocket != 0:
		return "socket"
	case t&fs.ModeNamedPipe != 0:
		return "named pipe"
	case t&fs.ModeCharDevice != 0:
		return "character device"
	case t&fs.ModeDevice != 0:
		return "device"
	}
	return "special file (" + t.String() + ")"
}

// ignoreHint is the anchored pattern that ignores exactly rel, quoted for a message.
func ignoreHint(rel string) string {
	var b strings.Builder
	b.WriteString("/")
	for _, r := range rel {
		if strings.ContainsRune(`\*?[`, r) {
			b.WriteRune('\\')
		}
		b.WriteRune(r)
	}
	return fmt.Sprintf("%q", b.String())
}

func (w *walker) checkSymlink(rel, p string) error {
	target, err := os.Readlink(p)
	if err != nil {
		return fmt.Errorf("artifact: reading symlink %s: %w", rel, err)
	}
	out, err := w.escape(rel)
	if err != nil {
		return fmt.Errorf("artifact: resolving symlink %s -> %s: %w", rel, target, err)
	}
	if out == nil {
		return nil
	}
	var detail string
	if out.via != "" {
		detail = " (via " + out.via + ")"
	}
	if out.absolute {
		detail += fmt.Sprintf(" leads to the absolute path %s, which depends on the machine that builds the artifact", out.at)
	} else {
		detail += fmt.Sprintf(" resolves to %s, outside %s", out.at, w.root)
	}
	return fmt.Errorf("artifact: %w: %s -> %s%s; replace the link with a copy of its target, or add %s to ignore",
		ErrSymlinkEscapes, rel, target, detail, ignoreHint(rel))
}

// exit is where resolving a symlink left the packed directory.
type exit struct {
	at       string // the path outside
	via      string // "link -> target" of a later link in the chain that led out, if any
	absolute bool   // a link in the chain has an absolute target
}

// escape follows the symlink at rel component by component, as the kernel would, and reports
// where the resolution first leaves the packed directory. Every step must stay inside, not only
// the end: "../<dir name>/x" would depend on the name of the checkout directory, and an
// absolute target on the machine, and the verdict has to be the same everywhere. A dangling
// link is resolved lexically past the missing part; a loop that stays inside is not an escape.
func (w *walker) escape(rel string) (*exit, error) {
	resolved := filepath.Join(w.root, filepath.FromSlash(path.Dir(rel)))
	pending := []string{path.Base(rel)}
	first := true
	via := ""
	for hops := 0; len(pending) > 0; {
		c := pending[0]
		pending = pending[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			resolved = filepath.Dir(resolved)
			if !within(w.root, resolved) {
				return &exit{at: filepath.Join(append([]string{resolved}, pending...)...), via: via}, nil
			}
			continue
		}
		next := filepath.Join(resolved, c)
		fi, err := os.Lstat(next)
		if err != nil && !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) {
			return nil, err
		}
		if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
			resolved = next
			continue
		}
		if hops++; hops > maxSymlinkHops {
			return nil, nil
		}
		target, err := os.Readlink(next)
		if err != nil {
			return nil, err
		}
		if !first {
			linkRel, _ := filepath.Rel(w.root, next)
			via = filepath.ToSlash(linkRel) + " -> " + target
		}
		first = false
		if filepath.IsAbs(target) {
			return &exit{at: target, via: via, absolute: true}, nil
		}
		pending = append(strings.Split(filepath.ToSlash(target), "/"), pending...)
	}
	return nil, nil
}

func within(root, p string) bool {
	rel, err := filepath.Rel(root, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

func writeLayer(entries []entry) (*packedLayer, error) {
	// Compression is most of the work: it runs on its own goroutine, fed 1 MiB chunks of the tar
	// stream, while this one reads the files, writes the tar stream and hashes it. The bytes are
	// the same as compressing in line; only the two halves overlap.
	chunks := make(chan []byte, 4)
	type compressed struct {
		layer  []byte
		digest []byte
		err    error
	}
	done := make(chan compressed, 1)
	go func() {
		var out bytes.Buffer
		digest := sha256.New()
		zw, err := gzip.NewWriterLevel(io.MultiWriter(&out, digest), gzip.DefaultCompression)
		if err == nil {
			// Name and ModTime stay empty so that neither the file name nor the build time is
			// recorded.
			zw.Header = gzip.Header{OS: gzipOSUnknown}
		}
		for c := range chunks {
			if err == nil {
				_, err = zw.Write(c)
			}
		}
		if err == nil {
			err = zw.Close()
		}
		done <- compressed{out.Bytes(), digest.Sum(nil), err}
	}()
	buf := bufio.NewWriterSize(chunkWriter(chunks), 1<<20)
	diffID := sha256.New()
	tw := tar.NewWriter(io.MultiWriter(buf, diffID))
	var err error
	for _, e := range entries {
		if err = writeEntry(tw, e); err != nil {
			break
		}
	}
	if err == nil {
		if err = tw.Close(); err != nil {
			err = fmt.Errorf("artifact: finishing the tar stream: %w", err)
		}
	}
	if err == nil {
		err = buf.Flush()
	}
	close(chunks)
	c := <-done
	if err != nil {
		return nil, err
	}
	if c.err != nil {
		return nil, fmt.Errorf("artifact: compressing the layer: %w", c.err)
	}
	return &packedLayer{
		compressed: c.layer,
		digest:     v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(c.digest)},
		diffID:     v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(diffID.Sum(nil))},
	}, nil
}

// chunkWriter hands each write, copied, to the compressing goroutine.
type chunkWriter chan<- []byte

func (w chunkWriter) Write(p []byte) (int, error) {
	w <- bytes.Clone(p)
	return len(p), nil
}

func writeEntry(tw *tar.Writer, e entry) error {
	// The format is chosen explicitly: left unset, archive/tar picks one per header.
	hdr := &tar.Header{Name: e.name, ModTime: epoch, Format: tar.FormatPAX}
	if e.dir {
		hdr.Typeflag = tar.TypeDir
		hdr.Mode = 0o755
		if err := tw.WriteHeader(hdr); err != nil {
			return fmt.Errorf("artifact: writing %s: %w", e.name, err)
		}
		return nil
	}
	f, err := os.Open(e.path)
	if err != nil {
		return fmt.Errorf("artifact: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("artifact: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("artifact: %s changed while it was being packed; pack a tree nothing else writes to", e.name)
	}
	hdr.Typeflag = tar.TypeReg
	hdr.Size = fi.Size()
	hdr.Mode = 0o644
	if fi.Mode()&0o111 != 0 {
		hdr.Mode = 0o755
	}
	if err := tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("artifact: writing %s: %w", e.name, err)
	}
	n, err := io.Copy(tw, f)
	if err != nil && !errors.Is(err, tar.ErrWriteTooLong) {
		return fmt.Errorf("artifact: writing %s: %w", e.name, err)
	}
	if err != nil || n != hdr.Size {
		return fmt.Errorf("artifact: %s changed while it was being packed; pack a tree nothing else writes to", e.name)
	}
	return nil
}

// packedLayer holds the compressed layer in memory with its digests, so that wrapping it in an
// image and pushing it never re-reads the directory or hashes it again. Directories Flux
// deploys from hold manifests, small enough for this.
type packedLayer struct {
	compressed []byte
	digest     v1.Hash
	diffID     v1.Hash
}

var _ v1.Layer = (*packedLayer)(nil)

func (l *packedLayer) Digest() (v1.Hash, error) { return l.digest, nil }

func (l *packedLayer) DiffID() (v1.Hash, error) { return l.diffID, nil }

func (l *packedLayer) Compressed() (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(l.compressed)), nil
}

func (l *packedLayer) Uncompressed() (io.ReadCloser, error) {
	return gzip.NewReader(bytes.NewReader(l.compressed))
}

func (l *packedLayer) Size() (int64, error) { return int64(len(l.compressed)), nil }

func (l *packedLayer) MediaType() (types.MediaType, error) { return ContentMediaType, nil }
