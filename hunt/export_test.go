package hunt

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"webshellbeat/config"
	"webshellbeat/detection"
	"webshellbeat/detector"
)

// Winlogbeat documents pulled back out of Elasticsearch or OpenSearch read
// as the documents themselves: elasticdump's NDJSON lines ({"_index",
// "_id", "_source"}) and _search responses, pretty-printed or on one line
// as curl writes them.
func TestElasticsearchExports(t *testing.T) {
	const golden = "../../shared/data/elastic-beats/x-pack/winlogbeat/module/security/test/testdata/ingest/security-windows2019_4688_Process_Created.golden.json"
	raw, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	var events []json.RawMessage // the golden file is an array of one event
	if err := json.Unmarshal(raw, &events); err != nil || len(events) != 1 {
		t.Fatalf("%s: %v (%d events)", golden, err, len(events))
	}
	event := string(events[0])
	want, st := records(t, golden)
	if len(want) != 1 || st.Errors != 0 {
		t.Fatalf("original: %d records, %+v", len(want), st)
	}
	hit := func(id string) string {
		return `{"_index":"winlogbeat-9.3.0","_id":"` + id + `","_score":1,"_source":` + event + `}`
	}
	search := `{"took":2,"timed_out":false,"hits":{"total":{"value":2},"hits":[` + hit("a") + `,` + hit("b") + `]}}`
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, []byte(search), "", "  "); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for name, tc := range map[string]struct {
		text string
		n    int
	}{
		"elasticdump.ndjson":   {hit("a") + "\n" + hit("b") + "\n" + hit("c") + "\n", 3},
		"search-oneline.json":  {search + "\n", 2},
		"search-pretty.json":   {pretty.String(), 2},
		"search-two-responses": {search + "\n" + search + "\n", 4},
	} {
		got, st := records(t, writeFile(t, dir, name, []byte(tc.text)))
		_, failed := wheres(got)
		if len(failed) > 0 || st.Formats[FormatJSON] != 1 || !slices.Equal(docs(t, got), slices.Repeat(docs(t, want), tc.n)) {
			t.Errorf("%s: %d records (failed %v), formats %v; want %d copies of the golden event", name, len(got), failed, st.Formats, tc.n)
		}
	}
}

// Documents that are ECS already, exported from Elasticsearch as elasticdump
// lines, hunt as the logs they were mapped from: the mapped documents of
// the samples and the Linux capture (Windows events, audit events, access
// log requests), written to JSON and read back, give the alerts that
// hunting the logs gives.
func TestECSDocumentsHuntLikeTheirLogs(t *testing.T) {
	logs := []string{"../testdata/samples", "../../shared/data/linux-capture"}
	recs, _ := records(t, logs...)
	var dump bytes.Buffer
	modules := map[string]int{}
	for i, r := range recs {
		if r.Err != nil {
			continue
		}
		doc, err := json.Marshal(r.Doc)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&dump, `{"_index":"logs-webshellbeat.event-default","_id":"%d","_source":%s}`+"\n", i, doc)
		modules[detection.LookupString(r.Doc, "event.module")]++
	}
	exported := writeFile(t, t.TempDir(), "events.ndjson", dump.Bytes())
	alerts := func(paths ...string) []string {
		det, err := detector.New(config.Default())
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		st, err := Run(paths, det, func(doc map[string]any) {
			out = append(out, fmt.Sprintf("%s %v %v", detection.LookupString(doc, "webshell.doc_id"), detection.LookupStrings(doc, "webshell.rule_ids"), doc["event"].(map[string]any)["severity"]))
		}, nil)
		if err != nil || st.Errors != 0 {
			t.Fatalf("%v: %v, %d unreadable", paths, err, st.Errors)
		}
		slices.Sort(out)
		return out
	}
	want, got := alerts(logs...), alerts(exported)
	t.Logf("%d alerts; modules %v", len(want), modules)
	if len(want) < 20 || !slices.Equal(got, want) {
		t.Errorf("from the exported documents (%v):\n%s\nfrom the logs:\n%s", modules, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// auditbeatExecve is an auditbeat 8 execve document as elasticdump writes it:
// the shape of elastic/beats' auditbeat/module/auditd/_meta/execve.json
// (Apache-2.0), with the fields auditbeat 8 adds to it (@timestamp,
// event.category/type, host.os, user.name) and www-data's `sh -c id` in
// place of the sample's `uname -a`. auditbeat has process.args, no
// process.command_line.
const auditbeatExecve = `{"_index":".ds-auditbeat-8.19.0-2026.11.25-000001","_id":"x1","_source":{
"@timestamp":"2026-11-25T19:02:29.123Z",
"auditd":{"data":{"arch":"x86_64","argc":"3","exit":"0","syscall":"execve","tty":"(none)"},"message_type":"syscall","result":"success","sequence":8972,"session":"unset",
  "summary":{"actor":{"primary":"unset","secondary":"www-data"},"how":"/usr/bin/dash","object":{"primary":"/usr/bin/dash","type":"file"}}},
"event":{"action":"executed","category":["process"],"type":["start"],"module":"auditd","outcome":"success","kind":"event"},
"host":{"name":"web01","os":{"type":"linux","family":"debian"}},
"process":{"args":["sh","-c","id"],"executable":"/usr/bin/dash","name":"sh","pid":10043,"parent":{"pid":10027},"title":"sh -c id","working_directory":"/var/www/html"},
"service":{"type":"auditd"},
"user":{"id":"33","name":"www-data","group":{"id":"33","name":"www-data"}}}}`

// An auditbeat document pulled out of Elasticsearch runs the pack's Linux
// rules: its command line is restored from process.args.
func TestAuditbeatDocument(t *testing.T) {
	path := writeFile(t, t.TempDir(), "auditbeat.ndjson", []byte(strings.ReplaceAll(auditbeatExecve, "\n", "")+"\n"))
	det, err := detector.New(config.Default())
	if err != nil {
		t.Fatal(err)
	}
	var alerts []map[string]any
	st, err := Run([]string{path}, det, func(doc map[string]any) { alerts = append(alerts, doc) }, nil)
	if err != nil || st.Errors != 0 || len(alerts) != 1 {
		t.Fatalf("%v, %d unreadable, %d alerts", err, st.Errors, len(alerts))
	}
	a := alerts[0]
	if ids := detection.LookupStrings(a, "webshell.rule_ids"); !slices.Contains(ids, "6d1c3f0e-4b7a-4c52-9d0b-2f7e5a8c1a06") ||
		detection.LookupString(a, "process.command_line") != "sh -c id" || detection.LookupString(a, "host.name") != "web01" {
		t.Errorf("alert: rules %v, command line %q, host %q", ids, detection.LookupString(a, "process.command_line"), detection.LookupString(a, "host.name"))
	}
}

// A rule written as SigmaHQ's auditd rules are (the EXECVE record's a0 and
// a2) fires on an auditbeat document too: auditbeat keeps no list of the
// records, and hunt rebuilds it from the arguments it indexed.
func TestAuditbeatDocumentRecordRule(t *testing.T) {
	dir := t.TempDir()
	path := writeFile(t, dir, "auditbeat.ndjson", []byte(strings.ReplaceAll(auditbeatExecve, "\n", "")+"\n"))
	rule := writeFile(t, dir, "execve_id.yml", []byte(`title: id Through sh, As SigmaHQ's auditd Rules Write It
id: 0b4a4c0e-5e7c-4c1e-9f3e-4f1d1c2b6a11
logsource: {product: linux, service: auditd}
detection:
    selection:
        type: EXECVE
        a0: sh
        a2: id
    condition: selection
level: low
`))
	cfg := config.Default()
	cfg.Rules.Builtin, cfg.Rules.Paths = false, []string{rule}
	det, err := detector.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var alerts []map[string]any
	if _, err := Run([]string{path}, det, func(doc map[string]any) { alerts = append(alerts, doc) }, nil); err != nil {
		t.Fatal(err)
	}
	if len(alerts) != 1 || !slices.Contains(detection.LookupStrings(alerts[0], "auditd.record_types"), "execve") {
		t.Fatalf("%d alerts (want 1, with the execve record in auditd.record_types)", len(alerts))
	}
}
