package hunt

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"strings"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// maxEntry bounds one archive member (or a gzip-compressed file), written
// out to a temporary file to be read; a member larger than that is
// reported, not read. A var so that tests can lower it.
var maxEntry int64 = 1 << 30

// errTooLarge is why a member larger than maxEntry was not read;
// errTotalTooLarge why one was not read because the archive's members read
// before it already add up to maxEntry: the members of an archive are kept
// on disk together (their streams are merged by time), so the bound is on
// their sum too.
var (
	errTooLarge      = errors.New("member larger than the bound")
	errTotalTooLarge = errors.New("members of the archive larger in total than the bound")
)

// Damage to an archive (a gzip stream that ends early, a member over
// maxEntry, a corrupt member) is reported as a Record with Err, not as an
// error from Run: the archive's other members and the lines before the
// damage are read, so the path is not "unreadable at all". Like a malformed
// line or a bad EVTX chunk, the record is passed to onError and counted in
// Stats.Errors (the summary's "unreadable records"), and the hunt goes on.

// openArchive reads a zip, tar or gzip file (already recognised as format),
// its members out to one temporary file, each in a section of its own (see
// archive.spill), and returns the streams of its members and the closer
// that removes the file.
func openArchive(format Format, path string, f *os.File, size int64, named bool, st *Stats) ([]iter.Seq[Record], []io.Closer, error) {
	a := &archive{st: st, left: maxEntry}
	var err error
	switch format {
	case FormatZip:
		err = a.openZip(path, f, size)
	case FormatTar:
		a.openTar(path, f)
	case FormatUTF16:
		a.member(path, utf16Text(f))
	default:
		err = a.openCompressed(format, path, f, named)
	}
	return a.streams, a.closers, err
}

// archive collects the streams of one archive's members, the temporary
// file they are read from, and what is left of the bound on their sum.
type archive struct {
	st      *Stats
	streams []iter.Seq[Record]
	closers []io.Closer
	left    int64
	// file holds every member, one after the other: one descriptor
	// however many members (a triage collection of 3,000 logs had lost
	// all those past the descriptor limit, one file each). end is where
	// the next member goes.
	file *tempFile
	end  int64
}

// openZip reads each member of a zip archive; members are named
// archive.zip/member.
func (a *archive) openZip(path string, r io.ReaderAt, size int64) error {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	for _, m := range zr.File {
		if m.FileInfo().IsDir() {
			continue
		}
		name := path + "/" + m.Name
		if err := fits(int64(min(m.UncompressedSize64, 1<<62)), a.left); err != nil {
			a.streams = append(a.streams, archiveError(name, err))
			continue
		}
		rc, err := m.Open()
		if err != nil {
			a.streams = append(a.streams, archiveError(name, err))
			continue
		}
		a.member(name, rc)
		rc.Close()
	}
	return nil
}

// openCompressed reads a compressed file (gzip, bzip2, xz or zstd): a tar
// archive inside is read member by member (archive.tar.gz/member), anything
// else as one file named after the compressed one.
func (a *archive) openCompressed(format Format, path string, r io.Reader, named bool) error {
	zr, err := decompress(format, r)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	defer zr.Close()
	br := bufio.NewReaderSize(zr, headSize)
	head, err := br.Peek(headSize) // when some came, the error comes again from the reads below
	switch format := Detect(head); {
	case format == FormatTar:
		a.openTar(path, br)
		return nil
	case format == FormatUnknown && err != nil && err != io.EOF:
		// Cut or damaged before its first bytes could be told (bzip2, xz
		// and zstd give nothing of a block until it is whole): said, not
		// skipped as an empty file would be.
		a.streams = append(a.streams, archiveError(path, err))
		return nil
	case format == FormatUnknown && !shortHead(head): // else the spilled text's longer head tells
		return unknown(path, head, named, a.st)
	}
	a.member(path, br)
	return nil
}

// decompress returns the decompressed stream of r, compressed in format.
func decompress(format Format, r io.Reader) (io.ReadCloser, error) {
	switch format {
	case FormatBzip2:
		return io.NopCloser(bzip2.NewReader(r)), nil
	case FormatXZ:
		xr, err := xz.NewReader(r)
		return io.NopCloser(xr), err
	case FormatZstd:
		// One goroutine, and a window no larger than zstd's own default
		// limit for decompression (128 MiB, --long=27): a crafted frame
		// asking for more is refused, not allocated.
		zr, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(128<<20))
		if err != nil {
			return nil, err
		}
		return zr.IOReadCloser(), nil
	}
	return gzip.NewReader(r)
}

// openTar reads each regular file of a tar stream; members are named
// archive.tar.gz/member. The stream may end early: the members and lines
// read before the cut are kept, and the cut is reported.
func (a *archive) openTar(path string, r io.Reader) {
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			a.streams = append(a.streams, trailer(path, r)...)
			return
		}
		if err != nil {
			a.streams = append(a.streams, archiveError(path, err))
			return
		}
		if h.Typeflag != tar.TypeReg {
			continue // folders, links, devices
		}
		name := path + "/" + strings.TrimPrefix(h.Name, "./")
		if err := fits(h.Size, a.left); err != nil {
			a.streams = append(a.streams, archiveError(name, err))
			continue
		}
		if !a.member(name, tr) {
			return // the stream cannot go on past a read error
		}
	}
}

// trailer reads what follows a tar's end-of-archive blocks (padding to a
// full record, then the gzip checksum; at most 1 MiB), so that a gzip stream
// cut there or a bad checksum is reported too, and returns that report.
func trailer(path string, r io.Reader) []iter.Seq[Record] {
	if _, err := io.CopyN(io.Discard, r, 1<<20); err != nil && err != io.EOF {
		return []iter.Seq[Record]{archiveError(path, err)}
	}
	return nil
}

// fits tells whether a member of size bytes may be read when left bytes of
// the archive's bound remain.
func fits(size, left int64) error {
	switch {
	case size > maxEntry:
		return errTooLarge
	case size > left:
		return errTotalTooLarge
	}
	return nil
}

// member writes member name out to the archive's temporary file and adds
// its records, and, when it could not be read whole, the record that says
// why. It reports whether r was read to its end.
func (a *archive) member(name string, r io.Reader) bool {
	start := a.end
	m, err := a.spill(r)
	if m != nil && (m.Size() > 0 || err == nil) {
		if s := a.read(name, m); s != nil {
			a.streams = append(a.streams, s)
		} else if a.file.Truncate(start) == nil { // not a log: its bytes are not kept
			a.end = start
		}
	}
	if err != nil {
		a.streams = append(a.streams, archiveError(name, err))
	}
	return err == nil
}

// spill appends r to the archive's temporary file, at most a.left bytes
// (more is an error, and nothing of the member is kept), and returns the
// section that holds it; when reading fails part way, the section keeps
// what was read up to the last full line (all of it for EVTX, whose reader
// stops at a cut chunk), and the error comes with it.
func (a *archive) spill(r io.Reader) (*io.SectionReader, error) {
	if a.file == nil {
		f, err := newTempFile()
		if err != nil {
			return nil, err
		}
		a.file = f
		a.closers = append(a.closers, f)
	}
	start := a.end
	if _, err := a.file.Seek(start, io.SeekStart); err != nil {
		return nil, err
	}
	n, err := io.Copy(a.file, io.LimitReader(r, a.left+1))
	if n > a.left {
		_ = a.file.Truncate(start)
		if a.left < maxEntry {
			return nil, errTotalTooLarge
		}
		return nil, errTooLarge
	}
	a.left -= n
	if err != nil {
		n, err = cutAtLastLine(a.file.File, start, n, err)
	}
	a.end = start + n
	return io.NewSectionReader(a.file, start, n), err
}

// read recognises a member like a file and returns its records, or nil when
// it is not a log hunt reads (archives in archives included), counting it
// in the stats either way.
func (a *archive) read(name string, m *io.SectionReader) iter.Seq[Record] {
	head, format := sniff(m.ReadAt)
	switch format {
	case FormatUnknown, FormatZip, FormatTar, FormatGzip, FormatBzip2, FormatXZ, FormatZstd:
		a.st.skip(name, head)
		return nil
	case FormatUTF16:
		text, err := a.spill(utf16Text(io.NewSectionReader(m, 0, m.Size())))
		if err != nil {
			return archiveError(name, err)
		}
		return a.read(name, text)
	default:
		a.st.Files++
		a.st.Formats[format]++
		return fromStart(format, name, m, m.Size())
	}
}

// tempFile is a spilled member; Close removes it (at once on Unix, where it
// was unlinked when created and lives until closed).
type tempFile struct {
	*os.File
	unlinked bool
}

func (t tempFile) Close() error {
	err := t.File.Close()
	if !t.unlinked {
		if rerr := os.Remove(t.Name()); err == nil {
			err = rerr
		}
	}
	return err
}

// newTempFile creates a temporary file, unlinked at once where the system
// allows (Unix: it lives until closed, and a crash leaves nothing behind).
func newTempFile() (*tempFile, error) {
	f, err := os.CreateTemp("", "webshellbeat-hunt-*")
	if err != nil {
		return nil, fmt.Errorf("temporary file for an archive member: %w", err)
	}
	return &tempFile{File: f, unlinked: os.Remove(f.Name()) == nil}, nil
}

// spill copies r to a temporary file of its own (standard input, a
// journal's export), at most *left bytes (more is an error, and nothing is
// kept), and takes what it wrote from *left. When reading fails part way,
// the file keeps what was read up to the last full line (all of it for
// EVTX), and the error is returned with it. The file is positioned at its
// start.
func spill(r io.Reader, left *int64) (*tempFile, int64, error) {
	t, err := newTempFile()
	if err != nil {
		return nil, 0, err
	}
	n, err := io.Copy(t, io.LimitReader(r, *left+1))
	if n > *left {
		t.Close()
		if *left < maxEntry {
			return nil, 0, errTotalTooLarge
		}
		return nil, 0, errTooLarge
	}
	*left -= n
	if err != nil {
		n, err = cutAtLastLine(t.File, 0, n, err)
	}
	if _, serr := t.Seek(0, io.SeekStart); serr != nil && err == nil {
		err = serr
	}
	return t, n, err
}

// cutAtLastLine truncates a member, the n bytes of f from start, cut by
// readErr after its last full line, unless it is EVTX, and returns its new
// size and readErr.
func cutAtLastLine(f *os.File, start, n int64, readErr error) (int64, error) {
	magic := make([]byte, 8)
	if m, _ := f.ReadAt(magic, start); m == 8 && bytes.Equal(magic, []byte("ElfFile\x00")) {
		return n, readErr
	}
	buf := make([]byte, 64<<10)
	end := n
	for end > 0 {
		from := max(end-int64(len(buf)), 0)
		chunk := buf[:end-from]
		if _, err := f.ReadAt(chunk, start+from); err != nil && err != io.EOF {
			return n, readErr
		}
		if i := bytes.LastIndexByte(chunk, '\n'); i >= 0 {
			end = from + int64(i) + 1
			break
		}
		end = from
	}
	if err := f.Truncate(start + end); err != nil {
		return n, readErr
	}
	return end, readErr
}

// archiveError is the one record that tells why (part of) an archive could
// not be read.
func archiveError(where string, err error) iter.Seq[Record] {
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
		err = fmt.Errorf("truncated (%w); the complete members and lines before the cut were read", err)
	case errors.Is(err, errTooLarge), errors.Is(err, errTotalTooLarge):
		err = fmt.Errorf("%w of %d bytes, not read", err, maxEntry)
	default:
		err = fmt.Errorf("damaged (%w); what came before was read", err)
	}
	return func(yield func(Record) bool) {
		yield(Record{Where: where, Err: fmt.Errorf("%s: %w", where, err)})
	}
}
