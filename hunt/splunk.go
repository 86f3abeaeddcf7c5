package hunt

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"webshellbeat/detection"
	"webshellbeat/module/accesslog"
	"webshellbeat/module/errorlog"
	"webshellbeat/module/windows"
)

// Splunk search results exported as JSON (the search page's Export, or
// the REST API's search/jobs/export with output_mode=json: one
// {"preview":false,"result":{...}} per line; a job's {"results":[...]})
// or CSV (csv.go) keep each event's original text in _raw, and the host
// Splunk gave it in host. splunkReader reads the _raw of each result as the
// log it came from: Windows event XML (XmlWinEventLog) or the classic
// WinEventLog text, audit records (joined into events across results, as
// in audit.log), access log lines (Apache/nginx combined or common; IIS W3C
// with its default fields or the #Fields directive seen last), Sysmon for
// Linux syslog lines, Apache and nginx error log lines, or JSON events.
type splunkReader struct {
	name  string
	audit *auditJoin
	w3c   *accesslog.W3C
	host  string   // Splunk's host of the result read last
	held  []Record // records newer than an audit event still open
	// errorLogs are the error log parsers, by Splunk source.
	errorLogs map[string]*errorlog.Parser
}

func newSplunkReader(name string) *splunkReader {
	return &splunkReader{name: name, audit: newAuditJoin(name)}
}

// splunkResults returns the results of a decoded JSON value: one for an
// export line (see splunkResult), or the "results" list of the REST API's
// search results ({"results":[...]}), oldest first.
func splunkResults(v any) ([]map[string]any, bool) {
	if res, ok := splunkResult(v); ok {
		return []map[string]any{res}, true
	}
	m, _ := windows.Plain(v).(map[string]any)
	list, _ := m["results"].([]any)
	var out []map[string]any
	for _, e := range list {
		res, ok := splunkResult(e)
		if !ok {
			return nil, false
		}
		out = append(out, res)
	}
	if len(out) > 1 {
		t1, err1 := splunkEventTime(out[0])
		t2, err2 := splunkEventTime(out[len(out)-1])
		if err1 == nil && err2 == nil && t1.After(t2) {
			slices.Reverse(out) // Splunk lists the newest first
		}
	}
	return out, len(out) > 0
}

// splunkResult returns the result of a decoded JSON value that is a Splunk
// export line ({"result":{"_raw":...}}) or a result itself (_raw with
// Splunk's _time or sourcetype).
func splunkResult(v any) (map[string]any, bool) {
	m, _ := windows.Plain(v).(map[string]any)
	if r, ok := m["result"].(map[string]any); ok {
		m = r
	}
	if _, ok := m["_raw"].(string); !ok {
		return nil, false
	}
	_, hasTime := m["_time"]
	_, hasType := m["sourcetype"]
	return m, hasTime || hasType
}

// records reads one result found at where; an audit record may complete
// none or several events.
func (s *splunkReader) records(where string, res map[string]any) []Record {
	raw := strings.TrimSpace(res["_raw"].(string))
	sourcetype, _ := res["sourcetype"].(string)
	var recs []Record
	switch {
	case strings.HasPrefix(raw, "type=") || strings.HasPrefix(raw, "node="):
		for _, line := range strings.Split(raw, "\n") {
			recs = append(recs, s.audit.add(line, where)...)
		}
	case strings.HasPrefix(raw, "<Event"):
		rec, err := windows.ParseXML([]byte(raw))
		recs = []Record{windowsRecord(where, rec, raw, err)}
	case strings.HasPrefix(raw, "{"):
		rec, err := windows.ParseJSON([]byte(raw))
		recs = []Record{windowsRecord(where, rec, raw, err)}
	case strings.Contains(raw, "\nEventCode=") && strings.Contains(raw, "\nMessage="):
		// The classic WinEventLog text: its own time line has no zone, so
		// the time is Splunk's, unless Sysmon's UtcTime gave one.
		rec, err := windows.ParseWinEventLogText(raw)
		if err == nil && rec.TimeCreated.IsZero() {
			rec.TimeCreated, err = splunkEventTime(res)
		}
		recs = []Record{windowsRecord(where, rec, raw, err)}
	case strings.Contains(raw, "<Event") && syslogLine.MatchString(raw):
		rec, err := windows.ParseSyslog(raw)
		recs = []Record{windowsRecord(where, rec, raw, err)}
	case isErrorLogResult(raw, sourcetype):
		recs = s.errorLog(where, raw, sourcetype, res)
	default:
		if doc, ok := syslogAccess(raw); ok { // a web server's access line sent to syslog
			recs = []Record{{Doc: doc, Where: where}}
		} else {
			recs = []Record{s.access(where, raw, sourcetype, res)}
		}
	}
	if host, _ := res["host"].(string); host != "" {
		s.host = host
	}
	return s.release(s.withHost(recs), false)
}

// release returns the held records that no audit event still open can
// precede (all of them at the end), oldest first: an audit event is
// complete only when a later record arrives, and the records of other
// sources read meanwhile must not come out before it.
func (s *splunkReader) release(recs []Record, end bool) []Record {
	for _, r := range recs { // in time order, after records of the same time
		t := timeOf(r)
		i := sort.Search(len(s.held), func(i int) bool { return timeOf(s.held[i]).After(t) })
		s.held = slices.Insert(s.held, i, r)
	}
	n := len(s.held)
	if open, ok := s.audit.oldestOpen(); ok && !end && n <= maxHeld {
		n = sort.Search(len(s.held), func(i int) bool { return timeOf(s.held[i]).After(open) })
	}
	out := slices.Clone(s.held[:n])
	s.held = slices.Delete(s.held, 0, n)
	return out
}

// maxHeld bounds the records release holds: an audit event that never
// completes (a lone record, no later audit record to close it) must not
// keep the rest of a large export in memory. Past it, the held records go
// out, and that event comes later than them.
const maxHeld = 4096

// withHost gives the documents that name no host the host of the result
// read last (an audit event completes with a later record, of the same
// host in a per-host search).
func (s *splunkReader) withHost(recs []Record) []Record {
	for _, r := range recs {
		if r.Doc != nil && r.Err == nil && s.host != "" && detection.LookupString(r.Doc, "host.name") == "" {
			detection.Put(r.Doc, "host.name", s.host)
		}
	}
	return recs
}

// splunkEventTime is a result's _time, which Splunk stores with its zone.
func splunkEventTime(res map[string]any) (time.Time, error) {
	s, _ := res["_time"].(string)
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("splunk _time %q is not an RFC 3339 time (the event text's own time has no zone)", s)
	}
	return t.UTC(), nil
}

// access reads an access log line, its server named by the sourcetype
// (access_combined, nginx:plus:access, ms:iis:auto) or the source path.
func (s *splunkReader) access(where, raw, sourcetype string, res map[string]any) Record {
	source, _ := res["source"].(string)
	server := serverOf(sourcetype+" "+source, "apache")
	var doc map[string]any
	var err error
	if accesslog.IsW3CHeader(raw) || server == "iis" {
		if s.w3c == nil {
			s.w3c = accesslog.NewW3C()
		}
		doc, err = s.w3c.Parse(raw)
		if doc == nil && err == nil {
			return Record{} // a directive
		}
	} else if doc, err = accesslog.ParseCombined(raw, accesslog.WithServer(server)); err != nil && accesslog.Detect(raw) == accesslog.FormatUnknown {
		// Not an access log line at all: say what the result was.
		err = fmt.Errorf("splunk _raw (sourcetype %q) is not a log format hunt reads (Windows event XML, audit records, access logs, Sysmon for Linux syslog)", sourcetype)
	}
	if err != nil {
		return errRecord(where, raw, err)
	}
	return Record{Doc: doc, Where: where}
}

// isErrorLogResult reports whether a result is of an Apache or nginx error
// log: its first line has that prefix, or its sourcetype says so
// (apache_error, nginx:plus:error) for a line without one.
func isErrorLogResult(raw, sourcetype string) bool {
	first, _, _ := strings.Cut(raw, "\n")
	if errorlog.IsErrorLog(first) {
		return true
	}
	return strings.Contains(strings.ToLower(sourcetype), "error") && errorLogServer(sourcetype) != ""
}

// errorLogServer is the error log server a Splunk sourcetype or source
// names: apache, nginx or "".
func errorLogServer(name string) string {
	if s := serverOf(name, ""); s == errorlog.Apache || s == errorlog.Nginx {
		return s
	}
	return ""
}

// errorLog reads an error log result, one event per line: Splunk merges a
// command's output lines into the result of the line before them. Each
// source has its parser, so that a lone unprefixed result follows its
// server. The events take Splunk's _time, which carries the zone the
// line's own time lacks.
func (s *splunkReader) errorLog(where, raw, sourcetype string, res map[string]any) []Record {
	source, _ := res["source"].(string)
	p := s.errorLogs[source]
	if p == nil {
		if s.errorLogs == nil {
			s.errorLogs = map[string]*errorlog.Parser{}
		}
		p = &errorlog.Parser{Server: errorLogServer(sourcetype + " " + source)}
		s.errorLogs[source] = p
	}
	at, timeErr := splunkEventTime(res)
	if timeErr == nil {
		p.DateBy(at)
	}
	var recs []Record
	for _, line := range strings.Split(raw, "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		doc, err := p.Parse(line)
		if err != nil {
			recs = append(recs, errRecord(where, line, err))
			continue
		}
		if timeErr == nil {
			doc["@timestamp"] = at
		}
		recs = append(recs, Record{Doc: doc, Where: where})
	}
	return recs
}

func (s *splunkReader) flush() []Record { return s.release(s.withHost(s.audit.flush()), true) }
