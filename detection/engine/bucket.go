package engine

import (
	"math/bits"
	"slices"
	"strconv"

	"webshellbeat/detection/compile"
	"webshellbeat/detection/sigma"
)

// bucket holds the rules of one logsource route with a prefilter: a rule
// whose necessary literals (compile.Rule.Prefilter) do not occur in the event
// is not evaluated. Rules without a prefilter always run. Rules keep their
// load order, so matches come out in the same order as a full scan.
type bucket struct {
	rules  []*compile.Rule
	always []uint64 // bitset of rules evaluated on every event
	groups []*atomGroup
	// second[i] is rule i's second clause (-1 for none): a rule whose first
	// clause hit is a candidate only if this clause hit too.
	second  []int32
	clauses int // number of second clauses
}

// atomGroup indexes the literals that rules need in one field.
type atomGroup struct {
	ids    []int
	cased  bool
	lits   []string
	owners [][]int32 // per literal: rules (bucket positions, >= 0) whose first clause needs it, and second clauses (-1-index)
	index  *compile.LitIndex
}

func newBucket(rules []*compile.Rule) *bucket {
	b := &bucket{rules: rules, always: make([]uint64, (len(rules)+63)/64), second: make([]int32, len(rules))}
	byField := map[string]*atomGroup{}
	litPos := map[*atomGroup]map[string]int{}
	for i, r := range rules {
		b.second[i] = -1
		clauses, ok := r.PrefilterClauses()
		if !ok {
			b.always[i/64] |= 1 << (i % 64)
			continue
		}
		if len(clauses) > 1 {
			b.second[i] = int32(b.clauses)
			b.clauses++
		}
		for ci, atoms := range clauses {
			owner := int32(i)
			if ci == 1 {
				owner = -1 - b.second[i]
			}
			b.index(byField, litPos, atoms, owner)
		}
	}
	for _, g := range b.groups {
		g.index = compile.NewLitIndex(g.lits, !g.cased)
	}
	return b
}

// index adds the atoms of one clause, owned by owner, to the field groups.
func (b *bucket) index(byField map[string]*atomGroup, litPos map[*atomGroup]map[string]int, atoms []compile.Atom, owner int32) {
	for _, a := range atoms {
		key := fieldKey(a.IDs, a.Cased)
		g := byField[key]
		if g == nil {
			g = &atomGroup{ids: a.IDs, cased: a.Cased}
			byField[key] = g
			litPos[g] = map[string]int{}
			b.groups = append(b.groups, g)
		}
		p, seen := litPos[g][a.Lit]
		if !seen {
			p = len(g.lits)
			litPos[g][a.Lit] = p
			g.lits = append(g.lits, a.Lit)
			g.owners = append(g.owners, nil)
		}
		if !slices.Contains(g.owners[p], owner) {
			g.owners[p] = append(g.owners[p], owner)
		}
	}
}

func fieldKey(ids []int, cased bool) string {
	k := strconv.FormatBool(cased)
	for _, id := range ids {
		k += "," + strconv.Itoa(id)
	}
	return k
}

// words is the scratch a bucket needs: rule marks, then second-clause marks.
func (b *bucket) words() int { return len(b.always) + (b.clauses+63)/64 }

// appendMatches evaluates the candidate rules of ev.
func (b *bucket) appendMatches(dst []*sigma.Rule, ev *compile.Event, sc *scratch) []*sigma.Rule {
	if len(sc.marks) < b.words() {
		sc.marks = make([]uint64, b.words())
	}
	marks := sc.marks[:len(b.always)]
	seconds := sc.marks[len(b.always):b.words()]
	copy(marks, b.always)
	clear(seconds)
	for _, g := range b.groups {
		for _, v := range ev.ScanValues(g.ids, g.cased) {
			sc.hits = g.index.AppendHits(sc.hits[:0], v)
			for _, li := range sc.hits {
				for _, o := range g.owners[li] {
					if o >= 0 {
						marks[o/64] |= 1 << (o % 64)
					} else {
						c := -1 - o
						seconds[c/64] |= 1 << (c % 64)
					}
				}
			}
		}
	}
	for w, word := range marks {
		for word != 0 {
			i := w*64 + bits.TrailingZeros64(word)
			word &= word - 1
			if c := b.second[i]; c >= 0 && seconds[c/64]&(1<<(c%64)) == 0 {
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
