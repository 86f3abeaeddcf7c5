package windows

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/Velocidex/ordereddict"
)

// ParseXML parses one rendered event: an <Event> element as written by
// `wevtutil qe /f:xml` or Get-WinEvent's ToXml(). An <Events> wrapper
// holding exactly one event is accepted; use SplitXML for streams.
func ParseXML(data []byte) (*Record, error) {
	root, err := decodeXMLTree(data)
	if err != nil {
		return nil, err
	}
	r, err := fromEventTree(root)
	if err != nil {
		return nil, perr("xml", -1, 0, nil, "%s", err.Error())
	}
	return r, nil
}

// decodeXMLTree reads the XML of one <Event> into the evtx_dump-like tree:
// elements become dicts with "#attributes" and "#text", repeated children
// become lists.
func decodeXMLTree(data []byte) (any, error) { return decodeXMLRoot(data, "Event") }

// decodeXMLRoot is decodeXMLTree for a document whose root element is root
// (an <Events> wrapper is accepted around <Event> only).
func decodeXMLRoot(data []byte, root string) (any, error) {
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = true
	d.CharsetReader = func(charset string, in io.Reader) (io.Reader, error) {
		// Event XML is UTF-8 or UTF-16 saved as text; only UTF-8 is read.
		if strings.EqualFold(charset, "utf-8") || strings.EqualFold(charset, "us-ascii") {
			return in, nil
		}
		return nil, fmt.Errorf("unsupported charset %q", charset)
	}
	type frame struct {
		name string
		dict *ordereddict.Dict
		text strings.Builder
	}
	var stack []*frame
	inside := func() string {
		if len(stack) == 0 {
			return ""
		}
		return fmt.Sprintf(" (inside <%s>)", stack[len(stack)-1].name)
	}
	fail := func(off int64, err error, msg string, args ...any) error {
		var se *xml.SyntaxError
		if errors.As(err, &se) {
			return perr("xml", off, se.Line, nil, "%s%s", se.Msg, inside())
		}
		return perr("xml", off, lineOf(data, off), err, msg, args...)
	}
	var (
		result   any
		inEvents bool
		start    int64
	)
	for {
		off := d.InputOffset()
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fail(d.InputOffset(), err, "invalid XML")
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if len(stack) == 0 {
				switch {
				case root == "Event" && t.Name.Local == "Events" && !inEvents && result == nil:
					inEvents = true // a wrapper: its children are the events
					continue
				case t.Name.Local != root:
					return nil, fail(off, nil, "root element is <%s>, want <%s>", t.Name.Local, root)
				case result != nil:
					return nil, fail(off, nil, "more than one <%s>; use SplitXML", root)
				}
				start = off
			}
			if len(stack) >= maxDepth {
				return nil, fail(off, nil, "elements nested deeper than %d", maxDepth)
			}
			f := &frame{name: t.Name.Local, dict: ordereddict.NewDict()}
			if len(t.Attr) > 0 {
				a := ordereddict.NewDict()
				for _, at := range t.Attr {
					if at.Name.Space == "xmlns" || at.Name.Local == "xmlns" {
						continue
					}
					a.Set(at.Name.Local, at.Value)
				}
				if a.Len() > 0 {
					f.dict.Set("#attributes", a)
				}
			}
			stack = append(stack, f)
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text.Write(t)
			} else if len(bytes.TrimSpace(t)) > 0 {
				return nil, fail(off, nil, "text outside of <%s>", root)
			}
		case xml.EndElement:
			if len(stack) == 0 {
				continue // </Events>
			}
			f := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			var v any
			txt := f.text.String()
			if strings.TrimSpace(txt) == "" {
				txt = ""
			}
			switch {
			case f.dict.Len() == 0 && txt == "":
				v = nil
			case f.dict.Len() == 0:
				v = txt
			default:
				if txt != "" {
					f.dict.Set("#text", txt)
				}
				v = f.dict
			}
			if len(stack) == 0 {
				root := ordereddict.NewDict()
				root.Set("Event", v)
				result = root
				continue
			}
			parent := stack[len(stack)-1].dict
			if old, ok := parent.Get(f.name); ok {
				if l, ok := old.([]any); ok {
					parent.Set(f.name, append(l, v))
				} else {
					parent.Set(f.name, []any{old, v})
				}
			} else {
				parent.Set(f.name, v)
			}
		}
	}
	if len(stack) > 0 {
		return nil, perr("xml", start, lineOf(data, start), nil, "unexpected end of input: <%s> not closed", stack[len(stack)-1].name)
	}
	if result == nil {
		return nil, perr("xml", 0, 1, nil, "no <Event> element")
	}
	if ev, _ := dget(result, "Event"); !isDict(ev) {
		return nil, perr("xml", start, lineOf(data, start), nil, "empty <Event> element")
	}
	return result, nil
}

// MaxXMLEventSize bounds one event in SplitXML; a longer element is passed
// on truncated (and fails to parse) so that the stream keeps going.
const MaxXMLEventSize = 16 << 20

var (
	xmlEventOpen  = []byte("<Event")
	xmlEventClose = []byte("</Event>")
)

// SplitXML calls fn with the raw bytes and the byte offset of every
// <Event>...</Event> element in r: one per line, pretty-printed, or wrapped
// in an <Events> root. An element that is not closed before the next one
// starts (or before the end of input) is passed on as it is, so that the
// caller's ParseXML reports it and the stream continues. SplitXML stops at
// the first error returned by fn or by r. The raw slice is only valid
// during the call.
func SplitXML(r io.Reader, fn func(raw []byte, offset int64) error) error {
	var (
		buf  []byte
		base int64 // file offset of buf[0]
		eof  bool
		tmp  = make([]byte, 64<<10)
	)
	fill := func() error {
		n, err := r.Read(tmp)
		buf = append(buf, tmp[:n]...)
		if err == io.EOF {
			eof = true
			return nil
		}
		return err
	}
	drop := func(n int) {
		buf = buf[:copy(buf, buf[n:])]
		base += int64(n)
	}
	for {
		// Find the start of the next element.
		i := findEventOpen(buf, 0)
		if i < 0 {
			if eof {
				return nil
			}
			keep := len(xmlEventOpen)
			if len(buf) > keep {
				drop(len(buf) - keep)
			}
			if err := fill(); err != nil {
				return err
			}
			continue
		}
		drop(i)
		// Find its end, or the start of the next one.
		searched := 1
		for {
			end := bytes.Index(buf[searched:], xmlEventClose)
			next := findEventOpen(buf, searched)
			if end >= 0 && (next < 0 || searched+end < next) {
				n := searched + end + len(xmlEventClose)
				if err := fn(buf[:n], base); err != nil {
					return err
				}
				drop(n)
				break
			}
			if next >= 0 || (eof && len(buf) > 0) || len(buf) >= MaxXMLEventSize {
				n := len(buf)
				if next >= 0 {
					n = next
				}
				if err := fn(buf[:n], base); err != nil {
					return err
				}
				drop(n)
				break
			}
			if len(buf) > len(xmlEventClose) {
				searched = len(buf) - len(xmlEventClose)
			}
			if err := fill(); err != nil {
				return err
			}
		}
	}
}

// findEventOpen finds "<Event" followed by a space, '>' or '/' (not
// "<Events" or "<EventData") at or after from.
func findEventOpen(b []byte, from int) int {
	for from < len(b) {
		i := bytes.Index(b[from:], xmlEventOpen)
		if i < 0 {
			return -1
		}
		j := from + i + len(xmlEventOpen)
		if j >= len(b) {
			return -1 // cannot tell yet; the caller reads more
		}
		switch b[j] {
		case ' ', '\t', '\r', '\n', '>', '/':
			return from + i
		}
		from = j
	}
	return -1
}
