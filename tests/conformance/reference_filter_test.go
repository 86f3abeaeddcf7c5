package conformance

import (
	"path/filepath"
	"testing"

	"webshellbeat/detection/engine"
	"webshellbeat/detection/sigma"
)

// filteredRules are the SigmaHQ rules that the filter rules of
// filtersFile name or cover (by id, by rules: any, and one by a filter
// whose logsource does not cover it), as reference/filters.py is run.
var filteredRules = []string{
	"rules/windows/process_creation/proc_creation_win_reg_query_registry.yml",
	"rules/windows/builtin/security/win_security_user_logoff.yml",
	"rules/windows/network_connection/net_connection_win_python.yml",
	"rules-threat-hunting/windows/process_creation/proc_creation_win_susp_parent_execute_itself.yml",
	"rules/windows/builtin/security/win_security_vssaudit_secevent_source_registration.yml",
}

const (
	filtersFile   = "testdata/filters.yml"
	filtersGolden = "testdata/pysigma_filters.tsv"
)

// TestPySigmaFilters compares filter rules with pySigma's: the rules of
// filteredRules, loaded with the filters of filtersFile, match the same
// Windows events of the shared samples as pySigma's SQLite backend with
// the same filters applied (reference/filters.py).
func TestPySigmaFilters(t *testing.T) {
	paths := []string{filtersFile}
	for _, r := range filteredRules {
		paths = append(paths, filepath.Join(sigmaHQ, r))
	}
	coll := sigma.LoadPaths(paths...)
	if len(coll.Errors) > 0 {
		t.Fatal(coll.Errors)
	}
	eng, err := engine.New(coll, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := eng.Stats().Filtered; got != 4 {
		t.Errorf("%d rules filtered, want 4 (the Linux filter covers none)", got)
	}
	ours, _ := windowsMatches(t, eng)
	verdicts := readReference(t, filtersGolden)
	if len(verdicts) != len(filteredRules) {
		t.Fatalf("%s has %d rules, filteredRules %d: run reference/filters.py again", filtersGolden, len(verdicts), len(filteredRules))
	}
	unfiltered := map[string]map[string]bool{}
	for _, v := range readReference(t, referenceGolden) {
		unfiltered[v.file] = v.matched
	}
	removed := 0
	for _, v := range verdicts {
		if v.err != "" || v.skip != "" {
			t.Fatalf("%s: %s: pySigma did not compare it: %s%s", filtersGolden, v.file, v.err, v.skip)
		}
		if missed, extra := setDiff(v.matched, ours[v.file]), setDiff(ours[v.file], v.matched); len(missed)+len(extra) > 0 {
			t.Errorf("%s: pySigma matches %d events, webshellbeat %d; only pySigma: %v; only webshellbeat: %v", v.file, len(v.matched), len(ours[v.file]), missed, extra)
		}
		removed += len(unfiltered[v.file]) - len(v.matched)
	}
	if removed < 40 {
		t.Errorf("the filters take %d matches away in the reference, want over 40: they no longer reach the rules", removed)
	}
	t.Logf("%d rules with filters agree with pySigma; the filters take %d of their matches away", len(verdicts), removed)
}

// TestPySigmaFiltersCurrent runs reference/filters.py with the python that
// WEBSHELLBEAT_PYSIGMA names and requires it to write the held verdicts.
func TestPySigmaFiltersCurrent(t *testing.T) {
	python := pysigma(t)
	events := filepath.Join(t.TempDir(), "events.jsonl")
	writeReferenceEvents(t, events, referenceSamples(t))
	args := append([]string{events, absSigmaHQ(t), "../" + filtersFile}, filteredRules...)
	sameAsHeld(t, filtersGolden, runReference(t, python, "filters.py", args...))
}

// windowsMatches runs eng over the Windows events of the reference samples
// and returns, per rule file under the SigmaHQ folder, the keys of the
// events it matched, and how many events there were.
func windowsMatches(t *testing.T, eng *engine.Engine) (map[string]map[string]bool, int) {
	t.Helper()
	ours := map[string]map[string]bool{}
	events := 0
	for _, ev := range referenceSamples(t) {
		if ev.audit() || ev.web() {
			continue
		}
		events++
		for _, r := range eng.Match(ev.ecs) {
			rel, _ := filepath.Rel(sigmaHQ, r.Path)
			if ours[rel] == nil {
				ours[rel] = map[string]bool{}
			}
			ours[rel][ev.key] = true
		}
	}
	return ours, events
}
