package hunt_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"webshellbeat/config"
	"webshellbeat/detection"
	"webshellbeat/detector"
	"webshellbeat/hunt"
)

const log4shell = data + "OTRF-Security-Datasets/datasets/compound/Log4Shell"

// OTRF's Log4Shell set: Tomcat (java) runs a base64-wrapped reverse shell
// as the tomcat account, which then runs whoami. Its Sysmon for Linux
// events, collected from syslog by Azure Monitor, are read whole (the one
// cut short by the collector included); the built-in rules follow the
// chain from java at any depth, and SigmaHQ's Linux rules fire on the same
// events as on any Sysmon for Linux source.
func TestLog4ShellSysmonLinux(t *testing.T) {
	alerts, st := huntPaths(t, log4shell)
	// 93 Sysmon events and 50 auoms records, which are refused with a reason.
	if st.Events != 143 || st.Errors != 50 {
		t.Fatalf("stats %+v, want 143 events, 50 unreadable (auoms)", st)
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

	cfg := config.Default()
	cfg.Rules = config.Rules{Paths: []string{data + "SigmaHQ-sigma/rules/linux"}}
	det, err := detector.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var sigmaTitles []string
	if _, err := hunt.Run([]string{log4shell}, det, func(doc map[string]any) {
		sigmaTitles = append(sigmaTitles, detection.LookupStrings(doc, "rule.name")...)
	}, nil); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Suspicious Java Children Processes", "Linux Reverse Shell Indicator"} {
		if !slices.Contains(sigmaTitles, want) {
			t.Errorf("SigmaHQ linux rules: alerts %q lack %q", sigmaTitles, want)
		}
	}
}

func titles(alerts []map[string]any) []string {
	var out []string
	for _, a := range alerts {
		out = append(out, detection.LookupStrings(a, "rule.name")...)
	}
	return out
}

// A syslog file is read for its Sysmon for Linux lines: other programs'
// lines are passed over, a Sysmon line that cannot be read is reported
// with its line, and the rest goes on.
func TestSyslogFile(t *testing.T) {
	const event = `<Event><System><Provider Name="Linux-Sysmon"/><EventID>1</EventID><TimeCreated SystemTime="2025-06-10T02:30:00.000000000Z"/><Channel>Linux-Sysmon/Operational</Channel><Computer>web1</Computer></System><EventData><Data Name="ProcessId">42</Data><Data Name="Image">/usr/bin/dash</Data><Data Name="CommandLine">sh -c id</Data><Data Name="User">www-data</Data><Data Name="ParentProcessId">41</Data><Data Name="ParentImage">/usr/sbin/apache2</Data></EventData></Event>`
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
			p := filepath.Join(t.TempDir(), "syslog")
			if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
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
