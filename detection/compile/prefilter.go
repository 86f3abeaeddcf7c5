package compile

import (
	"regexp/syntax"
	"strings"
	"unicode/utf8"
)

// Atom is one piece of a rule's necessary condition: some value of the field
// (ids: the field, then its fallbacks, resolved as the rule resolves them;
// nil for any value of the event, as keyword searches read) contains Lit.
// Lit is lowered unless Cased.
type Atom struct {
	IDs   []int
	Lit   string
	Cased bool
}

// Prefilter returns atoms of which at least one holds whenever the rule
// matches, so an engine may skip the rule on events where none holds: the
// trigger of its need (see Need). ok is false when no such set can be
// derived (negations, regular expressions without literals, numeric
// tests...): the rule must then run on every event of its logsource.
func (r *Rule) Prefilter() (atoms []Atom, ok bool) {
	n, ok := r.Need()
	if !ok {
		return nil, false
	}
	return trigger(n), true
}

// trigger returns atoms one of which holds whenever n does: an atom itself;
// for an OR, the union of its terms' triggers; for an AND, whose terms all
// hold, the most selective term's trigger. Longer literals are rarer in
// real values ("\cmd.exe" is in most process events, "-encodedcommand" in
// few), so the shortest literal decides first and the number of atoms
// second.
func trigger(n Need) []Atom {
	if n.Atom != nil {
		return []Atom{*n.Atom}
	}
	var out []Atom
	for _, k := range n.Kids {
		t := trigger(k)
		switch {
		case !n.And:
			out = append(out, t...)
		case out == nil || better(t, out):
			out = t
		}
	}
	return out
}

// Need is a necessary condition of a rule over atoms, as a formula of ANDs
// and ORs: whenever the rule matches an event, Need holds when each atom is
// read as true if some value of its field contains its literal. Prefilter
// gives the atoms one of which must hold, to find candidate rules; Need then
// rules out most false candidates with bit tests, before the rule runs. A
// leaf has Atom set; an inner node has Kids, all of which (And) or one of
// which must hold.
type Need struct {
	Atom *Atom
	And  bool
	Kids []Need
}

// Need returns the rule's necessary condition; ok is false when none can be
// derived (then Prefilter fails too).
func (r *Rule) Need() (Need, bool) { return need(r.cond) }

func need(n node) (Need, bool) {
	switch n := n.(type) {
	case andNode:
		return needAll(n)
	case orNode:
		return needAny(n)
	case atLeastNode:
		if n.n >= len(n.terms) {
			return needAll(n.terms)
		}
		return needAny(n.terms)
	case *fieldNode:
		if n.kind != kindString || n.neq || n.matchNull {
			return Need{}, false
		}
		return stringNeed(n.strs, n.all, n.cased, n.ids)
	case *keywordNode:
		return stringNeed(n.strs, n.all, n.cased, nil)
	}
	return Need{}, false
}

// needAll: the terms that have a need must all hold; the others (a NOT, a
// regexp without literal) are left out, which only weakens the condition.
func needAll(terms []node) (Need, bool) {
	var kids []Need
	for _, t := range terms {
		if k, ok := need(t); ok {
			kids = append(kids, k)
		}
	}
	return combine(kids, true)
}

// needAny: one term holds, so every term must have a need.
func needAny(terms []node) (Need, bool) {
	kids := make([]Need, 0, len(terms))
	for _, t := range terms {
		k, ok := need(t)
		if !ok {
			return Need{}, false
		}
		kids = append(kids, k)
	}
	return combine(kids, false)
}

func combine(kids []Need, and bool) (Need, bool) {
	switch len(kids) {
	case 0:
		return Need{}, false
	case 1:
		return kids[0], true
	}
	return Need{And: and, Kids: kids}, true
}

// stringNeed: a string test holds only if one of its patterns does (all of
// them with "all"), and a pattern only if its literal is in the value.
func stringNeed(strs []strMatch, all, cased bool, ids []int) (Need, bool) {
	kids := make([]Need, 0, len(strs))
	for i := range strs {
		k, ok := patternNeed(&strs[i], cased, ids)
		switch {
		case ok:
			kids = append(kids, k)
		case !all: // this pattern alone may match: nothing is necessary
			return Need{}, false
		}
	}
	return combine(kids, all)
}

func patternNeed(m *strMatch, cased bool, ids []int) (Need, bool) {
	if m.kind == mParts { // "ipconfig*|*find": every part, in order
		var kids []Need
		for _, p := range m.parts {
			if p != "" {
				kids = append(kids, Need{Atom: &Atom{IDs: ids, Lit: p, Cased: cased}})
			}
		}
		return combine(kids, true)
	}
	if m.kind != mRegex {
		lit, ok := m.literal()
		return Need{Atom: &Atom{IDs: ids, Lit: lit, Cased: cased}}, ok
	}
	atoms, ok := m.regexAtoms(cased, ids)
	if !ok {
		return Need{}, false
	}
	leaves := make([]Need, len(atoms))
	for j := range atoms {
		leaves[j] = Need{Atom: &atoms[j]}
	}
	return combine(leaves, false)
}

func better(a, b []Atom) bool {
	if sa, sb := shortest(a), shortest(b); sa != sb {
		return sa > sb
	}
	return len(a) < len(b)
}

func shortest(atoms []Atom) int {
	m := int(^uint(0) >> 1)
	for _, a := range atoms {
		m = min(m, len(a.Lit))
	}
	return m
}

// literal returns text that every string this matcher accepts contains.
func (m *strMatch) literal() (string, bool) {
	switch m.kind {
	case mExact, mPrefix, mSuffix, mContains:
		return m.s, m.s != ""
	case mParts:
		longest := ""
		for _, p := range m.parts {
			if len(p) > len(longest) {
				longest = p
			}
		}
		return longest, longest != ""
	}
	return "", false // mAny matches anything; regexps are not mined
}

// regexAtoms returns the literals one of which every match of regexp m
// contains (see regexMatch), as atoms of the field ids. Case-folded
// literals are lowered and checked on lowered values. (Go folds a few
// non-ASCII runes onto ASCII ones, such as the Kelvin sign onto k;
// strings.ToLower maps those the same way, except U+017F, the long s, which
// the SigmaHQ corpus does not use.)
func (m *strMatch) regexAtoms(cased bool, ids []int) ([]Atom, bool) {
	if m.mined == nil {
		return nil, false
	}
	atoms := make([]Atom, len(m.mined))
	for i, l := range m.mined {
		a := Atom{IDs: ids, Lit: l.s, Cased: cased && !l.fold}
		if !a.Cased {
			a.Lit = strings.ToLower(a.Lit)
		}
		atoms[i] = a
	}
	return atoms, true
}

type regexLit struct {
	s    string
	fold bool
}

// regexLits mines a (simplified) regexp for literals one of which every
// match contains: a literal run, the best part of a concatenation, every
// branch of an alternation.
func regexLits(t *syntax.Regexp) ([]regexLit, bool) {
	switch t.Op {
	case syntax.OpLiteral:
		return []regexLit{{string(t.Rune), t.Flags&syntax.FoldCase != 0}}, len(t.Rune) > 0
	case syntax.OpCapture, syntax.OpPlus:
		return regexLits(t.Sub[0])
	case syntax.OpRepeat:
		if t.Min >= 1 {
			return regexLits(t.Sub[0])
		}
	case syntax.OpConcat:
		return concatLits(t.Sub)
	case syntax.OpAlternate:
		var all []regexLit
		for _, sub := range t.Sub {
			lits, ok := regexLits(sub)
			if !ok {
				return nil, false
			}
			all = append(all, lits...)
		}
		return all, len(all) > 0
	}
	return nil, false
}

// maxProduct bounds the literals that one run of a concatenation expands to.
const maxProduct = 16

// concatLits takes the most selective literals of a concatenation: those of
// one term, or of a run of adjacent literals and small character classes
// combined, so that `\.[ "']` needs one of ". ", ".\"" or ".'" rather than
// just ".".
func concatLits(subs []*syntax.Regexp) ([]regexLit, bool) {
	var best []regexLit
	consider := func(lits []regexLit) {
		if lits != nil && (best == nil || shortestLit(lits) > shortestLit(best)) {
			best = lits
		}
	}
	var run []string // nil: no run open
	fold := false
	flush := func() {
		if run != nil {
			lits := make([]regexLit, len(run))
			for i, r := range run {
				lits[i] = regexLit{r, fold}
			}
			consider(lits)
		}
		run, fold = nil, false
	}
	for _, sub := range subs {
		alts, f, ok := expandable(sub)
		if !ok {
			flush()
			if lits, ok := regexLits(sub); ok {
				consider(lits)
			}
			continue
		}
		if run != nil && len(run)*len(alts) > maxProduct {
			flush()
		}
		if run == nil {
			run = []string{""}
		}
		next := make([]string, 0, len(run)*len(alts))
		for _, r := range run {
			for _, a := range alts {
				next = append(next, r+a)
			}
		}
		run, fold = next, fold || f
	}
	flush()
	return best, best != nil
}

// expandable returns the strings a literal or a small ASCII character
// class matches, and whether the literal folds case.
func expandable(t *syntax.Regexp) (alts []string, fold, ok bool) {
	switch t.Op {
	case syntax.OpLiteral:
		return []string{string(t.Rune)}, t.Flags&syntax.FoldCase != 0, len(t.Rune) > 0
	case syntax.OpCharClass:
		for i := 0; i+1 < len(t.Rune); i += 2 {
			lo, hi := t.Rune[i], t.Rune[i+1]
			if hi >= utf8.RuneSelf || int(hi-lo)+1+len(alts) > 4 {
				return nil, false, false
			}
			for r := lo; r <= hi; r++ {
				alts = append(alts, string(r))
			}
		}
		return alts, false, len(alts) > 0
	}
	return nil, false, false
}

func shortestLit(lits []regexLit) int {
	m := int(^uint(0) >> 1)
	for _, l := range lits {
		m = min(m, len(l.s))
	}
	return m
}

// ScanValues returns what a folding LitIndex scans for the field ids (nil:
// every value): each value as it is when cased or ASCII, else lowered. Most
// values are ASCII, so most are scanned without a lowered copy. For a
// folding keyword search, the values come joined into one text, separated
// by NUL bytes: a long text scans faster than many short ones, and a
// literal found across a separator is at worst a false candidate, which the
// rule itself then rejects. They are valid until Reset.
func (e *Event) ScanValues(ids []int, cased bool) []string {
	if ids == nil {
		if cased {
			return e.keywords(true)
		}
		return e.KeywordScan(0)
	}
	fv := e.field(ids)
	if !fv.present || cased {
		return fv.strs // nil when absent
	}
	if fv.scanGen != e.gen {
		fv.scanGen = e.gen
		fv.scans = e.scanForms(fv.scans[:0], fv.strs)
	}
	return fv.scans
}

func (e *Event) scanForms(dst, src []string) []string {
	for _, s := range src {
		if !isASCII(s) {
			s = e.lowerString(s)
		}
		dst = append(dst, s)
	}
	return dst
}
