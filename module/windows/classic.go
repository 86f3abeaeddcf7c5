package windows

import (
	"strings"

	"webshellbeat/detection"
)

// Splunk's Windows add-on without renderXml (the classic WinEventLog
// sourcetype) indexes an event as text: a local time line, "Key=Value"
// header lines, then the rendered message after "Message=":
//
//	04/12/2017 09:33:36 PM
//	LogName=Security
//	EventCode=4688
//	ComputerName=web01.contoso.local
//	...
//	Message=A new process has been created.
//
//	Creator Subject:
//		Security ID:		S-1-5-18
//	...
//	Process Information:
//		New Process ID:		0x1a20
//		New Process Name:	C:\Windows\System32\cmd.exe
//
// ParseWinEventLogText reads Security 4688 and Sysmon events of that form.
// The first line's time has no zone, so the record has no time: the caller
// sets it (Splunk's _time).
func ParseWinEventLogText(raw string) (*Record, error) {
	header, message, ok := strings.Cut(strings.ReplaceAll(raw, "\r\n", "\n"), "\nMessage=")
	if !ok {
		return nil, perr("winlog-text", -1, 0, nil, "no Message= line")
	}
	kv := map[string]string{}
	for _, l := range strings.Split(header, "\n") {
		if k, v, ok := strings.Cut(l, "="); ok {
			kv[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	id, ok := parseUint(kv["EventCode"], 32)
	if !ok {
		return nil, perr("winlog-text", -1, 0, nil, "EventCode %q is not a number", detection.Clip(kv["EventCode"], 20))
	}
	r, ok, err := ParseMessage(kv["LogName"], uint32(id), kv["ComputerName"], message)
	if !ok {
		return nil, perr("winlog-text", -1, 0, nil, "%s event %d as text: only Security 4688 and Sysmon messages are read as text (index the log as XML: renderXml = true in Splunk's Windows add-on)", detection.Clip(kv["LogName"], 60), id)
	}
	return r, err
}

// ParseMessage reads an event of log logName from its rendered message, as
// text exports carry it (Splunk's classic text, Event Viewer's CSV,
// PowerShell's Export-Csv): Sysmon's, and Security 4688's of English
// Windows. ok is false for any other event, whose message hunt does not
// read. The record has no time unless Sysmon's UtcTime gives one.
func ParseMessage(logName string, id uint32, computer, message string) (r *Record, ok bool, err error) {
	message = strings.ReplaceAll(message, "\r\n", "\n")
	switch {
	case strings.EqualFold(logName, ChannelSysmon):
		r, err := ParseSysmonText(message)
		if err != nil {
			return nil, true, err
		}
		r.EventID, r.Computer = id, computer
		return r, true, nil
	case strings.EqualFold(logName, ChannelSecurity) && id == 4688:
		ed, err := parse4688Message(message)
		if err != nil {
			return nil, true, err
		}
		return &Record{EventID: 4688, Channel: ChannelSecurity, Provider: ProviderSecAud, Computer: computer, EventData: ed}, true, nil
	}
	return nil, false, nil
}

// message4688 maps the labels of 4688's message, by section (English
// Windows; "Subject" before Windows 10 / Server 2016, "Creator Subject"
// since), to its event data names.
var message4688 = map[string]string{
	"subject/security id": "SubjectUserSid", "subject/account name": "SubjectUserName",
	"subject/account domain": "SubjectDomainName", "subject/logon id": "SubjectLogonId",
	"creator subject/security id": "SubjectUserSid", "creator subject/account name": "SubjectUserName",
	"creator subject/account domain": "SubjectDomainName", "creator subject/logon id": "SubjectLogonId",
	"target subject/security id": "TargetUserSid", "target subject/account name": "TargetUserName",
	"target subject/account domain": "TargetDomainName", "target subject/logon id": "TargetLogonId",
	"process information/new process id": "NewProcessId", "process information/new process name": "NewProcessName",
	"process information/token elevation type": "TokenElevationType", "process information/mandatory label": "MandatoryLabel",
	"process information/creator process id": "ProcessId", "process information/creator process name": "ParentProcessName",
	"process information/process command line": "CommandLine",
}

// parse4688Message reads the labelled lines of 4688's message; the
// explanation paragraphs after them are passed over. A "Security ID" that
// Windows rendered as an account name, not a SID, is left out of the *Sid
// fields.
func parse4688Message(msg string) (EventData, error) {
	var ed EventData
	section := ""
	for _, l := range strings.Split(msg, "\n") {
		t := strings.TrimSpace(l)
		label, value, ok := strings.Cut(t, ":")
		if !ok {
			continue
		}
		label, value = strings.ToLower(strings.TrimSpace(label)), strings.TrimSpace(value)
		if value == "" && !strings.HasPrefix(l, "\t") && !strings.HasPrefix(l, " ") {
			section = label // "Process Information:"
			continue
		}
		name, known := message4688[section+"/"+label]
		if !known || strings.HasSuffix(name, "Sid") && !strings.HasPrefix(value, "S-") {
			continue
		}
		ed.add(name, value)
	}
	if _, ok := ed.Get("NewProcessName"); !ok {
		return nil, perr("winlog-text", -1, 0, nil, "4688 message without a \"New Process Name:\" line under \"Process Information:\"")
	}
	return ed, nil
}
