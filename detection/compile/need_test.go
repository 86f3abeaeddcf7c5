package compile

import (
	"math/rand/v2"
	"regexp"
	"slices"
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

// The literals mined from a regexp, and the length and class-run checks run
// before it, must hold for every string the regexp matches.
func TestRegexPrechecksAreNecessary(t *testing.T) {
	exprs := []string{
		`\\[a-zA-Z0-9]{1,32}\.[a-zA-Z0-9]{1,6}\.[ "']{1}`,
		`\s[a-fA-F0-9]{64}\s[a-fA-F0-9]{16}`,
		` [0-7]{7,13}`,
		`https?://0[0-9]{3,11}`,
		`(?i)[a-f]{8}\.(dll|exe)`,
		`(?i)x[kK]{6}`,
		`a[bc][de]f|zz[ab]`,
		`(\d{6,})-[xy]`,
	}
	pieces := []string{"\\", ".", " ", "\"", "'", "abc", "x.dll", "A1B2C3D4", strings.Repeat("a1", 40), "ff", "http://0", "https://", "1234567", "0123", "-x", "\u212a", "kKkKkK", "ZZb", "abdf", "acef", "X", "\t",
		"\\foo.ba.'", "\\x.y. ", " " + strings.Repeat("ab12", 16) + " " + strings.Repeat("cD", 8), "abcdefab.DLL", "ABCDEFAB.exe"}
	rng := rand.New(rand.NewPCG(11, 12))
	for _, expr := range exprs {
		re := regexp.MustCompile(expr)
		m := regexMatch(re)
		atoms, mined := m.regexAtoms(true, nil)
		matched, rejectedEarly := 0, 0
		for range 20000 {
			var b strings.Builder
			for k := rng.IntN(12); k >= 0; k-- {
				b.WriteString(pieces[rng.IntN(len(pieces))])
			}
			s := b.String()
			if !re.MatchString(s) {
				if len(s) < m.minLen || m.run != nil && !hasRun(s, m.run, m.runLen) || m.lits != nil && !hasAny(s, m.lits) {
					rejectedEarly++
				}
				continue
			}
			matched++
			if !m.match(s) {
				t.Fatalf("%s: matches %q but the prechecks reject it", expr, s)
			}
			if mined && !slices.ContainsFunc(atoms, func(a Atom) bool {
				if a.Cased {
					return strings.Contains(s, a.Lit)
				}
				return strings.Contains(strings.ToLower(s), a.Lit)
			}) {
				t.Fatalf("%s: matches %q, which holds none of its literals %v", expr, s, atoms)
			}
		}
		t.Logf("%s: %d matches, %d rejected before the regexp, literals %v", expr, matched, rejectedEarly, atoms)
		if matched == 0 {
			t.Errorf("%s: no random string matched: the test says nothing about it", expr)
		}
	}
}

func TestRegexLiteralsOfRuns(t *testing.T) {
	raspberry := regexMatch(regexp.MustCompile(`\\[a-zA-Z0-9]{1,32}\.[a-zA-Z0-9]{1,6}\.[ "']{1}`))
	atoms, ok := raspberry.regexAtoms(true, nil)
	var lits []string
	for _, a := range atoms {
		lits = append(lits, a.Lit)
	}
	if want := []string{". ", ".\"", ".'"}; !ok || !slices.Equal(lits, want) {
		t.Errorf("literals %q, want %q", lits, want)
	}
	if m := regexMatch(regexp.MustCompile(`\s[a-fA-F0-9]{64}\s[a-fA-F0-9]{16}`)); m.runLen != 64 || !m.run['F'] || m.run['g'] {
		t.Errorf("class run of the snake regexp: %d", m.runLen)
	}
}

// FuzzRegexPrechecks: for any regexp and any text it matches, the checks
// run before the regexp (length, class run, literals) and the literals
// mined for the prefilter must all hold.
func FuzzRegexPrechecks(f *testing.F) {
	f.Add(`\\[a-zA-Z0-9]{1,32}\.[a-zA-Z0-9]{1,6}\.[ "']{1}`, `C:\x\foo.ba. y`)
	f.Add(`\s[a-fA-F0-9]{64}\s[a-fA-F0-9]{16}`, " "+strings.Repeat("a", 64)+" "+strings.Repeat("b", 16))
	f.Add(`(?i)x[kK]{6}|a[bc][de]f`, "X\u212akkkkk")
	f.Fuzz(func(t *testing.T, expr, s string) {
		re, err := regexp.Compile(expr)
		if err != nil || !re.MatchString(s) {
			return
		}
		m := regexMatch(re)
		if !m.match(s) {
			t.Fatalf("%q matches %q but the prechecks reject it (minLen %d, run %d, lits %q)", expr, s, m.minLen, m.runLen, m.lits)
		}
		atoms, ok := m.regexAtoms(true, nil)
		if !ok {
			return
		}
		for _, a := range atoms {
			if a.Cased && strings.Contains(s, a.Lit) || !a.Cased && strings.Contains(strings.ToLower(s), a.Lit) {
				return
			}
		}
		t.Fatalf("%q matches %q, which holds none of its literals %v", expr, s, atoms)
	})
}

// A rule's trigger comes from its need: with "all", one pattern's literals
// are enough, but all of them (a regexp's alternatives), not just the
// longest one.
func TestPrefilterFromNeed(t *testing.T) {
	r, _ := rule(t, `    s: {a|re|all: ['foo|barbaz', 'x']}
    condition: s`)
	atoms, ok := r.Prefilter()
	var lits []string
	for _, a := range atoms {
		lits = append(lits, a.Lit)
	}
	if want := []string{"foo", "barbaz"}; !ok || !slices.Equal(lits, want) {
		t.Errorf("trigger %q, want %q", lits, want)
	}
	if !match(t, `    s: {a|re|all: ['foo|barbaz', 'x']}
    condition: s`, doc{"a": "foo x"}) {
		t.Error("the rule does not match a value the trigger must let through")
	}
}
