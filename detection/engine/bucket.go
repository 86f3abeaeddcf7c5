package engine

import (
	"math/bits"
	"slices"
	"strconv"
	"strings"

	"webshellbeat/detection/compile"
	"webshellbeat/detection/sigma"
)

// bucket holds the rules that run on one kind of event, with a prefilter.
// Every literal that a rule needs in a field (a compile.Atom) has a bit; the
// literals of a field are found in one pass of its values (a LitIndex per
// field). A rule becomes a candidate when a literal of its trigger
// (compile.Rule.Prefilter) is found, and is evaluated only if its need
// (compile.Rule.Need) holds over the bits. Rules without a prefilter always
// run. Rules keep their load order, so matches come out as in a full scan.
type bucket struct {
	rules  []*compile.Rule
	always []uint64 // bitset of rules evaluated on every event
	groups []*atomGroup
	needs  []*needExpr // per rule: nil when the trigger says all
	atoms  int         // number of atom bits
}

// atomGroup indexes the literals that rules need in one field.
type atomGroup struct {
	ids    []int
	cased  bool
	lits   []string
	base   int       // the atom bit of lits[0]; lits[i] has base+i
	owners [][]int32 // per literal: the rules it triggers
	index  *compile.LitIndex
	minLen int // the shortest literal
}

// needExpr is a compile.Need over atom bits: its atoms are bits (kept as
// masks of the words they fall in, so that a long OR of literals is tested
// a word at a time), its inner terms kids; all of them hold (and) or one.
type needExpr struct {
	and   bool
	bits  []int32 // while building: refs (see atomTable.place)
	words []wordMask
	kids  []needExpr
}

type wordMask struct {
	word int
	mask uint64
}

func (n *needExpr) holds(hit []uint64) bool {
	for _, w := range n.words {
		h := hit[w.word] & w.mask
		if n.and && h != w.mask {
			return false
		}
		if !n.and && h != 0 {
			return true
		}
	}
	for i := range n.kids {
		if n.kids[i].holds(hit) != n.and {
			return !n.and
		}
	}
	return n.and
}

// atomTable assigns groups and bits to atoms while a bucket is built.
type atomTable struct {
	b      *bucket
	groups map[string]*atomGroup
	pos    map[*atomGroup]map[string]int
	// refs are the atoms of needs: a need's bits hold positions in refs
	// until newBucket has placed the groups.
	refs []atomRef
}

type atomRef struct {
	g  *atomGroup
	li int
}

// commonByte tells the bytes that are in nearly every value (letters,
// digits, space and path punctuation): a need that asks for one of them
// alone says nothing, so it counts as true, and the byte is not searched
// for its sake. Rarer ones ("|", ">", "`") are worth a bit.
func commonByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte(` -\./:_`, c) >= 0
}

func newBucket(rules []*compile.Rule) *bucket {
	b := &bucket{rules: rules, always: make([]uint64, (len(rules)+63)/64), needs: make([]*needExpr, len(rules))}
	t := &atomTable{b: b, groups: map[string]*atomGroup{}, pos: map[*atomGroup]map[string]int{}}
	for i, r := range rules {
		trigger, ok := r.Prefilter()
		if !ok {
			b.always[i/64] |= 1 << (i % 64)
			continue
		}
		for _, a := range trigger {
			g, li := t.atom(a)
			if !slices.Contains(g.owners[li], int32(i)) {
				g.owners[li] = append(g.owners[li], int32(i))
			}
		}
	}
	// Needs come second, so that they know which short literals the
	// triggers index anyway.
	for i, r := range rules {
		if n, ok := r.Need(); ok && hasAnd(n) {
			if e, ok := t.build(n); ok {
				b.needs[i] = &e
			}
		}
	}
	// Keyword groups first: their walk of the whole document also tells the
	// event whether any key has a dot, which spares later field lookups
	// from searching for flattened keys.
	slices.SortStableFunc(b.groups, func(x, y *atomGroup) int {
		return boolInt(x.ids != nil) - boolInt(y.ids != nil)
	})
	base := 0
	for _, g := range b.groups {
		g.base = base
		base += len(g.lits)
		g.index = compile.NewLitIndex(g.lits, !g.cased)
		g.minLen = g.index.MinLen()
	}
	b.atoms = base
	for _, e := range b.needs {
		if e != nil {
			t.place(e)
		}
	}
	return b
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// build turns need n into a needExpr; ok is false when it says nothing
// (common bytes count as true).
func (t *atomTable) build(n compile.Need) (e needExpr, ok bool) {
	if n.Atom != nil {
		ref, ok := t.ref(*n.Atom)
		return needExpr{bits: []int32{ref}}, ok
	}
	e.and = n.And
	for _, k := range n.Kids {
		known := false
		if k.Atom != nil {
			var ref int32
			if ref, known = t.ref(*k.Atom); known {
				e.bits = append(e.bits, ref)
			}
		} else {
			var ke needExpr
			if ke, known = t.build(k); known {
				e.kids = append(e.kids, ke)
			}
		}
		if !known && !n.And { // one term of an OR is true: so is the OR
			return needExpr{}, false
		}
	}
	return e, len(e.bits)+len(e.kids) > 0
}

// ref returns the position in t.refs of atom a, unless it is a common byte
// that no trigger has indexed.
func (t *atomTable) ref(a compile.Atom) (int32, bool) {
	if len(a.Lit) == 1 && commonByte(a.Lit[0]) {
		g := t.groups[fieldKey(a.IDs, a.Cased)]
		if _, ok := t.pos[g][a.Lit]; g == nil || !ok {
			return 0, false
		}
	}
	g, li := t.atom(a)
	t.refs = append(t.refs, atomRef{g, li})
	return int32(len(t.refs) - 1), true
}

// place turns the refs in e into masks of atom bits.
func (t *atomTable) place(e *needExpr) {
	for _, r := range e.bits {
		ref := t.refs[r]
		bit := ref.g.base + ref.li
		i := slices.IndexFunc(e.words, func(w wordMask) bool { return w.word == bit/64 })
		if i < 0 {
			e.words = append(e.words, wordMask{word: bit / 64})
			i = len(e.words) - 1
		}
		e.words[i].mask |= 1 << (bit % 64)
	}
	e.bits = nil
	for i := range e.kids {
		t.place(&e.kids[i])
	}
}

// hasAnd reports whether n says more than "one of its atoms": an OR of
// atoms only is what the trigger already checks.
func hasAnd(n compile.Need) bool {
	if n.Atom != nil {
		return false
	}
	if n.And {
		return true
	}
	for _, k := range n.Kids {
		if hasAnd(k) {
			return true
		}
	}
	return false
}

// atom returns the group and literal position of a, adding it if new.
func (t *atomTable) atom(a compile.Atom) (*atomGroup, int) {
	key := fieldKey(a.IDs, a.Cased)
	g := t.groups[key]
	if g == nil {
		g = &atomGroup{ids: a.IDs, cased: a.Cased}
		t.groups[key] = g
		t.pos[g] = map[string]int{}
		t.b.groups = append(t.b.groups, g)
	}
	p, seen := t.pos[g][a.Lit]
	if !seen {
		p = len(g.lits)
		t.pos[g][a.Lit] = p
		g.lits = append(g.lits, a.Lit)
		g.owners = append(g.owners, nil)
	}
	return g, p
}

func fieldKey(ids []int, cased bool) string {
	k := strconv.FormatBool(cased)
	for _, id := range ids {
		k += "," + strconv.Itoa(id)
	}
	return k
}

// words is the scratch a bucket needs: rule marks, then atom bits.
func (b *bucket) words() int { return len(b.always) + (b.atoms+63)/64 }

// appendMatches evaluates the candidate rules of ev.
func (b *bucket) appendMatches(dst []*sigma.Rule, ev *compile.Event, sc *scratch) []*sigma.Rule {
	if len(sc.marks) < b.words() {
		sc.marks = make([]uint64, b.words())
	}
	marks := sc.marks[:len(b.always)]
	hit := sc.marks[len(b.always):b.words()]
	copy(marks, b.always)
	clear(hit)
	for _, g := range b.groups {
		var values []string
		if g.ids == nil && !g.cased {
			values = ev.KeywordScan(g.minLen)
		} else {
			values = ev.ScanValues(g.ids, g.cased)
		}
		for _, v := range values {
			sc.hits = g.index.AppendHits(sc.hits[:0], v)
			for _, li := range sc.hits {
				bit := g.base + int(li)
				hit[bit/64] |= 1 << (bit % 64)
				for _, o := range g.owners[li] {
					marks[o/64] |= 1 << (o % 64)
				}
			}
		}
	}
	for w, word := range marks {
		for word != 0 {
			i := w*64 + bits.TrailingZeros64(word)
			word &= word - 1
			if n := b.needs[i]; n != nil && !n.holds(hit) {
				continue
			}
			if r := b.rules[i]; r.Match(ev) {
				dst = append(dst, r.Rule)
			}
		}
	}
	return dst
}

// appendAll evaluates every rule: the reference for the prefilter.
func (b *bucket) appendAll(dst []*sigma.Rule, ev *compile.Event) []*sigma.Rule {
	for _, r := range b.rules {
		if r.Match(ev) {
			dst = append(dst, r.Rule)
		}
	}
	return dst
}
