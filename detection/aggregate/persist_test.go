package aggregate

import (
	"encoding/json"
	"fmt"
	"testing"
	"testing/fstest"

	"webshellbeat/detection/sigma"
)

// roundTrip snapshots k through JSON, as the beat saves it, into a fresh
// correlator of the same rules.
func roundTrip(t *testing.T, k *Correlator, fresh *Correlator) (restored, skipped int) {
	t.Helper()
	data, err := json.Marshal(k.Snapshot())
	if err != nil {
		t.Fatal(err)
	}
	var s Saved
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatal(err)
	}
	return fresh.Restore(s)
}

const manyFailed = `---
title: Many failed logins
id: 0e95725d-7320-415d-80f7-004da920fc11
correlation:
    type: event_count
    rules: [failed_login]
    group-by: [User]
    timespan: 5m
    condition: {gte: 5}
`

// A burst that straddles a restart is one burst: 3 failures before, 2
// after, give the alert that 5 in a row give, listing all five events.
func TestRestoreJoinsAcrossRestart(t *testing.T) {
	c := load(t, baseRules+manyFailed)
	f := rule(c, "failed_login")
	before := newCorrelator(t, c, Options{})
	for i := range 3 {
		before.Observe(f, login("alice", 100+i), at(i*10))
	}
	before.Observe(f, login("bob", 200), at(5))

	after := newCorrelator(t, c, Options{})
	if n, bad := roundTrip(t, before, after); n != 2 || bad != 0 {
		t.Fatalf("restored %d groups, skipped %d; want 2, 0", n, bad)
	}
	if a := after.Observe(f, login("alice", 103), at(40)); len(a) != 0 {
		t.Fatalf("fired at 4: %+v", a)
	}
	a := after.Observe(f, login("alice", 104), at(50))
	if len(a) != 1 || a[0].Count != 5 || a[0].Events[0].ID != "100" || !a[0].First.Equal(at(0)) || a[0].Group["User"] != "alice" {
		t.Fatalf("alerts = %+v", a)
	}
	// Control: without the saved windows the same two events say nothing.
	cold := newCorrelator(t, c, Options{})
	cold.Observe(f, login("alice", 103), at(40))
	if a := cold.Observe(f, login("alice", 104), at(50)); len(a) != 0 {
		t.Fatalf("cold correlator fired: %+v", a)
	}
	// Restored windows expire on event time like any other.
	if st := after.Stats(); st.Groups != 2 {
		t.Fatalf("groups after restore = %d", st.Groups)
	}
	after.Advance(at(10 * 60))
	if st := after.Stats(); st.Groups != 0 {
		t.Errorf("groups after their windows passed = %d, want 0", st.Groups)
	}
}

// Bounded windows keep their start, and temporal_ordered keeps which rule
// each event came from, so the order still counts after a restart.
func TestRestoreBoundedAndOrdered(t *testing.T) {
	c := load(t, baseRules+between3and4+`---
title: failure then success
correlation:
    type: temporal_ordered
    rules: [failed_login, successful_login]
    group-by: [User]
    timespan: 10m
`)
	f, ok := rule(c, "failed_login"), rule(c, "successful_login")
	before := newCorrelator(t, c, Options{})
	before.Observe(f, login("u", 1), at(0))
	before.Observe(f, login("u", 2), at(10))
	after := newCorrelator(t, c, Options{})
	if n, _ := roundTrip(t, before, after); n != 2 {
		t.Fatalf("restored %d groups, want 2 (one per correlation)", n)
	}
	after.Observe(f, login("u", 3), at(20))
	// Each alert must join events from before the restart (ids 1 and 2).
	var titles []string
	for _, a := range append(after.Observe(ok, login("u", 4), at(30)), after.Advance(at(61))...) {
		if a.Events[0].ID != "1" {
			t.Errorf("%s: first event %+v, want the one saved", a.Rule.Title, a.Events[0])
		}
		titles = append(titles, a.Rule.Title)
	}
	want := []string{"failure then success", "between 3 and 4 failures"}
	if len(titles) != 2 || titles[0] != want[0] || titles[1] != want[1] {
		t.Errorf("alerts after restore: %q, want %q", titles, want)
	}
}

// A saved state that does not fit the rules loses only what does not fit.
func TestRestoreSkipsWhatDoesNotFit(t *testing.T) {
	c := load(t, baseRules+manyFailed)
	f := rule(c, "failed_login")
	k := newCorrelator(t, c, Options{})
	k.Observe(f, login("alice", 1), at(0))
	k.Observe(f, login("bob", 2), at(1))
	k.Observe(f, login("carol", 3), at(2))
	s := k.Snapshot()
	if len(s.Corrs) != 1 || len(s.Corrs[0].Groups) != 3 {
		t.Fatalf("snapshot = %+v", s)
	}
	g := s.Corrs[0].Groups
	g[0].Entries[0].Pos = 7                                           // no such rule position
	g[1].Key = "mallory"                                              // key and values disagree
	s.Corrs = append(s.Corrs, SavedCorr{Rule: "gone", Groups: g[2:]}) // a rule no longer loaded
	fresh := newCorrelator(t, c, Options{MaxGroups: 10})
	if n, bad := fresh.Restore(s); n != 1 || bad != 3 {
		t.Errorf("restored %d, skipped %d; want 1, 3", n, bad)
	}
	// Bounds hold: three groups saved, room for one.
	small := newCorrelator(t, c, Options{MaxGroups: 1})
	if n, bad := small.Restore(k.Snapshot()); n != 1 || bad != 2 {
		t.Errorf("MaxGroups 1: restored %d, skipped %d", n, bad)
	}
}

// FuzzRestore loads arbitrary saved states: whatever a damaged or foreign
// correlations.json holds, Restore and the events after it must not panic.
func FuzzRestore(f *testing.F) {
	c := sigma.LoadFS(fstest.MapFS{"r/rules.yml": {Data: []byte(baseRules + manyFailed)}}, "r")
	k, err := New(c.Correlations, Options{MaxGroups: 4, MaxEventsPerGroup: 6})
	if err != nil {
		f.Fatal(err)
	}
	failed := c.Lookup("failed_login")
	k.Observe(failed, login("alice", 1), at(0))
	seed, _ := json.Marshal(k.Snapshot())
	f.Add(seed)
	f.Add([]byte(`{"correlations":[{"rule":"0e95725d-7320-415d-80f7-004da920fc11","groups":[{"key":"","events":[{"t":"2026-03-01T10:00:00Z","pos":-1}]}]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var s Saved
		if json.Unmarshal(data, &s) != nil {
			return
		}
		fresh, _ := New(c.Correlations, Options{MaxGroups: 4, MaxEventsPerGroup: 6})
		fresh.Restore(s)
		fresh.Observe(failed, login("alice", 2), at(10))
		fresh.Advance(at(3600))
		if st := fresh.Stats(); st.Groups > 4 {
			t.Fatalf("%d groups, bound 4", st.Groups)
		}
	})
}

// A state saved before groups folded case holds one account as several
// groups, keyed as spelt: restored, they are one group again, so a burst
// that straddles the upgrade is still one burst.
func TestRestoreMergesGroupsOfOneFoldedKey(t *testing.T) {
	c := load(t, baseRules+manyFailed)
	f := rule(c, "failed_login")
	entry := func(s, id int) SavedEntry {
		return SavedEntry{Time: at(s), Ref: "53ba33fd-3a50-4468-a5ef-c583635cfa92", ID: fmt.Sprint(id)}
	}
	old := Saved{Corrs: []SavedCorr{{Rule: "0e95725d-7320-415d-80f7-004da920fc11", Groups: []SavedGroup{
		{Key: "Alice", Vals: map[string]string{"User": "Alice"}, Start: at(0), Last: at(2), Entries: []SavedEntry{entry(0, 1), entry(2, 3)}},
		{Key: "ALICE", Vals: map[string]string{"User": "ALICE"}, Start: at(1), Last: at(1), Entries: []SavedEntry{entry(1, 2)}},
	}}}}
	k := newCorrelator(t, c, Options{})
	if n, bad := k.Restore(old); n != 2 || bad != 0 || k.Stats().Groups != 1 {
		t.Fatalf("restored %d, skipped %d, %d groups; want both in one", n, bad, k.Stats().Groups)
	}
	k.Observe(f, login("alice", 4), at(3))
	a := k.Observe(f, login("alice", 5), at(4))
	if len(a) != 1 || a[0].Count != 5 || a[0].Group["User"] != "Alice" || a[0].Events[1].ID != "2" {
		t.Fatalf("alerts %+v, want one of the five failures, spelt as the first group", a)
	}
}
