package pipeline

import (
	"slices"
	"strings"
	"testing"

	"webshellbeat/detection/sigma"
)

func parseFull(t *testing.T, src string) *sigma.Rule {
	t.Helper()
	c := &sigma.Collection{}
	c.Parse("t.yml", []byte(src))
	if len(c.Errors) > 0 {
		t.Fatal(c.Errors)
	}
	return c.Rules[0]
}

// fieldsOf returns "search: field=values" for every field match of r.
func fieldsOf(r *sigma.Rule) []string {
	var out []string
	for _, name := range r.Detection.Names {
		for _, alt := range r.Detection.Searches[name].Alternatives {
			for _, f := range alt {
				var vals []string
				for _, v := range f.Values {
					vals = append(vals, v.Str)
				}
				out = append(out, name+": "+f.Field+"="+strings.Join(vals, ","))
			}
		}
	}
	return out
}

// SigmaHQ's auditd rules read one record at a time: a selection without
// type reads the record the rule's other selections name, and keywords in
// a rule about EXECVE records are searched in the arguments. A rule whose
// selections name different records leaves the others alone.
func TestSelectionConditionsAuditd(t *testing.T) {
	tests := []struct {
		name, detection string
		want            []string
	}{
		{"filter reads the rule's PATH record", `
    selection:
        type: 'PATH'
        name|contains: '/.'
    filter:
        name|contains: '/.cache/'
    condition: selection and not filter`,
			[]string{"filter: auditd.paths.name=/.cache/", "selection: auditd.record_types=PATH", "selection: auditd.paths.name=/."}},
		{"keywords of an EXECVE rule are arguments", `
    execve:
        type: 'EXECVE'
    shutdowncmd:
        - 'shutdown'
        - 'reb*'
    initselection:
        - 0
    condition: execve and (shutdowncmd or initselection)`,
			[]string{"execve: auditd.record_types=EXECVE", "initselection: process.args=0", "shutdowncmd: process.args=*shutdown*,*reb*"}},
		{"selections of two records", `
    selection_execve:
        type: EXECVE
        a0: arecord
    selection_syscall:
        type: SYSCALL
        a0: 40000
    other:
        a1: x
    keywords:
        - kw
    condition: 1 of selection_* or other or keywords`,
			[]string{"keywords: =kw", "other: auditd.data.a1=x", "selection_execve: auditd.record_types=EXECVE", "selection_execve: process.args.0=arecord",
				"selection_syscall: auditd.record_types=SYSCALL", "selection_syscall: auditd.data.a0=40000"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := parseFull(t, "title: t\nlogsource: {product: linux, service: auditd}\ndetection:"+tt.detection+"\n")
			got := fieldsOf(mustApply(t, r, builtin(t)...))
			slices.Sort(got)
			want := slices.Sorted(slices.Values(tt.want))
			if !slices.Equal(got, want) {
				t.Errorf("got  %q\nwant %q", got, want)
			}
		})
	}
}

func TestSelectionConditionErrors(t *testing.T) {
	for _, c := range []struct{ yaml, want string }{
		{"transformations:\n  - type: field_name_mapping\n    mapping: {a: b}\n    selection_conditions:\n      - field: type\n", "needs a field and values"},
		{"transformations:\n  - type: drop_detection_item\n    field_name_conditions: [{type: include_fields, fields: [a]}]\n    selection_conditions:\n      - {field: type, values: PATH}\n", "rule-level"},
		{"transformations:\n  - type: keywords_to_field\n", "field is empty"},
	} {
		_, err := Parse("p", []byte(c.yaml))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: got %v, want an error with %q", c.yaml, err, c.want)
		}
	}
}

// A correlation's group-by is read in the events of the rules it names as
// those rules read their fields: a0 of a rule about EXECVE records is the
// program's first argument, of a rule about SYSCALL records the syscall's.
func TestCorrelationReadsRuleRecord(t *testing.T) {
	c := &sigma.Collection{}
	c.Parse("c.yml", []byte(`title: curl
name: curl_exec
logsource: {product: linux, service: auditd}
detection:
    selection:
        type: EXECVE
        a0: curl
    filter:
        a1: --version
    condition: selection and not filter
---
title: socket
name: socket_call
logsource: {product: linux, service: auditd}
detection:
    selection:
        type: SYSCALL
        SYSCALL: socket
    condition: selection
---
title: downloads
correlation:
    type: value_count
    rules: [curl_exec, socket_call]
    group-by: [a0]
    timespan: 1m
    condition: {field: a1, gte: 5}
`))
	c.Finish()
	if len(c.Errors) > 0 || len(c.Correlations) != 1 {
		t.Fatalf("errors %v", c.Errors)
	}
	got := reads(ApplyCorrelation(c.Correlations[0], c.Lookup, builtin(t)...).Correlation)
	want := []string{"curl_exec: process.args.0; process.args.1", "socket_call: auditd.data.a0; auditd.data.a1"}
	if !slices.Equal(got, want) {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}
