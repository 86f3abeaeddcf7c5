package conformance

import (
	"path/filepath"
	"sort"
	"testing"
)

// Benign-sample bounds: the measured values (see docs/sigma.md) plus some
// headroom, so a rule or mapping change that makes the corpus noisy on
// ordinary logs fails here instead of in production.
const (
	maxBenignRules  = 18  // measured: 15 rules (image_load, process_access, registry routed)
	maxBenignEvents = 170 // measured: 144 of 2619 events
)

// TestBenignSamples runs the whole SigmaHQ corpus over two ordinary EVTX
// files (a Sysmon log and a Security log) and bounds how many rules fire
// and on how many events.
func TestBenignSamples(t *testing.T) {
	c := loadCorpus(t)
	fired := map[string]int{} // rule title -> events
	events, hitEvents := 0, 0
	for _, name := range []string{"sysmon.evtx", "security.evtx"} {
		docs := readECS(t, filepath.Join(samples, name))
		fileHits := 0
		for _, doc := range docs {
			m := c.eng.Match(doc)
			if len(m) > 0 {
				fileHits++
			}
			for _, r := range m {
				fired[r.ID+" "+r.Title]++
			}
		}
		t.Logf("%s: %d events, %d match at least one rule", name, len(docs), fileHits)
		events += len(docs)
		hitEvents += fileHits
	}
	var names []string
	for n := range fired {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		t.Logf("  %5d  %s", fired[n], n)
	}
	t.Logf("benign samples: %d events, %d rules fire, on %d events", events, len(fired), hitEvents)
	if len(fired) > maxBenignRules {
		t.Errorf("%d rules fire on the benign samples, bound is %d", len(fired), maxBenignRules)
	}
	if hitEvents > maxBenignEvents {
		t.Errorf("%d benign events match a rule, bound is %d", hitEvents, maxBenignEvents)
	}
}
