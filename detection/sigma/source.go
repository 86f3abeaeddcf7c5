package sigma

import (
	"bytes"
	"encoding/binary"
	"unicode/utf16"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// source is one file's bytes with a line index, used to turn an offset
// inside a scalar (a condition, a field key) into a file position.
type source struct {
	path  string
	data  []byte
	lines []int // byte index of each line start
}

func newSource(path string, data []byte) *source {
	data = utf8Text(data)
	s := &source{path: path, data: data, lines: []int{0}}
	for i := 0; i < len(data); {
		if w := breakAt(data, i); w > 0 {
			i += w
			s.lines = append(s.lines, i)
			continue
		}
		i++
	}
	return s
}

// utf8Text returns data as UTF-8 without a byte order mark. A file saved as
// UTF-16 (Notepad's "Unicode") is told by its mark and transcoded, so that
// yaml.v3, which would decode it itself, and the line index read the same
// text; a mark alone would otherwise count as a column of line 1.
func utf8Text(data []byte) []byte {
	var order binary.ByteOrder
	switch {
	case bytes.HasPrefix(data, []byte{0xEF, 0xBB, 0xBF}):
		return data[3:]
	case bytes.HasPrefix(data, []byte{0xFF, 0xFE}):
		order = binary.LittleEndian
	case bytes.HasPrefix(data, []byte{0xFE, 0xFF}):
		order = binary.BigEndian
	default:
		return data
	}
	units := make([]uint16, 0, len(data)/2)
	for i := 2; i+1 < len(data); i += 2 {
		units = append(units, order.Uint16(data[i:]))
	}
	out := make([]byte, 0, len(data))
	for _, r := range utf16.Decode(units) {
		out = utf8.AppendRune(out, r)
	}
	if len(data)%2 == 1 { // a cut last unit
		out = utf8.AppendRune(out, utf8.RuneError)
	}
	return out
}

// breakAt returns the length of the line break at data[i], 0 for none.
// Breaks are what yaml.v3 counts in its line numbers: "\n", "\r\n", a lone
// "\r", and NEL, LS and PS (U+0085, U+2028, U+2029), so that a position it
// reports is a line of this index.
func breakAt(data []byte, i int) int {
	switch c := data[i]; {
	case c == '\r' && i+1 < len(data) && data[i+1] == '\n':
		return 2
	case c == '\n' || c == '\r':
		return 1
	case c == 0xC2 && i+1 < len(data) && data[i+1] == 0x85:
		return 2
	case c == 0xE2 && i+2 < len(data) && data[i+1] == 0x80 && (data[i+2] == 0xA8 || data[i+2] == 0xA9):
		return 3
	}
	return 0
}

func nodePos(n *yaml.Node) Pos { return Pos{Line: n.Line, Col: n.Column} }

// index returns the byte index of a 1-based line and (rune) column.
func (s *source) index(line, col int) int {
	if line < 1 || line > len(s.lines) {
		return len(s.data)
	}
	i := s.lines[line-1]
	for c := 1; c < col && i < len(s.data) && breakAt(s.data, i) == 0; c++ {
		_, w := utf8.DecodeRune(s.data[i:])
		i += w
	}
	return i
}

// pos returns the 1-based line and rune column of a byte index.
func (s *source) pos(idx int) Pos {
	lo, hi := 0, len(s.lines)-1
	for lo < hi { // last line start <= idx
		mid := (lo + hi + 1) / 2
		if s.lines[mid] <= idx {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	end := min(idx, len(s.data))
	return Pos{Line: lo + 1, Col: utf8.RuneCount(s.data[s.lines[lo]:end]) + 1}
}

func isWS(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// scalarPos maps a byte offset inside a scalar's value to its file position.
// YAML may fold lines, strip indentation or add quotes, so it walks the
// source and the value side by side instead of adding the offset to the
// node's column, which is only right on the first line of plain scalars.
func (s *source) scalarPos(n *yaml.Node, off int) Pos {
	j := s.index(n.Line, n.Column)
	switch n.Style {
	case yaml.LiteralStyle, yaml.FoldedStyle:
		for j < len(s.data) && s.data[j] != '\n' { // skip the "|" or ">" header
			j++
		}
	case yaml.SingleQuotedStyle, yaml.DoubleQuotedStyle:
		j++
	}
	v := n.Value
	for i := 0; i < off && i < len(v) && j < len(s.data); i++ {
		c := v[i]
		if s.data[j] == c {
			j++
			continue
		}
		for j < len(s.data) && isWS(s.data[j]) {
			j++
		}
		if !isWS(c) && j < len(s.data) && s.data[j] == c {
			j++
		}
	}
	if off < len(v) && !isWS(v[off]) {
		for j < len(s.data) && isWS(s.data[j]) {
			j++
		}
	}
	return s.pos(j)
}

// clamp keeps a position reported by the YAML decoder inside the file: at
// the end of input it may name the line after the last one.
func (s *source) clamp(p Pos) Pos {
	if p.Line > len(s.lines) {
		p.Line = len(s.lines)
	}
	return p
}
