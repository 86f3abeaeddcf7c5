package pipeline

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"webshellbeat/detection/sigma"
)

func parseRule(t *testing.T, logsource, fields string) *sigma.Rule {
	t.Helper()
	src := "title: t\nlogsource: " + logsource + "\ndetection:\n    s:\n" + fields + "    condition: s\n"
	c := &sigma.Collection{}
	c.Parse("t.yml", []byte(src))
	if len(c.Errors) > 0 {
		t.Fatal(c.Errors)
	}
	return c.Rules[0]
}

func builtin(t *testing.T) []*Pipeline {
	ps, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	Sort(ps)
	return ps
}

// mapped returns "Field[|fallback...]" for each field of search s, in order.
func mapped(r *sigma.Rule) []string {
	var out []string
	for _, f := range r.Detection.Searches["s"].Alternatives[0] {
		out = append(out, strings.Join(append([]string{f.Field}, f.Fallbacks...), "|"))
	}
	return out
}

func TestBuiltinMappings(t *testing.T) {
	tests := []struct {
		name, logsource, fields string
		want                    []string
	}{
		{"sysmon process creation", "{product: windows, category: process_creation}",
			"        Image: a\n        ParentImage: a\n        CommandLine: a\n        OriginalFileName: a\n        User: a\n        ProcessId: 1\n        TokenElevationType: a\n        process.parent.name: a\n",
			[]string{"process.executable|winlog.event_data.Image", "process.parent.executable|winlog.event_data.ParentImage", "process.command_line|winlog.event_data.CommandLine",
				"process.pe.original_file_name|winlog.event_data.OriginalFileName", "winlog.event_data.User", "process.pid|winlog.event_data.ProcessId", "winlog.event_data.TokenElevationType", "process.parent.name"}},
		{"security 4688", "{product: windows, service: security}",
			"        NewProcessName: a\n        ParentProcessName: a\n        NewProcessId: 1\n        ProcessId: 1\n        SubjectUserName: a\n        EventID: 4688\n",
			[]string{"process.executable|winlog.event_data.NewProcessName", "process.parent.executable|winlog.event_data.ParentProcessName", "process.pid|winlog.event_data.NewProcessId",
				"process.parent.pid|winlog.event_data.ProcessId", "user.name|winlog.event_data.SubjectUserName", "winlog.event_id"}},
		{"linux process creation", "{product: linux, category: process_creation}",
			"        Image: a\n        User: a\n        CommandLine: a\n        LogonId: 0\n        SomethingElse: a\n",
			[]string{"process.executable", "user.name", "process.command_line", "auditd.session|winlog.event_data.LogonId", "winlog.event_data.SomethingElse"}},
		{"linux network connection", "{product: linux, category: network_connection}",
			"        Initiated: 'true'\n        DestinationPort: 4444\n",
			[]string{"network.direction", "destination.port"}},
		{"auditd", "{product: linux, service: auditd}",
			"        type: EXECVE\n        a0: a\n        exe: a\n        comm: a\n        key: a\n        SYSCALL: execve\n",
			[]string{"auditd.record_types", "process.args.0", "process.executable", "process.name", "tags|auditd.data.key", "auditd.data.syscall"}},
		{"auditd execve record", "{product: linux, service: auditd}",
			"        type: 'execve'\n        a0: a\n        a12|contains: a\n        argc: 2\n        arch: a\n",
			[]string{"auditd.record_types", "process.args.0", "process.args.12", "process.args_count", "auditd.data.arch"}},
		{"auditd syscall record", "{product: linux, service: auditd}",
			"        type: SYSCALL\n        a0: 4\n        euid: 33\n        SYSCALL: syslog\n        cwd: /\n",
			[]string{"auditd.record_types", "auditd.data.a0", "user.effective.id", "auditd.data.syscall", "process.working_directory"}},
		{"auditd path record", "{product: linux, service: auditd}",
			"        type: PATH\n        name: /etc/ld.so.preload\n        nametype: CREATE\n",
			[]string{"auditd.record_types", "auditd.paths.name", "auditd.paths.nametype"}},
		{"auditd any record", "{product: linux, service: auditd}",
			"        a0: a\n        name: a\n        type|contains: PATH\n",
			[]string{"auditd.data.a0", "auditd.data.name", "auditd.record_types"}},
		{"webserver", "{category: webserver}",
			"        cs-method: POST\n        c-uri|contains: a\n        sc-status: 200\n        cs-user-agent: a\n        c-ip: a\n",
			[]string{"http.request.method", "url.original", "http.response.status_code", "user_agent.original", "source.ip"}},
		{"other product untouched", "{product: macos, category: process_creation}",
			"        Image: a\n", []string{"Image"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := parseRule(t, tt.logsource, tt.fields)
			out := mustApply(t, r, builtin(t)...)
			if got := mapped(out); !slices.Equal(got, tt.want) {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
			if mapped(r)[0] == mapped(out)[0] && tt.name != "other product untouched" {
				t.Errorf("Apply modified its input or mapped nothing")
			}
		})
	}
}

func TestUserPipelineOverridesAndFieldref(t *testing.T) {
	user, err := Parse("user.yml", []byte(`name: custom
transformations:
  - type: field_name_mapping
    mapping:
      Image: my.image
      Other: [my.other, my.other2]
    rule_conditions:
      - type: logsource
        product: windows
`))
	if err != nil {
		t.Fatal(err)
	}
	ps := append([]*Pipeline{user}, builtin(t)...)
	Sort(ps)
	r := parseRule(t, "{product: windows}", "        Image: a\n        ParentImage|fieldref: Other\n")
	out := mustApply(t, r, ps...)
	if got := mapped(out); !slices.Equal(got, []string{"my.image", "process.parent.executable|winlog.event_data.ParentImage"}) {
		t.Errorf("got %q", got)
	}
	if ref := out.Detection.Searches["s"].Alternatives[0][1].Values[0].Str; ref != "my.other" {
		t.Errorf("fieldref value = %q, want my.other", ref)
	}
	if r.Detection.Searches["s"].Alternatives[0][1].Values[0].Str != "Other" {
		t.Errorf("input rule modified")
	}
}

// A user pipeline's new name goes on to the built-ins, as pySigma chains
// pipelines: a site's name mapped to a Sigma one gets the Sigma name's ECS
// field, and the built-ins' catch-all leaves ECS names without a dot alone.
func TestUserPipelineChainsIntoBuiltins(t *testing.T) {
	user, err := Parse("user.yml", []byte(`name: site
transformations:
  - type: field_name_mapping
    mapping:
      Program: Image
      Msg: message
      Level: IntegrityLevel
`))
	if err != nil {
		t.Fatal(err)
	}
	ps := append([]*Pipeline{user}, builtin(t)...)
	Sort(ps)
	r := parseRule(t, "{product: windows, category: process_creation}", "        Program: a\n        Msg: b\n        Level: c\n")
	got := mapped(mustApply(t, r, ps...))
	want := []string{"process.executable|winlog.event_data.Image", "message", "winlog.event_data.IntegrityLevel"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
}

// With match_any, a list of targets is an OR (Also), as in pySigma; without
// it, fallbacks. The built-in webserver pipeline maps cs-uri-query so, to
// the query and to the whole target; a correlation's group-by reads one
// value, so there the targets are fallbacks in order.
func TestMatchAny(t *testing.T) {
	user, err := Parse("user.yml", []byte(`transformations:
  - type: field_name_mapping
    match_any: true
    mapping: {Host: [host.name, host.hostname, observer.name]}
`))
	if err != nil {
		t.Fatal(err)
	}
	ps := append([]*Pipeline{user}, builtin(t)...)
	Sort(ps)
	r := parseRule(t, "{category: webserver}", "        cs-uri-query|startswith: cmd=\n        Host: a\n        cs-uri-stem: /a\n")
	out := mustApply(t, r, ps...)
	var got []string
	for _, f := range out.Detection.Searches["s"].Alternatives[0] {
		got = append(got, fmt.Sprintf("%s fallbacks %q also %q", f.Field, f.Fallbacks, f.Also))
	}
	want := []string{
		`url.query fallbacks [] also ["url.original"]`,
		`host.name fallbacks [] also ["host.hostname" "observer.name"]`,
		`url.path fallbacks [] also []`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	if f := r.Detection.Searches["s"].Alternatives[0][0]; f.Field != "cs-uri-query" || f.Also != nil {
		t.Errorf("input modified: %+v", f)
	}
	c := &sigma.Collection{}
	c.Parse("c.yml", []byte(`title: web
name: web
logsource: {category: webserver}
detection: {s: {cs-method: POST}, condition: s}
---
title: per query
correlation: {type: event_count, rules: [web], group-by: [cs-uri-query], timespan: 1m, condition: {gte: 2}}
`))
	c.Finish()
	if len(c.Errors) > 0 {
		t.Fatal(c.Errors)
	}
	corr := ApplyCorrelation(c.Correlations[0], c.Lookup, ps...)
	if got := reads(corr.Correlation); !slices.Equal(got, []string{"web: url.query|url.original; "}) {
		t.Errorf("correlation reads %q", got)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ name, src, want string }{
		{"unknown key", "transformations:\n  - type: field_name_mapping\n    mapping: {a: b}\n    mapings: {}\n", "field mapings not found"},
		{"unknown type", "transformations:\n  - type: drop_field\n", `unknown type "drop_field"`},
		{"empty prefix", "transformations:\n  - type: field_name_prefix\n", "prefix is empty"},
		{"bad condition", "transformations:\n  - type: field_name_prefix\n    prefix: x.\n    rule_conditions: [{type: include_fields}]\n", "unknown rule condition type"},
		{"match_any elsewhere", "transformations:\n  - type: field_name_prefix\n    prefix: x.\n    match_any: true\n", "match_any is for field_name_mapping, not field_name_prefix"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("p.yml", []byte(tt.src))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

const corrRules = `title: sysmon process
name: win_proc
logsource: {product: windows, category: process_creation}
detection: {s: {Image|endswith: '\cmd.exe'}, condition: s}
---
title: linux process
name: lin_proc
logsource: {product: linux, category: process_creation}
detection: {s: {Image|endswith: /sh}, condition: s}
---
title: logon
name: win_logon
logsource: {product: windows, service: security}
detection: {s: {EventID: 4624}, condition: s}
---
title: chained
name: sub
correlation: {type: event_count, rules: [lin_proc], group-by: [User], timespan: 1m, condition: {gte: 2}}
---
title: across products
correlation:
    type: value_count
    rules: [win_proc, lin_proc, win_logon, sub]
    group-by: [who, Image]
    timespan: 1m
    condition: {field: CommandLine, gte: 2}
    aliases:
        who: {win_proc: User, lin_proc: User, win_logon: SubjectUserName}
`

// reads renders, per rule of the correlation, "rule: group-by fields; field",
// with fallbacks after "|".
func reads(cs *sigma.Correlation) []string {
	var out []string
	for i, ref := range cs.Rules {
		rd := cs.ReadsFor(i)
		var gs []string
		for _, g := range rd.GroupBy {
			gs = append(gs, strings.Join(g, "|"))
		}
		out = append(out, ref+": "+strings.Join(gs, " ")+"; "+strings.Join(rd.Field, "|"))
	}
	return out
}

// A correlation's names are mapped per rule it names, by that rule's
// logsource: User is winlog.event_data.User for Sysmon and user.name for
// Linux; an alias maps each rule's own field; a chained correlation's
// events carry the names as written.
func TestApplyCorrelation(t *testing.T) {
	c := &sigma.Collection{}
	c.Parse("c.yml", []byte(corrRules))
	c.Finish()
	if len(c.Errors) > 0 || len(c.Correlations) != 2 {
		t.Fatalf("errors %v", c.Errors)
	}
	r := c.Correlations[1]
	out := ApplyCorrelation(r, c.Lookup, builtin(t)...)
	want := []string{
		"win_proc: winlog.event_data.User process.executable|winlog.event_data.Image; process.command_line|winlog.event_data.CommandLine",
		"lin_proc: user.name process.executable; process.command_line",
		"win_logon: user.name|winlog.event_data.SubjectUserName process.executable|winlog.event_data.Image; process.command_line|winlog.event_data.CommandLine",
		"sub: who Image; CommandLine",
	}
	if got := reads(out.Correlation); !slices.Equal(got, want) {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	if r.Correlation.Reads != nil || !slices.Equal(out.Correlation.GroupBy, []string{"who", "Image"}) || out.Correlation.Field != "CommandLine" {
		t.Errorf("input modified or written names lost: %+v", out.Correlation)
	}
}

// A user pipeline conditioned on a logsource renames the field for the
// correlation's rules of that logsource only, before the built-ins.
func TestApplyCorrelationUserPipeline(t *testing.T) {
	user, err := Parse("user.yml", []byte(`transformations:
  - type: field_name_mapping
    mapping: {User: [account.name, user.name]}
    rule_conditions: [{type: logsource, product: linux}]
`))
	if err != nil {
		t.Fatal(err)
	}
	c := &sigma.Collection{}
	c.Parse("c.yml", []byte(corrRules))
	c.Finish()
	ps, err := WithBuiltin([]*Pipeline{user})
	if err != nil {
		t.Fatal(err)
	}
	got := reads(ApplyCorrelation(c.Correlations[1], c.Lookup, ps...).Correlation)
	if got[0] != "win_proc: winlog.event_data.User process.executable|winlog.event_data.Image; process.command_line|winlog.event_data.CommandLine" ||
		got[1] != "lin_proc: account.name|user.name process.executable; process.command_line" {
		t.Errorf("got %q", got)
	}
}

// mustApply is Apply for rules the pipelines must not reject.
func mustApply(t *testing.T, r *sigma.Rule, ps ...*Pipeline) *sigma.Rule {
	t.Helper()
	out, err := Apply(r, ps...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
