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
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
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
	// Log, when set, is told what is left out that a user may not expect (symlinks) and, every
	// ProgressEvery (default 5 s) of a long pack, how far it got.
	Log           *slog.Logger
	ProgressEvery time.Duration
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
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	w := &walker{root: root, ignore: compileIgnore(o.Ignore)}
	if err := w.walk(""); err != nil {
		return nil, err
	}
	if len(w.problems) > 0 {
		return nil, errors.Join(w.problems...)
	}
	for _, l := range w.symlinks {
		// Flux's builder leaves symlinks out too, and source-controller skips them: say so, since
		// the cluster will not get what the link points at under the link's name.
		log.Info("symlink left out of the artifact, as Flux does; copy its target in if the cluster needs it", "path", l)
	}
	if !o.AllowEmpty && !slices.ContainsFunc(w.entries, func(e entry) bool { return !e.dir }) {
		return nil, emptyError(dir, o.Ignore)
	}
	slices.SortFunc(w.entries, func(a, b entry) int { return strings.Compare(a.name, b.name) })
	every := o.ProgressEvery
	if every <= 0 {
		every = 5 * time.Second
	}
	p := &progress{log: log, every: every, start: time.Now(), files: len(w.entries), bytes: w.bytes}
	p.last = p.start
	layer, err := writeLayer(w.entries, p, chunkSize(w.bytes, len(w.entries)))
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
	// symlinks are the links left out (inside the tree); bytes is the size of the files found.
	symlinks []string
	bytes    int64
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
			if fi, err := de.Info(); err == nil {
				w.bytes += fi.Size()
			}
		case t&fs.ModeSymlink != 0:
			// Left out like Flux does; only a link that leads outside is an error.
			if err := w.checkSymlink(r, p); err != nil {
				w.problems = append(w.problems, err)
			} else {
				w.symlinks = append(w.symlinks, r)
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

// progress logs how far a long pack got, at most once per every.
type progress struct {
	log              *slog.Logger
	every            time.Duration
	start, last      time.Time
	files, filesDone int
	bytes, bytesDone int64
}

// Write counts file content as it goes into the tar stream.
func (p *progress) Write(b []byte) (int, error) {
	p.bytesDone += int64(len(b))
	p.tick()
	return len(b), nil
}

func (p *progress) fileDone() {
	p.filesDone++
	p.tick()
}

func (p *progress) tick() {
	if now := time.Now(); now.Sub(p.last) >= p.every {
		p.last = now
		p.log.Info("packing", "files", fmt.Sprintf("%d/%d", p.filesDone, p.files),
			"MiB", fmt.Sprintf("%d/%d", p.bytesDone>>20, p.bytes>>20), "elapsed", now.Sub(p.start).Round(time.Second).String())
	}
}

// memoryLimit is how much of a compressed layer is held in memory; a larger one is spooled to
// a temporary file, so that packing takes the same memory whatever the size of the files.
const memoryLimit = 2 << 20

// writeLayer writes the layer of entries; chunk is the size of the pieces the tar stream is
// compressed in, which the bytes do not depend on.
func writeLayer(entries []entry, p *progress, chunk int) (*packedLayer, error) {
	// Compression is most of the work: it runs on its own goroutine, fed chunks of the tar
	// stream (1 MiB, or one chunk the size of a smaller tree's stream: chunkSize), while this
	// one reads the files, writes the tar stream and hashes it. The bytes are the same as
	// compressing in line; only the two halves overlap. At most a few chunks are in flight, and
	// the compressed output goes to a spool, so memory does not grow with the input.
	chunks := make(chan *[]byte, 4)
	type compressed struct {
		spool  *spool
		digest []byte
		err    error
	}
	done := make(chan compressed, 1)
	go func() {
		out := &spool{}
		digest := sha256.New()
		zw, err := gzip.NewWriterLevel(io.MultiWriter(out, digest), gzip.DefaultCompression)
		if err == nil {
			// Name and ModTime stay empty so that neither the file name nor the build time is
			// recorded.
			zw.Header = gzip.Header{OS: gzipOSUnknown}
		}
		for c := range chunks {
			if err == nil {
				_, err = zw.Write(*c)
			}
			chunkPool.Put(c)
		}
		if err == nil {
			err = zw.Close()
		}
		if err != nil {
			out.discard()
		}
		done <- compressed{out, digest.Sum(nil), err}
	}()
	buf := bufio.NewWriterSize(chunkWriter(chunks), chunk)
	diffID := sha256.New()
	tw := tar.NewWriter(io.MultiWriter(buf, diffID))
	// One buffer copies every file: io.Copy would make one per file (*os.File's WriteTo falls
	// back to it), garbage that made a collection in most builds of a small tree.
	copyBuf := make([]byte, 32<<10)
	var err error
	for _, e := range entries {
		if err = writeEntry(tw, e, p, copyBuf); err != nil {
			break
		}
		p.fileDone()
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
		c.spool.discard()
		return nil, err
	}
	if c.err != nil {
		return nil, fmt.Errorf("artifact: compressing the layer: %w", c.err)
	}
	if time.Since(p.start) >= p.every {
		p.log.Info("packed", "files", p.files, "MiB", p.bytes>>20, "compressed MiB", c.spool.size>>20, "elapsed", time.Since(p.start).Round(time.Second).String())
	}
	return &packedLayer{
		compressed: c.spool,
		digest:     v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(c.digest)},
		diffID:     v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(diffID.Sum(nil))},
	}, nil
}

// spool holds the compressed layer: in memory up to memoryLimit, then in a temporary file. The
// file is unlinked as soon as it is created (it lives as long as the open descriptor, which the
// runtime closes when the layer is garbage collected), so no run leaves one behind.
type spool struct {
	mem  []byte
	file *os.File
	size int64
	err  error
}

func (s *spool) Write(b []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	if s.file == nil && len(s.mem)+len(b) > memoryLimit {
		f, err := os.CreateTemp("", "ocipromote-layer-*")
		if err != nil {
			s.err = fmt.Errorf("spool the compressed layer to a temporary file (set TMPDIR to a writable directory): %w", err)
			return 0, s.err
		}
		_ = os.Remove(f.Name()) // where unlinking an open file fails, the OS cleans its temp dir
		if _, err := f.Write(s.mem); err != nil {
			f.Close()
			s.err = err
			return 0, err
		}
		s.file, s.mem = f, nil
	}
	if s.file != nil {
		if _, err := s.file.Write(b); err != nil {
			s.err = fmt.Errorf("spool the compressed layer to %s: %w", s.file.Name(), err)
			return 0, s.err
		}
	} else {
		s.mem = append(s.mem, b...)
	}
	s.size += int64(len(b))
	return len(b), nil
}

func (s *spool) discard() {
	if s.file != nil {
		s.file.Close()
	}
}

// reader reads the whole spool from the start; readers are independent.
func (s *spool) reader() io.Reader {
	if s.file != nil {
		return io.NewSectionReader(s.file, 0, s.size)
	}
	return bytes.NewReader(s.mem)
}

// chunkWriter hands each write, copied into a pooled buffer, to the compressing goroutine.
type chunkWriter chan<- *[]byte

// chunkPool recycles the chunks, so that a long stream makes no garbage.
var chunkPool = sync.Pool{New: func() any { return new([]byte) }}

func (w chunkWriter) Write(p []byte) (int, error) {
	c := chunkPool.Get().(*[]byte)
	*c = append((*c)[:0], p...)
	w <- c
	return len(p), nil
}

// chunkSize is the size of the chunks the tar stream is cut into for compression: 1 MiB, or
// less for a tree whose whole stream is smaller (its files, and at most 2 KiB of header and
// padding per entry), so that a small tree is one chunk without a 1 MiB buffer.
func chunkSize(fileBytes int64, entries int) int {
	const most, least = 1 << 20, 64 << 10
	return int(min(most, max(least, fileBytes+2048*int64(entries)+1024)))
}

func writeEntry(tw *tar.Writer, e entry, p *progress, copyBuf []byte) error {
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
	// The file is wrapped so that io.CopyBuffer uses copyBuf rather than its WriteTo.
	n, err := io.CopyBuffer(io.MultiWriter(tw, p), struct{ io.Reader }{f}, copyBuf)
	if err != nil && !errors.Is(err, tar.ErrWriteTooLong) {
		return fmt.Errorf("artifact: writing %s: %w", e.name, err)
	}
	if err != nil || n != hdr.Size {
		return fmt.Errorf("artifact: %s changed while it was being packed; pack a tree nothing else writes to", e.name)
	}
	return nil
}

// packedLayer holds the compressed layer (see spool) with its digests, so that wrapping it in an
// image and pushing it never re-reads the directory or hashes it again.
type packedLayer struct {
	compressed *spool
	digest     v1.Hash
	diffID     v1.Hash
}

var _ v1.Layer = (*packedLayer)(nil)

func (l *packedLayer) Digest() (v1.Hash, error) { return l.digest, nil }

func (l *packedLayer) DiffID() (v1.Hash, error) { return l.diffID, nil }

func (l *packedLayer) Compressed() (io.ReadCloser, error) {
	return io.NopCloser(l.compressed.reader()), nil
}

func (l *packedLayer) Uncompressed() (io.ReadCloser, error) {
	return gzip.NewReader(l.compressed.reader())
}

func (l *packedLayer) Size() (int64, error) { return l.compressed.size, nil }

func (l *packedLayer) MediaType() (types.MediaType, error) { return ContentMediaType, nil }
