package engine

import (
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"webshellbeat/detection/pipeline"
	"webshellbeat/detection/sigma"
)

func loadYAML(t *testing.T, files map[string]string) *sigma.Collection {
	t.Helper()
	fsys := fstest.MapFS{}
	for name, src := range files {
		fsys["rules/"+name] = &fstest.MapFile{Data: []byte(src)}
	}
	return sigma.LoadFS(fsys, "rules")
}

// Process creation rule and filter in the shape of the specification's
// filter example ("Filter Out Domain Controllers" on a rule by id).
const filterBase = `title: Whoami Execution
id: 6f3e2987-db24-4c78-a860-b4f4095a7095
name: whoami_exec
logsource: {product: windows, category: process_creation}
detection:
    selection:
        Image|endswith: '\whoami.exe'
    condition: selection
---
title: Net Execution
id: 0b8baa3f-575c-46ee-8715-d6f28cc7d33c
logsource: {product: windows, category: process_creation}
detection:
    selection:
        Image|endswith: '\net.exe'
    condition: selection
`

func hostProc(image, host string) map[string]any {
	d := windowsProc(image, `C:\Windows\explorer.exe`)
	d["host"].(map[string]any)["name"] = host
	return d
}

func TestFilterRules(t *testing.T) {
	for _, tc := range []struct{ name, filter string }{
		{"by id", `title: Filter Out Domain Controllers
logsource: {product: windows}
filter:
    rules:
        - 6f3e2987-db24-4c78-a860-b4f4095a7095
    selection:
        host.name|startswith: 'DC'
    condition: not selection
`},
		{"by name", `title: Filter Out Domain Controllers
filter:
    rules: whoami_exec
    selection:
        host.name|startswith: 'DC'
    condition: not selection
`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := loadYAML(t, map[string]string{"base.yml": filterBase, "filter.yml": tc.filter})
			if len(c.Errors) > 0 || len(c.Filters) != 1 {
				t.Fatalf("errors %v, filters %d", c.Errors, len(c.Filters))
			}
			e, err := New(c, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if e.Stats().Filtered != 1 {
				t.Errorf("Filtered = %d, want 1", e.Stats().Filtered)
			}
			check := func(doc map[string]any, want []string) {
				t.Helper()
				if got := titles(e.Match(doc)); !slices.Equal(got, want) {
					t.Errorf("%v: matched %q, want %q", doc["host"], got, want)
				}
			}
			check(hostProc(`C:\Windows\System32\whoami.exe`, "DC01"), nil)
			check(hostProc(`C:\Windows\System32\whoami.exe`, "WS01"), []string{"Whoami Execution"})
			// The other rule is not named by the filter.
			check(hostProc(`C:\Windows\System32\net.exe`, "DC01"), []string{"Net Execution"})
		})
	}
}

func TestFilterByLogsourceAndMismatch(t *testing.T) {
	c := loadYAML(t, map[string]string{"base.yml": filterBase, "f.yml": `title: all process creation on DCs
logsource: {product: windows, category: process_creation}
filter:
    dc:
        host.name|startswith: DC
    condition: not dc
---
title: every process creation rule, as pySigma writes it
logsource: {product: windows, category: process_creation}
filter:
    rules: any
    build:
        host.name: BUILD01
    condition: not build
---
title: linux only
logsource: {product: linux}
filter:
    rules: [whoami_exec]
    sel: {host.name: WS01}
    condition: not sel
---
title: names a rule that is not there
filter:
    rules: [no_such_rule]
    sel: {host.name: x}
    condition: not sel
`})
	if len(c.Errors) > 0 {
		t.Fatal(c.Errors)
	}
	if w := c.Warnings.ByCode()[sigma.CodeUnknownRule]; w != 1 {
		t.Errorf("unknown-rule warnings = %d, want 1: %v", w, c.Warnings)
	}
	e, err := New(c, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := titles(e.Match(hostProc(`C:\x\net.exe`, "DC02"))); len(got) != 0 {
		t.Errorf("logsource filter did not apply: %q", got)
	}
	if got := titles(e.Match(hostProc(`C:\x\whoami.exe`, "BUILD01"))); len(got) != 0 {
		t.Errorf("rules: any did not apply: %q", got)
	}
	// The linux filter does not cover a windows rule.
	if got := titles(e.Match(hostProc(`C:\x\whoami.exe`, "WS01"))); !slices.Equal(got, []string{"Whoami Execution"}) {
		t.Errorf("got %q", got)
	}
}

func TestFilterErrors(t *testing.T) {
	c := loadYAML(t, map[string]string{"f.yml": `title: no target
filter:
    sel: {a: b}
    condition: not sel
---
title: bad ref
filter:
    rules: [x]
    sel: {a: b}
    condition: not other
`})
	got := c.Errors.ByCode()
	if got[sigma.CodeBadFilter] != 1 || got[sigma.CodeUnknownIdent] != 1 || len(c.Filters) != 0 {
		t.Errorf("errors %v, filters %d", c.Errors, len(c.Filters))
	}
}

const expandRule = `title: Known DC check
id: 11111111-2222-3333-4444-555555555555
logsource: {product: windows, category: process_creation}
detection:
    selection:
        Image|endswith: '\certutil.exe'
    filter_known:
        process.command_line|contains|expand: '%known_cdcs%'
    condition: selection and not filter_known
`

func TestExpandPlaceholders(t *testing.T) {
	c := loadYAML(t, map[string]string{"r.yml": expandRule})
	if len(c.Errors) > 0 {
		t.Fatal(c.Errors)
	}
	// No value for the placeholder: rejected, located at the value.
	e, err := New(c, Options{})
	if err != nil {
		t.Fatal(err)
	}
	errs := e.Errors()
	if len(errs) != 1 || errs[0].Code != sigma.CodePlaceholder || errs[0].Line != 8 || errs[0].Col != 47 || !strings.Contains(errs[0].Msg, "%known_cdcs%") {
		t.Fatalf("errors = %v", errs)
	}
	if e.Stats().Failed != 1 || e.Stats().Rules != 0 {
		t.Errorf("stats %+v", e.Stats())
	}
	e, err = New(c, Options{Placeholders: map[string][]string{"known_cdcs": {"dc01.corp", "10.0.0.*"}}})
	if err != nil || len(e.Errors()) > 0 {
		t.Fatal(err, e.Errors())
	}
	doc := func(cmd string) map[string]any {
		d := windowsProc(`C:\Windows\System32\certutil.exe`, `C:\x\w3wp.exe`)
		d["process"].(map[string]any)["command_line"] = cmd
		return d
	}
	for cmd, want := range map[string]bool{
		"certutil -config DC01.corp\\CA": false, // case-insensitive, like any value
		"certutil -config 10.0.0.7\\CA":  false, // placeholder values keep wildcards
		"certutil -config evil.host\\CA": true,
	} {
		if got := len(e.Match(doc(cmd))) == 1; got != want {
			t.Errorf("%q: match %v, want %v", cmd, got, want)
		}
	}
}

// A pipeline's vars and value_placeholders give the values, as pySigma's
// do; wildcard_placeholders gives a *; the configuration's values win.
func TestExpandFromPipeline(t *testing.T) {
	c := loadYAML(t, map[string]string{"r.yml": expandRule})
	vars, err := pipeline.Parse("vars.yml", []byte(`name: site
vars:
  known_cdcs: [dc01.corp, '10.0.0.*']
  unused: x
transformations:
  - type: value_placeholders
    include: [known_cdcs]
    rule_conditions:
      - {type: logsource, product: windows}
`))
	if err != nil {
		t.Fatal(err)
	}
	wild, err := pipeline.Parse("wild.yml", []byte("transformations:\n  - type: wildcard_placeholders\n"))
	if err != nil {
		t.Fatal(err)
	}
	doc := func(cmd string) map[string]any {
		d := windowsProc(`C:\Windows\System32\certutil.exe`, `C:\x\w3wp.exe`)
		d["process"].(map[string]any)["command_line"] = cmd
		return d
	}
	for _, tt := range []struct {
		name  string
		opts  Options
		cases map[string]bool // command line -> alert
	}{
		{"vars", Options{Pipelines: []*pipeline.Pipeline{vars}},
			map[string]bool{`certutil -config DC01.corp\CA`: false, `certutil -config 10.0.0.7\CA`: false, `certutil -config evil\CA`: true}},
		{"configuration first", Options{Pipelines: []*pipeline.Pipeline{vars}, Placeholders: map[string][]string{"known_cdcs": {"evil"}}},
			map[string]bool{`certutil -config DC01.corp\CA`: true, `certutil -config evil\CA`: false}},
		{"wildcard", Options{Pipelines: []*pipeline.Pipeline{wild}},
			map[string]bool{`certutil -config evil\CA`: false}},
	} {
		e, err := New(c, tt.opts)
		if err != nil || len(e.Errors()) > 0 {
			t.Fatalf("%s: %v %v", tt.name, err, e.Errors())
		}
		for cmd, want := range tt.cases {
			if got := len(e.Match(doc(cmd))) == 1; got != want {
				t.Errorf("%s: %q: match %v, want %v", tt.name, cmd, got, want)
			}
		}
	}
	// A pipeline of another product gives nothing: the rule is refused.
	linux, _ := pipeline.Parse("l.yml", []byte("vars: {known_cdcs: x}\ntransformations:\n  - type: value_placeholders\n    rule_conditions: [{type: logsource, product: linux}]\n"))
	if e, _ := New(c, Options{Pipelines: []*pipeline.Pipeline{linux}}); len(e.Errors()) != 1 || e.Errors()[0].Code != sigma.CodePlaceholder {
		t.Errorf("errors = %v", e.Errors())
	}
}

func TestExpandInvalid(t *testing.T) {
	c := loadYAML(t, map[string]string{"r.yml": `title: expand without placeholder
logsource: {product: windows}
detection:
    sel:
        a|expand: 'plain'
    condition: sel
---
title: expand with re and a bad value
logsource: {product: windows}
detection:
    sel:
        a|re|expand: '%pat%'
    condition: sel
`})
	if got := c.Errors.ByCode(); got[sigma.CodeBadValue] != 1 || len(c.Rules) != 1 {
		t.Fatalf("errors %v", c.Errors)
	}
	e, _ := New(c, Options{Placeholders: map[string][]string{"pat": {"(?<=x)y"}}})
	if errs := e.Errors(); len(errs) != 1 || errs[0].Code != sigma.CodeBadRegex {
		t.Errorf("errors %v", errs)
	}
}

func TestTimeModifiers(t *testing.T) {
	c := loadYAML(t, map[string]string{"r.yml": `title: Night logon
logsource: {product: windows, category: process_creation}
detection:
    selection:
        Image|endswith: '\cmd.exe'
    night_early:
        'event.created|hour|lt': 6
    night_late:
        'event.created|hour|gte': 22
    condition: selection and 1 of night_*
---
title: New year
logsource: {product: windows, category: process_creation}
detection:
    selection:
        'event.created|month': 1
        'event.created|day': 1
    condition: selection
---
title: Minute week year
logsource: {product: windows, category: process_creation}
detection:
    selection:
        'event.created|minute': 30
        'event.created|week': 1
        'event.created|year': [2026, 2027]
    condition: selection
`})
	if len(c.Errors) > 0 {
		t.Fatal(c.Errors)
	}
	e, err := New(c, Options{})
	if err != nil {
		t.Fatal(err)
	}
	at := func(ts any) []string {
		d := windowsProc(`C:\Windows\System32\cmd.exe`, `C:\x\w3wp.exe`)
		d["event"].(map[string]any)["created"] = ts
		return titles(e.Match(d))
	}
	for ts, want := range map[any][]string{
		"2026-03-04T02:10:00Z":      {"Night logon"},
		"2026-03-04T09:10:00+10:00": {"Night logon"}, // 23:10 UTC: parts are UTC
		"2026-03-04T12:00:00Z":      nil,
		"2026-01-01T12:30:00Z":      {"New year", "Minute week year"},
		"2026-01-01T12:30:00":       {"New year", "Minute week year"}, // no zone: UTC
		"2025-01-01T12:30:00Z":      {"New year"},                     // ISO week 1 of 2025, year not listed
		int64(1767270600):           {"New year", "Minute week year"}, // 2026-01-01T12:30:00Z in seconds
		"not a time":                nil,
	} {
		if got := at(ts); !slices.Equal(got, want) {
			t.Errorf("%v: %q, want %q", ts, got, want)
		}
	}
}

func TestTimeModifierErrors(t *testing.T) {
	c := loadYAML(t, map[string]string{"r.yml": `title: a
logsource: {product: windows}
detection:
    sel: {'t|hour': 'x'}
    condition: sel
---
title: b
logsource: {product: windows}
detection:
    sel: {'t|hour|contains': 3}
    condition: sel
---
title: c
logsource: {product: windows}
detection:
    sel: {'t|hour|day': 3}
    condition: sel
`})
	if got := c.Errors.ByCode(); got[sigma.CodeBadValue] != 1 || got[sigma.CodeBadModifier] != 2 || len(c.Rules) != 0 {
		t.Errorf("errors %v", c.Errors)
	}
}
