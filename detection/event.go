// Package detection holds webshellbeat's detection engine. It never imports
// libbeat: it takes plain ECS documents (nested map[string]any, the shape of
// mapstr.M) so that it builds and tests fast and serves the beat, the hunt
// command and benchmarks alike.
package detection

import (
	"reflect"
	"slices"
	"strings"
)

// Lookup returns the value at a dotted ECS path ("process.parent.name") in a
// nested document. A key that itself contains dots ("winlog.event_data" stored
// flat) is found too, because documents decoded from JSON may hold either
// shape. When a document holds both shapes of one path, the nested one wins,
// as in libbeat's mapstr. A null value counts as absent, as in Sigma.
func Lookup(doc map[string]any, path string) (any, bool) {
	if v, ok := lookupNested(doc, path); ok {
		return v, true
	}
	return lookupDotted(doc, path)
}

func lookupNested(doc map[string]any, path string) (any, bool) {
	var v any = doc
	for {
		key, rest, more := strings.Cut(path, ".")
		if m, ok := AsMap(v); ok {
			v = m[key]
		} else if v, ok = ListStep(v, key); !ok {
			return nil, false
		}
		if !more {
			return v, v != nil
		}
		path = rest
	}
}

// ListStep reads key in v when v is a list, as a nested lookup goes on
// through one: a number picks the element at that position (from 0:
// "process.args.0" is a process's first argument, which SigmaHQ's auditd
// rules read as a0), any other key is read in every element that is an
// object, as Elasticsearch reads a field of an array of objects
// ("auditd.paths.name" holds the names of all of an event's PATH records).
// Values read from several elements come as one list, lists among them
// flattened. ok is false when v is no list or nothing was found.
func ListStep(v any, key string) (any, bool) {
	switch l := v.(type) {
	case []string:
		if i, ok := listIndex(key); ok && i < len(l) {
			return l[i], true
		}
		return nil, false
	case []any:
		if i, ok := listIndex(key); ok {
			if i < len(l) && l[i] != nil {
				return l[i], true
			}
			return nil, false
		}
		var out []any
		for _, el := range l {
			m, ok := AsMap(el)
			if !ok {
				continue
			}
			switch x := m[key].(type) {
			case nil:
			case []any:
				out = append(out, x...)
			case []string:
				for _, s := range x {
					out = append(out, s)
				}
			default:
				out = append(out, x)
			}
		}
		return out, len(out) > 0
	}
	return nil, false
}

// listIndex parses key as a position in a list.
func listIndex(key string) (int, bool) {
	if key == "" || len(key) > 9 {
		return 0, false
	}
	i := 0
	for _, c := range []byte(key) {
		if c < '0' || c > '9' {
			return 0, false
		}
		i = 10*i + int(c-'0')
	}
	return i, true
}

// lookupDotted tries every way of splitting path into keys.
func lookupDotted(doc map[string]any, path string) (any, bool) {
	if v, ok := doc[path]; ok && v != nil {
		return v, true
	}
	for i := 0; i < len(path); i++ {
		if path[i] != '.' {
			continue
		}
		sub, ok := AsMap(doc[path[:i]])
		if !ok {
			continue
		}
		if v, ok := lookupDotted(sub, path[i+1:]); ok {
			return v, true
		}
	}
	return nil, false
}

// LookupString returns the value at path when it is a string.
func LookupString(doc map[string]any, path string) string {
	v, _ := Lookup(doc, path)
	s, _ := v.(string)
	return s
}

// LookupStrings returns the value at path as a list of strings: a string,
// a []string, or the strings of a []any (other elements left out).
func LookupStrings(doc map[string]any, path string) []string {
	v, _ := Lookup(doc, path)
	switch l := v.(type) {
	case []string:
		return l
	case string:
		return []string{l}
	case []any:
		var out []string
		for _, x := range l {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// IsProcessStart reports whether doc is the start of a process: category
// process, type start, and not a failed start. Audit logs record an execve
// that failed (execvp trying each folder of PATH for a program) with the
// shape of a start, as auditbeat maps it, plus event.outcome failure; no
// process started then, and the record's process is the caller.
func IsProcessStart(doc map[string]any) bool {
	return slices.Contains(LookupStrings(doc, "event.category"), "process") &&
		slices.Contains(LookupStrings(doc, "event.type"), "start") &&
		LookupString(doc, "event.outcome") != "failure"
}

// ErrorDoc is the document to publish for an input (a line, a record) that
// could not be parsed, so that nothing is dropped silently: the raw text in
// event.original and the reason in error.message.
func ErrorDoc(raw string, err error) map[string]any {
	msg := "unknown error"
	if err != nil {
		msg = err.Error()
	}
	return map[string]any{
		"event": map[string]any{"kind": "event", "original": raw},
		"error": map[string]any{"message": msg},
	}
}

// Put sets the value at a dotted path, creating the intermediate objects.
func Put(doc map[string]any, path string, v any) {
	for {
		i := strings.IndexByte(path, '.')
		if i < 0 {
			doc[path] = v
			return
		}
		sub, ok := AsMap(doc[path[:i]])
		if !ok {
			sub = map[string]any{}
			doc[path[:i]] = sub
		}
		doc, path = sub, path[i+1:]
	}
}

var mapType = reflect.TypeOf(map[string]any(nil))

// AsMap returns v as a map[string]any. Named map types with that underlying
// type (libbeat's mapstr.M) are converted without copying, so documents built
// by libbeat processors can be read without importing libbeat: through a
// type assertion when the type is registered (RegisterMapType), else by
// reflection, which costs about half again a whole match of an event.
func AsMap(v any) (map[string]any, bool) {
	switch m := v.(type) {
	case map[string]any:
		return m, true
	case nil:
		return nil, false
	}
	for _, conv := range mapTypes {
		if m, ok := conv(v); ok {
			return m, true
		}
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Map && rv.Type().ConvertibleTo(mapType) {
		return rv.Convert(mapType).Interface().(map[string]any), true
	}
	return nil, false
}

// mapTypes are the registered named map types, as conversions.
var mapTypes []func(any) (map[string]any, bool)

// RegisterMapType lets AsMap convert T with a type assertion. Call it from
// an init function: registration is not safe once documents are read.
func RegisterMapType[T ~map[string]any]() {
	mapTypes = append(mapTypes, func(v any) (map[string]any, bool) {
		m, ok := v.(T)
		return map[string]any(m), ok
	})
}
