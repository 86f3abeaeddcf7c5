package windows

import (
	"fmt"
	"strings"
)

// Sysmon for Linux writes each event as one line of event XML to syslog
// ("May 11 18:10:22 web1 sysmon: <Event>...</Event>"), from where it is read
// raw (/var/log/syslog), from the journal (`journalctl -o json`, or the
// beat's journald input, whose message is the XML), or as collected by a
// log service (Azure Monitor's Syslog table: {"SyslogMessage": "<Event>...",
// "Computer": ...}).
//
// Syslog transports cut long messages (rsyslog's default is 8 KiB, some
// collectors keep 2 KiB), and Sysmon's ParentCommandLine of a Java server
// alone can be longer. A message cut inside its EventData is recovered:
// the Data elements that arrived whole are kept, the one cut short keeps
// what arrived, and Record.Partial says so. A message cut before its
// EventData is an error.

// ParseSyslog parses one syslog line, or message, that carries a Sysmon for
// Linux event.
func ParseSyslog(line string) (*Record, error) {
	i := findEventOpen([]byte(line), 0)
	if i < 0 {
		return nil, perr("syslog", 0, 1, nil, "no Sysmon <Event> in the syslog message")
	}
	return parseSyslogXML(line[i:])
}

// HasSyslogPRI reports whether s starts with a syslog priority ("<13>" of
// an RFC 5424 line), which no XML element does: it tells such a line from
// event XML, which also starts with '<'.
func HasSyslogPRI(s string) bool {
	return len(s) > 1 && s[0] == '<' && '0' <= s[1] && s[1] <= '9'
}

// parseSyslogXML parses the event XML of a syslog message, recovering one
// that was cut short.
func parseSyslogXML(msg string) (*Record, error) {
	msg = bareEntities.Replace(strings.TrimRight(msg, " \t\r\n"))
	r, err := ParseXML([]byte(msg))
	if err == nil || strings.Contains(msg, "</Event>") {
		return r, err
	}
	closed, lost, ok := closeTruncated(msg)
	if !ok {
		return nil, err
	}
	r, rerr := ParseXML([]byte(closed))
	if rerr != nil {
		return nil, err
	}
	r.Partial = fmt.Sprintf("event XML cut short after %d bytes (syslog message truncated in transport): %s", len(msg), lost)
	return r, nil
}

// bareEntities restores the character references that Sysmon for Linux
// writes with a space where the semicolon goes: "<unknown process>" comes
// as "&lt unknown process&gt " (OTRF's Log4Shell set, Sysmon for Linux
// 1.0). An XML decoder rejects the whole event over them. The space is the
// semicolon, not text: a quoted command line followed by " | grep" comes
// as "&quot  | grep". Well-formed XML never has "&lt " (a literal '&' is
// "&amp;"), so the replacement cannot change a valid event.
var bareEntities = strings.NewReplacer(
	"&lt ", "&lt;", "&gt ", "&gt;", "&quot ", "&quot;", "&apos ", "&apos;", "&amp ", "&amp;",
)

// closeTruncated closes the elements of event XML cut short inside its
// EventData, dropping a tag or character reference that was cut in two.
// lost says what is missing.
func closeTruncated(msg string) (closed, lost string, ok bool) {
	data := strings.Index(msg, "<EventData>")
	if data < 0 || strings.Contains(msg, "</EventData>") {
		return "", "", false
	}
	s := msg
	if lt := strings.LastIndexByte(s, '<'); lt > strings.LastIndexByte(s, '>') {
		s = s[:lt] // a tag cut in two
	}
	if amp := strings.LastIndexByte(s, '&'); amp > strings.LastIndexByte(s, ';') && amp > strings.LastIndexByte(s, '>') {
		s = s[:amp] // "&quo"
	}
	var b strings.Builder
	b.WriteString(s)
	last := s[strings.LastIndexByte(s, '<')+1:]
	tag, _, _ := strings.Cut(last, ">")
	switch {
	case (strings.HasPrefix(tag, "Data ") || tag == "Data") && !strings.HasSuffix(tag, "/"):
		b.WriteString("</Data>") // cut inside the value
		lost = fmt.Sprintf("Data %q is incomplete and any after it are missing", attrOf(tag, "Name"))
	case len(s) == data+len("<EventData>"):
		lost = "every Data element is missing"
	default: // cut between elements
		lost = "the Data elements after the last whole one are missing"
		if i := strings.LastIndex(s, "<Data "); i > data {
			lost = fmt.Sprintf("the Data elements after %q are missing", attrOf(s[i:], "Name"))
		}
	}
	b.WriteString("</EventData></Event>")
	return b.String(), lost, true
}

// attrOf returns the value of attribute name in a start tag's text.
func attrOf(tag, name string) string {
	_, v, ok := strings.Cut(tag, name+`="`)
	if !ok {
		return ""
	}
	v, _, _ = strings.Cut(v, `"`)
	return v
}

// fromSyslogJSON maps a syslog record collected as JSON whose message is a
// Sysmon for Linux event, given the names of its message, program and host
// fields: Azure Monitor's Syslog table (SyslogMessage, ProcessName,
// Computer) or a journal export (MESSAGE, SYSLOG_IDENTIFIER, _HOSTNAME).
func fromSyslogJSON(v any, msgKey, programKey, hostKey string) (*Record, error) {
	msg := pathString(v, msgKey)
	i := findEventOpen([]byte(msg), 0)
	if i < 0 {
		return nil, fmt.Errorf("syslog record from %s holds no Sysmon <Event> XML (only Sysmon for Linux events are read from syslog)%s",
			syslogProgram(v, programKey), syslogHint(msg, msgKey))
	}
	r, err := parseSyslogXML(msg[i:])
	if err != nil {
		return nil, err
	}
	if r.Computer == "" {
		r.Computer = pathString(v, hostKey)
	}
	return r, nil
}

func syslogProgram(v any, key string) string {
	if p := pathString(v, key); p != "" {
		return fmt.Sprintf("%q", p)
	}
	return "an unnamed program"
}

// syslogHint names a better way to read a message webshellbeat knows.
func syslogHint(msg, msgKey string) string {
	switch {
	case strings.HasPrefix(msg, "type=AUOMS_"):
		return "; auoms (Azure's audit agent) records are Linux audit events: hunt reads them (module/auditd), decode_windows_event does not; in the beat, collect the host's audit.log with the auditd input"
	case msgKey == "MESSAGE":
		return "; export only Sysmon's entries: journalctl -t sysmon -o json"
	}
	return ""
}
