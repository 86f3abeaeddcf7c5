package aggregate

import (
	"slices"
	"sort"
	"time"

	"webshellbeat/detection/sigma"
)

// Extended conditions (sigma.Correlation.Clauses), as pySigma's SQLite
// backend evaluates them:
//
//   - An alternative without "not" (a and b) is a lower bound: after each
//     event, it holds when the group's events of the last timespan include
//     an event of each of its rules (temporal_ordered: in the order of the
//     correlation's rules, each after the one before).
//   - An alternative with "not" (a and not b) looks forward: each event of
//     one of its rules opens a window of the timespan, and it holds when
//     that window has an event of each of its rules and none of the rules
//     it excludes. It is judged once event time has passed the window's
//     end, so the alert comes a timespan after its first event.
//
// As for count conditions, a group starts afresh after an alert: the alert
// joins the events of its rules in the window, and a burst gives one alert
// rather than one per event.

// extended sorts an extended condition's alternatives.
func (k *corr) extended(clauses []sigma.CorrClause) {
	k.opens = make([]bool, len(k.cs.Rules))
	for _, cl := range clauses {
		if len(cl.MustNot) == 0 {
			k.sliding = append(k.sliding, cl)
			continue
		}
		k.forward = append(k.forward, cl)
		for _, r := range cl.Must {
			k.opens[r] = true
		}
	}
}

// slide judges the sliding alternatives on g's window, which ends with its
// newest event.
func (k *corr) slide(c *Correlator, g *group, out []Alert) []Alert {
	for _, cl := range k.sliding {
		if ev := k.holds(cl, g.entries); ev != nil {
			out = append(out, k.alert(&group{vals: g.vals, entries: ev, dropped: g.dropped}, float64(len(cl.Must))))
			c.alerts.Add(1)
			k.reset(g)
			return out
		}
	}
	return out
}

// judgeForward judges the forward windows of g that ended before t, in
// the order they opened.
func (k *corr) judgeForward(c *Correlator, g *group, t time.Time, out []Alert) []Alert {
	w := k.cs.Window
	for {
		at, ok := k.nextOpening(g)
		if !ok || !t.After(at.Add(w)) {
			return out
		}
		g.judged = at
		lo := sort.Search(len(g.entries), func(i int) bool { return !g.entries[i].t.Before(at) })
		hi := sort.Search(len(g.entries), func(i int) bool { return g.entries[i].t.After(at.Add(w)) })
		win := g.entries[lo:hi]
		for _, cl := range k.forward {
			if !opensAt(win, at, cl) {
				continue
			}
			if ev := k.holds(cl, win); ev != nil {
				a := k.alert(&group{vals: g.vals, entries: ev, dropped: g.dropped}, float64(len(cl.Must)))
				a.Closed = at.Add(w)
				out = append(out, a)
				c.alerts.Add(1)
				g.entries = append(g.entries[:0:0], g.entries[hi:]...) // afresh after the window
				g.dropped = 0
				g.judged = at.Add(w)
				break
			}
		}
	}
}

// nextOpening is the time of g's first event after g.judged that opens a
// forward window.
func (k *corr) nextOpening(g *group) (time.Time, bool) {
	if len(k.forward) == 0 {
		return time.Time{}, false
	}
	for _, e := range g.entries {
		if e.t.After(g.judged) && k.opens[e.rule] {
			return e.t, true
		}
	}
	return time.Time{}, false
}

// opensAt reports whether an event of win at time at is of one of cl's
// rules: that event opens cl's window.
func opensAt(win []entry, at time.Time, cl sigma.CorrClause) bool {
	for _, e := range win {
		if !e.t.Equal(at) {
			return false
		}
		if slices.Contains(cl.Must, e.rule) {
			return true
		}
	}
	return false
}

// holds returns the events of cl's rules in es when cl holds there (nil
// otherwise): an event of each rule of Must (temporal_ordered: in their
// order, as es comes, each after the one before), none of MustNot.
func (k *corr) holds(cl sigma.CorrClause, es []entry) []entry {
	var ev []entry
	for _, e := range es {
		if slices.Contains(cl.MustNot, e.rule) {
			return nil
		}
		if slices.Contains(cl.Must, e.rule) {
			ev = append(ev, e)
		}
	}
	if k.cs.Type == sigma.CorrTemporalOrdered {
		next := 0
		for _, e := range ev {
			if next < len(cl.Must) && e.rule == cl.Must[next] {
				next++
			}
		}
		if next < len(cl.Must) {
			return nil
		}
		return ev
	}
	for _, r := range cl.Must {
		if !slices.ContainsFunc(ev, func(e entry) bool { return e.rule == r }) {
			return nil
		}
	}
	return ev
}
