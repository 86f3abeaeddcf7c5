package hunt

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"webshellbeat/detection"
	"webshellbeat/module/windows"
)

// recordKeys names each record by what a detection reads, in order.
func recordKeys(recs []Record) []string {
	var keys []string
	for _, r := range recs {
		keys = append(keys, fmt.Sprint(detection.LookupString(r.Doc, "event.dataset"), " ", detection.LookupString(r.Doc, "host.name"), " ",
			detection.LookupString(r.Doc, "process.command_line"), detection.LookupString(r.Doc, "url.original"), " ", timeOf(r).UnixNano(), " ", r.Err))
	}
	return keys
}

// toCSV writes JSON objects (one per line) as a CSV export, newest first:
// columns in first-seen order, objects as JSON text, and the columns in
// portalCols as the portal writes datetimes ("Name [UTC]").
func toCSV(t *testing.T, jsonLines string, portalCols ...string) []byte {
	t.Helper()
	var objs []map[string]any
	var cols []string
	for _, l := range strings.Split(strings.TrimSpace(jsonLines), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatal(err)
		}
		if r, ok := m["result"].(map[string]any); ok {
			m = r
		}
		for k := range m {
			if !slices.Contains(cols, k) {
				cols = append(cols, k)
			}
		}
		objs = append(objs, m)
	}
	slices.Sort(cols)
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	header := slices.Clone(cols)
	for i, c := range header {
		if slices.Contains(portalCols, c) {
			header[i] = c + " [UTC]"
		}
	}
	w.Write(header)
	slices.Reverse(objs)
	for _, m := range objs {
		var row []string
		for _, c := range cols {
			switch v := m[c].(type) {
			case nil:
				row = append(row, "")
			case string:
				if slices.Contains(portalCols, c) {
					at, err := time.Parse(time.RFC3339Nano, v)
					if err != nil {
						t.Fatal(err)
					}
					v = at.Format(portalTime)
				}
				row = append(row, v)
			case float64:
				row = append(row, fmt.Sprint(v))
			default:
				b, _ := json.Marshal(v)
				row = append(row, string(b))
			}
		}
		w.Write(row)
	}
	w.Flush()
	return buf.Bytes()
}

// The Log Analytics rows of module/windows's fixture (SecurityEvent, Event,
// WindowsEvent), exported from the portal as CSV (datetimes as the portal
// writes them, WindowsEvent's object as JSON text, newest first), read as
// their JSON rows do.
func TestLogAnalyticsCSV(t *testing.T) {
	fixture := "../module/windows/testdata/loganalytics.json"
	raw, err := os.ReadFile(fixture)
	if err != nil {
		t.Fatal(err)
	}
	csvFile := writeFile(t, t.TempDir(), "query_data.csv", toCSV(t, string(raw), "TimeGenerated", "TimeCollected"))
	want, _ := records(t, fixture)
	got, st := records(t, csvFile)
	if st.Formats[FormatCSV] != 1 || !slices.Equal(recordKeys(got), recordKeys(want)) {
		t.Errorf("stats %+v\n got %q\nwant %q", st, recordKeys(got), recordKeys(want))
	}
}

// The Linux capture exported from Splunk as CSV reads as its JSON export.
func TestSplunkCSV(t *testing.T) {
	capture := "../../shared/data/linux-capture/"
	export := splunkExport(t, "wsb-capture", map[string]string{capture + "audit.log": "linux:audit", capture + "nginx_access.log": "nginx:plus:access"})
	raw, err := os.ReadFile(export)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := records(t, export)
	got, st := records(t, writeFile(t, t.TempDir(), "splunk.csv", toCSV(t, string(raw))))
	if st.Formats[FormatCSV] != 1 || len(got) < 100 || !slices.Equal(recordKeys(got), recordKeys(want)) {
		t.Errorf("stats %+v, %d records from CSV, %d from JSON", st, len(got), len(want))
	}
}

func TestCSVErrors(t *testing.T) {
	dir := t.TempDir()
	if f := Detect([]byte("name,size,colour\nx,1,red\n")); f != FormatUnknown {
		t.Errorf("another CSV file: %q", f)
	}
	text := "\"TimeGenerated [UTC]\",Computer,EventID,Channel,NewProcessName\n" +
		"\"yesterday\",w,4688,Security,C:\\x.exe\n" +
		"\"11/20/2026, 10:15:02.447 AM\",w,4688,Security\n" +
		"\"11/20/2026, 10:15:03.000 AM\",w,4688,Security,C:\\y.exe\n"
	recs, _ := records(t, writeFile(t, dir, "q.csv", []byte(text)))
	if len(recs) != 3 || recs[0].Err == nil || recs[1].Err == nil || recs[2].Err != nil {
		t.Fatalf("records %v", recs)
	}
	for i, want := range []string{`q.csv:2: column "TimeGenerated [UTC]": "yesterday" is not the portal's time`, "q.csv:3: csv row of 4 fields under a header of 5"} {
		if !strings.Contains(recs[i].Err.Error(), want) {
			t.Errorf("record %d: %v, want %q", i, recs[i].Err, want)
		}
	}
}

func FuzzReadCSV(f *testing.F) {
	f.Add("\"TimeGenerated [UTC]\",Computer,EventID,Channel,NewProcessName,ParentProcessName,CommandLine\n\"11/20/2026, 10:15:02.447 AM\",w,4688,Security,C:\\x.exe,C:\\w3wp.exe,x /c y\n")
	f.Add("_raw,_time,host,sourcetype\n\"type=SYSCALL msg=audit(1.0:1): syscall=59 pid=2 exe=\"\"/bin/sh\"\"\",2026-11-25T19:00:00Z,h,linux:audit\n")
	f.Add("_raw,_time\n\"<Event><System><EventID>1</EventID></System></Event>\",x\n")
	f.Fuzz(func(t *testing.T, text string) {
		for rec := range readCSV("f.csv", strings.NewReader(text)) {
			if rec.Doc == nil && rec.Err == nil {
				t.Fatal("a record with neither a document nor an error")
			}
		}
	})
}

// EvtxECmd's CSV (KAPE's usual output) of two real EVTX files, one after
// the other as EvtxECmd writes them, reads as the files do, in time order.
func TestEvtxECmdCSV(t *testing.T) {
	files := []string{
		"../../shared/data/sbousseaden-EVTX-ATTACK-SAMPLES/Lateral Movement/LM_typical_IIS_webshell_sysmon_1_10_traces.evtx",
		"../../shared/data/sbousseaden-EVTX-ATTACK-SAMPLES/Lateral Movement/LM_wmiexec_impacket_sysmon_whoami.evtx",
	}
	var lines []string
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		err = windows.ReadEVTX(fh, 0, func(r *windows.Record, err error) error {
			if err != nil {
				return err
			}
			var data []map[string]any
			for _, kv := range r.EventData {
				data = append(data, map[string]any{"@Name": kv.Key, "#text": kv.Value})
			}
			payload, _ := json.Marshal(map[string]any{"EventData": map[string]any{"Data": data}})
			line, _ := json.Marshal(map[string]any{"RecordNumber": r.RecordID, "EventRecordId": fmt.Sprint(r.RecordID),
				"TimeCreated": r.TimeCreated.Format("2006-01-02 15:04:05.0000000"), "EventId": r.EventID, "Level": "Info",
				"Provider": r.Provider, "Channel": r.Channel, "ProcessId": r.ProcessID, "ThreadId": r.ThreadID, "Computer": r.Computer,
				"ChunkNumber": 0, "UserId": "", "MapDescription": "x", "UserName": "", "RemoteHost": "", "PayloadData1": "x",
				"ExecutableInfo": "", "HiddenRecord": false, "SourceFile": f, "Keywords": "", "ExtraDataOffset": 0, "Payload": string(payload)})
			lines = append(lines, string(line))
			return nil
		})
		fh.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	// toCSV writes the lines last first: rows out of time order, as in any
	// CSV of several files.
	csvFile := writeFile(t, t.TempDir(), "20261126_EvtxECmd_Output.csv", toCSV(t, strings.Join(lines, "\n")))
	want, _ := records(t, files...)
	got, st := records(t, csvFile)
	if st.Formats[FormatCSV] != 1 || len(got) != len(want) {
		t.Fatalf("stats %+v, %d records from CSV, %d from EVTX", st, len(got), len(want))
	}
	wk, gk := recordKeys(want), recordKeys(got)
	slices.Sort(wk)
	slices.Sort(gk)
	if !slices.Equal(gk, wk) {
		t.Errorf("records differ:\n got %q\nwant %q", gk, wk)
	}
	for i := 1; i < len(got); i++ {
		if timeOf(got[i]).Before(timeOf(got[i-1])) {
			t.Fatalf("record %d is older than the one before it", i)
		}
	}
}

func FuzzReadEventViewer(f *testing.F) {
	for _, name := range []string{"testdata/eventviewer-security.csv", "testdata/eventviewer-sysmon.txt"} {
		raw, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(raw))
	}
	f.Add("Level,Date and Time,Source,Event ID,Task Category\nInformation,1/2/2026 3:04:05 PM,Microsoft-Windows-Sysmon,1,x,\"Process Create:\nImage: a\"\n")
	f.Fuzz(func(t *testing.T, text string) {
		for rec := range readEventViewer("f.csv", strings.NewReader(text)) {
			if rec.Doc == nil && rec.Err == nil {
				t.Fatal("a record with neither a document nor an error")
			}
		}
	})
}
