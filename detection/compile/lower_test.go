package compile

import (
	"strings"
	"testing"
)

// lowerString must agree with strings.ToLower on ASCII, mixed and
// non-ASCII text, at every length around the 8-byte word boundary.
func TestLowerStringMatchesToLower(t *testing.T) {
	e := NewEvent(NewFields())
	inputs := []string{"", "a", "Z", "@[`{", "C:\\Windows\\System32\\CMD.EXE", "already lower text here",
		"Microsoft® Windows® Operating System", "ÀÉÎ KELVIN \u212a İstanbul", "\xff\xfeA broken UTF-8", "0123456789abcde\x80", "\x80123456789abcdef", "winlog.event_data.x", "event_data_x.", "abcdefgh.ijklmnop/", "-./-./-./"}
	for _, base := range inputs {
		for n := 0; n <= len(base); n++ {
			checkLowering(t, e, base[:n])
		}
	}
}

// checkLowering holds lowerString, isASCII and hasDot to their plain
// definitions on s.
func checkLowering(t *testing.T, e *Event, s string) {
	t.Helper()
	if got, want := e.lowerString(s), strings.ToLower(s); got != want {
		t.Errorf("lowerString(%q) = %q, want %q", s, got, want)
	}
	if got, want := isASCII(s), asciiOnly(s); got != want {
		t.Errorf("isASCII(%q) = %v", s, got)
	}
	if got, want := hasDot(s), strings.Contains(s, "."); got != want {
		t.Errorf("hasDot(%q) = %v", s, got)
	}
}

func asciiOnly(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func FuzzLowerString(f *testing.F) {
	f.Add("C:\\Windows\\System32\\CMD.EXE /C WHOAMI")
	f.Add("Microsoft® Windows®")
	e := NewEvent(NewFields())
	f.Fuzz(func(t *testing.T, s string) {
		e.Reset(nil)
		checkLowering(t, e, s)
	})
}
