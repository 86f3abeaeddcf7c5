package engine

import (
	"math/bits"
	"slices"
	"strconv"

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
}

// needExpr is a compile.Need over atom bits: its atoms are bits, its
// inner terms kids, all of which hold (and) or one.
type needExpr struct {
	and  bool
	bits []int32
	kids []needExpr
}

func (n *needExpr) holds(hit []uint64) bool {
	for _, b := range n.bits {
		if (hit[b/64]&(1<<(b%64)) != 0) != n.and {
			return !n.and
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
	b       *bucket
	groups  map[string]*atomGroup
	pos     map[*atomGroup]map[string]int
	pending []pendingBit // need leaves, given their bit once groups are placed
}

type pendingBit struct {
	bit *int32
	g   *atomGroup
	li  int
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
		if n, ok := r.Need(); ok && hasAnd(n) {
			b.needs[i] = t.expr(n)
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
	}
	b.atoms = base
	for _, p := range t.pending {
		*p.bit = int32(p.g.base + p.li)
	}
	return b
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
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

// expr turns n into a needExpr. A leaf's bit is known only once newBucket
// has placed the groups, so leaves wait in t.pending.
func (t *atomTable) expr(n compile.Need) *needExpr {
	e := &needExpr{}
	t.fill(e, n)
	return e
}

// fill makes e the inner term n (never a lone atom: hasAnd holds).
func (t *atomTable) fill(e *needExpr, n compile.Need) {
	e.and = n.And
	nbits := 0
	for _, k := range n.Kids {
		if k.Atom != nil {
			nbits++
		}
	}
	e.bits = make([]int32, nbits)
	e.kids = make([]needExpr, 0, len(n.Kids)-nbits)
	nbits = 0
	for _, k := range n.Kids {
		if k.Atom == nil {
			e.kids = append(e.kids, needExpr{})
			t.fill(&e.kids[len(e.kids)-1], k)
			continue
		}
		g, li := t.atom(*k.Atom)
		t.pending = append(t.pending, pendingBit{&e.bits[nbits], g, li})
		nbits++
	}
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
		for _, v := range ev.ScanValues(g.ids, g.cased) {
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
