package pipeline

import (
	"strings"
	"testing"

	"webshellbeat/detection/compile"
	"webshellbeat/detection/sigma"
)

// matches compiles out and evaluates it on doc.
func matches(t *testing.T, out *sigma.Rule, doc map[string]any) bool {
	t.Helper()
	fields := compile.NewFields()
	cr, err := compile.Compile(out, fields)
	if err != nil {
		t.Fatal(err)
	}
	ev := compile.NewEvent(fields)
	ev.Reset(doc)
	return cr.Match(ev)
}

func TestFieldNamePrefixMapping(t *testing.T) {
	p := mustParse(t, "p.yml", `transformations:
  - type: field_name_prefix_mapping
    mapping:
      P: x.
      Parent: process.parent.
      Target: [file.target_, winlog.event_data.Target]
`)
	r := parseRule(t, "{product: windows}", "        ParentImage: a\n        TargetFilename: b\n        Image: c\n")
	got := mapped(mustApply(t, r, p))
	want := []string{"process.parent.Image", "file.target_Filename|winlog.event_data.TargetFilename", "Image"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("mapped %q, want %q (longest prefix, list targets as fallbacks)", got, want)
	}
}

func TestDropDetectionItem(t *testing.T) {
	p := mustParse(t, "p.yml", `transformations:
  - id: no_event_id
    type: drop_detection_item
    field_name_conditions: [{type: include_fields, fields: [EventID]}]
`)
	r := parseRule(t, "{product: windows}", "        EventID: 1\n        Image|endswith: '\\cmd.exe'\n")
	out := mustApply(t, r, p)
	if got := described(out); len(got) != 1 || !strings.HasPrefix(got[0], "Image") {
		t.Fatalf("after drop: %q", got)
	}
	if !matches(t, out, map[string]any{"Image": `C:\x\cmd.exe`}) {
		t.Error("the rule without EventID does not match an event without it")
	}
	// An alternative left empty leaves the search's OR, as in pySigma:
	// SigmaHQ's "- Image|endswith ... - OriginalFileName ..." keeps its Image.
	c := &sigma.Collection{}
	c.Parse("t.yml", []byte("title: t\nlogsource: {product: windows}\ndetection:\n    img:\n        - Image|endswith: '\\wmic.exe'\n        - EventID: 1\n    condition: img\n"))
	alt := mustApply(t, c.Rules[0], p)
	if matches(t, alt, map[string]any{"Image": `C:\x\cmd.exe`}) || !matches(t, alt, map[string]any{"Image": `C:\x\wmic.exe`}) {
		t.Error("an emptied alternative matched every event, or the other one no longer matched")
	}
	// A search left with nothing would match every event: the rule is refused.
	only := parseRule(t, "{product: windows}", "        EventID: 1\n")
	if _, err := Apply(only, p); err == nil || !strings.Contains(err.Error(), `search "s"`) || !strings.Contains(err.Error(), "no_event_id") {
		t.Errorf("dropping a whole search: err %v", err)
	}
}

func TestAddCondition(t *testing.T) {
	p := mustParse(t, "p.yml", `transformations:
  - type: add_condition
    conditions:
      event.dataset: '$product.*'
      event.code: [1, 4688]
    template: true
`)
	r := parseRule(t, "{product: windows, category: process_creation}", "        Image|endswith: '\\cmd.exe'\n")
	out := mustApply(t, r, p)
	if c := out.Detection.Conditions[0].Source; c != "_cond_1 and (s)" {
		t.Errorf("condition %q", c)
	}
	ecs := func(dataset string, code int) map[string]any {
		return map[string]any{"Image": `C:\x\cmd.exe`, "event": map[string]any{"dataset": dataset, "code": code}}
	}
	for _, tt := range []struct {
		doc  map[string]any
		want bool
	}{
		{ecs("windows.sysmon_operational", 1), true},
		{ecs("windows.security", 4688), true},
		{ecs("linux.auditd", 1), false}, // $product filled in from the rule
		{ecs("windows.sysmon_operational", 3), false},
	} {
		if got := matches(t, out, tt.doc); got != tt.want {
			t.Errorf("%v: match %v, want %v", tt.doc["event"], got, tt.want)
		}
	}
	// Negated, named, and "them" does not take the added search in.
	neg := mustParse(t, "n.yml", `transformations:
  - type: add_condition
    name: _not_test
    negated: true
    conditions: {host.name: 'test-*'}
`)
	c := &sigma.Collection{}
	c.Parse("t.yml", []byte("title: t\nlogsource: {product: windows}\ndetection:\n    a: {Image: x}\n    b: {Image: y}\n    condition: all of them\n"))
	out = mustApply(t, c.Rules[0], neg)
	if src := out.Detection.Conditions[0].Source; src != "not _not_test and (all of them)" {
		t.Errorf("negated condition %q", src)
	}
	// "all of them" still means a and b: one of them alone does not match.
	if matches(t, out, map[string]any{"Image": "x"}) {
		t.Error(`"all of them" took the added search in`)
	}
	// Later transformations rename the added fields: a user pipeline's
	// condition in Sigma names reaches the event through the built-ins.
	sigmaNamed := mustParse(t, "s.yml", `transformations:
  - type: add_condition
    conditions: {User: 'CORP\*'}
`)
	out = mustApply(t, r, append([]*Pipeline{sigmaNamed}, builtin(t)...)...)
	if f := out.Detection.Searches["_cond_1"].Alternatives[0][0]; f.Field != "winlog.event_data.User" && f.Field != "user.name" {
		t.Errorf("added field mapped to %q", f.Field)
	}
}

func TestChangeLogsource(t *testing.T) {
	p := mustParse(t, "p.yml", `transformations:
  - type: change_logsource
    rule_conditions: [{type: logsource, product: windows, service: sysmon}]
    product: windows
    category: process_creation
  - type: field_name_mapping
    rule_conditions: [{type: logsource, category: process_creation}]
    mapping: {Image: process.executable}
`)
	r := parseRule(t, "{product: windows, service: sysmon}", "        Image: x\n")
	out := mustApply(t, r, p)
	if out.Logsource != (sigma.Logsource{Product: "windows", Category: "process_creation"}) {
		t.Errorf("logsource %+v", out.Logsource)
	}
	if got := mapped(out); got[0] != "process.executable" {
		t.Errorf("the mapping after change_logsource did not see the new logsource: %q", got)
	}
	if r.Logsource.Service != "sysmon" {
		t.Error("Apply changed the rule it was given")
	}
}

func TestFailures(t *testing.T) {
	p := mustParse(t, "p.yml", `transformations:
  - id: no_registry
    type: rule_failure
    rule_conditions: [{type: logsource, category: registry_set}]
    message: registry events are not collected here
  - id: no_hashes
    type: detection_item_failure
    field_name_conditions: [{type: include_fields, fields: [Hashes]}]
    message: hashes are not collected
`)
	reg := parseRule(t, "{product: windows, category: registry_set}", "        TargetObject: x\n")
	if _, err := Apply(reg, p); err == nil || !strings.Contains(err.Error(), "transformation 1 (no_registry): registry events are not collected here") {
		t.Errorf("rule_failure: %v", err)
	}
	hashes := parseRule(t, "{product: windows, category: process_creation}", "        Hashes|contains: 'MD5='\n")
	if _, err := Apply(hashes, p); err == nil || !strings.Contains(err.Error(), "Hashes: hashes are not collected") {
		t.Errorf("detection_item_failure: %v", err)
	}
	other := parseRule(t, "{product: windows, category: process_creation}", "        Image: x\n")
	if _, err := Apply(other, p); err != nil {
		t.Errorf("a rule neither selects: %v", err)
	}
}

func TestRuleLevelParseErrors(t *testing.T) {
	for _, tt := range []struct{ src, want string }{
		{"transformations:\n  - type: drop_detection_item\n", "needs field_name_conditions"},
		{"transformations:\n  - type: case\n    include: [a]\n", "include and exclude are for"},
		{"transformations:\n  - type: value_placeholders\n    field_name_conditions: [{type: include_fields, fields: [a]}]\n", "not supported"},
		{"vars: {a: {b: c}}\ntransformations: []\n", "line 1: cannot unmarshal"},
		{"transformations:\n  - type: add_condition\n", "conditions is empty"},
		{"transformations:\n  - type: add_condition\n    name: cond\n    conditions: {a: b}\n", `must start with "_"`},
		{"transformations:\n  - type: add_condition\n    conditions: {a: {b: c}}\n", "conditions: a"},
		{"transformations:\n  - type: change_logsource\n", "needs a product, category or service"},
		{"transformations:\n  - type: rule_failure\n", "message is empty"},
		{"transformations:\n  - type: field_name_prefix_mapping\n", "mapping is empty"},
		{"transformations:\n  - type: field_name_suffix\n    suffix: .keyword\n", "field_name_suffix"},
	} {
		_, err := Parse("p.yml", []byte(tt.src))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: err %v, want it to contain %q", tt.src, err, tt.want)
		}
	}
}
