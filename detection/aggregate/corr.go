package aggregate

import (
	"container/list"
	"strings"
	"sync"
	"time"

	"webshellbeat/detection"
	"webshellbeat/detection/sigma"
)

// corr is the state of one correlation rule.
type corr struct {
	rule    *sigma.Rule
	cs      *sigma.Correlation
	reads   []sigma.CorrReads     // per rule of cs.Rules: where its events hold the group-by and field
	conds   []sigma.CorrCondition // with the temporal default filled in
	bounded bool                  // an upper bound: judged on complete windows
	// An extended condition's alternatives (see extended.go): sliding ones
	// are judged after each event, like a lower bound; forward ones, which
	// exclude rules, on the complete window that each event of a rule in
	// opens[rule] starts.
	sliding, forward []sigma.CorrClause
	opens            []bool

	mu      sync.Mutex
	groups  map[string]*group
	lru     list.List // *group, most recently updated first
	sweepAt time.Time // no window ends before this
}

// entry is one event in a group.
type entry struct {
	t      time.Time
	ref    string // rule id/name
	id     string
	rule   int    // position of the rule in the correlation's rules
	val    string // value_count: the field's value
	hasVal bool
	num    float64 // value_sum/avg/percentile
	hasNum bool
}

type group struct {
	key     string
	vals    map[string]string
	entries []entry
	start   time.Time // bounded: the open window's start
	judged  time.Time // forward windows: those opened at or before it are judged
	last    time.Time // newest event time seen
	dropped int
	elem    *list.Element
}

// countsRules says whether the correlation's figure counts rules
// (temporal types), so that an event keeps an entry per rule it matched.
func (k *corr) countsRules() bool {
	return k.cs.Type == sigma.CorrTemporal || k.cs.Type == sigma.CorrTemporalOrdered
}

// groupValues reads the group-by values of doc, an event of the rule at
// position idx, from the fields that rule's events hold them in. The key
// folds case, as Sigma matches values and pySigma's SQLite backend groups
// them (Administrator and ADMINISTRATOR are one account); vals keep the
// first event's spelling for the alert. A missing field groups as "",
// where pySigma's SQL leaves the event out: a hunt over one host's
// audit.log, which names no host, still groups by host.name.
func (k *corr) groupValues(idx int, doc map[string]any) (string, map[string]string) {
	if len(k.cs.GroupBy) == 0 {
		return "", nil
	}
	vals := make(map[string]string, len(k.cs.GroupBy))
	for j, g := range k.cs.GroupBy {
		v, _ := lookupFirst(doc, k.reads[idx].GroupBy[j])
		vals[g] = stringify(v)
	}
	return groupKey(k.cs.GroupBy, vals), vals
}

// groupKey joins the group-by values in group-by order, lowered.
func groupKey(groupBy []string, vals map[string]string) string {
	var b strings.Builder
	for j, name := range groupBy {
		if j > 0 {
			b.WriteByte(0)
		}
		b.WriteString(strings.ToLower(vals[name]))
	}
	return b.String()
}

// lookupFirst returns the value of the first of fields present in doc: a
// field and the fallbacks a pipeline gave it.
func lookupFirst(doc map[string]any, fields []string) (any, bool) {
	for _, f := range fields {
		if v, ok := detection.Lookup(doc, f); ok {
			return v, true
		}
	}
	return nil, false
}

// add records one event and appends the alerts it completes to out. once,
// when not nil, holds the groups that already counted this event (it
// matched another of the correlation's rules): the event is left out of
// those.
func (k *corr) add(c *Correlator, idx int, doc map[string]any, ev entry, once map[string]bool, out []Alert) []Alert {
	ev.rule = idx
	if v, ok := lookupFirst(doc, k.reads[idx].Field); ok && v != nil {
		// value_count counts distinct values as they match: case folded
		ev.val, ev.hasVal = strings.ToLower(stringify(v)), true
		ev.num, ev.hasNum = number(v)
	}
	key, vals := k.groupValues(idx, doc)
	if once != nil {
		if once[key] {
			return out
		}
		once[key] = true
	}

	k.mu.Lock()
	defer k.mu.Unlock()
	out = k.sweepLocked(c, ev.t, out)
	g := k.groups[key]
	if g == nil {
		if len(k.groups) >= c.opts.MaxGroups {
			old := k.lru.Back().Value.(*group)
			k.remove(old)
			c.evicted.Add(1)
		}
		g = &group{key: key, vals: vals, start: ev.t, last: ev.t}
		g.elem = k.lru.PushFront(g)
		k.groups[key] = g
		k.noteEnd(g)
	} else {
		k.lru.MoveToFront(g.elem)
	}
	w := k.cs.Window
	if k.bounded {
		for len(g.entries) > 0 && ev.t.Sub(g.start) > w {
			out = k.judge(c, g, out)
		}
		if len(g.entries) == 0 {
			g.start = ev.t
		}
		if ev.t.Before(g.start) {
			c.late.Add(1)
			return out
		}
	} else {
		newest := g.last
		if ev.t.After(newest) {
			newest = ev.t
		}
		if newest.Sub(ev.t) > w {
			c.late.Add(1)
			return out
		}
		out = k.judgeForward(c, g, newest, out) // before the cut: the windows need their events
		cut := 0
		for cut < len(g.entries) && newest.Sub(g.entries[cut].t) > w {
			cut++
		}
		g.entries = g.entries[cut:]
	}
	if ev.t.After(g.last) {
		g.last = ev.t
	}
	g.entries = sortedInsert(g.entries, ev)
	if len(g.entries) > c.opts.MaxEventsPerGroup {
		g.entries = g.entries[1:]
		g.dropped++
		c.dropped.Add(1)
	}
	k.noteEnd(g)
	switch {
	case k.cs.Expression != "":
		out = k.slide(c, g, out)
	case !k.bounded:
		if v, ok := k.evaluate(g.entries); ok {
			out = append(out, k.alert(g, v))
			c.alerts.Add(1)
			k.reset(g)
		}
	}
	return out
}

// judge evaluates a bounded group's complete window and empties it.
func (k *corr) judge(c *Correlator, g *group, out []Alert) []Alert {
	end := g.start.Add(k.cs.Window)
	n := 0
	for n < len(g.entries) && !g.entries[n].t.After(end) {
		n++
	}
	win := g.entries[:n]
	if v, ok := k.evaluate(win); ok && n > 0 {
		a := k.alert(&group{vals: g.vals, entries: win, dropped: g.dropped}, v)
		out = append(out, a)
		c.alerts.Add(1)
	}
	g.entries = append(g.entries[:0:0], g.entries[n:]...)
	g.dropped = 0
	if len(g.entries) > 0 {
		g.start = g.entries[0].t
	}
	return out
}

func (k *corr) reset(g *group) {
	g.entries = g.entries[:0:0]
	g.dropped = 0
}

func (k *corr) remove(g *group) {
	k.lru.Remove(g.elem)
	delete(k.groups, g.key)
}

// end is when a group next needs attention: its bounded window closes, a
// forward window closes, or its newest event leaves the sliding window.
func (k *corr) end(g *group) time.Time {
	if k.bounded {
		return g.start.Add(k.cs.Window)
	}
	if at, ok := k.nextOpening(g); ok {
		return at.Add(k.cs.Window)
	}
	return g.last.Add(k.cs.Window)
}

func (k *corr) noteEnd(g *group) {
	if e := k.end(g); k.sweepAt.IsZero() || e.Before(k.sweepAt) {
		k.sweepAt = e
	}
}

func (k *corr) sweep(c *Correlator, t time.Time, out []Alert) []Alert {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.sweepLocked(c, t, out)
}

// sweepLocked judges the bounded windows that ended before t and frees the
// groups left with nothing in their window. It scans only when some window
// has ended (sweepAt), so its cost is spread over many events.
func (k *corr) sweepLocked(c *Correlator, t time.Time, out []Alert) []Alert {
	if k.sweepAt.IsZero() || !t.After(k.sweepAt) {
		return out
	}
	k.sweepAt = time.Time{}
	for _, g := range k.groups {
		if t.After(k.end(g)) {
			if k.bounded {
				for len(g.entries) > 0 && t.After(k.end(g)) {
					out = k.judge(c, g, out)
				}
			} else {
				out = k.judgeForward(c, g, t, out)
				if t.After(g.last.Add(k.cs.Window)) {
					g.entries = g.entries[:0:0]
				}
			}
			if len(g.entries) == 0 {
				k.remove(g)
				continue
			}
		}
		k.noteEnd(g)
	}
	return out
}

// evaluate computes the correlation's figure over es and checks the
// condition.
func (k *corr) evaluate(es []entry) (float64, bool) {
	if len(es) == 0 {
		return 0, false
	}
	var v float64
	switch k.cs.Type {
	case sigma.CorrEventCount:
		v = float64(len(es))
	case sigma.CorrValueCount:
		seen := map[string]bool{}
		for _, e := range es {
			if e.hasVal {
				seen[e.val] = true
			}
		}
		v = float64(len(seen))
	case sigma.CorrTemporal:
		seen := map[int]bool{}
		for _, e := range es {
			seen[e.rule] = true
		}
		v = float64(len(seen))
	case sigma.CorrTemporalOrdered:
		v = float64(inOrder(es, len(k.cs.Rules)))
	default: // value_sum, value_avg, value_percentile, value_median (its Percentile is 50)
		var xs []float64
		for _, e := range es {
			if e.hasNum {
				xs = append(xs, e.num)
			}
		}
		if len(xs) == 0 {
			return 0, false
		}
		switch k.cs.Type {
		case sigma.CorrValueSum, sigma.CorrValueAvg:
			for _, x := range xs {
				v += x
			}
			if k.cs.Type == sigma.CorrValueAvg {
				v /= float64(len(xs))
			}
		default:
			v = percentile(xs, k.cs.Percentile)
		}
	}
	for _, c := range k.conds {
		if !c.Holds(v) {
			return v, false
		}
	}
	return v, true
}

// inOrder is temporal_ordered's figure: the most rules whose events come
// in es (in time order) in the order of the correlation's rules list, each
// after the one before. "gte: 2" of rules a, b, c holds for b then c, as in
// pySigma's SQL (any two of the rules, in list order), not only for a then
// b. best[r] is the longest such chain that ends with an event of rule r.
func inOrder(es []entry, rules int) int {
	best := make([]int, rules)
	longest := 0
	for _, e := range es {
		n := 1
		for r := range e.rule {
			n = max(n, best[r]+1)
		}
		best[e.rule] = max(best[e.rule], n)
		longest = max(longest, n)
	}
	return longest
}

func (k *corr) alert(g *group, v float64) Alert {
	a := Alert{
		Rule:    k.rule,
		Group:   make(map[string]string, len(g.vals)),
		First:   g.entries[0].t,
		Last:    g.entries[len(g.entries)-1].t,
		Count:   len(g.entries),
		Value:   v,
		Events:  make([]EventRef, len(g.entries)),
		Dropped: g.dropped,
	}
	for k, v := range g.vals {
		a.Group[k] = v
	}
	for i, e := range g.entries {
		a.Events[i] = EventRef{Rule: e.ref, ID: e.id, Time: e.t}
	}
	return a
}
