package compile

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"webshellbeat/detection"
)

// An Event resolves fields through cached prefixes, and searches the dotted
// splits of a path only when a map on its way has a dotted key. It must find
// exactly what detection.Lookup finds, in documents of every shape: nested,
// flattened at any level, both at once, with scalars where maps were
// expected, and with lists on the way (an element by position, or a key of
// every object element).
func TestEventLookupMatchesDetectionLookup(t *testing.T) {
	paths := []string{"a", "a.b", "a.b.c", "a.b.d", "a.x", "b.c", "a.b.c.d", "c", "a.0", "a.1.b", "a.b.0", "a.0.c", "b.1"}
	fields := NewFields()
	for _, p := range paths {
		fields.ID(p)
	}
	ev := NewEvent(fields)
	rng := rand.New(rand.NewPCG(3, 4))
	keys := []string{"a", "b", "c", "d", "x", "a.b", "b.c", "a.b.c", "b.c.d", "0", "a.0"}
	var build func(depth int) map[string]any
	list := func(depth int) any {
		if rng.IntN(3) == 0 {
			return []string{"s0", "s1"}[:rng.IntN(3)]
		}
		var l []any
		for range rng.IntN(3) {
			switch rng.IntN(3) {
			case 0:
				l = append(l, build(depth+1))
			case 1:
				l = append(l, fmt.Sprint(rng.IntN(100)))
			default:
				l = append(l, nil)
			}
		}
		return l
	}
	build = func(depth int) map[string]any {
		m := map[string]any{}
		for range rng.IntN(4) {
			k := keys[rng.IntN(len(keys))]
			switch {
			case depth < 3 && rng.IntN(2) == 0:
				m[k] = build(depth + 1)
			case depth < 3 && rng.IntN(4) == 0:
				m[k] = list(depth)
			case rng.IntN(8) == 0:
				m[k] = nil
			default:
				m[k] = fmt.Sprint(rng.IntN(100))
			}
		}
		return m
	}
	found, throughLists := 0, 0
	for n := range 40000 {
		doc := build(0)
		ev.Reset(doc)
		if n%2 == 0 { // the keyword walk notes dotted keys for the lookups
			ev.ScanValues(nil, false)
		}
		for _, p := range paths {
			want, wok := detection.Lookup(doc, p)
			wok = wok && want != nil
			got, gok := ev.Value(fields.ID(p))
			if gok != wok || gok && fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("doc %d %v, path %s: got %v %v, detection.Lookup %v %v", n, doc, p, got, gok, want, wok)
			}
			if gok {
				found++
				if strings.ContainsAny(p, "01") || strings.HasPrefix(fmt.Sprint(got), "[") {
					throughLists++
				}
			}
		}
	}
	t.Logf("%d found, %d through lists", found, throughLists)
	if found < 10000 || throughLists < 1000 {
		t.Errorf("only %d paths found, %d through lists: the documents do not exercise the lookup", found, throughLists)
	}
}
