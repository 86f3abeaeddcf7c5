// Package compile turns a (pipelined) sigma.Rule into a tree of matchers,
// once: values are lowered, wildcards become prefix/suffix/contains checks
// (regexps only when "?" or "re" needs one), regexps and networks are parsed.
// Evaluation then does no parsing or formatting of rule values.
package compile

import (
	"encoding/binary"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
	"unsafe"

	"webshellbeat/detection"
)

// Fields interns field paths to small integers, so that an event resolves
// and stringifies each path once however many rules read it. It is grown
// while compiling and must not change once events are evaluated.
type Fields struct {
	ids   map[string]int
	paths []string
	// parent is the id of a path's prefix ("process.parent" for
	// "process.parent.name"; -1 at the top) and seg its last key: an event
	// resolves each prefix once, and then each field with one map lookup.
	parent []int
	seg    []string
}

// NewFields returns an empty field table.
func NewFields() *Fields { return &Fields{ids: map[string]int{}} }

func (f *Fields) id(path string) int {
	if id, ok := f.ids[path]; ok {
		return id
	}
	parent, seg := -1, path
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		parent, seg = f.id(path[:i]), path[i+1:]
	}
	f.ids[path] = len(f.paths)
	f.paths = append(f.paths, path)
	f.parent = append(f.parent, parent)
	f.seg = append(f.seg, seg)
	return len(f.paths) - 1
}

// ID interns path, for callers that read fields of an Event themselves
// (Event.Value). Like compiling, it must happen before events are evaluated.
func (f *Fields) ID(path string) int { return f.id(path) }

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
	scans   []string // see Event.ScanValues
	scanGen uint32
	// m is raw as a map, for resolving the fields below it; dotted says
	// whether m has a key with a dot (see Event.lookup).
	m      map[string]any
	nested bool // found by following nested maps only, not dotted keys
	dotted int8 // 0: not yet known, 1: no, 2: yes
}

// Event is one document being evaluated, with caches of resolved fields.
// The string forms it computes (lowered values, formatted numbers) live in
// an arena that Reset recycles, so evaluating an event allocates nothing
// once the arena has grown to the size of the largest event. An Event is
// not safe for concurrent use; reuse it (Reset).
type Event struct {
	doc       map[string]any
	fields    *Fields
	gen       uint32
	cache     []fieldVal
	kwGen     uint32
	kw        []string // every scalar of the document, for keyword searches
	kwLow     []string
	kwScan    [1]string // see ScanValues
	lowBuf    []byte    // a non-ASCII value lowered while joining
	kwScanGen uint32
	kwScanMin int // the shortest value kept in kwScan (see KeywordScan)
	arena     []byte
	hits      []int32 // LitIndex scratch of matchMulti
	// rootDotted says whether doc has a dotted key (as fieldVal.dotted);
	// kwDotted whether any map of the document has one, noted by the
	// keyword walk, which visits every key anyway.
	rootDotted int8
	kwDotted   bool
}

// maxArena is the largest arena an Event keeps between documents.
const maxArena = 1 << 20

// NewEvent returns an Event for rules compiled with fields.
func NewEvent(fields *Fields) *Event {
	return &Event{fields: fields, cache: make([]fieldVal, fields.Len())}
}

// Reset points the event at a new document and drops the caches. Strings
// from the previous document's arena must no longer be in use.
func (e *Event) Reset(doc map[string]any) {
	e.doc = doc
	e.rootDotted = 0
	e.arena = e.arena[:0]
	if cap(e.arena) > maxArena { // one huge event must not pin its arena
		e.arena = nil
	}
	e.gen++
	if e.gen == 0 { // wrapped: make sure no stale entry looks current
		clear(e.cache)
		e.kwGen, e.kwScanGen = 0, 0
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
	v, nested, ok := e.lookup(id)
	fv.present = ok && v != nil
	fv.raw = v
	fv.m, fv.nested, fv.dotted = nil, nested, 0
	if !fv.present {
		return fv
	}
	switch x := v.(type) { // the common kinds first: AsMap reflects
	case string:
		fv.strs = append(fv.strs, x)
	case map[string]any:
		fv.m = x
	default:
		if m, isMap := detection.AsMap(v); isMap {
			fv.m = m
		} else {
			fv.strs = e.appendStrings(fv.strs, v)
		}
	}
	return fv
}

// lookup finds field id as detection.Lookup does, with one map lookup in
// the (cached) map of its prefix when that was found nested. Only when that
// misses and a map on the way has a dotted key does it search every split of
// the path, as detection.Lookup does after its nested walk.
func (e *Event) lookup(id int) (v any, nested, ok bool) {
	m := e.doc
	if p := e.fields.parent[id]; p >= 0 {
		pv := e.resolve(p)
		switch {
		case pv.nested && pv.m == nil && pv.present: // a list, or a scalar
			if v, ok := detection.ListStep(pv.raw, e.fields.seg[id]); ok {
				return v, true, true
			}
			m = nil
		case pv.nested:
			m = pv.m
		default:
			m = nil
		}
	}
	if v, ok := m[e.fields.seg[id]]; ok && v != nil {
		return v, true, true
	}
	if !e.dottedChain(id) {
		return nil, false, false
	}
	v, ok = detection.Lookup(e.doc, e.fields.paths[id])
	return v, false, ok
}

// dottedChain reports whether a map above id's parent (the document or a
// prefix of id) has a key with a dot, which could hold id flattened. The
// parent's own keys cannot: what is left of the path there is one key,
// which was looked up and missed.
func (e *Event) dottedChain(id int) bool {
	if e.kwGen == e.gen || e.kwScanGen == e.gen {
		return e.kwDotted
	}
	parent := e.fields.parent[id]
	if parent < 0 {
		return false
	}
	if e.rootDotted == 0 {
		e.rootDotted = dottedKeys(e.doc)
	}
	if e.rootDotted == 2 {
		return true
	}
	for p := e.fields.parent[parent]; p >= 0; p = e.fields.parent[p] {
		fv := e.resolve(p)
		if fv.m == nil || !fv.nested {
			continue
		}
		if fv.dotted == 0 {
			fv.dotted = dottedKeys(fv.m)
		}
		if fv.dotted == 2 {
			return true
		}
	}
	return false
}

func dottedKeys(m map[string]any) int8 {
	for k := range m {
		if hasDot(k) {
			return 2
		}
	}
	return 1
}

// Value returns the value of field id (see Fields.ID) and whether it is
// present, through the event's cache.
func (e *Event) Value(id int) (any, bool) {
	fv := e.resolve(id)
	return fv.raw, fv.present
}

// lower returns the lowercased string forms, computed once per event.
func (e *Event) lower(fv *fieldVal) []string {
	if fv.lowGen != e.gen {
		fv.lowGen = e.gen
		fv.lows = e.lowerAll(fv.lows[:0], fv.strs)
	}
	return fv.lows
}

func (e *Event) lowerAll(dst, src []string) []string {
	for _, s := range src {
		dst = append(dst, e.lowerString(s))
	}
	return dst
}

// keywords returns every scalar of the document (lowercased or not), for
// keyword searches, which Sigma defines over all fields.
func (e *Event) keywords(cased bool) []string {
	if e.kwGen != e.gen {
		e.kwGen = e.gen
		e.kwDotted = false
		e.kw = e.walkStrings(e.kw[:0], e.doc)
		e.kwLow = e.kwLow[:0]
	}
	if cased {
		return e.kw
	}
	if len(e.kwLow) == 0 && len(e.kw) > 0 {
		e.kwLow = e.lowerAll(e.kwLow, e.kw)
	}
	return e.kwLow
}

func (e *Event) walkStrings(dst []string, v any) []string {
	switch x := v.(type) {
	case map[string]any:
		for k, y := range x {
			e.kwDotted = e.kwDotted || hasDot(k)
			dst = e.walkStrings(dst, y)
		}
		return dst
	case []any:
		for _, y := range x {
			dst = e.walkStrings(dst, y)
		}
		return dst
	case string:
		return append(dst, x)
	case []string:
		return append(dst, x...)
	case nil:
		return dst
	}
	if s, ok := e.scalarString(v); ok { // numbers and booleans: ASCII
		return append(dst, s)
	}
	if m, ok := detection.AsMap(v); ok { // named map types (mapstr.M)
		return e.walkStrings(dst, m)
	}
	return dst
}

// appendStrings appends the string forms of a scalar or of each scalar of an
// array: Sigma compares numbers and booleans as text, and an array matches
// when any element does.
func (e *Event) appendStrings(dst []string, v any) []string {
	switch x := v.(type) {
	case string:
		return append(dst, x)
	case []string:
		return append(dst, x...)
	case []any:
		for _, el := range x {
			if s, ok := e.scalarString(el); ok {
				dst = append(dst, s)
			}
		}
		return dst
	}
	if s, ok := e.scalarString(v); ok {
		dst = append(dst, s)
	}
	return dst
}

// scalarString formats numbers and booleans into the arena.
func (e *Event) scalarString(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case bool:
		return strconv.FormatBool(x), true // constant strings: no allocation
	case int:
		return e.format(strconv.AppendInt(e.spare(), int64(x), 10)), true
	case int64:
		return e.format(strconv.AppendInt(e.spare(), x, 10)), true
	case int32:
		return e.format(strconv.AppendInt(e.spare(), int64(x), 10)), true
	case uint64:
		return e.format(strconv.AppendUint(e.spare(), x, 10)), true
	case uint32:
		return e.format(strconv.AppendUint(e.spare(), uint64(x), 10)), true
	case float64:
		return e.format(strconv.AppendFloat(e.spare(), x, 'f', -1, 64)), true
	}
	return detection.ScalarString(v)
}

// spare returns the free end of the arena, with room for any number.
func (e *Event) spare() []byte {
	e.reserve(32)
	return e.arena[len(e.arena):]
}

// format claims the bytes that strconv appended to spare(): they are in
// place unless they outgrew the free space (a float's long form), in which
// case strconv allocated them elsewhere.
func (e *Event) format(b []byte) string {
	if len(b) <= cap(e.arena)-len(e.arena) {
		e.arena = e.arena[:len(e.arena)+len(b)]
	}
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// reserve makes room for n more bytes. A full arena is replaced, not
// grown: strings already handed out keep pointing into the old one.
func (e *Event) reserve(n int) {
	if cap(e.arena)-len(e.arena) >= n {
		return
	}
	e.arena = make([]byte, 0, max(2*cap(e.arena), n, 4096))
}

// lowerString returns s lowered like strings.ToLower: s itself when it has
// no uppercase letter, else a copy in the arena. ASCII text is tested and
// lowered eight bytes at a time.
func (e *Event) lowerString(s string) string {
	upper, ascii := classify(s)
	if ascii && !upper {
		return s
	}
	start := len(e.arena)
	if ascii {
		e.arena = appendLowerASCII(e.arena, s)
	} else {
		e.arena = appendLower(e.arena, s)
	}
	b := e.arena[start:]
	return unsafe.String(unsafe.SliceData(b), len(b))
}

const (
	ones8 = 0x0101010101010101
	high8 = 0x8080808080808080
)

// upperMask has 0x80 in each byte of w (all ASCII) that is 'A'..'Z': the
// first sum sets the high bit from 'A' up, the second from '['.
func upperMask(w uint64) uint64 {
	return (w + ones8*(0x80-'A')) &^ (w + ones8*(0x80-'Z'-1)) & high8
}

// classify reports whether s has an ASCII uppercase letter and whether it
// is all ASCII.
func classify(s string) (upper, ascii bool) {
	i := 0
	var acc, up uint64
	for ; i+8 <= len(s); i += 8 {
		w := load64(s, i)
		acc |= w
		up |= upperMask(w) // meaningless for non-ASCII words, not used then
	}
	if acc&high8 != 0 {
		return true, false
	}
	for ; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			return true, false
		}
		if 'A' <= c && c <= 'Z' {
			up = 1
		}
	}
	return up != 0, true
}

// isASCII reports whether s is all ASCII, a word at a time (the last word
// overlapping the one before: values are short, so tails matter).
func isASCII(s string) bool {
	n := len(s)
	var acc uint64
	switch {
	case n >= 8:
		for i := 0; i+8 <= n; i += 8 {
			acc |= load64(s, i)
		}
		acc |= load64(s, n-8)
	case n >= 4:
		acc = uint64(load32(s, 0) | load32(s, n-4))
	default:
		for i := 0; i < n; i++ {
			acc |= uint64(s[i])
		}
	}
	return acc&high8 == 0
}

// hasDot reports whether key s has a '.', a word at a time: keys are
// short, so a call to strings.IndexByte costs more than the search.
func hasDot(s string) bool {
	n := len(s)
	if n < 8 {
		if n >= 4 {
			x := load32(s, 0) ^ 0x2e2e2e2e
			y := load32(s, n-4) ^ 0x2e2e2e2e
			return (x-0x01010101)&^x&0x80808080 != 0 || (y-0x01010101)&^y&0x80808080 != 0
		}
		for i := 0; i < n; i++ {
			if s[i] == '.' {
				return true
			}
		}
		return false
	}
	for i := 0; ; i += 8 {
		if i+8 > n {
			i = n - 8
		}
		x := load64(s, i) ^ (ones8 * '.')
		if (x-ones8)&^x&high8 != 0 {
			return true
		}
		if i == n-8 {
			return false
		}
	}
}

// appendLower appends s lowered as strings.ToLower lowers it, rune by rune
// (invalid UTF-8 becomes U+FFFD, as there).
func appendLower(dst []byte, s string) []byte {
	for _, r := range s {
		dst = utf8.AppendRune(dst, unicode.ToLower(r))
	}
	return dst
}

func appendLowerASCII(dst []byte, s string) []byte {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		w := load64(s, i)
		dst = binary.LittleEndian.AppendUint64(dst, w|upperMask(w)>>2)
	}
	for ; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

// load32 reads 4 bytes of s from i, little-endian, in one load.
func load32(s string, i int) uint32 {
	return binary.LittleEndian.Uint32(unsafe.Slice(unsafe.StringData(s[i:]), 4))
}

// load64 reads 8 bytes of s from i, little-endian, in one load.
func load64(s string, i int) uint64 {
	return binary.LittleEndian.Uint64(unsafe.Slice(unsafe.StringData(s[i:]), 8))
}

// Path returns the field path of id.
func (f *Fields) Path(id int) string { return f.paths[id] }
