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
}

// atomGroup indexes the literals that rules need in one field.
type atomGroup struct {
	ids    []int
	cased  bool
	lits   []string
	owners [][]int32 // per literal: the rules (bucket positions) needing it
	index  *compile.LitIndex
}

func newBucket(rules []*compile.Rule) *bucket {
	b := &bucket{rules: rules, always: make([]uint64, (len(rules)+63)/64)}
	byField := map[string]*atomGroup{}
	litPos := map[*atomGroup]map[string]int{}
	for i, r := range rules {
		atoms, ok := r.Prefilter()
		if !ok {
			b.always[i/64] |= 1 << (i % 64)
			continue
		}
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
			if !slices.Contains(g.owners[p], int32(i)) {
				g.owners[p] = append(g.owners[p], int32(i))
			}
		}
	}
	for _, g := range b.groups {
		g.index = compile.NewLitIndex(g.lits)
	}
	return b
}

func fieldKey(ids []int, cased bool) string {
	k := strconv.FormatBool(cased)
	for _, id := range ids {
		k += "," + strconv.Itoa(id)
	}
	return k
}

// appendMatches evaluates the candidate rules of ev; marks is scratch space
// of at least len(b.always) words.
func (b *bucket) appendMatches(dst []*sigma.Rule, ev *compile.Event, marks []uint64) []*sigma.Rule {
	marks = marks[:len(b.always)]
	copy(marks, b.always)
	for _, g := range b.groups {
		for _, v := range ev.Values(g.ids, g.cased) {
			g.index.Scan(v, func(li int32) {
				for _, ri := range g.owners[li] {
					marks[ri/64] |= 1 << (ri % 64)
				}
			})
		}
	}
	for w, word := range marks {
		for word != 0 {
			i := w*64 + bits.TrailingZeros64(word)
			word &= word - 1
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
