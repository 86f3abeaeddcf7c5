package errorlog

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"webshellbeat/detection"
)

// parseFile maps every line of a test file with one Parser, as hunt and the
// beat read a file.
func parseFile(t *testing.T, path string, p *Parser) (docs []map[string]any, errs []error) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		doc, err := p.Parse(sc.Text())
		if err != nil {
			errs = append(errs, err)
			continue
		}
		docs = append(docs, doc)
	}
	return docs, errs
}

// get renders the value at path as text ("" when absent).
func get(doc map[string]any, path string) string {
	v, ok := detection.Lookup(doc, path)
	if !ok {
		return ""
	}
	if ts, ok := v.(time.Time); ok {
		return ts.UTC().Format(time.RFC3339Nano)
	}
	return fmt.Sprint(v)
}

// want checks fields of doc, path -> text.
func want(t *testing.T, doc map[string]any, fields map[string]string) {
	t.Helper()
	for path, w := range fields {
		if got := get(doc, path); got != w {
			t.Errorf("%s = %q, want %q (doc %v)", path, got, w, doc)
		}
	}
}

// Filebeat's own apache.error test lines map to the fields its pipeline
// gives them (its -expected.json files), Apache 2.2 and 2.4 alike.
func TestApacheFilebeatSamples(t *testing.T) {
	docs, errs := parseFile(t, "testdata/apache-test.log", &Parser{})
	if len(errs) > 0 || len(docs) != 3 {
		t.Fatalf("%d docs, errors %v", len(docs), errs)
	}
	common := map[string]string{"event.module": "apache", "event.dataset": "apache.error", "event.kind": "event", "event.category": "[web]", "event.type": "[error]"}
	want(t, docs[0], common)
	want(t, docs[0], map[string]string{"@timestamp": "2016-12-26T16:22:08Z", "log.level": "error", "source.address": "192.168.33.1", "source.ip": "192.168.33.1",
		"message": "File does not exist: /var/www/favicon.ico", "process.pid": ""})
	want(t, docs[1], map[string]string{"@timestamp": "2016-12-26T16:15:55.103786Z", "log.level": "notice", "apache.error.module": "core", "process.pid": "11379",
		"message": "AH00094: Command line: '/usr/local/Cellar/httpd24/2.4.23_2/bin/httpd'", "source.address": ""})
	want(t, docs[2], map[string]string{"@timestamp": "2011-09-09T10:42:29.902022Z", "log.level": "error", "process.pid": "35708", "process.thread.id": "4328636416",
		"source.ip": "72.15.99.187", "message": "File does not exist: /usr/local/apache2/htdocs/favicon.ico"})

	docs, errs = parseFile(t, "testdata/apache-ubuntu-2.2.22.log", &Parser{})
	if len(errs) > 0 || len(docs) != 7 {
		t.Fatalf("2.2: %d docs, errors %v", len(docs), errs)
	}
	want(t, docs[0], map[string]string{"log.level": "notice", "message": "Apache/2.2.22 (Ubuntu) configured -- resuming normal operations"})
	want(t, docs[1], map[string]string{"message": "File does not exist: /var/www/favicon.ico", "http.request.referrer": "http://192.168.33.72/"})

	docs, errs = parseFile(t, "testdata/apache-sublevel.log", &Parser{})
	if len(errs) > 0 || len(docs) != 1 {
		t.Fatalf("sublevel: %d docs, errors %v", len(docs), errs)
	}
	want(t, docs[0], map[string]string{"log.level": "trace3", "apache.error.module": "rewrite", "source.ip": "10.121.192.8", "source.port": "38350",
		"message": "mod_rewrite.c(470): 10.121.192.8 - - [dev.elastic.co/sid#55a374e851c8][rid#7fb438083ac0/initial] applying pattern '^/import/?(.*)$' to uri '/'"})
}

// Filebeat's nginx.error lines, FastCGI's multi-line PHP warnings among
// them: each continued line is an unprefixed event dated by the line before.
func TestNginxFilebeatSamples(t *testing.T) {
	docs, errs := parseFile(t, "testdata/nginx-error.log", &Parser{})
	if len(errs) > 0 || len(docs) != 6 {
		t.Fatalf("%d docs, errors %v", len(docs), errs)
	}
	want(t, docs[0], map[string]string{"@timestamp": "2016-10-25T14:49:34Z", "event.dataset": "nginx.error", "log.level": "error", "process.pid": "54053",
		"process.thread.id": "0", "nginx.error.connection_id": "1", "source.ip": "127.0.0.1", "http.request.method": "GET", "url.original": "/favicon.ico",
		"url.domain": "localhost:8080", "http.version": "1.1", "http.request.referrer": "http://localhost:8080/",
		"message": `open() "/usr/local/Cellar/nginx/1.10.2_1/html/favicon.ico" failed (2: No such file or directory)`})
	want(t, docs[2], map[string]string{"@timestamp": "2019-10-30T23:26:34Z", "nginx.error.connection_id": "180289", "tags": ""})
	for _, d := range docs[3:5] {
		want(t, d, map[string]string{"@timestamp": "2019-10-30T23:26:34Z", "event.dataset": "nginx.error", "tags": "[unprefixed]", "log.level": ""})
		if !strings.HasPrefix(get(d, "message"), "PHP message: PHP Warning:  Declaration of FEE_Field_") {
			t.Errorf("continued line: %q", get(d, "message"))
		}
	}
	want(t, docs[5], map[string]string{"@timestamp": "2019-11-05T14:50:44Z", "url.original": "/pysio", "tags": ""})
}

// Real lines of crowdsec's hub tests (an access log with two error log
// lines in it): the mod_ssl line has an error status before the client.
func TestCrowdsecLines(t *testing.T) {
	f, err := os.ReadFile("../../../shared/data/crowdsecurity-hub/.tests/apache2-logs/apache2-logs.log")
	if err != nil {
		t.Skip(err)
	}
	lines := strings.Split(strings.TrimSpace(string(f)), "\n")
	var p Parser
	auth, err := p.Parse(lines[7])
	if err != nil {
		t.Fatal(err)
	}
	want(t, auth, map[string]string{"apache.error.module": "auth_basic", "log.level": "error", "source.port": "50229", "message": "AH01618: user sss not found: /"})
	ssl, err := p.Parse(lines[8])
	if err != nil {
		t.Fatal(err)
	}
	want(t, ssl, map[string]string{"log.level": "info", "source.ip": "192.168.1.1", "source.port": "17036", "message": "(70014)End of file found: AH02006: SSL handshake stopped: connection was closed"})
	if IsErrorLog(lines[0]) {
		t.Errorf("an access log line is taken for an error log line: %s", lines[0])
	}
}

// What a web shell leaves in Apache's error log under mod_php: the output
// of its commands, unprefixed, dated by the line before; the zone is the
// Parser's.
func TestChildOutputAndZone(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip(err)
	}
	p := &Parser{Zone: berlin}
	if _, err := p.Parse("sh: 1: wget: not found"); !errors.Is(err, ErrNoTime) {
		t.Errorf("first line unprefixed: err = %v, want ErrNoTime", err)
	}
	if _, err := p.Parse("[Wed Nov 25 10:00:00.000001 2026] [mpm_prefork:notice] [pid 1] AH00163: Apache/2.4.62 (Debian) configured -- resuming normal operations"); err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"sh: 0: can't access tty; job control turned off", "[bracketed] output", "2026/11/25 output that looks like nginx's"} {
		doc, err := p.Parse(line)
		if err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		want(t, doc, map[string]string{"@timestamp": "2026-11-25T09:00:00.000001Z", "message": line, "tags": "[unprefixed]", "event.dataset": "apache.error"})
	}
	// An ErrorLogFormat with %{cu}t writes the compact ISO time.
	var iso Parser
	doc, err := iso.Parse("[2026-11-25 10:00:00.123456] [core:error] [pid 7:tid 8] [client 192.0.2.1:5] AH00126: Invalid URI in request GET /x")
	if err != nil {
		t.Fatal(err)
	}
	want(t, doc, map[string]string{"@timestamp": "2026-11-25T10:00:00.123456Z", "log.level": "error", "source.ip": "192.0.2.1", "message": "AH00126: Invalid URI in request GET /x"})
	// Without a line before, a line of neither form is an error in a file
	// of unknown server, with where and why for a bad prefix.
	var fresh Parser
	if _, err := fresh.Parse("[Wed Nov 99 10:00:00 2026] [error] x"); err == nil || !strings.Contains(err.Error(), "not Apache's") {
		t.Errorf("bad time: err = %v", err)
	}
}

// FuzzParse: no line panics the parser, and a line it maps has a time and
// a message.
func FuzzParse(f *testing.F) {
	for _, name := range []string{"apache-test.log", "apache-ubuntu-2.2.22.log", "apache-sublevel.log", "nginx-error.log", "php-fpm.log", "php-fpm-debug.log", "php-errors.log", "tomcat-localhost.log"} {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		for _, l := range strings.Split(string(b), "\n") {
			f.Add(l, l)
		}
	}
	f.Fuzz(func(t *testing.T, first, second string) {
		var p Parser
		for _, line := range []string{first, second} {
			doc, err := p.Parse(line)
			if err != nil {
				continue
			}
			if ts, ok := doc["@timestamp"].(time.Time); !ok || ts.IsZero() {
				t.Errorf("%q: no time: %v", line, doc)
			}
			if _, ok := doc["message"].(string); !ok {
				t.Errorf("%q: no message: %v", line, doc)
			}
		}
	})
}

// php-fpm's own log, captured from php-fpm 8.2 with its pool catching the
// workers' output: the web shell's commands' errors are WARNING lines of
// the child (decorated, the default) or the output lines themselves
// (undecorated), dated by the line before; log_level = debug lines carry
// microseconds and the master's pid.
func TestPHPFPM(t *testing.T) {
	docs, errs := parseFile(t, "testdata/php-fpm.log", &Parser{})
	if len(errs) != 0 || len(docs) != 8 {
		t.Fatalf("%d documents, errors %v", len(docs), errs)
	}
	want(t, docs[0], map[string]string{"@timestamp": "2026-11-26T11:01:57Z", "log.level": "notice", "message": "fpm is running, pid 3913", "event.dataset": "php_fpm.error", "event.module": "php_fpm"})
	want(t, docs[3], map[string]string{"log.level": "warning", "process.pid": "3914", "php_fpm.pool.name": "www",
		"message": `[pool www] child 3914 said into stderr: "sh: 1: wsbnothere: not found"`})

	plain, errs := parseFile(t, "testdata/php-fpm-undecorated.log", &Parser{})
	if len(errs) != 0 || len(plain) != 8 {
		t.Fatalf("undecorated: %d documents, errors %v", len(plain), errs)
	}
	want(t, plain[3], map[string]string{"@timestamp": "2026-11-26T11:01:57Z", "message": "sh: 1: wsbnothere: not found", "tags": "[unprefixed]", "event.dataset": "php_fpm.error"})
	want(t, plain[4], map[string]string{"message": "sh: 0: can't access tty; job control turned off", "event.dataset": "php_fpm.error"})

	debug, errs := parseFile(t, "testdata/php-fpm-debug.log", &Parser{})
	if len(errs) != 0 || len(debug) != 28 {
		t.Fatalf("debug: %d documents, errors %v", len(debug), errs)
	}
	want(t, debug[4], map[string]string{"@timestamp": "2026-11-26T11:02:02.004995Z", "log.level": "notice", "process.pid": "3958", "message": "fpm is running, pid 3958"})
	want(t, debug[9], map[string]string{"php_fpm.pool.name": "www", "process.pid": "3958", "message": "[pool www] child 3959 started"})
}

// PHP's own error_log, captured from PHP 8.2's CLI with disable_functions
// set: the time in the zone the line names, the level out of "PHP Fatal
// error:", an application's error_log() message without one, and the
// stack trace's lines unprefixed, dated by the line before and zoned.
func TestPHPErrorLog(t *testing.T) {
	p := &Parser{}
	docs, errs := parseFile(t, "testdata/php-errors.log", p)
	if len(errs) != 0 || len(docs) != 15 {
		t.Fatalf("%d documents, errors %v", len(docs), errs)
	}
	want(t, docs[4], map[string]string{"@timestamp": "2026-11-26T11:08:11Z", "log.level": "fatal error", "event.dataset": "php.error",
		"message": "Uncaught Error: Call to undefined function system() in Command line code:1"})
	want(t, docs[5], map[string]string{"message": "Stack trace:", "tags": "[unprefixed]", "event.dataset": "php.error"})
	want(t, docs[10], map[string]string{"@timestamp": "2026-11-26T11:08:42Z", "log.level": "", "message": "backup done"})
	want(t, docs[11], map[string]string{"@timestamp": "2026-11-26T11:08:42Z", "log.level": "fatal error"})
	if !p.Zoned() {
		t.Error("Zoned() = false after a line that names its zone")
	}
	var unknown Parser
	doc, err := unknown.Parse("[26-Nov-2026 11:08:11 Mars/Olympus] PHP Warning:  x")
	if err != nil || unknown.Zoned() {
		t.Errorf("an unknown zone: %v, %v, zoned %v; want the Parser's zone, and not zoned", doc, err, unknown.Zoned())
	}
	var apache Parser
	if _, err := apache.Parse("[Wed Nov 25 10:00:00 2026] [error] x"); err != nil || apache.Zoned() {
		t.Errorf("Apache's line: %v, zoned %v", err, apache.Zoned())
	}
}

// Tomcat's localhost log, captured from Tomcat 10.1 as a JSP ran its
// parameter as a program: the SEVERE line with its thread and logger, and
// the stack trace's lines unprefixed, dated by it, with the cause that
// names the program and the page that ran it (log.origin.file).
func TestTomcatLog(t *testing.T) {
	docs, errs := parseFile(t, "testdata/tomcat-localhost.log", &Parser{})
	if len(errs) != 0 || len(docs) != 150 {
		t.Fatalf("%d documents, errors %v", len(docs), errs)
	}
	want(t, docs[0], map[string]string{"@timestamp": "2026-11-26T13:54:20.278Z", "log.level": "severe", "event.dataset": "tomcat.error",
		"process.thread.name": "http-nio-127.0.0.1-18082-exec-3", "log.logger": "org.apache.catalina.core.StandardWrapperValve.invoke",
		"message": "Servlet.service() for servlet [jsp] in context with path [] threw exception"})
	causes := 0
	for _, d := range docs {
		if msg := get(d, "message"); strings.Contains(msg, `Caused by: java.io.IOException: Cannot run program "`) {
			causes++
			// The page Jasper named lines before, in the same record.
			want(t, d, map[string]string{"tags": "[unprefixed]", "event.dataset": "tomcat.error", "log.origin.file.name": "/wsbexec.jsp", "log.origin.file.line": "2"})
		}
	}
	want(t, docs[0], map[string]string{"log.origin.file.name": ""}) // the record's first line, before the page is named
	if causes != 3 {
		t.Errorf("%d causes naming a program, want 3", causes)
	}
	// A new record forgets the page of the one before.
	q := &Parser{}
	for _, l := range []string{"26-Nov-2026 13:54:20.278 SEVERE [x] a.b c", "\tjava.io.IOException: An exception occurred processing [/a.jsp] at line [2]",
		"26-Nov-2026 13:54:21.278 SEVERE [x] a.b c"} {
		if _, err := q.Parse(l); err != nil {
			t.Fatal(err)
		}
	}
	if doc, _ := q.Parse(`Caused by: java.io.IOException: Cannot run program "nc"`); get(doc, "log.origin.file.name") != "" {
		t.Errorf("a cause in a record that named no page: origin %q", get(doc, "log.origin.file.name"))
	}
	// The prefix alone tells the server, and a damaged time is an error.
	var p Parser
	if doc, err := p.Parse("26-Nov-2026 13:54:20.278 INFO [main] org.apache.catalina.startup.Catalina.start Server startup in [955] milliseconds"); err != nil || p.KnownServer() != Tomcat || get(doc, "message") != "Server startup in [955] milliseconds" {
		t.Errorf("catalina.out's line: %v, %v, server %q", doc, err, p.KnownServer())
	}
	for _, bad := range []string{"99-Nov-2026 13:54:20.278 INFO [main] x.y z", "26-Nov-2026 13:54:20.278 LOUD [main] x.y z"} {
		var q Parser
		if _, err := q.Parse(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// Lines shaped almost like PHP's or php-fpm's are errors, not panics.
func TestPHPPrefixEdges(t *testing.T) {
	for _, line := range []string{
		"[]1-Nov-2026 11:08:11 UTC] x",
		"[2]-Nov-2026 11:08:11] NOTICE: x",
		"[26-Nov-2026 11:08:11 ] PHP Warning:  x",
		"[26-Nov-2026 11:08:11 UTC]",
		"[26-Nov-2026 11:08:11] NOTICE:",
		"[26-Nov-2026 11:08:11] WARNING: [pool www] child x said into stderr: \"y\"",
	} {
		var p Parser
		doc, err := p.Parse(line)
		if err == nil && doc["@timestamp"] == nil {
			t.Errorf("%q: no time: %v", line, doc)
		}
	}
}

// ParseMixed: an access line is an access event whose time, zone and all,
// dates the output after it; an error log line then dates it again, with
// no zone.
func TestParseMixed(t *testing.T) {
	var p Parser
	if _, err := p.ParseMixed("[Wed Nov 25 10:00:00.000001 2026] [mpm_prefork:notice] [pid 1] AH00163: Apache/2.4.62 configured"); err != nil || p.Zoned() {
		t.Fatalf("prefixed line: %v, zoned %v", err, p.Zoned())
	}
	access, err := p.ParseMixed(`203.0.113.9 - - [25/Nov/2026:11:05:00 +0100] "GET /up/x.php?c=nc HTTP/1.1" 200 12 "-" "curl"`)
	if err != nil || get(access, "event.dataset") != "apache.access" || !p.Zoned() {
		t.Fatalf("access line: %v, %v, zoned %v", access, err, p.Zoned())
	}
	out, err := p.ParseMixed("sh: 1: nc: not found")
	if err != nil || !p.Zoned() {
		t.Fatalf("output after it: %v, zoned %v", err, p.Zoned())
	}
	want(t, out, map[string]string{"@timestamp": "2026-11-25T10:05:00Z", "event.dataset": "apache.error", "tags": "[unprefixed]"})
	if _, err := p.ParseMixed("[Wed Nov 25 10:06:00.000001 2026] [php:warn] [pid 9] x"); err != nil || p.Zoned() {
		t.Errorf("a prefixed line after: %v, zoned %v", err, p.Zoned())
	}
}

// A PHP message names the script that raised it (log.origin.file), in PHP's
// own log, Apache's, nginx's (FastCGI's stderr) and php-fpm's; a message of
// code run from the command line, or of no PHP at all, names none.
func TestPHPOrigin(t *testing.T) {
	for _, tc := range []struct {
		server, line, file string
		n                  int64
	}{
		{PHP, "[26-Nov-2026 13:52:37 UTC] PHP Warning:  system(): Unable to fork [id] in /tmp/forkfail.php on line 3", "/tmp/forkfail.php", 3},
		{PHP, "[26-Nov-2026 11:09:34 UTC] PHP Fatal error:  Uncaught Error: Call to undefined function system() in /tmp/fpmcap/www/x.php:1", "/tmp/fpmcap/www/x.php", 1},
		{PHP, "[26-Nov-2026 11:08:11 UTC] PHP Fatal error:  Uncaught Error: Call to undefined function system() in Command line code:1", "", 0},
		{Apache, `[Wed Nov 25 10:05:00.000002 2026] [php:warn] [pid 9:tid 9] [client 203.0.113.9:4242] PHP Warning:  Undefined array key "c" in /var/www/html/uploads/x.php on line 1`, "/var/www/html/uploads/x.php", 1},
		{Apache, `[Wed Nov 25 10:05:00.000002 2026] [php7:warn] [pid 9] [client 203.0.113.9:4242] PHP Warning:  exec(): Unable to fork [id] in C:\xampp\htdocs\x.phtml on line 12`, `C:\xampp\htdocs\x.phtml`, 12},
		{Nginx, `2026/11/26 11:09:34 [error] 27#27: *3 FastCGI sent in stderr: "PHP message: PHP Fatal error:  Uncaught Error: Call to undefined function system() in /var/www/html/x.php:1` + "\n" + `Stack trace:` + `" while reading response header from upstream, client: 172.17.0.1`, "/var/www/html/x.php", 1},
		{Apache, `[Wed Nov 25 10:00:00.000001 2026] [core:error] [pid 1] [client 203.0.113.9:4242] AH00037: Symbolic link not allowed: /var/www/html/x.php on line 3`, "", 0},
	} {
		p := &Parser{Server: tc.server}
		doc, err := p.Parse(tc.line)
		if err != nil {
			t.Fatalf("%s: %v", tc.line, err)
		}
		file, n := get(doc, "log.origin.file.name"), get(doc, "log.origin.file.line")
		if wantN := fmt.Sprint(tc.n); file != tc.file || tc.file != "" && n != wantN || tc.file == "" && n != "" {
			t.Errorf("%s: origin %q:%s, want %q:%d", tc.line, file, n, tc.file, tc.n)
		}
	}
}
