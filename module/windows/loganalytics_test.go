package windows

import (
	"encoding/json"
	"html"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// Log Analytics rows (Microsoft Sentinel's SecurityEvent, Event and
// WindowsEvent tables) of the same events as OTRF's flat records map to
// the same ECS process, user and host fields. The rows are built here from
// the real OTRF records, in the tables' column layouts: the event data as
// the table's own columns and as XML in its EventData column (SecurityEvent),
// as <DataItem> XML only (Event), or as an object (WindowsEvent).
func TestLogAnalyticsRows(t *testing.T) {
	for _, tc := range []struct {
		file   string
		tables []string
	}{
		{"testdata/otrf-proxylogon-4688.json", []string{"SecurityEvent"}},
		{"testdata/otrf-proxylogon-sysmon1.json", []string{"Event", "WindowsEvent"}},
	} {
		var flat map[string]any
		if err := json.Unmarshal(readFile(t, tc.file), &flat); err != nil {
			t.Fatal(err)
		}
		want := compareFields(t, mustJSON(t, flat))
		for _, table := range tc.tables {
			row := laRow(flat, table)
			got := compareFields(t, mustJSON(t, row))
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s as a %s row:\n got %v\nwant %v\nrow %s", tc.file, table, got, want, mustJSON(t, row))
			}
		}
	}
}

// laRow writes an OTRF flat record as a row of a Log Analytics table.
func laRow(flat map[string]any, table string) map[string]any {
	data := map[string]any{}
	var xml strings.Builder
	for k, v := range flat {
		if otrfMeta[k] {
			continue
		}
		data[k] = v
	}
	for _, k := range sortedKeys(data) {
		xml.WriteString(`<Data Name="` + k + `">` + html.EscapeString(data[k].(string)) + `</Data>`)
	}
	ed := `<EventData xmlns="http://schemas.microsoft.com/win/2004/08/events/event">` + xml.String() + `</EventData>`
	row := map[string]any{"TenantId": "00000000-0000-0000-0000-000000000000", "TimeGenerated": flat["@timestamp"], "Computer": flat["Hostname"],
		"EventID": flat["EventID"], "SourceSystem": "OpsManager", "Type": table, "_ResourceId": "/subscriptions/x"}
	switch table {
	case "SecurityEvent":
		row["EventSourceName"], row["Channel"], row["Activity"] = flat["SourceName"], flat["Channel"], "4688 - A new process has been created."
		row["Account"], row["Process"], row["EventData"] = "CONTOSO\\x", "cmd.exe", ed
		for k, v := range data {
			row[k] = v
		}
	case "Event":
		row["Source"], row["EventLog"], row["RenderedDescription"] = flat["SourceName"], flat["Channel"], flat["Message"]
		row["EventData"] = `<DataItem type="System.XmlData" time="x">` + ed + `</DataItem>`
	case "WindowsEvent":
		row["Provider"], row["Channel"], row["EventData"], row["EventRecordId"] = flat["SourceName"], flat["Channel"], data, "4711"
	}
	return row
}

func sortedKeys(m map[string]any) []string {
	return slices.Sorted(maps.Keys(m))
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// compareFields maps one JSON event and returns the ECS fields a detection
// reads.
func compareFields(t *testing.T, raw []byte) map[string]any {
	t.Helper()
	r, err := ParseJSON(raw)
	if err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
	return fieldsOf(r)
}

// fieldsOf returns the ECS fields of r that a detection reads.
func fieldsOf(r *Record) map[string]any {
	doc := r.ECS()
	out := map[string]any{}
	for _, k := range []string{"@timestamp", "host", "process", "user", "event.code", "event.provider", "event.module", "winlog.channel"} {
		v, _ := lookupPath(doc, k)
		out[k] = v
	}
	return out
}

func lookupPath(doc map[string]any, p string) (any, bool) {
	var cur any = doc
	for _, part := range strings.Split(p, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[part]; !ok {
			return nil, false
		}
	}
	return cur, true
}

func TestLogAnalyticsErrors(t *testing.T) {
	for _, tc := range []struct{ name, row, want string }{
		{"bad-xml", `{"TimeGenerated":"2026-11-20T10:15:02Z","EventID":4688,"Channel":"Security","EventData":"<EventData><Data Name=\"A\">x</EventData>"}`, "EventData column: windows xml"},
		{"data-item-without-event-data", `{"TimeGenerated":"2026-11-20T10:15:02Z","EventID":1,"EventLog":"Microsoft-Windows-Sysmon/Operational","EventData":"<DataItem type=\"x\"><Other/></DataItem>"}`, "<DataItem> holds no <EventData>"},
		{"no-time", `{"TimeGenerated [UTC]":"11/20/2026, 10:15:02.447 AM","EventID":4688,"Channel":"Security","NewProcessName":"C:\\x.exe"}`, "no event time: none of TimeCreated, @timestamp, EventTime, TimeGenerated"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := ParseJSON([]byte(tc.row)); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
	// A Sysmon row without a time column still has Sysmon's own UtcTime.
	r, err := ParseJSON([]byte(`{"EventID":1,"Channel":"Microsoft-Windows-Sysmon/Operational","UtcTime":"2026-11-20 10:15:03.120","Image":"C:\\x.exe"}`))
	if err != nil || r.TimeCreated.Format("2006-01-02 15:04:05.000") != "2026-11-20 10:15:03.120" {
		t.Errorf("Sysmon row without a time column: %v %v", r, err)
	}
}

// testdata/loganalytics.json holds one row of each table with the columns
// Microsoft documents for it (nulls, the agent's columns, the columns the
// table computes): none of those becomes event data.
func TestLogAnalyticsColumns(t *testing.T) {
	for i, line := range strings.Split(strings.TrimSpace(string(readFile(t, "testdata/loganalytics.json"))), "\n") {
		r, err := ParseJSON([]byte(line))
		if err != nil {
			t.Fatalf("row %d: %v", i+1, err)
		}
		if r.Computer != "WEB01.contoso.local" || r.TimeCreated.IsZero() || r.Provider == "" || r.Channel == "" {
			t.Errorf("row %d: computer %q, time %v, provider %q, channel %q", i+1, r.Computer, r.TimeCreated, r.Provider, r.Channel)
		}
		for _, col := range []string{"TenantId", "TimeGenerated", "Account", "Process", "TimeCollected", "Provider", "EventRecordId", "AuditsDiscarded", "Type", "_ResourceId", "RenderedDescription"} {
			if v, ok := r.EventData.Get(col); ok {
				t.Errorf("row %d: column %s in the event data (%q)", i+1, col, v)
			}
		}
		if img, _ := r.EventData.Get("CommandLine"); img == "" {
			t.Errorf("row %d: no CommandLine in the event data %v", i+1, r.EventData)
		}
	}
}

// An EventData object of Data items ("@Name", "#text"), as a Json.NET
// conversion writes it, is read item by item.
func TestEventDataObjectOfItems(t *testing.T) {
	r, err := ParseJSON([]byte(`{"TimeGenerated":"2026-11-20T10:15:02Z","EventID":4688,"Channel":"Security","Computer":"w","EventData":{"Data":[{"@Name":"NewProcessName","#text":"C:\\x.exe"},{"@Name":"CommandLine","#text":"x /c y"}]}}`))
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := r.EventData.Get("NewProcessName"); v != `C:\x.exe` || r.EventData.Value("CommandLine") != "x /c y" {
		t.Errorf("event data %v", r.EventData)
	}
}
