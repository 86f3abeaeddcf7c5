package cmd

import (
	"strings"
	"testing"
)

// TestTableAlignsWideCharacters checks that a column starts at the same
// terminal column on every row when an earlier cell holds CJK characters,
// which take two columns each (text/tabwriter counts them as one).
func TestTableAlignsWideCharacters(t *testing.T) {
	var tb table
	tb.add("RULE", "HOST", "WHAT")
	tb.add("Web服务器衍生可疑进程 (+3)", "IEWIN7", "cmd.exe /c whoami")
	tb.add("Shell Descended from a Web Server", "WIN-GG82ULGC9GO", "")
	tb.add("Microsoft® Windows®", "h", "x")
	var out strings.Builder
	if err := tb.write(&out); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 4 {
		t.Fatalf("got %d lines:\n%s", len(lines), out.String())
	}
	// The HOST column starts where "HOST" starts in the header.
	col := cols(lines[0][:strings.Index(lines[0], "HOST")])
	for i, l := range lines[1:] {
		host := tb.rows[i+1][1]
		if got := cols(l[:strings.Index(l, host)]); got != col {
			t.Errorf("row %q: HOST column at %d, header at %d", l, got, col)
		}
		if strings.HasSuffix(l, " ") {
			t.Errorf("row %q ends in spaces", l)
		}
	}
}

// cols counts terminal columns for the test's own strings, independently of
// displayWidth: CJK ideographs take two, everything else here one.
func cols(s string) int {
	n := 0
	for _, r := range s {
		n++
		if r >= 0x4e00 && r <= 0x9fff {
			n++
		}
	}
	return n
}

func TestClipByColumns(t *testing.T) {
	cases := []struct {
		s    string
		n    int
		want string
	}{
		{"cmd.exe /c whoami", 7, "cmd.exe..."},
		{"cmd.exe", 7, "cmd.exe"},
		{"Web服务器衍生", 6, "Web服..."}, // 服 is two columns: a third would make 7
		{"Web服务器衍生", 7, "Web服务..."},
		{"line one\nline two", 40, "line one line two"},
	}
	for _, c := range cases {
		if got := clip(c.s, c.n); got != c.want {
			t.Errorf("clip(%q, %d) = %q, want %q", c.s, c.n, got, c.want)
		}
	}
}
