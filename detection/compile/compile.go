package compile

import (
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strconv"

	"webshellbeat/detection/sigma"
)

// Rule is a compiled detection rule. It is immutable and safe for
// concurrent use; each goroutine evaluates with its own Event.
type Rule struct {
	Rule *sigma.Rule
	cond node
}

// Match reports whether the event satisfies the rule.
func (r *Rule) Match(e *Event) bool { return r.cond.eval(e) }

// WithFilters returns a copy of r that matches only when every filter
// (compiled from sigma.FilterRule) matches too: a Sigma filter's condition,
// typically "not selection", is ANDed to the rule's.
func (r *Rule) WithFilters(filters ...*Rule) *Rule {
	if len(filters) == 0 {
		return r
	}
	terms := andNode{r.cond}
	for _, f := range filters {
		terms = append(terms, f.cond)
	}
	return &Rule{Rule: r.Rule, cond: terms}
}

// Compile builds the matcher of r, registering its field paths in fields.
// The parser has validated modifiers and values, so an error here means a
// rule that did not come from package sigma's loader.
func Compile(r *sigma.Rule, fields *Fields) (*Rule, error) {
	c := &compiler{rule: r, fields: fields, searches: map[string]node{}}
	var terms []node
	for _, cond := range r.Detection.Conditions {
		n, err := c.cond(cond.Expr)
		if err != nil {
			return nil, fmt.Errorf("%s:%d:%d: %w", r.Path, cond.Pos.Line, cond.Pos.Col, err)
		}
		terms = append(terms, n)
	}
	if len(terms) == 0 {
		return nil, fmt.Errorf("%s: rule %q has no condition", r.Path, r.Title)
	}
	return &Rule{Rule: r, cond: orOf(terms)}, nil
}

type compiler struct {
	rule     *sigma.Rule
	fields   *Fields
	searches map[string]node // each search compiled once, shared by references
}

func (c *compiler) cond(e sigma.CondNode) (node, error) {
	switch e := e.(type) {
	case *sigma.CondAnd:
		ts, err := c.conds(e.Terms)
		return andNode(byCost(ts)), err
	case *sigma.CondOr:
		ts, err := c.conds(e.Terms)
		return orOf(ts), err
	case *sigma.CondNot:
		x, err := c.cond(e.X)
		return notNode{x}, err
	case *sigma.CondIdent:
		return c.search(e.Name)
	case *sigma.CondOf:
		return c.of(e)
	}
	return nil, fmt.Errorf("unknown condition node %T", e)
}

func (c *compiler) conds(es []sigma.CondNode) ([]node, error) {
	out := make([]node, 0, len(es))
	for _, e := range es {
		n, err := c.cond(e)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, nil
}

// of expands "N of pattern" at compile time into the searches it names.
func (c *compiler) of(e *sigma.CondOf) (node, error) {
	names := e.Expand(c.rule.Detection.Names)
	if len(names) == 0 {
		return nil, fmt.Errorf("%q matches no search", e.Pattern)
	}
	ts := make([]node, 0, len(names))
	for _, name := range names {
		n, err := c.search(name)
		if err != nil {
			return nil, err
		}
		ts = append(ts, n)
	}
	switch {
	case e.Count == 0:
		return andNode(byCost(ts)), nil
	case e.Count == 1:
		return orOf(ts), nil
	default:
		return atLeastNode{n: e.Count, terms: ts}, nil
	}
}

func (c *compiler) search(name string) (node, error) {
	if n, ok := c.searches[name]; ok {
		return n, nil
	}
	s := c.rule.Detection.Searches[name]
	if s == nil {
		return nil, fmt.Errorf("unknown search %q", name)
	}
	alts := make([]node, 0, len(s.Alternatives))
	for _, alt := range s.Alternatives {
		fs := make([]node, 0, len(alt))
		for _, f := range alt {
			n, err := c.field(f)
			if err != nil {
				return nil, fmt.Errorf("search %q: %w", name, err)
			}
			fs = append(fs, n)
		}
		alts = append(alts, andNode(byCost(fs)))
	}
	n := orOf(alts)
	c.searches[name] = n
	return n, nil
}

// field compiles one "Field|mods: values".
func (c *compiler) field(f *sigma.FieldMatch) (node, error) {
	if f.Has(sigma.ModAll) && (f.Has(sigma.ModWindash) || f.Has(sigma.ModBase64Offset)) {
		return c.eachValue(f)
	}
	if f.Field == "" {
		return c.keywords(f)
	}
	if len(f.Also) > 0 {
		return c.anyField(f)
	}
	n := &fieldNode{ids: []int{c.fields.id(f.Field)}, all: f.Has(sigma.ModAll), neq: f.Has(sigma.ModNeq)}
	for _, fb := range f.Fallbacks {
		n.ids = append(n.ids, c.fields.id(fb))
	}
	for _, v := range f.Values {
		n.matchNull = n.matchNull || v.Kind == sigma.ValueNull
	}
	var err error
	switch {
	case f.Has(sigma.ModExists):
		n.kind, n.exists = kindExists, f.Values[0].Str == "true"
	case f.Has(sigma.ModCIDR):
		n.kind = kindCIDR
		for _, v := range f.Values {
			p, perr := netip.ParsePrefix(v.Str)
			if perr != nil {
				return nil, perr
			}
			n.nets = append(n.nets, p.Masked())
		}
	case f.Has(sigma.ModFieldRef):
		n.kind, n.cased = kindFieldRef, f.Has(sigma.ModCased)
		for _, m := range []sigma.Modifier{sigma.ModContains, sigma.ModStartsWith, sigma.ModEndsWith} {
			if f.Has(m) {
				n.op = m
			}
		}
		for _, v := range f.Values {
			n.refs = append(n.refs, c.fields.id(v.Str))
		}
	case f.TimeModifier() != 0:
		n.kind, n.part, n.op = kindTime, f.TimeModifier(), compareOp(f)
		for _, v := range f.Values {
			x, perr := strconv.ParseFloat(v.Str, 64)
			if perr != nil {
				return nil, perr
			}
			n.nums = append(n.nums, x)
		}
	case compareOp(f) != 0:
		n.kind, n.op = kindCompare, compareOp(f)
		for _, v := range f.Values {
			x, perr := strconv.ParseFloat(v.Str, 64)
			if perr != nil {
				return nil, perr
			}
			n.nums = append(n.nums, x)
		}
	default:
		n.kind = kindString
		n.cased, n.strs, err = stringMatchers(f)
		n.multi = newMultiMatch(n.strs, n.all)
	}
	return n, err
}

// anyField compiles a match that holds on any of its fields (Field, then
// Also): an OR of the same match on each. Negations and "all" then apply to
// each field as a whole, as in pySigma's expansion of a list mapping.
func (c *compiler) anyField(f *sigma.FieldMatch) (node, error) {
	names := append([]string{f.Field}, f.Also...)
	terms := make([]node, 0, len(names))
	for i, name := range names {
		one := *f
		one.Field, one.Also = name, nil
		if i > 0 {
			one.Fallbacks = nil // the fallbacks are the first field's
		}
		n, err := c.field(&one)
		if err != nil {
			return nil, err
		}
		terms = append(terms, n)
	}
	return orOf(terms), nil
}

func (c *compiler) keywords(f *sigma.FieldMatch) (node, error) {
	kw := *f
	kw.Values = sigma.KeywordValues(f)
	cased, ms, err := stringMatchers(&kw)
	return &keywordNode{cased: cased, all: f.Has(sigma.ModAll), strs: ms, multi: newMultiMatch(ms, f.Has(sigma.ModAll))}, err
}

// eachValue compiles "F|windash|contains|all: [a, b]" as "F|windash|contains:
// a" and "F|windash|contains: b", ANDed. all asks for every value, and the
// variants that windash or base64offset make of one value are its
// alternatives (pySigma's expansion), not values of their own, which all
// would ask for too: no command line holds " -n " and " /n " both.
func (c *compiler) eachValue(f *sigma.FieldMatch) (node, error) {
	terms := make([]node, 0, len(f.Values))
	for _, v := range f.Values {
		one := *f
		one.Modifiers = slices.DeleteFunc(slices.Clone(f.Modifiers), func(m sigma.Modifier) bool { return m == sigma.ModAll })
		one.Values = []sigma.Value{v}
		n, err := c.field(&one)
		if err != nil {
			return nil, err
		}
		terms = append(terms, n)
	}
	return andNode(byCost(terms)), nil
}

// stringMatchers compiles the string values of f. base64 output is matched
// case-sensitively, since its case carries the data.
func stringMatchers(f *sigma.FieldMatch) (bool, []strMatch, error) {
	if f.Has(sigma.ModRe) {
		var ms []strMatch
		for _, v := range f.Values {
			re, err := regexp.Compile(sigma.RegexpFlags(f) + v.Str)
			if err != nil {
				return false, nil, err
			}
			ms = append(ms, regexMatch(re))
		}
		return true, ms, nil
	}
	cased := f.Has(sigma.ModCased) || f.Has(sigma.ModBase64) || f.Has(sigma.ModBase64Offset)
	ps, ok := patterns(f, false)
	if !ok { // too many windash variants: one regexp per value instead
		ps, _ = patterns(f, true)
		ms := make([]strMatch, 0, len(ps))
		for _, p := range ps {
			re, err := regexp.Compile(windashRegexp(p, cased))
			if err != nil {
				return false, nil, err
			}
			ms = append(ms, regexMatch(re))
		}
		return true, ms, nil // the regexp handles case itself
	}
	ms := make([]strMatch, 0, len(ps))
	for _, p := range ps {
		ms = append(ms, newStrMatch(p, cased))
	}
	return cased, ms, nil
}

func compareOp(f *sigma.FieldMatch) sigma.Modifier {
	for _, m := range f.Modifiers {
		if m.IsCompare() {
			return m
		}
	}
	return 0
}
