package container

import (
	"strings"
	"testing"
	"time"

	"webshellbeat/detection"
)

func TestParse(t *testing.T) {
	at := time.Date(2026, 11, 26, 10, 0, 1, 123456789, time.UTC)
	for _, tt := range []struct {
		name, raw string
		want      Line
		partial   bool
	}{
		{"docker", `{"log":"GET / 200\n","stream":"stdout","time":"2026-11-26T10:00:01.123456789Z"}`, Line{at, "stdout", "GET / 200"}, false},
		{"docker attrs", `{"log":"x\r\n","stream":"stderr","attrs":{"tag":"web"},"time":"2026-11-26T10:00:01.123456789Z"}`, Line{at, "stderr", "x"}, false},
		{"docker partial", `{"log":"first 16k","stream":"stdout","time":"2026-11-26T10:00:01.123456789Z"}`, Line{at, "stdout", "first 16k"}, true},
		{"docker empty log", `{"log":"","stream":"stdout","time":"2026-11-26T10:00:01.123456789Z"}`, Line{at, "stdout", ""}, true},
		{"cri", "2026-11-26T10:00:01.123456789Z stderr F sh: 1: nc: not found", Line{at, "stderr", "sh: 1: nc: not found"}, false},
		{"cri partial", "2026-11-26T10:00:01.123456789Z stdout P a b  c", Line{at, "stdout", "a b  c"}, true},
		{"cri empty line", "2026-11-26T10:00:01.123456789Z stdout F", Line{at, "stdout", ""}, false},
		{"cri zone", "2026-11-26T11:00:01.123456789+01:00 stdout F x\n", Line{at, "stdout", "x"}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, partial, err := Parse(tt.raw)
			if err != nil || !got.Time.Equal(tt.want.Time) || got.Stream != tt.want.Stream || got.Text != tt.want.Text || partial != tt.partial {
				t.Errorf("Parse(%q) = %+v, %v, %v; want %+v, %v", tt.raw, got, partial, err, tt.want, tt.partial)
			}
			if !Is(tt.raw) {
				t.Errorf("Is(%q) = false", tt.raw)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	for _, tt := range []struct{ raw, want string }{
		{`{"log":"x\n","stream":"stdout"`, "docker json-file entry: unexpected end"},
		{`{"log":"x\n","stream":"stdout"}`, `no "log" or no "time"`},
		{`{"message":"x","time":"2026-11-26T10:00:01Z"}`, `no "log" or no "time"`},
		{`{"log":"x\n","stream":"console","time":"2026-11-26T10:00:01Z"}`, `stream "console"`},
		{`{"log":"x\n","stream":"stdout","time":"26/Nov/2026"}`, "time:"},
		{"2026-11-26T10:00:01Z stdout", "want \"<time> <stream> <tags> <line>\""},
		{"2026-11-26 10:00:01 stdout F x", "CRI entry: time:"},
		{"2026-11-26T10:00:01Z out F x", `stream "out"`},
		{"2026-11-26T10:00:01Z stdout X x", `tag "X"`},
		// A syslog line in the high-precision format is no CRI entry.
		{"2026-11-26T10:00:01.000000+00:00 web1 sshd[7]: Accepted", `stream "web1"`},
	} {
		_, _, err := Parse(tt.raw)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%q) err = %v, want it to contain %q", tt.raw, err, tt.want)
		}
	}
}

// Partial entries join per stream, at the first part's time; a line stops
// growing at MaxLine; Flush returns what the file's end cut off.
func TestJoiner(t *testing.T) {
	t0 := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	var j Joiner
	add := func(sec int, stream, text string, partial bool) (Line, bool, bool) {
		return j.Add(Line{t0.Add(time.Duration(sec) * time.Second), stream, text}, partial)
	}
	if _, ok, _ := add(0, "stdout", "GET /shell", true); ok {
		t.Fatal("a partial entry gave a line")
	}
	if l, ok, _ := add(1, "stderr", "sh: 1: nc: not found", false); !ok || l.Text != "sh: 1: nc: not found" {
		t.Errorf("the other stream's whole line between parts: %+v, %v", l, ok)
	}
	if l, ok, cut := add(2, "stdout", ".php?cmd=id", false); !ok || cut || l.Text != "GET /shell.php?cmd=id" || !l.Time.Equal(t0) {
		t.Errorf("joined: %+v, %v, %v", l, ok, cut)
	}
	big := strings.Repeat("A", MaxLine/2)
	add(3, "stdout", big, true)
	if l, ok, cut := add(4, "stdout", big, true); !ok || !cut || len(l.Text) != MaxLine {
		t.Errorf("at MaxLine: %d bytes, ok %v, cut %v", len(l.Text), ok, cut)
	}
	if l, ok, cut := add(5, "stdout", "tail", false); !ok || cut || l.Text != "tail" {
		t.Errorf("after a cut: %+v, %v, %v", l, ok, cut)
	}
	add(6, "stdout", big, true)
	if l, ok, cut := add(7, "stdout", big+"end", false); !ok || cut || len(l.Text) != MaxLine+3 {
		t.Errorf("a long line that ends in its last part: %d bytes, ok %v, cut %v", len(l.Text), ok, cut)
	}
	add(8, "stderr", "unfinished", true)
	if rest := j.Flush(); len(rest) != 1 || rest[0].Text != "unfinished" || rest[0].Stream != "stderr" {
		t.Errorf("Flush = %+v", rest)
	}
	if rest := j.Flush(); len(rest) != 0 {
		t.Errorf("second Flush = %+v", rest)
	}
}

// One nginx container's output: the image's start-up messages, the error
// log lines that tell the server, access lines (combined and JSON), and a
// FastCGI error.
func TestDecoderNginx(t *testing.T) {
	t0 := time.Date(2026, 11, 26, 10, 0, 0, 500, time.UTC)
	d := NewDecoder("")
	decode := func(stream, text string) map[string]any {
		t.Helper()
		return d.Decode(Line{Time: t0, Stream: stream, Text: text})
	}
	out := decode("stdout", "/docker-entrypoint.sh: Configuration complete; ready for start up")
	if s := detection.LookupString(out, "event.dataset"); s != "apache.error" || detection.LookupString(out, "stream") != "stdout" || !hasTag(out, "unprefixed") {
		t.Errorf("start-up message before any error line: %v", out)
	}
	notice := decode("stderr", "2026/11/26 10:00:00 [notice] 1#1: using the \"epoll\" event method")
	if detection.LookupString(notice, "event.dataset") != "nginx.error" || notice["@timestamp"] != t0 || detection.LookupString(notice, "log.level") != "notice" {
		t.Errorf("nginx notice: %v", notice)
	}
	access := decode("stdout", `172.17.0.1 - - [26/Nov/2026:10:00:01 +0000] "GET /uploads/shell.php?cmd=id HTTP/1.1" 200 40 "-" "curl/8.5.0" "-"`)
	if detection.LookupString(access, "event.dataset") != "nginx.access" || detection.LookupString(access, "url.query") != "cmd=id" ||
		!access["@timestamp"].(time.Time).Equal(time.Date(2026, 11, 26, 10, 0, 1, 0, time.UTC)) {
		t.Errorf("access line after nginx's notice: %v", access)
	}
	js := decode("stdout", `{"time_iso8601":"2026-11-26T10:00:02+00:00","remote_addr":"172.17.0.1","request":"POST /up.php HTTP/1.1","status":"200","http_user_agent":"x"}`)
	if detection.LookupString(js, "event.dataset") != "nginx.access" || detection.LookupString(js, "url.path") != "/up.php" {
		t.Errorf("JSON access line: %v", js)
	}
	fcgi := decode("stderr", `2026/11/26 10:00:03 [error] 29#29: *3 FastCGI sent in stderr: "sh: 1: nc: not found" while reading response header from upstream, client: 172.17.0.1, server: _, request: "GET /uploads/shell.php?cmd=nc HTTP/1.1"`)
	if detection.LookupString(fcgi, "source.ip") != "172.17.0.1" || detection.LookupString(fcgi, "url.query") != "cmd=nc" {
		t.Errorf("FastCGI error line: %v", fcgi)
	}
	if blank := decode("stdout", "  "); blank != nil {
		t.Errorf("blank line: %v", blank)
	}
}

// php:apache: Apache's error log is the container's stderr, so a mod_php
// command's errors are there, unprefixed, at the runtime's time; a
// bracketed line that is not Apache's prefix is output too.
func TestDecoderApache(t *testing.T) {
	t0 := time.Date(2026, 11, 26, 10, 0, 5, 0, time.UTC)
	d := NewDecoder("")
	lines := []string{
		"AH00558: apache2: Could not reliably determine the server's fully qualified domain name, using 172.17.0.2. Set the 'ServerName' directive globally to suppress this message",
		"[Thu Nov 26 10:00:00.000001 2026] [mpm_prefork:notice] [pid 1:tid 1] AH00163: Apache/2.4.62 (Debian) PHP/8.3.14 configured -- resuming normal operations",
		`172.17.0.1 - - [26/Nov/2026:10:00:04 +0000] "GET /shell.php?c=nc HTTP/1.1" 200 250 "-" "curl/8.5.0"`,
		"sh: 1: nc: not found",
		"[*] done",
	}
	want := []string{"apache.error", "apache.error", "apache.access", "apache.error", "apache.error"}
	for i, line := range lines {
		doc := d.Decode(Line{Time: t0, Stream: "stderr", Text: line})
		if got := detection.LookupString(doc, "event.dataset"); got != want[i] {
			t.Errorf("line %d: dataset %q, want %q: %v", i, got, want[i], doc)
		}
		if want[i] == "apache.error" && doc["@timestamp"] != t0 {
			t.Errorf("line %d: time %v, want the runtime's %v", i, doc["@timestamp"], t0)
		}
	}
	if doc := NewDecoder("nginx").Decode(Line{Time: t0, Stream: "stdout", Text: lines[2]}); detection.LookupString(doc, "event.dataset") != "nginx.access" {
		t.Errorf("a named server: %v", doc)
	}
}

func hasTag(doc map[string]any, tag string) bool {
	tags, _ := doc["tags"].([]string)
	for _, t := range tags {
		if t == tag {
			return true
		}
	}
	return false
}

func TestFromPath(t *testing.T) {
	id := strings.Repeat("0a", 32)
	k8s := FromPath("/var/log/containers/web-7d4b9c-x2x9q_shop_nginx-" + id + ".log")
	if detection.LookupString(k8s, "container.id") != id || detection.LookupString(k8s, "container.name") != "nginx" ||
		detection.LookupString(k8s, "kubernetes.pod.name") != "web-7d4b9c-x2x9q" || detection.LookupString(k8s, "kubernetes.namespace") != "shop" {
		t.Errorf("Kubernetes: %v", k8s)
	}
	docker := FromPath(`/var/lib/docker/containers/` + id + "/" + id + "-json.log.1")
	if detection.LookupString(docker, "container.id") != id {
		t.Errorf("Docker: %v", docker)
	}
	pod := FromPath("/var/log/pods/shop_web-7d4b9c-x2x9q_6f1c0d3e-2b7a-4c1e-9f0a-1b2c3d4e5f60/nginx/0.log.20261126-101500.gz")
	if detection.LookupString(pod, "container.name") != "nginx" || detection.LookupString(pod, "kubernetes.pod.name") != "web-7d4b9c-x2x9q" ||
		detection.LookupString(pod, "kubernetes.namespace") != "shop" || detection.LookupString(pod, "container.id") != "" {
		t.Errorf("a pod folder's rotated file: %v", pod)
	}
	if other := FromPath("/var/log/nginx/access.log"); other != nil {
		t.Errorf("another path: %v", other)
	}
}

func FuzzParse(f *testing.F) {
	f.Add(`{"log":"x\n","stream":"stdout","time":"2026-11-26T10:00:01Z"}`)
	f.Add("2026-11-26T10:00:01Z stdout P x")
	f.Add("2026-11-26T10:00:01Z stderr F:P ")
	f.Add("2026-11-26T12:09:08.430540494Z sh: 1: wsbnothere: not found")
	f.Fuzz(func(t *testing.T, raw string) {
		if l, err := Timestamped(raw); err == nil {
			NewDecoder("").Decode(l)
		}
		l, partial, err := Parse(raw)
		if err != nil {
			return
		}
		var j Joiner
		j.Add(l, partial)
		j.Flush()
		NewDecoder("").Decode(l)
	})
}

// php:fpm: php-fpm's own lines on stderr tell the server, and a worker's
// output, which the image passes on undecorated, is php-fpm's error event.
func TestDecoderPHPFPM(t *testing.T) {
	t0 := time.Date(2026, 11, 26, 11, 1, 58, 0, time.UTC)
	d := NewDecoder("")
	for i, line := range []string{
		"[26-Nov-2026 11:01:57] NOTICE: fpm is running, pid 1",
		`172.18.0.3 -  26/Nov/2026:11:01:58 +0000 "GET /uploads/x.php" 200`, // php-fpm's access log, on stderr too
		"sh: 1: nc: not found",
	} {
		doc := d.Decode(Line{Time: t0, Stream: "stderr", Text: line})
		if ds := detection.LookupString(doc, "event.dataset"); ds != "php_fpm.error" || doc["@timestamp"] != t0 {
			t.Errorf("line %d: %v", i, doc)
		}
	}
	// A combined line is a web server's beside php-fpm in one container,
	// not php-fpm's.
	access := d.Decode(Line{Time: t0, Stream: "stdout", Text: `172.18.0.3 - - [26/Nov/2026:11:01:58 +0000] "GET /uploads/x.php?c=id HTTP/1.1" 200 40 "-" "curl"`})
	if ds := detection.LookupString(access, "event.dataset"); ds != "apache.access" {
		t.Errorf("an access line after php-fpm's: %v", access)
	}
}
