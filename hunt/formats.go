// Package hunt runs webshellbeat's mappers and detector offline over files
// and folders: it recognises each file's format by content, reads every file
// as a stream of ECS documents, merges the streams in event-time order and
// hands each document to the detector. It does not import libbeat.
package hunt

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"iter"
	"regexp"
	"slices"
	"strings"
	"time"

	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"

	"webshellbeat/detection"
	"webshellbeat/module/accesslog"
	"webshellbeat/module/auditd"
	"webshellbeat/module/ecs"
	"webshellbeat/module/errorlog"
	"webshellbeat/module/modsec"
	"webshellbeat/module/windows"
)

// Format is a log format hunt can read.
type Format string

const (
	FormatUnknown    Format = ""
	FormatEVTX       Format = "evtx"
	FormatZip        Format = "zip"
	FormatGzip       Format = "gzip"  // tar.gz/.tgz, or one compressed file
	FormatBzip2      Format = "bzip2" // the same in bzip2, xz and zstd
	FormatXZ         Format = "xz"
	FormatZstd       Format = "zstd"
	FormatTar        Format = "tar"
	FormatXML        Format = "xml"
	FormatJSON       Format = "json"
	FormatAudit      Format = "auditd"
	FormatAccess     Format = "access"
	FormatW3C        Format = "w3c"
	FormatSysmonText Format = "sysmon-text"
	FormatSyslog     Format = "syslog"    // Sysmon for Linux's event XML, one line per event
	FormatErrorLog   Format = "error-log" // Apache's or nginx's error log
	FormatContainer  Format = "container" // a container's output: Docker json-file or CRI
	// FormatUTF16 is text in UTF-16, told by its byte order mark (what
	// Windows PowerShell 5.1's ">" and Out-File write): decoded to UTF-8,
	// then recognised like any file.
	FormatUTF16 Format = "utf-16"
	// FormatJournal is a systemd journal file, read through journalctl's
	// JSON (see openJournal).
	FormatJournal Format = "journal"
	// FormatModSec is ModSecurity's audit log (module/modsec).
	FormatModSec Format = "modsec"
	// FormatLaurel is LAUREL's JSON audit log, one event a line
	// (module/auditd's MapLaurel).
	FormatLaurel Format = "laurel"
)

// Record is one document read from a file, or why a part of the file could
// not be read (Err, with Doc an error document that keeps the raw text).
type Record struct {
	Doc   map[string]any
	Where string // file:line or file@offset
	Err   error
	// Zoneless says the document's time was written without a zone and
	// read as UTC (error logs): Run's InZone re-reads it.
	Zoneless bool
}

// syslogLine matches the start of a syslog file's line, as rsyslog and
// syslog-ng write it: the traditional "May 11 18:10:22 host prog[pid]: ",
// the high-precision "2022-05-11T18:10:22.123456+00:00 host prog: ", or
// RFC 5424 "<13>1 2022-05-11T18:10:22Z host prog ...".
var syslogLine = regexp.MustCompile(`^(?:` + syslogTime + `|<\d{1,3}>\d \S+) \S+ \S+`)

// syslogTime is the time that opens a traditional or high-precision
// syslog line.
const syslogTime = `[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\S*`

var sysmonHeader = regexp.MustCompile(`(?m)^(EventID:\s*\d+|Process Create:|Network connection detected:|File created:)\s*$|^EventID:\s*\d+`)

// headSize is how much of a file Detect is given; longHead how much when
// those bytes hold no whole line after the first (a request line can be
// 8 KB long: Apache's LimitRequestLine is 8,190 bytes, nginx's header
// buffers 8 KB, and attacks fill them).
const headSize, longHead = 8 << 10, 1 << 20

// sniff reads a file's head with readAt (which reads from offset 0, as
// os.File.ReadAt does) and recognises its format.
func sniff(readAt func(p []byte, off int64) (int, error)) ([]byte, Format) {
	head := make([]byte, headSize)
	n, _ := readAt(head, 0)
	f := Detect(head[:n])
	if f == FormatUnknown && shortHead(head[:n]) {
		head = make([]byte, longHead)
		n, _ = readAt(head, 0)
		f = Detect(head[:n])
	}
	return head[:n], f
}

// compressed reports whether f is one compressed stream: a tar inside is
// read member by member, anything else as one file.
func compressed(f Format) bool {
	return f == FormatGzip || f == FormatBzip2 || f == FormatXZ || f == FormatZstd
}

// shortHead reports whether head fills headSize with fewer than two whole
// lines, too few for Detect to tell.
func shortHead(head []byte) bool {
	return len(head) == headSize && bytes.Count(head, []byte("\n")) < 2
}

// Detect recognises a format from the first bytes of a file.
func Detect(head []byte) Format {
	switch {
	case bytes.HasPrefix(head, []byte("ElfFile\x00")):
		return FormatEVTX
	case bytes.HasPrefix(head, []byte("PK\x03\x04")):
		return FormatZip
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b}):
		return FormatGzip
	case len(head) >= 10 && string(head[:3]) == "BZh" && head[3] >= '1' && head[3] <= '9' &&
		(string(head[4:10]) == "1AY&SY" || string(head[4:10]) == "\x17rE8P\x90"): // a block, or the end of an empty stream
		return FormatBzip2
	case bytes.HasPrefix(head, []byte("\xfd7zXZ\x00")):
		return FormatXZ
	case bytes.HasPrefix(head, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		return FormatZstd
	case bytes.HasPrefix(head, []byte("LPKSHHRH")):
		return FormatJournal
	case len(head) >= 262 && string(head[257:262]) == "ustar":
		return FormatTar
	case bytes.HasPrefix(head, []byte{0xFF, 0xFE}) || bytes.HasPrefix(head, []byte{0xFE, 0xFF}):
		return FormatUTF16
	}
	text := strings.TrimLeft(string(bytes.TrimPrefix(head, []byte("\xef\xbb\xbf"))), " \t\r\n")
	first, _, _ := strings.Cut(text, "\n")
	if errorlog.IsErrorLog(first) { // before JSON: Apache's lines begin with '['
		return FormatErrorLog
	}
	if isModSec(first) {
		return FormatModSec
	}
	// Before JSON (Docker's entries) and syslog (the times of CRI and of
	// docker logs -t).
	if containerEntries(text) || timestampedOutput(text) {
		return FormatContainer
	}
	switch {
	case text == "":
		return FormatUnknown
	case text[0] == '<' && !windows.HasSyslogPRI(text):
		if !strings.Contains(text, "<Event") { // other XML: configuration, documentation
			return FormatUnknown
		}
		return FormatXML
	case auditd.IsLaurel(first):
		return FormatLaurel
	case text[0] == '{' && ecsLoggingLine(first):
		return FormatUnknown
	case text[0] == '{' || text[0] == '[' && jsonArrayStart(text):
		if jsonOfNoEvents(text) {
			return FormatUnknown
		}
		return FormatJSON
	case strings.HasPrefix(first, "type=") || strings.HasPrefix(first, "node="), ausearchRecord(text) != "" && !interpretedAudit(text):
		return FormatAudit
	case csvExport(csvHeaderLine(text)):
		return FormatCSV
	case isEventViewerHeader(first):
		return FormatEventViewer
	}
	switch accesslog.Detect(first) {
	case accesslog.FormatW3CHeader:
		return FormatW3C
	case accesslog.FormatCombined, accesslog.FormatCommon:
		return FormatAccess
	}
	if sysmonHeader.MatchString(text) && strings.Contains(text, "UtcTime:") {
		return FormatSysmonText
	}
	if syslogLine.MatchString(first) {
		return FormatSyslog
	}
	return laterLines(text)
}

// laterLines recognises a web server's whole output (`docker logs`,
// `kubectl logs`) that opens with lines of no log format, the image's
// start-up messages ("/docker-entrypoint.sh: ...", "AH00558: ..."): by
// the first error log or access line among the head's next lines.
func laterLines(text string) Format {
	lines := strings.Split(text, "\n")
	if len(lines) < 3 {
		return FormatUnknown
	}
	for _, l := range lines[1 : len(lines)-1] { // the last one may be cut
		switch {
		case errorlog.IsErrorLog(l):
			return FormatErrorLog
		case isAccessLine(l):
			return FormatAccess
		}
	}
	return FormatUnknown
}

// ecsLoggingLine reports whether line is a program's own log line as
// Elastic's ECS logging libraries write it, with the dotted keys "log.level"
// and "ecs.version" (the beats', Elastic Agent's and Elasticsearch's logs in
// /var/log): not events. An indexed or exported document nests them.
func ecsLoggingLine(line string) bool {
	var keys map[string]json.RawMessage
	if json.Unmarshal([]byte(line), &keys) != nil {
		return false
	}
	_, level := keys["log.level"]
	_, version := keys["ecs.version"]
	return level && version
}

// ausearchRecord returns the first audit record of ausearch's output
// ("----" before each event, then "time->Wed Nov 25 20:07:27 2026" in its
// default format), or "" when text is not such output.
func ausearchRecord(text string) string {
	if !strings.HasPrefix(text, "----") {
		return ""
	}
	for _, l := range strings.Split(text, "\n") {
		l = strings.TrimSuffix(l, "\r")
		switch {
		case l == "----" || strings.HasPrefix(l, "time->"):
			continue
		case strings.HasPrefix(l, "type=") || strings.HasPrefix(l, "node="):
			return l
		}
		return ""
	}
	return ""
}

// interpretedAudit reports whether text is the output of ausearch -i: its
// records hold the local time as the locale writes dates, and names for
// numbers (uid=root, syscall=execve, arguments decoded and unquoted), which
// cannot be read back into the records they came from.
func interpretedAudit(text string) bool {
	_, rest, ok := strings.Cut(ausearchRecord(text), "msg=audit(")
	return ok && !rawAuditTime.MatchString(rest)
}

// rawAuditTime is a record's time as the kernel writes it, after
// "msg=audit(": seconds.milliseconds:serial.
var rawAuditTime = regexp.MustCompile(`^\d+\.\d+:\d+\)`)

// jsonOfNoEvents reports whether text (a file's head) opens with a whole
// JSON value of no shape a reader takes for events (a Windows event, a
// search response, Splunk's results, an access line, an ECS document): a
// configuration or a document (/etc/docker/key.json), which would give one
// unreadable record each. A malformed event of a known shape is read, and
// reported. The first value, or an array's first element, decides; a head
// that ends before its first value is whole, or is no JSON (nginx's \xHH
// escapes), is taken for events and read.
func jsonOfNoEvents(text string) bool {
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	if text[0] == '[' {
		if _, err := dec.Token(); err != nil || !dec.More() {
			return false
		}
	}
	var v any
	if err := dec.Decode(&v); err != nil {
		return false
	}
	if _, ok := windows.SearchHits(v); ok || windows.IsEvent(v) {
		return false
	}
	recs, _ := (&jsonReader{access: accesslog.WithServer("")}).notEvent(v, "", "")
	return recs == nil // neither Splunk's results, an access line nor ECS
}

// jsonArrayStart reports whether text, which begins with '[', goes on as a
// JSON array of documents does, and not as a log whose lines begin with a
// bracketed time (php-fpm's "[10-Jun-2025 02:30:00] NOTICE: ...").
func jsonArrayStart(text string) bool {
	rest := strings.TrimLeft(text[1:], " \t\r\n")
	return rest == "" || strings.ContainsRune("{[]\"", rune(rest[0]))
}

// read returns the records of one file of a known format, each document
// naming the file in log.file.path, as the beat's inputs do (unless the
// record itself holds one), so that an alert says where it was found.
func read(f Format, name string, r io.ReadSeeker) iter.Seq[Record] {
	if f != FormatEVTX {
		r = skipUTF8BOM(r)
	}
	recs := readFormat(f, name, r)
	return func(yield func(Record) bool) {
		for rec := range recs {
			if rec.Doc != nil {
				if _, ok := detection.Lookup(rec.Doc, "log.file.path"); !ok {
					detection.Put(rec.Doc, "log.file.path", name)
				}
			}
			if !yield(rec) {
				return
			}
		}
	}
}

// skipUTF8BOM returns r without a leading UTF-8 byte order mark (Windows
// PowerShell's Out-File -Encoding UTF8 writes one, and so does IIS in UTF-8
// logs), as a reader whose offset 0 is the text's first byte, so that a
// format that seeks back to the start (JSON) does not meet it again.
func skipUTF8BOM(r io.ReadSeeker) io.ReadSeeker {
	var head [3]byte
	n, _ := io.ReadFull(r, head[:])
	ra, ok := r.(io.ReaderAt)
	size, err := r.Seek(0, io.SeekEnd)
	if n == 3 && head == [3]byte{0xEF, 0xBB, 0xBF} && ok && err == nil {
		return io.NewSectionReader(ra, 3, size-3)
	}
	_, _ = r.Seek(0, io.SeekStart) // a failing seek fails the format's first read too
	return r
}

// utf16Text decodes UTF-16 text that starts with its byte order mark to
// UTF-8, without the mark; invalid units become U+FFFD.
func utf16Text(r io.Reader) io.Reader {
	return transform.NewReader(r, unicode.BOMOverride(unicode.UTF8.NewDecoder()))
}

// readFormat returns the records of one file. name is used in Where and to
// tell nginx from Apache logs (same format, different module).
func readFormat(f Format, name string, r io.ReadSeeker) iter.Seq[Record] {
	switch f {
	case FormatEVTX:
		return readEVTX(name, r)
	case FormatXML:
		return readXML(name, r)
	case FormatJSON:
		return readJSON(name, r)
	case FormatAudit:
		return readAudit(name, r)
	case FormatAccess, FormatW3C:
		return readAccess(name, r)
	case FormatCSV:
		return readCSV(name, r)
	case FormatEventViewer:
		return readEventViewer(name, r)
	case FormatSysmonText:
		return readSysmonText(name, r)
	case FormatErrorLog:
		return readErrorLog(name, r)
	case FormatModSec:
		return readModSec(name, r)
	case FormatLaurel:
		return readLaurel(name, r)
	case FormatSyslog:
		return readSyslog(name, r)
	case FormatContainer:
		return readContainer(name, r)
	}
	return func(yield func(Record) bool) {
		yield(Record{Where: name, Err: fmt.Errorf("%s: unknown format", name)})
	}
}

func windowsRecord(where string, rec *windows.Record, raw string, err error) Record {
	if err != nil {
		return errRecord(where, raw, err)
	}
	return Record{Doc: rec.ECS(), Where: where}
}

// errRecord is a record that could not be read: its document keeps the raw
// text and error.message.
func errRecord(where, raw string, err error) Record {
	if len(raw) == maxLine {
		err = fmt.Errorf("%w (the line is longer than %d MiB: hunt read its first %d MiB)", err, maxLine>>20, maxLine>>20)
	}
	return Record{Doc: detection.ErrorDoc(raw, err), Where: where, Err: fmt.Errorf("%s: %w", where, err)}
}

func readEVTX(name string, r io.ReadSeeker) iter.Seq[Record] {
	return func(yield func(Record) bool) {
		stop := errStop
		err := windows.ReadEVTX(r, 0, func(rec *windows.Record, err error) error {
			where := name
			if rec != nil {
				where = fmt.Sprintf("%s#%d", name, rec.RecordID)
			}
			if !yield(windowsRecord(where, rec, "", err)) {
				return stop
			}
			return nil
		})
		if err != nil && err != stop {
			yield(windowsRecord(name, nil, "", err))
		}
	}
}

func readXML(name string, r io.Reader) iter.Seq[Record] {
	return func(yield func(Record) bool) {
		stop := errStop
		err := windows.SplitXML(r, func(raw []byte, off int64) error {
			rec, err := windows.ParseXML(raw)
			if !yield(windowsRecord(fmt.Sprintf("%s@%d", name, off), rec, string(raw), err)) {
				return stop
			}
			return nil
		})
		if err != nil && err != stop {
			yield(windowsRecord(name, nil, "", err))
		}
	}
}

// readJSON reads newline-delimited JSON line by line, so that one malformed
// line costs only itself; other JSON (pretty-printed objects, arrays,
// search responses) goes through windows.ReadJSONValues. Windows events are
// mapped by module/windows, with times corrected by the file's zone error
// (windows.ZoneError), learnt before the first record is yielded so that
// every record of the file moves alike; documents that are ECS already (a
// beat's, pulled back out of Elasticsearch) are read by module/ecs.
func readJSON(name string, r io.ReadSeeker) iter.Seq[Record] {
	return func(yield func(Record) bool) {
		nd := ndjson(r)
		rev := nd && newestFirst(r) // once: it reads the whole file
		j := &jsonReader{name: name, access: accesslog.WithServer(serverOf(name, "")), zone: jsonZone(r, nd, rev)}
		// The records of one array (or search response), which arrive with
		// one where, are put in time order before they are yielded: such
		// exports list the newest first as often as not (PowerShell's
		// Get-WinEvent, a search sorted as Kibana's Discover sorts), and the
		// merge keeps each stream's order, so a child process would come
		// before its parent. The array is in memory already.
		var batch []Record
		batchWhere, stopped := "", false
		flush := func() bool {
			sortByTime(batch)
			for _, rec := range batch {
				if !yield(rec) {
					return false
				}
			}
			batch = batch[:0]
			return true
		}
		jsonRecords(name, r, nd, rev, func(v any, where, raw string, err error) bool {
			if where != batchWhere {
				if !flush() {
					stopped = true
					return false
				}
				batchWhere = where
			}
			batch = append(batch, j.records(v, where, raw, err)...)
			return true
		})
		if stopped || !flush() {
			return
		}
		for _, rec := range j.flush() {
			if !yield(rec) {
				return
			}
		}
	}
}

// sortByTime puts records in @timestamp order, keeping the order of
// records of one time; records without a time (unreadable ones) come first.
func sortByTime(recs []Record) {
	slices.SortStableFunc(recs, func(a, b Record) int { return recordTime(a).Compare(recordTime(b)) })
}

// jsonReader maps the values of one JSON file.
type jsonReader struct {
	name   string
	access accesslog.Option
	zone   time.Duration
	splunk *splunkReader // once the file holds Splunk results
}

// flush returns the records still held at the end of the file: the audit
// events of Splunk results that no later record completed.
func (j *jsonReader) flush() []Record {
	if j.splunk == nil {
		return nil
	}
	return j.splunk.flush()
}

// records maps one JSON value (or the error of decoding it). A value of a
// Windows event shape is a Windows event (or, a syslog or journal row, an
// auoms record or a web server's access line); another is tried as Splunk
// results (their _raw), a JSON access log line and an ECS document, and
// reported with every reason when none.
func (j *jsonReader) records(v any, where, raw string, err error) []Record {
	if err != nil {
		// nginx's default escapes (\xHH) in a JSON log_format are not
		// JSON; accesslog.ParseJSON reads them.
		if doc, aerr := accesslog.ParseJSON(raw, j.access); aerr == nil {
			return []Record{{Doc: doc, Where: where}}
		}
		return []Record{windowsRecord(where, nil, raw, err)}
	}
	var notECS error
	switch windows.DetectJSON(windows.Document(v)) {
	case windows.ShapeSyslog, windows.ShapeJournal:
		if doc, ok, err := auomsDoc(v); ok {
			if err != nil {
				return []Record{errRecord(where, raw, fmt.Errorf("auoms: %w", err))}
			}
			return []Record{{Doc: doc, Where: where}}
		}
		if doc, ok := syslogRowAccess(v); ok {
			return []Record{{Doc: doc, Where: where}}
		}
		if !strings.Contains(syslogRowMessage(v), "<Event") {
			return nil // another program's entry, passed over as readSyslog passes its line
		}
	case windows.ShapeUnknown:
		if journalEntry(v) {
			return nil // an entry whose message is binary (journald keeps those as bytes)
		}
		var recs []Record
		if recs, notECS = j.notEvent(v, where, raw); recs != nil {
			return recs
		}
	}
	rec, err := windows.FromJSONValue(v)
	if err != nil && notECS != nil {
		err = fmt.Errorf("%w; %w", err, notECS)
	}
	rec.FixZone(j.zone)
	return []Record{windowsRecord(where, rec, raw, err)}
}

// notEvent reads a value of no Windows event shape as Splunk results, a
// JSON access log line or an ECS document; with none of them it returns
// why it is no ECS document.
func (j *jsonReader) notEvent(v any, where, raw string) ([]Record, error) {
	if results, ok := splunkResults(v); ok {
		if j.splunk == nil {
			j.splunk = newSplunkReader(j.name)
		}
		recs := []Record{} // not nil: the value was read, even to nothing
		for i, res := range results {
			at := where
			if len(results) > 1 {
				at = fmt.Sprintf("%s results[%d]", where, i)
			}
			recs = append(recs, j.splunk.records(at, res)...)
		}
		return slices.DeleteFunc(recs, func(r Record) bool { return r.Doc == nil && r.Err == nil }), nil
	}
	m, _ := windows.Plain(windows.Document(v)).(map[string]any)
	if modsec.IsJSON(m) { // SecAuditLogFormat JSON
		doc, zoned, err := modsec.FromJSON(m, time.UTC)
		if err != nil {
			return []Record{errRecord(where, raw, fmt.Errorf("modsecurity json: %w", err))}, nil
		}
		return []Record{{Doc: doc, Where: where, Zoneless: !zoned}}, nil
	}
	if doc, ok, err := accesslog.MatchJSON(m, j.access); ok {
		if err != nil {
			return []Record{errRecord(where, raw, fmt.Errorf("access log json: %w", err))}, nil
		}
		return []Record{{Doc: doc, Where: where}}, nil
	}
	doc, err := ecs.FromJSON(m)
	if err != nil {
		return nil, err
	}
	return []Record{{Doc: doc, Where: where}}, nil
}

// zoneScan is how many records of a JSON file jsonZone reads at most for
// one that tells the zone error: Sysmon events are spread through a mixed
// export, so a file without one among its first records likely has none.
const zoneScan = 1000

// jsonZone returns the zone error of a JSON file's times, from the first of
// its first zoneScan records that tells it (0 when none does), and rewinds r.
func jsonZone(r io.ReadSeeker, nd, rev bool) time.Duration {
	defer r.Seek(0, io.SeekStart)
	var zone time.Duration
	seen := 0
	jsonRecords("", r, nd, rev, func(v any, _, _ string, err error) bool {
		seen++
		if err != nil || !windows.IsEvent(v) {
			return seen < zoneScan
		}
		rec, _ := windows.FromJSONValue(v)
		z, ok := windows.ZoneError(rec)
		zone = z
		return !ok && seen < zoneScan
	})
	return zone
}

// jsonRecords calls fn with each decoded event value of a JSON file (or why
// it could not be read), where it is and, for NDJSON, its line, until fn
// returns false. rev reads NDJSON from its last line (see newestFirst).
func jsonRecords(name string, r io.ReadSeeker, nd, rev bool, fn func(v any, where, raw string, err error) bool) {
	if nd {
		all := lines(r)
		if rev {
			all = linesReversed(r)
		}
		for n, line := range all {
			if strings.TrimSpace(line) == "" {
				continue
			}
			v, err := windows.DecodeJSON([]byte(line))
			if !fn(v, fmt.Sprintf("%s:%d", name, n), line, err) {
				return
			}
		}
		return
	}
	stop := errStop
	err := windows.ReadJSONValues(r, func(v any, off int64, err error) error {
		if !fn(v, fmt.Sprintf("%s@%d", name, off), "", err) {
			return stop
		}
		return nil
	})
	if err != nil && err != stop {
		fn(nil, name, "", err)
	}
}

// ndjson reports whether the first line of r is one whole JSON object.
func ndjson(r io.ReadSeeker) bool {
	defer r.Seek(0, io.SeekStart)
	br := bufio.NewReaderSize(r, 1<<20)
	line, err := br.ReadString('\n')
	if err != nil && err != io.EOF {
		return false
	}
	line = strings.TrimSpace(line)
	return strings.HasPrefix(line, "{") && strings.HasSuffix(line, "}") && (validJSON(line) && !searchResponse(line) || nginxJSON(line))
}

// nginxJSON reports whether line is a JSON access log line written with
// nginx's default escapes (\xHH), which only accesslog.ParseJSON reads.
func nginxJSON(line string) bool {
	_, err := accesslog.ParseJSON(line)
	return err == nil
}

// searchResponse reports whether a JSON object is an Elasticsearch or
// OpenSearch _search response (curl writes it on one line): its hits are
// many events, which windows.ReadJSONValues reads, not one line's event.
func searchResponse(line string) bool {
	var top struct {
		Hits *struct {
			Hits []json.RawMessage `json:"hits"`
		} `json:"hits"`
	}
	return json.Unmarshal([]byte(line), &top) == nil && top.Hits != nil && top.Hits.Hits != nil
}

// serverOf names the web server of an access log by its file name, def
// when the name does not say.
func serverOf(name, def string) string {
	lower := strings.ToLower(name)
	switch {
	case strings.Contains(lower, "nginx"):
		return "nginx"
	case strings.Contains(lower, "apache") || strings.Contains(lower, "httpd"):
		return "apache"
	case strings.Contains(lower, "iis") || strings.Contains(lower, "u_ex"):
		return "iis"
	case strings.Contains(lower, "tomcat") || strings.Contains(lower, "localhost_access_log"):
		return "tomcat" // AccessLogValve's default file name
	case strings.Contains(lower, "lighttpd"):
		return "lighttpd"
	case strings.Contains(lower, "caddy"):
		return "caddy"
	case strings.Contains(lower, "traefik"):
		return "traefik"
	}
	return def
}

func readAccess(name string, r io.Reader) iter.Seq[Record] {
	server := serverOf(name, "apache")
	return func(yield func(Record) bool) {
		var w3c *accesslog.W3C
		for n, line := range lines(r) {
			if strings.TrimSpace(line) == "" {
				continue
			}
			var doc map[string]any
			var err error
			zoneless := false
			if w3c == nil && accesslog.IsW3CHeader(line) {
				w3c = accesslog.NewW3C()
			}
			if w3c != nil {
				doc, err = w3c.Parse(line)
				if doc == nil && err == nil {
					continue // directive
				}
			} else {
				doc, err = accesslog.ParseCombined(line, accesslog.WithServer(server))
				if err != nil {
					if errorDoc, ok := errorlog.ParsePrefixed(line, nil); ok { // an error log line among the requests
						doc, err = errorDoc, nil
						zoneless = detection.LookupString(doc, "event.module") != errorlog.PHP // PHP's names its zone
					}
				}
			}
			rec := lineRecord(name, n, line, doc, err)
			rec.Zoneless = zoneless
			if !yield(rec) {
				return
			}
		}
	}
}

// lineRecord is the record of line n of a text log: its document, or its
// error. The document keeps the line in event.original, as the beat's
// decode processors do: an alert then shows the request's whole line, and
// two requests that differ only in fields hunt does not map (a trailing
// X-Forwarded-For) are told apart in webshell.doc_id.
func lineRecord(name string, n int, line string, doc map[string]any, err error) Record {
	where := fmt.Sprintf("%s:%d", name, n)
	if err != nil {
		return errRecord(where, line, err)
	}
	if _, ok := detection.Lookup(doc, "event.original"); !ok {
		detection.Put(doc, "event.original", line)
	}
	return Record{Doc: doc, Where: where}
}

// readErrorLog reads an Apache, nginx, php-fpm or PHP error log, whose
// server its first line tells. Its times have no zone (but PHP's) and are
// read as UTC, as every time without a zone in hunt; an unprefixed line
// (a command's output under mod_php, a continued message) takes the time
// of the line before, and the lines before the first dated one take its.
// Access lines in it are access events: a server's whole output, as
// `docker logs` or `kubectl logs` capture it, or one file for both logs.
func readErrorLog(name string, r io.ReadSeeker) iter.Seq[Record] {
	return func(yield func(Record) bool) {
		var p errorlog.Parser
		p.DateBy(firstErrorTime(r))
		for n, line := range lines(r) {
			if strings.TrimSpace(line) == "" {
				continue
			}
			doc, err := p.ParseMixed(line)
			rec := lineRecord(name, n, line, doc, err)
			rec.Zoneless = !p.Zoned() // PHP's error_log and access lines carry their zone
			if !yield(rec) {
				return
			}
		}
	}
}

// firstErrorTime returns the time of the first error log line of r (zero
// when none; see firstErrorLine): the image's start-up messages that open
// `docker logs` are dated by it.
func firstErrorTime(r io.ReadSeeker) time.Time {
	t, _ := firstErrorLine(r, nil)["@timestamp"].(time.Time)
	return t
}

// errorScan is how many lines firstErrorLine reads at most: the servers
// log an error log line at start-up.
const errorScan = 1000

// firstErrorLine returns the document of the first error log line among
// the first errorScan lines of r (nil when none), each line's text taken
// through text (nil: the line itself; false: no text), and rewinds r.
func firstErrorLine(r io.ReadSeeker, text func(string) (string, bool)) map[string]any {
	defer r.Seek(0, io.SeekStart)
	n := 0
	for _, line := range lines(r) {
		if n++; n > errorScan {
			break
		}
		if text != nil {
			var ok bool
			if line, ok = text(line); !ok {
				continue
			}
		}
		if doc, ok := errorlog.ParsePrefixed(line, nil); ok {
			return doc
		}
	}
	return nil
}

// readSysmonText splits rendered Sysmon messages: a record starts at an
// "EventID: n" line, a "Process Create:"-style header or the "Log Name:"
// line of Event Viewer's copied text, or after a blank line.
func readSysmonText(name string, r io.Reader) iter.Seq[Record] {
	return func(yield func(Record) bool) {
		var buf []string
		start := 0
		flush := func() bool {
			if len(buf) == 0 {
				return true
			}
			text := strings.Join(buf, "\n")
			buf = buf[:0]
			rec, err := windows.ParseSysmonText(text)
			return yield(windowsRecord(fmt.Sprintf("%s:%d", name, start), rec, text, err))
		}
		for n, line := range lines(r) {
			trimmed := strings.TrimSpace(line)
			evBlock := strings.HasPrefix(trimmed, "Log Name:") // Event Viewer's "Copy details as text"
			if trimmed == "" || len(buf) > 0 && (evBlock || sysmonHeader.MatchString(trimmed) && isHeaderStart(buf, trimmed)) {
				if !flush() {
					return
				}
			}
			if trimmed == "" {
				continue
			}
			if len(buf) == 0 {
				start = n
			}
			buf = append(buf, line)
		}
		flush()
	}
}

// readSyslog reads the Sysmon for Linux events of a syslog file, and the
// access lines of web servers that log to syslog (nginx's access_log
// syslog:server=..., Apache's piped logger, collected by rsyslog), each at
// the request's own time, of the server the program names. Other lines
// are not events webshellbeat reads and are passed over without a word (a
// hunt over /var/log/syslog is mostly such lines); a Sysmon line that
// cannot be read is reported.
func readSyslog(name string, r io.Reader) iter.Seq[Record] {
	return func(yield func(Record) bool) {
		for n, line := range lines(r) {
			if !strings.Contains(line, "<Event") {
				if doc, ok := syslogAccess(line); ok && !yield(lineRecord(name, n, line, doc, nil)) {
					return
				}
				continue
			}
			rec, err := windows.ParseSyslog(line)
			if !yield(windowsRecord(fmt.Sprintf("%s:%d", name, n), rec, line, err)) {
				return
			}
		}
	}
}

// syslogProgram matches a traditional or high-precision syslog line and
// captures its host, program and message.
var syslogProgram = regexp.MustCompile(`^(?:` + syslogTime + `) (\S+) ([^\s:\[]+)(?:\[\d+\])?: (.*)$`)

// syslogAccess maps the message of a syslog line when it is an access
// line (see accessMessage).
func syslogAccess(line string) (map[string]any, bool) {
	if !strings.Contains(line, `] "`) { // most of a syslog file: spared the regexp
		return nil, false
	}
	m := syslogProgram.FindStringSubmatch(line)
	if m == nil {
		return nil, false
	}
	return accessMessage(m[1], m[2], m[3])
}

// accessMessage maps msg, a syslog message of program on host, when it is
// an access line (combined or common): of the server the program names, on
// that host (which joins its requests with the host's processes), the line
// in event.original as the beat's syslog processor and decode_access_log
// leave it.
func accessMessage(host, program, msg string) (map[string]any, bool) {
	if !strings.Contains(msg, `] "`) { // no "[time] "request"": not worth a parse
		return nil, false
	}
	doc, err := accesslog.ParseCombined(msg, accesslog.WithServer(serverOf(program, "apache")))
	if err != nil {
		return nil, false
	}
	detection.Put(doc, "event.original", msg)
	if host != "" {
		doc["host"] = map[string]any{"name": host}
	}
	return doc, true
}

// syslogRowAccess maps a syslog row (journalctl -o json, Log Analytics'
// Syslog table) whose message is a web server's access line.
func syslogRowAccess(v any) (map[string]any, bool) {
	first := rowField(v)
	return accessMessage(first("_HOSTNAME", "Computer", "HostName"), first("SYSLOG_IDENTIFIER", "ProcessName"), first("MESSAGE", "SyslogMessage"))
}

// syslogRowMessage is the message of a syslog row.
func syslogRowMessage(v any) string { return rowField(v)("MESSAGE", "SyslogMessage") }

// rowField returns a function that gives the first of a row's fields that
// is a string and not empty.
func rowField(v any) func(keys ...string) string {
	m, _ := windows.Plain(windows.Document(v)).(map[string]any)
	return func(keys ...string) string {
		for _, k := range keys {
			if s, ok := m[k].(string); ok && s != "" {
				return s
			}
		}
		return ""
	}
}

// journalEntry reports whether v is an entry of journalctl -o json (it
// has the journal's own time and cursor fields).
func journalEntry(v any) bool {
	m, _ := windows.Plain(windows.Document(v)).(map[string]any)
	_, t := m["__REALTIME_TIMESTAMP"]
	_, c := m["__CURSOR"]
	_, msg := m["MESSAGE"]
	return t && (c || msg)
}

// isHeaderStart reports whether header starts a new record rather than
// following the header that already began buf ("Process Create:" then
// "EventID: 1" belong together).
func isHeaderStart(buf []string, header string) bool {
	for _, l := range buf {
		if sysmonHeader.MatchString(strings.TrimSpace(l)) && strings.HasPrefix(strings.TrimSpace(l), "EventID") == strings.HasPrefix(header, "EventID") {
			return true
		}
	}
	return false
}

// maxLine is the longest line hunt reads, filebeat's message_max_bytes
// default: the rest of a longer line is passed over, so that one runaway
// line (a file of binary bytes, a log of one endless request) cannot take
// the machine's memory. A cut line that cannot be read says so (errRecord).
const maxLine = 10 << 20

// lines yields the lines of r (1-based numbers), without line endings, each
// cut at maxLine bytes.
func lines(r io.Reader) iter.Seq2[int, string] {
	return func(yield func(int, string) bool) {
		br := bufio.NewReaderSize(r, 64<<10)
		var line []byte
		for n := 1; ; n++ {
			line = line[:0]
			var err error
			for {
				var part []byte
				part, err = br.ReadSlice('\n')
				line = append(line, part[:min(len(part), maxLine-len(line))]...)
				if err != bufio.ErrBufferFull {
					break
				}
			}
			if len(line) == 0 && err != nil {
				return
			}
			if !yield(n, strings.TrimRight(string(line), "\r\n")) {
				return
			}
		}
	}
}
