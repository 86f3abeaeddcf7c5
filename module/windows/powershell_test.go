package windows

import (
	"bytes"
	"reflect"
	"testing"
	"time"
)

// Get-WinEvent's objects as Windows PowerShell 5.1's ConvertTo-Json writes
// them (testdata/powershell-get-winevent.json, built from OTRF's ProxyLogon
// records: SOURCES.md) map to the ECS fields of the same OTRF records: the
// 4688 from its Properties by position, Sysmon 1 from its message. A 4624
// keeps its values as param1, param2, ... and its message.
func TestPowerShellObjects(t *testing.T) {
	var recs []*Record
	err := ReadJSON(bytes.NewReader(readFile(t, "testdata/powershell-get-winevent.json")), func(r *Record, _ int64, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
		return nil
	})
	if err != nil || len(recs) != 3 {
		t.Fatalf("%d records, %v", len(recs), err)
	}
	logon, proc, sysmon := recs[0], recs[1], recs[2]
	for i, tc := range []struct {
		r    *Record
		otrf string
	}{{proc, "testdata/otrf-proxylogon-4688.json"}, {sysmon, "testdata/otrf-proxylogon-sysmon1.json"}} {
		got, want := fieldsOf(tc.r), compareFields(t, readFile(t, tc.otrf))
		// The OTRF records' times are the collector's, a few ms off
		// TimeCreated; the objects carry the event's own.
		delete(got, "@timestamp")
		delete(want, "@timestamp")
		if !reflect.DeepEqual(got, want) {
			t.Errorf("object %d:\n got %v\nwant %v (%s)", i, got, want, tc.otrf)
		}
	}
	if want := time.Date(2021, 3, 14, 1, 40, 15, 338e6, time.UTC); !proc.TimeCreated.Equal(want) {
		t.Errorf("4688 time %v, want %v (/Date(1615686015338)/)", proc.TimeCreated, want)
	}
	if v, _ := proc.EventData.Get("NewProcessId"); v != "0x5b60" {
		t.Errorf("4688 NewProcessId %q, want 0x5b60 as Windows renders it", v)
	}
	if v, _ := logon.EventData.Get("param9"); logon.EventID != 4624 || v != "5" || logon.Message == "" || logon.Channel != "Security" {
		t.Errorf("4624: id %d, param9 %q, channel %q, message %q", logon.EventID, v, logon.Channel, logon.Message)
	}
}

// PowerShell 7 writes TimeCreated in ISO 8601 with the offset; a time in
// neither form is an error that names it.
func TestPowerShellTimes(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Time
	}{
		{`/Date(1615686015338)/`, time.Date(2021, 3, 14, 1, 40, 15, 338e6, time.UTC)},
		{`/Date(1615686015338+0100)/`, time.Date(2021, 3, 14, 1, 40, 15, 338e6, time.UTC)},
		{`2021-03-13T17:40:15.338-08:00`, time.Date(2021, 3, 14, 1, 40, 15, 338e6, time.UTC)},
	} {
		if got, ok := powerShellTime(tc.in); !ok || !got.Equal(tc.want) {
			t.Errorf("%s: %v %v, want %v", tc.in, got, ok, tc.want)
		}
	}
	_, err := ParseJSON([]byte(`{"Id":1,"LogName":"Microsoft-Windows-Sysmon/Operational","TimeCreated":"someday","Message":"Process Create:\r\nImage: C:\\x.exe"}`))
	if err == nil || !bytes.Contains([]byte(err.Error()), []byte(`TimeCreated "someday"`)) {
		t.Errorf("a time in no form: %v", err)
	}
}
