package windows

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// PowerShell's Get-WinEvent returns System.Diagnostics.Eventing.Reader
// .EventLogRecord objects, which administrators save with ConvertTo-Json or
// Export-Csv. Their properties carry .NET's names: Id, LogName,
// ProviderName, MachineName, TimeCreated, RecordId, Message, and Properties,
// the event data's values without their names (ConvertTo-Json writes them as
// [{"Value": ...}]; Export-Csv writes only the list's type name).
// TimeCreated is "/Date(ms)/" in Windows PowerShell 5.1's JSON, ISO 8601 with
// the offset in PowerShell 7's, and the culture's local time in CSV, which
// the caller (hunt's csv.go) turns into ISO 8601 first, in the zone it is
// told.
//
// The event data is named as the event defines it where hunt knows the
// order of Properties (Security 4688, by its version) and read from the
// message where the message names it (Sysmon, whose manifest is English on
// every Windows; 4688 in CSV). Other events keep Properties as param1,
// param2, ..., as unnamed Data, and their message.

// isPowerShellEvent reports whether m has EventLogRecord's properties.
func isPowerShellEvent(m any) bool {
	_, id := dget(m, "Id")
	_, msg := dget(m, "Message")
	_, log := dget(m, "LogName")
	_, provider := dget(m, "ProviderName")
	_, created := dget(m, "TimeCreated")
	return id && msg && created && (log || provider)
}

// fields4688 are 4688's event data names in order, by event version:
// version 0 (Windows Vista to 8) has the first 8, version 1 (8.1, 2012 R2)
// adds CommandLine, version 2 (10, 2016) the last six.
var fields4688 = []string{"SubjectUserSid", "SubjectUserName", "SubjectDomainName", "SubjectLogonId", "NewProcessId",
	"NewProcessName", "TokenElevationType", "ProcessId", "CommandLine", "TargetUserSid", "TargetUserName",
	"TargetDomainName", "TargetLogonId", "ParentProcessName", "MandatoryLabel"}

func fromPowerShell(v any) (*Record, error) {
	s, n := fieldReaders(v)
	idv, _ := dget(v, "Id")
	id, ok := uintOf(idv, 32)
	if !ok {
		return nil, fmt.Errorf("property Id %q is not a number", scalarString(idv, false))
	}
	r := &Record{EventID: uint32(id), Channel: s("LogName"), Provider: s("ProviderName"), Computer: s("MachineName"),
		Message: s("Message"), RecordID: n("RecordId", 64), Version: uint8(n("Version", 8)), Level: uint8(n("Level", 8)),
		Task: uint16(n("Task", 16)), Opcode: uint8(n("Opcode", 8)), ProcessID: uint32(n("ProcessId", 32)), ThreadID: uint32(n("ThreadId", 32))}
	if r.Channel == "" {
		r.Channel = LogOfProvider(r.Provider)
	}
	if uid, ok := dget(v, "UserId"); ok { // a SecurityIdentifier: {"Value": "S-1-5-18", ...} in JSON
		if val, ok := dget(uid, "Value"); ok {
			uid = val
		}
		if sid := scalarString(uid, false); strings.HasPrefix(sid, "S-") {
			r.UserID = sid
		}
	}
	tc, _ := dget(v, "TimeCreated")
	r.TimeCreated, _ = powerShellTime(tc)
	props, _ := dget(v, "Properties")
	values, _ := props.([]any)
	switch {
	case strings.EqualFold(r.Channel, ChannelSecurity) && r.EventID == 4688 && len(values) >= 8:
		for i, p := range values[:min(len(values), len(fields4688))] {
			if val, ok := dget(p, "Value"); ok {
				p = val
			}
			r.EventData.add(fields4688[i], propertyString(p, hexField(ChannelSecurity, fields4688[i])))
		}
	case r.IsSysmon() || strings.EqualFold(r.Channel, ChannelSecurity) && r.EventID == 4688:
		text, ok, err := ParseMessage(r.Channel, r.EventID, r.Computer, r.Message)
		if err != nil {
			return nil, err
		}
		if !ok { // Sysmon for Linux's channel: no message of its read as text
			return nil, fmt.Errorf("%s event %d: only Security 4688 and Sysmon messages are read as text", r.Channel, r.EventID)
		}
		r.EventData = text.EventData
		if r.TimeCreated.IsZero() {
			r.TimeCreated = text.TimeCreated // Sysmon's UtcTime
		}
	default:
		b := edBuilder{channel: r.Channel}
		for _, p := range values {
			if val, ok := dget(p, "Value"); ok {
				p = val
			}
			b.param(p)
		}
		r.EventData = b.ed
	}
	if r.TimeCreated.IsZero() {
		return nil, fmt.Errorf("no event time: TimeCreated %q is neither /Date(ms)/ nor ISO 8601", scalarString(tc, false))
	}
	return r, nil
}

// LogOfProvider names the log of the providers whose messages ParseMessage
// reads, for sources that name the provider and not the log (an object
// Select-Object left without LogName, Event Viewer's Source column); "" for
// others.
func LogOfProvider(provider string) string {
	switch provider {
	case ProviderSecAud:
		return ChannelSecurity
	case ProviderSysmon:
		return ChannelSysmon
	}
	return ""
}

// powerShellTime reads TimeCreated as ConvertTo-Json writes it: "/Date(ms)/"
// (Windows PowerShell 5.1, UTC milliseconds, perhaps with an offset that
// does not change the instant) or ISO 8601 with the offset (PowerShell 7).
func powerShellTime(v any) (time.Time, bool) {
	if m := dotNetDate.FindStringSubmatch(scalarString(v, false)); m != nil {
		ms, err := strconv.ParseInt(m[1], 10, 64)
		return time.UnixMilli(ms).UTC(), err == nil
	}
	return parseTime(v)
}

// dotNetDate is .NET's JSON date: UTC milliseconds since 1970, and an
// offset that only says how it was displayed.
var dotNetDate = regexp.MustCompile(`^/Date\((-?\d{1,15})(?:[+-]\d{4})?\)/$`)

// propertyString renders a value of Properties. ConvertTo-Json writes the
// event's hex integers (4688's NewProcessId) as decimal numbers; they are
// written in hex, as Windows renders them.
func propertyString(v any, asHex bool) string {
	if n, ok := v.(json.Number); ok && asHex {
		if u, err := strconv.ParseUint(n.String(), 10, 64); err == nil {
			return uintString(u, true)
		}
	}
	return scalarString(v, asHex)
}
