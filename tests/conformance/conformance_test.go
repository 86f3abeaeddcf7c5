// Package conformance runs SigmaHQ's own regression suite and the whole
// SigmaHQ corpus through webshellbeat's real path: module/windows reads the
// EVTX file and maps each record to ECS, and detection/engine (built-in
// pipelines, logsource routing, compiled rules) matches the documents.
package conformance

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"gopkg.in/yaml.v3"

	"webshellbeat/detection/compile"
	"webshellbeat/detection/engine"
	"webshellbeat/detection/pipeline"
	"webshellbeat/detection/sigma"
	"webshellbeat/module/windows"
)

const (
	sigmaHQ = "../../../shared/data/SigmaHQ-sigma"
	samples = "../../../shared/data/omerbenamram-evtx/samples"
)

// corpus is the whole SigmaHQ rule set, loaded and compiled once per test
// binary.
type corpus struct {
	coll *sigma.Collection
	eng  *engine.Engine
	byID map[string]*sigma.Rule
}

var (
	corpusOnce sync.Once
	corpusVal  *corpus
	corpusErr  error
)

func loadCorpus(t *testing.T) *corpus {
	t.Helper()
	dirs := []string{
		filepath.Join(sigmaHQ, "rules"),
		filepath.Join(sigmaHQ, "rules-emerging-threats"),
		filepath.Join(sigmaHQ, "rules-threat-hunting"),
	}
	for _, d := range dirs {
		if _, err := os.Stat(d); err != nil {
			t.Skipf("SigmaHQ corpus not available: %v", err)
		}
	}
	corpusOnce.Do(func() {
		c := sigma.LoadPaths(dirs...)
		e, err := engine.New(c, engine.Options{})
		if err != nil {
			corpusErr = err
			return
		}
		byID := map[string]*sigma.Rule{}
		for _, r := range c.Rules {
			if _, dup := byID[r.ID]; !dup {
				byID[r.ID] = r
			}
		}
		corpusVal = &corpus{coll: c, eng: e, byID: byID}
	})
	if corpusErr != nil {
		t.Fatal(corpusErr)
	}
	return corpusVal
}

// regressionSet is one folder of SigmaHQ's regression_data.
type regressionSet struct {
	info   string // path of info.yml
	ruleID string
	title  string
	evtx   string
}

func regressionSets(t *testing.T) []regressionSet {
	t.Helper()
	var sets []regressionSet
	err := filepath.WalkDir(filepath.Join(sigmaHQ, "regression_data"), func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() != "info.yml" {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		var info struct {
			RuleMetadata []struct {
				ID    string `yaml:"id"`
				Title string `yaml:"title"`
			} `yaml:"rule_metadata"`
			Tests []struct {
				Type string `yaml:"type"`
				Path string `yaml:"path"`
			} `yaml:"regression_tests_info"`
		}
		if err := yaml.Unmarshal(data, &info); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		if len(info.RuleMetadata) != 1 {
			return fmt.Errorf("%s: %d rule_metadata entries, want 1", p, len(info.RuleMetadata))
		}
		s := regressionSet{info: p, ruleID: info.RuleMetadata[0].ID, title: info.RuleMetadata[0].Title}
		for _, tc := range info.Tests {
			if tc.Type == "evtx" {
				s.evtx = filepath.Join(sigmaHQ, tc.Path)
			}
		}
		if s.evtx == "" {
			return fmt.Errorf("%s: no evtx test", p)
		}
		sets = append(sets, s)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(sets, func(i, j int) bool { return sets[i].info < sets[j].info })
	return sets
}

// readECS reads an EVTX file with webshellbeat's reader and maps every
// record to ECS. Damaged records fail the test: the regression files are
// clean.
func readECS(t *testing.T, file string) []map[string]any {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var docs []map[string]any
	err = windows.ReadEVTX(f, 0, func(rec *windows.Record, err error) error {
		if err != nil {
			t.Errorf("%s: %v", file, err)
			return nil
		}
		docs = append(docs, rec.ECS())
		return nil
	})
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return docs
}

// matchesUnrouted compiles r alone with the built-in pipelines and tries it
// on every document, ignoring logsource routing: it tells a rule whose
// fields are there but whose logsource the engine does not route apart from
// a rule whose fields are missing.
func matchesUnrouted(t *testing.T, r *sigma.Rule, docs []map[string]any) bool {
	t.Helper()
	pipes, err := pipeline.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	pipeline.Sort(pipes)
	fields := compile.NewFields()
	cr, err := compile.Compile(pipeline.Apply(r, pipes...), fields)
	if err != nil {
		t.Fatalf("%s: %v", r.Path, err)
	}
	ev := compile.NewEvent(fields)
	for _, doc := range docs {
		ev.Reset(doc)
		if cr.Match(ev) {
			return true
		}
	}
	return false
}

func fires(e *engine.Engine, id string, docs []map[string]any) bool {
	for _, doc := range docs {
		if slices.ContainsFunc(e.Match(doc), func(r *sigma.Rule) bool { return r.ID == id }) {
			return true
		}
	}
	return false
}

func TestSigmaHQRegression(t *testing.T) {
	c := loadCorpus(t)
	sets := regressionSets(t)
	if len(sets) != 118 {
		t.Errorf("found %d regression sets, want 118", len(sets))
	}
	seen := map[string]bool{}
	var pass, unrouted, fieldless int
	for _, s := range sets {
		seen[s.ruleID] = true
		name := strings.TrimPrefix(filepath.Dir(s.info), filepath.Join(sigmaHQ, "regression_data")+"/")
		t.Run(name, func(t *testing.T) {
			r := c.byID[s.ruleID]
			if r == nil {
				t.Fatalf("rule %s (%s) is not in the loaded corpus", s.ruleID, s.title)
			}
			docs := readECS(t, s.evtx)
			if len(docs) == 0 {
				t.Fatalf("%s: no records", s.evtx)
			}
			fired := fires(c.eng, s.ruleID, docs)
			ex, listed := exceptions[s.ruleID]
			switch {
			case fired && listed:
				t.Errorf("rule %s (%s) is listed as an exception (%s) but now fires: drop it from the table", s.ruleID, s.title, ex.reason)
			case fired:
				pass++
			case !listed:
				t.Errorf("rule %s (%s, logsource %+v) does not fire on %s (%d events); matches when routing is bypassed: %v",
					s.ruleID, s.title, r.Logsource, filepath.Base(s.evtx), len(docs), matchesUnrouted(t, r, docs))
			default:
				// Keep the reason honest: an unrouted rule must match its
				// events once routing is bypassed, a field exception must not.
				got := matchesUnrouted(t, r, docs)
				switch {
				case ex.kind == unroutedLogsource && !got:
					t.Errorf("rule %s (%s) is listed as unrouted (%s) but does not match its events even with routing bypassed", s.ruleID, s.title, ex.reason)
				case ex.kind == missingField && got:
					t.Errorf("rule %s (%s) is listed as missing a field (%s) but matches its events with routing bypassed: it is only unrouted", s.ruleID, s.title, ex.reason)
				case ex.kind == unroutedLogsource:
					unrouted++
				default:
					fieldless++
				}
			}
		})
	}
	for id := range exceptions {
		if !seen[id] {
			t.Errorf("exception %s names no regression set", id)
		}
	}
	t.Logf("SigmaHQ regression: %d sets: %d fire through webshellbeat, %d listed exceptions (%d unrouted logsource, %d missing field), %d unexplained failures",
		len(sets), pass, unrouted+fieldless, unrouted, fieldless, len(sets)-pass-unrouted-fieldless)
}

type exceptionKind int

const (
	// unroutedLogsource: the record reaches the engine with every field the
	// rule needs (the test checks that the rule matches once routing is
	// bypassed), but the engine does not recognise the event as the rule's
	// category or service: it routes process_creation, network_connection,
	// file_event/file_creation and webserver, and the services security,
	// sysmon, auditd, apache, nginx and iis. Such rules load, are counted in
	// engine Stats().Unroutable, and never run.
	unroutedLogsource exceptionKind = iota
	// missingField: webshellbeat's mapping does not provide a field the
	// rule tests, so the rule cannot match even with routing bypassed.
	missingField
)

type exception struct {
	kind   exceptionKind
	reason string
}

// Reasons shared by many rules.
const (
	whyRegistry      = "registry_* (Sysmon 12/13/14) is not a routed category"
	whyImageLoad     = "image_load (Sysmon 7) is not a routed category"
	whyProcessAccess = "process_access (Sysmon 10) is not a routed category"
	whyPipe          = "pipe_created (Sysmon 17/18) is not a routed category"
)

// exceptions are the regression rules that cannot fire through webshellbeat,
// by rule id, with the reason. The test fails when a listed rule fires (the
// entry must go) and when the kind stops being true.
var exceptions = map[string]exception{
	// image_load
	"2b140a5c-dc02-4bb8-b6b1-8bdb45714cde": {unroutedLogsource, whyImageLoad},
	"d7a63acb-1284-49bc-bfea-7771146c8b1c": {unroutedLogsource, whyImageLoad},
	"8a2f4b1c-3d5e-4f7a-9b2c-1e4f6d8a9c2b": {missingField, whyImageLoad + "; and Image maps to process.executable, which module/windows sets only for Sysmon 1/3/11 (not 7)"},
	// process_access
	"9f5c1d59-33be-4e60-bcab-85d2f566effd": {unroutedLogsource, whyProcessAccess},
	"387df17d-3b04-448f-8669-9e7fd5e5fd8c": {unroutedLogsource, whyProcessAccess},
	// pipe_created
	"9b4e7c2a-3f6d-4a8b-b5e9-1c7d3f2e6a4b": {unroutedLogsource, whyPipe},
	// services other than security and sysmon
	"9e3cb244-bdb8-4632-8c90-6079c8f4f16d": {unroutedLogsource, "service taskscheduler (Microsoft-Windows-TaskScheduler/Operational) is not a routed service"},
	"d4f1a2b3-7c8e-4d5f-b6a9-1e0c2d3f4e5b": {unroutedLogsource, "service wmi (Microsoft-Windows-WMI-Activity/Operational) is not a routed service"},
	// registry_delete
	"d645ef86-2396-48a1-a2b6-b629ca3f57ff": {unroutedLogsource, whyRegistry},
	"3a9b8c1e-5b2e-4f7a-9d1c-2a7f3b6e1c55": {unroutedLogsource, whyRegistry},
	// registry_set
	"1547e27c-3974-43e2-a7d7-7f484fb928ec": {unroutedLogsource, whyRegistry},
	"37b437cf-3fc5-4c8e-9c94-1d7c9aff842b": {unroutedLogsource, whyRegistry},
	"aa37cbb0-da36-42cb-a90f-fdf216fc7467": {unroutedLogsource, whyRegistry},
	"46dd5308-4572-4d12-aa43-8938f0184d4f": {unroutedLogsource, whyRegistry},
	"724ea201-6514-4f38-9739-e5973c34f49a": {unroutedLogsource, whyRegistry},
	"509e84b9-a71a-40e0-834f-05470369bd1e": {unroutedLogsource, whyRegistry},
	"45e112d0-7759-4c2a-aa36-9f8fb79d3393": {unroutedLogsource, whyRegistry},
	"73921b9c-cafd-4446-b0c6-fdb0ace42bc0": {unroutedLogsource, whyRegistry},
	"c7dcacd0-cc59-4004-b0a4-1d6cdebe6f3e": {unroutedLogsource, whyRegistry},
	"f37b4bce-49d0-4087-9f5b-58bffda77316": {unroutedLogsource, whyRegistry},
	"974515da-6cc5-4c95-ae65-f97f9150ec7f": {unroutedLogsource, whyRegistry},
	"3ae1a046-f7db-439d-b7ce-b8b366b81fa6": {unroutedLogsource, whyRegistry},
	"5de03871-5d46-4539-a82d-3aa992a69a83": {unroutedLogsource, whyRegistry},
	"33efc23c-6ea2-4503-8cfe-bdf82ce8f705": {unroutedLogsource, whyRegistry},
	"9ace0707-b560-49b8-b6ca-5148b42f39fb": {unroutedLogsource, whyRegistry},
	"c7da8edc-49ae-45a2-9e61-9fd860e4e73d": {unroutedLogsource, whyRegistry},
	"f8aebc67-a56d-4ec9-9fbe-7b0e8b7b4efd": {unroutedLogsource, whyRegistry},
	"9c226817-8dc9-46c2-a58d-66655aafd7dc": {unroutedLogsource, whyRegistry},
}
