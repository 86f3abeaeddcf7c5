package tests

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// An access log that reaches the beat over the network (nginx's
// access_log syslog:server=..., a log shipper) has no file and no offset,
// so its records have no identity but their text. The same request twice in
// one second, which a scanner, a browser or an attacker repeating a command
// sends all the time, is two records with one text: both must be indexed,
// the web shell's alert included, into the CI's OpenSearch node. With a
// hash of the text as their _id, the second was refused as a duplicate and
// lost.
func TestUDPSameLineTwice(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the beat binary against OpenSearch")
	}
	url := openSearch(t)
	osDo(t, http.MethodDelete, url+"/_data_stream/logs-webshellbeat.*", nil)
	t.Cleanup(func() { osDo(t, http.MethodDelete, url+"/_data_stream/logs-webshellbeat.*", nil) })

	probe, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := probe.LocalAddr().String()
	probe.Close()
	dir := t.TempDir()
	cfgPath := writeConfig(t, dir, fmt.Sprintf(`webshellbeat.inputs:
- type: udp
  id: nginx-udp
  host: %q
  processors:
    - decode_access_log: {server: nginx}
processors:
  - add_document_id: ~
  - webshell: {events: all}
queue.mem.flush.timeout: 100ms
output.elasticsearch:
  hosts: [%q]
path.data: %q
path.logs: %q
`, addr, url, filepath.Join(dir, "data"), filepath.Join(dir, "logs")))
	b := startBeatProcess(t, dir, cfgPath)
	waitBeatLog(t, b, "Started listening for UDP connection")
	conn, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	lines := []string{
		`203.0.113.7 - - [27/Nov/2026:10:00:01 +0000] "GET /uploads/shell.php?cmd=whoami HTTP/1.1" 200 31 "-" "curl/8.5.0"`,
		`203.0.113.7 - - [27/Nov/2026:10:00:01 +0000] "GET /uploads/shell.php?cmd=whoami HTTP/1.1" 200 31 "-" "curl/8.5.0"`,
		`203.0.113.8 - - [27/Nov/2026:10:00:01 +0000] "GET /index.php HTTP/1.1" 200 612 "-" "Mozilla/5.0"`,
	}
	for _, l := range lines {
		if _, err := conn.Write([]byte(l)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond) // one datagram at a time, in order
	}
	for deadline := time.Now().Add(30 * time.Second); osCountNow(t, url, "logs-webshellbeat.*", nil) < len(lines) && time.Now().Before(deadline); {
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(2 * time.Second) // a late duplicate would show by now
	b.stop(t)
	alerts := osCountNow(t, url, "logs-webshellbeat.alert-*", source)
	events := osCountNow(t, url, "logs-webshellbeat.*", source)
	if events != len(lines) || alerts != 2 {
		t.Errorf("indexed %d records, %d of them alerts; want %d and 2 (the same web-shell request, twice)", events, alerts, len(lines))
	}
}

// waitBeatLog waits up to 30 s for text in b's log.
func waitBeatLog(t *testing.T, b *beatProcess, text string) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if log, _ := os.ReadFile(b.logPath); strings.Contains(string(log), text) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %q in the beat's log within 30 s:\n%s", text, logTail(b.logPath))
		}
	}
}
