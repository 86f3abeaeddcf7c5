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
// which the event ID is inferred. CRLF line ends and blank lines are
// accepted. The record is placed on the Sysmon channel; its time is
// UtcTime (UTC).
func ParseSysmonText(text string) (*Record, error) {
	r := &Record{Channel: ChannelSysmon, Provider: ProviderSysmon}
	var (
		header   string
		haveID   bool
		line     int
		lastLine int
		offset   int64
	)
	b := edBuilder{channel: ChannelSysmon}
	for rest := text; rest != ""; {
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
	if !haveID {
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
