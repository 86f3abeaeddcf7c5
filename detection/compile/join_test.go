package compile

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

type namedMap map[string]any // as libbeat's mapstr.M

// The joined text of a keyword scan must hold exactly the scan form of each
// value the keyword walk sees (those at least minLen long), whatever the value types, and survive the
// arena filling up halfway (strings handed out before stay valid).
func TestJoinValuesMatchesKeywords(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	scalars := []func() any{
		func() any { return "C:\\Windows\\System32\\CMD.EXE /c whoami" },
		func() any { return "Microsoft® Windows® İstanbul \u212a" },
		func() any { return "\xff\xfe\xff" }, // lowered, each invalid byte becomes U+FFFD: 9 bytes
		func() any { return strings.Repeat("x", rng.IntN(3000)) },
		func() any { return rng.IntN(100000) - 50000 },
		func() any { return int64(rng.Uint64() >> 1) },
		func() any { return int32(-7) },
		func() any { return uint64(rng.Uint64()) },
		func() any { return uint32(9) },
		func() any { return rng.Float64() * 1e6 },
		func() any { return 1e300 },
		func() any { return rng.IntN(2) == 0 },
		func() any { return json.Number("12.5") },
		func() any { return uint8(3) },
		func() any { return nil },
		func() any { return []string{"A", "b"} },
	}
	var build func(depth int) any
	build = func(depth int) any {
		switch {
		case depth < 3 && rng.IntN(3) == 0:
			m := map[string]any{}
			for i := range rng.IntN(6) {
				m[fmt.Sprint("k", i)] = build(depth + 1)
			}
			if rng.IntN(4) == 0 {
				return namedMap(m)
			}
			return m
		case depth < 3 && rng.IntN(4) == 0:
			var a []any
			for range rng.IntN(4) {
				a = append(a, build(depth+1))
			}
			return a
		}
		return scalars[rng.IntN(len(scalars))]()
	}
	e := NewEvent(NewFields())
	for n := range 2000 {
		doc := map[string]any{"root": build(0), "other": build(0)}
		e.Reset(doc)
		before := e.lowerString("HANDED OUT before the join")
		minLen := 0
		if n%2 == 1 {
			minLen = rng.IntN(12)
		}
		joined := e.KeywordScan(minLen)[0]
		var want []string
		for _, s := range e.keywords(true) {
			if !asciiOnly(s) { // the scan folds ASCII itself; other text comes lowered
				s = strings.ToLower(s)
			}
			if len(s) >= minLen {
				want = append(want, s)
			}
		}
		got := strings.Split(strings.TrimSuffix(joined, "\x00"), "\x00")
		if joined == "" {
			got = nil
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Fatalf("doc %d %v:\njoined %q\nwant   %q", n, doc, got, want)
		}
		if before != "handed out before the join" {
			t.Fatalf("doc %d: a string handed out before the join changed: %q", n, before)
		}
	}
}
