package accesslog

import (
	"strings"
)

// splitQuery decodes a raw query string with url.ParseQuery's rules (pairs
// split on '&', name and value split on the first '=', '+' means space,
// %XX escapes), but leniently: a bad escape is kept literally instead of
// dropping the pair, and ';' is not a separator (as in Go >= 1.17).
// It returns the params, the names in first-appearance order and every
// decoded value in order.
func splitQuery(q string) (params map[string]any, names, values []string) {
	if q == "" {
		return nil, nil, nil
	}
	params = map[string]any{}
	for q != "" {
		var pair string
		if i := strings.IndexByte(q, '&'); i >= 0 {
			pair, q = q[:i], q[i+1:]
		} else {
			pair, q = q, ""
		}
		if pair == "" {
			continue
		}
		name, value, _ := strings.Cut(pair, "=")
		name, value = lenientUnescape(name), lenientUnescape(value)
		prev, seen := params[name].([]string)
		if !seen {
			names = append(names, name)
		}
		params[name] = append(prev, value)
		values = append(values, value)
	}
	return params, names, values
}

// lenientUnescape decodes '+' and valid %XX (and %uXXXX) escapes and keeps
// anything else as written.
func lenientUnescape(s string) string {
	if strings.IndexByte(s, '%') < 0 && strings.IndexByte(s, '+') < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '+':
			b.WriteByte(' ')
		case c == '%':
			if n := writeEscape(&b, s, i); n > 0 {
				i += n - 1
				continue
			}
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// pathUnescape decodes %XX and %uXXXX only ('+' stays '+' in a path).
func pathUnescape(s string) string {
	if strings.IndexByte(s, '%') < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '%' {
			if n := writeEscape(&b, s, i); n > 0 {
				i += n - 1
				continue
			}
		}
		b.WriteByte(c)
	}
	return b.String()
}

// writeEscape decodes the escape at s[i], a '%', into b and returns how
// many bytes of s it took (0: none, the '%' is literal). An escape is two
// hex digits, or IIS's "%u" and four: a UTF-16 unit that ASP and ASP.NET
// decode, so that "?cmd=%u0077hoami" reaches a web shell as "whoami" and
// must be read as such.
func writeEscape(b *strings.Builder, s string, i int) int {
	switch {
	case i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
		b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
		return 3
	case i+5 < len(s) && (s[i+1] == 'u' || s[i+1] == 'U') && isHex(s[i+2]) && isHex(s[i+3]) && isHex(s[i+4]) && isHex(s[i+5]):
		b.WriteRune(rune(unhex(s[i+2]))<<12 | rune(unhex(s[i+3]))<<8 | rune(unhex(s[i+4]))<<4 | rune(unhex(s[i+5])))
		return 6
	}
	return 0
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}
