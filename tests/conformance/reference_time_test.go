package conformance

import (
	"path/filepath"
	"testing"

	"webshellbeat/detection/engine"
	"webshellbeat/detection/sigma"
)

const (
	timePartsFile   = "testdata/timeparts.yml"
	timePartsGolden = "testdata/pysigma_timeparts.tsv"
)

// TestPySigmaTimeModifiers compares Sigma's time modifiers (minute, hour,
// day, month, year, alone, in a list and with lt, lte and gte) with
// pySigma's SQLite backend, which reads the part with SQLite's strftime:
// the rules of timePartsFile match the same Windows events of the shared
// samples on both sides (reference/rules.py). week is left out: ISO 8601's
// week here, strftime's %W there (docs/sigma.md).
func TestPySigmaTimeModifiers(t *testing.T) {
	coll := sigma.LoadPaths(timePartsFile)
	if len(coll.Errors) > 0 {
		t.Fatal(coll.Errors)
	}
	eng, err := engine.New(coll, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ours := map[string]map[string]bool{} // rule id -> event keys
	for _, ev := range referenceSamples(t) {
		if ev.audit() || ev.web() {
			continue
		}
		for _, r := range eng.Match(ev.ecs) {
			if ours[r.ID] == nil {
				ours[r.ID] = map[string]bool{}
			}
			ours[r.ID][ev.key] = true
		}
	}
	verdicts := readReference(t, timePartsGolden)
	if len(verdicts) != len(coll.Rules) {
		t.Fatalf("%s has %d rules, %s %d: run reference/rules.py again", timePartsGolden, len(verdicts), timePartsFile, len(coll.Rules))
	}
	matches := 0
	for _, v := range verdicts {
		if v.err != "" || v.skip != "" || len(v.matched) == 0 {
			t.Fatalf("%s: %s: pySigma matched nothing to compare: %s%s", timePartsGolden, v.file, v.err, v.skip)
		}
		if missed, extra := setDiff(v.matched, ours[v.id]), setDiff(ours[v.id], v.matched); len(missed)+len(extra) > 0 {
			t.Errorf("%s: pySigma matches %d events, webshellbeat %d; only pySigma: %v; only webshellbeat: %v", v.file, len(v.matched), len(ours[v.id]), missed, extra)
		}
		matches += len(v.matched)
	}
	t.Logf("%d rules with time modifiers agree with pySigma on %d matches", len(verdicts), matches)
}

// TestPySigmaTimeModifiersCurrent runs reference/rules.py with the python
// that WEBSHELLBEAT_PYSIGMA names and requires it to write the held
// verdicts.
func TestPySigmaTimeModifiersCurrent(t *testing.T) {
	python := pysigma(t)
	events := filepath.Join(t.TempDir(), "events.jsonl")
	writeReferenceEvents(t, events, referenceSamples(t))
	sameAsHeld(t, timePartsGolden, runReference(t, python, "rules.py", events, "../"+timePartsFile))
}
