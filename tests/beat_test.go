// Package tests runs the real webshellbeat binary (libbeat pipeline, inputs,
// registry, file output) over the shared sample data and checks it against
// the hunt command's results for the same files.
package tests

import (
	"bufio"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"webshellbeat/config"
	"webshellbeat/detection"
	"webshellbeat/detector"
	"webshellbeat/hunt"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "webshellbeat-bin")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "webshellbeat")
	build := exec.Command("go", "build", "-o", binary, "..")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build webshellbeat:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func abs(t *testing.T, rel string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("../../shared/data", rel))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestRunMatchesHunt reads EVTX, audit.log, access logs and event XML through
// the beat's inputs and processors into output.file, compares every alert
// with hunt's over the same files, then restarts the beat and checks that the
// registry lets it resume without sending anything again.
func TestRunMatchesHunt(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the beat binary")
	}
	evtx := abs(t, "sbousseaden-EVTX-ATTACK-SAMPLES/Lateral Movement/LM_typical_IIS_webshell_sysmon_1_10_traces.evtx")
	audit := abs(t, "linux-capture/audit.log")
	apache := abs(t, "linux-capture/apache_access.log")
	nginx := abs(t, "linux-capture/nginx_access.log")
	xml := abs(t, "seed/security-4688.xml")

	dir := t.TempDir()
	cfg := sampleInputs(evtx, audit, apache, nginx, xml) + `processors:
  - webshell: {events: all}
` + fileOutput(dir, "100ms")
	cfgPath := writeConfig(t, dir, cfg)

	wantEvents, wantAlerts := huntCounts(t, evtx, audit, apache, nginx, xml)

	runBeat(t, cfgPath, dir, func() bool { return len(readDocs(t, dir)) >= wantEvents })
	// Besides one document per event, the beat publishes the documents the
	// detector derives (through the webshell processor's hub): updated
	// copies (webshell.update_of) and correlation alerts. Their number
	// depends on the order the inputs' events arrive in, so the comparison
	// with hunt is on the events' own documents.
	var docs []map[string]any
	derived, uploads := 0, 0
	for _, d := range readDocs(t, dir) {
		if isDerived(d) {
			derived++
			if slices.Contains(ids(d), "2f6c1a4e-8d3b-4f7a-9c2e-5b1d0e7a3c91") {
				uploads++
			}
			continue
		}
		docs = append(docs, d)
	}
	if len(docs) != wantEvents {
		t.Fatalf("beat wrote %d documents (+%d derived), hunt read %d events", len(docs), derived, wantEvents)
	}
	if uploads != 1 || derived < 2 {
		t.Errorf("beat published %d derived documents, %d upload-then-execute alerts; want updates and one upload alert", derived, uploads)
	}
	gotAlerts := map[string]int{}
	for _, d := range docs {
		meta, _ := d["@metadata"].(map[string]any)
		index, _ := meta["raw_index"].(string)
		if detection.LookupString(d, "event.kind") == "alert" {
			if index != "logs-webshellbeat.alert-default" {
				t.Errorf("alert routed to %q", index)
			}
			for _, id := range ids(d) {
				gotAlerts[id]++
			}
		} else if index != "logs-webshellbeat.event-default" {
			t.Errorf("event routed to %q", index)
		}
	}
	if !maps.Equal(gotAlerts, wantAlerts) {
		t.Errorf("alerts per rule: beat %v, hunt %v", gotAlerts, wantAlerts)
	}

	// Restart: the registry holds every file's position, so nothing is sent again.
	before := len(readDocs(t, dir))
	runBeat(t, cfgPath, dir, func() bool { return false })
	if n := len(readDocs(t, dir)); n != before {
		t.Errorf("after a restart the output has %d documents, want still %d", n, before)
	}
	// The detection state was saved under path.data on shutdown.
	for _, f := range []string{"processes.json", "correlations.json"} {
		if _, err := os.Stat(filepath.Join(dir, "data", "webshellbeat", f)); err != nil {
			t.Errorf("detection state not saved: %v", err)
		}
	}
	// Two clean runs log no error, nor filebeat's notes on its fileset
	// modules, which webshellbeat does not have (beater/quiet.go).
	logs, _ := filepath.Glob(filepath.Join(dir, "beat-*.log"))
	for _, l := range logs {
		raw, _ := os.ReadFile(l)
		for _, line := range strings.Split(string(raw), "\n") {
			if strings.Contains(line, `"log.level":"error"`) || strings.Contains(line, "ingest pipelines") {
				t.Errorf("clean run logged: %s", line)
			}
		}
	}
	if len(logs) != 2 {
		t.Errorf("found %d beat logs, want 2", len(logs))
	}
}

// writeConfig writes cfg as dir/webshellbeat.yml (mode 0600, as the beat's
// strict permissions ask) and returns its path.
func writeConfig(t testing.TB, dir, cfg string) string {
	t.Helper()
	cfgPath := filepath.Join(dir, "webshellbeat.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return cfgPath
}

// fileOutput is the end of a test's beat config: the queue's flush
// timeout, output.file into dir/out (read by readDocs) and the data and log
// folders under dir.
func fileOutput(dir, flush string) string {
	return fmt.Sprintf(`queue.mem.flush.timeout: %s
output.file: {path: %q, filename: out}
path.data: %q
path.logs: %q
`, flush, filepath.Join(dir, "out"), filepath.Join(dir, "data"), filepath.Join(dir, "logs"))
}

// isDerived says a document was made by the detector rather than read.
func isDerived(d map[string]any) bool {
	ds := detection.LookupString(d, "event.dataset")
	return detection.LookupString(d, "webshell.update_of") != "" || ds == "webshellbeat.correlation" || ds == "webshellbeat.session"
}

// sampleInputs is the webshellbeat.inputs section that reads the shared
// samples the way a user would: an .evtx with the evtx input (skipped when
// evtx is ""), audit.log with the auditd input, the Apache and nginx access
// logs with filestream and decode_access_log, and event XML with filestream
// and decode_windows_event.
func sampleInputs(evtx, audit, apache, nginx, xml string) string {
	var b strings.Builder
	b.WriteString("webshellbeat.inputs:\n")
	if evtx != "" {
		fmt.Fprintf(&b, "- type: evtx\n  id: evtx\n  paths: [%q]\n  poll_interval: 1s\n", evtx)
	}
	fmt.Fprintf(&b, `- type: auditd
  id: audit
  paths: [%q]
  poll_interval: 1s
- type: filestream
  id: apache
  paths: [%q]
  prospector.scanner.fingerprint.length: 64
  processors:
    - decode_access_log: {format: combined, server: apache}
- type: filestream
  id: nginx
  paths: [%q]
  prospector.scanner.fingerprint.length: 64
  processors:
    - decode_access_log: {format: combined, server: nginx}
- type: filestream
  id: xml
  paths: [%q]
  prospector.scanner.fingerprint.enabled: false
  processors:
    - decode_windows_event: ~
`, audit, apache, nginx, xml)
	return b.String()
}

// huntCounts runs hunt's path over the same files.
func huntCounts(t *testing.T, paths ...string) (int, map[string]int) {
	det, err := detector.New(config.Default())
	if err != nil {
		t.Fatal(err)
	}
	alerts := map[string]int{}
	st, err := hunt.Run(paths, det, func(doc map[string]any) {
		if isDerived(doc) {
			return
		}
		v, _ := detection.Lookup(doc, "webshell.rule_ids")
		for _, id := range v.([]string) {
			alerts[id]++
		}
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if st.Errors != 0 || len(alerts) == 0 {
		t.Fatalf("hunt: %+v, alerts %v", st, alerts)
	}
	return st.Events, alerts
}

// huntAlerts hunts paths with the default detector and returns its alerts.
func huntAlerts(t *testing.T, paths ...string) []map[string]any {
	t.Helper()
	det, err := detector.New(config.Default())
	if err != nil {
		t.Fatal(err)
	}
	var alerts []map[string]any
	if _, err := hunt.Run(paths, det, func(a map[string]any) { alerts = append(alerts, a) }, nil); err != nil {
		t.Fatal(err)
	}
	return alerts
}

// runBeat runs the beat until done reports true (or 60 s pass), then a few
// more seconds to catch anything extra, and stops it with SIGTERM.
func runBeat(t *testing.T, cfgPath, dir string, done func() bool, args ...string) {
	t.Helper()
	runBinary(t, binary, dir, done, append([]string{"--strict.perms=false", "-c", cfgPath, "--path.home", dir}, args...)...)
}

// runBinary is runBeat for another build of the beat (a package's), with
// all of its flags given; its log goes into dir.
func runBinary(t *testing.T, bin, dir string, done func() bool, args ...string) {
	t.Helper()
	b := startBinary(t, bin, dir, args...)
	deadline := time.Now().Add(60 * time.Second)
	for !done() && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(4 * time.Second) // polls of 1 s: any re-send would show by now
	b.stop(t)
}

// logTail returns the last error records and non-JSON lines (a panic, a
// usage error) of a beat log: the test's directory is gone once it fails.
func logTail(path string) string {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	var kept []string
	for _, line := range strings.Split(string(raw), "\n") {
		if strings.Contains(line, `"log.level":"error"`) || (line != "" && !strings.HasPrefix(line, "{")) {
			kept = append(kept, line)
		}
	}
	return strings.Join(kept[max(0, len(kept)-15):], "\n")
}

func readDocs(t *testing.T, dir string) []map[string]any {
	files, _ := filepath.Glob(filepath.Join(dir, "out", "out*.ndjson"))
	var docs []map[string]any
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(nil, 16<<20)
		for sc.Scan() {
			if strings.TrimSpace(sc.Text()) == "" {
				continue
			}
			var d map[string]any
			if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
				continue // a line being written
			}
			docs = append(docs, d)
		}
		fh.Close()
	}
	return docs
}

func ids(d map[string]any) []string {
	v, _ := detection.Lookup(d, "webshell.rule_ids")
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, x := range list {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

// tail is the last n bytes of b, for logs printed on failure.
func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}
