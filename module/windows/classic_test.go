package windows

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// The rendered messages of two real OTRF events (4688 and Sysmon 1, kept
// by OTRF's NXLog export in Message), written as Splunk's classic
// WinEventLog text, map to the ECS fields of the events themselves (but
// the time, which the text's first line gives without a zone).
func TestWinEventLogText(t *testing.T) {
	for _, tc := range []struct{ file, logName string }{
		{"testdata/otrf-proxylogon-4688.json", "Security"},
		{"testdata/otrf-proxylogon-sysmon1.json", "Microsoft-Windows-Sysmon/Operational"},
	} {
		var flat map[string]any
		if err := json.Unmarshal(readFile(t, tc.file), &flat); err != nil {
			t.Fatal(err)
		}
		want := compareFields(t, mustJSON(t, flat))
		text := "03/14/2021 01:40:15 AM\r\nLogName=" + tc.logName + "\r\nSourceName=x\r\nEventCode=" + fmt.Sprint(flat["EventID"]) +
			"\r\nEventType=0\r\nType=Information\r\nComputerName=" + flat["Hostname"].(string) +
			"\r\nTaskCategory=x\r\nOpCode=Info\r\nRecordNumber=1\r\nKeywords=Audit Success\r\nMessage=" + flat["Message"].(string)
		r, err := ParseWinEventLogText(text)
		if err != nil {
			t.Fatalf("%s: %v", tc.file, err)
		}
		got := fieldsOf(r)
		delete(got, "@timestamp")
		delete(want, "@timestamp")
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s as WinEventLog text:\n got %v\nwant %v", tc.file, got, want)
		}
	}
}

func TestWinEventLogTextErrors(t *testing.T) {
	head := "11/25/2026 07:00:00 PM\nLogName=%s\nEventCode=%s\nComputerName=w\n"
	for _, tc := range []struct{ text, want string }{
		{"LogName=Security\nEventCode=4688\n", "no Message= line"},
		{fmt.Sprintf(head, "Security", "x") + "Message=A new process has been created.", `EventCode "x" is not a number`},
		{fmt.Sprintf(head, "Security", "4624") + "Message=An account was successfully logged on.", "Security event 4624 as text: only Security 4688 and Sysmon messages are read as text"},
		{fmt.Sprintf(head, "Security", "4688") + "Message=A new process has been created.\n\nProcess Information:\n\tNew Process ID:\t0x1\n", `4688 message without a "New Process Name:" line`},
	} {
		if _, err := ParseWinEventLogText(tc.text); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%.40q: err = %v, want %q", tc.text, err, tc.want)
		}
	}
	// A Security ID rendered as an account name is no SID.
	r, err := ParseWinEventLogText(fmt.Sprintf(head, "Security", "4688") + "Message=A new process has been created.\n\nSubject:\n\tSecurity ID:\t\tNT AUTHORITY\\SYSTEM\n\tAccount Name:\t\tWEB01$\n\nProcess Information:\n\tNew Process Name:\tC:\\x.exe\n\tProcess Command Line:\t\n")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := r.EventData.Get("SubjectUserSid"); ok {
		t.Errorf("SubjectUserSid from a name: %v", r.EventData)
	}
	if name, _ := r.EventData.Get("SubjectUserName"); name != "WEB01$" {
		t.Errorf("Windows 2008's Subject section: %v", r.EventData)
	}
}
