// Package detector is webshellbeat's detection step as the beat and the hunt
// command both run it: it loads the rules a configuration names, matches each
// normalised ECS document, turns matching ones into alert documents and routes
// every document to its data stream. It does not import libbeat.
package detector

import (
	"sync"
	"sync/atomic"

	"webshellbeat/config"
	"webshellbeat/detection"
	"webshellbeat/detection/aggregate"
	"webshellbeat/detection/sigma"
)

// Verdict says what became of a document.
type Verdict int

const (
	Event Verdict = iota // a normalised event, kept
	Alert                // matched at least one rule: an alert document
	Drop                 // a normalised event the configuration does not keep
)

// Detector is safe for concurrent use: its rules are an immutable set,
// swapped whole by Reload, and each part of its state is safe for
// concurrent use.
type Detector struct {
	cfg   config.Detection
	rules atomic.Pointer[ruleSet]
	// Problems lists every rule that was rejected at New, with
	// file:line:col and why, and every warning; loading went on past them.
	// After a reload, Rules and RuleProblems tell the current ones.
	Problems sigma.ErrorList
	// Loaded counts the detection rules in use at New.
	Loaded int
	// Restored says what New restored of the correlation windows saved
	// under State.Path (or why it could not), for the caller to log; empty
	// when there was nothing to restore.
	Restored string
	// st is the memory across events (process table, correlation,
	// sessions, tuning); each part is safe for concurrent use.
	st *state

	reloadMu sync.Mutex
	tried    string // stamp of the files the last load attempt read

	// Event time (Unix ns) up to which correlation windows were advanced,
	// and the latest event time seen.
	advanced, latest atomic.Int64

	// Counters of Metrics.
	events, alerts, derived, reloadsOK, reloadsFailed atomic.Int64
}

// New loads the rules cfg names and compiles them. Rejected rules are listed
// in Problems; New fails only when no rule at all can be used, or a pipeline
// file is unusable.
func New(cfg config.Detection) (*Detector, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	rs, err := buildRuleSet(cfg, nil)
	if err != nil {
		return nil, err
	}
	st, err := newState(cfg)
	if err != nil {
		return nil, err
	}
	d := &Detector{cfg: cfg, st: st, tried: rs.stamp}
	if cfg.State.Path != "" {
		d.Restored = restoreCorrelations(cfg.State.Path, rs)
	}
	d.rules.Store(rs)
	d.Problems = rs.problems()
	d.Loaded = rs.info.Loaded
	return d, nil
}

// Rules counts the rules in use now.
func (d *Detector) Rules() RulesInfo { return d.rules.Load().info }

// RuleProblems lists the rejections and warnings of the rules in use now.
func (d *Detector) RuleProblems() sigma.ErrorList { return d.rules.Load().problems() }

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
	rs := d.rules.Load()
	matched := rs.engine.Match(doc)
	var infos []detection.RuleInfo
	var corr []aggregate.Alert
	for _, u := range rs.units {
		var refs []*sigma.Rule
		for _, r := range matched {
			if u.c.Refers(r) {
				refs = append(refs, r)
			}
		}
		if len(refs) > 0 { // one event: counted once by a correlation that names several of its rules
			corr = append(corr, u.c.ObserveEvent(refs, doc, ev.t)...)
		}
	}
	for _, r := range matched {
		if rs.standalone(r) {
			infos = append(infos, ruleInfo(r, rs.ruleset[r.Path]))
		}
	}
	corr = d.advance(rs, ev.t, corr)
	v := Event
	if len(infos) > 0 {
		detection.MarkAlert(doc, infos)
		v = Alert
	}
	v, derived := d.after(ev, v)
	derived = append(derived, d.correlationAlerts(rs, corr)...)
	d.events.Add(1)
	d.derived.Add(int64(len(derived)))
	if v == Alert {
		d.alerts.Add(1)
		d.route(doc, "webshellbeat.alert")
		return Alert, derived
	}
	if d.cfg.Events == config.EventsNone {
		return Drop, derived
	}
	d.route(doc, "webshellbeat.event")
	return Event, derived
}

// AssumeUnchanged tells the detector that its caller changes no document
// once Process has returned it, as hunt, which only writes them out. The
// detector then keeps the documents it may send updated copies of later
// (every request, every alert) as they are, where it otherwise keeps deep
// copies: those took a third of a hunt of access logs (730,000 lines:
// 11.4-11.9 s, 7.7 s without). The beat must not call it: later processors
// change an event, and its output encodes events while the next are
// detected.
func (d *Detector) AssumeUnchanged() { d.st.unchanged = true }

// Detect implements hunt.Detector.
func (d *Detector) Detect(doc map[string]any) bool { return d.Process(doc) == Alert }

// DetectAll implements hunt.DerivingDetector: the alert verdict, and the
// derived documents that are alerts and those that are events (a dropped
// one is neither).
func (d *Detector) DetectAll(doc map[string]any) (bool, []map[string]any, []map[string]any) {
	v, derived := d.ProcessAll(doc)
	alerts, events := byVerdict(derived)
	return v == Alert, alerts, events
}

// FlushAll implements hunt.DerivingDetector.
func (d *Detector) FlushAll() (alerts, events []map[string]any) { return byVerdict(d.Flush()) }

func byVerdict(derived []Derived) (alerts, events []map[string]any) {
	for _, x := range derived {
		switch x.Verdict {
		case Alert:
			alerts = append(alerts, x.Doc)
		case Event:
			events = append(events, x.Doc)
		}
	}
	return alerts, events
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
