// Package aggregate evaluates Sigma correlation rules (event_count,
// value_count, temporal, temporal_ordered, value_sum, value_avg,
// value_percentile, value_median) over the matches of their base rules.
//
// Time is the events' own time, passed to Observe; the wall clock is never
// read, so replaying old logs gives the alerts they gave live. State is
// bounded: at most Options.MaxGroups groups per correlation rule (the least
// recently updated group is evicted) and Options.MaxEventsPerGroup events per
// group (the oldest is dropped); both are counted in Stats.
//
// Windows. A condition with only lower bounds (gt, gte) is evaluated on a
// sliding window: after each event, over the group's events of the last
// timespan, and it fires as soon as it holds. A condition with an upper
// bound (lt, lte, eq, neq) can only be judged once the window is complete,
// so those groups use a window that opens with the group's first event and
// is judged when an event of the correlation (Observe) or Advance shows
// that event time has passed its end. After an alert the group starts
// afresh, so a burst of 25 failed logins with "gte: 10" gives two alerts,
// not sixteen.
//
// Chaining: a correlation alert is fed, as an event of its correlation
// rule, to the correlations that name that rule; Observe returns the alerts
// of every level. Callers feed base-rule matches only.
//
// The package does not import libbeat and is safe for concurrent use.
package aggregate

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"webshellbeat/detection"
	"webshellbeat/detection/sigma"
)

// Options bound a Correlator. Zero fields take the defaults.
type Options struct {
	MaxGroups         int // per correlation rule; default 10000
	MaxEventsPerGroup int // events kept (and listed in an alert) per group; default 1000
}

// EventRef identifies one event a correlation joined.
type EventRef struct {
	Rule string    // id of the rule that matched it (its name, or title, when it has no id)
	ID   string    // the event's event.id, winlog.record_id, auditd.sequence or log.offset; "" when none
	Time time.Time // event time
}

// Alert is one correlation match.
type Alert struct {
	Rule *sigma.Rule // the correlation rule
	// Group holds the group-by values, keyed by the names in the rule's
	// group-by (alias names for aliases), as the group's first event
	// spells them (groups fold case). A missing field groups as "".
	Group map[string]string
	First time.Time // time of the oldest joined event
	Last  time.Time // time of the newest joined event: the alert's time
	// Closed is, for an alternative of an extended condition with "not",
	// the end of the window in which none of the excluded rules matched
	// (First plus the timespan); zero otherwise.
	Closed time.Time
	Count  int        // events joined
	Value  float64    // the figure the condition was checked on (count, distinct values, sum, average, percentile, rules seen)
	Events []EventRef // the joined events, oldest first
	// Dropped counts events of the group that were not kept because of
	// MaxEventsPerGroup (they are not in Events or Count).
	Dropped int
}

// Stats counts what a Correlator holds and what its bounds cost.
type Stats struct {
	Groups        int    // live groups, all correlations
	EvictedGroups uint64 // groups evicted by MaxGroups
	DroppedEvents uint64 // events dropped by MaxEventsPerGroup
	LateEvents    uint64 // events older than their group's window, ignored
	UntimedEvents uint64 // events observed with a zero time, ignored
	Alerts        uint64
}

// Add adds o's counts to s (several correlators, several detectors).
func (s *Stats) Add(o Stats) {
	s.Groups += o.Groups
	s.EvictedGroups += o.EvictedGroups
	s.DroppedEvents += o.DroppedEvents
	s.LateEvents += o.LateEvents
	s.UntimedEvents += o.UntimedEvents
	s.Alerts += o.Alerts
}

// Correlator evaluates a set of correlation rules.
type Correlator struct {
	opts  Options
	corrs []*corr
	byRef map[string][]target // rule id or name -> uses
	quiet map[string]bool     // ids and names referred to by a correlation without generate

	evicted, dropped, late, untimed, alerts atomic.Uint64
}

type target struct {
	c   *corr
	idx int // position in the correlation's rules
}

// New prepares the correlation rules (Collection.Correlations): each must
// have a Correlation section. References between them are resolved here
// (chaining); references to detection rules are matched against the rules
// passed to Observe. It fails on a rule the parser would have rejected, on
// a cycle, and on a count threshold above MaxEventsPerGroup, which could
// never be reached.
func New(corrs []*sigma.Rule, opts Options) (*Correlator, error) {
	if opts.MaxGroups <= 0 {
		opts.MaxGroups = 10000
	}
	if opts.MaxEventsPerGroup <= 0 {
		opts.MaxEventsPerGroup = 1000
	}
	c := &Correlator{opts: opts, byRef: map[string][]target{}, quiet: map[string]bool{}}
	for _, r := range corrs {
		if r == nil || r.Correlation == nil {
			return nil, fmt.Errorf("aggregate: rule %v is not a correlation rule", title(r))
		}
		cs := r.Correlation
		if cs.Window <= 0 || len(cs.Rules) == 0 {
			return nil, fmt.Errorf("%s: correlation %q has no timespan or rules", r.Path, r.Title)
		}
		reads, err := readsOf(cs)
		if err != nil {
			return nil, fmt.Errorf("%s: correlation %q: %w", r.Path, r.Title, err)
		}
		k := &corr{rule: r, cs: cs, reads: reads, groups: map[string]*group{}, conds: cs.Conditions}
		switch cs.Type {
		case sigma.CorrTemporal, sigma.CorrTemporalOrdered:
			if len(cs.Clauses) > 0 {
				k.extended(cs.Clauses)
			} else if len(k.conds) == 0 {
				k.conds = []sigma.CorrCondition{{Op: "gte", Value: float64(len(cs.Rules))}}
			}
		case sigma.CorrEventCount, sigma.CorrValueCount, sigma.CorrValueSum, sigma.CorrValueAvg, sigma.CorrValuePercentile, sigma.CorrValueMedian:
			if len(k.conds) == 0 {
				return nil, fmt.Errorf("%s: correlation %q has no condition", r.Path, r.Title)
			}
		default:
			return nil, fmt.Errorf("%s: correlation %q: unknown type %q", r.Path, r.Title, cs.Type)
		}
		for _, cond := range k.conds {
			switch cond.Op {
			case "lt", "lte", "eq", "neq":
				k.bounded = true
			}
			counted := cs.Type == sigma.CorrEventCount || cs.Type == sigma.CorrValueCount
			if counted && cond.Op != "lt" && cond.Op != "lte" && cond.Op != "neq" && cond.Value > float64(opts.MaxEventsPerGroup) {
				return nil, fmt.Errorf("%s: correlation %q: threshold %v is above MaxEventsPerGroup %d", r.Path, r.Title, cond.Value, opts.MaxEventsPerGroup)
			}
		}
		c.corrs = append(c.corrs, k)
		for i, ref := range cs.Rules {
			c.byRef[ref] = append(c.byRef[ref], target{k, i})
			if !cs.Generate {
				c.quiet[ref] = true
			}
		}
	}
	// Chaining: a correlation referred to by another must not be in a cycle.
	state := map[*corr]int{}
	var visit func(k *corr) error
	visit = func(k *corr) error {
		if state[k] == 1 {
			return fmt.Errorf("%s: correlation %q is part of a cycle", k.rule.Path, k.rule.Title)
		}
		if state[k] == 2 {
			return nil
		}
		state[k] = 1
		for _, t := range c.targetsOf(k.rule) {
			if err := visit(t.c); err != nil {
				return err
			}
		}
		state[k] = 2
		return nil
	}
	for _, k := range c.corrs {
		if err := visit(k); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// readsOf resolves, per rule of cs, the fields its events hold the
// group-by values and the condition field in (aliases and pipelines
// applied), once here rather than per event. Reads of the wrong shape
// would index out of range on every event, so they are refused.
func readsOf(cs *sigma.Correlation) ([]sigma.CorrReads, error) {
	if len(cs.Reads) != 0 && len(cs.Reads) != len(cs.Rules) {
		return nil, fmt.Errorf("field names resolved for %d rules, not %d", len(cs.Reads), len(cs.Rules))
	}
	out := make([]sigma.CorrReads, len(cs.Rules))
	for i := range cs.Rules {
		rd := cs.ReadsFor(i)
		empty := slices.ContainsFunc(rd.GroupBy, func(f []string) bool { return len(f) == 0 })
		if empty || len(rd.GroupBy) != len(cs.GroupBy) || (cs.Field != "") != (len(rd.Field) > 0) {
			return nil, fmt.Errorf("field names resolved for rule %q do not match group-by and field", cs.Rules[i])
		}
		out[i] = rd
	}
	return out, nil
}

func title(r *sigma.Rule) string {
	if r == nil {
		return "<nil>"
	}
	return strconv.Quote(r.Title)
}

// targetsOf returns the correlation positions that name r by id or name.
func (c *Correlator) targetsOf(r *sigma.Rule) []target {
	var out []target
	for _, ref := range []string{r.ID, r.Name} {
		if ref == "" {
			continue
		}
		for _, t := range c.byRef[ref] {
			if !slices.Contains(out, t) {
				out = append(out, t)
			}
		}
	}
	return out
}

// Refers reports whether some correlation names r, i.e. whether its
// matches need to be passed to Observe.
func (c *Correlator) Refers(r *sigma.Rule) bool { return len(c.targetsOf(r)) > 0 }

// Standalone reports whether r's own matches (or, for a correlation rule,
// its alerts) should be output as alerts. As the specification's generate
// says, a rule named by a correlation that does not set "generate: true"
// only feeds that correlation.
func (c *Correlator) Standalone(r *sigma.Rule) bool {
	return !(r.ID != "" && c.quiet[r.ID] || r.Name != "" && c.quiet[r.Name])
}

// Observe feeds one match of rule (a detection rule) on doc at event time
// t, and returns the correlation alerts it completes, including those of
// chained correlations. Events with a zero time are ignored and counted.
// An event that several rules of one correlation match is fed with
// ObserveEvent, so that it counts once.
func (c *Correlator) Observe(rule *sigma.Rule, doc map[string]any, t time.Time) []Alert {
	return c.ObserveEvent([]*sigma.Rule{rule}, doc, t)
}

// ObserveEvent feeds the matches of rules (detection rules) on one event,
// doc at event time t, as Observe does one. A correlation that names
// several of them counts the event once per group, as pySigma's SQL counts
// an event by its id: event_count, value_count and the value_* types keep
// it under the first of its rules that the correlation names; temporal and
// temporal_ordered keep it under each, since they count rules.
func (c *Correlator) ObserveEvent(rules []*sigma.Rule, doc map[string]any, t time.Time) []Alert {
	if t.IsZero() {
		c.untimed.Add(1)
		return nil
	}
	var out []Alert
	id := eventID(doc)
	once := map[*corr]map[string]bool{} // groups each correlation has counted this event in
	for _, r := range rules {
		ev := entry{t: t, ref: ruleRef(r), id: id}
		for _, tg := range c.targetsOf(r) {
			var seen map[string]bool // nil: the event may go in any group
			if len(rules) > 1 && !tg.c.countsRules() {
				if once[tg.c] == nil {
					once[tg.c] = map[string]bool{}
				}
				seen = once[tg.c]
			}
			out = tg.c.add(c, tg.idx, doc, ev, seen, out)
		}
	}
	return c.chain(out, 0)
}

// chain feeds alerts to the correlations that name their rule.
func (c *Correlator) chain(alerts []Alert, from int) []Alert {
	for i := from; i < len(alerts); i++ {
		a := alerts[i]
		ts := c.targetsOf(a.Rule)
		if len(ts) == 0 {
			continue
		}
		doc := map[string]any{}
		for k, v := range a.Group {
			detection.Put(doc, k, v)
		}
		ev := entry{t: a.Last, ref: ruleRef(a.Rule)}
		if !a.Closed.IsZero() { // what it says ("a and not b") holds from its window's end
			ev.t = a.Closed
		}
		for _, tg := range ts {
			alerts = tg.c.add(c, tg.idx, doc, ev, nil, alerts)
		}
	}
	return alerts
}

// Advance tells the correlator that event time has reached t (for example
// the time of any event read, matched or not): windows of bounded
// conditions that ended before t are judged, and groups whose events all
// left their window are freed. It returns the alerts judged.
func (c *Correlator) Advance(t time.Time) []Alert {
	var out []Alert
	for _, k := range c.corrs {
		out = k.sweep(c, t, out)
	}
	return c.chain(out, 0)
}

// Stats returns the current counters.
func (c *Correlator) Stats() Stats {
	s := Stats{
		EvictedGroups: c.evicted.Load(),
		DroppedEvents: c.dropped.Load(),
		LateEvents:    c.late.Load(),
		UntimedEvents: c.untimed.Load(),
		Alerts:        c.alerts.Load(),
	}
	for _, k := range c.corrs {
		k.mu.Lock()
		s.Groups += len(k.groups)
		k.mu.Unlock()
	}
	return s
}

func ruleRef(r *sigma.Rule) string {
	switch {
	case r.ID != "":
		return r.ID
	case r.Name != "":
		return r.Name
	}
	return r.Title
}

// idFields are where an event's own identifier is found, in order.
var idFields = []string{"event.id", "winlog.record_id", "auditd.sequence", "log.offset"}

func eventID(doc map[string]any) string {
	for _, f := range idFields {
		if v, ok := detection.Lookup(doc, f); ok && v != nil {
			if s := stringify(v); s != "" {
				return s
			}
		}
	}
	return ""
}

// stringify renders a field value for grouping and distinct counting.
func stringify(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = stringify(e)
		}
		return strings.Join(parts, ",")
	case []string:
		return strings.Join(x, ",")
	}
	if s, ok := detection.ScalarString(v); ok { // as rules see it: no float exponent
		return s
	}
	return fmt.Sprint(v)
}

func number(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, !math.IsNaN(x)
	case float32:
		return float64(x), true
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case int32:
		return float64(x), true
	case uint64:
		return float64(x), true
	case uint32:
		return float64(x), true
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		return f, err == nil && !math.IsNaN(f)
	case fmt.Stringer: // json.Number and the like
		f, err := strconv.ParseFloat(x.String(), 64)
		return f, err == nil && !math.IsNaN(f)
	}
	return 0, false
}

// sortedInsert keeps entries in time order; events mostly arrive in order,
// so the search starts from the end.
func sortedInsert(es []entry, e entry) []entry {
	i := len(es)
	for i > 0 && es[i-1].t.After(e.t) {
		i--
	}
	return slices.Insert(es, i, e)
}

// percentile is the percentile p (0-100) of xs (sorted here), linearly
// interpolated between the two values around rank (n-1)*p/100: the
// definition of numpy's default and of pySigma's SQLite backend, so a rule
// gives here the value it gives there (the median of 135 and 49167 is
// 24651, not 135).
func percentile(xs []float64, p float64) float64 {
	sort.Float64s(xs)
	pos := float64(len(xs)-1) * min(max(p, 0), 100) / 100
	lo := int(pos)
	if lo+1 >= len(xs) {
		return xs[len(xs)-1]
	}
	return xs[lo] + (pos-float64(lo))*(xs[lo+1]-xs[lo])
}

// Doc renders the alert as a document: @timestamp (the last event's time),
// event.kind alert, event.start/end/duration, and webshell.correlation
// with the type, count, value, group-by values, the joined events (rule
// id, event id, time) and an extended condition. Callers add rule.* and
// severity with detection.MarkAlert, as for any alert.
func (a Alert) Doc() map[string]any {
	events := make([]any, len(a.Events))
	for i, e := range a.Events {
		m := map[string]any{"rule": e.Rule, "@timestamp": e.Time}
		if e.ID != "" {
			m["id"] = e.ID
		}
		events[i] = m
	}
	group := make(map[string]any, len(a.Group))
	for k, v := range a.Group {
		group[k] = v
	}
	corr := map[string]any{
		"type":   a.Rule.Correlation.Type,
		"count":  a.Count,
		"value":  a.Value,
		"group":  group,
		"events": events,
	}
	if a.Dropped > 0 {
		corr["dropped"] = a.Dropped
	}
	if x := a.Rule.Correlation.Expression; x != "" {
		corr["condition"] = x
	}
	end := a.Last
	if !a.Closed.IsZero() { // what the alert says lasted until then: nothing excluded came
		end = a.Closed
	}
	return map[string]any{
		"@timestamp": a.Last,
		"event": map[string]any{
			"kind":     "alert",
			"start":    a.First,
			"end":      end,
			"duration": end.Sub(a.First).Nanoseconds(),
		},
		"webshell": map[string]any{"correlation": corr},
	}
}
