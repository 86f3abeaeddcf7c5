package compile

import (
	"regexp"
	"strings"
	"testing"
)

// needString prints a Need as field~literal atoms joined by & and |.
func needString(n Need, f *Fields) string {
	if n.Atom != nil {
		field := "*"
		if n.Atom.IDs != nil {
			field = f.Path(n.Atom.IDs[0])
		}
		return field + "~" + n.Atom.Lit
	}
	op := " | "
	if n.And {
		op = " & "
	}
	parts := make([]string, len(n.Kids))
	for i, k := range n.Kids {
		parts[i] = needString(k, f)
	}
	return "(" + strings.Join(parts, op) + ")"
}

func TestNeed(t *testing.T) {
	tests := []struct {
		name, detection, want string
	}{
		{"and of fields", `    s: {a|contains: X, b|endswith: [y, z]}
    condition: s`, "(a~x & (b~y | b~z))"},
		{"1 of, with a NOT left out", `    s1: {a|contains: x, b: y}
    s2: {c|contains: '.exe\..\'}
    f: {a: q}
    condition: 1 of s* and not f`, "(c~.exe\\..\\ | (a~x & b~y))"}, // cheapest term first
		{"all: every pattern", `    s: {a|contains|all: [one, two]}
    condition: s`, "(a~one & a~two)"},
		{"keywords read any field", `    k: [mimikatz, 'sekurlsa::']
    condition: k`, "(*~mimikatz | *~sekurlsa::)"},
		{"regexp alternation", `    s: {a|re: 'foo|bar'}
    condition: s`, "(a~foo | a~bar)"},
		{"an OR branch without literal: no need", `    s1: {a: x}
    s2: {b|re: '.*'}
    condition: s1 or s2`, "none"},
		{"a lone NOT: no need", `    f: {a: x}
    condition: not f`, "none"},
		{"wildcard only: no need", `    s: {a: '*'}
    condition: s`, "none"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, f := rule(t, tt.detection)
			got := "none"
			if n, ok := r.Need(); ok {
				got = needString(n, f)
			}
			if got != tt.want {
				t.Errorf("Need = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestNeedOfWildcardParts(t *testing.T) {
	r, f := rule(t, `    s: {a|contains: ['ipconfig*|*find', 'x']}
    condition: s`)
	n, ok := r.Need()
	if got, want := needString(n, f), "((a~ipconfig & a~| & a~find) | a~x)"; !ok || got != want {
		t.Errorf("Need = %s, want %s", got, want)
	}
}

// A regexp is not run on a value shorter than its shortest match; that
// bound must never exceed the length of a real match.
func TestRegexMinLen(t *testing.T) {
	tests := []struct {
		expr  string
		min   int
		match string // a shortest match
	}{
		{`\s[a-fA-F0-9]{64}\s[a-fA-F0-9]{16}`, 82, " " + strings.Repeat("a", 64) + " " + strings.Repeat("b", 16)},
		{`(?i)kelvin`, 6, "\u212aelvin"},
		{`foo|ba`, 2, "ba"},
		{`a*b?c+`, 1, "c"},
		{`^(?:0[0-9]{1,3}\.){3}$`, 9, "00.00.00."},
		{`x{0,3}`, 0, ""},
		{`é+`, 1, "é"},
	}
	for _, tt := range tests {
		m := regexMatch(regexp.MustCompile(tt.expr))
		if m.minLen != tt.min {
			t.Errorf("%s: minLen %d, want %d", tt.expr, m.minLen, tt.min)
		}
		if !m.match(tt.match) || len(tt.match) < m.minLen {
			t.Errorf("%s: does not match its shortest match %q", tt.expr, tt.match)
		}
		if tt.min > 0 && m.match(tt.match[:len(tt.match)-1]) && len(tt.match)-1 < m.minLen {
			t.Errorf("%s: matched below its bound", tt.expr)
		}
	}
}
