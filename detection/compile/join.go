package compile

import (
	"encoding/json"
	"strconv"
	"unsafe"

	"webshellbeat/detection"
)

// KeywordScan is ScanValues for a folding keyword search whose literals are
// all minLen bytes or longer: values shorter than that cannot hold one, so
// they are left out of the joined text.
func (e *Event) KeywordScan(minLen int) []string {
	if e.kwScanGen != e.gen || e.kwScanMin != minLen {
		e.kwScanGen, e.kwScanMin = e.gen, minLen
		e.kwDotted = false
		e.kwScan[0] = e.joinValues()
	}
	return e.kwScan[:]
}

// joinValues writes the scan form of every value of the document (see
// ScanValues) into the arena, each followed by a NUL byte, in one walk: the
// document's maps are the costliest part of a keyword search, so they are
// visited once, and values go straight into the text that is scanned. The
// walk also notes whether any key has a dot (Event.dottedChain).
func (e *Event) joinValues() string {
	start := len(e.arena)
	e.joinWalk(&start, e.doc)
	b := e.arena[start:]
	return unsafe.String(unsafe.SliceData(b), len(b))
}

func (e *Event) joinWalk(start *int, v any) {
	switch x := v.(type) {
	case map[string]any:
		for k, y := range x {
			e.kwDotted = e.kwDotted || hasDot(k)
			e.joinWalk(start, y)
		}
	case []any:
		for _, y := range x {
			e.joinWalk(start, y)
		}
	case string:
		e.joinString(start, x)
	case []string:
		for _, s := range x {
			e.joinString(start, s)
		}
	case nil:
	case bool:
		e.joinString(start, strconv.FormatBool(x))
	case int:
		e.joinInt(start, int64(x))
	case int64:
		e.joinInt(start, x)
	case int32:
		e.joinInt(start, int64(x))
	case uint64:
		e.ensure(start, 32)
		e.endNumber(len(e.arena), strconv.AppendUint(e.arena, x, 10))
	case uint32:
		e.joinInt(start, int64(x))
	case float64:
		e.ensure(start, 512) // the longest 'f' form of a float64 is shorter
		e.endNumber(len(e.arena), strconv.AppendFloat(e.arena, x, 'f', -1, 64))
	case json.Number:
		e.joinString(start, string(x))
	default:
		if s, ok := detection.ScalarString(x); ok { // rarer types: may allocate
			e.joinString(start, s)
			return
		}
		if m, ok := detection.AsMap(v); ok { // named map types (mapstr.M)
			e.joinWalk(start, m)
		}
	}
}

// joinString appends s (lowered unless ASCII) and a NUL to the text that
// begins at arena[*start], moving the text to a new arena when full.
func (e *Event) joinString(start *int, s string) {
	if 3*len(s) < e.kwScanMin { // too short even once lowered: a byte becomes 3 at most (invalid UTF-8 -> U+FFFD)
		return
	}
	if !isASCII(s) {
		e.lowBuf = appendLower(e.lowBuf[:0], s)
		s = unsafe.String(unsafe.SliceData(e.lowBuf), len(e.lowBuf))
	}
	if len(s) < e.kwScanMin {
		return
	}
	e.ensure(start, len(s)+1)
	e.arena = append(e.arena, s...)
	e.arena = append(e.arena, 0)
}

func (e *Event) joinInt(start *int, x int64) {
	e.ensure(start, 32)
	e.endNumber(len(e.arena), strconv.AppendInt(e.arena, x, 10))
}

// endNumber keeps a number formatted in place at arena[at:] (with its NUL)
// unless it is shorter than the keyword search needs.
func (e *Event) endNumber(at int, arena []byte) {
	if len(arena)-at < e.kwScanMin {
		e.arena = arena[:at]
		return
	}
	e.arena = append(arena, 0)
}

// ensure makes room for n more bytes after the text that begins at
// arena[*start], moving the text to a new arena when full.
func (e *Event) ensure(start *int, n int) {
	if cap(e.arena)-len(e.arena) >= n {
		return
	}
	text := e.arena[*start:]
	e.arena = make([]byte, 0, max(2*cap(e.arena), 2*(len(text)+n), 4096))
	e.arena = append(e.arena, text...) // strings handed out before stay in the old arena
	*start = 0
}
