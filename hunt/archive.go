package hunt

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"strings"
)

// maxEntry bounds one archive member (or a gzip-compressed file) read into
// memory; a member larger than that is reported, not read. A var so that
// tests can lower it.
var maxEntry int64 = 1 << 30

// errTooLarge is why a member larger than maxEntry was not read;
// errTotalTooLarge why one was not read because the archive's members read
// before it already add up to maxEntry: the members of an archive are held
// in memory together (their streams are merged by time), so the bound is
// on their sum too.
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
// each member into memory, and returns the streams of its members.
func openArchive(format Format, path string, f *os.File, size int64, named bool, st *Stats) ([]iter.Seq[Record], error) {
	switch format {
	case FormatZip:
		return openZip(path, f, size, st)
	case FormatTar:
		return openTar(path, f, st), nil
	}
	return openGzip(path, f, named, st)
}

// openZip reads each member of a zip archive; members are named
// archive.zip/member.
func openZip(path string, r io.ReaderAt, size int64, st *Stats) ([]iter.Seq[Record], error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var streams []iter.Seq[Record]
	left := maxEntry
	for _, m := range zr.File {
		if m.FileInfo().IsDir() {
			continue
		}
		name := path + "/" + m.Name
		if err := fits(int64(min(m.UncompressedSize64, 1<<62)), left); err != nil {
			streams = append(streams, archiveError(name, err))
			continue
		}
		rc, err := m.Open()
		if err != nil {
			streams = append(streams, archiveError(name, err))
			continue
		}
		data, err := readMember(rc, &left)
		rc.Close()
		streams = appendMember(streams, name, data, err, st)
	}
	return streams, nil
}

// openGzip reads a gzip-compressed file: a tar archive inside is read
// member by member (archive.tar.gz/member), anything else as one file named
// after the .gz.
func openGzip(path string, r io.Reader, named bool, st *Stats) ([]iter.Seq[Record], error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	br := bufio.NewReaderSize(zr, 8192)
	head, _ := br.Peek(8192) // a short stream's error comes again from the reads below
	switch format := Detect(head); format {
	case FormatTar:
		return openTar(path, br, st), nil
	case FormatUnknown:
		return nil, unknown(path, head, named, st)
	}
	left := maxEntry
	data, err := readMember(br, &left)
	return appendMember(nil, path, data, err, st), nil
}

// openTar reads each regular file of a tar stream; members are named
// archive.tar.gz/member. The stream may end early: the members and lines
// read before the cut are kept, and the cut is reported.
func openTar(path string, r io.Reader, st *Stats) []iter.Seq[Record] {
	tr := tar.NewReader(r)
	var streams []iter.Seq[Record]
	left := maxEntry
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return append(streams, trailer(path, r)...)
		}
		if err != nil {
			return append(streams, archiveError(path, err))
		}
		if h.Typeflag != tar.TypeReg {
			continue // folders, links, devices
		}
		name := path + "/" + strings.TrimPrefix(h.Name, "./")
		if err := fits(h.Size, left); err != nil {
			streams = append(streams, archiveError(name, err))
			continue
		}
		data, err := readMember(tr, &left)
		streams = appendMember(streams, name, data, err, st)
		if err != nil {
			return streams // the stream cannot go on past a read error
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

// readMember reads r into memory, at most *left bytes (the archive's bound
// less what its members read so far; more is an error, and nothing of the
// member is kept), and takes what it read from *left. When reading fails
// part way, it returns what was read up to the last full line (all of it
// for EVTX, whose reader stops at a cut chunk) with the error.
func readMember(r io.Reader, left *int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, *left+1))
	if int64(len(data)) > *left {
		if *left < maxEntry {
			return nil, errTotalTooLarge
		}
		return nil, errTooLarge
	}
	*left -= int64(len(data))
	if err != nil && !bytes.HasPrefix(data, []byte("ElfFile\x00")) {
		data = data[:bytes.LastIndexByte(data, '\n')+1]
	}
	return data, err
}

// appendMember appends to streams the records of member name (what
// readMember read of it) and, when err, the record that reports why it was
// not read whole.
func appendMember(streams []iter.Seq[Record], name string, data []byte, err error, st *Stats) []iter.Seq[Record] {
	if len(data) > 0 || err == nil {
		if s := member(name, data, st); s != nil {
			streams = append(streams, s)
		}
	}
	if err != nil {
		streams = append(streams, archiveError(name, err))
	}
	return streams
}

// member recognises an archive member like a file and returns its records,
// or nil when it is not a log hunt reads (archives in archives included),
// counting it in st either way.
func member(name string, data []byte, st *Stats) iter.Seq[Record] {
	switch format := Detect(data[:min(len(data), 8192)]); format {
	case FormatUnknown, FormatZip, FormatGzip, FormatTar:
		st.Skipped = append(st.Skipped, name)
		return nil
	default:
		st.Files++
		st.Formats[format]++
		return read(format, name, bytes.NewReader(data))
	}
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
