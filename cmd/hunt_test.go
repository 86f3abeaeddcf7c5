package cmd

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/elastic/beats/v7/libbeat/cfgfile"
	"github.com/spf13/cobra"

	"webshellbeat/detection"
	"webshellbeat/detection/sigma"
	"webshellbeat/internal/testfiles"
)

const samplesDir = "../testdata/samples"

// TestHuntSummaryCountsCorrelations: the summary counts the correlation
// rules hunt runs, apart from the detection rules, as "rules check" does.
func TestHuntSummaryCountsCorrelations(t *testing.T) {
	dir := writeRules(t, map[string]string{"good.yml": goodRule, "corr.yml": corrRule})
	for _, tt := range []struct {
		name    string
		rules   []string
		builtin bool
		want    string
	}{
		{name: "correlation loaded", rules: []string{dir}, want: "hunt: 1 rules, 1 correlation rules, "},
		{name: "built-in pack", want: "hunt: 32 rules, 0 correlation rules, "},
		{name: "--rules and --builtin", rules: []string{dir}, builtin: true, want: "hunt: 33 rules, 1 correlation rules, "},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := runHunt(&stdout, &stderr, []string{samplesDir}, huntOptions{format: "table", rules: tt.rules, builtin: tt.builtin}); code != 0 {
				t.Fatalf("exit %d\nstderr:\n%s", code, &stderr)
			}
			if !strings.Contains(summaryLine(stderr.String()), tt.want) {
				t.Errorf("summary does not contain %q:\n%s", tt.want, &stderr)
			}
		})
	}
}

// summaryLine is the last "hunt: " line of hunt's standard error.
func summaryLine(stderr string) string {
	line := ""
	for _, l := range strings.Split(stderr, "\n") {
		if strings.HasPrefix(l, "hunt: ") {
			line = l
		}
	}
	return line
}

// The CSV output has one record per alert (as many as the table has rows),
// with every rule of an alert, whole command lines with their quotes, and
// the file each event came from; the ndjson documents name it too.
func TestHuntCSV(t *testing.T) {
	out := func(format string) string {
		var stdout, stderr bytes.Buffer
		if code := runHunt(&stdout, &stderr, []string{samplesDir}, huntOptions{format: format}); code != 0 {
			t.Fatalf("--format %s: exit %d\n%s", format, code, &stderr)
		}
		return stdout.String()
	}
	recs, err := csv.NewReader(strings.NewReader(out("csv"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	tableRows := strings.Count(out("table"), "\n") - 1
	if len(recs)-1 != tableRows || tableRows == 0 {
		t.Fatalf("%d CSV records, %d table rows", len(recs)-1, tableRows)
	}
	head := recs[0]
	col := func(name string) int { return slices.Index(head, name) }
	found := false
	for _, r := range recs[1:] {
		if len(r) != len(head) {
			t.Fatalf("record %q has %d fields, header %d", r, len(r), len(head))
		}
		if !strings.HasPrefix(r[col("file")], samplesDir+"/") {
			t.Errorf("file %q is not a sample", r[col("file")])
		}
		if r[col("what")] == `"c:\windows\system32\cmd.exe" /c net user` {
			found = true
			rules, ids := strings.Split(r[col("rules")], "; "), strings.Split(r[col("rule_ids")], "; ")
			if len(rules) != 4 || len(ids) != 4 || r[col("file")] != samplesDir+"/iis_webshell_sysmon.evtx" {
				t.Errorf("net user alert: rules %q, ids %q, file %q", rules, ids, r[col("file")])
			}
		}
	}
	if !found {
		t.Errorf("no record for the quoted net user command line")
	}
	if n := strings.Count(out("ndjson"), `"log":{"file":{"path":"`+samplesDir); n != tableRows {
		t.Errorf("%d ndjson alerts name their file, want %d", n, tableRows)
	}
	var stderr bytes.Buffer
	if code := runHunt(io.Discard, &stderr, []string{samplesDir}, huntOptions{format: "xml"}); code != exitUsage || !strings.Contains(stderr.String(), "table, ndjson, bulk, csv") {
		t.Errorf("--format xml: exit %d, %q", code, &stderr)
	}
	stderr.Reset()
	if code := runHunt(io.Discard, &stderr, []string{samplesDir}, huntOptions{format: "table", timezone: "CEST"}); code != exitUsage || !strings.Contains(stderr.String(), `--timezone "CEST"`) {
		t.Errorf("--timezone CEST: exit %d, %q", code, &stderr)
	}
}

// --from and --to show the alerts of a span of event time; a date is its
// UTC midnight, and a bad time is a usage error naming the flag.
func TestHuntFromTo(t *testing.T) {
	count := func(o huntOptions) (int, string) {
		var stdout, stderr bytes.Buffer
		o.format = "ndjson"
		code := runHunt(&stdout, &stderr, []string{samplesDir}, o)
		if code != 0 {
			return -1, stderr.String()
		}
		return strings.Count(stdout.String(), "\n"), stderr.String()
	}
	all, _ := count(huntOptions{})
	// The samples' alerts are from 2015, 2019 (3), 2021, 2022 (5: the Tomcat
	// host of tomcat_log4shell_syslog.log), 2025 (2) and 2026 (4).
	for _, tt := range []struct {
		from, to string
		want     int
	}{
		{"2019-01-01", "2020-01-01", 3},
		{"2022-05-11", "2022-05-12", 5},
		{"2025-01-01", "", 6},
		{"", "2019-05-24", 1},
		{"2019-05-24T01:33:53Z", "2019-05-24T01:33:54Z", 3},
		{"2030-01-01", "", 0},
	} {
		n, stderr := count(huntOptions{from: tt.from, to: tt.to})
		if n != tt.want {
			t.Errorf("--from %q --to %q: %d alerts, want %d", tt.from, tt.to, n, tt.want)
		}
		if want := fmt.Sprintf("hunt: %d of %d alerts (final documents) shown", tt.want, all); !strings.Contains(stderr, want) {
			t.Errorf("--from %q --to %q: stderr lacks %q:\n%s", tt.from, tt.to, want, stderr)
		}
	}
	if n, stderr := count(huntOptions{from: "yesterday"}); n != -1 || !strings.Contains(stderr, `--from "yesterday" is neither`) {
		t.Errorf("bad --from: %d, %q", n, stderr)
	}
	// --min-level: the samples' alerts are 10 high, 3 medium (shells of the
	// tomcat account) and 3 low (the later login.php requests, lowered as
	// later steps of one session). The reverse shell's UDP send to [::]:0
	// was a fourth low one until it was no connection (lnx outbound rule).
	for level, want := range map[string]int{"info": all, "low": all, "medium": 13, "high": 10, "critical": 0} {
		if n, _ := count(huntOptions{minLevel: level}); n != want {
			t.Errorf("--min-level %s: %d alerts, want %d", level, n, want)
		}
	}
	if n, stderr := count(huntOptions{minLevel: "severe"}); n != -1 || !strings.Contains(stderr, "info, low, medium, high, critical") {
		t.Errorf("bad --min-level: %d, %q", n, stderr)
	}
	// The closing lines count the shown alerts by level and by rule.
	_, stderr := count(huntOptions{})
	if !strings.Contains(stderr, "hunt: shown alerts by level: high 10, medium 3, low 3; by rule: OS Command in a Request Parameter of a Script Page 5, ") {
		t.Errorf("summary by level and rule:\n%s", stderr)
	}
	if _, stderr := count(huntOptions{minLevel: "high"}); !strings.Contains(stderr, "by level: high 10; by rule: ") {
		t.Errorf("summary with --min-level high:\n%s", stderr)
	}
}

// --host names the host of the records whose source names none (the access
// logs of the samples) and leaves the others' own names.
func TestHuntHost(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := runHunt(&stdout, &stderr, []string{samplesDir}, huntOptions{format: "ndjson", host: "web9"}); code != 0 {
		t.Fatalf("exit %d\n%s", code, &stderr)
	}
	hosts := map[string]string{} // event.module -> host.name
	for _, line := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
		var doc map[string]any
		if err := json.Unmarshal([]byte(line), &doc); err != nil {
			t.Fatal(err)
		}
		hosts[detection.LookupString(doc, "event.module")] = detection.LookupString(doc, "host.name")
	}
	if hosts["nginx"] != "web9" || hosts["sysmon_linux"] != "UBUNTU5" {
		t.Errorf("host.name by module: %v; want the access log's web9, Sysmon's own UBUNTU5", hosts)
	}
}

// When the events that name a host all name one, and others name none,
// hunt says that --host would join them.
func TestHuntHostHint(t *testing.T) {
	shell := testfiles.SysmonEvent(true, 1, time.Date(2026, 11, 26, 10, 1, 0, 0, time.UTC), "web1",
		"ProcessId", "9", "Image", "/usr/bin/dash", "CommandLine", "sh -c id", "User", "tomcat")
	dir := testfiles.Dir(t, map[string]string{
		"syslog":                              "Nov 26 10:01:00 web1 sysmon: " + shell + "\n",
		"localhost_access_log.2026-11-26.txt": `203.0.113.9 - - [26/Nov/2026:10:01:00 +0000] "GET /cmd.jsp?cmd=id HTTP/1.1" 200 42` + "\n",
	})
	for _, host := range []string{"", "web1"} {
		var stdout, stderr bytes.Buffer
		if code := runHunt(&stdout, &stderr, []string{dir}, huntOptions{format: "table", host: host}); code != 0 {
			t.Fatalf("exit %d\n%s", code, &stderr)
		}
		if hint := strings.Contains(stderr.String(), "--host web1 joins"); hint != (host == "") {
			t.Errorf("--host %q: hint shown %v:\n%s", host, hint, &stderr)
		}
	}
}

// A connection's row shows where it went, and keeps its process as WHO; a
// request's row shows the client as WHO (with the account it logged in
// with), and its site when the log names one.
func TestAlertRowKinds(t *testing.T) {
	conn := map[string]any{
		"process":     map[string]any{"name": "bash", "parent": map[string]any{"name": "java"}},
		"source":      map[string]any{"ip": "192.168.2.5"},
		"destination": map[string]any{"ip": "2001:db8::6", "port": 443, "domain": "c2.example"},
	}
	if r := alertRow(conn); r.who != "java -> bash" || r.what != "-> [2001:db8::6]:443 (c2.example)" {
		t.Errorf("connection row: who %q, what %q", r.who, r.what)
	}
	req := map[string]any{"url": map[string]any{"original": "/cmd.jsp?c=id"}, "source": map[string]any{"ip": "203.0.113.9"}}
	if r := alertRow(req); r.who != "203.0.113.9" || r.what != "/cmd.jsp?c=id" {
		t.Errorf("request row: who %q, what %q", r.who, r.what)
	}
	deploy := map[string]any{"url": map[string]any{"original": "/manager/text/deploy?path=/x"}, "source": map[string]any{"ip": "203.0.113.9"}, "user": map[string]any{"name": "wsbdeploy"}}
	if r := alertRow(deploy); r.who != "wsbdeploy@203.0.113.9" { // the account the request logged in with
		t.Errorf("authenticated request row: who %q", r.who)
	}
	defender := map[string]any{"file": map[string]any{"path": `C:\inetpub\wwwroot\x.aspx`}, "process": map[string]any{"name": "w3wp.exe"},
		"winlog": map[string]any{"event_data": map[string]any{"Threat Name": "Backdoor:ASP/Chopper.F!dha"}}}
	if r := alertRow(defender); r.who != "w3wp.exe" || r.what != `Backdoor:ASP/Chopper.F!dha: C:\inetpub\wwwroot\x.aspx` {
		t.Errorf("Defender detection row: who %q, what %q", r.who, r.what)
	}
	req["url"].(map[string]any)["domain"] = "shop.example" // a log of several sites
	if r := alertRow(req); r.what != "shop.example/cmd.jsp?c=id" {
		t.Errorf("request row of a named site: what %q", r.what)
	}
	// A POST's form (ModSecurity's audit log) follows the page, decoded;
	// another body as sent.
	req["http"] = map[string]any{"request": map[string]any{"body": map[string]any{"content": "cmd=cat+%2Fetc%2Fpasswd+%7C+head"}, "mime_type": "application/x-www-form-urlencoded"}}
	if r := alertRow(req); r.what != "shop.example/cmd.jsp?c=id <- cmd=cat /etc/passwd | head" {
		t.Errorf("request row with a form body: what %q", r.what)
	}
	req["http"] = map[string]any{"request": map[string]any{"body": map[string]any{"content": `{"q":"a+b"}`}, "mime_type": "application/json"}}
	if r := alertRow(req); r.what != `shop.example/cmd.jsp?c=id <- {"q":"a+b"}` {
		t.Errorf("request row with a JSON body: what %q", r.what)
	}
}

// Rule selection: --exclude-status and a configuration's rules.min_level
// (kept when --rules replaces the pack) leave rules out, the summary counts
// them, and the alerts come from the rules that run only.
func TestHuntRuleSelection(t *testing.T) {
	run := func(o huntOptions) (rules map[string]bool, summary string) {
		t.Helper()
		var stdout, stderr bytes.Buffer
		o.format = "ndjson"
		if code := runHunt(&stdout, &stderr, []string{samplesDir}, o); code != 0 {
			t.Fatalf("%+v: exit %d\n%s", o, code, &stderr)
		}
		rules = map[string]bool{}
		for _, line := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
			var doc map[string]any
			if err := json.Unmarshal([]byte(line), &doc); err != nil {
				t.Fatal(err)
			}
			ids := detection.LookupStrings(doc, "webshell.rule_ids")
			for _, id := range ids {
				rules[id] = true
			}
		}
		return rules, summaryLine(stderr.String())
	}
	builtin := ruleMeta(t, "../rules/builtin")
	// The pack's one stable rule is the founding Windows rule.
	count := func(keep func(ruleLevelStatus) bool) string {
		n := 0
		for _, r := range builtin {
			if keep(r) {
				n++
			}
		}
		return fmt.Sprintf("hunt: %d rules (%d more left out by level or status), ", n, len(builtin)-n)
	}
	got, summary := run(huntOptions{excludeStatus: []string{"experimental"}})
	if want := count(func(r ruleLevelStatus) bool { return r.status == "stable" }); want != "hunt: 1 rules (31 more left out by level or status), " || !strings.HasPrefix(summary, want) {
		t.Errorf("--exclude-status experimental: %s", summary)
	}
	if len(got) == 0 {
		t.Error("--exclude-status experimental: no alert from the stable rule")
	}
	for id := range got {
		if builtin[id].status != "stable" {
			t.Errorf("--exclude-status experimental: alert of %s rule %s", builtin[id].status, id)
		}
	}
	// min_level high from a configuration file, with --rules.
	cfgFile := testfiles.Dir(t, map[string]string{"webshellbeat.yml": "processors:\n  - webshell:\n      rules: {min_level: high}\n"}) + "/webshellbeat.yml"
	got, summary = run(huntOptions{config: cfgFile, rules: []string{"../rules/builtin"}})
	if want := count(func(r ruleLevelStatus) bool { return r.level == "high" || r.level == "critical" }); !strings.HasPrefix(summary, want) {
		t.Errorf("min_level high: %s, want %s", summary, want)
	}
	for id := range got {
		if builtin[id].level != "high" {
			t.Errorf("min_level high: alert of %s rule %s", builtin[id].level, id)
		}
	}
	var stdout, stderr bytes.Buffer
	if code := runHunt(&stdout, &stderr, []string{samplesDir}, huntOptions{format: "table", excludeStatus: []string{"old"}}); code != exitUsage || !strings.Contains(stderr.String(), `--exclude-status: exclude_status "old" is not one of`) {
		t.Errorf("bad --exclude-status: exit %d, %s", code, &stderr)
	}
}

type ruleLevelStatus struct{ level, status string }

// ruleMeta reads the level and status of each rule under dir, by id.
func ruleMeta(t *testing.T, dir string) map[string]ruleLevelStatus {
	t.Helper()
	coll := sigma.LoadPaths(dir)
	out := map[string]ruleLevelStatus{}
	for _, r := range coll.Rules {
		out[r.ID] = ruleLevelStatus{r.Level, r.Status}
	}
	if len(out) != len(coll.Rules) || len(out) < 29 {
		t.Fatalf("%s: %d rules with distinct ids of %d", dir, len(out), len(coll.Rules))
	}
	return out
}

// A path that cannot be read is reported and the others are hunted; the exit
// status says something was not read (as grep's does).
func TestHuntBadPathAmongGood(t *testing.T) {
	var stdout, stderr bytes.Buffer
	missing := t.TempDir() + "/gone.log"
	code := runHunt(&stdout, &stderr, []string{missing, samplesDir}, huntOptions{format: "ndjson"})
	if code != exitInput {
		t.Errorf("exit %d, want %d", code, exitInput)
	}
	if !strings.Contains(stderr.String(), "hunt: stat "+missing+": no such file or directory\n") {
		t.Errorf("the missing path is not reported:\n%s", &stderr)
	}
	if n := strings.Count(stdout.String(), "\n"); n != 16 {
		t.Errorf("%d alerts from the samples beside the missing path, want 16", n)
	}
	if !strings.Contains(summaryLine(stderr.String()), " 16 alerts, ") {
		t.Errorf("summary: %s", summaryLine(stderr.String()))
	}
}

// Past the first 20 unreadable records, hunt counts the rest per file
// instead of printing them, and says so.
func TestHuntUnshownErrors(t *testing.T) {
	dir := t.TempDir()
	var bad strings.Builder
	for i := range 26 {
		fmt.Fprintf(&bad, "1.2.3.4 - - [10/Jun/2025:02:30:%02d +0000] \"GET /broken\n", i)
	}
	testfiles.Write(t, filepath.Join(dir, "a", "access.log"), `1.2.3.4 - - [10/Jun/2025:02:29:00 +0000] "GET / HTTP/1.1" 200 1 "-" "curl"`+"\n"+bad.String())
	var stderr bytes.Buffer
	if code := runHunt(io.Discard, &stderr, []string{dir}, huntOptions{format: "table"}); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	out := stderr.String()
	if n := strings.Count(out, "input: "+dir); n != maxErrorsShown {
		t.Errorf("%d unreadable records printed, want %d:\n%s", n, maxErrorsShown, out)
	}
	want := fmt.Sprintf("input: 6 more unreadable records, not shown, by file: %s 6\n", filepath.Join(dir, "a", "access.log"))
	if !strings.Contains(out, want) {
		t.Errorf("stderr lacks %q:\n%s", want, out)
	}
}

// A CSV cell that a spreadsheet would run as a formula (an attacker's
// command line or request target) is written with a leading "'".
func TestInertCSVCells(t *testing.T) {
	alerts := []map[string]any{{
		"@timestamp": time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC),
		"event":      map[string]any{"severity": 73},
		"rule":       map[string]any{"name": "R", "id": "1"},
		"process":    map[string]any{"command_line": `=cmd|' /C calc'!A0`, "name": "cmd.exe"},
		"user":       map[string]any{"name": "@SUM(1+1)"},
	}}
	var out bytes.Buffer
	if err := printCSV(&out, alerts); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&out).ReadAll()
	if err != nil || len(recs) != 2 {
		t.Fatalf("%v, %d records", err, len(recs))
	}
	for i, cell := range recs[1] {
		if cell != "" && strings.ContainsRune("=+@", rune(cell[0])) {
			t.Errorf("column %s: %q would run as a formula", recs[0][i], cell)
		}
	}
	if !slices.Contains(recs[1], `'=cmd|' /C calc'!A0`) {
		t.Errorf("row %q lacks the command line, made inert", recs[1])
	}
	for in, want := range map[string]string{"-": "-", "-5": "-5", "-1+1": "'-1+1", "+1": "'+1", "/bin/sh": "/bin/sh", "-c id": "'-c id"} {
		if got := inertCell(in); got != want {
			t.Errorf("inertCell(%q) = %q, want %q", in, got, want)
		}
	}
}

// The table shows an attacker's escape sequences, newlines and direction
// overrides as escapes, not as what they would do to the terminal.
func TestTableShowsControls(t *testing.T) {
	alerts := []map[string]any{{
		"@timestamp": time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC),
		"event":      map[string]any{"severity": 73},
		"rule":       map[string]any{"name": "R", "id": "1"},
		"process":    map[string]any{"command_line": "cmd /c whoami \x1b]0;pwned\x07\x1b[2J\nfake row \u202egnp.exe", "name": "cmd.exe"},
	}}
	var out bytes.Buffer
	printTable(&out, alerts)
	got := out.String()
	if strings.ContainsAny(got, "\x1b\x07\u202e") || strings.Count(got, "\n") != 2 {
		t.Errorf("table passes control characters through:\n%q", got)
	}
	if !strings.Contains(got, `cmd /c whoami \x1b]0;pwned\x07\x1b[2J fake row \u202egnp.exe`) {
		t.Errorf("table does not show the escapes:\n%s", got)
	}
}

// --events also writes the events the detector makes of its own, as the
// beat indexes them: on the shared capture, status.php's requests listed no
// alert, and the shell each started (sh -c /usr/bin/uptime) came later, so
// each request gets an updated copy, an event naming the original's doc_id
// and listing the process. Before, hunt wrote only derived alerts.
func TestHuntEventsDerived(t *testing.T) {
	capture := "../../shared/data/linux-capture"
	if _, err := os.Stat(capture); err != nil {
		t.Skip(err)
	}
	var stdout, stderr bytes.Buffer
	if code := runHunt(&stdout, &stderr, []string{capture}, huntOptions{format: "ndjson", events: true}); code != 0 {
		t.Fatalf("exit %d\n%s", code, &stderr)
	}
	written := map[string]bool{} // doc_ids of the events written so far
	copies := 0
	for line := range strings.SplitSeq(strings.TrimSpace(stdout.String()), "\n") {
		var doc map[string]any
		if err := json.Unmarshal([]byte(line), &doc); err != nil {
			t.Fatal(err)
		}
		if detection.LookupString(doc, "data_stream.dataset") != "webshellbeat.event" {
			continue
		}
		if of := detection.LookupString(doc, "webshell.update_of"); of != "" {
			if _, ok := detection.Lookup(doc, "webshell.processes"); !written[of] || !ok {
				t.Errorf("updated copy of %s: the original was not written before it, or it lists no process", of)
			}
			copies++
		}
		written[detection.LookupString(doc, "webshell.doc_id")] = true
	}
	if copies == 0 {
		t.Error("no updated copy of an event written")
	}
}

// --format bulk --events: every document read (31 from the samples) after
// its create line, alerts into the alert data stream of --namespace and
// events into the event one, each with its own _id, the same in a second
// run; --events needs a document format; a namespace that is no data
// stream name part is refused.
func TestHuntBulkFormat(t *testing.T) {
	run := func() string {
		var stdout, stderr bytes.Buffer
		if code := runHunt(&stdout, &stderr, []string{samplesDir}, huntOptions{format: "bulk", events: true, namespace: "case42"}); code != 0 {
			t.Fatalf("exit %d\n%s", code, &stderr)
		}
		return stdout.String()
	}
	out := run()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2*31 {
		t.Fatalf("%d lines, want 62: an action and a document for each of the samples' 31 events", len(lines))
	}
	ids := map[string]bool{}
	for i := 0; i < len(lines); i += 2 {
		var action struct {
			Create struct {
				Index string `json:"_index"`
				ID    string `json:"_id"`
			}
		}
		var doc map[string]any
		if json.Unmarshal([]byte(lines[i]), &action) != nil || json.Unmarshal([]byte(lines[i+1]), &doc) != nil {
			t.Fatalf("line %d: %s / %s", i+1, lines[i], lines[i+1])
		}
		stream := "logs-webshellbeat.event-case42"
		if detection.LookupString(doc, "event.kind") == "alert" {
			stream = "logs-webshellbeat.alert-case42"
		}
		if action.Create.Index != stream || action.Create.ID == "" || ids[action.Create.ID] || detection.LookupString(doc, "data_stream.namespace") != "case42" {
			t.Errorf("line %d: %s for a document of kind %q, namespace %q", i+1, lines[i], detection.LookupString(doc, "event.kind"), detection.LookupString(doc, "data_stream.namespace"))
		}
		ids[action.Create.ID] = true
	}
	if again := run(); again != out {
		t.Error("a second run wrote other lines: the ids are not stable")
	}
	var stderr bytes.Buffer
	if code := runHunt(io.Discard, &stderr, []string{samplesDir}, huntOptions{format: "table", events: true}); code != exitUsage || !strings.Contains(stderr.String(), "--events") {
		t.Errorf("--events with a table: exit %d, %q", code, &stderr)
	}
	stderr.Reset()
	if code := runHunt(io.Discard, &stderr, []string{samplesDir}, huntOptions{format: "bulk", namespace: "Case-42"}); code != exitUsage || !strings.Contains(stderr.String(), "--namespace") {
		t.Errorf("--namespace Case-42: exit %d, %q", code, &stderr)
	}
}

// hunt takes the beat's -c as --config, so that a filebeat user's
// "hunt -c webshellbeat.yml" hunts with that file's settings; -c and
// --config naming two files is a usage error.
func TestHuntConfigFlag(t *testing.T) {
	dir := testfiles.Dir(t, map[string]string{"webshellbeat.yml": "processors:\n  - webshell:\n      rules: {min_level: high}\n"})
	// The beat's global flags as libbeat's root command gives them (RootCmd
	// itself registers global callbacks, once per process).
	cfgfile.Initialize()
	parse := func(args ...string) (huntOptions, error) {
		t.Helper()
		defer func() { _ = cfgfile.ChangeDefaultCfgfileFlag("webshellbeat") }() // -c is a global flag
		root := &cobra.Command{Use: "webshellbeat"}
		root.PersistentFlags().AddGoFlagSet(flag.CommandLine)
		hunt := huntCommand()
		root.AddCommand(hunt)
		if err := hunt.ParseFlags(args); err != nil {
			t.Fatal(err)
		}
		defer func() { hunt.Flag("c").Changed = false }()
		var o huntOptions
		o.config, _ = hunt.Flags().GetString("config")
		return o, configFlag(hunt, &o)
	}
	file := filepath.Join(dir, "webshellbeat.yml")
	o, err := parse("-c", file)
	if err != nil || o.config != file {
		t.Fatalf("-c: config %q, %v; want %q", o.config, err, file)
	}
	var stderr bytes.Buffer
	o.format = "table"
	if code := runHunt(io.Discard, &stderr, []string{samplesDir}, o); code != 0 || !strings.HasPrefix(summaryLine(stderr.String()), "hunt: 19 rules (13 more left out by level or status), ") {
		t.Errorf("hunt -c: exit %d, %s", code, summaryLine(stderr.String()))
	}
	if o, err := parse("--format", "table"); err != nil || o.config != "" {
		t.Errorf("no -c: config %q, %v; want none", o.config, err)
	}
	if _, err := parse("-c", "/a/webshellbeat.yml", "--config", "/b/webshellbeat.yml"); err == nil || !strings.Contains(err.Error(), "name two files") {
		t.Errorf("-c and --config of two files: %v", err)
	}
}
