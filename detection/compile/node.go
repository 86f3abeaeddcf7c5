package compile

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"webshellbeat/detection/sigma"
)

// node is a compiled condition or search.
type node interface{ eval(e *Event) bool }

type andNode []node

func (n andNode) eval(e *Event) bool {
	for _, t := range n {
		if !t.eval(e) {
			return false
		}
	}
	return true
}

type orNode []node

func (n orNode) eval(e *Event) bool {
	for _, t := range n {
		if t.eval(e) {
			return true
		}
	}
	return false
}

// orOf avoids a wrapper around a single term; terms are tried cheapest
// first.
func orOf(ts []node) node {
	if len(ts) == 1 {
		return ts[0]
	}
	return orNode(byCost(ts))
}

// byCost orders the terms of an AND or OR so that cheap tests run before
// regular expressions and keyword searches over the whole event: the result
// is the same (evaluation has no side effects), the work often much smaller.
func byCost(ts []node) []node {
	slices.SortStableFunc(ts, func(a, b node) int { return cost(a) - cost(b) })
	return ts
}

// cost is a rough relative price of evaluating a node once.
func cost(n node) int {
	switch n := n.(type) {
	case andNode:
		return sumCost(n)
	case orNode:
		return sumCost(n)
	case notNode:
		return cost(n.x)
	case atLeastNode:
		return sumCost(n.terms)
	case *keywordNode:
		return 100 // walks and lowers every value of the event
	case *fieldNode:
		c := 1
		for i := range n.strs {
			if n.strs[i].kind == mRegex {
				c += 10
			} else if n.multi == nil {
				c++
			}
		}
		return c
	}
	return 1
}

func sumCost[T ~[]node](ts T) int {
	c := 0
	for _, t := range ts {
		c += cost(t)
	}
	return c
}

type notNode struct{ x node }

func (n notNode) eval(e *Event) bool { return !n.x.eval(e) }

// atLeastNode is "N of": at least n terms are true.
type atLeastNode struct {
	n     int
	terms []node
}

func (n atLeastNode) eval(e *Event) bool {
	c := 0
	for _, t := range n.terms {
		if t.eval(e) {
			if c++; c >= n.n {
				return true
			}
		}
	}
	return false
}

type fieldKind uint8

const (
	kindString fieldKind = iota
	kindExists
	kindCIDR
	kindFieldRef
	kindCompare
	kindTime // a part of a timestamp (time modifiers), compared with op or equal
)

// fieldNode matches one field against its values (ORed, or ANDed with
// "all"). Invariant: when cased is false, strs were lowered at compile time
// and are matched against the event's lowered strings.
type fieldNode struct {
	ids       []int // the field, then its fallbacks: the first present is used
	kind      fieldKind
	cased     bool
	all       bool
	neq       bool
	matchNull bool // a null value in the list: absent or null fields match
	exists    bool
	strs      []strMatch
	multi     *LitIndex // over strs' literals, for long lists (see newMultiMatch)
	nets      []netip.Prefix
	refs      []int
	op        sigma.Modifier // kindCompare, kindTime: lt...gte; kindFieldRef: contains, startswith, endswith or 0 (equal)
	nums      []float64
	part      sigma.Modifier // kindTime: minute...year
}

func (n *fieldNode) eval(e *Event) bool {
	fv := e.field(n.ids)
	if n.kind == kindExists {
		return fv.present == n.exists
	}
	if !fv.present {
		// An absent field differs from every value, as pySigma's NOT
		// COALESCE(field = value, 0) has it (neq takes no null).
		return n.matchNull != n.neq
	}
	var ok bool
	switch n.kind {
	case kindString:
		vals := fv.strs
		if !n.cased {
			vals = e.lower(fv)
		}
		if n.multi != nil {
			ok = matchMulti(e, n.multi, n.strs, vals)
		} else {
			ok = matchStrings(n.strs, vals, n.all)
		}
	case kindCIDR:
		ok = n.matchCIDR(fv.strs)
	case kindFieldRef:
		ok = n.matchRef(e, fv)
	case kindCompare:
		ok = n.matchCompare(fv.strs)
	case kindTime:
		ok = n.matchTime(fv.raw)
	}
	if n.neq {
		return !ok
	}
	return ok
}

// matchStrings: any matcher matches any value, or with all, every matcher
// matches some value.
func matchStrings(ms []strMatch, vals []string, all bool) bool {
	if len(ms) == 0 {
		return false
	}
	for i := range ms {
		hit := false
		for _, v := range vals {
			if ms[i].match(v) {
				hit = true
				break
			}
		}
		if hit && !all {
			return true
		}
		if !hit && all {
			return false
		}
	}
	return all
}

func (n *fieldNode) matchCIDR(vals []string) bool {
	for _, v := range vals {
		a, err := netip.ParseAddr(v)
		if err != nil {
			continue
		}
		a = a.Unmap()
		for _, p := range n.nets {
			if p.Contains(a) {
				return true
			}
		}
	}
	return false
}

func (n *fieldNode) matchRef(e *Event, fv *fieldVal) bool {
	a := fv.strs
	if !n.cased {
		a = e.lower(fv)
	}
	for _, id := range n.refs {
		rv := e.resolve(id)
		if !rv.present {
			continue
		}
		b := rv.strs
		if !n.cased {
			b = e.lower(rv)
		}
		if relates(a, b, n.op) {
			return true
		}
	}
	return false
}

// relates reports whether some value of a equals some value of b, or with
// op contains, starts or ends with it.
func relates(a, b []string, op sigma.Modifier) bool {
	for _, x := range a {
		for _, y := range b {
			switch op {
			case sigma.ModContains:
				if strings.Contains(x, y) {
					return true
				}
			case sigma.ModStartsWith:
				if strings.HasPrefix(x, y) {
					return true
				}
			case sigma.ModEndsWith:
				if strings.HasSuffix(x, y) {
					return true
				}
			default:
				if x == y {
					return true
				}
			}
		}
	}
	return false
}

func (n *fieldNode) matchCompare(vals []string) bool {
	for _, v := range vals {
		x, err := strconv.ParseFloat(v, 64)
		if err != nil {
			continue
		}
		for _, want := range n.nums {
			if compare(n.op, x, want) {
				return true
			}
		}
	}
	return false
}

func compare(op sigma.Modifier, x, want float64) bool {
	switch op {
	case sigma.ModLt:
		return x < want
	case sigma.ModLte:
		return x <= want
	case sigma.ModGt:
		return x > want
	default:
		return x >= want
	}
}

// keywordNode searches every scalar of the event.
type keywordNode struct {
	cased bool
	all   bool
	strs  []strMatch
	multi *LitIndex // see newMultiMatch
}

func (n *keywordNode) eval(e *Event) bool {
	if n.multi != nil {
		return matchMulti(e, n.multi, n.strs, e.keywords(n.cased))
	}
	return matchStrings(n.strs, e.keywords(n.cased), n.all)
}
