package conformance

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"testing"

	"webshellbeat/detection/engine"
	"webshellbeat/detection/sigma"
)

// TestCorpusLoad loads the whole SigmaHQ corpus and accounts for every file:
// a rule loads, or it is rejected with a code SigmaHQ is allowed to hit. It
// logs which logsources the unroutable rules have.
func TestCorpusLoad(t *testing.T) {
	c := loadCorpus(t)
	st := c.eng.Stats()
	rejected := append(append(sigma.ErrorList(nil), c.coll.Errors...), c.eng.Errors()...)
	t.Logf("SigmaHQ corpus: %d rules loaded (%d routed, %d unroutable), %d rejected %v, %d warnings %v",
		len(c.coll.Rules), st.Rules, st.Unroutable, len(rejected), rejected.ByCode(), len(c.coll.Warnings), c.coll.Warnings.ByCode())
	for _, e := range rejected {
		t.Logf("  rejected: %v", e)
		if e.Code != sigma.CodePlaceholder { // expand with no placeholder values configured
			t.Errorf("unexpected rejection: %v", e)
		}
	}
	unroutable := map[string]int{}
	n := 0
	for _, r := range c.coll.Rules {
		ls := r.Logsource
		if engine.Routable(ls) {
			continue
		}
		n++
		key := "category " + ls.Category
		if !engine.RoutableService(ls.Service) {
			key = "service " + ls.Service
		}
		unroutable[fmt.Sprintf("%s/%s", ls.Product, key)]++
	}
	if n != st.Unroutable {
		t.Errorf("engine.Routable gives %d unroutable rules, the engine's stats %d", n, st.Unroutable)
	}
	keys := slices.Collect(maps.Keys(unroutable))
	slices.SortFunc(keys, func(a, b string) int { return cmp.Or(unroutable[b]-unroutable[a], cmp.Compare(a, b)) })
	for _, k := range keys {
		t.Logf("  unroutable %4d  %s", unroutable[k], k)
	}
}
