package accesslog

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
)

// combinedParts splits a combined line with a regular expression of its
// own, independent of the parser: client, user, time, request, status,
// bytes, referrer, user agent.
var combinedParts = regexp.MustCompile(`^(\S+) \S+ (\S+) \[([^\]]+)\] "((?:[^"\\]|\\.)*)" (\d{3}) (\d+|-) "((?:[^"\\]|\\.)*)" "((?:[^"\\]|\\.)*)"$`)

// TestJSONMatchesCombined writes real combined lines again as the JSON
// objects of two nginx log_formats (the variable names with $request and
// $time_local; other key names with the request in parts and
// $time_iso8601), and checks that ParseJSON maps each to the document
// ParseCombined gives for the line.
func TestJSONMatchesCombined(t *testing.T) {
	var lines []string
	lines = append(lines, readLines(t, dataDir+"linux-capture/nginx_access.log")...)
	lines = append(lines, readLines(t, dataDir+"nielsbasjes-logparser/examples/demolog/hackers-access.log")...)
	compared := 0
	for i, line := range lines {
		p := combinedParts.FindStringSubmatch(line)
		if p == nil {
			continue
		}
		want, err := ParseCombined(line, WithServer("nginx"))
		if err != nil {
			continue // TestFiles covers the lines the parser refuses
		}
		stamp, _ := time.Parse(clfTime, p[3])
		vars := map[string]any{"time_local": p[3], "remote_addr": p[1], "remote_user": p[2], "request": p[4],
			"status": json.Number(p[5]), "body_bytes_sent": p[6], "http_referer": p[7], "http_user_agent": p[8]}
		method, rest, _ := strings.Cut(p[4], " ")
		target, proto, _ := strings.Cut(rest, " ")
		parts := map[string]any{"@timestamp": stamp.Format(time.RFC3339), "clientIp": p[1], "method": method,
			"request_uri": target, "protocol": proto, "status": p[5], "bytes": p[6], "referer": p[7], "user_agent": p[8]}
		for name, obj := range map[string]map[string]any{"variables": vars, "parts": parts} {
			if name == "parts" && (strings.Count(p[4], " ") != 2 || p[2] != "-") {
				continue // a target with spaces, or a user the object does not carry
			}
			raw, _ := json.Marshal(obj)
			got, err := ParseJSON(string(raw))
			if err != nil {
				t.Errorf("line %d as %s JSON %s: %v", i+1, name, raw, err)
				continue
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("line %d as %s JSON:\n got %v\nwant %v", i+1, name, got, want)
			}
			compared++
		}
	}
	if compared < 1000 {
		t.Errorf("compared %d documents, want the capture's and most of the 5,000-line hackers log", compared)
	}
	t.Logf("%d JSON objects mapped like their combined lines", compared)
}

func TestJSONVariants(t *testing.T) {
	tests := []struct {
		name string
		line string
		key  string
		want any
	}{
		{"uri-and-args", `{"time":"2026-11-26T06:55:09Z","remote_addr":"1.2.3.4","request_method":"GET","uri":"/up/s.php","args":"c=id","status":"200"}`, "webshell.url.params.c", []string{"id"}},
		{"msec", `{"msec":"1764140109.250","remote_addr":"1.2.3.4","request":"GET / HTTP/1.1","status":200}`, "@timestamp", time.Date(2025, 11, 26, 6, 55, 9, 250e6, time.UTC)},
		{"iso-zone", `{"time_iso8601":"2026-11-26T07:55:09+01:00","request":"GET / HTTP/1.1","status":200}`, "@timestamp", time.Date(2026, 11, 26, 6, 55, 9, 0, time.UTC)},
		{"camel-case", `{"timeLocal":"26/Nov/2026:06:55:09 +0000","remoteAddr":"1.2.3.4","Request":"POST /a.aspx HTTP/2.0","Status":201}`, "http.request.method", "POST"},
		{"dash-is-empty", `{"time_local":"26/Nov/2026:06:55:09 +0000","remote_user":"-","http_referer":"-","request":"GET / HTTP/1.1","status":200}`, "user", nil},
		{"xff", `{"time_local":"26/Nov/2026:06:55:09 +0000","remote_addr":"10.0.0.1","http_x_forwarded_for":"203.0.113.9, 10.0.0.7","request":"GET / HTTP/1.1","status":200}`, "nginx.access.remote_ip_list", []string{"203.0.113.9", "10.0.0.7"}},
		{"vhost", `{"time_local":"26/Nov/2026:06:55:09 +0000","host":"shop.example","request":"GET / HTTP/1.1","status":200}`, "url.domain", "shop.example"},
		// The request's Content-Type (nginx's $content_type; Caddy's request
		// header, not its response's), for SigmaHQ's cs-content-type.
		{"content-type", `{"time_local":"26/Nov/2026:06:55:09 +0000","request":"POST /up HTTP/1.1","status":200,"content_type":"application/octet-stream"}`, "http.request.mime_type", "application/octet-stream"},
		{"caddy-content-type", `{"ts":1795725559.1,"request":{"method":"POST","uri":"/up","headers":{"Content-Type":["multipart/form-data; boundary=x"]}},"status":200,"resp_headers":{"Content-Type":["text/html"]}}`, "http.request.mime_type", "multipart/form-data; boundary=x"},
		// Caddy's authenticated user (its basicauth handler), for SigmaHQ's
		// cs-username; "" when none.
		{"caddy-user", `{"ts":1795725559.1,"request":{"method":"GET","uri":"/"},"user_id":"alice","status":200}`, "user.name", "alice"},
		{"caddy-no-user", `{"ts":1795725559.1,"request":{"method":"GET","uri":"/"},"user_id":"","status":200}`, "user", nil},
		{"response-content-type", `{"ts":1795725559.1,"request":{"method":"GET","uri":"/"},"status":200,"resp_headers":{"Content-Type":["text/html"]}}`, "http.request.mime_type", nil},
		{"no-request", `{"time_local":"26/Nov/2026:06:55:09 +0000","remote_addr":"1.2.3.4","request":"","status":400}`, "http.response.status_code", int64(400)},
		// nginx's default escaping (no escape=json) is not JSON: \x22 for
		// '"', \x5C for '\', \xC3\xA9 for the bytes of "é". A line of a
		// real nginx 1.22 with the log_format of .ci/linux-e2e.sh.
		{"nginx-escapes", `{"@timestamp":"2026-11-26T06:55:09+00:00","client_ip":"127.0.0.1","method":"GET","request_uri":"/uploads/a.php?c=cat%20/etc/passwd","protocol":"HTTP/1.1","status":"404","bytes":"153","referer":"http://x/\x22r","user_agent":"Mozilla \x22quoted\x22 \x5C back \xC3\xA9"}`, "user_agent.original", `Mozilla "quoted" \ back é`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := ParseJSON(tc.line)
			if err != nil {
				t.Fatal(err)
			}
			if got := get(d, tc.key); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("%s = %#v, want %#v", tc.key, got, tc.want)
			}
		})
	}
}

// TestCaddyCapture reads a real Caddy 2.6.2 access log
// (testdata/SOURCES.md): every line an access document of Caddy's, the
// command in the query, the client's forwarded address kept apart.
func TestCaddyCapture(t *testing.T) {
	raw, err := os.ReadFile("testdata/caddy-2.6.2-access.log")
	if err != nil {
		t.Fatal(err)
	}
	var cmds, methods []string
	for i, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		d, err := ParseJSON(line)
		if err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		if get(d, "event", "dataset") != "caddy.access" || get(d, "source", "ip") != "127.0.0.1" || get(d, "url", "port") != int64(18090) {
			t.Errorf("line %d: dataset %v, source.ip %v, url.port %v", i+1, get(d, "event", "dataset"), get(d, "source", "ip"), get(d, "url", "port"))
		}
		methods = append(methods, fmt.Sprint(get(d, "http", "request", "method")))
		if c, ok := get(d, "webshell", "url", "params", "c").([]string); ok {
			cmds = append(cmds, c...)
		}
		if strings.Contains(line, "X-Forwarded-For") && !reflect.DeepEqual(get(d, "caddy", "access", "remote_ip_list"), []string{"198.51.100.23"}) {
			t.Errorf("line %d: caddy.access.remote_ip_list = %v", i+1, get(d, "caddy", "access", "remote_ip_list"))
		}
	}
	if want := []string{"whoami", "cat /etc/passwd | head -2", "uname -a"}; !reflect.DeepEqual(cmds, want) {
		t.Errorf("query commands %q, want %q (the POST's is in its body, which Caddy does not log)", cmds, want)
	}
	if got := strings.Join(methods, " "); got != "GET GET GET POST GET GET POST GET GET" {
		t.Errorf("methods %s", got)
	}
}

// Caddy's and Traefik's JSON access logs have fixed layouts (these lines
// are written after their documentation's examples, not captured; Caddy's
// client_ip came with 2.7, after the captured 2.6.2).
func TestJSONCaddyTraefik(t *testing.T) {
	caddy := `{"level":"info","ts":1764140109.5241024,"logger":"http.log.access.log0","msg":"handled request","request":{"remote_ip":"10.0.0.2","remote_port":"41342","client_ip":"203.0.113.9","proto":"HTTP/2.0","method":"GET","host":"shop.example","uri":"/uploads/a.php?cmd=id","headers":{"User-Agent":["curl/8.5.0"],"Accept":["*/*"]}},"bytes_read":0,"user_id":"","duration":0.000929675,"size":10900,"status":200,"resp_headers":{"Server":["Caddy"]}}`
	traefik := `{"ClientAddr":"203.0.113.9:54321","ClientHost":"203.0.113.9","ClientPort":"54321","ClientUsername":"-","DownstreamContentSize":19,"DownstreamStatus":200,"Duration":1234567,"OriginStatus":200,"RequestAddr":"shop.example","RequestHost":"shop.example","RequestMethod":"GET","RequestPath":"/uploads/a.php?cmd=id","RequestPort":"-","RequestProtocol":"HTTP/1.1","RequestScheme":"http","RouterName":"shop@docker","StartUTC":"2025-11-26T06:55:09.5241024Z","entryPointName":"web","level":"info","msg":"","time":"2025-11-26T06:55:10Z","request_User-Agent":"curl/8.5.0"}`
	for name, line := range map[string]string{"caddy": caddy, "traefik": traefik} {
		d, err := ParseJSON(line)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		want := map[string]any{
			"source.ip": "203.0.113.9", "http.request.method": "GET", "url.path": "/uploads/a.php", "url.domain": "shop.example",
			"webshell.url.params.cmd": []string{"id"}, "http.response.status_code": int64(200), "user_agent.original": "curl/8.5.0",
		}
		for k, v := range want {
			if got := get(d, k); !reflect.DeepEqual(got, v) {
				t.Errorf("%s: %s = %#v, want %#v", name, k, got, v)
			}
		}
		if ts, _ := d["@timestamp"].(time.Time); ts.Unix() != 1764140109 {
			t.Errorf("%s: @timestamp %v", name, d["@timestamp"])
		}
		if got := get(d, "event", "dataset"); got != name+".access" {
			t.Errorf("%s: event.dataset %v, told by the layout", name, got)
		}
		if d, _ := ParseJSON(line, WithServer("nginx")); get(d, "event", "dataset") != "nginx.access" {
			t.Errorf("%s: a server named by the caller is kept", name)
		}
	}
}

func TestJSONErrors(t *testing.T) {
	tests := []struct {
		name string
		line string
		want string
	}{
		{"not-json", `{"status":200,`, "not a JSON object"},
		{"array", `[1,2]`, "not a JSON object"},
		{"no-status", `{"time_local":"26/Nov/2026:06:55:09 +0000","request":"GET / HTTP/1.1"}`, "no status key (status, statuscode"},
		{"bad-status", `{"time_local":"26/Nov/2026:06:55:09 +0000","request":"GET / HTTP/1.1","status":"OK"}`, `status "OK" is not a 3-digit HTTP status`},
		{"no-time", `{"request":"GET / HTTP/1.1","status":200}`, "no time key (timeiso8601, timelocal"},
		{"bad-time", `{"time_local":"yesterday","request":"GET / HTTP/1.1","status":200}`, `time_local "yesterday" is not a time`},
		{"no-request", `{"time_local":"26/Nov/2026:06:55:09 +0000","status":200}`, "no request key"},
		// The message names the key, not a column of the line.
		{"bad-request", `{"time_local":"26/Nov/2026:06:55:09 +0000","request":"G(T / HTTP/1.1","status":200}`, `request: request "G(T / HTTP/1.1": not an HTTP method`},
		{"bad-bytes", `{"time_local":"26/Nov/2026:06:55:09 +0000","request":"GET / HTTP/1.1","status":200,"body_bytes_sent":"many"}`, `body_bytes_sent "many" is not a number`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := ParseJSON(tc.line)
			if err == nil {
				t.Fatalf("want error, got %v", d)
			}
			if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "col ") {
				t.Errorf("error %q does not contain %q (or names a column)", err, tc.want)
			}
		})
	}
}

// TestIsJSON: Windows events and ECS documents, which hunt reads from the
// same JSON files, are not taken for access logs.
func TestIsJSON(t *testing.T) {
	for _, tc := range []struct {
		line string
		want bool
	}{
		{`{"time_local":"x","request":"GET / HTTP/1.1","status":200}`, true},
		{`{"method":"GET","uri":"/","status":"200"}`, true},
		{`{"request":"GET / HTTP/1.1"}`, false},
		{`{"@timestamp":"2026-11-26T06:55:09Z","http":{"request":{"method":"GET"},"response":{"status_code":200}},"url":{"original":"/"}}`, false},
		{`{"EventID":4688,"Channel":"Security","EventData":{"NewProcessName":"C:\\w.exe"}}`, false},
		{`{"status":{"code":200},"request":{"method":"GET"}}`, false},
	} {
		var m map[string]any
		if err := json.Unmarshal([]byte(tc.line), &m); err != nil {
			t.Fatal(err)
		}
		if got := IsJSON(m); got != tc.want {
			t.Errorf("IsJSON(%s) = %v, want %v", tc.line, got, tc.want)
		}
		if _, ok, _ := MatchJSON(m); ok != tc.want {
			t.Errorf("MatchJSON(%s): ok %v, want %v", tc.line, ok, tc.want)
		}
	}
}

func FuzzParseJSON(f *testing.F) {
	f.Add(`{"time_local":"26/Nov/2026:06:55:09 +0000","remote_addr":"1.2.3.4","request":"GET /a.php?c=id HTTP/1.1","status":200,"body_bytes_sent":3}`)
	f.Add(`{"msec":"1764140109.250","request_method":"GET","uri":"/","args":"a=b","status":"200"}`)
	f.Add(`{"@timestamp":"2026-11-26T06:55:09+00:00","user_agent":"a \x22b\x22 \xC3\xA9","method":"GET","request_uri":"/","status":"404"}`)
	f.Fuzz(func(t *testing.T, line string) {
		d, err := ParseJSON(line)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		if ts, ok := d["@timestamp"].(time.Time); !ok || ts.IsZero() {
			t.Fatalf("document without a time: %v", d)
		}
	})
}
