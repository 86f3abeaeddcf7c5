package compile

import (
	"regexp"
	"regexp/syntax"
	"strings"
	"unicode/utf8"

	"webshellbeat/detection/sigma"
)

type strKind uint8

const (
	mExact    strKind = iota
	mPrefix           // lit*
	mSuffix           // *lit
	mContains         // *lit*
	mAny              // * alone: any value of a present field
	mParts            // lit*lit*...*lit: ordered pieces, no regexp needed
	mRegex            // "?" wildcards and the re modifier
)

// strMatch matches one string. Invariant: for case-insensitive matches s,
// parts and the regexp were lowered at compile time and are applied to
// lowered event values.
type strMatch struct {
	kind  strKind
	s     string
	parts []string // mParts: parts[0] is a prefix, the last a suffix (either may be empty)
	re    *regexp.Regexp
	// minLen is the fewest bytes re can match: a shorter value is rejected
	// without running it (a regexp for two hashes needs 82).
	minLen int
	// run, when set, is a class of bytes of which every match holds a run
	// of at least runLen ("[a-f0-9]{64}"): a value without one is rejected
	// in one pass, far cheaper than the regexp's backtracking.
	run    *[256]bool
	runLen int
	// mined are literals one of which every match contains (nil: none
	// known), for the prefilter (regexAtoms); lits are the same when none
	// folds case: most values lack them all, and a substring search is far
	// cheaper than starting the regexp.
	mined []regexLit
	lits  []string
}

// regexMatch parses re once for the checks that run before it and the
// literals the prefilter needs.
func regexMatch(re *regexp.Regexp) strMatch {
	m := strMatch{kind: mRegex, re: re}
	t, err := syntax.Parse(re.String(), syntax.Perl)
	if err != nil {
		return m
	}
	m.run, m.runLen = classRun(t)
	simple := t.Simplify()
	m.minLen = minBytes(simple)
	if mined, ok := regexLits(simple); ok {
		m.mined = mined
		m.lits = plainLits(mined)
	}
	return m
}

// plainLits returns the literals as substrings to search for, or nil if one
// folds case.
func plainLits(mined []regexLit) []string {
	out := make([]string, len(mined))
	for i, l := range mined {
		if l.fold {
			return nil
		}
		out[i] = l.s
	}
	return out
}

// hasAny reports whether s contains one of lits.
func hasAny(s string, lits []string) bool {
	for _, l := range lits {
		if strings.Contains(s, l) {
			return true
		}
	}
	return false
}

// minRunLen is the shortest class run worth testing before a regexp.
const minRunLen = 6

// classRun finds, among the terms that every match of t goes through (t
// itself, or the terms of a top-level concatenation), the longest repeat
// of an ASCII character class.
func classRun(t *syntax.Regexp) (*[256]bool, int) {
	for t.Op == syntax.OpCapture {
		t = t.Sub[0]
	}
	terms := []*syntax.Regexp{t}
	if t.Op == syntax.OpConcat {
		terms = t.Sub
	}
	var best *syntax.Regexp
	for _, x := range terms {
		if x.Op == syntax.OpRepeat && x.Min >= minRunLen && asciiClass(x.Sub[0]) && (best == nil || x.Min > best.Min) {
			best = x
		}
	}
	if best == nil {
		return nil, 0
	}
	var set [256]bool
	c := best.Sub[0]
	for i := 0; i+1 < len(c.Rune); i += 2 {
		for r := c.Rune[i]; r <= c.Rune[i+1]; r++ {
			set[r] = true
		}
	}
	return &set, best.Min
}

// asciiClass reports whether t is a character class of ASCII characters
// only, so that each of its matches is one byte.
func asciiClass(t *syntax.Regexp) bool {
	if t.Op != syntax.OpCharClass || len(t.Rune) == 0 {
		return false
	}
	for _, r := range t.Rune {
		if r >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// hasRun reports whether s has n consecutive bytes of set.
func hasRun(s string, set *[256]bool, n int) bool {
	k := 0
	for i := 0; i < len(s); i++ {
		if !set[s[i]] {
			k = 0
			continue
		}
		if k++; k >= n {
			return true
		}
	}
	return false
}

// minBytes is a lower bound of the length of any match of t: every rune
// takes at least one byte.
func minBytes(t *syntax.Regexp) int {
	switch t.Op {
	case syntax.OpLiteral:
		return len(t.Rune)
	case syntax.OpCharClass, syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return 1
	case syntax.OpCapture, syntax.OpPlus:
		return minBytes(t.Sub[0])
	case syntax.OpRepeat:
		return t.Min * minBytes(t.Sub[0])
	case syntax.OpConcat:
		n := 0
		for _, sub := range t.Sub {
			n += minBytes(sub)
		}
		return n
	case syntax.OpAlternate:
		n := -1
		for _, sub := range t.Sub {
			if m := minBytes(sub); n < 0 || m < n {
				n = m
			}
		}
		return max(n, 0)
	}
	return 0 // empty, anchors, star, quest
}

func (m *strMatch) match(s string) bool {
	switch m.kind {
	case mExact:
		return s == m.s
	case mPrefix:
		return strings.HasPrefix(s, m.s)
	case mSuffix:
		return strings.HasSuffix(s, m.s)
	case mContains:
		return strings.Contains(s, m.s)
	case mAny:
		return true
	case mParts:
		return matchParts(s, m.parts)
	default:
		return len(s) >= m.minLen && (m.lits == nil || hasAny(s, m.lits)) &&
			(m.run == nil || hasRun(s, m.run, m.runLen)) && m.re.MatchString(s)
	}
}

// matchParts matches lit0*lit1*...*litN: a prefix, a suffix, and the middle
// pieces in order. Leftmost matching of each middle piece is optimal, so no
// backtracking is needed.
func matchParts(s string, parts []string) bool {
	first, last := parts[0], parts[len(parts)-1]
	if len(s) < len(first)+len(last) || !strings.HasPrefix(s, first) || !strings.HasSuffix(s, last) {
		return false
	}
	mid := s[len(first) : len(s)-len(last)]
	for _, p := range parts[1 : len(parts)-1] {
		i := strings.Index(mid, p)
		if i < 0 {
			return false
		}
		mid = mid[i+len(p):]
	}
	return true
}

// newStrMatch picks the cheapest matcher for a pattern.
func newStrMatch(p sigma.Pattern, cased bool) strMatch {
	if !cased {
		p = lowerPattern(p)
	}
	if s, ok := p.Literal(); ok {
		return strMatch{kind: mExact, s: s}
	}
	if hasOne(p) {
		return regexMatch(regexp.MustCompile(globRegexp(p)))
	}
	switch {
	case len(p) == 1:
		return strMatch{kind: mAny}
	case len(p) == 2 && p[0].Kind == sigma.PieceLit:
		return strMatch{kind: mPrefix, s: p[0].Lit}
	case len(p) == 2:
		return strMatch{kind: mSuffix, s: p[1].Lit}
	case len(p) == 3 && p[0].Kind == sigma.PieceStar && p[2].Kind == sigma.PieceStar:
		return strMatch{kind: mContains, s: p[1].Lit}
	}
	return strMatch{kind: mParts, parts: starParts(p)}
}

func lowerPattern(p sigma.Pattern) sigma.Pattern {
	out := make(sigma.Pattern, len(p))
	for i, x := range p {
		x.Lit = strings.ToLower(x.Lit)
		out[i] = x
	}
	return out
}

func hasOne(p sigma.Pattern) bool {
	for _, x := range p {
		if x.Kind == sigma.PieceOne {
			return true
		}
	}
	return false
}

// starParts splits a pattern of literals and stars at the stars; empty
// strings stand for a leading or trailing star.
func starParts(p sigma.Pattern) []string {
	parts := []string{""}
	for _, x := range p {
		if x.Kind == sigma.PieceStar {
			parts = append(parts, "")
			continue
		}
		parts[len(parts)-1] += x.Lit
	}
	return parts
}

// globRegexp is the regexp of a pattern with "?" wildcards.
func globRegexp(p sigma.Pattern) string {
	return patternRegexp("", p, func(b *strings.Builder, lit string) {
		b.WriteString(regexp.QuoteMeta(lit))
	})
}

// patternRegexp is the regexp of a wildcard pattern, with lit writing each
// literal piece. A leading or trailing "*" drops the anchor instead of
// becoming ".*": the search finds the same strings, without backtracking
// over every prefix of the value.
func patternRegexp(flags string, p sigma.Pattern, lit func(*strings.Builder, string)) string {
	start, end := 0, len(p)
	for start < end && p[start].Kind == sigma.PieceStar {
		start++
	}
	for end > start && p[end-1].Kind == sigma.PieceStar {
		end--
	}
	var b strings.Builder
	b.WriteString(flags + `(?s)`)
	if start == 0 {
		b.WriteString(`^`)
	}
	for _, x := range p[start:end] {
		switch x.Kind {
		case sigma.PieceStar:
			b.WriteString(`.*`)
		case sigma.PieceOne:
			b.WriteString(`.`)
		default:
			lit(&b, x.Lit)
		}
	}
	if end == len(p) {
		b.WriteString(`$`)
	}
	return b.String()
}

// multiMin is the list length from which a field's patterns are found all at
// once through a LitIndex instead of one by one: SigmaHQ's process rules
// list dozens to hundreds of CommandLine substrings.
const multiMin = 8

// newMultiMatch indexes the literals of a long OR list of exact, prefix,
// suffix and contains patterns; it returns nil when the list is short, uses
// "all", or holds a pattern without a literal of its own (regexps, "*",
// ordered pieces), which keep the one-by-one path.
func newMultiMatch(ms []strMatch, all bool) *LitIndex {
	if all || len(ms) < multiMin {
		return nil
	}
	lits := make([]string, len(ms))
	for i := range ms {
		switch ms[i].kind {
		case mExact, mPrefix, mSuffix, mContains:
			lits[i] = ms[i].s
		default:
			return nil
		}
	}
	return NewLitIndex(lits, false) // matched against lowered values
}

// matchMulti: a value matches when a pattern whose literal occurs in it
// accepts it (the literal is the whole pattern text, so the index misses no
// match; exact, prefix and suffix patterns are then checked in place).
func matchMulti(e *Event, idx *LitIndex, ms []strMatch, vals []string) bool {
	for _, v := range vals {
		e.hits = idx.AppendHits(e.hits[:0], v)
		for _, li := range e.hits {
			if ms[li].match(v) {
				return true
			}
		}
	}
	return false
}
