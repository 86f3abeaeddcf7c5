package hunt

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"webshellbeat/detection"
)

// splunkExport writes the lines of files as Splunk's JSON export does:
// one {"preview":false,"offset":n,"result":{"_raw":...}} per line, newest
// first, with _time, host, source and sourcetype.
func splunkExport(t *testing.T, host string, files map[string]string) string {
	t.Helper()
	type row struct {
		at         time.Time
		n          int
		raw, st, s string
	}
	auditTime := regexp.MustCompile(`audit\((\d+)\.(\d+):`)
	var rows []row
	for path, sourcetype := range files {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for n, line := range strings.Split(string(b), "\n") {
			if strings.TrimSpace(line) == "" {
				continue
			}
			var at time.Time
			if m := auditTime.FindStringSubmatch(line); m != nil {
				sec, _ := strconv.ParseInt(m[1], 10, 64)
				ms, _ := strconv.ParseInt(m[2], 10, 64)
				at = time.Unix(sec, ms*1e6).UTC()
			} else if i := strings.IndexByte(line, '['); i >= 0 {
				at, err = time.Parse("02/Jan/2006:15:04:05 -0700", line[i+1:i+27])
				if err != nil {
					t.Fatalf("%s:%d: %v", path, n+1, err)
				}
			}
			rows = append(rows, row{at, n, line, sourcetype, path})
		}
	}
	slices.SortStableFunc(rows, func(a, b row) int {
		if c := b.at.Compare(a.at); c != 0 {
			return c
		}
		return b.n - a.n
	})
	var out strings.Builder
	for i, r := range rows {
		line, _ := json.Marshal(map[string]any{"preview": false, "offset": i, "result": map[string]any{
			"_raw": r.raw, "_time": r.at.Format("2006-01-02T15:04:05.000-07:00"), "host": host, "source": r.s, "sourcetype": r.st, "index": "main"}})
		out.Write(append(line, '\n'))
	}
	p := writeFile(t, t.TempDir(), "splunk-export.json", []byte(out.String()))
	return p
}

// The Linux capture exported from Splunk (audit records one result each,
// newest first, as Splunk lists them) gives the events and alerts of the
// capture's own files: the file is read oldest first, audit records are
// joined into events again, and every document carries Splunk's host.
func TestSplunkExport(t *testing.T) {
	capture := "../../shared/data/linux-capture/"
	export := splunkExport(t, "wsb-capture", map[string]string{
		capture + "audit.log": "linux:audit", capture + "nginx_access.log": "nginx:plus:access", capture + "apache_access.log": "access_combined"})
	want, wantSt := records(t, capture+"audit.log", capture+"nginx_access.log", capture+"apache_access.log")
	got, st := records(t, export)
	if len(got) != len(want) || st.Formats[FormatJSON] != 1 {
		t.Fatalf("%d records from the export (stats %+v), %d from the files (%+v)", len(got), st, len(want), wantSt)
	}
	key := func(r Record) string {
		return fmt.Sprint(detection.LookupString(r.Doc, "event.dataset"), " ", detection.LookupString(r.Doc, "process.command_line"),
			detection.LookupString(r.Doc, "url.original"), " ", timeOf(r).UnixNano())
	}
	var wantKeys, gotKeys []string
	for i := range want {
		wantKeys, gotKeys = append(wantKeys, key(want[i])), append(gotKeys, key(got[i]))
		if got[i].Err != nil {
			t.Errorf("%s: %v", got[i].Where, got[i].Err)
		}
		if h := detection.LookupString(got[i].Doc, "host.name"); h != "wsb-capture" {
			t.Errorf("%s: host.name %q, want Splunk's host", got[i].Where, h)
		}
	}
	// In time order (records of one second from two access logs may come
	// in either order), and the same records.
	for i := 1; i < len(got); i++ {
		if timeOf(got[i]).Before(timeOf(got[i-1])) {
			t.Errorf("record %d (%s) is older than the one before it (%s)", i, gotKeys[i], gotKeys[i-1])
		}
	}
	slices.Sort(gotKeys)
	slices.Sort(wantKeys)
	if !slices.Equal(gotKeys, wantKeys) {
		t.Errorf("the export's records differ from the files':\n%q\n%q", gotKeys, wantKeys)
	}
	if d := detection.LookupString(got[len(got)-1].Doc, "event.dataset"); d == "" {
		t.Error("no dataset")
	}
	nginx := 0
	for _, r := range got {
		if detection.LookupString(r.Doc, "event.dataset") == "nginx.access" {
			nginx++
		}
	}
	if nginx == 0 {
		t.Error("no nginx.access document: the sourcetype nginx:plus:access names the server")
	}
}

// Windows event XML in _raw (XmlWinEventLog), a _raw hunt cannot read,
// reported with its sourcetype, and a web server's access line in a syslog
// _raw.
func TestSplunkRaw(t *testing.T) {
	xml, err := os.ReadFile("../../shared/data/seed/security-4688.xml")
	if err != nil {
		t.Fatal(err)
	}
	lines := []map[string]any{
		{"preview": false, "result": map[string]any{"_raw": strings.TrimSpace(string(xml)), "_time": "2015-11-12T02:24:52.377+00:00", "host": "splunk-host", "sourcetype": "XmlWinEventLog"}},
		{"preview": false, "result": map[string]any{"_raw": "Nov 26 07:00:00 fw01 kernel: DROP IN=eth0", "_time": "2015-11-12T02:24:53.000+00:00", "host": "fw01", "sourcetype": "syslog"}},
		// nginx's access line sent to syslog: read as the request.
		{"preview": false, "result": map[string]any{"_raw": `Nov 26 07:00:05 web1 nginx: 203.0.113.7 - - [12/Nov/2015:02:24:54 +0000] "GET /up/x.php?cmd=id HTTP/1.1" 200 3 "-" "curl"`, "_time": "2015-11-12T02:24:55.000+00:00", "host": "web1", "sourcetype": "syslog"}},
	}
	var text strings.Builder
	for _, l := range lines {
		b, _ := json.Marshal(l)
		text.Write(append(b, '\n'))
	}
	recs, _ := records(t, writeFile(t, t.TempDir(), "export.json", []byte(text.String())))
	if len(recs) != 3 || recs[0].Err != nil || detection.LookupString(recs[0].Doc, "process.name") != "cmd.exe" ||
		detection.LookupString(recs[0].Doc, "host.name") != "WIN-GG82ULGC9GO.contoso.local" {
		t.Fatalf("records %v", recs)
	}
	if recs[1].Err == nil || !strings.Contains(recs[1].Err.Error(), `export.json:2: splunk _raw (sourcetype "syslog") is not a log format hunt reads`) {
		t.Errorf("unreadable _raw: %v", recs[1].Err)
	}
	if d := recs[2].Doc; recs[2].Err != nil || detection.LookupString(d, "event.dataset") != "nginx.access" || detection.LookupString(d, "host.name") != "web1" {
		t.Errorf("nginx's access line in a syslog _raw: %v, %v", d, recs[2].Err)
	}
}

func TestLinesReversed(t *testing.T) {
	long := strings.Repeat("x", 150<<10) // longer than the 64 KiB chunk
	for _, text := range []string{"", "a", "a\n", "a\nb", "a\nb\n", "a\n\nb\n", "a\r\nb\r\n", "a\n" + long + "\nb\n", long} {
		f := writeFile(t, t.TempDir(), "f", []byte(text))
		r, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		var fwd, rev []string
		for n, l := range lines(r) {
			fwd = append(fwd, fmt.Sprint(n, ":", l))
		}
		for n, l := range linesReversed(r) {
			rev = append(rev, fmt.Sprint(n, ":", l))
		}
		r.Close()
		slices.Reverse(rev)
		if !slices.Equal(fwd, rev) {
			t.Errorf("%.20q: forwards %d lines, backwards %d (first %.20q, %.20q)", text, len(fwd), len(rev), fwd, rev)
		}
	}
}

// The REST API's search results ({"results":[...]}, newest first, here
// pretty-printed) are read like the export's lines.
func TestSplunkResultsList(t *testing.T) {
	results := []any{
		map[string]any{"_raw": `10.0.0.9 - - [25/Nov/2026:19:02:29 +0000] "GET /up/a.php?cmd=id HTTP/1.1" 200 12 "-" "curl/8"`, "_time": "2026-11-25T19:02:29.000+00:00", "host": "web1", "sourcetype": "access_combined"},
		map[string]any{"_raw": `10.0.0.9 - - [25/Nov/2026:19:02:28 +0000] "GET /up/a.php?cmd=whoami HTTP/1.1" 200 12 "-" "curl/8"`, "_time": "2026-11-25T19:02:28.000+00:00", "host": "web1", "sourcetype": "access_combined"},
	}
	b, _ := json.MarshalIndent(map[string]any{"preview": false, "init_offset": 0, "messages": []any{}, "results": results}, "", "  ")
	recs, _ := records(t, writeFile(t, t.TempDir(), "results.json", b))
	if len(recs) != 2 || detection.LookupString(recs[0].Doc, "url.query") != "cmd=whoami" || detection.LookupString(recs[1].Doc, "host.name") != "web1" {
		t.Fatalf("records %v", recs)
	}
}

// Splunk's classic WinEventLog text (renderXml off): the time comes from
// _time, whose zone is known.
func TestSplunkClassicText(t *testing.T) {
	raw := "11/25/2026 07:00:00 PM\nLogName=Security\nSourceName=Microsoft Windows security auditing.\nEventCode=4688\nComputerName=web01.contoso.local\n" +
		"Message=A new process has been created.\n\nCreator Subject:\n\tSecurity ID:\t\tS-1-5-82-1\n\tAccount Name:\t\tDefaultAppPool\n\tAccount Domain:\t\tIIS APPPOOL\n\n" +
		"Process Information:\n\tNew Process ID:\t\t0x1a20\n\tNew Process Name:\tC:\\Windows\\System32\\cmd.exe\n\tCreator Process ID:\t0xe74\n" +
		"\tCreator Process Name:\tC:\\Windows\\System32\\inetsrv\\w3wp.exe\n\tProcess Command Line:\tcmd /c whoami\n"
	var text strings.Builder
	for _, tm := range []string{"2026-11-25T19:00:00.000+00:00", "yesterday"} {
		b, _ := json.Marshal(map[string]any{"preview": false, "result": map[string]any{"_raw": raw, "_time": tm, "host": "web01", "sourcetype": "WinEventLog"}})
		text.Write(append(b, '\n'))
	}
	recs, _ := records(t, writeFile(t, t.TempDir(), "classic.json", []byte(text.String())))
	if len(recs) != 2 || recs[0].Err != nil || detection.LookupString(recs[0].Doc, "process.parent.name") != "w3wp.exe" ||
		detection.LookupString(recs[0].Doc, "user.name") != "DefaultAppPool" || timeOf(recs[0]).Format(time.RFC3339) != "2026-11-25T19:00:00Z" {
		t.Fatalf("records %v", recs)
	}
	if recs[1].Err == nil || !strings.Contains(recs[1].Err.Error(), `splunk _time "yesterday" is not an RFC 3339 time`) {
		t.Errorf("bad _time: %v", recs[1].Err)
	}
}

// An audit event that never completes (one record, no later audit record)
// holds the records after it only up to maxHeld.
func TestSplunkHeldBound(t *testing.T) {
	s := newSplunkReader("x")
	res := func(raw, at string) map[string]any {
		return map[string]any{"_raw": raw, "_time": at, "host": "h", "sourcetype": "access_combined"}
	}
	out := len(s.records("x:1", res(`type=SYSCALL msg=audit(1764097200.000:7): arch=c000003e syscall=59 success=yes exit=0 ppid=1 pid=2 uid=33 comm="sh" exe="/bin/sh"`, "2025-11-25T19:00:00.000+00:00")))
	for i := range maxHeld + 10 {
		out += len(s.records(fmt.Sprintf("x:%d", i+2), res(`10.0.0.9 - - [25/Nov/2026:19:02:28 +0000] "GET / HTTP/1.1" 200 12 "-" "curl/8"`, "2026-11-25T19:02:28.000+00:00")))
	}
	if out == 0 || len(s.held) > maxHeld {
		t.Errorf("%d records out before the end, %d held", out, len(s.held))
	}
	out += len(s.flush())
	if out != maxHeld+11 {
		t.Errorf("%d records in all, want %d", out, maxHeld+11)
	}
}

// FuzzReadJSON: any JSON file hunt reads (Splunk results, auoms rows, JSON
// access logs, Windows events, ECS documents) gives records with a document
// or an error, and never panics.
func FuzzReadJSON(f *testing.F) {
	f.Add(`{"preview":false,"result":{"_raw":"type=SYSCALL msg=audit(1.0:1): arch=c000003e syscall=59 success=yes pid=2 exe=\"/bin/sh\"","_time":"2026-11-25T19:00:00Z","host":"h","sourcetype":"linux:audit"}}` + "\n" +
		`{"preview":false,"result":{"_raw":"10.0.0.9 - - [25/Nov/2026:19:02:28 +0000] \"GET /a.php?c=id HTTP/1.1\" 200 1","_time":"2026-11-25T19:02:28Z","host":"h","sourcetype":"access_combined"}}` + "\n")
	f.Add(`{"results":[{"_raw":"11/25/2026 07:00:00 PM\nLogName=Security\nEventCode=4688\nMessage=A new process has been created.\n\nProcess Information:\n\tNew Process Name:\tC:\\x.exe\n","_time":"2026-11-25T19:00:00Z"}]}`)
	f.Add(`{"SyslogMessage":"type=AUOMS_EXECVE audit(1652292621.990:1): pid=2 ppid=1 success=yes exe=\"/bin/bash\" cmdline=\"bash -c \"id\"\" redactors=","ProcessName":"auoms","Computer":"h"}`)
	f.Add(`{"preview":false,"result":{"_raw":"[Wed Nov 25 11:05:00.000002 2026] [php:warn] [pid 9] [client 1.2.3.4:5] PHP Warning: x\nsh: 1: nc: not found","_time":"2026-11-25T11:05:00.000+01:00","source":"/var/log/apache2/error.log","sourcetype":"apache_error"}}` + "\n" +
		`{"preview":false,"result":{"_raw":"sh: 0: can't access tty; job control turned off","_time":"2026-11-25T11:06:00Z","sourcetype":"nginx:plus:error"}}` + "\n")
	f.Add(`{"time_local":"26/Nov/2026:06:55:09 +0000","remote_addr":"1.2.3.4","request":"GET /a.php?cmd=id HTTP/1.1","status":200}`)
	f.Fuzz(func(t *testing.T, text string) {
		dir := t.TempDir()
		p := filepath.Join(dir, "f.json")
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		fh, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		defer fh.Close()
		for rec := range readJSON("f.json", fh) {
			if rec.Doc == nil && rec.Err == nil {
				t.Fatal("a record with neither a document nor an error")
			}
		}
	})
}

// Apache error log results, as Splunk's apache_error sourcetype gives them:
// a command's output merged into the result of the line before, or a result
// of its own. Each line is an event at the result's _time (which has the
// zone the line lacks), and the built-in rules alert on them.
func TestSplunkErrorLog(t *testing.T) {
	res := func(raw, at string) map[string]any {
		return map[string]any{"preview": false, "result": map[string]any{"_raw": raw, "_time": at, "host": "web1",
			"source": "/var/log/apache2/error.log", "sourcetype": "apache_error"}}
	}
	var text strings.Builder
	for _, l := range []map[string]any{
		res("[Wed Nov 25 11:05:00.000002 2026] [php:warn] [pid 9] [client 203.0.113.9:4242] PHP Warning:  Undefined array key \"c\" in /var/www/html/uploads/x.php on line 1\nsh: 1: nc: not found", "2026-11-25T11:05:00.000+01:00"),
		res("sh: 0: can't access tty; job control turned off", "2026-11-25T11:06:00.000+01:00"),
	} {
		b, _ := json.Marshal(l)
		text.Write(append(b, '\n'))
	}
	export := writeFile(t, t.TempDir(), "export.json", []byte(text.String()))
	recs, _ := records(t, export)
	if len(recs) != 3 {
		t.Fatalf("%d records, want 3: %v", len(recs), recs)
	}
	// Splunk's _time has its zone: --timezone leaves these times alone.
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip(err)
	}
	var times timesOf
	if _, err := Run([]string{export}, &times, func(map[string]any) {}, nil, InZone(berlin)); err != nil {
		t.Fatal(err)
	}
	if len(times) != 3 || times[0].Format(time.RFC3339) != "2026-11-25T10:05:00Z" || times[2].Format(time.RFC3339) != "2026-11-25T10:06:00Z" {
		t.Errorf("with InZone(Berlin): %v; want Splunk's _time, unchanged", times)
	}
	for i, want := range []struct{ at, message, dataset string }{
		{"2026-11-25T10:05:00Z", `PHP Warning:  Undefined array key "c" in /var/www/html/uploads/x.php on line 1`, "apache.error"},
		{"2026-11-25T10:05:00Z", "sh: 1: nc: not found", "apache.error"},
		{"2026-11-25T10:06:00Z", "sh: 0: can't access tty; job control turned off", "apache.error"},
	} {
		r := recs[i]
		ts, _ := r.Doc["@timestamp"].(time.Time)
		if r.Err != nil || ts.UTC().Format(time.RFC3339) != want.at || detection.LookupString(r.Doc, "message") != want.message ||
			detection.LookupString(r.Doc, "event.dataset") != want.dataset || detection.LookupString(r.Doc, "host.name") != "web1" {
			t.Errorf("record %d: %v %v; want %+v", i, r.Doc, r.Err, want)
		}
	}
}

// timesOf is a Detector that notes each document's time.
type timesOf []time.Time

func (ts *timesOf) Detect(doc map[string]any) bool {
	t, _ := doc["@timestamp"].(time.Time)
	*ts = append(*ts, t.UTC())
	return false
}
