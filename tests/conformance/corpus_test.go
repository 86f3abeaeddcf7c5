package conformance

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"testing"

	"webshellbeat/detection/sigma"
)

// routedCategories and routedServices mirror detection/engine's routing
// table; the test below fails when they drift apart (by the Unroutable
// count), so the per-logsource breakdown it logs stays true.
var (
	routedCategories = map[string]bool{"": true, "process_creation": true, "network_connection": true, "file_event": true, "file_creation": true, "webserver": true}
	routedServices   = map[string]bool{"": true, "security": true, "sysmon": true, "auditd": true, "apache": true, "nginx": true, "iis": true}
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
		if e.Code != sigma.CodeUnsupportedMod {
			t.Errorf("unexpected rejection: %v", e)
		}
	}
	unroutable := map[string]int{}
	n := 0
	for _, r := range c.coll.Rules {
		ls := r.Logsource
		if routedCategories[ls.Category] && routedServices[ls.Service] {
			continue
		}
		n++
		key := "category " + ls.Category
		if !routedServices[ls.Service] {
			key = "service " + ls.Service
		}
		unroutable[fmt.Sprintf("%s/%s", ls.Product, key)]++
	}
	if n != st.Unroutable {
		t.Errorf("routing table of this test gives %d unroutable rules, the engine %d: update routedCategories/routedServices", n, st.Unroutable)
	}
	keys := slices.Collect(maps.Keys(unroutable))
	slices.SortFunc(keys, func(a, b string) int { return cmp.Or(unroutable[b]-unroutable[a], cmp.Compare(a, b)) })
	for _, k := range keys {
		t.Logf("  unroutable %4d  %s", unroutable[k], k)
	}
}
