package sigma

import (
	"fmt"
	"strconv"
	"strings"
)

// Condition grammar (keywords are case-insensitive):
//
//	expr    = and { "or" and }
//	and     = unary { "and" unary }
//	unary   = "not" unary | primary
//	primary = "(" expr ")" | quant "of" ( "them" | pattern ) | ident
//	quant   = "all" | "any" | number
//
// An ident is any run of characters other than space, "(", ")" and "|";
// a pattern may contain "*". A "|" starts a deprecated aggregation, which is
// reported as unsupported.

// Limits on condition input: rules come from users, the parser recurses.
const (
	MaxConditionLen   = 4096
	MaxConditionDepth = 64
)

// CondNode is a node of a condition expression. The unexported marker seals
// the set of node types.
type CondNode interface {
	Offset() int // byte offset of the node in the condition string
	condNode()
}

// CondAnd is true when every term is.
type CondAnd struct {
	Terms []CondNode
	Off   int
}

// CondOr is true when any term is.
type CondOr struct {
	Terms []CondNode
	Off   int
}

// CondNot negates X.
type CondNot struct {
	X   CondNode
	Off int
}

// CondIdent refers to one search identifier.
type CondIdent struct {
	Name string
	Off  int
}

// CondOf is "N of pattern", "all of pattern" or the same with "them".
// Count 0 means all.
type CondOf struct {
	Count   int
	Pattern string // empty for them
	Them    bool
	Off     int
}

func (n *CondAnd) Offset() int   { return n.Off }
func (n *CondOr) Offset() int    { return n.Off }
func (n *CondNot) Offset() int   { return n.Off }
func (n *CondIdent) Offset() int { return n.Off }
func (n *CondOf) Offset() int    { return n.Off }
func (*CondAnd) condNode()       {}
func (*CondOr) condNode()        {}
func (*CondNot) condNode()       {}
func (*CondIdent) condNode()     {}
func (*CondOf) condNode()        {}

// CondError is a condition syntax error at a byte offset of the condition.
type CondError struct {
	Off  int
	Code string
	Msg  string
}

func (e *CondError) Error() string { return fmt.Sprintf("offset %d: %s", e.Off, e.Msg) }

type tokKind uint8

const (
	tEOF tokKind = iota
	tLParen
	tRParen
	tPipe
	tWord
)

type token struct {
	kind tokKind
	text string
	off  int
}

func lexCondition(s string) []token {
	var toks []token
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(':
			toks = append(toks, token{tLParen, "(", i})
			i++
		case c == ')':
			toks = append(toks, token{tRParen, ")", i})
			i++
		case c == '|':
			toks = append(toks, token{tPipe, "|", i})
			i++
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\n\r()|", rune(s[j])) {
				j++
			}
			toks = append(toks, token{tWord, s[i:j], i})
			i = j
		}
	}
	return append(toks, token{tEOF, "", len(s)})
}

type condParser struct {
	toks  []token
	pos   int
	depth int
}

// ParseCondition parses a condition expression. Errors are *CondError.
func ParseCondition(s string) (CondNode, error) {
	if len(s) > MaxConditionLen {
		return nil, &CondError{MaxConditionLen, CodeBadCondition, fmt.Sprintf("condition longer than %d bytes", MaxConditionLen)}
	}
	p := &condParser{toks: lexCondition(s)}
	if p.peek().kind == tEOF {
		return nil, &CondError{0, CodeBadCondition, "empty condition"}
	}
	n, err := p.expr()
	if err != nil {
		return nil, err
	}
	switch t := p.peek(); t.kind {
	case tEOF:
		return n, nil
	case tPipe:
		return nil, &CondError{t.off, CodeAggregation, "aggregation expressions (\"|\") are deprecated and not supported; use a correlation rule"}
	default:
		return nil, &CondError{t.off, CodeBadCondition, fmt.Sprintf("unexpected %q", t.text)}
	}
}

func (p *condParser) peek() token { return p.toks[p.pos] }
func (p *condParser) next() token { t := p.toks[p.pos]; p.pos++; return t }

func (p *condParser) isWord(w string) bool {
	t := p.peek()
	return t.kind == tWord && strings.EqualFold(t.text, w)
}

func (p *condParser) expr() (CondNode, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > MaxConditionDepth {
		return nil, &CondError{p.peek().off, CodeBadCondition, fmt.Sprintf("condition nested deeper than %d", MaxConditionDepth)}
	}
	return p.binary("or", p.and, func(ts []CondNode, off int) CondNode { return &CondOr{ts, off} })
}

func (p *condParser) and() (CondNode, error) {
	return p.binary("and", p.unary, func(ts []CondNode, off int) CondNode { return &CondAnd{ts, off} })
}

// binary parses operand { op operand } into one n-ary node.
func (p *condParser) binary(op string, operand func() (CondNode, error), mk func([]CondNode, int) CondNode) (CondNode, error) {
	first, err := operand()
	if err != nil {
		return nil, err
	}
	terms := []CondNode{first}
	for p.isWord(op) {
		p.next()
		n, err := operand()
		if err != nil {
			return nil, err
		}
		terms = append(terms, n)
	}
	if len(terms) == 1 {
		return first, nil
	}
	return mk(terms, first.Offset()), nil
}

func (p *condParser) unary() (CondNode, error) {
	if !p.isWord("not") {
		return p.primary()
	}
	t := p.next()
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > MaxConditionDepth {
		return nil, &CondError{t.off, CodeBadCondition, fmt.Sprintf("condition nested deeper than %d", MaxConditionDepth)}
	}
	x, err := p.unary()
	if err != nil {
		return nil, err
	}
	return &CondNot{x, t.off}, nil
}

func (p *condParser) primary() (CondNode, error) {
	t := p.next()
	switch t.kind {
	case tLParen:
		n, err := p.expr()
		if err != nil {
			return nil, err
		}
		if c := p.next(); c.kind != tRParen {
			return nil, &CondError{c.off, CodeBadCondition, fmt.Sprintf("missing \")\" to close \"(\" at offset %d", t.off)}
		}
		return n, nil
	case tWord:
		if n, ok, err := p.quantified(t); ok || err != nil {
			return n, err
		}
		if isReserved(t.text) {
			return nil, &CondError{t.off, CodeBadCondition, fmt.Sprintf("unexpected keyword %q", t.text)}
		}
		if strings.ContainsAny(t.text, "*?") {
			return nil, &CondError{t.off, CodeBadCondition, fmt.Sprintf("wildcard %q outside \"1 of\"/\"all of\"", t.text)}
		}
		return &CondIdent{t.text, t.off}, nil
	case tEOF:
		return nil, &CondError{t.off, CodeBadCondition, "unexpected end of condition"}
	case tPipe:
		return nil, &CondError{t.off, CodeAggregation, "aggregation expressions (\"|\") are not supported"}
	default:
		return nil, &CondError{t.off, CodeBadCondition, fmt.Sprintf("unexpected %q", t.text)}
	}
}

// quantified parses "<quant> of <target>" when t starts one.
func (p *condParser) quantified(t token) (CondNode, bool, error) {
	if !p.isWord("of") {
		return nil, false, nil
	}
	count := 0
	switch q := strings.ToLower(t.text); q {
	case "all":
	case "any":
		count = 1
	default:
		n, err := strconv.Atoi(q)
		if err != nil || n < 1 {
			return nil, true, &CondError{t.off, CodeBadCondition, fmt.Sprintf("bad quantifier %q before \"of\"", t.text)}
		}
		count = n
	}
	p.next() // of
	target := p.next()
	if target.kind != tWord || (isReserved(target.text) && !strings.EqualFold(target.text, "them")) {
		return nil, true, &CondError{target.off, CodeBadCondition, "expected \"them\" or a search pattern after \"of\""}
	}
	if strings.EqualFold(target.text, "them") {
		return &CondOf{Count: count, Them: true, Off: t.off}, true, nil
	}
	return &CondOf{Count: count, Pattern: target.text, Off: t.off}, true, nil
}

func isReserved(w string) bool {
	switch strings.ToLower(w) {
	case "and", "or", "not", "of", "them":
		return true
	}
	return false
}

// MatchName reports whether a search name matches a condition pattern, where
// "*" matches any run of characters. Greedy with one backtrack point, so it
// stays O(len(pattern)*len(name)) on hostile input.
func MatchName(pattern, name string) bool {
	p, n, starP, starN := 0, 0, -1, 0
	for n < len(name) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			starP, starN = p, n
			p++
		case p < len(pattern) && pattern[p] == name[n]:
			p++
			n++
		case starP >= 0:
			starN++
			p, n = starP+1, starN
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// Expand resolves an "of" node against the search names, in file order.
// "them" excludes names starting with "_", as pySigma does.
func (n *CondOf) Expand(names []string) []string {
	var out []string
	for _, name := range names {
		if n.Them && !strings.HasPrefix(name, "_") || !n.Them && MatchName(n.Pattern, name) {
			out = append(out, name)
		}
	}
	return out
}
