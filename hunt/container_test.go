package hunt_test

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"webshellbeat/config"
	"webshellbeat/detection"
	"webshellbeat/detector"
	"webshellbeat/hunt"
	"webshellbeat/internal/testfiles"
)

// The Linux capture's nginx access log as Docker and Kubernetes keep an
// nginx container's output (module/container/testdata): every request is
// read as from the log file itself (same fields, same alerts), the image's
// start-up messages and nginx's notices are nginx's error events at the
// runtime's time, and the file's path names the container.
func TestContainerLogs(t *testing.T) {
	raw, err := os.ReadFile(data + "linux-capture/nginx_access.log")
	if err != nil {
		t.Fatal(err)
	}
	requests := strings.Count(string(raw), "\n")
	dir := t.TempDir()
	plain := filepath.Join(dir, "nginx_access.log")
	testfiles.Write(t, plain, string(raw))
	id := strings.Repeat("3f", 32)
	docker := filepath.Join(dir, "docker", id, id+"-json.log") // says no server: the first error line tells
	cri := filepath.Join(dir, "pods", "web-5c9f-abcde_shop_nginx-"+id+".log")
	testfiles.Copy(t, "../module/container/testdata/nginx-docker-json.log", docker)
	testfiles.Copy(t, "../module/container/testdata/nginx-cri.log", cri)

	want := requestAlerts(t, plain)
	if len(want) != requests || !strings.Contains(strings.Join(want, "\n"), "debug=whoami") {
		t.Fatalf("the plain log: %d requests, want %d: %v", len(want), requests, want)
	}
	for _, path := range []string{docker, cri} {
		var docs []map[string]any
		st, err := hunt.Run([]string{path}, detectorFunc(func(doc map[string]any) bool {
			docs = append(docs, doc)
			return false
		}), func(map[string]any) {}, nil)
		if err != nil || st.Errors != 0 || st.Formats[hunt.FormatContainer] != 1 {
			t.Fatalf("%s: err %v, stats %+v", path, err, st)
		}
		if got := requestAlerts(t, path); !slices.Equal(got, want) {
			t.Errorf("%s: alerts by request %v, want the plain log's %v", path, got, want)
		}
		var access, errors, output int
		for _, d := range docs {
			switch ds := str(d, "event.dataset"); ds {
			case "nginx.access":
				access++
				if str(d, "stream") != "stdout" || str(d, "container.id") != id {
					t.Errorf("%s: access event without its stream or container: %v", path, d)
				}
			case "nginx.error":
				errors++
				if slices.Contains(detection.LookupStrings(d, "tags"), "unprefixed") {
					output++
				}
				if ts, _ := d["@timestamp"].(time.Time); ts.Nanosecond()%1000 != 123 {
					t.Errorf("%s: error event not at the runtime's time: %v", path, d)
				}
			default:
				t.Errorf("%s: dataset %q: %v", path, ds, d)
			}
		}
		if access != requests || errors != 16 || output != 8 {
			t.Errorf("%s: %d access and %d error events (%d output lines), want %d, 16 and 8", path, access, errors, output, requests)
		}
		if path == cri && (str(docs[0], "kubernetes.namespace") != "shop" || str(docs[0], "container.name") != "nginx") {
			t.Errorf("the Kubernetes file name's pod and container: %v", docs[0])
		}
	}
}

// requestAlerts hunts a log with the built-in rules and returns, for each
// request in order, its time, URL and the ids of the rules that raised an
// alert for it.
func requestAlerts(t *testing.T, path string) []string {
	t.Helper()
	det, err := detector.New(config.Default())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	_, err = hunt.Run([]string{path}, detectorFunc(func(doc map[string]any) bool {
		alert := det.Detect(doc)
		if str(doc, "event.dataset") == "nginx.access" {
			ids := ruleIDs(doc)
			slices.Sort(ids)
			out = append(out, fmt.Sprintf("%v %s %v", doc["@timestamp"], str(doc, "url.original"), ids))
		}
		return alert
	}), func(map[string]any) {}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// A damaged entry is reported where it is and why, and the entries around
// it are read; a line whose last part never came is read as far as it
// goes.
func TestContainerLogBadEntries(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nginx.log")
	testfiles.Write(t, path, `2026-11-25T19:00:01Z stdout F 203.0.113.9 - - [25/Nov/2026:19:00:01 +0000] "GET /up/x.php?c=id HTTP/1.1" 200 12 "-" "curl"
2026-11-25T19:00:02Z stdout F 203.0.113.9 - - [25/Nov/2026:19:00:02 +0000] "GET /up/x.php?c=whoami HTTP/1.1" 200 12 "-" "curl"
2026-11-25 19:00:03 stdout F 203.0.113.9 - - [25/Nov/2026:19:00:03 +0000] "GET / HTTP/1.1" 200 12 "-" "curl"
2026-11-25T19:00:04Z stdout P 203.0.113.9 - - [25/Nov/2026:19:00:04 +0000] "GET /up/x.php?c=cat+/etc/pas
`)
	var where []string
	det, _ := detector.New(config.Default())
	var docs []map[string]any
	st, err := hunt.Run([]string{path}, detectorFunc(func(doc map[string]any) bool {
		docs = append(docs, doc)
		return det.Detect(doc)
	}), func(map[string]any) {}, func(r hunt.Record) { where = append(where, r.Err.Error()) })
	if err != nil || st.Events != 4 || st.Errors != 1 || len(where) != 1 || !strings.Contains(where[0], "nginx.log:3: CRI entry: time:") {
		t.Fatalf("err %v, stats %+v, reported %q", err, st, where)
	}
	if bad := docs[2]; !strings.Contains(str(bad, "error.message"), "CRI entry") || !strings.HasPrefix(str(bad, "event.original"), "2026-11-25 19:00:03") {
		t.Errorf("the damaged entry's document: %v", bad)
	}
	if cut := docs[3]; !strings.HasSuffix(str(cut, "message"), "c=cat+/etc/pas") || !slices.Contains(detection.LookupStrings(cut, "tags"), "unprefixed") {
		t.Errorf("the unfinished line: %v", cut)
	}
	if st.Alerts < 2 || detection.LookupString(docs[1], "event.kind") != "alert" {
		t.Errorf("%d alerts; the web shell requests around the damaged entry: %v", st.Alerts, docs[1])
	}
}

// A hunt over Docker's /var/lib/docker/containers reads each container's
// log and passes over the state files beside it (JSON, but no log).
func TestDockerContainersFolder(t *testing.T) {
	dir := t.TempDir()
	id := strings.Repeat("7c", 32)
	testfiles.Copy(t, "../module/container/testdata/nginx-docker-json.log", filepath.Join(dir, id, id+"-json.log"))
	testfiles.Write(t, filepath.Join(dir, id, "config.v2.json"), `{"State":{"Running":true,"Pid":4242},"ID":"`+id+`","Path":"/docker-entrypoint.sh","Args":["nginx","-g","daemon off;"],"Config":{"Image":"nginx:1.27"},"LogPath":"/var/lib/docker/containers/`+id+`/`+id+`-json.log"}`+"\n")
	testfiles.Write(t, filepath.Join(dir, id, "hostconfig.json"), `{"LogConfig":{"Type":"json-file","Config":{}},"NetworkMode":"bridge"}`+"\n")
	_, st := huntPaths(t, dir)
	if st.Errors != 0 || st.Events != 28 || len(st.Skipped) != 2 || len(st.Unrecognized) != 0 {
		t.Errorf("stats %+v: want 28 events, no unreadable record, the two state files skipped unread", st)
	}
}

// A Docker log whose first entry is longer than the head hunt recognises
// files by (a 20 KB request line, split by Docker at 16 KiB) is still a
// container log, and the line is whole.
func TestContainerLogLongFirstLine(t *testing.T) {
	line := `203.0.113.9 - - [25/Nov/2026:19:00:01 +0000] "GET /up/x.php?c=id&pad=` + strings.Repeat("A", 20000) + ` HTTP/1.1" 200 12 "-" "curl"`
	path := filepath.Join(t.TempDir(), "nginx-json.log")
	testfiles.Write(t, path, fmt.Sprintf(`{"log":%q,"stream":"stdout","time":"2026-11-25T19:00:01.5Z"}
{"log":%q,"stream":"stdout","time":"2026-11-25T19:00:01.5Z"}
`, line[:16384], line[16384:]+"\n"))
	var docs []map[string]any
	st, err := hunt.Run([]string{path}, detectorFunc(func(doc map[string]any) bool {
		docs = append(docs, doc)
		return false
	}), func(map[string]any) {}, nil)
	if err != nil || st.Errors != 0 || st.Formats[hunt.FormatContainer] != 1 || len(docs) != 1 || !strings.HasSuffix(str(docs[0], "url.query"), "AAA") {
		t.Errorf("err %v, stats %+v, %d documents", err, st, len(docs))
	}
}

// A Kubernetes pod's php-fpm container: its name tells the server, even
// when the pod's name says nginx (hunt once took any "nginx" in the path).
func TestContainerServerFromName(t *testing.T) {
	id := strings.Repeat("9a", 32)
	path := filepath.Join(t.TempDir(), "shop-nginx-php-6c8d_shop_php-fpm-"+id+".log")
	testfiles.Write(t, path, `2026-11-26T11:01:57.1Z stderr F sh: 1: wsbnothere: not found
2026-11-26T11:01:58.1Z stderr F [26-Nov-2026 11:01:58] NOTICE: fpm is running, pid 1
`)
	var datasets []string
	if _, err := hunt.Run([]string{path}, detectorFunc(func(doc map[string]any) bool {
		datasets = append(datasets, str(doc, "event.dataset"))
		return false
	}), func(map[string]any) {}, nil); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(datasets, []string{"php_fpm.error", "php_fpm.error"}) {
		t.Errorf("datasets %v, want php-fpm's for both lines (the output before any php-fpm line too)", datasets)
	}
}

// `docker logs` of a web server container (captured from the live test's
// image) is its error log and its access log in one: the web shell
// request's alerts and the command errors' alerts, the errors dated by the
// request before them, not by the start-up's error lines. With the nginx
// image's start-up messages before it (the first line of no log format),
// the file is still recognised.
func TestDockerLogsCapture(t *testing.T) {
	nginx, err := os.ReadFile("testdata/docker-logs-nginx-php-fpm.txt")
	if err != nil {
		t.Fatal(err)
	}
	entrypoint := filepath.Join(t.TempDir(), "web.log")
	testfiles.Write(t, entrypoint, `/docker-entrypoint.sh: /docker-entrypoint.d/ is not empty, will attempt to perform configuration
/docker-entrypoint.sh: Looking for shell scripts in /docker-entrypoint.d/
/docker-entrypoint.sh: Configuration complete; ready for start up
`+string(nginx))
	request := time.Date(2026, 11, 26, 12, 0, 34, 0, time.UTC)
	for path, server := range map[string]string{
		"testdata/docker-logs-apache.txt":        "apache",
		"testdata/docker-logs-nginx-php-fpm.txt": "nginx",
		entrypoint:                               "nginx",
	} {
		alerts, st := huntPaths(t, path)
		if st.Errors != 0 || st.Formats[hunt.FormatErrorLog] != 1 {
			t.Errorf("%s: stats %+v", path, st)
		}
		byRule := map[string]string{}
		for _, a := range alerts {
			ts, _ := a["@timestamp"].(time.Time)
			byRule[str(a, "message")] += fmt.Sprintf("%s %s;", str(a, "event.dataset"), ts.Format(time.TimeOnly))
			if !ts.Equal(request) {
				t.Errorf("%s: %q at %v, want the requests' %v", path, str(a, "message"), ts, request)
			}
		}
		want := map[string]string{
			"OS Command in a Request Parameter of a Script Page":      server + ".access 12:00:34;" + server + ".access 12:00:34;",
			"Shell Could Not Run a Command in a Web Server Error Log": server + ".error 12:00:34;",
			"Shell Without a Terminal in a Web Server Error Log":      server + ".error 12:00:34;",
		}
		if !maps.Equal(byRule, want) {
			t.Errorf("%s: alerts %v, want %v", path, byRule, want)
		}
	}
}

// `docker logs -t` (as `kubectl logs --timestamps`) puts the runtime's time
// before each line: read as the container's output, every line at that
// time, with the alerts of the capture without it; a syslog file with
// such times is still a syslog file.
func TestDockerLogsTimestamped(t *testing.T) {
	alerts, st := huntPaths(t, "testdata/docker-logs-t-apache.txt")
	if st.Errors != 0 || st.Formats[hunt.FormatContainer] != 1 || st.Events != 8 {
		t.Fatalf("stats %+v", st)
	}
	got := titles(alerts)
	slices.Sort(got)
	want := []string{"OS Command in a Request Parameter of a Script Page", "OS Command in a Request Parameter of a Script Page",
		"Shell Could Not Run a Command in a Web Server Error Log", "Shell Without a Terminal in a Web Server Error Log"}
	if !slices.Equal(got, want) {
		t.Errorf("alerts %v, want %v", got, want)
	}
	for _, a := range alerts {
		if ts, _ := a["@timestamp"].(time.Time); str(a, "event.dataset") == "apache.error" && ts.Nanosecond() == 0 {
			t.Errorf("an error alert not at the runtime's time: %v", a)
		}
	}
	if f := hunt.Detect([]byte("2026-11-26T12:00:34.000000+00:00 web1 sshd[7]: Accepted publickey for root\n2026-11-26T12:00:35.000000+00:00 web1 nginx: 127.0.0.1 - - [26/Nov/2026:12:00:34 +0000] \"GET / HTTP/1.1\" 200 1 \"-\" \"x\"\n")); f != hunt.FormatSyslog {
		t.Errorf("a syslog file with RFC 3339 times: %q", f)
	}
}

// A container log whose first entry is damaged is still one: reported,
// and the rest read (it was taken for syslog and read to nothing).
func TestContainerLogDamagedFirstEntry(t *testing.T) {
	path := filepath.Join(t.TempDir(), "web.log")
	testfiles.Write(t, path, `2026-11-25T19:00:01Z stdout X 203.0.113.9 - - [25/Nov/2026:19:00:01 +0000] "GET / HTTP/1.1" 200 12 "-" "curl"
2026-11-25T19:00:02Z stdout F 203.0.113.9 - - [25/Nov/2026:19:00:02 +0000] "GET /up/x.php?c=whoami HTTP/1.1" 200 12 "-" "curl"
`)
	alerts, st := huntPaths(t, path)
	if st.Formats[hunt.FormatContainer] != 1 || st.Events != 2 || st.Errors != 1 || len(alerts) != 1 {
		t.Errorf("stats %+v, %d alerts", st, len(alerts))
	}
}
