package sigma

import "strings"

// PieceKind is a literal run or a wildcard of a Sigma string.
type PieceKind uint8

const (
	PieceLit  PieceKind = iota
	PieceStar           // * : any run of characters
	PieceOne            // ? : exactly one character
)

// Piece is one part of a Sigma string.
type Piece struct {
	Kind PieceKind
	Lit  string
}

// Pattern is a Sigma string with its wildcards identified.
type Pattern []Piece

// ParsePattern splits a Sigma string into literals and wildcards. Like
// pySigma, a backslash escapes only *, ? and itself; before any other
// character it is literal, so Windows paths need no doubling.
func ParsePattern(s string) Pattern {
	var p Pattern
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			p = append(p, Piece{Kind: PieceLit, Lit: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s) && (s[i+1] == '*' || s[i+1] == '?' || s[i+1] == '\\'):
			lit.WriteByte(s[i+1])
			i++
		case c == '*':
			flush()
			if len(p) == 0 || p[len(p)-1].Kind != PieceStar { // ** is *
				p = append(p, Piece{Kind: PieceStar})
			}
		case c == '?':
			flush()
			p = append(p, Piece{Kind: PieceOne})
		default:
			lit.WriteByte(c)
		}
	}
	flush()
	return p
}

// Literal reports the pattern as plain text when it has no wildcard.
func (p Pattern) Literal() (string, bool) {
	var b strings.Builder
	for _, x := range p {
		if x.Kind != PieceLit {
			return "", false
		}
		b.WriteString(x.Lit)
	}
	return b.String(), true
}

// Wrap returns p with the "*" that contains (before and after), endswith
// (before) or startswith (after) puts around a value, unless p already
// starts or ends with one.
func (p Pattern) Wrap(before, after bool) Pattern {
	star := Piece{Kind: PieceStar}
	out := make(Pattern, 0, len(p)+2)
	if before && (len(p) == 0 || p[0].Kind != PieceStar) {
		out = append(out, star)
	}
	out = append(out, p...)
	if after && (len(out) == 0 || out[len(out)-1].Kind != PieceStar) {
		out = append(out, star)
	}
	return out
}

// HasWildcard reports whether any piece is * or ?.
func (p Pattern) HasWildcard() bool {
	_, lit := p.Literal()
	return !lit
}

// String renders the pattern back in Sigma syntax, escaping as needed.
func (p Pattern) String() string {
	var b strings.Builder
	for _, x := range p {
		switch x.Kind {
		case PieceStar:
			b.WriteByte('*')
		case PieceOne:
			b.WriteByte('?')
		default:
			for i := 0; i < len(x.Lit); i++ {
				c := x.Lit[i]
				if c == '*' || c == '?' || (c == '\\' && (i+1 == len(x.Lit) || x.Lit[i+1] == '*' || x.Lit[i+1] == '?' || x.Lit[i+1] == '\\')) {
					b.WriteByte('\\')
				}
				b.WriteByte(c)
			}
		}
	}
	return b.String()
}
