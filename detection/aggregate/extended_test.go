package aggregate

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// extendedRule is a correlation of the base rules by user, within 5
// minutes, with an extended condition, named unanswered_failure.
func extendedRule(title, typ, rules, cond string) string {
	return "---\ntitle: " + title + "\nname: unanswered_failure\ncorrelation:\n    type: " + typ + "\n    rules: [" + rules +
		"]\n    group-by: [User]\n    timespan: 5m\n    condition: " + cond + "\n"
}

// eventTimes are the seconds after t0 of an alert's events.
func eventTimes(a Alert) []int {
	var out []int
	for _, e := range a.Events {
		out = append(out, int(e.Time.Sub(t0).Seconds()))
	}
	return out
}

// An extended condition without "not" fires, like a lower bound, at the
// event that completes it, and joins only the events of its rules.
func TestExtendedAnd(t *testing.T) {
	c := load(t, baseRules+extendedRule("Failed then or after successful", "temporal", "failed_login, successful_login", "failed_login and successful_login"))
	k := newCorrelator(t, c, Options{})
	failed, ok := rule(c, "failed_login"), rule(c, "successful_login")
	if a := k.Observe(ok, login("alice", 1), at(0)); len(a) != 0 {
		t.Fatalf("one rule alone: %v", a)
	}
	if a := k.Observe(ok, login("bob", 2), at(10)); len(a) != 0 {
		t.Fatalf("another group: %v", a)
	}
	a := k.Observe(failed, login("alice", 3), at(100))
	if len(a) != 1 || !slices.Equal(eventTimes(a[0]), []int{0, 100}) || a[0].Group["User"] != "alice" || a[0].Value != 2 {
		t.Fatalf("alerts %+v", a)
	}
	// The group starts afresh, and the window slides: a failure 400 s
	// after the last success is alone.
	if a := k.Observe(failed, login("alice", 4), at(500)); len(a) != 0 {
		t.Fatalf("after the alert: %v", a)
	}
}

// "failed_login and not successful_login": a failure that no success
// follows within the timespan. Each failure opens a window of 5 minutes
// that is judged once event time has passed its end; a success before the
// failure does not count.
func TestExtendedAndNot(t *testing.T) {
	c := load(t, baseRules+extendedRule("Failure not followed by success", "temporal", "failed_login, successful_login", "failed_login and not successful_login"))
	k := newCorrelator(t, c, Options{})
	var got []Alert
	feed := func(r string, s, id int) {
		got = append(got, k.Observe(rule(c, r), login("alice", id), at(s))...)
	}
	feed("failed_login", 0, 1)
	feed("successful_login", 60, 2) // closes the failure at 0
	feed("failed_login", 1000, 3)
	feed("failed_login", 1010, 4)
	if len(got) != 0 {
		t.Fatalf("before any window ended: %v", got)
	}
	if a := k.Advance(at(1300)); len(a) != 0 {
		t.Fatalf("at the end of the window, which could still get its success: %v", a)
	}
	got = k.Advance(at(1301))
	if len(got) != 1 || !slices.Equal(eventTimes(got[0]), []int{1000, 1010}) || got[0].First != at(1000) || got[0].Closed != at(1300) {
		t.Fatalf("alerts %+v", got)
	}
	if cond := got[0].Doc()["webshell"].(map[string]any)["correlation"].(map[string]any)["condition"]; cond != "failed_login and not successful_login" {
		t.Errorf("webshell.correlation.condition = %v", cond)
	}
	// Afresh after the alert: the failure at 1010 was joined, it opens no
	// window of its own. A success before a failure does not close it.
	got = nil
	feed("successful_login", 2000, 5)
	feed("failed_login", 2010, 6)
	feed("failed_login", 2400, 7) // event time passes 2310: judged here
	if len(got) != 1 || !slices.Equal(eventTimes(got[0]), []int{2010}) {
		t.Fatalf("alerts %+v", got)
	}
}

// temporal_ordered with an extended condition wants its rules in the
// order of the rules list.
func TestExtendedOrdered(t *testing.T) {
	c := load(t, baseRules+extendedRule("Failure then success", "temporal_ordered", "failed_login, successful_login", "failed_login and successful_login"))
	k := newCorrelator(t, c, Options{})
	failed, ok := rule(c, "failed_login"), rule(c, "successful_login")
	if a := k.Observe(ok, login("alice", 1), at(0)); len(a) != 0 {
		t.Fatal(a)
	}
	if a := k.Observe(failed, login("alice", 2), at(10)); len(a) != 0 {
		t.Fatalf("success then failure: %v", a)
	}
	a := k.Observe(ok, login("alice", 3), at(20))
	if len(a) != 1 || !slices.Equal(eventTimes(a[0]), []int{0, 10, 20}) {
		t.Fatalf("alerts %+v", a)
	}
}

// An alternative without "not" fires at once and starts the group afresh,
// so a window the other alternative opened before goes with it.
func TestExtendedMixed(t *testing.T) {
	c := load(t, baseRules+extendedRule("Success, or failure alone", "temporal", "failed_login, successful_login", "successful_login or failed_login and not successful_login"))
	k := newCorrelator(t, c, Options{})
	failed, ok := rule(c, "failed_login"), rule(c, "successful_login")
	if a := k.Observe(failed, login("alice", 1), at(0)); len(a) != 0 {
		t.Fatal(a)
	}
	if a := k.Observe(ok, login("alice", 2), at(30)); len(a) != 1 || !slices.Equal(eventTimes(a[0]), []int{30}) {
		t.Fatalf("the success alone: %+v", a)
	}
	if a := k.Advance(at(1000)); len(a) != 0 {
		t.Fatalf("the failure's window was dropped with the group: %v", a)
	}
	if a := k.Observe(failed, login("alice", 3), at(2000)); len(a) != 0 {
		t.Fatal(a)
	}
	if a := k.Advance(at(2301)); len(a) != 1 || !slices.Equal(eventTimes(a[0]), []int{2000}) {
		t.Fatalf("the failure alone: %+v", a)
	}
}

// A window opened before a restart is judged after it, once.
func TestExtendedRestore(t *testing.T) {
	src := baseRules + extendedRule("Failure not followed by success", "temporal", "failed_login, successful_login", "failed_login and not successful_login")
	c := load(t, src)
	k := newCorrelator(t, c, Options{})
	failed := rule(c, "failed_login")
	k.Observe(failed, login("alice", 1), at(0))
	k.Observe(failed, login("bob", 2), at(200))
	if a := k.Observe(failed, login("alice", 3), at(400)); len(a) != 1 || a[0].First != at(0) {
		t.Fatalf("alice's first window: %+v", a)
	}
	k2 := newCorrelator(t, load(t, src), Options{})
	if n, bad := roundTrip(t, k, k2); n != 2 || bad != 0 {
		t.Fatalf("restored %d, skipped %d", n, bad)
	}
	var users []string
	for _, a := range k2.Advance(at(1000)) {
		users = append(users, a.Group["User"]+":"+a.First.Sub(t0).String())
	}
	slices.Sort(users)
	if !slices.Equal(users, []string{"alice:6m40s", "bob:3m20s"}) {
		t.Errorf("after the restart: %v", users)
	}
}

// A forward alert feeds a chained correlation at its window's end, when
// what it says ("no success for 5 minutes") became true, as the reference
// times it: a success 100 s after that end, 400 s after the failure, is
// within the chained rule's 2 minutes.
func TestExtendedChainedAtWindowEnd(t *testing.T) {
	c := load(t, baseRules+extendedRule("Failure not followed by success", "temporal", "failed_login, successful_login", "failed_login and not successful_login")+`---
title: Success soon after a long silence
correlation:
    type: temporal_ordered
    rules: [unanswered_failure, successful_login]
    group-by: [User]
    timespan: 2m
`)
	k := newCorrelator(t, c, Options{})
	k.Observe(rule(c, "failed_login"), login("alice", 1), at(0))
	var titles []string
	for _, a := range k.Observe(rule(c, "successful_login"), login("alice", 2), at(400)) {
		titles = append(titles, a.Rule.Title)
	}
	if !slices.Equal(titles, []string{"Failure not followed by success", "Success soon after a long silence"}) {
		t.Errorf("alerts %q", titles)
	}
}

// Events in any order, with Advance between them and a small bound per
// group, never make a forward alert before event time has passed its
// window's end, and an alert joins only events of its alternative's one
// rule, inside its window.
func TestExtendedRandomOrder(t *testing.T) {
	c := load(t, baseRules+extendedRule("Failure not followed by success", "temporal", "failed_login, successful_login",
		"failed_login and not successful_login or successful_login and not failed_login"))
	names := []string{"failed_login", "successful_login"}
	rng := rand.New(rand.NewPCG(1, 2))
	total := 0
	for run := range 200 {
		k := newCorrelator(t, c, Options{MaxEventsPerGroup: 8})
		now := 0
		for i := range 60 {
			s := now + rng.IntN(120) - 30 // some events come late
			now = max(now, s)
			var alerts []Alert
			if rng.IntN(5) == 0 {
				alerts = k.Advance(at(now))
			} else {
				alerts = k.Observe(rule(c, names[rng.IntN(2)]), login([]string{"a", "b"}[rng.IntN(2)], i), at(s))
			}
			total += len(alerts)
			for _, a := range alerts {
				if a.Closed.IsZero() || !at(now).After(a.Closed) || a.Closed.Sub(a.First) != 5*time.Minute {
					t.Fatalf("run %d: alert closed %v judged at %v, first %v", run, a.Closed, at(now), a.First)
				}
				for _, e := range a.Events {
					if e.Rule != a.Events[0].Rule || e.Time.Before(a.First) || e.Time.After(a.Closed) {
						t.Fatalf("run %d: alert %+v joins %+v", run, a, e)
					}
				}
			}
		}
	}
}
