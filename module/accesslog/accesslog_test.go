package accesslog

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
	"webshellbeat/detection"
	goldenfile "webshellbeat/internal/golden"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.json")

const dataDir = "../../../shared/data/"

func readLines(t testing.TB, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out
}

// golden compares v with testdata/<name>.golden.json (see internal/golden).
func golden(t *testing.T, name string, v any) { goldenfile.JSON(t, name, v, *update) }

func get(m map[string]any, keys ...string) any {
	v, _ := detection.Lookup(m, strings.Join(keys, "."))
	return v
}

func TestGolden(t *testing.T) {
	t.Run("seed-apache", func(t *testing.T) {
		d, err := ParseCombined(readLines(t, dataDir+"seed/apache_access.log")[0])
		if err != nil {
			t.Fatal(err)
		}
		golden(t, "seed-apache", d)
	})
	t.Run("nginx-combined-post", func(t *testing.T) {
		d, err := ParseCombined(readLines(t, dataDir+"linux-capture/nginx_access.log")[1], WithServer("nginx"))
		if err != nil {
			t.Fatal(err)
		}
		golden(t, "nginx-combined-post", d)
	})
	t.Run("apache-webshell-cmd", func(t *testing.T) {
		for _, l := range readLines(t, dataDir+"linux-capture/apache_access.log") {
			if strings.Contains(l, "cmd=uname") {
				d, err := ParseCombined(l)
				if err != nil {
					t.Fatal(err)
				}
				golden(t, "apache-webshell-cmd", d)
				return
			}
		}
		t.Fatal("no cmd=uname line")
	})
	t.Run("iis-with-header", func(t *testing.T) {
		w := NewW3C()
		var docs []map[string]any
		for _, l := range readLines(t, dataDir+"elastic-beats/filebeat/module/iis/access/test/test.log")[:10] {
			d, err := w.Parse(l)
			if err != nil {
				t.Fatal(err)
			}
			if d != nil {
				docs = append(docs, d)
			}
		}
		golden(t, "iis-with-header", docs)
	})
}

func TestSeed(t *testing.T) {
	d, err := ParseCombined(`192.168.1.100 - - [10/Jun/2025:02:30:00 +0000] "GET /shell.php?cmd=whoami HTTP/1.1" 200 1234`)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		keys []string
		want any
	}{
		{[]string{"@timestamp"}, time.Date(2025, 6, 10, 2, 30, 0, 0, time.UTC)},
		{[]string{"source", "ip"}, "192.168.1.100"},
		{[]string{"http", "request", "method"}, "GET"},
		{[]string{"http", "version"}, "1.1"},
		{[]string{"url", "path"}, "/shell.php"},
		{[]string{"url", "query"}, "cmd=whoami"},
		{[]string{"url", "extension"}, "php"},
		{[]string{"http", "response", "status_code"}, int64(200)},
		{[]string{"http", "response", "body", "bytes"}, int64(1234)},
		{[]string{"webshell", "url", "params", "cmd"}, []string{"whoami"}},
		{[]string{"webshell", "url", "param_names"}, []string{"cmd"}},
		{[]string{"event", "dataset"}, "apache.access"},
		{[]string{"event", "outcome"}, "success"},
	}
	for _, c := range checks {
		if got := get(d, c.keys...); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s = %#v, want %#v", strings.Join(c.keys, "."), got, c.want)
		}
	}
}

// TestFiles parses every sample; the counts are pinned, and every error
// must say where and why.
func TestFiles(t *testing.T) {
	tests := []struct {
		file         string
		w3c          bool
		parsed, errs int
	}{
		{"seed/apache_access.log", false, 1, 0},
		{"linux-capture/apache_access.log", false, 19, 0},
		{"linux-capture/nginx_access.log", false, 12, 0},
		{"elastic-beats/filebeat/module/apache/access/test/test.log", false, 7, 0}, // two "-" 408: no request, still a record
		{"elastic-beats/filebeat/module/nginx/access/test/test.log", false, 7, 0},  // one "" 400
		{"elastic-beats/filebeat/module/iis/access/test/test.log", true, 5, 0},     // 12 directive lines
		{"crowdsecurity-hub/.tests/apache-http-probing/apache-http-probing.log", false, 77, 0},
		{"crowdsecurity-hub/.tests/apache2-http-sensitive-files/apache2-http-sensitive-files.log", false, 13, 0},
		{"crowdsecurity-hub/.tests/apache2-logs/apache2-logs.log", false, 7, 2}, // two error-log lines
		{"crowdsecurity-hub/.tests/nginx-http-backdoor/nginx-http-backdoor.log", false, 2, 0},
		{"crowdsecurity-hub/.tests/nginx_http-logs/nginx_http-logs.log", false, 8, 1}, // an error-log line
		{"crowdsecurity-hub/.tests/iis-xml-logs/iis-logs.log", false, 0, 1},           // IIS XML event, not W3C
		{"nielsbasjes-logparser/examples/demolog/hackers-access.log", false, 3456, 0},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			w := NewW3C()
			var parsed, errs int
			for _, l := range readLines(t, dataDir+tc.file) {
				var d map[string]any
				var err error
				if tc.w3c {
					d, err = w.Parse(l)
				} else {
					d, err = ParseCombined(l)
				}
				switch {
				case err != nil:
					errs++
					var pe *ParseError
					if !errors.As(err, &pe) || !errors.Is(err, ErrMalformed) || pe.Msg == "" {
						t.Errorf("error %v is not a located *ParseError", err)
					}
				case d != nil:
					parsed++
					if _, ok := d["@timestamp"].(time.Time); !ok {
						t.Errorf("no @timestamp: %v", d)
					}
				}
			}
			if parsed != tc.parsed || errs != tc.errs {
				t.Errorf("parsed=%d errors=%d, want %d, %d", parsed, errs, tc.parsed, tc.errs)
			}
		})
	}
}

func TestVariants(t *testing.T) {
	tests := []struct {
		name string
		line string
		keys []string
		want any
	}{
		{"vhost", `vhost1.domaine.fr 123.123.123.123 - - [04/Jul/2019:09:20:46 +0200] "GET / HTTP/1.1" 200 32953 "-" "UA"`, []string{"url", "domain"}, "vhost1.domaine.fr"},
		{"vhost-port", `website.com:443 1.2.3.4 - - [25/Oct/2021:11:05:52 +0200] "GET /web/.well-known HTTP/1.1" 403 6963 "abc.com" "UA"`, []string{"url", "port"}, int64(443)},
		{"xff-list", `10.0.0.2, 10.0.0.1, 127.0.0.1 - - [07/Dec/2016:11:05:07 +0100] "GET /ocelot HTTP/1.1" 200 571 "-" "UA"`, []string{"source", "ip"}, "10.0.0.2"},
		{"xff-quoted", `"10.5.102.222, 199.96.1.1" 10.2.1.185 - - [22/Jan/2016:13:18:29 +0000] "GET /a?q=1 HTTP/1.1" 200 25507 "-" "UA"`, []string{"source", "ip"}, "10.2.1.185"},
		{"xff-quoted-list", `"10.5.102.222, 199.96.1.1" 10.2.1.185 - - [22/Jan/2016:13:18:29 +0000] "GET /a?q=1 HTTP/1.1" 200 25507 "-" "UA"`, []string{"apache", "access", "remote_ip_list"}, []string{"10.5.102.222", "199.96.1.1"}},
		// nginx's default "main" format ends with "$http_x_forwarded_for".
		{"xff-trailing", `10.2.1.185 - - [22/Jan/2016:13:18:29 +0000] "GET /a?q=1 HTTP/1.1" 200 25507 "-" "UA" "203.0.113.9, 10.5.102.222"`, []string{"apache", "access", "remote_ip_list"}, []string{"203.0.113.9", "10.5.102.222"}},
		{"xff-trailing-none", `10.2.1.185 - - [22/Jan/2016:13:18:29 +0000] "GET /a?q=1 HTTP/1.1" 200 25507 "-" "UA" "-"`, []string{"apache", "access", "remote_ip_list"}, nil},
		{"trailing-not-ips", `10.2.1.185 - - [22/Jan/2016:13:18:29 +0000] "GET /a?q=1 HTTP/1.1" 200 25507 "-" "UA" "example.com"`, []string{"apache", "access", "remote_ip_list"}, nil},
		{"hostname-client", `monitoring-server - - [29/May/2017:19:02:48 +0000] "GET /status HTTP/1.1" 200 612 "-" "UA" "-"`, []string{"source", "domain"}, "monitoring-server"},
		// A client that is no address: none ("-"), nginx's Unix socket
		// ("unix:"), a bracketed IPv6 address without a port.
		{"no-client", `- - - [29/May/2017:19:02:48 +0000] "GET /status HTTP/1.1" 200 612`, []string{"source"}, nil},
		{"unix-socket-client", `unix: - - [29/May/2017:19:02:48 +0000] "GET /status HTTP/1.1" 200 612`, []string{"source"}, map[string]any{"address": "unix:"}},
		{"bracketed-v6", `[2001:db8::1] - - [29/May/2017:19:02:48 +0000] "GET /status HTTP/1.1" 200 612`, []string{"source", "ip"}, "2001:db8::1"},
		{"user", `192.168.1.1 - user123 [08/Jun/2020:08:04:43 +0000] "GET /api/login HTTP/1.1" 200 150 "-" "curl"`, []string{"user", "name"}, "user123"},
		{"no-ident", `192.168.1.1 - [08/Jun/2020:08:04:43 +0000] "GET /api/test HTTP/1.1" 200 100 "-" "curl"`, []string{"url", "path"}, "/api/test"},
		{"timezone", `::1 - - [26/Dec/2016:16:16:29 +0200] "GET /favicon.ico HTTP/1.1" 404 209`, []string{"@timestamp"}, time.Date(2016, 12, 26, 14, 16, 29, 0, time.UTC)},
		// nginx's $time_iso8601, which custom log formats use in place of $time_local.
		{"iso8601", `203.0.113.7 - - [2026-11-25T20:02:28+01:00] "GET /a.php?c=id HTTP/1.1" 200 5 "-" "curl"`, []string{"@timestamp"}, time.Date(2026, 11, 25, 19, 2, 28, 0, time.UTC)},
		{"iso8601-utc-fraction", `203.0.113.7 - - [2026-11-25T19:02:28.250Z] "GET /a.php?c=id HTTP/1.1" 200 5`, []string{"@timestamp"}, time.Date(2026, 11, 25, 19, 2, 28, 250e6, time.UTC)},
		{"uppercase-ext", `1.2.3.4 - - [08/Jun/2020:08:04:43 +0000] "GET /test/extensions.JPG HTTP/1.1" 500 803 "-" "UA"`, []string{"url", "extension"}, "jpg"},
		{"target-with-space", `172.17.0.1 - - [29/Sep/2021:12:37:05 +0000] "GET /a.php?cmd=ls -al&x=1" 400 226`, []string{"webshell", "url", "params", "cmd"}, []string{"ls -al"}},
		{"lenient-escape", `1.2.3.4 - - [08/Jun/2020:08:04:43 +0000] "GET /s.php?c=%zz+id&c=cat%20%2Fetc%2Fpasswd HTTP/1.1" 200 1`, []string{"webshell", "url", "param_values"}, []string{"%zz id", "cat /etc/passwd"}},
		// IIS's %uXXXX escapes, which ASP and ASP.NET decode for the page.
		{"iis-u-escape-param", `1.2.3.4 - - [08/Jun/2020:08:04:43 +0000] "GET /up/x%u002Easpx?cmd=%u0077hoami HTTP/1.1" 200 1`, []string{"webshell", "url", "param_values"}, []string{"whoami"}},
		{"iis-u-escape-ext", `1.2.3.4 - - [08/Jun/2020:08:04:43 +0000] "GET /up/x%u002Easpx?cmd=%u0077hoami HTTP/1.1" 200 1`, []string{"url", "extension"}, "aspx"},
		{"u-not-escape", `1.2.3.4 - - [08/Jun/2020:08:04:43 +0000] "GET /x.php?q=%uzzzz%u12 HTTP/1.1" 200 1`, []string{"webshell", "url", "param_values"}, []string{"%uzzzz%u12"}},
		// ASP.NET reads parameter names in any case: params are keyed as
		// the page sees them; PHP's are not.
		{"aspx-caseless-params", `1.2.3.4 - - [08/Jun/2020:08:04:43 +0000] "GET /up/x.aspx?CMD=whoami&Cmd=id HTTP/1.1" 200 1`, []string{"webshell", "url", "params", "cmd"}, []string{"whoami", "id"}},
		{"aspx-names-as-sent", `1.2.3.4 - - [08/Jun/2020:08:04:43 +0000] "GET /up/x.aspx?CMD=whoami&Cmd=id HTTP/1.1" 200 1`, []string{"webshell", "url", "param_names"}, []string{"CMD", "Cmd"}},
		{"php-cased-params", `1.2.3.4 - - [08/Jun/2020:08:04:43 +0000] "GET /up/x.php?CMD=whoami HTTP/1.1" 200 1`, []string{"webshell", "url", "params", "CMD"}, []string{"whoami"}},
		{"escaped-quote", `1.2.3.4 - - [08/Jun/2020:08:04:43 +0000] "GET /x HTTP/1.1" 200 1 "-" "a \"quoted\" agent"`, []string{"user_agent", "original"}, `a \"quoted\" agent`},
		{"absolute-uri", `1.2.3.4 - - [08/Jun/2020:08:04:43 +0000] "GET http://evil.example:8080/p.php?a=b HTTP/1.1" 200 1`, []string{"url", "domain"}, "evil.example"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := ParseCombined(tc.line)
			if err != nil {
				t.Fatal(err)
			}
			if got := get(d, tc.keys...); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("%s = %#v, want %#v", strings.Join(tc.keys, "."), got, tc.want)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name string
		line string
		want string
	}{
		{"binary-junk", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", "col 1: binary byte 0x16"},
		{"tls-handshake", `1.2.3.4 - - [08/Jun/2020:08:04:43 +0000] "\x16\x03\x01\x00\xa5\x01\x00" 400 0 "-" "-"`, `col 43: request "\\x16\\x03\\x01\\x00\\xa5\\x01\\x00": a TLS handshake`},
		{"truncated-quote", `1.2.3.4 - - [08/Jun/2020:08:04:43 +0000] "GET /a HTTP/1.1`, "col 42: request quote never closed"},
		{"truncated-ua", `1.2.3.4 - - [08/Jun/2020:08:04:43 +0000] "GET /a HTTP/1.1" 200 1 "-" "Mozilla`, "expected a quoted user agent"},
		{"bad-status", `1.2.3.4 - - [08/Jun/2020:08:04:43 +0000] "GET / HTTP/1.1" abc 1`, `col 59: status "abc"`},
		{"bad-bytes", `1.2.3.4 - - [08/Jun/2020:08:04:43 +0000] "GET / HTTP/1.1" 200 x1`, `col 63: response size "x1"`},
		{"bad-time", `1.2.3.4 - - [08/Foo/2020:08:04:43 +0000] "GET / HTTP/1.1" 200 1`, `col 14: bad timestamp`},
		{"bad-iso-time", `1.2.3.4 - - [2020-13-08T08:04:43+00:00] "GET / HTTP/1.1" 200 1`, `col 14: bad timestamp "2020-13-08T08:04:43+00:00"`},
		{"no-timestamp", `hello world`, "no [dd/Mon/yyyy:hh:mm:ss +zzzz] timestamp"},
		{"error-log", `2021/12/01 13:53:33 [error] 31#31: *46 "/x" is not found`, "not an access log line"},
		{"empty", ``, "empty line"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := ParseCombined(tc.line)
			if err == nil {
				t.Fatalf("want error, got %v", d)
			}
			if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
			doc := detection.ErrorDoc(tc.line, err)
			if get(doc, "event", "original") != tc.line || get(doc, "error", "message") != err.Error() || get(doc, "event", "kind") != "event" {
				t.Errorf("ErrorDoc = %v", doc)
			}
		})
	}
}

func TestW3CErrors(t *testing.T) {
	tests := []struct {
		name  string
		lines []string
		want  string
	}{
		{"field-count", []string{"#Fields: date time c-ip", "2018-01-01 08:09:10"}, "line 2: line has 2 fields but the #Fields header on line 1 declares 3"},
		{"default-count", []string{"2018-01-01 08:09:10 1.2.3.4"}, "line 1: line has 3 fields but IIS's default field list declares 15"},
		{"bad-status", []string{"#Fields: date time sc-status", "2018-01-01 08:09:10 OK"}, `line 2, col 21: sc-status "OK" is not a number`},
		{"bad-date", []string{"#Fields: date time", "2018-13-01 08:09:10"}, "line 2, col 1: bad date/time"},
		{"empty-fields", []string{"#Fields:"}, "line 1: #Fields header declares no fields"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := NewW3C()
			var err error
			for _, l := range tc.lines {
				if _, err = w.Parse(l); err != nil {
					break
				}
			}
			if err == nil || !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
}

func TestW3CFieldsReplace(t *testing.T) {
	w := NewW3C()
	d, err := w.Parse("2018-01-01 08:09:10 127.0.0.1 GET /cmd.aspx c=whoami 80 - 81.2.69.143 Mozilla/5.0+(X) - 200 0 0 15")
	if err != nil || get(d, "url", "original") != "/cmd.aspx?c=whoami" || get(d, "event", "duration") != int64(15e6) || get(d, "user_agent", "original") != "Mozilla/5.0 (X)" {
		t.Fatalf("default layout: %v %v", d, err)
	}
	for _, l := range []string{"#Software: IIS", "#Fields: date time s-sitename cs-method cs-uri-stem cs-uri-query c-ip cs-host sc-status cs-username"} {
		if d, err := w.Parse(l); d != nil || err != nil {
			t.Fatalf("directive gave %v %v", d, err)
		}
	}
	d, err = w.Parse("2018-01-01 09:10:11 W3SVC1 POST /up.aspx - 10.0.0.9 example.com:8443 500 DOM\\bob")
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]any{"iis.access.site_name": "W3SVC1", "url.domain": "example.com", "url.port": int64(8443), "user.name": `DOM\bob`, "event.outcome": "failure", "url.original": "/up.aspx"} {
		if got := get(d, strings.Split(k, ".")...); got != want {
			t.Errorf("%s = %#v, want %#v", k, got, want)
		}
	}
	if get(d, "url", "query") != nil || get(d, "webshell") != nil {
		t.Errorf(`cs-uri-query "-" must mean no query: %v`, d["url"])
	}
}

func TestDetect(t *testing.T) {
	tests := []struct {
		line string
		want Format
	}{
		{`192.168.1.100 - - [10/Jun/2025:02:30:00 +0000] "GET /shell.php?cmd=whoami HTTP/1.1" 200 1234`, FormatCommon},
		{`127.0.0.1 - - [25/Nov/2026:19:02:20 +0000] "GET / HTTP/1.1" 200 259 "-" "Mozilla/5.0"`, FormatCombined},
		{`127.0.0.1 - - [02/Feb/2019:05:38:45 +0100] "-" 408 152 "-" "-"`, FormatCombined},
		{"#Fields: date time s-ip", FormatW3CHeader},
		{"#Software: Microsoft Internet Information Services 10.0", FormatW3CHeader},
		{"2018-01-01 08:09:10 127.0.0.1 GET / - 80", FormatUnknown},
		{"type=SYSCALL msg=audit(1.1:1): a=1", FormatUnknown},
	}
	for _, tc := range tests {
		if got := Detect(tc.line); got != tc.want {
			t.Errorf("Detect(%.40q) = %v, want %v", tc.line, got, tc.want)
		}
	}
}

func FuzzParseCombined(f *testing.F) {
	f.Add(`192.168.1.100 - - [10/Jun/2025:02:30:00 +0000] "GET /shell.php?cmd=whoami HTTP/1.1" 200 1234`)
	f.Add(`"a, b" 1.2.3.4 - - [08/Jun/2020:08:04:43 +0000] "GET /s.php?c=%zz+id HTTP/1.1" 200 1 "-" "a \"q\" b" "-"`)
	f.Add(`h:1 1.2.3.4 - u [08/Jun/2020:08:04:43 +0000] "GET http://x:1/a.b#c HTTP/1.1" 500 - "r" "u"`)
	f.Add(`1.2.3.4 - - [2026-11-25T19:02:28.250+05:30] "GET /a.php?c=id HTTP/1.1" 200 5 "-" "u" "203.0.113.9, 10.0.0.1"`)
	f.Fuzz(func(t *testing.T, line string) {
		d, err := ParseCombined(line)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("unwrapped error %v", err)
			}
			return
		}
		if _, ok := d["@timestamp"].(time.Time); !ok {
			t.Fatal("no @timestamp")
		}
		if _, ok := get(d, "http", "response", "status_code").(int64); !ok {
			t.Fatal("no status")
		}
		_ = Detect(line)
	})
}

func FuzzW3C(f *testing.F) {
	f.Add("#Fields: date time cs-uri-stem cs-uri-query sc-status time-taken\n2018-01-01 08:09:10 /a.aspx c=1 200 5")
	f.Add("2018-01-01 08:09:10 127.0.0.1 GET / q=100 80 - 81.2.69.143 UA - 200 0 0 123")
	f.Fuzz(func(t *testing.T, s string) {
		w := NewW3C()
		lines := strings.Split(s, "\n")
		type result struct {
			doc map[string]any
			err error
		}
		var whole []result
		for _, l := range lines {
			d, err := w.Parse(l)
			if err != nil && !errors.Is(err, ErrMalformed) {
				t.Fatalf("unwrapped error %v", err)
			}
			if err == nil && d != nil {
				if _, ok := d["@timestamp"].(time.Time); !ok {
					t.Fatal("no @timestamp")
				}
			}
			whole = append(whole, result{d, err})
		}
		// Resuming at a line's start reads the lines after it as reading
		// the file from its start does.
		offset := 0
		for i := range min(len(lines), 8) {
			r := NewW3C()
			if err := r.Resume(strings.NewReader(s), int64(offset)); err != nil {
				t.Fatalf("Resume at line %d: %v", i+1, err)
			}
			for j, l := range lines[i:] {
				d, err := r.Parse(l)
				if want := whole[i+j]; !reflect.DeepEqual(d, want.doc) || fmt.Sprint(err) != fmt.Sprint(want.err) {
					t.Fatalf("resumed at line %d, line %d: %v %v, want %v %v", i+1, i+j+1, d, err, want.doc, want.err)
				}
			}
			offset += len(lines[i]) + 1
		}
	})
}

// BenchmarkW3CResume is what the beat pays once per IIS file when it starts
// again in the middle of it, against parsing the same lines (SetBytes: the
// MB/s of each are comparable): 10 MB of IIS lines under one header.
func BenchmarkW3CResume(b *testing.B) {
	var f strings.Builder
	f.WriteString("#Software: Microsoft Internet Information Services 10.0\r\n#Fields: " + strings.Join(DefaultW3CFields, " ") + "\r\n")
	var lines []string
	for i := 0; f.Len() < 10<<20; i++ {
		l := fmt.Sprintf("2026-11-27 10:%02d:%02d 10.0.0.5 GET /app/page%d.aspx id=%d 443 - 10.0.0.2 Mozilla/5.0+(Windows+NT+10.0) - 200 0 0 %d", i/60%60, i%60, i, i, i%900)
		lines = append(lines, l)
		f.WriteString(l + "\r\n")
	}
	file := f.String()
	b.Run("resume", func(b *testing.B) {
		b.SetBytes(int64(len(file)))
		for b.Loop() {
			w := NewW3C()
			if err := w.Resume(strings.NewReader(file), int64(len(file))); err != nil || len(w.Fields()) != len(DefaultW3CFields) || w.line != len(lines)+2 {
				b.Fatalf("%v: %d fields, line %d", err, len(w.Fields()), w.line)
			}
		}
	})
	b.Run("parse", func(b *testing.B) {
		b.SetBytes(int64(len(file)))
		for b.Loop() {
			w := NewW3C()
			for _, l := range lines {
				if _, err := w.Parse(l); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}

func BenchmarkParseCombined(b *testing.B) {
	lines := readLines(b, dataDir+"nielsbasjes-logparser/examples/demolog/hackers-access.log")
	var n int64
	for _, l := range lines {
		n += int64(len(l)) + 1
	}
	b.SetBytes(n)
	b.ReportAllocs()
	for b.Loop() {
		for _, l := range lines {
			if _, err := ParseCombined(l); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// A line for a connection that sent no request ("-" 408 from Apache, ""
// 400 from nginx) is a record of the client and the status, with no method
// or URL: what filebeat's apache module gives for the same lines
// (filebeat/module/apache/access/test/test.log-expected.json).
func TestNoRequestLine(t *testing.T) {
	for _, tc := range []struct {
		line   string
		status int
		ip     string
		agent  any
	}{
		{`::1 - - [26/Dec/2016:16:16:48 +0200] "-" 408 -`, 408, "::1", nil},
		{`127.0.0.1 - - [02/Feb/2019:05:38:45 +0100] "-" 408 152 "-" "-"`, 408, "127.0.0.1", nil},
		{`127.0.0.1 - - [12/Apr/2018:09:48:40 +0200] "" 400 0 "-" "curl/8.0"`, 400, "127.0.0.1", "curl/8.0"},
	} {
		d, err := ParseCombined(tc.line)
		if err != nil {
			t.Fatalf("%s: %v", tc.line, err)
		}
		if fmt.Sprint(get(d, "http", "response", "status_code")) != fmt.Sprint(tc.status) || get(d, "source", "ip") != tc.ip || get(d, "event", "outcome") != "failure" {
			t.Errorf("%s: %v", tc.line, d)
		}
		if d["url"] != nil || get(d, "http", "request") != nil || get(d, "user_agent", "original") != tc.agent {
			t.Errorf("%s: url %v, http.request %v, user_agent %v", tc.line, d["url"], get(d, "http", "request"), d["user_agent"])
		}
	}
}

// IIS's custom X-Forwarded-For field (enhanced logging) is kept in
// iis.access.remote_ip_list, as the combined formats' list is; a value that
// is not a list of addresses is left out.
func TestW3CForwardedFor(t *testing.T) {
	w := NewW3C()
	if _, err := w.Parse("#Fields: date time cs-uri-stem c-ip sc-status X-Forwarded-For"); err != nil {
		t.Fatal(err)
	}
	for line, want := range map[string]any{
		"2026-11-25 19:02:28 /cmd.aspx 10.0.0.1 200 203.0.113.9,+10.0.0.1": []string{"203.0.113.9", "10.0.0.1"},
		"2026-11-25 19:02:28 /cmd.aspx 10.0.0.1 200 -":                     nil,
		"2026-11-25 19:02:28 /cmd.aspx 10.0.0.1 200 unknown":               nil,
	} {
		d, err := w.Parse(line)
		if err != nil {
			t.Fatal(err)
		}
		if got := get(d, "iis", "access", "remote_ip_list"); !reflect.DeepEqual(got, want) || get(d, "source", "ip") != "10.0.0.1" {
			t.Errorf("%s: remote_ip_list %#v, source.ip %v; want %#v", line, got, get(d, "source", "ip"), want)
		}
	}
}

// IIS's custom field for the request's Content-Type header gives
// http.request.mime_type (SigmaHQ's cs-content-type).
func TestW3CContentType(t *testing.T) {
	w := NewW3C()
	if _, err := w.Parse("#Fields: date time cs-method cs-uri-stem c-ip sc-status cs(Content-Type)"); err != nil {
		t.Fatal(err)
	}
	d, err := w.Parse("2026-11-25 19:02:28 POST /irj/servlet_jsp/irj/root/x.jsp 10.0.0.1 200 application/octet-stream")
	if err != nil {
		t.Fatal(err)
	}
	if got := get(d, "http", "request", "mime_type"); got != "application/octet-stream" {
		t.Errorf("http.request.mime_type = %#v", got)
	}
}

// HTTP.sys's HTTPERR log (C:\Windows\System32\LogFiles\HTTPERR, header as
// Microsoft documents it) writes the whole URI in cs-uri: split into path
// and query as cs-uri-stem and cs-uri-query are, so that a request refused
// before IIS saw it keeps its URL.
func TestW3CWholeURI(t *testing.T) {
	w := NewW3C()
	if _, err := w.Parse("#Fields: date time c-ip c-port s-ip s-port cs-version cs-method cs-uri streamid sc-status s-siteid s-reason s-queuename"); err != nil {
		t.Fatal(err)
	}
	d, err := w.Parse("2021-08-10 10:00:01 203.0.113.9 51234 10.0.0.10 443 HTTP/1.1 GET /aspnet_client/x.aspx?cmd=whoami - 503 1 ConnLimit DefaultAppPool")
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]any{"url.original": "/aspnet_client/x.aspx?cmd=whoami", "url.path": "/aspnet_client/x.aspx", "url.query": "cmd=whoami", "url.extension": "aspx", "http.response.status_code": int64(503)} {
		if got := get(d, strings.Split(k, ".")...); got != want {
			t.Errorf("%s = %#v, want %#v", k, got, want)
		}
	}
	d, err = w.Parse("2021-08-10 10:00:02 203.0.113.9 51235 10.0.0.10 80 - - - - - - Timer_ConnectionIdle -")
	if err != nil || get(d, "url") != nil {
		t.Errorf("a connection that sent no request: url %v, %v", get(d, "url"), err)
	}
}

// Resume reads the header in force above an offset, as the beat needs when
// it restarts in the middle of an IIS file, and numbers lines as the file
// does.
func TestW3CResume(t *testing.T) {
	long := "#Remark: " + strings.Repeat("x", 100_000) // longer than Resume's buffer
	file := strings.Join([]string{
		"#Software: Microsoft Internet Information Services 10.0",
		"#Fields: date time c-ip cs-method cs-uri-stem sc-status",
		"2026-11-27 10:00:00 10.0.0.2 GET /a.aspx 200",
		long,
		"#Fields: date time cs-method cs-uri-stem cs-uri-query sc-status cs-host", // IIS restarted with other fields
		"2026-11-27 11:00:00 POST /up.aspx - 200 shop.example.com",
		"2026-11-27 11:00:01 GET /b.aspx x=1 200 shop.example.com",
		"2026-11-27 11:00:02 GET /c.aspx",
	}, "\r\n") + "\r\n"
	at := func(prefix string) int64 { return int64(strings.Index(file, prefix)) }
	for _, tc := range []struct {
		name   string
		offset int64
		fields int // columns in force
		line   int // the line at offset
	}{
		{"start", 0, len(DefaultW3CFields), 1},
		{"after the first header", at("2026-11-27 10:00:00"), 6, 3},
		{"after the long remark", at("#Fields: date time cs-method"), 6, 5},
		{"after the second header", at("2026-11-27 11:00:01"), 7, 7},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := NewW3C()
			if err := w.Resume(strings.NewReader(file), tc.offset); err != nil {
				t.Fatal(err)
			}
			if len(w.Fields()) != tc.fields {
				t.Fatalf("%d columns in force, want %d: %v", len(w.Fields()), tc.fields, w.Fields())
			}
			var last error
			for l := range strings.SplitSeq(file[tc.offset:], "\r\n") {
				if _, err := w.Parse(l); err != nil {
					last = err
				}
			}
			if want := "line 8: line has 4 fields but the #Fields header on line 5 declares 7"; tc.offset > 0 && (last == nil || !strings.Contains(last.Error(), want)) {
				t.Errorf("last line's error %v, want %q", last, want)
			}
		})
	}
	d, err := func() (map[string]any, error) {
		w := NewW3C()
		if err := w.Resume(strings.NewReader(file), at("2026-11-27 11:00:01")); err != nil {
			return nil, err
		}
		return w.Parse("2026-11-27 11:00:01 GET /b.aspx x=1 200 shop.example.com")
	}()
	if err != nil || get(d, "url", "domain") != "shop.example.com" || get(d, "url", "query") != "x=1" {
		t.Errorf("line read after Resume: %v %v", d, err)
	}
	if err := NewW3C().Resume(strings.NewReader(file), at("2026-11-27 10:00:00")+5); err == nil || !strings.Contains(err.Error(), "not at the start of a line") {
		t.Errorf("offset inside a line: %v", err)
	}
}

// TestLighttpdCapture reads a real lighttpd 1.4.69 access log in its
// default format (testdata/SOURCES.md), which writes the host it served
// (%V) where combined has the ident: with server lighttpd that host is
// url.domain and url.port, never a user; with the default server the line
// still parses, as Apache's, and the host is dropped.
func TestLighttpdCapture(t *testing.T) {
	raw, err := os.ReadFile("testdata/lighttpd-1.4.69-access.log")
	if err != nil {
		t.Fatal(err)
	}
	var cmds, hosts []string
	for i, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		d, err := ParseCombined(line, WithServer("lighttpd"))
		if err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		if get(d, "event", "dataset") != "lighttpd.access" || get(d, "source", "ip") != "127.0.0.1" || get(d, "user") != nil {
			t.Errorf("line %d: dataset %v, source.ip %v, user %v", i+1, get(d, "event", "dataset"), get(d, "source", "ip"), get(d, "user"))
		}
		hosts = append(hosts, fmt.Sprint(get(d, "url", "domain"), ":", get(d, "url", "port")))
		if c, ok := get(d, "webshell", "url", "params", "c").([]string); ok {
			cmds = append(cmds, c...)
		}
		if apache, err := ParseCombined(line); err != nil || get(apache, "url", "domain") != nil || get(apache, "user") != nil {
			t.Errorf("line %d as Apache's: %v, url.domain %v, user %v", i+1, err, get(apache, "url", "domain"), get(apache, "user"))
		}
	}
	if want := []string{"whoami", "cat /etc/passwd | head -2", "uname -a", "sleep 2"}; !reflect.DeepEqual(cmds, want) {
		t.Errorf("query commands %q, want %q", cmds, want)
	}
	want := "127.0.0.1:18092 127.0.0.1:18092 127.0.0.1:18092 127.0.0.1:18092 127.0.0.1:18092 127.0.0.1:18092 shop.example:<nil> 127.0.0.1:18092 127.0.0.1:18092"
	if got := strings.Join(hosts, " "); got != want {
		t.Errorf("hosts %s\nwant  %s", got, want)
	}
}
