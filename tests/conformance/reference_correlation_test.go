package conformance

import (
	"encoding/json"
	"flag"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"webshellbeat/detection/aggregate"
	"webshellbeat/detection/engine"
	"webshellbeat/detection/pipeline"
	"webshellbeat/detection/sigma"
	"webshellbeat/internal/testfiles"
	"webshellbeat/module/windows"
)

var correlationEvents = flag.String("correlation-events", "", "TestPySigmaCorrelations: write its events as Sigma-named JSON lines to this file, for reference/correlations.py")

// correlationSamples are the Windows events of the reference samples (EVTX
// and OTRF's JSON), each row with its time as the reference reads it
// (timestamp, ISO 8601 in UTC to the millisecond).
func correlationSamples(t *testing.T) []refEvent {
	t.Helper()
	var out []refEvent
	for _, ev := range referenceSamples(t) {
		if ev.audit() || ev.web() {
			continue
		}
		at, ok := ev.ecs["@timestamp"].(time.Time)
		if !ok {
			continue
		}
		row := map[string]string{"timestamp": at.UTC().Format("2006-01-02T15:04:05.000Z")}
		for k, v := range ev.rows[0] {
			row[k] = v
		}
		out = append(out, refEvent{key: ev.key, rows: []map[string]string{row}, ecs: ev.ecs})
	}
	return append(out, syntheticCorrelationEvents(t)...)
}

// syntheticCorrelationEvents are events that the shared samples lack and
// that tell the semantics apart: failed logons of one account spelt three
// ways (groups fold case) from workstations spelt WS1, ws1 and Ws2 (two
// distinct values), and a program's connections to ports 135 and 49167 (a
// median of 24651 interpolated, 135 by nearest rank). Each has every field
// the rules group by: an event without one is left out by the reference
// and grouped under "" here (docs/sigma.md).
func syntheticCorrelationEvents(t *testing.T) []refEvent {
	t.Helper()
	t0 := time.Date(2026, 11, 28, 1, 0, 0, 0, time.UTC)
	security := func(sec int, user, workstation string) string {
		return testfiles.Event("Microsoft-Windows-Security-Auditing", "Security", 4625, t0.Add(time.Duration(sec)*time.Second), "synthetic",
			"TargetUserName", user, "WorkstationName", workstation, "LogonType", "3", "IpAddress", "203.0.113.9")
	}
	connection := func(sec int, port string) string {
		return testfiles.SysmonEvent(false, 3, t0.Add(time.Duration(sec)*time.Second), "synthetic",
			"Image", `C:\Synthetic\probe.exe`, "Protocol", "tcp", "DestinationIp", "198.51.100.7", "DestinationHostname", "peer.example",
			"DestinationPort", port)
	}
	xmls := []string{
		security(0, "Administrator", "WS1"), security(10, "ADMINISTRATOR", "ws1"), security(20, "administrator", "Ws2"),
		connection(100, "135"), connection(101, "49167"),
	}
	var out []refEvent
	for i, x := range xmls {
		rec, err := windows.ParseXML([]byte(x))
		if err != nil {
			t.Fatal(err)
		}
		ecs := rec.ECS()
		row := map[string]string{"timestamp": ecs["@timestamp"].(time.Time).Format("2006-01-02T15:04:05.000Z"),
			"EventID": strconv.Itoa(int(rec.EventID)), "Channel": rec.Channel, "Provider_Name": rec.Provider}
		for _, kv := range rec.EventData {
			row[kv.Key] = kv.Value
		}
		out = append(out, refEvent{key: "synthetic#" + strconv.Itoa(i+1), rows: []map[string]string{row}, ecs: ecs})
	}
	return out
}

// corrGroup is one group of a correlation rule that alerts: the ends of
// its alerting windows (ms since the epoch, in time order) and the event
// keys of the first.
type corrGroup struct {
	ends  []int64
	first []string
	// webshellbeat's side only: per alert, whether two of its events of
	// different rules have the same time (see TestPySigmaCorrelations).
	ties    []bool
	ordered bool // a temporal_ordered rule
	chained bool // a correlation of correlations: its events are alerts
	// raw holds the groups as webshellbeat gave them (JSON): more than one
	// means it told apart what the reference takes for one group.
	raw map[string]bool
}

// readCorrelationReference reads the held alerts: file, rule id, group
// (as JSON) -> corrGroup.
func readCorrelationReference(t *testing.T) map[string]map[string]corrGroup {
	t.Helper()
	raw, err := os.ReadFile(correlationGolden)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]corrGroup{}
	for i, line := range strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n") {
		cols := strings.Split(line, "\t")
		if len(cols) != 5 {
			t.Fatalf("%s:%d: %d columns, want 5", correlationGolden, i+1, len(cols))
		}
		var g corrGroup
		for s := range strings.SplitSeq(cols[3], ",") {
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				t.Fatalf("%s:%d: %v", correlationGolden, i+1, err)
			}
			g.ends = append(g.ends, n)
		}
		g.first = strings.Split(cols[4], ",")
		rule := cols[0] + " " + cols[1]
		if out[rule] == nil {
			out[rule] = map[string]corrGroup{}
		}
		out[rule][canonicalGroup(t, cols[2], userPipeline(cols[0]) != "")] = g
	}
	return out
}

// canonicalGroup is a group's JSON with its keys sorted and its values
// lowered, as the reference gives group keys. With valuesOnly, it is the
// sorted values alone: webshellbeat names a group's fields as the rule
// writes them (Account), the reference as its pipelines renamed them
// (User), so a file with a user pipeline compares groups by value.
func canonicalGroup(t *testing.T, s string, valuesOnly bool) string {
	t.Helper()
	var m map[string]string
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("group %s: %v", s, err)
	}
	for k, v := range m {
		m[k] = strings.ToLower(v)
	}
	if valuesOnly {
		b, _ := json.Marshal(slices.Sorted(maps.Values(m)))
		return string(b)
	}
	b, _ := json.Marshal(m) // sorted keys
	return string(b)
}

// userPipeline is the file of the user pipeline of the correlation rule
// file name (pipelines/<name> in correlationRules), or "" when it has none.
func userPipeline(name string) string {
	p := filepath.Join(correlationRules, "pipelines", filepath.Base(name))
	if _, err := os.Stat(p); err != nil {
		return ""
	}
	return p
}

const (
	correlationGolden = "testdata/pysigma_correlations.tsv"
	correlationRules  = "testdata/correlations"
)

// ourCorrelations runs webshellbeat's engine and correlator over the
// events, in time order, with the rules of file, and gathers its alerts as
// the reference's are held.
func ourCorrelations(t *testing.T, file string, events []refEvent) map[string]map[string]corrGroup {
	t.Helper()
	coll := sigma.LoadPaths(file)
	if len(coll.Errors) > 0 {
		t.Fatalf("%s: %v", file, coll.Errors)
	}
	// The file's user pipeline, run before the built-in ones.
	var user []*pipeline.Pipeline
	if name := userPipeline(file); name != "" {
		p, err := pipeline.Load(name)
		if err != nil {
			t.Fatal(err)
		}
		user = append(user, p)
	}
	eng, err := engine.New(coll, engine.Options{Pipelines: user})
	if err != nil {
		t.Fatal(err)
	}
	pipes, err := pipeline.WithBuiltin(user)
	if err != nil {
		t.Fatal(err)
	}
	var corrs []*sigma.Rule
	for _, r := range coll.Correlations {
		corrs = append(corrs, pipeline.ApplyCorrelation(r, coll.Lookup, pipes...))
	}
	c, err := aggregate.New(corrs, aggregate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sorted := slices.Clone(events)
	slices.SortStableFunc(sorted, func(a, b refEvent) int {
		return a.ecs["@timestamp"].(time.Time).Compare(b.ecs["@timestamp"].(time.Time))
	})
	out := map[string]map[string]corrGroup{}
	for i, ev := range sorted {
		doc := maps.Clone(ev.ecs)
		event, _ := doc["event"].(map[string]any)
		event = maps.Clone(event)
		if event == nil {
			event = map[string]any{}
		}
		event["id"] = ev.key // what an alert lists its events by
		doc["event"] = event
		at := doc["@timestamp"].(time.Time).Truncate(time.Millisecond) // as the reference reads it
		alerts := c.ObserveEvent(eng.Match(doc), doc, at)
		// as the detector does: event time judges the windows that ended
		alerts = append(alerts, c.Advance(at)...)
		if i == len(sorted)-1 { // the end of the input
			alerts = append(alerts, c.Advance(at.Add(time.Millisecond))...)
		}
		for _, a := range alerts {
			rule := filepath.Base(file) + " " + a.Rule.ID
			group, _ := json.Marshal(a.Group)
			key := canonicalGroup(t, string(group), len(user) > 0)
			if out[rule] == nil {
				out[rule] = map[string]corrGroup{}
			}
			g := out[rule][key]
			if g.ends == nil {
				for _, e := range a.Events {
					g.first = append(g.first, e.ID)
				}
				slices.Sort(g.first)
			}
			if g.raw == nil {
				g.raw = map[string]bool{}
			}
			g.raw[string(group)] = true
			end := a.Last // an alternative with "not": the end of its window, as the reference's
			if !a.Closed.IsZero() {
				end = a.Closed
			}
			g.ends = append(g.ends, end.UnixMilli())
			g.ties = append(g.ties, hasTie(a.Events))
			g.ordered = a.Rule.Correlation.Type == sigma.CorrTemporalOrdered
			g.chained = slices.ContainsFunc(a.Events, func(e aggregate.EventRef) bool { return e.ID == "" })
			out[rule][key] = g
		}
	}
	return out
}

// hasTie reports whether two of es, of different rules, have the same
// time to the millisecond, as the reference reads times (EVTX's are finer).
func hasTie(es []aggregate.EventRef) bool {
	for i := range es {
		for j := i + 1; j < len(es); j++ {
			if es[i].Time.UnixMilli() == es[j].Time.UnixMilli() && es[i].Rule != es[j].Rule {
				return true
			}
		}
	}
	return false
}

// TestPySigmaCorrelations compares webshellbeat's correlation rules with
// pySigma's SQLite backend (reference/correlations.py) on the Windows
// events of the shared samples. The reference alerts once per window that
// qualifies (each event past a threshold); webshellbeat starts a group
// afresh after each alert. So, per correlation rule: the same groups
// alert; each group's first alert ends at the same event time and joins the
// events of the reference's first window (those of a later event of the
// same millisecond aside); every later alert ends where a reference window
// does. An alert of an extended condition's alternative with "not" ends
// where its forward window does (aggregate.Alert.Closed), as the
// reference's.
func TestPySigmaCorrelations(t *testing.T) {
	events := correlationSamples(t)
	if *correlationEvents != "" {
		writeReferenceEvents(t, *correlationEvents, events)
	}
	ref := readCorrelationReference(t)
	at := map[string]int64{} // event key -> time, as the reference reads it
	for _, ev := range events {
		at[ev.key] = ev.ecs["@timestamp"].(time.Time).UnixMilli()
	}
	files, _ := filepath.Glob(filepath.Join(correlationRules, "*.yml"))
	rules, alerts, ties := 0, 0, 0
	for _, file := range files {
		ours := ourCorrelations(t, file, events)
		for rule := range ours {
			if ref[rule] == nil {
				t.Errorf("%s: webshellbeat alerts %d groups, the reference none", rule, len(ours[rule]))
			}
		}
		for rule, groups := range ref {
			if !strings.HasPrefix(rule, filepath.Base(file)+" ") {
				continue
			}
			rules++
			for key, want := range groups {
				alerts += len(want.ends)
				got, ok := ours[rule][key]
				if !ok {
					t.Errorf("%s %s: the reference alerts %d times from %s, webshellbeat never", rule, key, len(want.ends), time.UnixMilli(want.ends[0]).UTC())
					continue
				}
				ties += compareGroup(t, rule+" "+key, got, want, at)
			}
			for key, got := range ours[rule] {
				if _, ok := groups[key]; ok {
					continue
				}
				if got.ordered && !slices.Contains(got.ties, false) {
					ties += len(got.ties)
					continue
				}
				t.Errorf("%s %s: webshellbeat alerts, the reference never", rule, key)
			}
		}
	}
	if rules < 10 {
		t.Fatalf("%d correlation rules in %s, want every one of %s", rules, correlationGolden, correlationRules)
	}
	t.Logf("%d events; %d correlation rules compared, %d reference alerts; %d temporal_ordered alerts differ by a tie, as documented", len(events), rules, alerts, ties)
}

// compareGroup holds one group's alerts (got) to the reference's (want) and
// returns how many differ by a tie. temporal_ordered takes events of the
// same time in the order they came (the record order of their log), where
// the reference's SQL asks each rule's event to be strictly later than the
// one before: such an alert of ours may be one the reference does not
// make. The reference lists the events of temporal_ordered's sequence,
// webshellbeat every event of the window; and a correlation of
// correlations lists the alerts it joined, the reference their events. An
// alert of ours is made by the first event that completes it: events of
// the same millisecond after it are in the reference's window only (at
// gives each event's time).
func compareGroup(t *testing.T, what string, got, want corrGroup, at map[string]int64) (ties int) {
	t.Helper()
	if len(got.raw) > 1 {
		t.Errorf("%s: webshellbeat alerts it as %d groups %v, the reference as one", what, len(got.raw), slices.Sorted(maps.Keys(got.raw)))
	}
	explained := func(i int) bool {
		if got.ordered && got.ties[i] {
			ties++
			return true
		}
		return false
	}
	switch {
	case got.ends[0] != want.ends[0]:
		if !explained(0) {
			t.Errorf("%s: first alert at %s, the reference's at %s", what, time.UnixMilli(got.ends[0]).UTC(), time.UnixMilli(want.ends[0]).UTC())
		}
	case got.chained:
	case got.ordered:
		missed := setDiff(keySet(want.first), keySet(got.first))
		missed = slices.DeleteFunc(missed, func(k string) bool { return at[k] == want.ends[0] })
		if len(missed) > 0 {
			t.Errorf("%s: first alert lacks %v of the reference's sequence", what, missed)
		}
	default:
		if extra := setDiff(keySet(got.first), keySet(want.first)); len(extra) > 0 {
			t.Errorf("%s: first alert joins %v, not in the reference's window %v", what, extra, want.first)
		}
	}
	for i, end := range got.ends[1:] {
		if !slices.Contains(want.ends, end) && !explained(i+1) {
			t.Errorf("%s: alert at %s, where no reference window alerts", what, time.UnixMilli(end).UTC())
		}
	}
	return ties
}

func keySet(keys []string) map[string]bool {
	out := map[string]bool{}
	for _, k := range keys {
		out[k] = true
	}
	return out
}

// TestPySigmaCorrelationsCurrent runs reference/correlations.py with the
// python that WEBSHELLBEAT_PYSIGMA names (as TestPySigmaReferenceCurrent
// does verdicts.py) and requires it to write exactly the held alerts.
func TestPySigmaCorrelationsCurrent(t *testing.T) {
	python := pysigma(t)
	events := filepath.Join(t.TempDir(), "events.jsonl")
	writeReferenceEvents(t, events, correlationSamples(t))
	sameAsHeld(t, correlationGolden, runReference(t, python, "correlations.py", events, "../"+correlationRules))
}
