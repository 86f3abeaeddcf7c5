package detection

import (
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

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

// ScalarString is the text of a scalar value as rules and exceptions see
// it: strings as they are, booleans as true/false, integers in decimal,
// floats in the shortest decimal form without an exponent, json.Number as
// written. Other kinds (maps, lists, nil, times) give false.
func ScalarString(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case bool:
		return strconv.FormatBool(x), true
	case int:
		return strconv.Itoa(x), true
	case int64:
		return strconv.FormatInt(x, 10), true
	case int32:
		return strconv.FormatInt(int64(x), 10), true
	case int16:
		return strconv.FormatInt(int64(x), 10), true
	case int8:
		return strconv.FormatInt(int64(x), 10), true
	case uint:
		return strconv.FormatUint(uint64(x), 10), true
	case uint64:
		return strconv.FormatUint(x, 10), true
	case uint32:
		return strconv.FormatUint(uint64(x), 10), true
	case uint16:
		return strconv.FormatUint(uint64(x), 10), true
	case uint8:
		return strconv.FormatUint(uint64(x), 10), true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	case float32:
		return strconv.FormatFloat(float64(x), 'f', -1, 32), true
	case json.Number:
		return string(x), true
	}
	return "", false
}
