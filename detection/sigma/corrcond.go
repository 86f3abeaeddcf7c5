package sigma

import (
	"slices"
	"strings"
)

// maxCorrClauses bounds the alternatives an extended condition expands to
// ("(a or b) and (c or d) and ..." doubles them with each term).
const maxCorrClauses = 64

// corrExpression reads an extended correlation condition, pySigma's
// boolean expression over the rules of a temporal correlation ("upload and
// not scan"), into c.Expression and c.Clauses. It has the grammar of a
// detection condition without "of" and wildcards; keywords are
// case-insensitive, as in detection conditions (pySigma takes lowercase
// only). As in pySigma, a correlation without rules takes them from the
// expression, in order, and otherwise the expression must name exactly
// its rules.
func corrExpression(c *Correlation, expr string, bad func(string, ...any)) {
	node, err := ParseCondition(expr)
	if err != nil {
		bad("condition %q: %v", expr, err)
		return
	}
	var names []string
	clauses, err := dnf(node, false, &names)
	if err != nil {
		bad("condition %q: %v", expr, err)
		return
	}
	if len(c.Rules) == 0 {
		c.Rules = names
	}
	for _, n := range names {
		if !slices.Contains(c.Rules, n) {
			bad("condition names %q, which is not in the correlation's rules", n)
			return
		}
	}
	for _, r := range c.Rules {
		if !slices.Contains(names, r) {
			bad("rule %q is in the correlation's rules but not in its condition", r)
			return
		}
	}
	if len(clauses) == 0 {
		bad("condition %q can never hold", expr)
		return
	}
	for _, cl := range clauses {
		if len(cl.must) == 0 {
			// pySigma's SQL opens such a window at every event of the
			// rules' log source; the correlator sees only the events its
			// rules match.
			bad("condition %q holds with %q alone: each alternative needs a rule outside \"not\", whose match opens the window", expr, "not "+strings.Join(cl.mustNot, " and not "))
			return
		}
		c.Clauses = append(c.Clauses, CorrClause{Must: positions(c.Rules, cl.must), MustNot: positions(c.Rules, cl.mustNot)})
	}
	c.Expression = expr
}

// clause is one alternative of an expression in disjunctive normal form,
// by rule name.
type clause struct{ must, mustNot []string }

// dnf expands node (negated when neg) into alternatives, dropping those
// that contradict themselves ("a and not a"); it records the names it
// meets, in order, in names.
func dnf(node CondNode, neg bool, names *[]string) ([]clause, error) {
	switch n := node.(type) {
	case *CondIdent:
		if !slices.Contains(*names, n.Name) {
			*names = append(*names, n.Name)
		}
		if neg {
			return []clause{{mustNot: []string{n.Name}}}, nil
		}
		return []clause{{must: []string{n.Name}}}, nil
	case *CondNot:
		return dnf(n.X, !neg, names)
	case *CondAnd:
		return dnfTerms(n.Terms, !neg, neg, names)
	case *CondOr:
		return dnfTerms(n.Terms, neg, neg, names)
	case *CondOf:
		return nil, &CondError{n.Off, CodeBadCorrelation, `"of" is not allowed in a correlation condition`}
	}
	return nil, &CondError{node.Offset(), CodeBadCorrelation, "unexpected term"}
}

// dnfTerms combines the alternatives of terms: all of them (and) or any.
func dnfTerms(terms []CondNode, and, neg bool, names *[]string) ([]clause, error) {
	out := []clause{{}}
	if !and {
		out = nil
	}
	for _, t := range terms {
		alts, err := dnf(t, neg, names)
		if err != nil {
			return nil, err
		}
		if !and {
			out = append(out, alts...)
		} else {
			var next []clause
			for _, a := range out {
				for _, b := range alts {
					if c, ok := conjoin(a, b); ok {
						next = append(next, c)
					}
				}
			}
			out = next
		}
		if len(out) > maxCorrClauses {
			return nil, &CondError{t.Offset(), CodeBadCorrelation, "the condition has more than 64 alternatives"}
		}
	}
	return out, nil
}

// conjoin is a and b, or false when one asks for a rule the other excludes.
func conjoin(a, b clause) (clause, bool) {
	c := clause{must: union(a.must, b.must), mustNot: union(a.mustNot, b.mustNot)}
	for _, m := range c.must {
		if slices.Contains(c.mustNot, m) {
			return clause{}, false
		}
	}
	return c, true
}

func union(a, b []string) []string {
	out := slices.Clone(a)
	for _, x := range b {
		if !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}

// positions are the positions of names in rules, in rules' order.
func positions(rules, names []string) []int {
	var out []int
	for i, r := range rules {
		if slices.Contains(names, r) {
			out = append(out, i)
		}
	}
	return out
}
