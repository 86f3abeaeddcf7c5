package sigma

import (
	"fmt"
	"strings"
	"testing"
)

// render prints a condition AST fully parenthesised, to pin precedence.
func render(n CondNode) string {
	switch n := n.(type) {
	case *CondAnd:
		return "(" + join(n.Terms, " and ") + ")"
	case *CondOr:
		return "(" + join(n.Terms, " or ") + ")"
	case *CondNot:
		return "not " + render(n.X)
	case *CondIdent:
		return n.Name
	case *CondOf:
		target := n.Pattern
		if n.Them {
			target = "them"
		}
		if n.Count == 0 {
			return "all of " + target
		}
		return fmt.Sprintf("%d of %s", n.Count, target)
	}
	return "?"
}

func join(ns []CondNode, sep string) string {
	var s []string
	for _, n := range ns {
		s = append(s, render(n))
	}
	return strings.Join(s, sep)
}

func TestParseCondition(t *testing.T) {
	tests := []struct{ in, want string }{
		{"sel", "sel"},
		{"a and b or c", "((a and b) or c)"},
		{"a or b and c", "(a or (b and c))"},
		{"not a and b", "(not a and b)"},
		{"not (a or b)", "not (a or b)"},
		{"a and not b and not c", "(a and not b and not c)"},
		{"1 of sel* and not 1 of filter_*", "(1 of sel* and not 1 of filter_*)"},
		{"all of them", "all of them"},
		{"1 of them", "1 of them"},
		{"any of sel_*", "1 of sel_*"},
		{"2 of sel*", "2 of sel*"},
		{"ALL OF Them", "all of them"},
		{"sel\n  and\n  (a or\n b)", "(sel and (a or b))"},
		{"((a))", "a"},
		{"selection-with-dash and sel.dot", "(selection-with-dash and sel.dot)"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			n, err := ParseCondition(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if got := render(n); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestParseConditionErrors(t *testing.T) {
	deep := strings.Repeat("(", MaxConditionDepth+1) + "a" + strings.Repeat(")", MaxConditionDepth+1)
	tests := []struct {
		name, in string
		off      int
		code     string
	}{
		{"empty", "  ", 0, CodeBadCondition},
		{"dangling and", "a and", 5, CodeBadCondition},
		{"unclosed", "(a or b", 7, CodeBadCondition},
		{"extra paren", "a)", 1, CodeBadCondition},
		{"keyword as ident", "a and or", 6, CodeBadCondition},
		{"bad quantifier", "x of sel", 0, CodeBadCondition},
		{"zero quantifier", "0 of sel", 0, CodeBadCondition},
		{"of without target", "1 of", 4, CodeBadCondition},
		{"bare wildcard", "sel*", 0, CodeBadCondition},
		{"aggregation", "sel | count() > 3", 4, CodeAggregation},
		{"too deep", deep, MaxConditionDepth, CodeBadCondition},
		{"not too deep", strings.Repeat("not ", MaxConditionDepth+1) + "a", 4 * (MaxConditionDepth - 1), CodeBadCondition},
		{"too long", strings.Repeat("a or ", MaxConditionLen/5+1) + "a", MaxConditionLen, CodeBadCondition},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseCondition(tt.in)
			ce, ok := err.(*CondError)
			if !ok {
				t.Fatalf("err = %v, want a *CondError", err)
			}
			if ce.Off != tt.off || ce.Code != tt.code {
				t.Errorf("got offset %d code %s (%s), want offset %d code %s", ce.Off, ce.Code, ce.Msg, tt.off, tt.code)
			}
		})
	}
}

func TestMatchName(t *testing.T) {
	tests := []struct {
		pattern, name string
		want          bool
	}{
		{"sel*", "selection", true},
		{"sel*", "sel", true},
		{"sel*", "filter", false},
		{"*_main_*", "filter_main_x", true},
		{"a*b*c", "aXbYc", true},
		{"a*b*c", "aXcYb", false},
		{"exact", "exact", true},
		{"*", "", true},
	}
	for _, tt := range tests {
		if got := MatchName(tt.pattern, tt.name); got != tt.want {
			t.Errorf("MatchName(%q, %q) = %v", tt.pattern, tt.name, got)
		}
	}
}

// FuzzParseCondition: the parser must not panic, must return either a tree or
// a located error inside the input, and a tree must render to a condition
// that parses to the same tree.
func FuzzParseCondition(f *testing.F) {
	for _, s := range []string{"a and b", "1 of sel* and not (f1 or f2)", "all of them", "(((a)))", "a | count() > 3", "not not a", "x of", ")"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseCondition(s)
		if err != nil {
			ce, ok := err.(*CondError)
			if !ok || ce.Off < 0 || ce.Off > len(s) {
				t.Fatalf("bad error %#v for %q", err, s)
			}
			return
		}
		again, err := ParseCondition(render(n))
		if err != nil {
			t.Fatalf("render %q of %q does not parse: %v", render(n), s, err)
		}
		if render(again) != render(n) {
			t.Fatalf("round trip %q -> %q -> %q", s, render(n), render(again))
		}
	})
}
