package detector

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"webshellbeat/config"
	"webshellbeat/detection"
	"webshellbeat/detection/aggregate"
	"webshellbeat/detection/session"
	"webshellbeat/detection/sigma"
)

// advanceEvery is how much event time passes between two calls of the
// correlators' Advance (which judges windows with an upper bound).
const advanceEvery = time.Second

// advance records t as seen and, when event time has moved on by
// advanceEvery since the last call, lets the correlators judge the windows
// that ended before t.
func (d *Detector) advance(rs *ruleSet, t time.Time, out []aggregate.Alert) []aggregate.Alert {
	if len(rs.units) == 0 || t.IsZero() {
		return out
	}
	n := t.UnixNano()
	for {
		l := d.latest.Load()
		if n <= l || d.latest.CompareAndSwap(l, n) {
			break
		}
	}
	a := d.advanced.Load()
	if n-a < int64(advanceEvery) || !d.advanced.CompareAndSwap(a, n) {
		return out
	}
	for _, u := range rs.units {
		out = append(out, u.c.Advance(t)...)
	}
	return out
}

// correlationAlerts turns correlation matches into alert documents: rule.*,
// threat.* and severity from the correlation rule, the group-by values by
// their names as written (also as fields of their own when every rule reads
// them from one dotted ECS field, such as host.name, or user.name for
// User over Linux rules), and webshell.correlation with the joined events
// (rule, id, time). Matches of a correlation that another one names without generate
// only feed that one and give no document.
func (d *Detector) correlationAlerts(rs *ruleSet, alerts []aggregate.Alert) []Derived {
	var out []Derived
	for _, a := range alerts {
		if !rs.standalone(a.Rule) {
			continue
		}
		doc := a.Doc()
		keys := make([]string, 0, len(a.Group))
		for k := range a.Group {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		var group []string
		for _, k := range keys {
			v := a.Group[k]
			group = append(group, k+"="+v)
			if f := groupField(a.Rule.Correlation, k); strings.Contains(f, ".") && v != "" {
				if _, ok := detection.Lookup(doc, f); !ok {
					detection.Put(doc, f, v)
				}
			}
		}
		detection.Put(doc, "event.module", "webshellbeat")
		detection.Put(doc, "event.dataset", "webshellbeat.correlation")
		detection.Put(doc, "event.category", []string{"intrusion_detection"})
		detection.Put(doc, "event.type", []string{"info"})
		detection.MarkAlert(doc, []detection.RuleInfo{ruleInfo(a.Rule, rs.ruleset[a.Rule.Path])})
		kind := a.Rule.Correlation.Type
		if x := a.Rule.Correlation.Expression; x != "" {
			kind += " " + strconv.Quote(x)
		}
		msg := fmt.Sprintf("%s: %s of %d events from %s to %s", a.Rule.Title, kind, a.Count,
			a.First.UTC().Format(time.RFC3339Nano), a.Last.UTC().Format(time.RFC3339Nano))
		if !a.Closed.IsZero() {
			msg += ", none excluded until " + a.Closed.UTC().Format(time.RFC3339Nano)
		}
		if len(group) > 0 {
			msg += " (" + strings.Join(group, ", ") + ")"
		}
		detection.Put(doc, "message", msg)
		sub := session.Subject{Host: detection.LookupString(doc, "host.name"), User: detection.LookupString(doc, "user.name"),
			RuleIDs: detection.LookupStrings(doc, "webshell.rule_ids"), Field: func(p string) []string { return fieldText(doc, p) }}
		if d.except(doc, sub) {
			d.route(doc, "webshellbeat.event")
			if d.cfg.Events == config.EventsNone {
				continue
			}
			out = append(out, Derived{Doc: doc, Verdict: Event})
			continue
		}
		d.route(doc, "webshellbeat.alert")
		out = append(out, Derived{Doc: doc, Verdict: Alert})
	}
	return out
}

// groupField is the event field every rule of cs reads the group-by value
// name from (after aliases and pipelines), or "" when they read different
// fields: only then can the value stand in the alert as that field.
func groupField(cs *sigma.Correlation, name string) string {
	j := slices.Index(cs.GroupBy, name)
	if j < 0 {
		return ""
	}
	field := ""
	for i := range cs.Rules {
		f := cs.ReadsFor(i).GroupBy[j][0]
		if i > 0 && f != field {
			return ""
		}
		field = f
	}
	return field
}

// flushCorrelations judges the windows that ended before the latest event
// time seen (end of a hunt, shutdown).
func (d *Detector) flushCorrelations() []Derived {
	rs := d.rules.Load()
	n := d.latest.Load()
	if len(rs.units) == 0 || n == 0 {
		return nil
	}
	t := time.Unix(0, n)
	var alerts []aggregate.Alert
	for _, u := range rs.units {
		alerts = append(alerts, u.c.Advance(t)...)
	}
	d.advanced.Store(n)
	return d.correlationAlerts(rs, alerts)
}
