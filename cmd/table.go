package cmd

import (
	"fmt"
	"io"
	"strings"

	"golang.org/x/text/width"
)

// table lays out rows in columns by display width, not by bytes or runes as
// text/tabwriter does: rule titles are often Chinese or Japanese (the
// founding rules are), and each of those characters takes two columns in a
// terminal, so tabwriter's columns drift right after them.
type table struct {
	rows [][]string
}

// add appends a row of cells, each made visible.
func (t *table) add(cells ...string) {
	for i, c := range cells {
		cells[i] = visible(c)
	}
	t.rows = append(t.rows, cells)
}

// visible shows the control characters of s as \xHH (a tab as a space):
// an attacker writes the command lines and requests that hunt prints, and
// an escape sequence in one would drive the analyst's terminal (clear the
// screen, set the title, hide the rows above). So are newlines, which
// would break a row, and the bidirectional overrides that reorder what is
// shown (U+202A-U+202E, U+2066-U+2069), as \uHHHH.
func visible(s string) string {
	if !strings.ContainsFunc(s, hidden) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case !hidden(r):
			b.WriteRune(r)
		case r == '\t': // a stack trace's indent: harmless, but it would break the columns
			b.WriteByte(' ')
		case r < 0x100:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			fmt.Fprintf(&b, `\u%04x`, r)
		}
	}
	return b.String()
}

func hidden(r rune) bool {
	return r < 0x20 || 0x7f <= r && r < 0xa0 || 0x202a <= r && r <= 0x202e || 0x2066 <= r && r <= 0x2069
}

// write pads every cell but the last of each row to its column's width,
// with two spaces between columns, and no trailing spaces.
func (t *table) write(w io.Writer) error {
	var widths []int
	for _, r := range t.rows {
		for i, c := range r {
			if i == len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], displayWidth(c))
		}
	}
	var b, line strings.Builder
	for _, r := range t.rows {
		line.Reset()
		for i, c := range r {
			line.WriteString(c)
			if i < len(r)-1 {
				line.WriteString(strings.Repeat(" ", widths[i]-displayWidth(c)+2))
			}
		}
		b.WriteString(strings.TrimRight(line.String(), " ")) // empty last cells
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// displayWidth is the number of terminal columns s takes: two for East
// Asian wide and fullwidth characters, none for combining marks and
// control characters, one otherwise.
func displayWidth(s string) int {
	n := 0
	for _, r := range s {
		n += runeWidth(r)
	}
	return n
}

func runeWidth(r rune) int {
	switch {
	case r < 0x20 || r == 0x7f:
		return 0
	case r < 0x300:
		return 1
	case r >= 0x300 && r <= 0x36f, r == 0x200b, r >= 0xfe00 && r <= 0xfe0f:
		return 0 // combining diacritics, zero-width space, variation selectors
	}
	switch width.LookupRune(r).Kind() {
	case width.EastAsianWide, width.EastAsianFullwidth:
		return 2
	}
	return 1
}

// clip shortens s to at most n columns, at a character boundary, marking the
// cut with "...", and puts a multi-line value on one line.
func clip(s string, n int) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if displayWidth(s) <= n {
		return s
	}
	cols := 0
	for i, r := range s {
		if cols+runeWidth(r) > n {
			return s[:i] + "..."
		}
		cols += runeWidth(r)
	}
	return s
}
