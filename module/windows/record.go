// Package windows turns Windows event records (rendered XML, evtx_dump and
// Velocidex JSON, winlogbeat and OTRF JSON, rendered Sysmon text and EVTX
// files), and Sysmon for Linux's records in the same schema (syslog lines,
// journal and Azure Monitor exports), into one platform-neutral Record and
// maps it to ECS.
//
// The package is a pure mapping library: it does no logging, keeps no
// package-level mutable state and does not import libbeat.
package windows

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Well-known channel and provider names.
const (
	ChannelSecurity = "Security"
	ChannelSysmon   = "Microsoft-Windows-Sysmon/Operational"
	ProviderSysmon  = "Microsoft-Windows-Sysmon"
	ProviderSecAud  = "Microsoft-Windows-Security-Auditing"
	// Sysmon for Linux writes the same events in the same XML, on its own
	// channel, to syslog.
	ChannelSysmonLinux  = "Linux-Sysmon/Operational"
	ProviderSysmonLinux = "Linux-Sysmon"
)

// Record is one Windows event, independent of the format it was read from.
// Zero values mean "absent" for the numeric System fields.
type Record struct {
	Provider     string
	ProviderGUID string
	EventID      uint32
	Version      uint8
	Level        uint8
	Task         uint16
	Opcode       uint8
	Keywords     uint64
	TimeCreated  time.Time
	RecordID     uint64
	ActivityID   string
	// EVTXRecordNumber is the record header's identifier, set by ReadEVTX
	// only: the position to resume from. RecordID is System/EventRecordID.
	EVTXRecordNumber uint64
	Channel          string
	Computer         string
	ProcessID        uint32 // System/Execution ProcessID
	ThreadID         uint32 // System/Execution ThreadID
	UserID           string // System/Security UserID (a SID)

	// EventData holds the event's Data elements in document order. Data
	// without a Name is named param1, param2, ... and UserData (or any other
	// payload element) is flattened into it.
	EventData EventData

	// Message is the rendered message when the source carried one
	// (winlogbeat "message", OTRF "Message").
	Message string

	// Partial says why the record is incomplete when it was recovered from
	// a cut-short source (a syslog message truncated by the transport);
	// ECS keeps it in error.message. Empty for a whole record.
	Partial string
}

// KeyValue is one EventData entry.
type KeyValue struct {
	Key   string
	Value string
}

// EventData is an ordered list of name/value pairs.
type EventData []KeyValue

// Get returns the value for key and whether it is present.
func (d EventData) Get(key string) (string, bool) {
	for _, kv := range d {
		if kv.Key == key {
			return kv.Value, true
		}
	}
	return "", false
}

// Value returns the value for key, or "" when absent.
func (d EventData) Value(key string) string {
	v, _ := d.Get(key)
	return v
}

// Map returns the entries as a map of strings.
func (d EventData) Map() map[string]any {
	m := make(map[string]any, len(d))
	for _, kv := range d {
		m[kv.Key] = kv.Value
	}
	return m
}

// add appends key, renaming it key_2, key_3... when it is already present.
func (d *EventData) add(key, value string) {
	if _, ok := d.Get(key); !ok {
		*d = append(*d, KeyValue{Key: key, Value: value})
		return
	}
	for i := 2; ; i++ {
		k := fmt.Sprintf("%s_%d", key, i)
		if _, ok := d.Get(k); !ok {
			*d = append(*d, KeyValue{Key: k, Value: value})
			return
		}
	}
}

// IsSysmon reports whether the record comes from Sysmon, for Windows or
// for Linux: both write the same event ids with the same EventData names.
func (r *Record) IsSysmon() bool {
	return strings.EqualFold(r.Channel, ChannelSysmon) ||
		(r.Channel == "" && strings.EqualFold(r.Provider, ProviderSysmon)) ||
		r.IsLinux()
}

// IsLinux reports whether the record comes from Sysmon for Linux.
func (r *Record) IsLinux() bool {
	return strings.EqualFold(r.Channel, ChannelSysmonLinux) ||
		(r.Channel == "" && strings.EqualFold(r.Provider, ProviderSysmonLinux))
}

// IsSecurity reports whether the record comes from the Security channel.
func (r *Record) IsSecurity() bool {
	return strings.EqualFold(r.Channel, ChannelSecurity)
}

// ErrMalformed is wrapped by every ParseError so that callers can test for
// any parse failure with errors.Is.
var ErrMalformed = errors.New("malformed windows event")

// ParseError says what could not be parsed and where. Offset is a byte
// offset from the start of the input (or of the file, for EVTX) and is -1
// when unknown; Line is 1-based and 0 when unknown.
type ParseError struct {
	Format string // "xml", "json", "sysmon-text", "evtx"
	Offset int64
	Line   int
	Msg    string
	Err    error
}

func (e *ParseError) Error() string {
	var b strings.Builder
	b.WriteString("windows ")
	b.WriteString(e.Format)
	switch {
	case e.Line > 0 && e.Offset >= 0:
		fmt.Fprintf(&b, " at line %d (offset %d)", e.Line, e.Offset)
	case e.Line > 0:
		fmt.Fprintf(&b, " at line %d", e.Line)
	case e.Offset >= 0:
		fmt.Fprintf(&b, " at offset %d", e.Offset)
	}
	b.WriteString(": ")
	b.WriteString(e.Msg)
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the underlying cause and ErrMalformed.
func (e *ParseError) Unwrap() []error {
	if e.Err != nil {
		return []error{ErrMalformed, e.Err}
	}
	return []error{ErrMalformed}
}

func perr(format string, offset int64, line int, err error, msg string, args ...any) *ParseError {
	return &ParseError{Format: format, Offset: offset, Line: line, Msg: fmt.Sprintf(msg, args...), Err: err}
}

// lineOf returns the 1-based line of byte offset off in data.
func lineOf(data []byte, off int64) int {
	if off < 0 {
		return 0
	}
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	n := 1
	for _, c := range data[:off] {
		if c == '\n' {
			n++
		}
	}
	return n
}
