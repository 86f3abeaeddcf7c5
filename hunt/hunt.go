package hunt

import (
	"bytes"
	"container/heap"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"webshellbeat/detection"
)

// Detector marks a document as an alert in place and reports whether it did.
type Detector interface {
	Detect(doc map[string]any) bool
}

// DerivingDetector is a Detector that also makes documents of its own:
// alerts (correlation alerts, updated copies of earlier alerts, session
// summaries) and events (the updated copy of a request that listed no
// alert, listing the shell it started; an alert that tuning suppressed).
// Run passes them after the document that caused them, and FlushAll's at
// the end: the alerts to onAlert, the events to OnEvent's function.
type DerivingDetector interface {
	DetectAll(doc map[string]any) (alert bool, alerts, events []map[string]any)
	FlushAll() (alerts, events []map[string]any)
}

// Stats counts what a hunt read and found.
type Stats struct {
	Files   int      // files read
	Skipped []string // files found in folders whose format is not a log hunt reads
	// Unrecognized are the Skipped files whose content was read and is no
	// log format hunt knows (not the empty ones, nor notes and rules
	// skipped by their extension): the ones a user may have meant.
	Unrecognized []string
	Events       int            // documents read
	Errors       int            // records that could not be mapped (each reported)
	Alerts       int            // documents that became alerts
	Derived      int            // alerts the detector derived (correlations, updated copies, summaries)
	Formats      map[Format]int // files per format
	// Hosts are the host names the documents carry (the first maxHosts
	// seen), and NoHost counts the documents that carry none, before any
	// WithHost: together they tell whether --host would join sources.
	Hosts  []string
	NoHost int
}

// skip counts a file that is no log hunt reads (head: its first bytes), and
// names it among the Unrecognized unless it is empty.
func (st *Stats) skip(path string, head []byte) {
	st.Skipped = append(st.Skipped, path)
	if len(bytes.TrimSpace(head)) > 0 {
		st.Unrecognized = append(st.Unrecognized, path)
	}
}

// maxHosts bounds Stats.Hosts.
const maxHosts = 10

// countHost notes doc's host name in st.
func (st *Stats) countHost(doc map[string]any) {
	h := detection.LookupString(doc, "host.name")
	switch {
	case h == "":
		st.NoHost++
	case len(st.Hosts) < maxHosts && !slices.Contains(st.Hosts, h):
		st.Hosts = append(st.Hosts, h)
	}
}

// skipExt are files that sit beside logs in folders (notes, rules, ground
// truth) and are never logs.
var skipExt = map[string]bool{".md": true, ".yml": true, ".yaml": true, ".tsv": true, ".txt~": true}

// skipName are files by name that sit beside logs and are never logs:
// Docker's state of a container, beside its json-file log in
// /var/lib/docker/containers/<id>/.
var skipName = map[string]bool{"config.v2.json": true, "hostconfig.json": true}

// skipped reports whether a file in a folder is passed over unread.
func skipped(p string) bool {
	return skipExt[strings.ToLower(filepath.Ext(p))] || skipName[filepath.Base(p)]
}

// Run reads paths (files, folders searched recursively, zip, tar, tar.gz and
// gzip-compressed files, and the same in bzip2, xz and zstd, journal files)
// as one stream in event-time order, passes each document to det, and calls
// onAlert for each alert and onError for each record that could not be read
// (a truncated archive among them).
//
// A path that cannot be read at all (missing, not permitted, a named file
// of no log format) does not stop the hunt: the others are read, as grep
// and ripgrep go on past a bad path, since "hunt /var/log/*" names files of
// every kind. The returned error joins one error per such path (nil when
// every path was read).
func Run(paths []string, det Detector, onAlert func(map[string]any), onError func(Record), opts ...Option) (Stats, error) {
	var o options
	for _, f := range opts {
		f(&o)
	}
	st := Stats{Formats: map[Format]int{}}
	var streams []iter.Seq[Record]
	var closers []io.Closer
	defer func() {
		for _, c := range closers {
			c.Close()
		}
	}()
	var errs []error
	for _, p := range expandGlobs(paths) {
		ss, cs, err := open(p, true, &st)
		closers = append(closers, cs...)
		errs = append(errs, err)
		streams = append(streams, ss...)
	}
	if o.zone != nil && o.zone != time.UTC {
		for i, s := range streams {
			streams[i] = inZone(s, o.zone)
		}
	}
	for rec := range Merge(streams) {
		st.Events++
		if rec.Err != nil {
			st.Errors++
			if onError != nil {
				onError(rec)
			}
		}
		if rec.Doc == nil {
			continue
		}
		if rec.Err == nil {
			st.countHost(rec.Doc)
		}
		if dd, ok := det.(DerivingDetector); ok {
			alert, alerts, events := dd.DetectAll(rec.Doc)
			if alert {
				st.Alerts++
				onAlert(rec.Doc)
			} else if o.onEvent != nil {
				o.onEvent(rec.Doc)
			}
			st.derive(alerts, events, onAlert, o.onEvent)
			continue
		}
		if det.Detect(rec.Doc) {
			st.Alerts++
			onAlert(rec.Doc)
		} else if o.onEvent != nil {
			o.onEvent(rec.Doc)
		}
	}
	if dd, ok := det.(DerivingDetector); ok {
		alerts, events := dd.FlushAll()
		st.derive(alerts, events, onAlert, o.onEvent)
	}
	return st, errors.Join(errs...)
}

// derive passes a detector's own documents on: the alerts to onAlert, the
// events to onEvent when it is set (they are events of the case as the
// beat indexes them).
func (st *Stats) derive(alerts, events []map[string]any, onAlert, onEvent func(map[string]any)) {
	for _, x := range alerts {
		st.Derived++
		onAlert(x)
	}
	if onEvent != nil {
		for _, x := range events {
			onEvent(x)
		}
	}
}

// Option configures Run.
type Option func(*options)

type options struct {
	zone    *time.Location
	onEvent func(map[string]any)
}

// OnEvent calls fn with each document read that is not an alert, after
// detection (with the ancestry, links and data_stream the detector gave
// it), unreadable records' error documents among them, and with the events
// a DerivingDetector makes: for loading a whole case, not only its alerts.
func OnEvent(fn func(map[string]any)) Option { return func(o *options) { o.onEvent = fn } }

// InZone reads the times that logs write without a zone in zone instead of
// UTC: Apache's and nginx's error logs, whose times are the server's local
// time.
func InZone(zone *time.Location) Option { return func(o *options) { o.zone = zone } }

// inZone re-reads the wall-clock time of each zoneless record of s (read
// as UTC) in zone, before the merge orders the streams by time.
func inZone(s iter.Seq[Record], zone *time.Location) iter.Seq[Record] {
	return func(yield func(Record) bool) {
		for rec := range s {
			if t, ok := rec.Doc["@timestamp"].(time.Time); ok && rec.Zoneless {
				rec.Doc["@timestamp"] = time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), zone).UTC()
			}
			if !yield(rec) {
				return
			}
		}
	}
}

// expandGlobs replaces each path that does not exist and is a pattern
// ("C:\Logs\*.evtx") with the files it matches, in order: Windows' shells
// pass patterns to the program unexpanded, and so does a quoted pattern in
// a Unix shell. A pattern that matches nothing stays, and open reports it.
func expandGlobs(paths []string) []string {
	var out []string
	for _, p := range paths {
		if _, err := os.Lstat(p); err == nil || !strings.ContainsAny(p, "*?[") {
			out = append(out, p)
			continue
		}
		matches, err := filepath.Glob(p)
		if err != nil || len(matches) == 0 {
			out = append(out, p)
			continue
		}
		out = append(out, matches...)
	}
	return out
}

// open returns the streams of a path. named says the user gave this path
// itself: then an unrecognised format is an error, not a skip.
func open(path string, named bool, st *Stats) ([]iter.Seq[Record], []io.Closer, error) {
	if path == "-" {
		return openStdin(st)
	}
	info, err := os.Stat(path)
	if err != nil {
		return nil, nil, err
	}
	if info.IsDir() {
		return openDir(path, st)
	}
	if !info.Mode().IsRegular() {
		// A pipe or device named on the command line (bash's
		// <(zcat access.log.*.gz) gives /dev/fd/63) is read as standard
		// input is; in a folder, openDir passes them over.
		f, err := os.Open(path)
		if err != nil {
			return nil, nil, err
		}
		defer f.Close()
		return openStream(path, f, st)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	return openFile(path, f, f, info.Size(), named, true, st)
}

// openFile recognises an open file's format and returns its records; c
// closes f (and, for a temporary file, removes it). reopen says f is a
// file of the evidence, which its stream opens again by path when read:
// its descriptor is not held meanwhile.
func openFile(path string, f *os.File, c io.Closer, size int64, named, reopen bool, st *Stats) ([]iter.Seq[Record], []io.Closer, error) {
	head, format := sniff(f.ReadAt)
	switch {
	case format == FormatZip || format == FormatTar || format == FormatUTF16 || compressed(format):
		defer c.Close() // the members (or the decoded text) are read out to temporary files
		return openArchive(format, path, f, size, named, st)
	case format == FormatJournal:
		defer c.Close()
		return openJournal(path, st)
	case format == FormatUnknown:
		c.Close()
		return nil, nil, unknown(path, head, named, st)
	}
	st.Files++
	st.Formats[format]++
	if reopen {
		c.Close()
		return []iter.Seq[Record]{reopened(format, path)}, nil, nil
	}
	return []iter.Seq[Record]{fromStart(format, path, f, size)}, []io.Closer{c}, nil
}

// The streams of files are read again from their start each time they are
// ranged over, as Merge does with the streams beyond maxLive: it reads
// their first records to order them, and reads them again when their time
// comes.

// reopened is the stream of the file at path, whose format was told: it
// opens the file when read, and closes it when done.
func reopened(format Format, path string) iter.Seq[Record] {
	return func(yield func(Record) bool) {
		f, err := os.Open(path)
		if err != nil { // removed or rotated away since hunt found it
			yield(Record{Where: path, Err: err})
			return
		}
		defer f.Close()
		for rec := range read(format, path, f) {
			if !yield(rec) {
				return
			}
		}
	}
}

// fromStart is the stream of the first size bytes of f, a temporary file
// kept open (standard input) or an archive member's section of one, named
// name.
func fromStart(format Format, name string, f io.ReaderAt, size int64) iter.Seq[Record] {
	return func(yield func(Record) bool) {
		for rec := range read(format, name, io.NewSectionReader(f, 0, size)) {
			if !yield(rec) {
				return
			}
		}
	}
}

// stdinName names standard input ("-" on the command line) in log.file.path
// and messages.
const stdinName = "stdin"

// openStdin reads "-", standard input (zcat access.log.*.gz | webshellbeat
// hunt -), written out to a temporary file first: the readers seek, and
// the format is told from the first bytes as for a file.
func openStdin(st *Stats) ([]iter.Seq[Record], []io.Closer, error) {
	return openStream(stdinName, os.Stdin, st)
}

// openStream reads r, a stream that cannot seek, named name, out to a
// temporary file first, as for standard input.
func openStream(name string, r io.Reader, st *Stats) ([]iter.Seq[Record], []io.Closer, error) {
	left := int64(math.MaxInt64 - 1)
	t, size, err := spill(r, &left)
	if err != nil {
		if t != nil {
			t.Close()
		}
		return nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	return openFile(name, t.File, t, size, true, false, st)
}

// unknown is the error for a path the user named whose format hunt does not
// read (head is its first bytes, decompressed); a path found in a folder is
// skipped and counted instead, and so is an empty file even when named (a
// log just rotated: nothing to read, nothing wrong).
func unknown(path string, head []byte, named bool, st *Stats) error {
	if modSecIndex(head) {
		if named {
			return fmt.Errorf("%s: the index of ModSecurity's Concurrent audit log (SecAuditLog, SecAuditLogType Concurrent): its entries are the files under SecAuditLogStorageDir; hunt that folder", path)
		}
		st.Skipped = append(st.Skipped, path) // the entries' files, in the same folder, are read
		return nil
	}
	if !named || len(bytes.TrimSpace(head)) == 0 {
		st.skip(path, head)
		return nil
	}
	if kind := unreadArchive(head); kind != "" {
		return fmt.Errorf("%s: a %s archive, which hunt does not open (it reads zip, tar, and gzip, bzip2, xz or zstd files): extract it and hunt the folder", path, kind)
	}
	if text := strings.TrimLeft(string(head), " \t\r\n"); interpretedAudit(text) {
		return fmt.Errorf("%s: audit records interpreted by ausearch -i (local times, names for numbers), which hunt cannot read back; hunt the audit.log itself, or ausearch's output without -i (ausearch --raw, or plain ausearch)", path)
	}
	return fmt.Errorf("%s: not a log format hunt reads (EVTX, event XML, JSON, audit.log, access log, IIS W3C, Apache, nginx, php-fpm, PHP or Tomcat error log, Docker or CRI container log, ModSecurity audit log, Sysmon text, syslog or a systemd journal with Sysmon for Linux events, a Sentinel, Splunk, EvtxECmd or Event Viewer CSV, or a zip, tar, or gzip, bzip2, xz or zstd file of these); first line: %q", path, firstLine(head))
}

// unreadArchive names the archive format of head when it is one that
// evidence comes in and hunt does not open: 7-Zip and RAR.
func unreadArchive(head []byte) string {
	switch {
	case bytes.HasPrefix(head, []byte("7z\xbc\xaf\x27\x1c")):
		return "7-Zip"
	case bytes.HasPrefix(head, []byte("Rar!\x1a\x07")):
		return "RAR"
	}
	return ""
}

// openDir opens the logs under dir; a file or folder in it that cannot be
// read is left out and its error returned with the others', joined.
//
// Inside dir, a symbolic link to a file is read (Kubernetes'
// /var/log/containers holds links into /var/log/pods) and one to a folder
// is skipped, as grep -r does: links to folders may loop (a link to its
// own parent) or lead out of the evidence. dir itself may be such a link.
func openDir(dir string, st *Stats) ([]iter.Seq[Record], []io.Closer, error) {
	var names []string
	var errs []error
	root := dir
	if !strings.HasSuffix(root, string(filepath.Separator)) {
		root += string(filepath.Separator) // Lstat follows a link that ends in a separator
	}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			errs = append(errs, err)
			return nil // WalkDir skips what it could not read
		case d.IsDir():
		case skipped(p) || unfollowedLink(p, d) || special(d.Type()):
			st.Skipped = append(st.Skipped, p)
		default:
			names = append(names, p)
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	sort.Strings(names)
	var streams []iter.Seq[Record]
	var closers []io.Closer
	for _, n := range names {
		ss, cs, err := open(n, false, st)
		closers = append(closers, cs...)
		errs = append(errs, err)
		streams = append(streams, ss...)
	}
	return streams, closers, errors.Join(errs...)
}

// unfollowedLink reports whether d, found at p, is a symbolic link hunt
// does not follow: to a folder, to no regular file (see special), or to
// nothing (a dangling link, such as /etc's to a file a package removed),
// which holds no evidence and is skipped, not reported as unreadable.
func unfollowedLink(p string, d fs.DirEntry) bool {
	if d.Type()&fs.ModeSymlink == 0 {
		return false
	}
	info, err := os.Stat(p)
	return errors.Is(err, fs.ErrNotExist) || err == nil && (info.IsDir() || special(info.Mode()))
}

// special reports whether a file found in a folder is a pipe, socket or
// device: no log, and a pipe would block the hunt until something wrote
// to it (containerd's and systemd's folders hold them).
func special(m fs.FileMode) bool {
	return m&(fs.ModeNamedPipe|fs.ModeSocket|fs.ModeDevice|fs.ModeCharDevice|fs.ModeIrregular) != 0
}

func firstLine(b []byte) string {
	s, _, _ := strings.Cut(string(b), "\n")
	return detection.Clip(s, 80)
}

func validJSON(s string) bool { return json.Valid([]byte(s)) }

// Merge yields the records of several streams in event-time order
// (@timestamp); each stream keeps its own order, and records without a time
// (unreadable ones) come out as soon as they are read.
//
// Merge reads at most maxLive streams at once where their times allow: a
// case of years of daily logs would otherwise hold every file open, each
// with its records read ahead (730 daily access logs took 985 MB where
// their concatenation took 400 MB, and more files than the descriptor
// limit lost the rest). The first record of every stream is read to order
// them; a stream beyond maxLive is then stopped, and read again from its
// start when its first record's time comes. Streams whose times overlap
// are still read together, however many: time order needs them.
func Merge(streams []iter.Seq[Record]) iter.Seq[Record] {
	return func(yield func(Record) bool) {
		h := &mergeHeap{}
		defer func() {
			for _, hd := range *h {
				hd.end()
			}
		}()
		live := 0
		for i, s := range streams {
			hd := peek(s, i, live < maxLive)
			if hd == nil {
				continue
			}
			if hd.next != nil {
				live++
			}
			heap.Push(h, hd)
		}
		for h.Len() > 0 {
			top := (*h)[0]
			if top.next == nil { // its time has come: read it again, from its start
				live++
				top.next, top.stop = prefetch(top.s, prefetchRecords)
				if top.advance() {
					heap.Fix(h, 0)
				} else {
					live--
					heap.Pop(h)
				}
				continue
			}
			if !yield(top.rec) {
				return
			}
			if top.advance() {
				heap.Fix(h, 0)
			} else {
				live--
				heap.Pop(h)
			}
		}
	}
}

// maxLive is how many streams Merge reads at once when their times do
// not overlap; a var so that tests can lower it.
var maxLive = 64

// peek reads the first record of stream s (the idx-th), and returns its
// head, or nil when s holds no record. keep says the stream goes on being
// read; else it is stopped after the record (its file closed) and its head
// has no next.
func peek(s iter.Seq[Record], idx int, keep bool) *head {
	next, stop := iter.Pull(s)
	rec, ok := next()
	if !ok {
		stop()
		return nil
	}
	hd := &head{rec: rec, t: timeOf(rec), idx: idx, s: s}
	if keep {
		hd.next, hd.stop = prefetch(pulled(next, stop), prefetchRecords)
	} else {
		stop()
	}
	return hd
}

// pulled is the rest of a stream whose first records were pulled with
// next: the stream a prefetch goroutine goes on reading, stopped when done.
func pulled(next func() (Record, bool), stop func()) iter.Seq[Record] {
	return func(yield func(Record) bool) {
		defer stop()
		for {
			rec, ok := next()
			if !ok || !yield(rec) {
				return
			}
		}
	}
}

// prefetchRecords is how many records each stream may read ahead of the
// merge: parsing (EVTX above all) is most of a hunt's time, and a stream
// read in its own goroutine parses on another core while the detector,
// which must see events one at a time in time order, works on this one.
const prefetchRecords = 64

// prefetch reads s in a goroutine, up to n records ahead of next. stop ends
// the reading and returns once the goroutine is done with s, so that the
// file under it may be closed.
func prefetch(s iter.Seq[Record], n int) (next func() (Record, bool), stop func()) {
	ch := make(chan Record, n)
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		defer close(ch)
		for rec := range s {
			select {
			case ch <- rec:
			case <-done:
				return
			}
		}
	}()
	next = func() (Record, bool) {
		rec, ok := <-ch
		return rec, ok
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			close(done)
			<-finished
		})
	}
	return next, stop
}

func timeOf(r Record) time.Time {
	t, _ := r.Doc["@timestamp"].(time.Time)
	return t
}

// head is a stream in the merge, and its record that comes next.
type head struct {
	rec  Record
	t    time.Time
	idx  int
	s    iter.Seq[Record]
	next func() (Record, bool) // nil while s is not being read
	stop func()
}

// advance reads the stream's next record into rec, and reports whether
// there was one; at the end it stops the stream, so that its file is
// closed before the others are done.
func (hd *head) advance() bool {
	rec, ok := hd.next()
	if !ok {
		hd.end()
		return false
	}
	hd.rec, hd.t = rec, timeOf(rec)
	return true
}

// end stops the stream if it is being read.
func (hd *head) end() {
	if hd.stop != nil {
		hd.stop()
	}
	hd.next, hd.stop = nil, nil
}

type mergeHeap []*head

func (h mergeHeap) Len() int { return len(h) }
func (h mergeHeap) Less(i, j int) bool {
	if !h[i].t.Equal(h[j].t) {
		return h[i].t.Before(h[j].t)
	}
	return h[i].idx < h[j].idx
}
func (h mergeHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *mergeHeap) Push(x any)   { *h = append(*h, x.(*head)) }
func (h *mergeHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

var errStop = errors.New("stop")
