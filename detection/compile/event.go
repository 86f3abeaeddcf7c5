// Package compile turns a (pipelined) sigma.Rule into a tree of matchers,
// once: values are lowered, wildcards become prefix/suffix/contains checks
// (regexps only when "?" or "re" needs one), regexps and networks are parsed.
// Evaluation then does no parsing or formatting of rule values.
package compile

import (
	"encoding/json"
	"strconv"
	"strings"

	"webshellbeat/detection"
)

// Fields interns field paths to small integers, so that an event resolves
// and stringifies each path once however many rules read it. It is grown
// while compiling and must not change once events are evaluated.
type Fields struct {
	ids   map[string]int
	paths []string
}

// NewFields returns an empty field table.
func NewFields() *Fields { return &Fields{ids: map[string]int{}} }

func (f *Fields) id(path string) int {
	if id, ok := f.ids[path]; ok {
		return id
	}
	f.ids[path] = len(f.paths)
	f.paths = append(f.paths, path)
	return len(f.paths) - 1
}

// Len is the number of distinct field paths.
func (f *Fields) Len() int { return len(f.paths) }

// fieldVal is the per-event cache of one field.
type fieldVal struct {
	gen     uint32
	present bool // the key exists with a non-null value
	raw     any
	strs    []string // string forms: one for a scalar, one per element of an array
	lows    []string // lowercased strs, filled on first use
	lowGen  uint32
}

// Event is one document being evaluated, with caches of resolved fields.
// An Event is not safe for concurrent use; reuse it (Reset) to save
// allocations.
type Event struct {
	doc    map[string]any
	fields *Fields
	gen    uint32
	cache  []fieldVal
	kwGen  uint32
	kw     []string // every scalar of the document, for keyword searches
	kwLow  []string
}

// NewEvent returns an Event for rules compiled with fields.
func NewEvent(fields *Fields) *Event {
	return &Event{fields: fields, cache: make([]fieldVal, fields.Len())}
}

// Reset points the event at a new document and drops the caches.
func (e *Event) Reset(doc map[string]any) {
	e.doc = doc
	e.gen++
	if e.gen == 0 { // wrapped: make sure no stale entry looks current
		clear(e.cache)
		e.kwGen = 0
		e.gen = 1
	}
}

// field resolves the first present path of ids.
func (e *Event) field(ids []int) *fieldVal {
	var fv *fieldVal
	for _, id := range ids {
		fv = e.resolve(id)
		if fv.present {
			return fv
		}
	}
	return fv
}

func (e *Event) resolve(id int) *fieldVal {
	fv := &e.cache[id]
	if fv.gen == e.gen {
		return fv
	}
	fv.gen = e.gen
	fv.strs = fv.strs[:0]
	v, ok := detection.Lookup(e.doc, e.fields.paths[id])
	fv.present = ok && v != nil
	fv.raw = v
	if fv.present {
		fv.strs = appendStrings(fv.strs, v)
	}
	return fv
}

// lower returns the lowercased string forms, computed once per event.
func (e *Event) lower(fv *fieldVal) []string {
	if fv.lowGen != e.gen {
		fv.lowGen = e.gen
		fv.lows = lowerAll(fv.lows[:0], fv.strs)
	}
	return fv.lows
}

func lowerAll(dst, src []string) []string {
	for _, s := range src {
		dst = append(dst, strings.ToLower(s))
	}
	return dst
}

// keywords returns every scalar of the document (lowercased or not), for
// keyword searches, which Sigma defines over all fields.
func (e *Event) keywords(cased bool) []string {
	if e.kwGen != e.gen {
		e.kwGen = e.gen
		e.kw = walkStrings(e.kw[:0], e.doc)
		e.kwLow = lowerAll(e.kwLow[:0], e.kw)
	}
	if cased {
		return e.kw
	}
	return e.kwLow
}

func walkStrings(dst []string, v any) []string {
	if m, ok := detection.AsMap(v); ok {
		for _, x := range m {
			dst = walkStrings(dst, x)
		}
		return dst
	}
	if l, ok := v.([]any); ok {
		for _, x := range l {
			dst = walkStrings(dst, x)
		}
		return dst
	}
	return appendStrings(dst, v)
}

// appendStrings appends the string forms of a scalar or of each scalar of an
// array: Sigma compares numbers and booleans as text, and an array matches
// when any element does.
func appendStrings(dst []string, v any) []string {
	switch x := v.(type) {
	case string:
		return append(dst, x)
	case []string:
		return append(dst, x...)
	case []any:
		for _, el := range x {
			if s, ok := scalarString(el); ok {
				dst = append(dst, s)
			}
		}
		return dst
	}
	if s, ok := scalarString(v); ok {
		dst = append(dst, s)
	}
	return dst
}

func scalarString(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case bool:
		return strconv.FormatBool(x), true
	case int:
		return strconv.Itoa(x), true
	case int64:
		return strconv.FormatInt(x, 10), true
	case int32:
		return strconv.FormatInt(int64(x), 10), true
	case int16:
		return strconv.FormatInt(int64(x), 10), true
	case int8:
		return strconv.FormatInt(int64(x), 10), true
	case uint:
		return strconv.FormatUint(uint64(x), 10), true
	case uint64:
		return strconv.FormatUint(x, 10), true
	case uint32:
		return strconv.FormatUint(uint64(x), 10), true
	case uint16:
		return strconv.FormatUint(uint64(x), 10), true
	case uint8:
		return strconv.FormatUint(uint64(x), 10), true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	case float32:
		return strconv.FormatFloat(float64(x), 'f', -1, 32), true
	case json.Number:
		return string(x), true
	}
	return "", false
}

// Path returns the field path of id.
func (f *Fields) Path(id int) string { return f.paths[id] }
