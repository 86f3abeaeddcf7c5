package aggregate

import (
	"testing"

	"webshellbeat/detection/pipeline"
	"webshellbeat/detection/sigma"
)

// Detection rules in Sigma names, renamed to ECS by the built-in pipelines,
// as the detector loads them.
const sigmaNamedRules = `
title: Linux shell
name: lin_shell
logsource: {product: linux, category: process_creation}
detection: {s: {Image|endswith: /sh}, condition: s}
---
title: Sysmon shell
name: win_shell
logsource: {product: windows, category: process_creation}
detection: {s: {Image|endswith: '\cmd.exe'}, condition: s}
---
title: Logon
name: win_logon
logsource: {product: windows, service: security}
detection: {s: {EventID: 4624}, condition: s}
`

// mappedCorrelator maps the correlations of src (after sigmaNamedRules) with
// the built-in pipelines, as the detector does, and builds their correlator.
func mappedCorrelator(t *testing.T, src string) (*Correlator, *sigma.Collection) {
	t.Helper()
	c := load(t, sigmaNamedRules+"---\n"+src)
	ps, err := pipeline.WithBuiltin(nil)
	if err != nil {
		t.Fatal(err)
	}
	var corrs []*sigma.Rule
	for _, r := range c.Correlations {
		corrs = append(corrs, pipeline.ApplyCorrelation(r, c.Lookup, ps...))
	}
	k, err := New(corrs, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return k, c
}

func linuxProc(user, exe string) map[string]any {
	return map[string]any{"user": map[string]any{"name": user}, "process": map[string]any{"executable": exe}}
}

// Sysmon holds the account in winlog.event_data.User; user.name here is a
// decoy that a uniform User -> user.name mapping would read.
func sysmonProc(user, exe string) map[string]any {
	return map[string]any{"user": map[string]any{"name": "decoy"}, "process": map[string]any{"executable": exe},
		"winlog": map[string]any{"event_data": map[string]any{"User": user}}}
}

// group-by User and Image over ECS events: each rule's events are read
// from the fields its own pipeline maps them to, and only events of one
// user and one image count together.
func TestPipelineGroupBy(t *testing.T) {
	k, c := mappedCorrelator(t, `title: shells per user and image
correlation:
    type: event_count
    rules: [lin_shell, win_shell]
    group-by: [User, Image]
    timespan: 1m
    condition: {gte: 3}
`)
	lin, win := rule(c, "lin_shell"), rule(c, "win_shell")
	for i, doc := range []map[string]any{linuxProc("www-data", "/bin/sh"), linuxProc("www-data", "/bin/sh"),
		linuxProc("root", "/bin/sh"), linuxProc("www-data", "/bin/dash"), sysmonProc("decoy2", "/bin/sh")} {
		if a := k.Observe(lin, doc, at(i)); len(a) != 0 {
			t.Fatalf("event %d fired: %+v", i, a)
		}
	}
	a := k.Observe(win, sysmonProc("www-data", "/bin/sh"), at(9))
	if len(a) != 1 || a[0].Count != 3 || a[0].Group["User"] != "www-data" || a[0].Group["Image"] != "/bin/sh" {
		t.Fatalf("alerts = %+v", a)
	}
}

// value_count on a Sigma field name counts the values of its ECS field.
func TestPipelineValueCount(t *testing.T) {
	k, c := mappedCorrelator(t, `title: many accounts run cmd
correlation:
    type: value_count
    rules: [win_shell]
    group-by: [Computer]
    timespan: 1m
    condition: {field: User, gte: 3}
`)
	win := rule(c, "win_shell")
	doc := func(host, user string) map[string]any {
		d := sysmonProc(user, `C:\Windows\System32\cmd.exe`)
		d["host"] = map[string]any{"name": host}
		return d
	}
	for i, d := range []map[string]any{doc("web1", "a"), doc("web1", "a"), doc("web1", "b"), doc("web2", "c")} {
		if a := k.Observe(win, d, at(i)); len(a) != 0 {
			t.Fatalf("event %d fired: %+v", i, a)
		}
	}
	a := k.Observe(win, doc("web1", "c"), at(5))
	if len(a) != 1 || a[0].Value != 3 || a[0].Group["Computer"] != "web1" {
		t.Fatalf("alerts = %+v", a)
	}
}

// An alias maps each rule's own Sigma field through that rule's pipeline:
// SubjectUserName of a Security rule (user.name, else the event data
// field) and User of a Linux rule (user.name).
func TestPipelineAliases(t *testing.T) {
	k, c := mappedCorrelator(t, `title: logon then shell by the same account
correlation:
    type: temporal_ordered
    rules: [win_logon, lin_shell]
    group-by: [account]
    timespan: 1m
    aliases:
        account: {win_logon: SubjectUserName, lin_shell: User}
`)
	logon := map[string]any{"winlog": map[string]any{"event_data": map[string]any{"SubjectUserName": "svc"}}}
	k.Observe(rule(c, "win_logon"), logon, at(0))
	if a := k.Observe(rule(c, "lin_shell"), linuxProc("other", "/bin/sh"), at(1)); len(a) != 0 {
		t.Fatalf("other account fired: %+v", a)
	}
	a := k.Observe(rule(c, "lin_shell"), linuxProc("svc", "/bin/sh"), at(2))
	if len(a) != 1 || a[0].Group["account"] != "svc" {
		t.Fatalf("alerts = %+v", a)
	}
}

// Resolved names of the wrong shape would index out of range per event:
// New refuses them.
func TestReadsShapeRefused(t *testing.T) {
	c := load(t, sigmaNamedRules+`---
title: c
correlation: {type: event_count, rules: [lin_shell, win_shell], group-by: [User], timespan: 1m, condition: {gte: 2}}
`)
	r := *c.Correlations[0]
	cs := *r.Correlation
	cs.Reads = []sigma.CorrReads{{GroupBy: [][]string{{"user.name"}}}}
	r.Correlation = &cs
	if _, err := New([]*sigma.Rule{&r}, Options{}); err == nil {
		t.Fatal("New accepted reads for 1 rule of 2")
	}
}
