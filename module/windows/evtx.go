package windows

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"sort"
	"time"

	"github.com/Velocidex/ordereddict"
	"www.velocidex.com/golang/evtx"
)

const (
	evtxChunkSize       = 0x10000
	evtxChunkHeaderSize = 0x200
	evtxRecordHeader    = 24
	maxBinXMLDepth      = 128
)

// ReadEVTX reads every chunk and record of an EVTX file with the Velocidex
// parser and calls fn for each record whose record number (the record
// header's identifier, kept in Record.EVTXRecordNumber; it equals RecordID
// except in exported logs, which Windows renumbers) is greater than after,
// in record-number order (chunks are sorted, so a wrapped circular log is
// read oldest first).
//
// Damage does not stop the reader: a chunk with a bad magic, a checksum
// mismatch, a truncated chunk, a record whose header, size or binary XML
// is inconsistent, or a parser panic is passed to fn as a *ParseError with
// the file offset, and reading continues with the next record or chunk.
// (A checksum mismatch is reported and the chunk is still read.) fn's
// rec is nil when err is set. ReadEVTX returns the first error fn
// returns, or an error when r is not an EVTX file or cannot be read.
func ReadEVTX(r io.ReadSeeker, after uint64, fn func(rec *Record, err error) error) error {
	size, err := r.Seek(0, io.SeekEnd)
	if err != nil {
		return fmt.Errorf("windows evtx: %w", err)
	}
	hdr := make([]byte, 0x80)
	n, err := readAtMost(r, hdr, 0)
	if err != nil {
		return perr("evtx", 0, 0, err, "cannot read the file header")
	}
	if n >= 8 && string(hdr[:8]) != "ElfFile\x00" {
		return perr("evtx", 0, 0, nil, "not an EVTX file: bad magic %q", hdr[:8])
	}
	if n < len(hdr) {
		return perr("evtx", int64(n), 0, nil, "file header truncated: %d of %d bytes", n, len(hdr))
	}
	if major := binary.LittleEndian.Uint16(hdr[0x26:]); major != 3 {
		return perr("evtx", 0x26, 0, nil, "unsupported EVTX major version %d", major)
	}
	if sum := crc32.ChecksumIEEE(hdr[:0x78]); sum != binary.LittleEndian.Uint32(hdr[0x7c:]) {
		if err := fn(nil, perr("evtx", 0x7c, 0, nil, "file header checksum mismatch (file not closed cleanly?); reading the chunks anyway")); err != nil {
			return err
		}
	}
	nchunks := int64(binary.LittleEndian.Uint16(hdr[0x2a:]))
	first := int64(binary.LittleEndian.Uint16(hdr[0x28:]))
	if first < 0x80 || first > evtxChunkSize {
		first = 0x1000
	}

	// Collect the chunks and their first record IDs.
	type chunkRef struct {
		off   int64
		first uint64
		last  uint64
	}
	var chunks []chunkRef
	ch := make([]byte, evtxChunkHeaderSize+evtxRecordHeader)
	for off := first; off < size; off += evtxChunkSize {
		n, err := r.Seek(off, io.SeekStart)
		if err != nil || n != off {
			return perr("evtx", off, 0, err, "cannot seek to chunk")
		}
		k, err := io.ReadFull(r, ch)
		if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
			return perr("evtx", off, 0, err, "cannot read chunk header")
		}
		if k < 8 || string(ch[:8]) != "ElfChnk\x00" {
			// Space past the header's chunk count is slack, not damage.
			if idx := (off - first) / evtxChunkSize; idx < nchunks && !allZero(ch[:k]) {
				if err := fn(nil, perr("evtx", off, 0, nil, "chunk %d: bad chunk magic, skipping the chunk", (off-first)/evtxChunkSize)); err != nil {
					return err
				}
			}
			continue
		}
		c := chunkRef{off: off,
			first: binary.LittleEndian.Uint64(ch[0x18:]),
			last:  binary.LittleEndian.Uint64(ch[0x20:])}
		if c.last == ^uint64(0) {
			continue // never written
		}
		// Sort by the first record actually stored when it is readable.
		if k >= len(ch) && string(ch[0x200:0x204]) == "**\x00\x00" {
			c.first = binary.LittleEndian.Uint64(ch[0x208:])
		}
		chunks = append(chunks, c)
	}
	sort.SliceStable(chunks, func(i, j int) bool { return chunks[i].first < chunks[j].first })

	buf := make([]byte, evtxChunkSize)
	for _, c := range chunks {
		if c.last != 0 && c.last <= after && c.first <= c.last {
			// Whole chunk already read; only trust this when the header
			// checksum holds.
			if err := readAt(r, buf[:evtxChunkHeaderSize], c.off); err == nil && chunkHeaderOK(buf) {
				continue
			}
		}
		clear(buf)
		n, err := readAtMost(r, buf, c.off)
		if err != nil {
			return perr("evtx", c.off, 0, err, "cannot read chunk")
		}
		if n < evtxChunkSize {
			if err := fn(nil, perr("evtx", c.off+int64(n), 0, nil, "chunk at offset %d truncated: %d of %d bytes", c.off, n, evtxChunkSize)); err != nil {
				return err
			}
		}
		if err := readChunk(buf, c.off, after, fn); err != nil {
			return err
		}
	}
	return nil
}

func chunkHeaderOK(b []byte) bool {
	sum := crc32.ChecksumIEEE(b[:0x78])
	sum = crc32.Update(sum, crc32.IEEETable, b[0x80:evtxChunkHeaderSize])
	return sum == binary.LittleEndian.Uint32(b[0x7c:])
}

type recRef struct {
	pos  int // offset in the chunk
	size int
	id   uint64
	bad  bool // replaced by an empty record
}

// readChunk validates one chunk's records, blanks out damaged ones, then
// parses the rest with the Velocidex parser.
func readChunk(buf []byte, base int64, after uint64, fn func(*Record, error) error) error {
	report := func(off int, msg string, args ...any) error {
		return fn(nil, perr("evtx", base+int64(off), 0, nil, msg, args...))
	}
	if !chunkHeaderOK(buf) {
		if err := report(0x7c, "chunk header checksum mismatch; reading its records anyway"); err != nil {
			return err
		}
	}
	end := int(binary.LittleEndian.Uint32(buf[0x30:])) // free space offset
	if end < evtxChunkHeaderSize || end > evtxChunkSize {
		if err := report(0x30, "chunk free-space offset %d out of range", end); err != nil {
			return err
		}
		end = evtxChunkSize
	} else if crc32.ChecksumIEEE(buf[evtxChunkHeaderSize:end]) != binary.LittleEndian.Uint32(buf[0x34:]) {
		if err := report(0x34, "chunk records checksum mismatch; reading its records anyway"); err != nil {
			return err
		}
	}

	// Walk the records by their sizes.
	var recs []recRef
	pos := evtxChunkHeaderSize
	for pos+evtxRecordHeader <= end {
		if sz, ok := validRecordAt(buf, pos); ok {
			recs = append(recs, recRef{pos: pos, size: sz, id: binary.LittleEndian.Uint64(buf[pos+8:])})
			pos += sz
			continue
		}
		if allZero(buf[pos:end]) {
			break
		}
		// Damaged: look for the next plausible record and blank the gap.
		next := -1
		for p := pos + 1; p+evtxRecordHeader <= end; p++ {
			if buf[p] == '*' && buf[p+1] == '*' && buf[p+2] == 0 && buf[p+3] == 0 {
				if _, ok := validRecordAt(buf, p); ok {
					next = p
					break
				}
			}
		}
		if next < 0 {
			if err := report(pos, "damaged record (bad magic or size); no further record in this chunk"); err != nil {
				return err
			}
			break
		}
		if err := report(pos, "damaged record (bad magic or size); skipped %d bytes to the next record", next-pos); err != nil {
			return err
		}
		if next-pos >= evtxRecordHeader+5 {
			blankRecord(buf, pos, next-pos)
			recs = append(recs, recRef{pos: pos, size: next - pos, bad: true})
			pos = next
			continue
		}
		break // no room to bridge the gap
	}

	// Check the binary XML the way the Velocidex parser walks it, so that
	// records that would make it loop, allocate wildly or panic are blanked.
	known := map[uint32]bool{}
	for i := range recs {
		rc := &recs[i]
		if rc.bad {
			continue
		}
		w := bxWalker{buf: buf, off: rc.pos + evtxRecordHeader, known: known}
		if err := w.walk(0); err != nil {
			for _, id := range w.added {
				delete(known, id)
			}
			if err := report(w.off, "record %d: damaged binary XML: %v", rc.id, err); err != nil {
				return err
			}
			blankRecord(buf, rc.pos, rc.size)
			rc.bad = true
		}
	}
	if len(recs) == 0 {
		return nil
	}

	parsed, err := parseChunkRecords(buf, recs, func(rc recRef, p any) error {
		return report(rc.pos, "record %d: parser panic: %v", rc.id, p)
	})
	if err != nil {
		return err
	}
	sort.SliceStable(parsed, func(i, j int) bool { return parsed[i].Header.RecordID < parsed[j].Header.RecordID })
	for _, er := range parsed {
		id := er.Header.RecordID
		if id == 0 || id <= after {
			continue
		}
		rec, err := recordFromEVTX(er)
		if err != nil {
			off := base
			for _, rc := range recs {
				if rc.id == id {
					off += int64(rc.pos)
					break
				}
			}
			err = perr("evtx", off, 0, nil, "record %d: %v", id, err)
		}
		if err := fn(rec, err); err != nil {
			return err
		}
	}
	return nil
}

// parseChunkRecords runs the Velocidex parser over the validated records.
// When it panics, the record at fault is found by bisection, blanked and
// reported through onPanic, and parsing is retried.
func parseChunkRecords(buf []byte, recs []recRef, onPanic func(recRef, any) error) ([]*evtx.EventRecord, error) {
	for attempt := 0; attempt <= len(recs); attempt++ {
		out, p := tryParse(buf, len(recs))
		if p == nil {
			return out, nil
		}
		// Find the smallest prefix that panics.
		lo, hi := 0, len(recs) // prefix lo parses, prefix hi panics
		for hi-lo > 1 {
			mid := (lo + hi) / 2
			if _, q := tryParse(buf, mid); q != nil {
				hi, p = mid, q
			} else {
				lo = mid
			}
		}
		rc := &recs[hi-1]
		if err := onPanic(*rc, p); err != nil {
			return nil, err
		}
		if rc.bad {
			return nil, nil // a blank record cannot panic; give up on the chunk
		}
		blankRecord(buf, rc.pos, rc.size)
		rc.bad = true
	}
	return nil, nil
}

func tryParse(buf []byte, n int) (out []*evtx.EventRecord, p any) {
	defer func() {
		if x := recover(); x != nil {
			out, p = nil, x
		}
	}()
	c := &evtx.Chunk{Fd: bytes.NewReader(buf)}
	copy(c.Header.Magic[:], "ElfChnk\x00")
	c.Header.FirstEventRecNumber = 1
	c.Header.LastEventRecNumber = uint64(n)
	if n == 0 {
		return nil, nil
	}
	out, err := c.Parse(0)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// validRecordAt checks a record's magic and that its size is repeated at
// its end; it returns the size.
func validRecordAt(buf []byte, pos int) (int, bool) {
	if pos < 0 || pos+evtxRecordHeader > len(buf) || string(buf[pos:pos+4]) != "**\x00\x00" {
		return 0, false
	}
	sz := int(binary.LittleEndian.Uint32(buf[pos+4:]))
	if sz < evtxRecordHeader+5 || pos+sz > len(buf) {
		return 0, false
	}
	if int(binary.LittleEndian.Uint32(buf[pos+sz-4:])) != sz {
		return 0, false
	}
	return sz, true
}

// blankRecord overwrites a record with an empty one (ID 0, EOF body) that
// the parser steps over.
func blankRecord(buf []byte, pos, size int) {
	clear(buf[pos : pos+size])
	copy(buf[pos:], "**\x00\x00")
	binary.LittleEndian.PutUint32(buf[pos+4:], uint32(size))
	binary.LittleEndian.PutUint32(buf[pos+size-4:], uint32(size))
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

func readAt(r io.ReadSeeker, b []byte, off int64) error {
	if _, err := r.Seek(off, io.SeekStart); err != nil {
		return err
	}
	_, err := io.ReadFull(r, b)
	return err
}

func readAtMost(r io.ReadSeeker, b []byte, off int64) (int, error) {
	if _, err := r.Seek(off, io.SeekStart); err != nil {
		return 0, err
	}
	n, err := io.ReadFull(r, b)
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		err = nil
	}
	return n, err
}

// recordFromEVTX maps a parsed record. The header's FILETIME is exact; the
// parser turns SystemTime into float64 seconds (about 1.6µs of error), so
// the header time is used when the two agree within that error.
func recordFromEVTX(er *evtx.EventRecord) (*Record, error) {
	d, ok := er.Event.(*ordereddict.Dict)
	if !ok {
		return nil, fmt.Errorf("parser returned %T, want an event", er.Event)
	}
	r, err := fromEventTree(d)
	if err != nil {
		return nil, err
	}
	r.EVTXRecordNumber = er.Header.RecordID
	if r.RecordID == 0 {
		r.RecordID = er.Header.RecordID
	}
	if ft := er.Header.FileTime; ft > 116444736000000000 {
		ticks := int64(ft - 116444736000000000)
		ht := time.Unix(ticks/1e7, (ticks%1e7)*100).UTC()
		if d := ht.Sub(r.TimeCreated); d > -2*time.Microsecond && d < 2*time.Microsecond {
			r.TimeCreated = ht
		}
	}
	return r, nil
}

// bxWalker follows the cursor movements of the Velocidex BinXML parser
// (www.velocidex.com/golang/evtx v0.2.0, ParseBinXML and friends) without
// building anything, and fails where that parser would run away: argument
// counts larger than the chunk, nesting too deep.
type bxWalker struct {
	buf   []byte
	off   int
	known map[uint32]bool
	added []uint32
}

var errBXTruncated = errors.New("runs past the end of the chunk")

func (w *bxWalker) u8() uint8 {
	if w.off+1 > len(w.buf) || w.off < 0 {
		return 0
	}
	v := w.buf[w.off]
	w.off++
	return v
}

func (w *bxWalker) u16() uint16 {
	if w.off+2 > len(w.buf) || w.off < 0 {
		return 0
	}
	v := binary.LittleEndian.Uint16(w.buf[w.off:])
	w.off += 2
	return v
}

func (w *bxWalker) u32() uint32 {
	if w.off+4 > len(w.buf) || w.off < 0 {
		return 0
	}
	v := binary.LittleEndian.Uint32(w.buf[w.off:])
	w.off += 4
	return v
}

// skip mirrors SkipBytes and ConsumeBytes (which does not move past the end).
func (w *bxWalker) skip(n int) error {
	if w.off+n > len(w.buf) {
		return errBXTruncated
	}
	w.off += n
	return nil
}

func (w *bxWalker) name() error {
	at := int(w.u32())
	if at != w.off {
		return nil // interned elsewhere in the chunk
	}
	if err := w.skip(6); err != nil {
		return err
	}
	n := int(w.u16())
	return w.skip((n + 1) * 2)
}

func (w *bxWalker) walk(depth int) error {
	if depth > maxBinXMLDepth {
		return fmt.Errorf("nested deeper than %d", maxBinXMLDepth)
	}
	for {
		if w.off >= len(w.buf) {
			return errBXTruncated
		}
		tag := w.u8()
		switch tag {
		case 0x00:
			return nil
		case 0x01, 0x41:
			if err := w.skip(6); err != nil {
				return err
			}
			if err := w.name(); err != nil {
				return err
			}
			if tag == 0x41 {
				w.u32()
			}
		case 0x02, 0x03, 0x04, 0x07, 0x47, 0x08, 0x48, 0x09, 0x49, 0x0a, 0x0b:
		case 0x05, 0x45:
			w.u8()
			n := int(w.u16())
			if err := w.skip(n * 2); err != nil {
				return err
			}
		case 0x06, 0x46:
			if err := w.name(); err != nil {
				return err
			}
		case 0x0c:
			if w.u8() != 1 {
				return nil
			}
			id := w.u32()
			if id == 0 {
				return nil
			}
			if err := w.skip(4); err != nil {
				return err
			}
			nargs := int(w.u32())
			if !w.known[id] {
				if err := w.skip(16); err != nil {
					return err
				}
				bodyLen := int(w.u32())
				w.known[id] = true
				w.added = append(w.added, id)
				sub := bxWalker{buf: w.buf, off: w.off, known: w.known}
				err := sub.walk(depth + 1)
				w.added = append(w.added, sub.added...)
				if err != nil {
					w.off = sub.off
					return fmt.Errorf("template %d: %w", id, err)
				}
				if err := w.skip(bodyLen); err != nil {
					return err
				}
				nargs = int(w.u32())
			}
			if nargs*4 > len(w.buf)-w.off {
				return fmt.Errorf("template instance claims %d arguments", nargs)
			}
			type arg struct{ n, t int }
			args := make([]arg, nargs)
			for i := range args {
				args[i].n = int(w.u16())
				args[i].t = int(w.u16())
			}
			for _, a := range args {
				if a.t == 0x21 {
					sub := bxWalker{buf: w.buf, off: w.off, known: w.known}
					err := sub.walk(depth + 1)
					w.added = append(w.added, sub.added...)
					if err != nil {
						w.off = sub.off
						return err
					}
				}
				if err := w.skip(argWidth(a.t, a.n)); err != nil {
					return err
				}
			}
		case 0x0d, 0x0e:
			w.u16()
			if w.u8() == 0 {
				w.u8()
			}
		case 0x0f:
			w.off += 3
		default:
			return nil
		}
	}
}

// argWidth is how far the Velocidex parser moves for a substitution value
// of type t and declared length n: fixed-size types ignore n.
func argWidth(t, n int) int {
	switch t {
	case 0x04:
		return 1
	case 0x06:
		return 2
	case 0x08, 0x14:
		return 4
	case 0x0a, 0x15, 0x11:
		return 8
	case 0x0d:
		switch n {
		case 1, 2, 4, 8:
			return n
		}
		return 0
	case 0x13:
		w := 8
		for i := 0; i < n-8; i += 4 {
			w += 4
		}
		return w
	}
	return n
}
