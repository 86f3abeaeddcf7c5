package aggregate

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"webshellbeat/detection/sigma"
)

func load(t *testing.T, src string) *sigma.Collection {
	t.Helper()
	c := sigma.LoadFS(fstest.MapFS{"r/rules.yml": {Data: []byte(src)}}, "r")
	if len(c.Errors) > 0 {
		t.Fatalf("load: %v", c.Errors)
	}
	return c
}

func newCorrelator(t *testing.T, c *sigma.Collection, opts Options) *Correlator {
	t.Helper()
	k, err := New(c.Correlations, opts)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

var t0 = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

func at(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }

// Base rules named as in the specification's examples.
const baseRules = `
title: Single failed login
id: 53ba33fd-3a50-4468-a5ef-c583635cfa92
name: failed_login
logsource: {product: windows, service: security}
detection:
    selection:
        EventID: [529, 4625]
    condition: selection
---
title: Successful login
id: 4d0a2c83-c62c-4ed4-b475-c7e23a9269b8
name: successful_login
logsource: {product: windows, service: security}
detection:
    selection:
        EventID: [528, 4624]
    condition: selection
`

func rule(c *sigma.Collection, name string) *sigma.Rule {
	r := c.Lookup(name)
	if r == nil {
		panic("no rule " + name)
	}
	return r
}

func login(user string, id int) map[string]any {
	return map[string]any{"User": user, "winlog": map[string]any{"record_id": id}}
}

// event_count: the specification's "Many failed logins", >= 10 in 5m per user.
func TestEventCount(t *testing.T) {
	c := load(t, baseRules+`---
title: Many failed logins
id: 0e95725d-7320-415d-80f7-004da920fc11
correlation:
    type: event_count
    rules:
        - 53ba33fd-3a50-4468-a5ef-c583635cfa92
    group-by:
        - User
    timespan: 5m
    condition:
        gte: 10
level: high
`)
	k := newCorrelator(t, c, Options{})
	failed := rule(c, "failed_login")
	var alerts []Alert
	// 9 for alice over 4 minutes, and interleaved ones for bob.
	for i := range 9 {
		alerts = append(alerts, k.Observe(failed, login("alice", 100+i), at(i*30))...)
		alerts = append(alerts, k.Observe(failed, login("bob", 200+i), at(i*30+1))...)
	}
	if len(alerts) != 0 {
		t.Fatalf("fired early: %+v", alerts)
	}
	// A 10th after the first left the window (10 min later): still 9 at most.
	if a := k.Observe(failed, login("alice", 109), at(9*30+300)); len(a) != 0 {
		t.Fatalf("window not expired by event time: %+v", a)
	}
	// Refill alice's window: 9 more within 5 minutes of the 10th.
	for i := range 8 {
		if a := k.Observe(failed, login("alice", 110+i), at(9*30+300+i*10)); len(a) != 0 {
			t.Fatalf("fired at %d: %+v", i, a)
		}
	}
	a := k.Observe(failed, login("alice", 118), at(9*30+300+100))
	if len(a) != 1 {
		t.Fatalf("alerts = %d, want 1", len(a))
	}
	got := a[0]
	if got.Rule.Title != "Many failed logins" || got.Group["User"] != "alice" || got.Count != 10 || got.Value != 10 {
		t.Errorf("alert = %+v", got)
	}
	if !got.First.Equal(at(570)) || !got.Last.Equal(at(670)) || got.Events[0].ID != "109" || got.Events[9].ID != "118" || got.Events[0].Rule != failed.ID {
		t.Errorf("alert span/events = %v %v %+v", got.First, got.Last, got.Events)
	}
	// The group starts afresh after an alert.
	if a := k.Observe(failed, login("alice", 119), at(680)); len(a) != 0 {
		t.Errorf("refired: %+v", a)
	}
	if !k.Standalone(rule(c, "successful_login")) || k.Standalone(failed) {
		t.Errorf("generate: failed_login must only feed the correlation")
	}
}

// value_count: failed logins with many different users per source host.
func TestValueCount(t *testing.T) {
	c := load(t, baseRules+`---
title: Password spraying
correlation:
    type: value_count
    rules: [failed_login]
    group-by: [ComputerName, WorkstationName]
    timespan: 1d
    condition:
        field: User
        gte: 3
    generate: true
`)
	k := newCorrelator(t, c, Options{})
	failed := rule(c, "failed_login")
	ev := func(user string) map[string]any {
		return map[string]any{"User": user, "ComputerName": "dc1", "WorkstationName": "ws9", "event": map[string]any{"id": "e-" + user}}
	}
	var n int
	for i, u := range []string{"a", "a", "b", "b", "a"} {
		n += len(k.Observe(failed, ev(u), at(i)))
	}
	if n != 0 {
		t.Fatal("fired with 2 distinct users")
	}
	a := k.Observe(failed, ev("c"), at(10))
	if len(a) != 1 || a[0].Value != 3 || a[0].Count != 6 || a[0].Group["WorkstationName"] != "ws9" || a[0].Events[5].ID != "e-c" {
		t.Fatalf("alerts = %+v", a)
	}
	if !k.Standalone(failed) {
		t.Error("generate: true keeps the base rule standalone")
	}
}

// temporal: three recon rules in any order within 5m by the same user on
// the same computer.
func TestTemporal(t *testing.T) {
	c := load(t, `
title: a
name: recon_cmd_a
logsource: {product: windows}
detection: {s: {x: a}, condition: s}
---
title: b
name: recon_cmd_b
logsource: {product: windows}
detection: {s: {x: b}, condition: s}
---
title: c
name: recon_cmd_c
logsource: {product: windows}
detection: {s: {x: c}, condition: s}
---
title: Recon
correlation:
    type: temporal
    rules: [recon_cmd_a, recon_cmd_b, recon_cmd_c]
    group-by: [ComputerName, User]
    timespan: 5m
`)
	k := newCorrelator(t, c, Options{})
	doc := map[string]any{"ComputerName": "h", "User": "u"}
	other := map[string]any{"ComputerName": "h", "User": "v"}
	n := len(k.Observe(rule(c, "recon_cmd_c"), doc, at(0)))
	n += len(k.Observe(rule(c, "recon_cmd_a"), doc, at(10)))
	n += len(k.Observe(rule(c, "recon_cmd_a"), doc, at(20)))
	n += len(k.Observe(rule(c, "recon_cmd_b"), other, at(30))) // another user
	if n != 0 {
		t.Fatal("fired early")
	}
	a := k.Observe(rule(c, "recon_cmd_b"), doc, at(299))
	if len(a) != 1 || a[0].Value != 3 || a[0].Count != 4 {
		t.Fatalf("alerts = %+v", a)
	}
	// Out of the window: c at 400, a at 500, b at 800 (c left).
	for _, x := range []struct {
		r string
		s int
	}{{"recon_cmd_c", 400}, {"recon_cmd_a", 500}, {"recon_cmd_b", 800}} {
		if a := k.Observe(rule(c, x.r), doc, at(x.s)); len(a) != 0 {
			t.Fatalf("fired across windows: %+v", a)
		}
	}
}

// temporal_ordered and chaining: the specification's "Multiple Failed
// Logins Followed by Successful Login".
const specChain = `
title: Correlation - Multiple Failed Logins Followed by Successful Login
id: b180ead8-d58f-40b2-ae54-c8940995b9b6
correlation:
    type: temporal_ordered
    rules:
        - multiple_failed_login
        - successful_login
    group-by:
        - User
    timespan: 10m
level: high
---
title: Multiple failed logons
id: a8418a5a-5fc4-46b5-b23b-6c73beb19d41
name: multiple_failed_login
correlation:
    type: event_count
    rules:
        - failed_login
    group-by:
        - User
    timespan: 10m
    condition:
        gte: 10
`

func TestTemporalOrderedChain(t *testing.T) {
	c := load(t, specChain+"---\n"+baseRules)
	k := newCorrelator(t, c, Options{})
	failed, ok := rule(c, "failed_login"), rule(c, "successful_login")
	// Success first does not count: order matters.
	if a := k.Observe(ok, login("eve", 1), at(0)); len(a) != 0 {
		t.Fatal(a)
	}
	var alerts []Alert
	for i := range 10 {
		alerts = append(alerts, k.Observe(failed, login("eve", 10+i), at(10+i))...)
	}
	if len(alerts) != 1 || alerts[0].Rule.Name != "multiple_failed_login" {
		t.Fatalf("intermediate alerts = %+v", alerts)
	}
	if k.Standalone(alerts[0].Rule) {
		t.Error("the intermediate correlation must not be standalone")
	}
	a := k.Observe(ok, login("eve", 99), at(100))
	if len(a) != 1 {
		t.Fatalf("alerts = %+v", a)
	}
	top := a[0]
	if top.Rule.ID != "b180ead8-d58f-40b2-ae54-c8940995b9b6" || top.Group["User"] != "eve" || top.Value != 2 {
		t.Errorf("alert = %+v", top)
	}
	wantRefs := []string{"53ba33fd-3a50-4468-a5ef-c583635cfa92", "a8418a5a-5fc4-46b5-b23b-6c73beb19d41", "4d0a2c83-c62c-4ed4-b475-c7e23a9269b8"}
	var refs []string
	for _, e := range top.Events {
		refs = append(refs, e.Rule)
	}
	// The early success (t=0) is in the window but before the failures;
	// the chained event is at the time of the 10th failure.
	if !slices.Equal(refs, []string{wantRefs[2], wantRefs[1], wantRefs[2]}) || !top.Events[1].Time.Equal(at(19)) {
		t.Errorf("events = %+v", top.Events)
	}
}

func TestTemporalOrderedWrongOrder(t *testing.T) {
	c := load(t, baseRules+`---
title: success then failure
correlation:
    type: temporal_ordered
    rules: [failed_login, successful_login]
    group-by: [User]
    timespan: 1m
`)
	k := newCorrelator(t, c, Options{})
	if a := k.Observe(rule(c, "successful_login"), login("x", 1), at(0)); len(a) != 0 {
		t.Fatal(a)
	}
	if a := k.Observe(rule(c, "failed_login"), login("x", 2), at(5)); len(a) != 0 {
		t.Fatalf("wrong order fired: %+v", a)
	}
	// An out-of-order arrival is placed by event time.
	if a := k.Observe(rule(c, "successful_login"), login("x", 3), at(4)); len(a) != 0 {
		t.Fatalf("event at 4s is before the failure at 5s: %+v", a)
	}
	if a := k.Observe(rule(c, "successful_login"), login("x", 4), at(6)); len(a) != 1 {
		t.Fatalf("alerts = %+v", a)
	}
}

// value_sum, value_avg, value_percentile and an upper-bounded condition.
func TestValueAggregates(t *testing.T) {
	c := load(t, `
title: transfer
name: transfer
logsource: {category: webserver}
detection: {s: {http.request.method: POST}, condition: s}
---
title: Exfil by sum
correlation:
    type: value_sum
    rules: [transfer]
    group-by: [source.ip]
    timespan: 1h
    condition: {field: http.response.bytes, gt: 1000}
---
title: Big average
correlation:
    type: value_avg
    rules: [transfer]
    group-by: [source.ip]
    timespan: 1h
    condition: {field: http.response.bytes, gte: 600}
---
title: P90
correlation:
    type: value_percentile
    rules: [transfer]
    group-by: [source.ip]
    timespan: 1h
    condition: {field: http.response.bytes, percentile: 90, gte: 900}
---
title: Median
correlation:
    type: value_median
    rules: [transfer]
    group-by: [source.ip]
    timespan: 1h
    condition: {field: http.response.bytes, gte: 600}
`)
	k := newCorrelator(t, c, Options{})
	tr := rule(c, "transfer")
	doc := func(b any) map[string]any {
		return map[string]any{"source": map[string]any{"ip": "10.1.1.1"}, "http": map[string]any{"response": map[string]any{"bytes": b}}}
	}
	fired := func(as []Alert) []string {
		var out []string
		for _, a := range as {
			out = append(out, fmt.Sprintf("%s=%v", a.Rule.Title, a.Value))
		}
		return out
	}
	if got := fired(k.Observe(tr, doc(500), at(0))); len(got) != 0 {
		t.Fatal(got)
	}
	if got := fired(k.Observe(tr, doc("not a number"), at(1))); len(got) != 0 {
		t.Fatal(got)
	}
	if got := fired(k.Observe(tr, doc("800"), at(2))); !slices.Equal(got, []string{"Exfil by sum=1300", "Big average=650", "Median=650"}) {
		t.Fatalf("got %q", got)
	}
	if got := fired(k.Observe(tr, doc(1000.0), at(3))); !slices.Equal(got, []string{"Big average=1000", "P90=960", "Median=1000"}) {
		// avg restarted after its alert; a sum of 1000 is not > 1000;
		// the 90th percentile of 500, 800 and 1000 is 800 + 0.8*200
		t.Fatalf("got %q", got)
	}
}

// Groups and distinct values fold case, as rules match values and as
// pySigma's SQLite backend groups: one account however Windows spells it,
// one program however its path is written.
func TestGroupsFoldCase(t *testing.T) {
	c := load(t, baseRules+`---
title: three failures
correlation:
    type: event_count
    rules: [failed_login]
    group-by: [User]
    timespan: 1m
    condition: {gte: 3}
---
title: three workstations
correlation:
    type: value_count
    rules: [failed_login]
    timespan: 1m
    condition: {field: Workstation, gte: 3}
`)
	k := newCorrelator(t, c, Options{})
	f := rule(c, "failed_login")
	var got []Alert
	for i, u := range []string{"Administrator", "ADMINISTRATOR", "administrator"} {
		doc := login(u, i)
		doc["Workstation"] = []string{"WS1", "ws1", "Ws2"}[i]
		got = append(got, k.Observe(f, doc, at(i))...)
	}
	if len(got) != 1 || got[0].Rule.Title != "three failures" || got[0].Group["User"] != "Administrator" || got[0].Count != 3 {
		t.Fatalf("alerts = %+v, want one of three failures, grouped as first spelt", got)
	}
}

// TestPercentile: linear interpolation between the values around rank
// (n-1)*p/100, as pySigma's SQLite backend computes it.
func TestPercentile(t *testing.T) {
	for _, c := range []struct {
		xs   []float64
		p    float64
		want float64
	}{
		{[]float64{49167, 135}, 50, 24651},
		{[]float64{7}, 90, 7},
		{[]float64{1, 2, 3, 4}, 0, 1},
		{[]float64{1, 2, 3, 4}, 100, 4},
		{[]float64{4, 1, 3, 2}, 25, 1.75},
		{[]float64{10, 20, 30}, 90, 28},
	} {
		if got := percentile(slices.Clone(c.xs), c.p); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("percentile(%v, %v) = %v, want %v", c.xs, c.p, got, c.want)
		}
	}
}

// between3and4 has an upper bound: its windows are judged when they end.
const between3and4 = `---
title: between 3 and 4 failures
correlation:
    type: event_count
    rules: [failed_login]
    group-by: [User]
    timespan: 1m
    condition: {gte: 3, lte: 4}
`

func TestBoundedConditionJudgedOnWindowEnd(t *testing.T) {
	c := load(t, baseRules+between3and4)
	k := newCorrelator(t, c, Options{})
	f := rule(c, "failed_login")
	for i := range 3 {
		if a := k.Observe(f, login("u", i), at(i)); len(a) != 0 {
			t.Fatalf("judged before the window ended: %+v", a)
		}
	}
	// Event time passes the end (0s + 1m): Advance judges the window.
	if a := k.Advance(at(60)); len(a) != 0 {
		t.Fatalf("judged at the end itself: %+v", a)
	}
	a := k.Advance(at(61))
	if len(a) != 1 || a[0].Count != 3 {
		t.Fatalf("alerts = %+v", a)
	}
	// 5 events: over the bound, no alert; judged by the next event.
	for i := range 5 {
		k.Observe(f, login("v", i), at(100+i))
	}
	if a := k.Observe(f, login("v", 9), at(200)); len(a) != 0 {
		t.Fatalf("5 > 4 fired: %+v", a)
	}
	if st := k.Stats(); st.Groups != 1 || st.Alerts != 1 {
		t.Errorf("stats = %+v", st)
	}
}

func TestBounds(t *testing.T) {
	c := load(t, baseRules+`---
title: count
correlation:
    type: event_count
    rules: [failed_login]
    group-by: [User]
    timespan: 1h
    condition: {gte: 4}
`)
	k := newCorrelator(t, c, Options{MaxGroups: 2, MaxEventsPerGroup: 4})
	f := rule(c, "failed_login")
	k.Observe(f, login("a", 1), at(0))
	k.Observe(f, login("b", 2), at(1))
	k.Observe(f, login("a", 3), at(2)) // a is now the most recent
	k.Observe(f, login("c", 4), at(3)) // evicts b
	st := k.Stats()
	if st.Groups != 2 || st.EvictedGroups != 1 {
		t.Fatalf("stats = %+v", st)
	}
	// b starts again from nothing.
	for i := range 3 {
		if a := k.Observe(f, login("b", 10+i), at(4+i)); len(a) != 0 {
			t.Fatalf("b kept its evicted event: %+v", a)
		}
	}
	if a := k.Observe(f, login("b", 13), at(8)); len(a) != 1 {
		t.Fatalf("alerts = %+v", a)
	}
	// Late event (older than the window of its group) and zero time.
	k.Observe(f, login("b", 20), at(4000))
	k.Observe(f, login("b", 21), at(100))
	k.Observe(f, login("b", 22), time.Time{})
	st = k.Stats()
	if st.LateEvents != 1 || st.UntimedEvents != 1 {
		t.Errorf("stats = %+v", st)
	}
	// A threshold the bound can never reach is refused.
	if _, err := New(c.Correlations, Options{MaxEventsPerGroup: 3}); err == nil {
		t.Error("gte 4 with 3 events per group accepted")
	}
}

func TestDroppedEvents(t *testing.T) {
	c := load(t, baseRules+`---
title: distinct users
correlation:
    type: value_count
    rules: [failed_login]
    group-by: [ComputerName]
    timespan: 1h
    condition: {field: User, gte: 3}
`)
	k := newCorrelator(t, c, Options{MaxEventsPerGroup: 3})
	f := rule(c, "failed_login")
	for i, u := range []string{"a", "a", "a", "b"} {
		k.Observe(f, map[string]any{"User": u, "ComputerName": "h"}, at(i))
	}
	a := k.Observe(f, map[string]any{"User": "c", "ComputerName": "h"}, at(9))
	if len(a) != 1 || a[0].Dropped != 2 || a[0].Count != 3 || k.Stats().DroppedEvents != 2 {
		t.Fatalf("alerts = %+v, stats %+v", a, k.Stats())
	}
}

// Aliases: the specification's internal_error / new_network_connection.
func TestAliases(t *testing.T) {
	c := load(t, `
title: internal error
name: internal_error
logsource: {category: webserver}
detection: {selection: {http.response.status_code: 500}, condition: selection}
---
title: new connection
name: new_network_connection
logsource: {category: network_connection}
detection: {selection: {event.outcome: success}, condition: selection}
---
title: error then connection back
correlation:
    type: temporal
    rules: [internal_error, new_network_connection]
    group-by: [internal_ip, remote_ip]
    timespan: 10s
    aliases:
        internal_ip:
            internal_error: destination.ip
            new_network_connection: source.ip
        remote_ip:
            internal_error: source.ip
            new_network_connection: destination.ip
`)
	k := newCorrelator(t, c, Options{})
	web := map[string]any{"source": map[string]any{"ip": "203.0.113.9"}, "destination": map[string]any{"ip": "10.0.0.5"}}
	conn := map[string]any{"source": map[string]any{"ip": "10.0.0.5"}, "destination": map[string]any{"ip": "203.0.113.9"}}
	elsewhere := map[string]any{"source": map[string]any{"ip": "10.0.0.5"}, "destination": map[string]any{"ip": "198.51.100.1"}}
	k.Observe(rule(c, "internal_error"), web, at(0))
	if a := k.Observe(rule(c, "new_network_connection"), elsewhere, at(1)); len(a) != 0 {
		t.Fatal(a)
	}
	a := k.Observe(rule(c, "new_network_connection"), conn, at(2))
	if len(a) != 1 || a[0].Group["internal_ip"] != "10.0.0.5" || a[0].Group["remote_ip"] != "203.0.113.9" {
		t.Fatalf("alerts = %+v", a)
	}
}

func TestConcurrentObserve(t *testing.T) {
	c := load(t, baseRules+`---
title: count
correlation:
    type: event_count
    rules: [failed_login]
    group-by: [User]
    timespan: 1h
    condition: {gte: 100}
`)
	k := newCorrelator(t, c, Options{})
	f := rule(c, "failed_login")
	var wg sync.WaitGroup
	var mu sync.Mutex
	total := 0
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 250 {
				n := len(k.Observe(f, login("u", w*1000+i), at(i)))
				k.Advance(at(i))
				mu.Lock()
				total += n
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if total != 10 {
		t.Errorf("alerts = %d, want 1000/100", total)
	}
}

func TestAlertDoc(t *testing.T) {
	c := load(t, baseRules+`---
title: two
correlation: {type: event_count, rules: [failed_login], group-by: [User], timespan: 1m, condition: {gte: 2}}
`)
	k := newCorrelator(t, c, Options{})
	f := rule(c, "failed_login")
	k.Observe(f, login("u", 7), at(0))
	a := k.Observe(f, map[string]any{"User": "u"}, at(5))
	if len(a) != 1 {
		t.Fatal(a)
	}
	d := a[0].Doc()
	corr := d["webshell"].(map[string]any)["correlation"].(map[string]any)
	evs := corr["events"].([]any)
	if d["@timestamp"] != at(5) || d["event"].(map[string]any)["duration"] != int64(5e9) || corr["count"] != 2 ||
		corr["group"].(map[string]any)["User"] != "u" || evs[0].(map[string]any)["id"] != "7" || evs[1].(map[string]any)["id"] != nil {
		t.Errorf("doc = %v", d)
	}
}

// Out-of-order events inside a bounded window still count; a later event
// far ahead judges every complete window it passes.
func TestBoundedSeveralWindows(t *testing.T) {
	c := load(t, baseRules+`---
title: exactly two
correlation: {type: event_count, rules: [failed_login], group-by: [User], timespan: 10s, condition: {eq: 2}}
`)
	k := newCorrelator(t, c, Options{})
	f := rule(c, "failed_login")
	k.Observe(f, login("u", 1), at(0))
	k.Observe(f, login("u", 2), at(5))
	k.Observe(f, login("u", 3), at(20)) // judges [0,10]: two events
	k.Observe(f, login("u", 4), at(26))
	k.Observe(f, login("u", 5), at(24)) // out of order, same window
	// [20,30] holds three events (20, 24, 26): not exactly two.
	if a := k.Observe(f, login("u", 6), at(100)); len(a) != 0 {
		t.Errorf("second window fired: %+v", a)
	}
	if st := k.Stats(); st.Alerts != 1 || st.LateEvents != 0 {
		t.Errorf("stats %+v", st)
	}
}

// temporal_ordered with a threshold below the number of rules asks for
// that many of the rules in the order of the list, any of them, as
// pySigma's SQL does: b then c is two of a, b, c in order; c then b is not.
func TestTemporalOrderedPartial(t *testing.T) {
	c := load(t, baseRules+`---
title: Lockout
name: lockout
logsource: {product: windows, service: security}
detection: {selection: {EventID: 4740}, condition: selection}
---
title: Two of three in order
correlation:
    type: temporal_ordered
    rules: [lockout, failed_login, successful_login]
    group-by: [User]
    timespan: 5m
    condition: {gte: 2}
`)
	k := newCorrelator(t, c, Options{})
	failed, ok := rule(c, "failed_login"), rule(c, "successful_login")
	if a := k.Observe(ok, login("alice", 1), at(0)); len(a) != 0 {
		t.Fatal(a)
	}
	if a := k.Observe(failed, login("alice", 2), at(10)); len(a) != 0 {
		t.Fatalf("success then failure is out of order: %v", a)
	}
	a := k.Observe(ok, login("alice", 3), at(20))
	if len(a) != 1 || a[0].Value != 2 {
		t.Fatalf("failure then success, two of three in order: %+v", a)
	}
	es := []entry{{rule: 2}, {rule: 0}, {rule: 2}, {rule: 1}, {rule: 2}}
	if got := inOrder(es, 3); got != 3 {
		t.Errorf("inOrder = %d, want 3 (0, 1, 2 by the second, fourth and fifth events)", got)
	}
}

// An event that two rules of one event_count match counts once, as
// pySigma's SQL counts events by id; temporal, which counts rules, takes
// it under both.
func TestObserveEventCountsAnEventOnce(t *testing.T) {
	c := load(t, baseRules+`---
title: Any logon
name: any_logon
logsource: {product: windows, service: security}
detection: {selection: {EventID: [4624, 4625]}, condition: selection}
---
title: Four failures
correlation:
    type: event_count
    rules: [failed_login, any_logon]
    group-by: [User]
    timespan: 5m
    condition: {gte: 4}
---
title: Failure and logon
correlation:
    type: temporal
    rules: [failed_login, any_logon]
    group-by: [User]
    timespan: 5m
`)
	k := newCorrelator(t, c, Options{})
	both := []*sigma.Rule{rule(c, "failed_login"), rule(c, "any_logon")}
	a := k.ObserveEvent(both, login("alice", 1), at(0))
	if len(a) != 1 || a[0].Rule.Title != "Failure and logon" || a[0].Count != 2 {
		t.Fatalf("the first failure: %+v, want the temporal alert of its two rules", a)
	}
	for i := 2; i <= 3; i++ {
		if a := k.ObserveEvent(both, login("alice", i), at(i)); len(a) != 1 || a[0].Rule.Title != "Failure and logon" {
			t.Fatalf("failure %d: %+v, want only the temporal alert (3 failures, not 6)", i, a)
		}
	}
	a = k.ObserveEvent(both, login("alice", 4), at(4))
	if len(a) != 2 || a[0].Rule.Title != "Four failures" || a[0].Count != 4 {
		t.Fatalf("the fourth failure: %+v", a)
	}
	for i, e := range a[0].Events {
		if e.ID != strconv.Itoa(i+1) || e.Rule != "53ba33fd-3a50-4468-a5ef-c583635cfa92" {
			t.Errorf("event %d: %+v, want each failure once, under failed_login", i, e)
		}
	}
}
