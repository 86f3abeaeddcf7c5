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

// lenientUnescape decodes '+' and valid %XX escapes and keeps anything else
// as written.
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
		case c == '%' && i+2 <= len(s)-1 && isHex(s[i+1]) && isHex(s[i+2]):
			b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
			i += 2
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// pathUnescape decodes %XX only ('+' stays '+' in a path).
func pathUnescape(s string) string {
	if strings.IndexByte(s, '%') < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '%' && i+2 <= len(s)-1 && isHex(s[i+1]) && isHex(s[i+2]) {
			b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
			i += 2
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
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
