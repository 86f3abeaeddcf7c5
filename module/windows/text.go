package windows

import (
	"strings"

	"webshellbeat/detection"
)

// sysmonHeaders maps the first line of a rendered Sysmon message to its
// event ID (Sysmon 15 manifest).
var sysmonHeaders = map[string]uint32{
	"process create":                             1,
	"file creation time changed":                 2,
	"network connection detected":                3,
	"sysmon service state changed":               4,
	"process terminated":                         5,
	"driver loaded":                              6,
	"image loaded":                               7,
	"createremotethread detected":                8,
	"rawaccessread detected":                     9,
	"process accessed":                           10,
	"file created":                               11,
	"registry object added or deleted":           12,
	"registry value set":                         13,
	"registry object renamed":                    14,
	"file stream created":                        15,
	"sysmon config state changed":                16,
	"pipe created":                               17,
	"pipe connected":                             18,
	"wmieventfilter activity detected":           19,
	"wmieventconsumer activity detected":         20,
	"wmieventconsumertofilter activity detected": 21,
	"dns query":                                  22,
	"file delete archived":                       23,
	"file delete":                                23,
	"clipboard changed":                          24,
	"process tampering":                          25,
	"file delete logged":                         26,
	"file block executable":                      27,
	"file block shredding":                       28,
	"file executable detected":                   29,
	"error report":                               255,
}

// ParseSysmonText parses a rendered Sysmon message: "Key: Value" lines,
// either starting with an "EventID: N" line or with the header Windows
// writes ("Process Create:", "Network connection detected:", ...), from
// which the event ID is inferred. The message may follow the block that
// Event Viewer's "Copy details as text" writes before it ("Log Name:",
// "Event ID:", "Computer:" ... "Description:"), which gives the computer.
// CRLF line ends and blank lines are accepted. The record is placed on the
// Sysmon channel; its time is UtcTime (UTC).
func ParseSysmonText(text string) (*Record, error) {
	r := &Record{Channel: ChannelSysmon, Provider: ProviderSysmon}
	var (
		header   string
		haveID   bool
		line     int
		lastLine int
		offset   int64
	)
	rest, err := eventViewerBlock(text, r, &line, &offset) // may set r.EventID
	if err != nil {
		return nil, err
	}
	b := edBuilder{channel: ChannelSysmon}
	for rest != "" {
		line++
		start := offset
		l, tail, _ := strings.Cut(rest, "\n")
		offset += int64(len(l)) + 1
		rest = tail
		l = strings.TrimRight(l, "\r")
		t := strings.TrimSpace(l)
		if t == "" {
			continue
		}
		lastLine = line
		key, value, ok := strings.Cut(t, ":")
		key = strings.TrimSpace(key)
		value = strings.TrimSpace(value)
		if !ok || !validKey(key) {
			if ok && value == "" && header == "" && len(b.ed) == 0 && !haveID {
				header = key // "Process Create:"
				continue
			}
			return nil, perr("sysmon-text", start, line, nil, "want a \"Key: Value\" line, got %q", detection.Clip(t, 60))
		}
		if key == "EventID" {
			u, ok := parseUint(value, 32)
			if !ok {
				return nil, perr("sysmon-text", start, line, nil, "EventID %q is not a number", detection.Clip(value, 40))
			}
			r.EventID, haveID = uint32(u), true
			continue
		}
		b.ed.add(key, value)
	}
	if len(b.ed) == 0 {
		return nil, perr("sysmon-text", -1, lastLine, nil, "no \"Key: Value\" fields")
	}
	if !haveID && r.EventID == 0 {
		id, ok := sysmonHeaders[strings.ToLower(header)]
		if !ok {
			if header == "" {
				return nil, perr("sysmon-text", 0, 1, nil, "no EventID line and no header line to infer it from")
			}
			return nil, perr("sysmon-text", 0, 1, nil, "no EventID line and unknown header %q", detection.Clip(header, 60))
		}
		r.EventID = id
	}
	if ut, ok := b.ed.Get("UtcTime"); ok {
		t, ok := parseTime(ut)
		if !ok {
			return nil, perr("sysmon-text", -1, 0, nil, "UtcTime %q is not a time", detection.Clip(ut, 40))
		}
		r.TimeCreated = t
	}
	r.EventData = b.ed
	return r, nil
}

// eventViewerBlock reads the lines that Event Viewer's "Copy details as
// text" writes before an event's message, up to "Description:", into r
// (event ID, computer), and returns the message. Text without the block is
// returned whole. line and offset are moved past the block, for positions.
func eventViewerBlock(text string, r *Record, line *int, offset *int64) (string, error) {
	if !strings.HasPrefix(strings.TrimLeft(text, " \t\r\n"), "Log Name:") {
		return text, nil
	}
	for rest := text; rest != ""; {
		*line++
		start := *offset
		l, tail, _ := strings.Cut(rest, "\n")
		*offset += int64(len(l)) + 1
		rest = tail
		key, value, _ := strings.Cut(strings.TrimSpace(l), ":")
		key, value = strings.TrimSpace(key), strings.TrimSpace(value)
		if key == "Description" && value == "" {
			return rest, nil // the message follows
		}
		switch key {
		case "", "Source", "Date", "Task Category", "Level", "Opcode", "Keywords", "User":
		case "Log Name":
			if !strings.EqualFold(value, ChannelSysmon) {
				return "", perr("sysmon-text", start, *line, nil, "Event Viewer text of the %q log: only Sysmon messages are read as text (export the log as .evtx or XML)", detection.Clip(value, 60))
			}
		case "Event ID":
			u, ok := parseUint(value, 32)
			if !ok {
				return "", perr("sysmon-text", start, *line, nil, "Event ID %q is not a number", detection.Clip(value, 40))
			}
			r.EventID = uint32(u)
		case "Computer":
			r.Computer = value
		default:
			return "", perr("sysmon-text", start, *line, nil, "Event Viewer text without a \"Description:\" line before the message (got %q)", detection.Clip(strings.TrimSpace(l), 60))
		}
	}
	return "", perr("sysmon-text", -1, *line, nil, "Event Viewer text without a \"Description:\" line before the message")
}

// validKey accepts Sysmon field names: a letter, then letters, digits or
// underscores.
func validKey(k string) bool {
	if k == "" || len(k) > 64 {
		return false
	}
	for i, c := range k {
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z':
		case i > 0 && (c >= '0' && c <= '9' || c == '_'):
		default:
			return false
		}
	}
	return true
}
