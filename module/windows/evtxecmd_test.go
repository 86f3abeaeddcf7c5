package windows

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"
)

// evtxECmdJSON writes r as a line of EvtxECmd's --json output: the System
// values as its fields, its map's summaries (here placeholders), and the
// event data as Payload, JSON text in Json.NET's XML convention.
func evtxECmdJSON(t *testing.T, r *Record) []byte {
	t.Helper()
	var data []map[string]any
	for _, kv := range r.EventData {
		data = append(data, map[string]any{"@Name": kv.Key, "#text": kv.Value})
	}
	payload, _ := json.Marshal(map[string]any{"EventData": map[string]any{"Data": data}})
	line, err := json.Marshal(map[string]any{
		"PayloadData1": "summary 1", "PayloadData2": "summary 2", "MapDescription": "a map's description",
		"UserName": "CONTOSO\\x", "ExecutableInfo": "C:\\x.exe", "ChunkNumber": 0, "Computer": r.Computer,
		"Payload": string(payload), "Channel": r.Channel, "Provider": r.Provider, "EventId": r.EventID,
		"EventRecordId": fmt.Sprint(r.RecordID), "ProcessId": r.ProcessID, "ThreadId": r.ThreadID,
		"Level": "Info", "Keywords": "Classic", "SourceFile": "C:\\Windows\\System32\\winevt\\Logs\\x.evtx",
		"ExtraDataOffset": 0, "HiddenRecord": false, "TimeCreated": r.TimeCreated.Format("2006-01-02T15:04:05.0000000-07:00"),
		"RecordNumber": r.RecordID,
	})
	if err != nil {
		t.Fatal(err)
	}
	return line
}

// Every record of a real EVTX file (the IIS web shell sample: Sysmon 1 and
// 10), written as EvtxECmd's JSON, maps to the ECS fields the EVTX record
// itself gives.
func TestEvtxECmdJSON(t *testing.T) {
	recs := readAll(t, iisWebshell)
	if len(recs) == 0 {
		t.Fatal("no records")
	}
	for i, r := range recs {
		line := evtxECmdJSON(t, r)
		got, err := ParseJSON(line)
		if err != nil {
			t.Fatalf("record %d: %v\n%s", i, err, line)
		}
		want := fieldsOf(r)
		if g := fieldsOf(got); !reflect.DeepEqual(g, want) {
			t.Fatalf("record %d as EvtxECmd JSON:\n got %v\nwant %v", i, g, want)
		}
		if got.ProcessID != r.ProcessID || !got.TimeCreated.Equal(r.TimeCreated.Truncate(100*time.Nanosecond)) {
			t.Errorf("record %d: process id %d, time %v; want %d, %v", i, got.ProcessID, got.TimeCreated, r.ProcessID, r.TimeCreated)
		}
	}
}

// The seed 4688 in xmltodict's JSON ("@Name", "#text"), as python-evtx
// dumps write events, maps as the XML does.
func TestXMLToDictJSON(t *testing.T) {
	want, err := ParseXML(readFile(t, seed4688))
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseJSON(readFile(t, "testdata/seed-4688-xmltodict.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fieldsOf(got), fieldsOf(want)) || !reflect.DeepEqual(got.EventData, want.EventData) {
		t.Errorf("xmltodict JSON:\n got %v %v\nwant %v %v", fieldsOf(got), got.EventData, fieldsOf(want), want.EventData)
	}
}

// Every record of a real EVTX file written as a row of Velociraptor's
// Windows.EventLogs.EvtxHunter maps to the ECS fields of the record.
func TestVelociraptorRows(t *testing.T) {
	for i, r := range readAll(t, iisWebshell) {
		ed := map[string]any{}
		for _, kv := range r.EventData {
			ed[kv.Key] = kv.Value
		}
		line, err := json.Marshal(map[string]any{"EventTime": r.TimeCreated.Format(time.RFC3339Nano), "Computer": r.Computer,
			"Channel": r.Channel, "Provider": r.Provider, "EventID": r.EventID, "EventRecordID": r.RecordID, "UserSID": r.UserID,
			"Username": "", "EventData": ed, "UserData": nil, "Message": r.Message, "OSPath": `C:\Windows\System32\winevt\Logs\Microsoft-Windows-Sysmon%4Operational.evtx`})
		if err != nil {
			t.Fatal(err)
		}
		got, err := ParseJSON(line)
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		if g, w := fieldsOf(got), fieldsOf(r); !reflect.DeepEqual(g, w) || got.RecordID != r.RecordID || len(got.EventData) != len(r.EventData) {
			t.Fatalf("record %d as a Velociraptor row:\n got %v %v\nwant %v %v", i, g, got.EventData, w, r.EventData)
		}
	}
}
