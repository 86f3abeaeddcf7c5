package detector

import (
	"webshellbeat/detection/aggregate"
	"webshellbeat/detection/ancestry"
)

// Metrics are a detector's counters since New, and the size of its state
// now, for the beat's monitoring (the webshell processor reports them).
type Metrics struct {
	Events  int64 // documents processed
	Alerts  int64 // documents that became alerts
	Derived int64 // documents derived (correlation alerts, updates, summaries)
	Rules   RulesInfo
	Reloads struct{ OK, Failed int64 }
	// Processes is the process table (zero when ancestry is disabled).
	Processes ancestry.Stats
	// Correlation sums the Sigma correlators' counters and groups.
	Correlation aggregate.Stats
}

// Metrics returns the counters. Safe for concurrent use.
func (d *Detector) Metrics() Metrics {
	m := Metrics{Events: d.events.Load(), Alerts: d.alerts.Load(), Derived: d.derived.Load(), Rules: d.Rules()}
	m.Reloads.OK, m.Reloads.Failed = d.reloadsOK.Load(), d.reloadsFailed.Load()
	if t := d.Table(); t != nil {
		m.Processes = t.Stats()
	}
	for _, u := range d.rules.Load().units {
		m.Correlation.Add(u.c.Stats())
	}
	return m
}

// Add adds o to m, for a sum over several detectors (one per
// configuration of the webshell processor).
func (m *Metrics) Add(o Metrics) {
	m.Events += o.Events
	m.Alerts += o.Alerts
	m.Derived += o.Derived
	m.Rules.Loaded += o.Rules.Loaded
	m.Rules.Routed += o.Rules.Routed
	m.Rules.Correlations += o.Rules.Correlations
	m.Rules.Rejected += o.Rules.Rejected
	m.Rules.Left += o.Rules.Left
	m.Reloads.OK += o.Reloads.OK
	m.Reloads.Failed += o.Reloads.Failed
	m.Processes.Add(o.Processes)
	m.Correlation.Add(o.Correlation)
}
