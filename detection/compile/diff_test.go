package compile

import (
	"fmt"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"webshellbeat/detection/sigma"
)

// refMatch is the naive reference: it reads the raw Sigma string itself and
// matches by backtracking over runes, lowering both sides on every call. It
// shares no code with the compiled path.
func refMatch(raw, mod string, cased bool, value string) bool {
	type tok struct {
		r    rune
		wild byte // 0, '*' or '?'
	}
	var toks []tok
	rs := []rune(raw)
	for i := 0; i < len(rs); i++ {
		switch {
		case rs[i] == '\\' && i+1 < len(rs) && strings.ContainsRune(`*?\`, rs[i+1]):
			toks = append(toks, tok{r: rs[i+1]})
			i++
		case rs[i] == '*' || rs[i] == '?':
			toks = append(toks, tok{wild: byte(rs[i])})
		default:
			toks = append(toks, tok{r: rs[i]})
		}
	}
	if mod == "contains" || mod == "endswith" {
		toks = append([]tok{{wild: '*'}}, toks...)
	}
	if mod == "contains" || mod == "startswith" {
		toks = append(toks, tok{wild: '*'})
	}
	fold := func(r rune) string {
		if cased {
			return string(r)
		}
		return strings.ToLower(string(r))
	}
	vs := []rune(value)
	var rec func(ti, vi int) bool
	rec = func(ti, vi int) bool {
		if ti == len(toks) {
			return vi == len(vs)
		}
		switch toks[ti].wild {
		case '*':
			for k := vi; k <= len(vs); k++ {
				if rec(ti+1, k) {
					return true
				}
			}
			return false
		case '?':
			return vi < len(vs) && rec(ti+1, vi+1)
		}
		return vi < len(vs) && fold(toks[ti].r) == fold(vs[vi]) && rec(ti+1, vi+1)
	}
	return rec(0, 0)
}

func randString(r *rand.Rand, alphabet []string, max int) string {
	var b strings.Builder
	for range r.IntN(max + 1) {
		b.WriteString(alphabet[r.IntN(len(alphabet))])
	}
	return b.String()
}

func TestDifferentialStringMatch(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	patAlpha := []string{"a", "b", "A", "B", "*", "?", `\`, `\*`, "-", "ä", "Ä"}
	valAlpha := []string{"a", "b", "A", "B", "*", "?", `\`, "-", "ä", "Ä"}
	mods := []string{"", "contains", "startswith", "endswith"}
	for i := range 3000 {
		raw := randString(r, patAlpha, 6)
		mod := mods[r.IntN(len(mods))]
		cased := r.IntN(4) == 0
		key := "F"
		if mod != "" {
			key += "|" + mod
		}
		if cased {
			key += "|cased"
		}
		det := fmt.Sprintf("    s:\n        %s: '%s'\n    condition: s\n", key, strings.ReplaceAll(raw, "'", "''"))
		cr, fields := rule(t, det)
		ev := NewEvent(fields)
		for range 30 {
			v := randString(r, valAlpha, 8)
			if !utf8.ValidString(v) {
				continue
			}
			ev.Reset(map[string]any{"F": v})
			got, want := cr.Match(ev), refMatch(raw, mod, cased, v)
			if got != want {
				t.Fatalf("case %d: %s: %q against %q: compiled %v, reference %v", i, key, raw, v, got, want)
			}
		}
	}
}

// TestDifferentialPatternKinds checks each fast path against a regexp over
// the same pattern, so prefix/suffix/contains/parts agree with the general
// form.
func TestDifferentialPatternKinds(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	alpha := []string{"a", "b", "*"}
	for range 5000 {
		p := sigma.ParsePattern(randString(r, alpha, 7))
		fast := newStrMatch(p, true)
		slow := strMatch{kind: mRegex, re: regexp.MustCompile(globRegexp(p))}
		for range 20 {
			v := randString(r, []string{"a", "b"}, 8)
			if fast.match(v) != slow.match(v) {
				t.Fatalf("pattern %q (kind %d) on %q: fast %v, regexp %v", p.String(), fast.kind, v, fast.match(v), slow.match(v))
			}
		}
	}
}
