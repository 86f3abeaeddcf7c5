// Package auditd maps Linux audit.log records (raw and ENRICHED log_format)
// to ECS documents. It is a pure library: no I/O, no wall clock, no libbeat.
//
// Two stages: a Joiner groups the lines of one event (same msg=audit(ts:seq)),
// then Map parses the group with go-libaudit's auparse, coalesces it with
// aucoalesce and builds a nested ECS map.
package auditd

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/elastic/go-libaudit/v2/auparse"

	"webshellbeat/detection"
)

// enrichedSep separates the raw record from the interpretations that auditd
// appends in log_format=ENRICHED (a 0x1D "group separator" byte, then
// UPPERCASE key=value pairs such as UID="www-data").
const enrichedSep = '\x1d'

// Sentinel errors describing why a line is not an audit record. They are
// wrapped with the details; test with errors.Is.
var (
	ErrEmptyLine   = errors.New("empty line")
	ErrNoType      = errors.New("no type= field at the start of the line")
	ErrNoHeader    = errors.New("no msg=audit(<seconds>.<millis>:<serial>) header")
	ErrBadHeader   = errors.New("malformed msg=audit(<seconds>.<millis>:<serial>) header")
	ErrUnknownType = errors.New("unknown record type")
	ErrNoRecords   = errors.New("no audit records")
)

// header is what the Joiner needs to know about one line.
type header struct {
	typ   auparse.AuditMessageType
	node  string // value of a leading node= field (name_format), if any
	id    string // "1623379200.123:456", the event identity
	seq   uint32
	stamp time.Time
	body  string // the line without node= prefix and enriched part, starting at type=
	rich  string // the enriched part after 0x1D, without the separator
}

// splitEnriched cuts line at the first 0x1D.
func splitEnriched(line string) (raw, rich string) {
	if i := strings.IndexByte(line, enrichedSep); i >= 0 {
		return line[:i], line[i+1:]
	}
	return line, ""
}

// parseHeader checks that line is an audit record and extracts its header. It
// validates the shape before handing the line to auparse.ParseLogLine, which
// assumes a leading "type=" (it slices the line blindly otherwise).
func parseHeader(line string) (header, *auparse.AuditMessage, error) {
	var h header
	line = strings.TrimRight(line, "\r\n")
	if strings.TrimSpace(line) == "" {
		return h, nil, ErrEmptyLine
	}
	raw, rich := splitEnriched(line)
	raw = strings.TrimSpace(raw)
	if strings.HasPrefix(raw, "node=") {
		sp := strings.IndexByte(raw, ' ')
		if sp < 0 {
			return h, nil, fmt.Errorf("%w (only a node= field)", ErrNoType)
		}
		h.node = raw[len("node="):sp]
		raw = strings.TrimLeft(raw[sp:], " ")
	}
	if !strings.HasPrefix(raw, "type=") {
		return h, nil, fmt.Errorf("%w (starts with %q)", ErrNoType, detection.Clip(raw, 20))
	}
	msgAt := strings.Index(raw, " msg=audit(")
	if msgAt < 0 {
		return h, nil, ErrNoHeader
	}
	typName := raw[len("type="):msgAt]
	if typName == "" || strings.ContainsAny(typName, " \t=") {
		return h, nil, fmt.Errorf("%w %q", ErrUnknownType, detection.Clip(typName, 30))
	}
	open := msgAt + len(" msg=audit(")
	closeAt := strings.IndexByte(raw[open:], ')')
	if closeAt < 0 {
		return h, nil, fmt.Errorf("%w: no closing parenthesis", ErrBadHeader)
	}
	h.id = raw[open : open+closeAt]
	msg, err := auparse.ParseLogLine(raw)
	if err != nil {
		if _, terr := auparse.GetAuditMessageType(typName); terr != nil {
			return h, nil, fmt.Errorf("%w %q", ErrUnknownType, detection.Clip(typName, 30))
		}
		return h, nil, fmt.Errorf("%w: audit(%s): %v", ErrBadHeader, detection.Clip(h.id, 40), err)
	}
	h.typ = msg.RecordType
	h.seq = msg.Sequence
	h.stamp = msg.Timestamp
	h.body = raw
	h.rich = rich
	return h, msg, nil
}

// parseEnriched parses the interpretations auditd appends after 0x1D:
// KEY=value, KEY="quoted value" or KEY={ braced value }. Keys are returned
// as written (upper case).
func parseEnriched(s string) map[string]string {
	if s == "" {
		return nil
	}
	out := make(map[string]string, 8)
	for {
		s = strings.TrimLeft(s, " \t")
		if s == "" {
			return out
		}
		eq := strings.IndexByte(s, '=')
		if eq <= 0 {
			return out
		}
		key := s[:eq]
		if sp := strings.LastIndexAny(key, " \t"); sp >= 0 {
			key = key[sp+1:]
		}
		s = s[eq+1:]
		var val string
		switch {
		case strings.HasPrefix(s, `"`):
			end := strings.IndexByte(s[1:], '"')
			if end < 0 {
				val, s = s[1:], ""
			} else {
				val, s = s[1:1+end], s[2+end:]
			}
		case strings.HasPrefix(s, "{"):
			end := strings.IndexByte(s, '}')
			if end < 0 {
				val, s = strings.TrimSpace(s[1:]), ""
			} else {
				val, s = strings.TrimSpace(s[1:end]), s[end+1:]
			}
		default:
			end := strings.IndexAny(s, " \t")
			if end < 0 {
				val, s = s, ""
			} else {
				val, s = s[:end], s[end:]
			}
		}
		if key != "" {
			out[key] = val
		}
	}
}
