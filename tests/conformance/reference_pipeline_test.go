package conformance

import (
	"path/filepath"
	"strings"
	"testing"

	"webshellbeat/detection/engine"
	"webshellbeat/detection/pipeline"
	"webshellbeat/detection/sigma"
)

const (
	pipelineFolder = "rules/windows/process_creation"
	pipelineFile   = "testdata/pipelines/tuning.yml"
	pipelineGolden = "testdata/pysigma_pipeline.tsv"
)

// TestPySigmaPipeline compares a user pipeline in pySigma's YAML shape
// (add_condition negated, map_string to a list, drop_detection_item,
// replace_string with a regex) with pySigma's reading of the same file: over
// SigmaHQ's Windows process_creation rules, each transformed rule matches the
// same shared Windows events in both (reference/pipelines.py), but for the
// rules of which drop_detection_item empties a whole search. pySigma then
// leaves the search out of the condition ("selection and not filter"
// becomes "not filter", which matches most events); webshellbeat refuses
// such a rule (code pipeline) rather than let it alert on everything.
func TestPySigmaPipeline(t *testing.T) {
	p, err := pipeline.Load(pipelineFile)
	if err != nil {
		t.Fatal(err)
	}
	coll := sigma.LoadPaths(filepath.Join(sigmaHQ, pipelineFolder))
	eng, err := engine.New(coll, engine.Options{Pipelines: []*pipeline.Pipeline{p}})
	if err != nil {
		t.Fatal(err)
	}
	refused := map[string]string{}
	for _, e := range eng.Errors() {
		rel, _ := filepath.Rel(sigmaHQ, e.File)
		refused[filepath.ToSlash(rel)] = e.Msg
	}
	ours, events := windowsMatches(t, eng)
	var agreed, emptied, everything, matches int
	for _, v := range readReference(t, pipelineGolden) {
		if v.err != "" || v.skip != "" {
			t.Fatalf("%s: %s: pySigma did not compare it: %s%s", pipelineGolden, v.file, v.err, v.skip)
		}
		if msg, ok := refused[v.file]; ok {
			if !strings.Contains(msg, "(no_original_file_name): drop_detection_item leaves search") {
				t.Errorf("%s: refused (%s)", v.file, msg)
			}
			emptied++
			if len(v.matched) > events/50 {
				everything++
			}
			continue
		}
		matches += len(v.matched)
		if missed, extra := setDiff(v.matched, ours[v.file]), setDiff(ours[v.file], v.matched); len(missed)+len(extra) > 0 {
			t.Errorf("%s: pySigma matches %d events, webshellbeat %d; only pySigma: %v; only webshellbeat: %v", v.file, len(v.matched), len(ours[v.file]), missed, extra)
			continue
		}
		agreed++
	}
	if agreed < 1000 {
		t.Errorf("%d rules agree, want the whole folder", agreed)
	}
	t.Logf("%d rules with the pipeline agree with pySigma (%d matches); %d refused where drop_detection_item empties a search (%d of them match over %d events in pySigma)",
		agreed, matches, emptied, everything, events/50)
}

// TestPySigmaPipelineCurrent runs reference/pipelines.py with the python
// that WEBSHELLBEAT_PYSIGMA names and requires it to write the held
// verdicts.
func TestPySigmaPipelineCurrent(t *testing.T) {
	python := pysigma(t)
	events := filepath.Join(t.TempDir(), "events.jsonl")
	writeReferenceEvents(t, events, referenceSamples(t))
	sameAsHeld(t, pipelineGolden, runReference(t, python, "pipelines.py", events, absSigmaHQ(t), pipelineFolder, "../"+pipelineFile))
}
