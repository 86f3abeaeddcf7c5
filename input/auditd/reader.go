package auditd

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	cursor "github.com/elastic/beats/v7/filebeat/input/v2/input-cursor"
	"github.com/elastic/elastic-agent-libs/logp"

	"webshellbeat/input/internal/files"
	mapper "webshellbeat/module/auditd"
)

// reader follows one audit.log path across auditd's rotations
// (max_log_file_action = ROTATE, or `service auditd rotate`: audit.log
// becomes audit.log.1 and a new audit.log begins). It keeps the file it
// reads open between polls, and when the path names another file it reads
// the old one to its end before it begins the new one: auditd may have
// written to it after the last poll, and those records would be lost
// otherwise. After a restart, a checkpoint whose file was rotated while the
// beat was stopped is found among the rotations by its first line, read
// from its offset, and the newer rotations after it (resume).
type reader struct {
	path   string
	cfg    config
	pub    cursor.Publisher
	log    *logp.Logger
	joiner *mapper.Joiner
	cur    *logFile   // the file being read; nil until the path exists
	queue  []*logFile // files to read after cur, oldest first (after a restart)
	// history: on a first run, read the path's rotations before it (the
	// paths setting named them: audit.log*).
	history bool
}

// logFile is one open audit log and where reading it resumes.
type logFile struct {
	f      *os.File
	name   string      // the name it was opened under (log.file.path)
	info   os.FileInfo // to tell whether the path still names it
	head   string      // the hash of its first line; "" until it has one
	offset int64       // the end of the last complete line read
	// rotated: the path names another file now, so this one is complete
	// and reading goes on with the next once it is read to its end.
	rotated bool
}

func openLog(name string) (*logFile, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	return &logFile{f: f, name: name, info: info}, nil
}

// firstLineHead returns the head of lf (see checkpoint), read from its
// first line; "" while it has no complete line.
func (lf *logFile) firstLineHead(maxLine int) string {
	br := bufio.NewReader(io.NewSectionReader(lf.f, 0, 1<<62))
	l, err := readLine(br, maxLine)
	if err != nil && !errors.Is(err, errLineTooLong) {
		return ""
	}
	return lineHead(l.text)
}

func lineHead(text string) string {
	sum := sha256.Sum256([]byte(text))
	return hex.EncodeToString(sum[:16])
}

func (r *reader) close() {
	for _, lf := range append(r.queue, r.cur) {
		if lf != nil {
			lf.f.Close()
		}
	}
	r.cur, r.queue = nil, nil
}

// resume opens the file to read first, from checkpoint cp.
func (r *reader) resume(cp checkpoint) error {
	live, err := openLog(r.path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("open %s: %w", r.path, err)
	}
	// Each case says what it chose: a file read from the wrong place loses
	// or repeats events, and the log is how a user (or a test) tells which.
	switch {
	case cp.Offset == 0 && cp.Head == "": // new, or nothing read yet
		if r.history {
			r.queue = r.rotations()
		}
		r.log.Infof("no checkpoint: reading %s from its start, after %d rotations", r.path, len(r.queue))
	case cp.Head == "": // a checkpoint of an older release: by path
		if live != nil {
			live.offset = cp.Offset
			live.head = live.firstLineHead(r.cfg.MaxLineBytes)
		}
		r.log.Infof("a checkpoint without a file head (an older release): reading %s from offset %d", r.path, cp.Offset)
	case live != nil && live.firstLineHead(r.cfg.MaxLineBytes) == cp.Head:
		// The head goes on into the checkpoints of this run: without it,
		// the next restart would apply them to whatever file the path
		// names by then.
		live.offset, live.head = cp.Offset, cp.Head
		r.log.Infof("resuming %s at offset %d (head %s)", r.path, cp.Offset, cp.Head)
	default:
		r.queue = r.rotatedSince(cp)
	}
	if live != nil {
		r.queue = append(r.queue, live)
	}
	r.next()
	if r.cur != nil && r.cur.offset > 0 {
		r.joiner.Resume(r.cur.offset)
	}
	return nil
}

// rotatedSince returns, oldest first, the rotations of the path from the
// one that holds checkpoint cp (at its offset) on. When none holds it (it
// was deleted, num_logs rotations ago) it returns them all, from their
// start, and logs that what was between is lost.
func (r *reader) rotatedSince(cp checkpoint) []*logFile {
	rots := r.rotations()
	for i, lf := range rots {
		if lf.firstLineHead(r.cfg.MaxLineBytes) == cp.Head {
			for _, older := range rots[:i] {
				older.f.Close()
			}
			lf.offset, lf.head = cp.Offset, cp.Head
			r.log.Infof("the checkpoint's file was rotated while the beat was stopped: reading %s from offset %d, then %d newer files", lf.name, cp.Offset, len(rots)-i-1)
			return rots[i:]
		}
	}
	r.log.Warnf("the checkpoint's file (offset %d) is neither %s nor one of its %d rotations (deleted by rotation?): reading them from their start; what was between is lost", cp.Offset, r.path, len(rots))
	return rots
}

// newerThan returns the rotations newer than lf, oldest first: those
// auditd made after lf's own when it rotated more than once between two
// polls.
func (r *reader) newerThan(lf *logFile) []*logFile {
	rots := r.rotations()
	for i, rf := range rots {
		if os.SameFile(rf.info, lf.info) {
			for _, older := range rots[:i+1] {
				older.f.Close()
			}
			return rots[i+1:]
		}
	}
	for _, rf := range rots {
		rf.f.Close()
	}
	r.log.Warnf("%s was rotated and is no longer among its rotations (more rotations than num_logs since the last poll?): going on with %s; files between may be missed", lf.name, r.path)
	return nil
}

// rotations opens the path's rotated files (audit.log.1, ..., or
// audit.log-20261126 from logrotate), oldest first (olderFirst).
// Compressed ones are left out: they are not audit.log text.
func (r *reader) rotations() []*logFile {
	dir, base := filepath.Split(r.path)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var out []*logFile
	for _, e := range entries {
		name := e.Name()
		if of, ok := rotationOf(filepath.Join(dir, name)); !ok || of != r.path || e.IsDir() {
			continue
		}
		if lf, err := openLog(filepath.Join(dir, name)); err == nil {
			lf.rotated = true
			out = append(out, lf)
		}
	}
	slices.SortStableFunc(out, func(a, b *logFile) int { return olderFirst(a, b, base) })
	return out
}

// olderFirst orders rotations: auditd's audit.log.N by N, the highest the
// oldest (their times may be equal after rotations in quick succession);
// others (logrotate's dateext) by modification time, then name.
func olderFirst(a, b *logFile, base string) int {
	na, errA := strconv.Atoi(strings.TrimPrefix(filepath.Base(a.name), base+"."))
	nb, errB := strconv.Atoi(strings.TrimPrefix(filepath.Base(b.name), base+"."))
	if errA == nil && errB == nil {
		return nb - na
	}
	if c := a.info.ModTime().Compare(b.info.ModTime()); c != 0 {
		return c
	}
	return strings.Compare(a.name, b.name)
}

// rotationOf returns the file that name is a rotation of: audit.log for
// audit.log.1 (auditd) or audit.log-20261126 (logrotate's dateext), not for
// a compressed one, which is no audit.log text.
func rotationOf(name string) (string, bool) {
	if compressed(name) {
		return "", false
	}
	if i := strings.LastIndexAny(name, ".-"); i > 0 && i < len(name)-1 && name[i+1] >= '0' && name[i+1] <= '9' {
		return name[:i], !strings.ContainsAny(name[i+1:], "/\\")
	}
	return "", false
}

func compressed(name string) bool {
	return slices.Contains([]string{".gz", ".bz2", ".xz", ".zst", ".zip"}, filepath.Ext(name))
}

// next makes the first queued file the current one.
func (r *reader) next() {
	r.cur = nil
	if len(r.queue) > 0 {
		r.cur, r.queue = r.queue[0], r.queue[1:]
	}
}

// poll reads the complete lines added since the last poll, following a
// rotation, and reports whether there were any. A partial last line is
// left for later.
func (r *reader) poll() (bool, error) {
	grew := false
	for {
		if r.cur == nil {
			lf, err := openLog(r.path)
			if errors.Is(err, os.ErrNotExist) {
				return grew, nil // between a rotation's rename and the new file
			}
			if err != nil {
				return grew, fmt.Errorf("open %s: %w", r.path, err)
			}
			r.cur = lf
		}
		// Asked before reading: a file found rotated here is complete, and
		// the read below takes it to its end.
		if !r.cur.rotated {
			if st, err := os.Stat(r.path); err == nil && !os.SameFile(st, r.cur.info) {
				r.cur.rotated = true
			}
		}
		g, err := r.read(r.cur)
		grew = grew || g
		if err != nil || !r.cur.rotated {
			return grew, err
		}
		// The events still open end with the file.
		if err := r.publish(r.joiner.Flush()); err != nil {
			return grew, err
		}
		if len(r.queue) == 0 {
			// Rotated more than once since the last poll: the files
			// between it and the path come first.
			r.queue = r.newerThan(r.cur)
		}
		r.cur.f.Close()
		r.joiner = mapper.NewJoiner(mapper.JoinerConfig{})
		r.next()
	}
}

// read reads lf's complete lines from its offset and publishes the events
// they complete.
func (r *reader) read(lf *logFile) (bool, error) {
	if st, err := lf.f.Stat(); err == nil && st.Size() < lf.offset {
		r.log.Warnf("%s is shorter than where reading stood (%d bytes): truncated, read again from its start", lf.name, lf.offset)
		lf.offset, lf.head = 0, ""
		r.joiner = mapper.NewJoiner(mapper.JoinerConfig{})
	}
	if _, err := lf.f.Seek(lf.offset, io.SeekStart); err != nil {
		return false, fmt.Errorf("seek %s to %d: %w", lf.name, lf.offset, err)
	}
	br := bufio.NewReaderSize(lf.f, 64<<10)
	grew := false
	for {
		l, err := readLine(br, r.cfg.MaxLineBytes)
		if errors.Is(err, io.EOF) {
			return grew, nil
		}
		if err != nil && !errors.Is(err, errLineTooLong) {
			return grew, fmt.Errorf("read %s at %d: %w", lf.name, lf.offset, err)
		}
		if lf.offset == 0 {
			lf.head = lineHead(l.text)
		}
		lf.offset += l.size
		grew = true
		if errors.Is(err, errLineTooLong) {
			doc := errorDoc(l.text, fmt.Errorf("line ending at offset %d: longer than max_line_bytes (%d)", lf.offset, r.cfg.MaxLineBytes))
			if err := r.pubDoc(doc, r.joiner.SafeOffset()); err != nil {
				return grew, err
			}
			continue
		}
		if err := r.publish(r.joiner.Add(l.text, lf.offset)); err != nil {
			return grew, err
		}
	}
}

func (r *reader) publish(groups []mapper.Group) error {
	for _, g := range groups {
		doc, _ := mapper.MapGroup(g) // errors are inside doc as error.message
		if err := r.pubDoc(doc, r.joiner.SafeOffset()); err != nil {
			return err
		}
	}
	return nil
}

func (r *reader) pubDoc(doc map[string]any, safe int64) error {
	return r.pub.Publish(files.Event(r.cur.name, doc), checkpoint{Version: checkpointVersion, Offset: safe, Head: r.cur.head})
}

func errorDoc(raw string, err error) map[string]any {
	return map[string]any{
		"event": map[string]any{"kind": "event", "original": raw, "module": "auditd"},
		"error": map[string]any{"message": err.Error()},
	}
}

var errLineTooLong = errors.New("line too long")

type line struct {
	size int64  // the bytes consumed, newline included
	text string // the line without its newline (truncated when too long)
}

// readLine returns the next complete line. A last line without a newline is
// not complete (the writer may still be writing it) and gives io.EOF.
func readLine(br *bufio.Reader, max int) (line, error) {
	var buf []byte
	consumed := 0
	for {
		chunk, err := br.ReadSlice('\n')
		consumed += len(chunk)
		if len(buf) < max {
			buf = append(buf, chunk...)
		}
		switch {
		case err == nil:
			text := string(trimEOL(buf))
			if consumed > max {
				return line{size: int64(consumed), text: text[:min(len(text), max)]}, errLineTooLong
			}
			return line{size: int64(consumed), text: text}, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		default:
			// Incomplete last line: give the bytes back by not counting them.
			return line{}, io.EOF
		}
	}
}

func trimEOL(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}
