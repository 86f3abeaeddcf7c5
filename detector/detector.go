// Package detector is webshellbeat's detection step as the beat and the hunt
// command both run it: it loads the rules a configuration names, matches each
// normalised ECS document, turns matching ones into alert documents and routes
// every document to its data stream. It does not import libbeat.
package detector

import (
	"fmt"
	"path/filepath"

	"webshellbeat/config"
	"webshellbeat/detection"
	"webshellbeat/detection/engine"
	"webshellbeat/detection/pipeline"
	"webshellbeat/detection/sigma"
	"webshellbeat/rules"
)

// Verdict says what became of a document.
type Verdict int

const (
	Event Verdict = iota // a normalised event, kept
	Alert                // matched at least one rule: an alert document
	Drop                 // a normalised event the configuration does not keep
)

// Detector is safe for concurrent use: its engine is immutable.
type Detector struct {
	cfg    config.Detection
	engine *engine.Engine
	// ruleset names where each rule file came from, by path: the engine
	// hands back renamed copies of the rules, so pointers do not identify them.
	ruleset map[string]string
	// Problems lists every rule that was rejected, with file:line:col and
	// why, and every warning; loading went on past them.
	Problems sigma.ErrorList
	// Loaded counts the rules in use.
	Loaded int
	// st is the memory across events (process table, correlation,
	// sessions, tuning); each part is safe for concurrent use.
	st *state
}

// New loads the rules cfg names and compiles them. Rejected rules are listed
// in Problems; New fails only when no rule at all can be used, or a pipeline
// file is unusable.
func New(cfg config.Detection) (*Detector, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	coll := &sigma.Collection{}
	ruleset := map[string]string{}
	if cfg.Rules.Builtin {
		merge(coll, sigma.LoadFS(rules.Builtin, rules.BuiltinRoot), ruleset, "webshellbeat")
	}
	for _, p := range cfg.Rules.Paths {
		merge(coll, sigma.LoadPaths(p), ruleset, filepath.Base(filepath.Clean(p)))
	}
	var pipes []*pipeline.Pipeline
	for _, p := range cfg.Rules.Pipelines {
		pl, err := pipeline.Load(p)
		if err != nil {
			return nil, fmt.Errorf("rules.pipelines: %w", err)
		}
		pipes = append(pipes, pl)
	}
	eng, err := engine.New(coll, engine.Options{Pipelines: pipes})
	if err != nil {
		return nil, err
	}
	st, err := newState(cfg)
	if err != nil {
		return nil, err
	}
	d := &Detector{cfg: cfg, engine: eng, ruleset: ruleset, st: st}
	d.Problems = append(append(append(d.Problems, coll.Errors...), coll.Warnings...), eng.Errors()...)
	d.Problems.Sort()
	d.Loaded = eng.Stats().Rules + eng.Stats().Unroutable
	if d.Loaded == 0 {
		return nil, fmt.Errorf("no usable rule (builtin: %v, paths: %v): %w", cfg.Rules.Builtin, cfg.Rules.Paths, d.Problems.Err())
	}
	return d, nil
}

func merge(into, from *sigma.Collection, ruleset map[string]string, name string) {
	for _, r := range from.Rules {
		ruleset[r.Path] = name
	}
	into.Rules = append(into.Rules, from.Rules...)
	into.Errors = append(into.Errors, from.Errors...)
	into.Warnings = append(into.Warnings, from.Warnings...)
}

func ruleInfo(r *sigma.Rule, ruleset string) detection.RuleInfo {
	version := r.Modified
	if version == "" {
		version = r.Date
	}
	return detection.RuleInfo{
		ID: r.ID, Title: r.Title, Description: r.Description, Level: r.Level,
		Author: r.Author, Version: version, References: r.References, Tags: r.Tags,
		Ruleset: ruleset,
	}
}

// Process matches doc, marks it as an alert when rules match, sets its
// data_stream.* fields and says where it goes. Documents derived from it
// are discarded: use ProcessAll to get them.
func (d *Detector) Process(doc map[string]any) Verdict {
	v, _ := d.ProcessAll(doc)
	return v
}

// ProcessAll is Process that also returns the documents derived from doc
// (correlation alerts, updated copies of earlier documents, summaries).
// Safe for concurrent use.
func (d *Detector) ProcessAll(doc map[string]any) (Verdict, []Derived) {
	ev := d.st.before(doc)
	matched := d.engine.Match(doc)
	v := Event
	if len(matched) > 0 {
		infos := make([]detection.RuleInfo, len(matched))
		for i, r := range matched {
			infos[i] = ruleInfo(r, d.ruleset[r.Path])
		}
		detection.MarkAlert(doc, infos)
		v = Alert
	}
	v, derived := d.after(ev, v)
	if v == Alert {
		d.route(doc, "webshellbeat.alert")
		return Alert, derived
	}
	if d.cfg.Events == config.EventsNone {
		return Drop, derived
	}
	d.route(doc, "webshellbeat.event")
	return Event, derived
}

// Detect implements hunt.Detector.
func (d *Detector) Detect(doc map[string]any) bool { return d.Process(doc) == Alert }

// DetectAll implements hunt.DerivingDetector: the alert verdict and the
// derived documents that are alerts.
func (d *Detector) DetectAll(doc map[string]any) (bool, []map[string]any) {
	v, derived := d.ProcessAll(doc)
	var out []map[string]any
	for _, x := range derived {
		if x.Verdict == Alert {
			out = append(out, x.Doc)
		}
	}
	return v == Alert, out
}

// FlushAlerts implements hunt.DerivingDetector.
func (d *Detector) FlushAlerts() []map[string]any {
	var out []map[string]any
	for _, x := range d.Flush() {
		out = append(out, x.Doc)
	}
	return out
}

// Index returns the data stream a processed document goes to.
func (d *Detector) Index(v Verdict) string {
	if v == Alert {
		return d.cfg.AlertIndex()
	}
	return d.cfg.EventIndex()
}

func (d *Detector) route(doc map[string]any, dataset string) {
	detection.Put(doc, "data_stream", map[string]any{"type": "logs", "dataset": dataset, "namespace": d.cfg.Namespace})
}
