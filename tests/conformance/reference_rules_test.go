package conformance

import (
	"path/filepath"
	"testing"

	"webshellbeat/detection/engine"
	"webshellbeat/detection/pipeline"
	"webshellbeat/detection/sigma"
)

// ruleFile is a file of rules written for a comparison, the user pipeline
// both sides read them with ("" for none), and pySigma's verdicts
// (reference/rules.py).
type ruleFile struct{ rules, pipeline, golden string }

var (
	timeParts  = ruleFile{"testdata/timeparts.yml", "", "testdata/pysigma_timeparts.tsv"}
	expand     = ruleFile{"testdata/expand.yml", "testdata/pipelines/placeholders.yml", "testdata/pysigma_expand.tsv"}
	fieldRef   = ruleFile{"testdata/fieldref.yml", "", "testdata/pysigma_fieldref.tsv"}
	modifiers  = ruleFile{"testdata/modifiers.yml", "", "testdata/pysigma_modifiers.tsv"}
	conditions = ruleFile{"testdata/conditions.yml", "", "testdata/pysigma_conditions.tsv"}
	shapes     = ruleFile{"testdata/shapes.yml", "testdata/pipelines/shapes.yml", "testdata/pysigma_shapes.tsv"}
	ruleFiles  = []ruleFile{timeParts, expand, fieldRef, modifiers, conditions, shapes}
)

// TestPySigmaTimeModifiers compares Sigma's time modifiers (minute, hour,
// day, month, year, alone, in a list and with lt, lte and gte) with
// pySigma's SQLite backend, which reads the part with SQLite's strftime:
// the rules of timeParts match the same Windows events of the shared
// samples on both sides (reference/rules.py). week is left out: ISO 8601's
// week here, strftime's %W there (docs/sigma.md).
func TestPySigmaTimeModifiers(t *testing.T) {
	compareRuleFile(t, timeParts)
}

// TestPySigmaExpand compares the expand modifier with its placeholders
// given by a pipeline (vars with value_placeholders, and
// wildcard_placeholders), as pySigma reads the same pipeline: a list of
// values with wildcards, a placeholder inside a value, one under not, and
// one that is any value.
func TestPySigmaExpand(t *testing.T) {
	compareRuleFile(t, expand)
}

// TestPySigmaFieldRef compares the fieldref modifier, alone, with
// startswith, endswith and contains (the other field's value as the
// pattern, its wildcard characters taken literally) and under not, with
// pySigma's SQLite backend.
func TestPySigmaFieldRef(t *testing.T) {
	compareRuleFile(t, fieldRef)
}

// TestPySigmaModifiers compares modifiers in combinations SigmaHQ's rules
// seldom write (cased with contains and endswith, neq on a list and on a
// number, exists: false, ranges with lt/lte/gt/gte, re with i, m and s
// over multi-line values, windash
// with contains|all and startswith, base64offset|contains|all, cidr, a
// number and a string in one list, null beside an empty string, ? and an
// escaped backslash before *) with pySigma's SQLite backend. Its ranges
// stay within one digit: that backend compares numbers as text.
func TestPySigmaModifiers(t *testing.T) {
	compareRuleFile(t, modifiers)
}

// TestPySigmaConditions compares the condition language (a list of
// conditions, the precedence of not, and and or, all of and 1 of over
// patterns and them, parentheses, keywords beside a field, with |all and
// with wildcards) with pySigma's SQLite backend.
func TestPySigmaConditions(t *testing.T) {
	compareRuleFile(t, conditions)
}

// TestPySigmaPipelineShapes compares the pipeline transformations that
// TestPySigmaPipeline's leaves out (change_logsource to a Sigma category,
// field_name_mapping of a site's own names, field_name_prefix_mapping, case
// before a cased match, set_value, replace_string) with pySigma reading
// the same pipeline.
func TestPySigmaPipelineShapes(t *testing.T) {
	compareRuleFile(t, shapes)
}

// compareRuleFile runs the rules of rf, with its user pipeline, over the
// Windows events of the reference samples, holds their matches to
// pySigma's, and logs how many were compared.
func compareRuleFile(t *testing.T, rf ruleFile) {
	t.Helper()
	var ps []*pipeline.Pipeline
	if rf.pipeline != "" {
		p, err := pipeline.Load(rf.pipeline)
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
	coll := sigma.LoadPaths(rf.rules)
	if len(coll.Errors) > 0 {
		t.Fatal(coll.Errors)
	}
	eng, err := engine.New(coll, engine.Options{Pipelines: ps})
	if err != nil {
		t.Fatal(err)
	}
	if len(eng.Errors()) > 0 {
		t.Fatal(eng.Errors())
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
	verdicts := readReference(t, rf.golden)
	if len(verdicts) != len(coll.Rules) {
		t.Fatalf("%s has %d rules, %s %d: run reference/rules.py again", rf.golden, len(verdicts), rf.rules, len(coll.Rules))
	}
	matches := 0
	for _, v := range verdicts {
		if v.err != "" || v.skip != "" || len(v.matched) == 0 {
			t.Fatalf("%s: %s: pySigma matched nothing to compare: %s%s", rf.golden, v.file, v.err, v.skip)
		}
		if missed, extra := setDiff(v.matched, ours[v.id]), setDiff(ours[v.id], v.matched); len(missed)+len(extra) > 0 {
			t.Errorf("%s: pySigma matches %d events, webshellbeat %d; only pySigma: %v; only webshellbeat: %v", v.file, len(v.matched), len(ours[v.id]), missed, extra)
		}
		matches += len(v.matched)
	}
	t.Logf("%d rules of %s agree with pySigma on %d matches", len(verdicts), rf.rules, matches)
}

// TestPySigmaRuleFilesCurrent runs reference/rules.py with the python that
// WEBSHELLBEAT_PYSIGMA names and requires it to write the held verdicts of
// the time modifiers, expand, fieldref, the modifier combinations, the
// conditions and the pipeline shapes.
func TestPySigmaRuleFilesCurrent(t *testing.T) {
	python := pysigma(t)
	events := filepath.Join(t.TempDir(), "events.jsonl")
	writeReferenceEvents(t, events, referenceSamples(t))
	for _, rf := range ruleFiles {
		args := []string{events, "../" + rf.rules}
		if rf.pipeline != "" {
			args = append(args, "../"+rf.pipeline)
		}
		sameAsHeld(t, rf.golden, runReference(t, python, "rules.py", args...))
	}
}
