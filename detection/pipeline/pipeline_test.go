package pipeline

import (
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
			[]string{"process.executable", "process.parent.executable", "process.command_line", "process.pe.original_file_name", "winlog.event_data.User", "process.pid", "winlog.event_data.TokenElevationType", "process.parent.name"}},
		{"security 4688", "{product: windows, service: security}",
			"        NewProcessName: a\n        ParentProcessName: a\n        NewProcessId: 1\n        ProcessId: 1\n        SubjectUserName: a\n        EventID: 4688\n",
			[]string{"process.executable", "process.parent.executable", "process.pid", "process.parent.pid", "user.name|winlog.event_data.SubjectUserName", "winlog.event_id"}},
		{"linux process creation", "{product: linux, category: process_creation}",
			"        Image: a\n        User: a\n        CommandLine: a\n        SomethingElse: a\n",
			[]string{"process.executable", "user.name", "process.command_line", "SomethingElse"}},
		{"auditd", "{product: linux, service: auditd}",
			"        type: EXECVE\n        a0: a\n        exe: a\n        comm: a\n        key: a\n        SYSCALL: execve\n",
			[]string{"auditd.message_type", "auditd.data.a0", "process.executable", "process.name", "tags|auditd.data.key", "auditd.data.syscall"}},
		{"webserver", "{category: webserver}",
			"        cs-method: POST\n        c-uri|contains: a\n        sc-status: 200\n        cs-user-agent: a\n        c-ip: a\n",
			[]string{"http.request.method", "url.original", "http.response.status_code", "user_agent.original", "source.ip"}},
		{"other product untouched", "{product: macos, category: process_creation}",
			"        Image: a\n", []string{"Image"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := parseRule(t, tt.logsource, tt.fields)
			out := Apply(r, builtin(t)...)
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
	out := Apply(r, ps...)
	if got := mapped(out); !slices.Equal(got, []string{"my.image", "process.parent.executable"}) {
		t.Errorf("got %q", got)
	}
	if ref := out.Detection.Searches["s"].Alternatives[0][1].Values[0].Str; ref != "my.other" {
		t.Errorf("fieldref value = %q, want my.other", ref)
	}
	if r.Detection.Searches["s"].Alternatives[0][1].Values[0].Str != "Other" {
		t.Errorf("input rule modified")
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ name, src, want string }{
		{"unknown key", "transformations:\n  - type: field_name_mapping\n    mapping: {a: b}\n    mapings: {}\n", "field mapings not found"},
		{"unknown type", "transformations:\n  - type: drop_field\n", `unknown type "drop_field"`},
		{"empty prefix", "transformations:\n  - type: field_name_prefix\n", "prefix is empty"},
		{"bad condition", "transformations:\n  - type: field_name_prefix\n    prefix: x.\n    rule_conditions: [{type: include_fields}]\n", "unknown rule condition type"},
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
