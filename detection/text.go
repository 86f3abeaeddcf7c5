package detection

import "unicode/utf8"

// Truncate returns the longest prefix of s that is at most n bytes long and
// does not end inside a UTF-8 sequence, so that cutting a command line or a
// message never turns valid text into invalid text (JSON encoders would
// then replace the torn bytes with U+FFFD).
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	if n <= 0 {
		return ""
	}
	i := n
	// Step back over continuation bytes to the start of the sequence that
	// crosses the cut, and drop it unless it ends exactly at n.
	for i > 0 && i > n-utf8.UTFMax && !utf8.RuneStart(s[i]) {
		i--
	}
	if _, size := utf8.DecodeRuneInString(s[i:]); i+size <= n {
		return s[:i+size]
	}
	return s[:i]
}

// Clip is Truncate marked: s cut to at most n bytes with "..." appended when
// it was cut, for quoting input in error messages.
func Clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return Truncate(s, n) + "..."
}
