package detection

import (
	"encoding/json"
	"testing"
	"unicode/utf8"
)

func TestTruncate(t *testing.T) {
	cases := []struct {
		s    string
		n    int
		want string
	}{
		{"cmd.exe /c whoami", 7, "cmd.exe"},
		{"short", 10, "short"},
		{"short", 0, ""},
		{"Web服务器", 3, "Web"}, // 服 is 3 bytes: 4 and 5 would tear it
		{"Web服务器", 4, "Web"},
		{"Web服务器", 5, "Web"},
		{"Web服务器", 6, "Web服"},
		{"a®b", 2, "a"}, // ® is 2 bytes
		{"a®b", 3, "a®"},
		{"\xff\xfe\xfd", 2, "\xff\xfe"}, // invalid input is cut where asked, not made worse
	}
	for _, c := range cases {
		if got := Truncate(c.s, c.n); got != c.want {
			t.Errorf("Truncate(%q, %d) = %q, want %q", c.s, c.n, got, c.want)
		}
	}
}

func FuzzTruncate(f *testing.F) {
	f.Add("Web服务器衍生可疑进程", 10)
	f.Add("a®b", 2)
	f.Fuzz(func(t *testing.T, s string, n int) {
		got := Truncate(s, n)
		if len(got) > max(n, 0) || got != s[:len(got)] {
			t.Fatalf("Truncate(%q, %d) = %q: not a prefix of at most n bytes", s, n, got)
		}
		if utf8.ValidString(s) && !utf8.ValidString(got) {
			t.Fatalf("Truncate(%q, %d) = %q tore a rune", s, n, got)
		}
		if len(s) <= n && got != s {
			t.Fatalf("Truncate(%q, %d) = %q: shortened a string that fits", s, n, got)
		}
	})
}

func TestClip(t *testing.T) {
	if got := Clip("fits", 4); got != "fits" {
		t.Errorf("Clip kept %q", got)
	}
	if got := Clip("Web服务器", 5); got != "Web..." {
		t.Errorf("Clip cut to %q, want %q", got, "Web...")
	}
}

func TestScalarString(t *testing.T) {
	for _, c := range []struct {
		v    any
		want string
		ok   bool
	}{
		{"x", "x", true}, {true, "true", true}, {int8(-3), "-3", true}, {uint16(7), "7", true},
		{4688, "4688", true}, {1e21, "1000000000000000000000", true}, {float32(0.5), "0.5", true},
		{json.Number("1e3"), "1e3", true}, {nil, "", false}, {map[string]any{}, "", false}, {[]any{"a"}, "", false},
	} {
		if got, ok := ScalarString(c.v); got != c.want || ok != c.ok {
			t.Errorf("ScalarString(%#v) = %q, %v; want %q, %v", c.v, got, ok, c.want, c.ok)
		}
	}
}
