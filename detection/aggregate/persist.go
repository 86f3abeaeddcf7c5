package aggregate

import (
	"math"
	"slices"
	"strings"
	"time"
)

// Saved is the state of a Correlator's windows, for a restart: without it
// a burst of failed logins that straddles a restart of the beat is two
// halves, each under the threshold. It is plain data for encoding/json.
type Saved struct {
	Corrs []SavedCorr `json:"correlations"`
}

// SavedCorr holds the groups of one correlation rule.
type SavedCorr struct {
	Rule   string       `json:"rule"`   // the rule's id (name, title)
	Groups []SavedGroup `json:"groups"` // most recently updated first
}

// SavedGroup is one group's window.
type SavedGroup struct {
	Key     string            `json:"key"`
	Vals    map[string]string `json:"values,omitempty"`
	Start   time.Time         `json:"start"`
	Last    time.Time         `json:"last"`
	Dropped int               `json:"dropped,omitempty"`
	Judged  time.Time         `json:"judged,omitzero"` // forward windows opened until then are judged
	Entries []SavedEntry      `json:"events"`
}

// SavedEntry is one event in a window.
type SavedEntry struct {
	Time   time.Time `json:"t"`
	Ref    string    `json:"rule"`
	ID     string    `json:"id,omitempty"`
	Pos    int       `json:"pos"` // the rule's position in the correlation's rules
	Val    string    `json:"val,omitempty"`
	HasVal bool      `json:"has_val,omitempty"`
	Num    float64   `json:"num,omitempty"`
	HasNum bool      `json:"has_num,omitempty"`
}

// Snapshot returns the windows of every correlation rule.
func (c *Correlator) Snapshot() Saved {
	var s Saved
	for _, k := range c.corrs {
		sc := SavedCorr{Rule: ruleRef(k.rule)}
		k.mu.Lock()
		for e := k.lru.Front(); e != nil; e = e.Next() {
			if g := e.Value.(*group); len(g.entries) > 0 { // a group reset by its alert holds nothing
				sc.Groups = append(sc.Groups, saveGroup(g))
			}
		}
		k.mu.Unlock()
		if len(sc.Groups) > 0 {
			s.Corrs = append(s.Corrs, sc)
		}
	}
	return s
}

func saveGroup(g *group) SavedGroup {
	sg := SavedGroup{Key: g.key, Vals: g.vals, Start: g.start, Last: g.last, Dropped: g.dropped, Judged: g.judged,
		Entries: make([]SavedEntry, len(g.entries))}
	for i, e := range g.entries {
		se := SavedEntry{Time: e.t, Ref: e.ref, ID: e.id, Pos: e.rule, Val: e.val, HasVal: e.hasVal, Num: e.num, HasNum: e.hasNum}
		if math.IsInf(e.num, 0) { // JSON has no infinity; such a value counts as not numeric
			se.Num, se.HasNum = 0, false
		}
		sg.Entries[i] = se
	}
	return sg
}

// Restore loads windows saved by Snapshot into c, which should have seen no
// event yet. Groups of rules c does not have are skipped and counted, as
// are events and groups that do not fit c's rules or bounds (a hand-edited
// or foreign file must not break the correlator): restored counts the
// groups kept, those merged into another of the same folded key included. Windows that ended while the beat was down are judged or
// freed by the next Observe or Advance, on event time as always.
func (c *Correlator) Restore(s Saved) (restored, skipped int) {
	byRef := map[string]*corr{}
	for _, k := range c.corrs {
		byRef[ruleRef(k.rule)] = k
	}
	for _, sc := range s.Corrs {
		k := byRef[sc.Rule]
		if k == nil {
			skipped += len(sc.Groups)
			continue
		}
		n, bad := k.restore(c, sc.Groups)
		restored += n
		skipped += bad
	}
	return restored, skipped
}

func (k *corr) restore(c *Correlator, groups []SavedGroup) (restored, skipped int) {
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, sg := range groups {
		g, ok := k.loadGroup(c, sg)
		if ok && k.groups[g.key] != nil {
			k.merge(c, k.groups[g.key], g)
			restored++
			continue
		}
		if !ok || len(k.groups) >= c.opts.MaxGroups {
			skipped++
			continue
		}
		g.elem = k.lru.PushBack(g) // saved most recent first
		k.groups[g.key] = g
		k.noteEnd(g)
		restored++
	}
	return restored, skipped
}

// loadGroup checks a saved group against k and rebuilds it; events in the
// wrong order are sorted, and the newest MaxEventsPerGroup are kept.
func (k *corr) loadGroup(c *Correlator, sg SavedGroup) (*group, bool) {
	if len(sg.Entries) == 0 || sg.Start.IsZero() || len(sg.Vals) != len(k.cs.GroupBy) {
		return nil, false
	}
	for _, name := range k.cs.GroupBy {
		if _, ok := sg.Vals[name]; !ok {
			return nil, false
		}
	}
	g := &group{key: sg.Key, vals: sg.Vals, start: sg.Start, last: sg.Last, dropped: sg.Dropped, judged: sg.Judged}
	if len(k.cs.GroupBy) == 0 {
		g.vals = nil
	}
	for _, se := range sg.Entries {
		if se.Time.IsZero() || se.Pos < 0 || se.Pos >= len(k.cs.Rules) || math.IsNaN(se.Num) {
			return nil, false
		}
		g.entries = append(g.entries, entry{t: se.Time, ref: se.Ref, id: se.ID, rule: se.Pos,
			val: se.Val, hasVal: se.HasVal, num: se.Num, hasNum: se.HasNum})
	}
	slices.SortStableFunc(g.entries, func(a, b entry) int { return a.t.Compare(b.t) })
	if over := len(g.entries) - c.opts.MaxEventsPerGroup; over > 0 {
		g.entries = g.entries[over:]
		g.dropped += over
	}
	if last := g.entries[len(g.entries)-1].t; g.last.Before(last) {
		g.last = last
	}
	// The key is the values folded. A saved key that differs from it in
	// case only was written by a version before groups folded case: such
	// groups are merged (restore), not told apart.
	key := groupKey(k.cs.GroupBy, g.vals)
	if !strings.EqualFold(g.key, key) {
		return nil, false
	}
	g.key = key
	return g, true
}

// merge adds the events of g, a saved group with the same folded key, to
// old, keeping old's spelling and the newest MaxEventsPerGroup events.
func (k *corr) merge(c *Correlator, old, g *group) {
	old.entries = append(old.entries, g.entries...)
	slices.SortStableFunc(old.entries, func(a, b entry) int { return a.t.Compare(b.t) })
	if over := len(old.entries) - c.opts.MaxEventsPerGroup; over > 0 {
		old.entries = old.entries[over:]
		old.dropped += over
	}
	old.dropped += g.dropped
	old.start = minTime(old.start, g.start)
	old.last = maxTime(old.last, g.last)
	old.judged = maxTime(old.judged, g.judged)
	k.noteEnd(old)
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// Groups counts the groups held.
func (s Saved) Groups() int {
	n := 0
	for _, sc := range s.Corrs {
		n += len(sc.Groups)
	}
	return n
}
