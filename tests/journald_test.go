package tests

import (
	"bufio"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"webshellbeat/detection"
)

// journalRemote finds systemd-journal-remote, which writes journal files
// from journal export streams (Debian: package systemd-journal-remote).
func journalRemote(t *testing.T) string {
	for _, p := range []string{"/lib/systemd/systemd-journal-remote", "/usr/lib/systemd/systemd-journal-remote"} {
		if _, err := os.Stat(p); err == nil {
			if _, err := exec.LookPath("journalctl"); err == nil {
				return p
			}
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("journald test: systemd-journal-remote or journalctl missing (.ci/run installs systemd-journal-remote)")
	}
	t.Skip("journald test: needs journalctl and systemd-journal-remote")
	return ""
}

var syslogLine = regexp.MustCompile(`^(\w{3} [ \d]\d \d\d:\d\d:\d\d) (\S+) ([^:\[]+)(?:\[\d+\])?: (.*)$`)

// writeJournal turns a syslog file into a real journal file, one entry a
// line with its program as SYSLOG_IDENTIFIER, as journald would have
// stored the same messages.
func writeJournal(t *testing.T, remote, syslog, journal string) {
	f, err := os.Open(syslog)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var export strings.Builder
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		m := syslogLine.FindStringSubmatch(sc.Text())
		if m == nil {
			t.Fatalf("%s:%d: not a syslog line", syslog, n)
		}
		ts, err := time.Parse("2006 Jan _2 15:04:05", "2022 "+m[1])
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&export, "__REALTIME_TIMESTAMP=%d\n__MONOTONIC_TIMESTAMP=%d\n_BOOT_ID=0123456789abcdef0123456789abcdef\n_HOSTNAME=%s\nSYSLOG_IDENTIFIER=%s\nPRIORITY=6\nMESSAGE=%s\n\n",
			ts.UnixMicro()+int64(n), 1000*n, m[2], m[3], m[4])
	}
	cmd := exec.Command(remote, "-o", journal, "-")
	cmd.Stdin = strings.NewReader(export.String())
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("systemd-journal-remote: %v\n%s", err, out)
	}
}

// Systems without a syslog daemon (Debian 12) keep Sysmon for Linux's
// events in the journal only. The beat's journald input (filebeat's, which
// runs journalctl) reads them from a real journal file, and the mapped
// events and alerts are those hunt gives for the same messages in syslog.
func TestJournaldSysmonLinux(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the beat binary")
	}
	remote := journalRemote(t)
	syslog, err := filepath.Abs("../testdata/samples/tomcat_log4shell_syslog.log")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	journal := filepath.Join(dir, "sysmon.journal")
	writeJournal(t, remote, syslog, journal)

	cfg := fmt.Sprintf(`webshellbeat.inputs:
- type: journald
  id: sysmon-journal
  paths: [%q]
  seek: head
  include_matches.match: ['SYSLOG_IDENTIFIER=sysmon']
  processors:
    - decode_windows_event: {field: message}
processors:
  - webshell: {events: all}
`, journal) + fileOutput(dir, "100ms")
	cfgPath := writeConfig(t, dir, cfg)
	wantEvents, wantAlerts := huntCounts(t, syslog)
	runBeat(t, cfgPath, dir, func() bool { return len(readDocs(t, dir)) >= wantEvents })

	events, partial := 0, 0
	gotAlerts := map[string]int{}
	for _, d := range readDocs(t, dir) {
		if isDerived(d) {
			continue
		}
		events++
		if detection.LookupString(d, "event.module") != "sysmon_linux" || detection.LookupString(d, "host.os.type") != "linux" {
			t.Errorf("not mapped as Sysmon for Linux: %v", d["event"])
		}
		if strings.Contains(detection.LookupString(d, "error.message"), "cut short") {
			partial++
		}
		for _, id := range ids(d) {
			gotAlerts[id]++
		}
	}
	if events != wantEvents || partial != 1 || !maps.Equal(gotAlerts, wantAlerts) {
		t.Errorf("journald: %d events (%d cut short), alerts %v; hunt over the syslog file: %d events, alerts %v", events, partial, gotAlerts, wantEvents, wantAlerts)
	}
}

// hunt reads a journal file through journalctl: a real journal file
// (systemd-journal-remote's, from the bundled syslog sample and two other
// programs' lines) gives the events and alerts of the syslog file, and so
// does journalctl's JSON of it with every field; the other programs'
// entries are passed over, as their syslog lines are, not reported.
func TestHuntJournalFile(t *testing.T) {
	remote := journalRemote(t)
	sample, err := os.ReadFile("../testdata/samples/tomcat_log4shell_syslog.log")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	syslog := filepath.Join(dir, "syslog")
	others := "May 11 18:10:20 UBUNTU5 systemd[1]: Started Session 1 of User root.\n" +
		"May 11 18:10:21 UBUNTU5 CRON[4711]: (root) CMD (command -v debian-sa1 > /dev/null && debian-sa1 1 1)\n"
	if err := os.WriteFile(syslog, append([]byte(others), sample...), 0o644); err != nil {
		t.Fatal(err)
	}
	journal := filepath.Join(dir, "system.journal")
	writeJournal(t, remote, syslog, journal)
	wantEvents, wantAlerts := huntCounts(t, syslog)
	if events, alerts := huntCounts(t, journal); events != wantEvents || !maps.Equal(alerts, wantAlerts) {
		t.Errorf("journal file: %d events, alerts %v; the syslog file: %d, %v", events, alerts, wantEvents, wantAlerts)
	}
	out, err := exec.Command("journalctl", "--file", journal, "-o", "json", "--no-pager").Output()
	if err != nil {
		t.Fatal(err)
	}
	export := filepath.Join(dir, "journal.json")
	if err := os.WriteFile(export, out, 0o644); err != nil {
		t.Fatal(err)
	}
	if events, alerts := huntCounts(t, export); events != wantEvents || !maps.Equal(alerts, wantAlerts) {
		t.Errorf("journalctl -o json: %d events, alerts %v; the syslog file: %d, %v", events, alerts, wantEvents, wantAlerts)
	}
}
