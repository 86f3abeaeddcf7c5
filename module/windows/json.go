package windows

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/Velocidex/ordereddict"
)

// JSONShape names the JSON document shapes ParseJSON recognises.
type JSONShape int

const (
	ShapeUnknown    JSONShape = iota
	ShapeEVTX                 // evtx_dump / Velocidex: {"Event":{"System":..,"EventData":..}}
	ShapeWinlogbeat           // winlogbeat / ECS: {"winlog":{"event_id":..}} or dotted "winlog.event_id"
	ShapeOTRF                 // OTRF Security-Datasets: flat, top-level EventID, Channel, Hostname
	// ShapeWinlogbeat6 is winlogbeat 6.x, before ECS: top-level event_id,
	// log_name, source_name, computer_name, event_data (many OTRF
	// Security-Datasets files, e.g. empire_enable_rdp).
	ShapeWinlogbeat6
	// ShapeSyslog is a syslog record collected as JSON, whose message is a
	// Sysmon for Linux event: Azure Monitor's Syslog table (SyslogMessage,
	// Computer, ProcessName), as in OTRF's Log4Shell set.
	ShapeSyslog
	// ShapeJournal is a systemd journal entry as `journalctl -o json`
	// exports it (MESSAGE, SYSLOG_IDENTIFIER, _HOSTNAME), whose message is a
	// Sysmon for Linux event: systems without a syslog daemon (Debian 12)
	// keep Sysmon's events in the journal only.
	ShapeJournal
	// ShapePowerShell is Get-WinEvent's EventLogRecord as ConvertTo-Json
	// and Export-Csv write it (Id, LogName, MachineName, TimeCreated,
	// Message, Properties): see powershell.go.
	ShapePowerShell
)

func (s JSONShape) String() string {
	switch s {
	case ShapeEVTX:
		return "evtx"
	case ShapeWinlogbeat:
		return "winlogbeat"
	case ShapeOTRF:
		return "otrf"
	case ShapeWinlogbeat6:
		return "winlogbeat6"
	case ShapeSyslog:
		return "syslog"
	case ShapeJournal:
		return "journal"
	case ShapePowerShell:
		return "powershell"
	}
	return "unknown"
}

// DetectJSON tells which shape a decoded JSON object has.
func DetectJSON(m any) JSONShape {
	if ev, ok := dget(m, "Event"); ok && isDict(ev) {
		if _, ok := dget(ev, "System"); ok {
			return ShapeEVTX
		}
	}
	if _, ok := dget(m, "System"); ok {
		return ShapeEVTX
	}
	if w, ok := dget(m, "winlog"); ok && isDict(w) {
		return ShapeWinlogbeat
	}
	if _, ok := dget(m, "winlog.event_id"); ok {
		return ShapeWinlogbeat
	}
	_, hasID := dget(m, "EventID")
	if _, ok := dget(m, "EventId"); ok { // EvtxECmd's
		hasID = true
	}
	_, hasCh := dget(m, "Channel")
	_, hasSrc := dget(m, "SourceName")
	_, hasLog := dget(m, "EventLog") // Log Analytics' Event table
	if hasID && (hasCh || hasSrc || hasLog) {
		return ShapeOTRF
	}
	_, hasID = dget(m, "event_id")
	_, hasCh = dget(m, "log_name")
	_, hasSrc = dget(m, "source_name")
	if hasID && (hasCh || hasSrc) {
		return ShapeWinlogbeat6
	}
	if msg, ok := dget(m, "SyslogMessage"); ok {
		if _, ok := msg.(string); ok {
			return ShapeSyslog
		}
	}
	if isPowerShellEvent(m) {
		return ShapePowerShell
	}
	if msg, ok := dget(m, "MESSAGE"); ok {
		_, hasTime := dget(m, "__REALTIME_TIMESTAMP")
		_, hasIdent := dget(m, "SYSLOG_IDENTIFIER")
		if _, ok := msg.(string); ok && (hasTime || hasIdent) {
			return ShapeJournal
		}
	}
	return ShapeUnknown
}

// ParseJSON parses one JSON event in any of the three shapes (see
// JSONShape). A top-level array holding one object is accepted (winlogbeat
// golden files); use ReadJSON for streams.
func ParseJSON(data []byte) (*Record, error) {
	v, err := DecodeJSON(data)
	if err != nil {
		return nil, err
	}
	return FromJSONValue(v)
}

// DecodeJSON decodes one JSON text holding one event: an object, a
// top-level array of one, or a search response with one hit. Objects keep
// their key order; numbers are json.Number.
func DecodeJSON(data []byte) (any, error) {
	v, err := decodeOneJSON(data)
	if err != nil {
		return nil, err
	}
	if l, ok := v.([]any); ok {
		if len(l) != 1 {
			return nil, perr("json", 0, 1, nil, "top-level array holds %d values, want 1 event; use ReadJSON", len(l))
		}
		v = l[0]
	}
	if hits, ok := SearchHits(v); ok {
		if len(hits) != 1 {
			return nil, perr("json", 0, 1, nil, "search response holds %d hits, want 1 event; use ReadJSON", len(hits))
		}
		v = hits[0]
	}
	return v, nil
}

// SearchHits returns the hits of an Elasticsearch or OpenSearch _search
// response ({"hits":{"hits":[...]}}); FromJSONValue reads a hit by its
// _source, so winlogbeat data pulled back out of a cluster can be hunted as
// it was indexed.
func SearchHits(v any) ([]any, bool) {
	outer, ok := dget(v, "hits")
	if !ok || !isDict(outer) {
		return nil, false
	}
	hits, ok := dget(outer, "hits")
	l, isList := hits.([]any)
	return l, ok && isList
}

// Document returns the event document of a decoded JSON value: an
// Elasticsearch or OpenSearch hit (a _search hit, an elasticdump line) is
// read by its _source.
func Document(v any) any {
	if src, ok := dget(v, "_source"); ok && isDict(src) {
		return src
	}
	return v
}

// IsEvent reports whether a decoded JSON value (see ReadJSONValues) is a
// Windows event in one of the shapes FromJSONValue maps.
func IsEvent(v any) bool { return DetectJSON(Document(v)) != ShapeUnknown }

// FromJSONValue maps one decoded JSON value (see ReadJSONValues).
func FromJSONValue(v any) (*Record, error) {
	v = Document(v)
	if !isDict(v) {
		return nil, perr("json", -1, 0, nil, "event is a JSON %s, want an object", jsonKind(v))
	}
	var (
		r   *Record
		err error
	)
	switch s := DetectJSON(v); s {
	case ShapeEVTX:
		r, err = fromEventTree(v)
	case ShapeWinlogbeat:
		r, err = fromBeat(v, &winlogbeatLayout)
	case ShapeWinlogbeat6:
		r, err = fromBeat(v, &winlogbeat6Layout)
	case ShapeOTRF:
		r, err = fromOTRF(v)
	case ShapeSyslog:
		r, err = fromSyslogJSON(v, "SyslogMessage", "ProcessName", "Computer")
	case ShapeJournal:
		r, err = fromSyslogJSON(v, "MESSAGE", "SYSLOG_IDENTIFIER", "_HOSTNAME")
	case ShapePowerShell:
		r, err = fromPowerShell(v)
	default:
		return nil, perr("json", -1, 0, nil, "unrecognised event shape: no Event.System, winlog, EventID+Channel, event_id+log_name, SyslogMessage, MESSAGE or Id+LogName+Message (keys: %s)", keyList(v))
	}
	if err != nil {
		return nil, perr("json", -1, 0, nil, "%s", err.Error())
	}
	return r, nil
}

// ParseEVTXJSON parses the JSON that evtx_dump and the Velocidex parser
// write for one record.
func ParseEVTXJSON(data []byte) (*Record, error) {
	v, err := decodeOneJSON(data)
	if err != nil {
		return nil, err
	}
	if DetectJSON(v) != ShapeEVTX {
		return nil, perr("json", 0, 1, nil, "not an EVTX JSON record: no Event.System object")
	}
	return FromJSONValue(v)
}

// FromEVTXMap maps an already decoded EVTX JSON record. Plain maps lose the
// document order, so EventData is sorted by name.
func FromEVTXMap(m map[string]any) (*Record, error) {
	r, err := fromEventTree(m)
	if err != nil {
		return nil, perr("json", -1, 0, nil, "%s", err.Error())
	}
	return r, nil
}

// ParseWinlogbeatJSON parses a winlogbeat (ECS) document.
func ParseWinlogbeatJSON(data []byte) (*Record, error) {
	v, err := decodeOneJSON(data)
	if err != nil {
		return nil, err
	}
	if l, ok := v.([]any); ok && len(l) == 1 {
		v = l[0]
	}
	if DetectJSON(v) != ShapeWinlogbeat {
		return nil, perr("json", 0, 1, nil, "not a winlogbeat document: no winlog object")
	}
	return FromJSONValue(v)
}

// ReadJSON reads a stream of JSON events (newline-delimited, concatenated
// pretty-printed objects, or top-level arrays of objects) and calls fn for
// each, with the byte offset where it starts. An event that decodes but
// does not map is passed as an error and reading goes on; a JSON syntax
// error ends the stream (the decoder cannot find the next value) after
// being passed to fn. ReadJSON returns the first error fn returns.
func ReadJSON(r io.Reader, fn func(rec *Record, offset int64, err error) error) error {
	return ReadJSONValues(r, func(v any, off int64, err error) error {
		if err != nil {
			return fn(nil, off, err)
		}
		rec, err := FromJSONValue(v)
		if pe, ok := err.(*ParseError); ok && pe.Offset < 0 {
			pe.Offset = off
		}
		return fn(rec, off, err)
	})
}

// ReadJSONValues is ReadJSON before mapping: it calls fn with each value
// that may be an event (objects keep their key order, numbers are
// json.Number), or with why the stream cannot be read on.
func ReadJSONValues(r io.Reader, fn func(v any, offset int64, err error) error) error {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	for {
		off := dec.InputOffset()
		tok, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fn(nil, off, perr("json", off, 0, err, "invalid JSON"))
		}
		var vals []any
		switch t := tok.(type) {
		case json.Delim:
			off = dec.InputOffset() - 1 // the delimiter itself, past any whitespace
			switch t {
			case '{':
				v, err := decodeObject(dec, 1)
				if err != nil {
					return fn(nil, off, jsonErr(dec.InputOffset(), nil, err))
				}
				vals = []any{v}
				if hits, ok := SearchHits(v); ok {
					vals = hits
				}
			case '[':
				l, err := decodeArray(dec, 1)
				if err != nil {
					return fn(nil, off, jsonErr(dec.InputOffset(), nil, err))
				}
				vals = l
			default:
				return fn(nil, off, perr("json", off, 0, nil, "unexpected %q", t.String()))
			}
		default:
			if err := fn(nil, off, perr("json", off, 0, nil, "top-level %s value, want an event object", jsonKind(t))); err != nil {
				return err
			}
			continue
		}
		for _, v := range vals {
			if err := fn(v, off, nil); err != nil {
				return err
			}
		}
	}
}

// decodeOneJSON decodes exactly one JSON value, keeping object key order.
func decodeOneJSON(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := decodeValue(dec, 0)
	if err != nil {
		return nil, jsonErr(dec.InputOffset(), data, err)
	}
	if tok, err := dec.Token(); err != io.EOF {
		off := dec.InputOffset()
		if err != nil {
			return nil, jsonErr(off, data, err)
		}
		return nil, perr("json", off, lineOf(data, off), nil, "trailing data after the event (%v); use ReadJSON for streams", tok)
	}
	return v, nil
}

func jsonErr(off int64, data []byte, err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		off = se.Offset
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return perr("json", off, lineOf(data, off), nil, "unexpected end of input")
	}
	line := 0
	if data != nil {
		line = lineOf(data, off)
	}
	return perr("json", off, line, nil, "invalid JSON: %s", strings.TrimPrefix(err.Error(), "json: "))
}

func decodeValue(dec *json.Decoder, depth int) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	return valueFromToken(dec, tok, depth)
}

func valueFromToken(dec *json.Decoder, tok json.Token, depth int) (any, error) {
	if d, ok := tok.(json.Delim); ok {
		if depth >= maxDepth {
			return nil, fmt.Errorf("values nested deeper than %d", maxDepth)
		}
		switch d {
		case '{':
			return decodeObject(dec, depth+1)
		case '[':
			return decodeArray(dec, depth+1)
		}
		return nil, fmt.Errorf("unexpected %q", d.String())
	}
	return tok, nil
}

func decodeObject(dec *json.Decoder, depth int) (*ordereddict.Dict, error) {
	m := ordereddict.NewDict()
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, ok := tok.(string)
		if !ok {
			return nil, fmt.Errorf("object key is %v", tok)
		}
		v, err := decodeValue(dec, depth)
		if err != nil {
			return nil, err
		}
		m.Set(key, v)
	}
	if _, err := dec.Token(); err != nil { // '}'
		return nil, err
	}
	return m, nil
}

func decodeArray(dec *json.Decoder, depth int) ([]any, error) {
	l := []any{}
	for dec.More() {
		v, err := decodeValue(dec, depth)
		if err != nil {
			return nil, err
		}
		l = append(l, v)
	}
	if _, err := dec.Token(); err != nil { // ']'
		return nil, err
	}
	return l, nil
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case json.Number, float64:
		return "number"
	case bool:
		return "boolean"
	case []any:
		return "array"
	}
	if isDict(v) {
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

func keyList(v any) string {
	ks := dkeys(v)
	if len(ks) > 8 {
		ks = append(ks[:8:8], "...")
	}
	return strings.Join(ks, ", ")
}

// path looks a dotted path up in nested objects, and also as a literal
// dotted key at any level ("winlog.event_id" flattened documents).
func path(v any, p string) (any, bool) {
	if x, ok := dget(v, p); ok {
		return x, true
	}
	if !strings.Contains(p, ".") {
		return nil, false
	}
	// Try the longest literal prefixes first: "winlog.event_data" + "X".
	parts := strings.Split(p, ".")
	for i := len(parts) - 1; i >= 1; i-- {
		if x, ok := dget(v, strings.Join(parts[:i], ".")); ok && isDict(x) {
			if y, ok := path(x, strings.Join(parts[i:], ".")); ok {
				return y, true
			}
		}
	}
	return nil, false
}

func pathString(v any, p string) string {
	x, _ := path(v, p)
	return scalarString(x, false)
}

// beatLayout names where a winlogbeat version puts each part of a record;
// a field with two paths is read from the first that is there.
type beatLayout struct {
	eventID, computer, provider         [2]string
	channel, providerGUID, activityID   string
	userID, recordID, version, pid, tid string
	data                                [2]string // event_data, user_data
}

// winlogbeatLayout is winlogbeat 7 and later (ECS).
var winlogbeatLayout = beatLayout{
	eventID:  [2]string{"winlog.event_id", "event.code"},
	computer: [2]string{"winlog.computer_name", "host.name"},
	provider: [2]string{"winlog.provider_name", "event.provider"},
	channel:  "winlog.channel", providerGUID: "winlog.provider_guid", activityID: "winlog.activity_id",
	userID: "winlog.user.identifier", recordID: "winlog.record_id", version: "winlog.version",
	pid: "winlog.process.pid", tid: "winlog.process.thread.id",
	data: [2]string{"winlog.event_data", "winlog.user_data"},
}

// winlogbeat6Layout is winlogbeat 6.x, whose fields sit at the top level.
var winlogbeat6Layout = beatLayout{
	eventID:  [2]string{"event_id"},
	computer: [2]string{"computer_name", "host.name"},
	provider: [2]string{"source_name"},
	channel:  "log_name", providerGUID: "provider_guid", activityID: "activity_id",
	userID: "user.identifier", recordID: "record_number", version: "version",
	pid: "process_id", tid: "thread_id",
	data: [2]string{"event_data", "user_data"},
}

// fromBeat maps a document that winlogbeat wrote, with layout l.
func fromBeat(v any, l *beatLayout) (*Record, error) {
	r := &Record{}
	first := func(ps [2]string) string {
		if s := pathString(v, ps[0]); s != "" || ps[1] == "" {
			return s
		}
		return pathString(v, ps[1])
	}
	idv, ok := path(v, l.eventID[0])
	if !ok && l.eventID[1] != "" {
		idv, ok = path(v, l.eventID[1])
	}
	id, ok2 := uintOf(idv, 32)
	if !ok || !ok2 {
		return nil, fmt.Errorf("%s %q is missing or not a number", l.eventID[0], scalarString(idv, false))
	}
	r.EventID = uint32(id)
	r.Channel = pathString(v, l.channel)
	r.Computer = first(l.computer)
	r.Provider = first(l.provider)
	r.ProviderGUID = normGUID(pathString(v, l.providerGUID))
	r.ActivityID = normGUID(pathString(v, l.activityID))
	r.UserID = pathString(v, l.userID)
	r.Message = pathString(v, "message")
	num := func(p string, bits int) uint64 {
		x, _ := path(v, p)
		u, _ := uintOf(x, bits)
		return u
	}
	r.RecordID = num(l.recordID, 64)
	r.Version = uint8(num(l.version, 8))
	r.ProcessID = uint32(num(l.pid, 32))
	r.ThreadID = uint32(num(l.tid, 32))
	if ts, ok := path(v, "@timestamp"); ok {
		t, ok := parseTime(ts)
		if !ok {
			return nil, fmt.Errorf("@timestamp %q is not a time", scalarString(ts, false))
		}
		r.TimeCreated = t
	}
	b := edBuilder{channel: r.Channel}
	for _, p := range l.data {
		if ed, ok := path(v, p); ok && isDict(ed) {
			for _, k := range dkeys(ed) {
				x, _ := dget(ed, k)
				if k == "xml_name" {
					continue
				}
				b.flatten(k, x)
			}
		}
	}
	r.EventData = b.ed
	backfill(r, v)
	return r, nil
}

// backfill restores EventData fields that winlogbeat's ingest pipelines
// move into ECS fields (the Security and Sysmon pipelines remove
// NewProcessName, Image, ... once copied), so that the Record looks like
// the original event.
func backfill(r *Record, v any) {
	hexPid := func(s string) string {
		if u, ok := parseUint(s, 64); ok {
			return "0x" + strconv.FormatUint(u, 16)
		}
		return ""
	}
	braces := func(s string) string {
		if s == "" {
			return ""
		}
		return "{" + strings.Trim(s, "{}") + "}"
	}
	type fill struct {
		key, path string
		conv      func(string) string
	}
	var fills []fill
	switch {
	case r.IsSecurity() && r.EventID == 4688:
		fills = []fill{
			{"NewProcessId", "process.pid", hexPid},
			{"NewProcessName", "process.executable", nil},
			{"ProcessId", "process.parent.pid", hexPid},
			{"CommandLine", "process.command_line", nil},
			{"ParentProcessName", "process.parent.executable", nil},
		}
	case r.IsSysmon() && (r.EventID == 1 || r.EventID == 3 || r.EventID == 11):
		fills = []fill{
			{"ProcessGuid", "process.entity_id", braces},
			{"ProcessId", "process.pid", nil},
			{"Image", "process.executable", nil},
		}
		switch r.EventID {
		case 1:
			fills = append(fills,
				fill{"CommandLine", "process.command_line", nil},
				fill{"CurrentDirectory", "process.working_directory", nil},
				fill{"ParentProcessGuid", "process.parent.entity_id", braces},
				fill{"ParentProcessId", "process.parent.pid", nil},
				fill{"ParentImage", "process.parent.executable", nil},
				fill{"ParentCommandLine", "process.parent.command_line", nil},
				fill{"OriginalFileName", "process.pe.original_file_name", nil},
			)
		case 3:
			fills = append(fills,
				fill{"Protocol", "network.transport", nil},
				fill{"SourceIp", "source.ip", nil},
				fill{"SourcePort", "source.port", nil},
				fill{"DestinationIp", "destination.ip", nil},
				fill{"DestinationPort", "destination.port", nil},
				fill{"DestinationHostname", "destination.domain", nil},
			)
		case 11:
			fills = append(fills, fill{"TargetFilename", "file.path", nil})
		}
		if _, ok := r.EventData.Get("User"); !ok {
			if n := pathString(v, "user.name"); n != "" {
				if d := pathString(v, "user.domain"); d != "" {
					n = d + `\` + n
				}
				r.EventData.add("User", n)
			}
		}
	}
	for _, f := range fills {
		if _, ok := r.EventData.Get(f.key); ok {
			continue
		}
		s := pathString(v, f.path)
		if s != "" && f.conv != nil {
			s = f.conv(s)
		}
		if s != "" {
			r.EventData.add(f.key, s)
		}
	}
}

// otrfMeta are the top-level keys of OTRF's flat (NXLog export) records that
// are not event data.
var otrfMeta = map[string]bool{
	"SourceName": true, "ProviderGuid": true, "Level": true, "Keywords": true, "Channel": true,
	"Hostname": true, "TimeCreated": true, "@timestamp": true, "EventID": true, "Message": true,
	"Task": true, "EventTime": true, "EventReceivedTime": true, "SourceModuleName": true,
	"SourceModuleType": true, "Severity": true, "SeverityValue": true, "ExecutionProcessID": true,
	"ThreadID": true, "RecordNumber": true, "Version": true, "Opcode": true, "OpcodeValue": true,
	"EventType": true, "Category": true, "Domain": true, "AccountName": true, "UserID": true,
	"AccountType": true, "host": true, "port": true, "@version": true, "tags": true, "EventIdx": false,
	"ActivityID": true, "RelatedActivityID": true,
}

// laMeta are the columns of Log Analytics' SecurityEvent, Event and
// WindowsEvent tables (rows as Microsoft Sentinel's API and "az monitor
// log-analytics query" return them; every table has TimeGenerated) that are
// not event data: the agent's, and those the table computes (Account,
// Process, ...) from the event data it also holds.
var laMeta = map[string]bool{
	"TenantId": true, "SourceSystem": true, "TimeGenerated": true, "Computer": true, "EventSourceName": true,
	"Activity": true, "Type": true, "MG": true, "ManagementGroupName": true, "_ResourceId": true,
	"EventOriginId": true, "AzureDeploymentID": true, "Role": true, "SourceComputerId": true,
	"EventLevel": true, "EventLevelName": true, "EventLog": true, "Source": true, "RenderedDescription": true,
	"ParameterXml": true, "EventCategory": true, "UserName": true, "TimeCollected": true,
	"Account": true, "SubjectAccount": true, "TargetAccount": true, "Process": true, "Provider": true,
	"EventRecordId": true, "SystemProcessId": true, "SystemThreadId": true, "SystemUserId": true, "RawEventData": true,
}

// fieldReaders returns readers of a flat object's fields: as text, and as
// an unsigned number of bits bits (0 when absent or no number).
func fieldReaders(v any) (s func(k string) string, n func(k string, bits int) uint64) {
	s = func(k string) string {
		x, _ := dget(v, k)
		return scalarString(x, false)
	}
	n = func(k string, bits int) uint64 {
		x, _ := dget(v, k)
		u, _ := uintOf(x, bits)
		return u
	}
	return s, n
}

func fromOTRF(v any) (*Record, error) {
	r := &Record{}
	idv, ok := dget(v, "EventID")
	if !ok {
		idv, _ = dget(v, "EventId") // EvtxECmd's
	}
	id, ok := uintOf(idv, 32)
	if !ok {
		return nil, fmt.Errorf("EventID %q is not a number", scalarString(idv, false))
	}
	r.EventID = uint32(id)
	s, n := fieldReaders(v)
	first := func(keys ...string) string {
		for _, k := range keys {
			if x := s(k); x != "" {
				return x
			}
		}
		return ""
	}
	r.Channel = first("Channel", "EventLog")
	r.Provider = first("SourceName", "EventSourceName", "Provider", "Source")
	r.ProviderGUID = normGUID(s("ProviderGuid"))
	r.Computer = first("Hostname", "Computer")
	r.Message = s("Message")
	r.Level = uint8(n("Level", 8))
	r.Task = uint16(n("Task", 16))
	r.Version = uint8(n("Version", 8))
	r.Opcode = uint8(n("OpcodeValue", 8))
	r.Keywords = n("Keywords", 64)
	r.RecordID = max(n("RecordNumber", 64), n("EventRecordId", 64), n("EventRecordID", 64))
	r.ProcessID = uint32(max(n("ExecutionProcessID", 32), n("SystemProcessId", 32)))
	r.ThreadID = uint32(max(n("ThreadID", 32), n("SystemThreadId", 32), n("ThreadId", 32)))
	if _, ok := dget(v, "Payload"); ok {
		r.ProcessID = uint32(n("ProcessId", 32)) // EvtxECmd's System ProcessID
	}
	r.ActivityID = normGUID(s("ActivityID"))
	if u := first("UserID", "SystemUserId"); strings.HasPrefix(u, "S-") {
		r.UserID = u
	}
	for _, k := range []string{"TimeCreated", "@timestamp", "EventTime", "TimeGenerated"} {
		if x, ok := dget(v, k); ok {
			if t, ok := parseTime(x); ok {
				r.TimeCreated = t
				break
			}
		}
	}
	b := edBuilder{channel: r.Channel}
	if err := logAnalyticsEventData(&b, v); err != nil {
		return nil, err
	}
	_, logAnalytics := dget(v, "TimeGenerated")
	_, velociraptor := dget(v, "OSPath")
	payload, evtxECmd := dget(v, "Payload")
	if evtxECmd {
		if err := evtxECmdPayload(&b, payload); err != nil {
			return nil, err
		}
	}
	for _, k := range dkeys(v) {
		if otrfMeta[k] || logAnalytics && laMeta[k] || evtxECmd && evtxECmdMeta[k] || velociraptor && velociraptorMeta[k] || k == "EventData" {
			continue
		}
		x, _ := dget(v, k)
		if _, dup := b.ed.Get(k); !dup {
			b.flatten(k, x)
		}
	}
	r.EventData = b.ed
	if r.TimeCreated.IsZero() {
		// Sysmon's own UtcTime, else no time to order or join the event by.
		ut, _ := r.EventData.Get("UtcTime")
		t, ok := parseTime(ut)
		if !ok || !r.IsSysmon() {
			return nil, fmt.Errorf("no event time: none of TimeCreated, @timestamp, EventTime, TimeGenerated holds an RFC 3339 time")
		}
		r.TimeCreated = t
	}
	return r, nil
}

// evtxECmdMeta are the fields of Eric Zimmerman's EvtxECmd (the JSON and
// CSV it writes for KAPE) besides Payload, the event's data: its map's
// summaries (PayloadData1-6, MapDescription, ...) and the System values,
// whose ProcessId is the logging process's, not the event data's.
var evtxECmdMeta = map[string]bool{
	"Payload": true, "PayloadData1": true, "PayloadData2": true, "PayloadData3": true, "PayloadData4": true,
	"PayloadData5": true, "PayloadData6": true, "MapDescription": true, "UserName": true, "RemoteHost": true,
	"ExecutableInfo": true, "ChunkNumber": true, "EventId": true, "EventRecordId": true, "ProcessId": true,
	"ThreadId": true, "Provider": true, "Computer": true, "UserId": true, "SourceFile": true,
	"ExtraDataOffset": true, "HiddenRecord": true, "RecordNumber": true, "TimeCreated": true, "Level": true,
	"Keywords": true, "Channel": true,
}

// velociraptorMeta are the fields of Velociraptor's event log artifacts
// (Windows.EventLogs.EvtxHunter: EventTime, Computer, Channel, Provider,
// EventID, EventRecordID, UserSID, Username, EventData, UserData, Message,
// OSPath) besides the event data (EventData, and UserData, flattened).
var velociraptorMeta = map[string]bool{
	"Computer": true, "Provider": true, "EventRecordID": true, "UserSID": true, "Username": true,
	"OSPath": true,
}

// evtxECmdPayload reads EvtxECmd's Payload: the event's EventData (or
// UserData) as JSON text, in Json.NET's XML convention ("@Name", "#text").
func evtxECmdPayload(b *edBuilder, payload any) error {
	text, ok := payload.(string)
	if !ok || strings.TrimSpace(text) == "" {
		return nil
	}
	v, err := DecodeJSON([]byte(text))
	if err != nil {
		return fmt.Errorf("EvtxECmd Payload: %w", err)
	}
	if ed, ok := dget(v, "EventData"); ok {
		b.eventData(ed)
		return nil
	}
	if ud, ok := dget(v, "UserData"); ok {
		b.userData(ud)
		return nil
	}
	return fmt.Errorf("EvtxECmd Payload holds neither EventData nor UserData")
}

// logAnalyticsEventData reads the "EventData" column of Log Analytics'
// SecurityEvent and Event tables: the event's <EventData> as XML text (in
// the Event table wrapped in a <DataItem>). It holds every field, where the
// table's own columns hold only those the table names.
func logAnalyticsEventData(b *edBuilder, v any) error {
	x, _ := dget(v, "EventData")
	text, ok := x.(string)
	if ok && strings.HasPrefix(strings.TrimSpace(text), "{") {
		// WindowsEvent's object as text: a CSV export writes dynamic
		// columns as JSON.
		obj, err := DecodeJSON([]byte(text))
		if err != nil {
			return fmt.Errorf("EventData column: %w", err)
		}
		x, ok = obj, false
	}
	if !ok || !strings.HasPrefix(strings.TrimSpace(text), "<") {
		if x != nil && !ok {
			// An object: WindowsEvent's names and values, OTRF's nested
			// layout, or Data items ("@Name", "#text").
			b.eventData(x)
		}
		return nil
	}
	root := "EventData"
	if strings.HasPrefix(strings.TrimSpace(text), "<DataItem") {
		root = "DataItem"
	}
	tree, err := decodeXMLRoot([]byte(text), root)
	if err != nil {
		return fmt.Errorf("EventData column: %w", err)
	}
	ed, _ := dget(tree, "Event") // the tree names its root element Event
	if root == "DataItem" {
		if ed, _ = dget(ed, "EventData"); ed == nil {
			return fmt.Errorf("EventData column: <DataItem> holds no <EventData>")
		}
	}
	b.eventData(ed)
	return nil
}

// Plain returns a decoded JSON value with its objects as map[string]any and
// its arrays' elements likewise, for readers of documents that are not
// Windows events (module/ecs).
func Plain(v any) any {
	switch x := v.(type) {
	case *ordereddict.Dict:
		m := make(map[string]any, x.Len())
		for _, k := range x.Keys() {
			val, _ := x.Get(k)
			m[k] = Plain(val)
		}
		return m
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = Plain(e)
		}
		return out
	}
	return v
}
