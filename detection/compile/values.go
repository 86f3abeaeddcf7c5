package compile

import (
	"encoding/base64"
	"encoding/binary"
	"strings"
	"unicode/utf16"

	"webshellbeat/detection/sigma"
)

// patterns turns the values of a string match into the patterns to test,
// applying windash, encodings and contains/startswith/endswith in the order
// Sigma defines. It reports false when windash variants are too many to
// enumerate and a regexp is needed instead.
func patterns(f *sigma.FieldMatch, skipWindash bool) ([]sigma.Pattern, bool) {
	var out []sigma.Pattern
	for _, v := range f.Values {
		if v.Kind == sigma.ValueNull {
			continue
		}
		ps := []sigma.Pattern{valuePattern(v)}
		for _, m := range f.Modifiers {
			if skipWindash && m == sigma.ModWindash {
				continue
			}
			var ok bool
			if ps, ok = applyModifier(m, ps); !ok {
				return nil, false
			}
		}
		out = append(out, ps...)
	}
	return out, true
}

// valuePattern reads a value; numbers and booleans are plain text.
func valuePattern(v sigma.Value) sigma.Pattern {
	if v.Kind != sigma.ValueString {
		return sigma.Pattern{{Kind: sigma.PieceLit, Lit: v.Str}}
	}
	return sigma.ParsePattern(v.Str)
}

func applyModifier(m sigma.Modifier, ps []sigma.Pattern) ([]sigma.Pattern, bool) {
	var out []sigma.Pattern
	for _, p := range ps {
		switch m {
		case sigma.ModContains:
			out = append(out, p.Wrap(true, true))
		case sigma.ModStartsWith:
			out = append(out, p.Wrap(false, true))
		case sigma.ModEndsWith:
			out = append(out, p.Wrap(true, false))
		case sigma.ModWindash:
			vs, ok := windash(p)
			if !ok {
				return nil, false
			}
			out = append(out, vs...)
		case sigma.ModUTF16LE, sigma.ModWide, sigma.ModUTF16BE, sigma.ModUTF16,
			sigma.ModBase64, sigma.ModBase64Offset:
			lit, _ := p.Literal() // the parser rejects wildcards with encodings
			for _, s := range encode(m, lit) {
				out = append(out, sigma.Pattern{{Kind: sigma.PieceLit, Lit: s}})
			}
		default:
			out = append(out, p)
		}
	}
	return out, true
}

// encode applies one encoding modifier to a literal.
func encode(m sigma.Modifier, s string) []string {
	switch m {
	case sigma.ModUTF16LE, sigma.ModWide:
		return []string{utf16Bytes(s, binary.LittleEndian, false)}
	case sigma.ModUTF16BE:
		return []string{utf16Bytes(s, binary.BigEndian, false)}
	case sigma.ModUTF16:
		return []string{utf16Bytes(s, binary.LittleEndian, true)}
	case sigma.ModBase64:
		return []string{base64.StdEncoding.EncodeToString([]byte(s))}
	default:
		return base64Offsets(s)
	}
}

func utf16Bytes(s string, order binary.AppendByteOrder, bom bool) string {
	var b []byte
	if bom {
		b = order.AppendUint16(b, 0xfeff)
	}
	for _, u := range utf16.Encode([]rune(s)) {
		b = order.AppendUint16(b, u)
	}
	return string(b)
}

// base64Offsets returns the three encodings of s at byte offsets 0, 1 and 2
// of a base64 stream, trimmed to the characters that do not depend on the
// surrounding bytes (as pySigma's base64offset).
func base64Offsets(s string) []string {
	starts := [3]int{0, 2, 3}
	ends := [3]int{0, 3, 2} // characters dropped at the end, by (len+i)%3
	out := make([]string, 0, 3)
	for i := range 3 {
		enc := base64.StdEncoding.EncodeToString(append(make([]byte, i), s...))
		end := len(enc) - ends[(len(s)+i)%3]
		if starts[i] < end {
			out = append(out, enc[starts[i]:end])
		}
	}
	return out
}

var dashes = []string{"-", "/", "\u2013", "\u2014", "\u2015"}

// maxWindashVariants bounds the enumeration; beyond it a regexp is used.
const maxWindashVariants = 125

// windash returns variants of p with every option dash ("-" or "/" that
// starts a word after a non-word character) replaced by each Windows dash.
func windash(p sigma.Pattern) ([]sigma.Pattern, bool) {
	out := []sigma.Pattern{nil}
	for _, x := range p {
		if x.Kind != sigma.PieceLit {
			for i := range out {
				out[i] = append(out[i], x)
			}
			continue
		}
		lits, ok := dashVariants(x.Lit)
		if !ok || len(out)*len(lits) > maxWindashVariants {
			return nil, false
		}
		var next []sigma.Pattern
		for _, o := range out {
			for _, l := range lits {
				next = append(next, append(append(sigma.Pattern(nil), o...), sigma.Piece{Kind: sigma.PieceLit, Lit: l}))
			}
		}
		out = next
	}
	return out, true
}

func dashVariants(s string) ([]string, bool) {
	out := []string{""}
	for i := 0; i < len(s); i++ {
		opts := []string{s[i : i+1]}
		if isOptionDash(s, i) {
			opts = dashes
		}
		if len(out)*len(opts) > maxWindashVariants {
			return nil, false
		}
		var next []string
		for _, o := range out {
			for _, d := range opts {
				next = append(next, o+d)
			}
		}
		out = next
	}
	return out, true
}

func isOptionDash(s string, i int) bool {
	if s[i] != '-' && s[i] != '/' {
		return false
	}
	prevWord := i > 0 && isWordByte(s[i-1])
	nextWord := i+1 < len(s) && isWordByte(s[i+1])
	return !prevWord && nextWord
}

func isWordByte(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// windashRegexp renders a pattern with every option dash as a class, for
// values with too many dashes to enumerate.
func windashRegexp(p sigma.Pattern, cased bool) string {
	flags := ""
	if !cased {
		flags = "(?i)"
	}
	return patternRegexp(flags, p, func(b *strings.Builder, lit string) {
		for i := 0; i < len(lit); i++ {
			if isOptionDash(lit, i) {
				b.WriteString("[-/\u2013\u2014\u2015]")
			} else {
				b.WriteString(regexpQuoteByte(lit[i]))
			}
		}
	})
}

func regexpQuoteByte(c byte) string {
	if strings.IndexByte(`\.+*?()|[]{}^$`, c) >= 0 {
		return `\` + string(c)
	}
	return string(c)
}
