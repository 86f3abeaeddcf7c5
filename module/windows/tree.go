package windows

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/Velocidex/ordereddict"
)

// The functions in this file read the "event tree": the nested shape shared
// by the Velocidex parser (*ordereddict.Dict with typed scalars), evtx_dump
// JSON ("#attributes", "#text") and this package's XML reader. All three are
// turned into a Record by fromEventTree.

const maxDepth = 64 // nesting cap for JSON and XML trees

func dget(v any, key string) (any, bool) {
	switch m := v.(type) {
	case *ordereddict.Dict:
		if m == nil {
			return nil, false
		}
		return m.Get(key)
	case map[string]any:
		x, ok := m[key]
		return x, ok
	}
	return nil, false
}

func isDict(v any) bool {
	switch m := v.(type) {
	case *ordereddict.Dict:
		return m != nil
	case map[string]any:
		return true
	}
	return false
}

// dkeys returns the keys in document order (sorted for plain maps).
func dkeys(v any) []string {
	switch m := v.(type) {
	case *ordereddict.Dict:
		if m == nil {
			return nil
		}
		return m.Keys()
	case map[string]any:
		ks := make([]string, 0, len(m))
		for k := range m {
			ks = append(ks, k)
		}
		sort.Strings(ks)
		return ks
	}
	return nil
}

// attr finds an XML attribute: under "#attributes" (evtx_dump), as "@name"
// (the XML-to-JSON convention of Python's xmltodict and .NET's Json.NET:
// python-evtx dumps, EvtxECmd's Payload) or directly on the element
// (Velocidex).
func attr(n any, name string) (any, bool) {
	if a, ok := dget(n, "#attributes"); ok {
		if v, ok := dget(a, name); ok {
			return v, true
		}
	}
	if v, ok := dget(n, "@"+name); ok {
		return v, true
	}
	return dget(n, name)
}

// attrKey reports whether an element's key holds attributes, not a child.
func attrKey(k string) bool { return k == "#attributes" || strings.HasPrefix(k, "@") }

// text returns an element's text: the value itself for scalars, "#text"
// (evtx_dump) or "Value" (Velocidex) for elements with attributes.
func text(n any) (any, bool) {
	if !isDict(n) {
		return n, n != nil
	}
	for _, k := range []string{"#text", "Value", ""} {
		if v, ok := dget(n, k); ok {
			return v, true
		}
	}
	return nil, false
}

func textString(n any) string {
	v, _ := text(n)
	return scalarString(v, false)
}

func attrString(n any, name string) string {
	v, _ := attr(n, name)
	return scalarString(v, false)
}

// scalarString renders a leaf value. Integers are written in hex when
// asHex is set (the Velocidex parser drops the HexInt32/64 type).
func scalarString(v any, asHex bool) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case json.Number:
		// The JSON of the Velocidex parser (Velociraptor's parse_evtx,
		// dumpevtx) is read as its values were: an integer where Windows
		// writes hex is hex, a fraction is FILETIME's float seconds.
		if u, err := strconv.ParseUint(x.String(), 10, 64); err == nil {
			return uintString(u, asHex)
		}
		if f, err := x.Float64(); err == nil && strings.ContainsAny(x.String(), ".eE") {
			return scalarString(f, asHex)
		}
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	case uint8:
		return uintString(uint64(x), asHex)
	case uint16:
		return uintString(uint64(x), asHex)
	case uint32:
		return uintString(uint64(x), asHex)
	case uint64:
		return uintString(x, asHex)
	case uint:
		return uintString(uint64(x), asHex)
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case int32:
		return strconv.FormatInt(int64(x), 10)
	case float64:
		// The Velocidex parser renders FILETIME values as float seconds.
		if t, ok := floatTime(x); ok {
			return t.Format("2006-01-02T15:04:05.000000Z")
		}
		return strconv.FormatFloat(x, 'f', -1, 64)
	case []byte:
		return strings.ToUpper(hex.EncodeToString(x))
	case []string:
		return joinList(x)
	case []any:
		s := make([]string, 0, len(x))
		for _, e := range x {
			s = append(s, scalarString(e, asHex))
		}
		return joinList(s)
	}
	if isDict(v) {
		if t, ok := text(v); ok && !isDict(t) {
			return scalarString(t, asHex)
		}
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Sprint(v)
		}
		return string(b)
	}
	return fmt.Sprint(v)
}

func joinList(s []string) string {
	for len(s) > 0 && s[len(s)-1] == "" {
		s = s[:len(s)-1]
	}
	return strings.Join(s, ", ")
}

func uintString(u uint64, asHex bool) string {
	if asHex {
		return "0x" + strconv.FormatUint(u, 16)
	}
	return strconv.FormatUint(u, 10)
}

// floatTime converts Velocidex FILETIME seconds to a time, to the
// microsecond (a float64 cannot hold 100ns ticks of today's dates).
func floatTime(f float64) (time.Time, bool) {
	if math.IsNaN(f) || math.IsInf(f, 0) || f < 0 || f > 1e11 {
		return time.Time{}, false
	}
	sec := math.Floor(f)
	usec := math.Round((f - sec) * 1e6)
	return time.Unix(int64(sec), int64(usec)*1000).UTC(), true
}

// parseUint reads a decimal or 0x-prefixed hexadecimal number.
func parseUint(s string, bits int) (uint64, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, false
	}
	if len(s) > 2 && (s[:2] == "0x" || s[:2] == "0X") {
		u, err := strconv.ParseUint(s[2:], 16, bits)
		return u, err == nil
	}
	u, err := strconv.ParseUint(s, 10, bits)
	return u, err == nil
}

func uintOf(v any, bits int) (uint64, bool) {
	switch x := v.(type) {
	case uint8:
		return uint64(x), true
	case uint16:
		return uint64(x), true
	case uint32:
		return uint64(x), true
	case uint64:
		return x, bits == 64 || x < 1<<bits
	case float64:
		if x >= 0 && x == math.Trunc(x) && x < math.Ldexp(1, bits) {
			return uint64(x), true
		}
		return 0, false
	case int:
		if x >= 0 && (bits == 64 || uint64(x) < 1<<bits) {
			return uint64(x), true
		}
		return 0, false
	}
	return parseUint(scalarString(v, false), bits)
}

var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
}

// parseTime reads the time forms found in Windows event sources. Times
// without a zone are UTC.
func parseTime(v any) (time.Time, bool) {
	switch n := v.(type) {
	case float64: // the EVTX parser's
		return floatTime(n)
	case json.Number: // the same parser's JSON (Velociraptor's parse_evtx, Velocidex's dumpevtx)
		f, err := n.Float64()
		if err != nil {
			return time.Time{}, false
		}
		return floatTime(f)
	}
	s := strings.TrimSpace(scalarString(v, false))
	if s == "" {
		return time.Time{}, false
	}
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// hexField guesses whether an integer EventData field is rendered in hex by
// Windows (HexInt32/HexInt64 in the manifest). The Velocidex parser loses
// that type, so the names below were taken from the Security and Sysmon
// manifests; other channels render integers in decimal.
func hexField(channel, key string) bool {
	switch {
	case strings.EqualFold(channel, ChannelSecurity):
		switch key {
		case "ProcessId", "NewProcessId", "CallerProcessId", "Status", "SubStatus",
			"TicketOptions", "TicketEncryptionType", "FailureCode", "AccessMask", "AccessList":
			return true
		}
		for _, suf := range []string{"LogonId", "HandleId"} {
			if strings.HasSuffix(key, suf) {
				return true
			}
		}
	case strings.EqualFold(channel, ChannelSysmon):
		return key == "GrantedAccess" || key == "LogonId"
	case strings.EqualFold(channel, ChannelSysmonLinux):
		return false // a uid as LogonId, in decimal
	}
	return strings.HasSuffix(key, "LogonId") || key == "ResultCode"
}

// fromEventTree maps an evtx-shaped tree ({"Event":{"System":..,
// "EventData":..}} or the Event element itself) to a Record.
func fromEventTree(root any) (*Record, error) {
	ev := root
	if e, ok := dget(root, "Event"); ok && isDict(e) {
		ev = e
	}
	sys, ok := dget(ev, "System")
	if !ok || !isDict(sys) {
		return nil, fmt.Errorf("no Event/System element")
	}
	r := &Record{}
	if p, ok := dget(sys, "Provider"); ok {
		r.Provider = attrString(p, "Name")
		if r.Provider == "" {
			r.Provider = attrString(p, "EventSourceName")
		}
		r.ProviderGUID = normGUID(attrString(p, "Guid"))
	}
	idv, ok := dget(sys, "EventID")
	if !ok {
		return nil, fmt.Errorf("no System/EventID element")
	}
	t, _ := text(idv)
	id, ok := uintOf(t, 32)
	if !ok {
		return nil, fmt.Errorf("System/EventID %q is not a number", scalarString(t, false))
	}
	r.EventID = uint32(id)
	num := func(name string, bits int) uint64 {
		v, ok := dget(sys, name)
		if !ok {
			return 0
		}
		t, _ := text(v)
		u, _ := uintOf(t, bits)
		return u
	}
	r.Version = uint8(num("Version", 8))
	r.Level = uint8(num("Level", 8))
	r.Task = uint16(num("Task", 16))
	r.Opcode = uint8(num("Opcode", 8))
	r.Keywords = num("Keywords", 64)
	r.RecordID = num("EventRecordID", 64)
	if tc, ok := dget(sys, "TimeCreated"); ok {
		st, _ := attr(tc, "SystemTime")
		if ts, ok := parseTime(st); ok {
			r.TimeCreated = ts
		} else if st != nil {
			return nil, fmt.Errorf("System/TimeCreated/@SystemTime %q is not a time", scalarString(st, false))
		}
	}
	if c, ok := dget(sys, "Correlation"); ok {
		r.ActivityID = normGUID(attrString(c, "ActivityID"))
	}
	if e, ok := dget(sys, "Execution"); ok {
		v, _ := attr(e, "ProcessID")
		u, _ := uintOf(v, 32)
		r.ProcessID = uint32(u)
		v, _ = attr(e, "ThreadID")
		u, _ = uintOf(v, 32)
		r.ThreadID = uint32(u)
	}
	if c, ok := dget(sys, "Channel"); ok {
		r.Channel = textString(c)
	}
	if c, ok := dget(sys, "Computer"); ok {
		r.Computer = textString(c)
	}
	if s, ok := dget(sys, "Security"); ok {
		r.UserID = attrString(s, "UserID")
	}

	b := edBuilder{channel: r.Channel}
	for _, k := range dkeys(ev) {
		v, _ := dget(ev, k)
		switch {
		case k == "System" || k == "xmlns" || attrKey(k):
		case k == "EventData":
			b.eventData(v)
		case k == "RenderingInfo":
			if m, ok := dget(v, "Message"); ok {
				r.Message = textString(m)
			}
		case k == "UserData":
			b.userData(v)
		default:
			b.flatten(k, v)
		}
	}
	r.EventData = b.ed
	return r, nil
}

func normGUID(g string) string {
	g = strings.TrimSpace(g)
	if g == "" {
		return ""
	}
	return "{" + strings.ToUpper(strings.Trim(g, "{}")) + "}"
}

type edBuilder struct {
	channel string
	ed      EventData
	nparam  int
}

func (b *edBuilder) value(key string, v any) string {
	return scalarString(v, hexField(b.channel, key))
}

func (b *edBuilder) param(v any) {
	if l, ok := v.([]any); ok {
		for _, e := range l {
			b.param(e)
		}
		return
	}
	b.nparam++
	b.ed.add("param"+strconv.Itoa(b.nparam), b.value("", v))
}

func (b *edBuilder) eventData(v any) {
	if !isDict(v) {
		if v != nil {
			b.param(v)
		}
		return
	}
	for _, k := range dkeys(v) {
		x, _ := dget(v, k)
		switch {
		case attrKey(k):
		case k == "Data":
			if l, ok := x.([]any); ok {
				for _, it := range l {
					b.dataItem(it)
				}
			} else {
				b.dataItem(x)
			}
		case k == "#text":
			b.param(x)
		default:
			if isDict(x) {
				if _, ok := attr(x, "Name"); !ok {
					b.flatten(k, x)
					continue
				}
			}
			b.ed.add(k, b.value(k, x))
		}
	}
}

func (b *edBuilder) dataItem(it any) {
	if !isDict(it) {
		b.param(it)
		return
	}
	n, ok := attr(it, "Name")
	name := scalarString(n, false)
	if !ok || name == "" {
		t, _ := text(it)
		b.param(t)
		return
	}
	t, _ := text(it)
	b.ed.add(name, b.value(name, t))
}

// userData adds UserData's fields: its one root element (with its own
// xmlns) holds them, flattened by their own names.
func (b *edBuilder) userData(v any) {
	for _, k := range dkeys(v) {
		if !attrKey(k) {
			x, _ := dget(v, k)
			b.flatten(k, x)
		}
	}
}

// flatten adds the leaves under key, named by their own element names.
func (b *edBuilder) flatten(key string, v any) {
	switch {
	case isDict(v):
		for _, k := range dkeys(v) {
			if attrKey(k) {
				continue
			}
			x, _ := dget(v, k)
			if k == "#text" || k == "Value" || k == "" {
				b.flatten(key, x)
				continue
			}
			b.flatten(k, x)
		}
	default:
		if l, ok := v.([]any); ok {
			for _, e := range l {
				b.flatten(key, e)
			}
			return
		}
		if v == nil {
			return
		}
		b.ed.add(key, b.value(key, v))
	}
}
