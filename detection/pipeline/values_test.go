package pipeline

import (
	"slices"
	"strings"
	"testing"

	"webshellbeat/detection/compile"
	"webshellbeat/detection/sigma"
)

// described renders each field match of search s as
// "Field|mod|mod: value, value" (keywords have no field).
func described(r *sigma.Rule) []string {
	var out []string
	for _, f := range r.Detection.Searches["s"].Alternatives[0] {
		name := f.Field
		for _, m := range f.Modifiers {
			name += "|" + m.String()
		}
		var vs []string
		for _, v := range f.Values {
			vs = append(vs, v.Str)
		}
		out = append(out, name+": "+strings.Join(vs, ", "))
	}
	return out
}

func mustParse(t *testing.T, name, src string) *Pipeline {
	t.Helper()
	p, err := Parse(name, []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

type valueCase struct {
	name, pipeline, fields string
	want                   []string
}

// runValueCases applies each case's pipeline (alone) to a Windows process
// creation rule and compares the field matches of search s.
func runValueCases(t *testing.T, tests []valueCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustParse(t, "p.yml", "transformations:\n"+tt.pipeline)
			r := parseRule(t, "{product: windows, category: process_creation}", tt.fields)
			before := described(r)
			out := mustApply(t, r, p)
			if got := described(out); !slices.Equal(got, tt.want) {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
			if !slices.Equal(described(r), before) {
				t.Errorf("Apply modified its input: %q", described(r))
			}
		})
	}
}

const winRoot = `  - id: win_root
    type: replace_string
    regex: '^C:\\Windows\\'
    replacement: '%SystemRoot%\\'
`

func TestReplaceString(t *testing.T) {
	runValueCases(t, []valueCase{
		{"plain value", winRoot,
			"        Image: 'C:\\Windows\\System32\\cmd.exe'\n",
			[]string{`Image: %SystemRoot%\System32\cmd.exe`}},
		{"startswith keeps its wildcard and modifier", winRoot,
			"        Image|startswith: 'C:\\Windows\\'\n",
			[]string{`Image|startswith: %SystemRoot%\`}},
		{"contains: the regex sees the leading wildcard, so ^ does not match", winRoot,
			"        Image|contains: 'C:\\Windows\\'\n",
			[]string{`Image|contains: C:\Windows\`}},
		{"no match, several values", winRoot,
			"        Image: ['D:\\Windows\\a.exe', 'C:\\Windows\\b.exe']\n",
			[]string{`Image: D:\Windows\a.exe, %SystemRoot%\b.exe`}},
		{"group reference; the endswith wildcard is consumed, so it is written out", `  - type: replace_string
    regex: '^\*\\([^\\]+)$'
    replacement: '\1'
`,
			"        Image|endswith: '\\cmd.exe'\n        ParentImage|endswith: ['\\a.exe', '\\b\\c.exe']\n",
			[]string{`Image: cmd.exe`, `ParentImage: a.exe, *\b\c.exe`}},
		{"named group and literal dollar", `  - type: replace_string
    regex: '(?P<drive>[A-Z]):'
    replacement: '$\g<drive>$'
`,
			"        Image: 'C:\\x'\n",
			[]string{`Image: $C$\x`}},
		{"wildcards are replaced too by default", `  - type: replace_string
    regex: '\*'
    replacement: 'x'
`,
			"        Image: 'a*b'\n        CommandLine|contains: 'c'\n",
			[]string{`Image: axb`, `CommandLine: xcx`}},
		{"skip_special leaves wildcards alone", `  - type: replace_string
    regex: '[a-z]'
    replacement: '_'
    skip_special: true
`,
			"        Image: 'a*b?c'\n        CommandLine|contains: 'de'\n",
			[]string{`Image: _*_?_`, `CommandLine|contains: __`}},
		{"values it must not touch", `  - type: replace_string
    regex: '[a1t]'
    replacement: 'b'
`,
			"        Image|re: 'a.*'\n        DestinationIp|cidr: 10.0.0.0/8\n        ProcessId: 1\n        Parent|fieldref: a\n" +
				"        CommandLine|base64: a\n        Product|windash|contains: -a\n        Company|exists: true\n        IntegrityLevel: null\n        Description: true\n",
			[]string{`Image|re: a.*`, `DestinationIp|cidr: 10.0.0.0/8`, `ProcessId: 1`, `Parent|fieldref: a`,
				`CommandLine|base64: a`, `Product|windash|contains: -a`, `Company|exists: true`, `IntegrityLevel: null`, `Description: true`}},
		{"keep_original: the value, then what it became", `  - type: replace_string
    regex: '\+'
    replacement: ' '
    keep_original: true
`,
			"        UserAgent: ['a+b', 'c']\n        Referer|contains: 'x+y'\n        Query|startswith: ['p+', 'q*+']\n",
			[]string{`UserAgent: a+b, a b, c`, `Referer|contains: x+y, x y`, `Query|startswith: p+, p , q*+, q* `}},
		{"keep_original leaves all and neq alone", `  - type: replace_string
    regex: 'a'
    replacement: 'b'
    keep_original: true
`,
			"        Image|contains|all: [a, c]\n        User|neq: a\n        Parent: a\n",
			[]string{`Image|contains|all: a, c`, `User|neq: a`, `Parent: a, b`}},
		{"keywords without field conditions", "  - {type: replace_string, regex: 'a', replacement: 'b'}\n",
			"        - a\n        - c\n",
			[]string{`: b, c`}},
		{"keywords not with field conditions",
			"  - {type: replace_string, regex: 'a', replacement: 'b', field_name_conditions: [{type: exclude_fields, fields: [Image]}]}\n",
			"        - a\n",
			[]string{`: a`}},
	})
}

func TestMapString(t *testing.T) {
	runValueCases(t, []valueCase{
		{"to one value and to a list",
			"  - type: map_string\n    mapping:\n      admin: [root, 'administrator*']\n      guest: nobody\n",
			"        User: [admin, guest, other]\n",
			[]string{`User: root, administrator*, nobody, other`}},
		{"the key is the value with the modifier's wildcards, and so is the target",
			"  - type: map_string\n    mapping: {'*adm*': '*root*', '*cmd*': cmd.exe, adm: x}\n",
			"        User|contains: adm\n        CommandLine|contains: cmd\n        Image|endswith: adm\n",
			[]string{`User|contains: root`, `CommandLine: cmd.exe`, `Image|endswith: adm`}},
		{"exact and case-sensitive, numbers untouched",
			"  - type: map_string\n    mapping: {Admin: root, '1': '2'}\n",
			"        User: admin\n        ProcessId: 1\n",
			[]string{`User: admin`, `ProcessId: 1`}},
		{"keys in any Sigma escaping",
			"  - type: map_string\n    mapping: {'C:\\\\x': 'D:\\y'}\n",
			"        Image: 'C:\\x'\n",
			[]string{`Image: D:\y`}},
	})
}

func TestCase(t *testing.T) {
	runValueCases(t, []valueCase{
		{"lower is the default", "  - type: case\n",
			"        Image: 'C:\\WINDOWS\\*.EXE'\n",
			[]string{`Image: c:\windows\*.exe`}},
		{"upper", "  - {type: case, method: upper}\n",
			"        Image|endswith: '\\cmd.exe'\n        ProcessId: 1\n",
			[]string{`Image|endswith: \CMD.EXE`, `ProcessId: 1`}},
		{"snake_case per literal part", "  - {type: case, method: snake_case}\n",
			"        Image: 'CamelCase*FooBar'\n",
			[]string{`Image: camel_case*foo_bar`}},
	})
}

func TestSetValue(t *testing.T) {
	runValueCases(t, []valueCase{
		{"replaces every value and the value modifiers",
			"  - type: set_value\n    value: 'x*'\n    field_name_conditions: [{type: include_fields, fields: [Image, Hashes]}]\n",
			"        Image|contains|cased: [a, b]\n        Hashes|base64offset|contains: c\n        CommandLine: d\n",
			[]string{`Image|cased: x*`, `Hashes: x*`, `CommandLine: d`}},
		{"a number, over numbers", "  - {type: set_value, value: 4688}\n",
			"        EventID: [1, 2]\n",
			[]string{`EventID: 4688`}},
		{"not regexps, cidr, fieldref", "  - {type: set_value, value: x}\n",
			"        Image|re: a\n        DestinationIp|cidr: 10.0.0.0/8\n        Parent|fieldref: a\n",
			[]string{`Image|re: a`, `DestinationIp|cidr: 10.0.0.0/8`, `Parent|fieldref: a`}},
	})
}

func TestFieldNameConditions(t *testing.T) {
	const upper = "  - type: case\n    method: upper\n"
	fields := "        Image: a\n        ParentImage: b\n        CommandLine: c\n"
	runValueCases(t, []valueCase{
		{"include_fields", upper + "    field_name_conditions: [{type: include_fields, fields: [Image, CommandLine]}]\n",
			fields, []string{"Image: A", "ParentImage: b", "CommandLine: C"}},
		{"exclude_fields", upper + "    field_name_conditions: [{type: exclude_fields, fields: [Image]}]\n",
			fields, []string{"Image: a", "ParentImage: B", "CommandLine: C"}},
		{"mode re matches from the start", upper + "    field_name_conditions: [{type: include_fields, mode: re, fields: ['.*Image']}]\n",
			fields, []string{"Image: A", "ParentImage: B", "CommandLine: c"}},
		{"match_type regex is an alias", upper + "    field_name_conditions: [{type: include_fields, match_type: regex, fields: ['Image']}]\n",
			fields, []string{"Image: A", "ParentImage: b", "CommandLine: c"}},
		{"and by default", upper + "    field_name_conditions: [{type: include_fields, fields: [Image, ParentImage]}, {type: exclude_fields, fields: [Image]}]\n",
			fields, []string{"Image: a", "ParentImage: B", "CommandLine: c"}},
		{"or", upper + "    field_name_cond_op: or\n    field_name_conditions: [{type: include_fields, fields: [Image]}, {type: include_fields, fields: [CommandLine]}]\n",
			fields, []string{"Image: A", "ParentImage: b", "CommandLine: C"}},
		{"not", upper + "    field_name_cond_not: true\n    field_name_conditions: [{type: include_fields, fields: [Image]}]\n",
			fields, []string{"Image: a", "ParentImage: B", "CommandLine: C"}},
		{"on a renaming transformation", "  - type: field_name_prefix\n    prefix: x.\n    field_name_conditions: [{type: exclude_fields, fields: [Image]}]\n",
			fields, []string{"Image: a", "x.ParentImage: b", "x.CommandLine: c"}},
	})
}

// A value transformation sees the field names as the transformations before
// it left them: before the built-ins (priority 10) the Sigma name, after
// them (priority 200) the ECS name.
func TestFieldNameConditionsFollowOrder(t *testing.T) {
	for _, tt := range []struct {
		priority, field string
		want            []string
	}{
		{"10", "Image", []string{"process.executable: A", "process.command_line: b"}},
		{"10", "process.executable", []string{"process.executable: a", "process.command_line: b"}},
		{"200", "process.executable", []string{"process.executable: A", "process.command_line: b"}},
		{"200", "Image", []string{"process.executable: a", "process.command_line: b"}},
	} {
		user := mustParse(t, "user.yml", "priority: "+tt.priority+"\ntransformations:\n  - type: case\n    method: upper\n"+
			"    field_name_conditions: [{type: include_fields, fields: ["+tt.field+"]}]\n")
		ps, err := WithBuiltin([]*Pipeline{user})
		if err != nil {
			t.Fatal(err)
		}
		r := parseRule(t, "{product: windows, category: process_creation}", "        Image: a\n        CommandLine: b\n")
		if got := described(mustApply(t, r, ps...)); !slices.Equal(got, tt.want) {
			t.Errorf("priority %s on %s: got %q, want %q", tt.priority, tt.field, got, tt.want)
		}
	}
}

// systemRootDoc is the example of docs/sigma.md.
const systemRootDoc = `name: system root
priority: 10
transformations:
  - id: windows_systemroot
    type: replace_string
    regex: '^C:\\Windows\\'      # YAML single quotes: the regex is ^C:\\Windows\\
    replacement: '%SystemRoot%\\'  # \\ is one backslash, as in Python
    field_name_conditions:
      - type: include_fields
        fields: [Image, ParentImage]
    rule_conditions:
      - type: logsource
        product: windows
`

// End to end: a user pipeline (the example of docs/sigma.md) rewriting C:\Windows\ to %SystemRoot%\ makes
// the rule match an event that logs the unexpanded path, which it did not
// match before; the event it matched before no longer matches.
func TestReplaceStringMatches(t *testing.T) {
	src := `title: cmd from the Windows directory
logsource: {product: windows, category: process_creation}
detection:
    s:
        Image|startswith: 'C:\Windows\'
        Image|endswith: '\cmd.exe'
    condition: s
`
	c := &sigma.Collection{}
	c.Parse("r.yml", []byte(src))
	if len(c.Errors) > 0 {
		t.Fatal(c.Errors)
	}
	user := mustParse(t, "user.yml", systemRootDoc)
	builtinOnly, err := WithBuiltin(nil)
	if err != nil {
		t.Fatal(err)
	}
	withUser, err := WithBuiltin([]*Pipeline{user})
	if err != nil {
		t.Fatal(err)
	}
	event := func(image string) map[string]any {
		return map[string]any{"process": map[string]any{"executable": image}}
	}
	unexpanded := event(`%SystemRoot%\System32\cmd.exe`)
	expanded := event(`C:\Windows\System32\cmd.exe`)
	for _, tt := range []struct {
		name  string
		ps    []*Pipeline
		doc   map[string]any
		match bool
	}{
		{"built-ins, unexpanded path", builtinOnly, unexpanded, false},
		{"built-ins, expanded path", builtinOnly, expanded, true},
		{"replace_string, unexpanded path", withUser, unexpanded, true},
		{"replace_string, expanded path", withUser, expanded, false},
	} {
		fields := compile.NewFields()
		cr, err := compile.Compile(mustApply(t, c.Rules[0], tt.ps...), fields)
		if err != nil {
			t.Fatal(err)
		}
		ev := compile.NewEvent(fields)
		ev.Reset(tt.doc)
		if got := cr.Match(ev); got != tt.match {
			t.Errorf("%s: match = %v, want %v", tt.name, got, tt.match)
		}
	}
}

// A value whose modifier wildcard a transformation removed compiles to the
// same patterns as the modifier would have made of the others.
func TestWrittenOutWildcardsMatch(t *testing.T) {
	p := mustParse(t, "p.yml", `transformations:
  - type: map_string
    mapping: {'*a*': 'x'}
`)
	r := parseRule(t, "{product: windows}", "        F|contains: [a, b]\n")
	out := mustApply(t, r, p)
	if got := described(out); !slices.Equal(got, []string{"F: x, *b*"}) {
		t.Fatalf("got %q", got)
	}
	fields := compile.NewFields()
	cr, err := compile.Compile(out, fields)
	if err != nil {
		t.Fatal(err)
	}
	ev := compile.NewEvent(fields)
	for doc, want := range map[string]bool{"x": true, "xa": false, "abc": true, "a": false} {
		ev.Reset(map[string]any{"F": doc})
		if got := cr.Match(ev); got != want {
			t.Errorf("F=%q: match = %v, want %v", doc, got, want)
		}
	}
}

func TestRenderRoundTrip(t *testing.T) {
	for _, s := range []string{`C:\Windows\`, `C:\Windows\*`, `\\server\share`, `a\*b`, `a\?`, `*\cmd.exe`,
		`\\*`, `x\\\*`, `\`, `\\\\`, `a**b`, `?`, ``, `%SystemRoot%\`} {
		p := sigma.ParsePattern(s)
		r := render(p)
		if back := sigma.ParsePattern(r); !slices.Equal(back, p) {
			t.Errorf("%q: render %q parses as %v, want %v", s, r, back, p)
		}
	}
	if r := render(sigma.ParsePattern(`C:\Windows\`)); r != `C:\Windows\` {
		t.Errorf("a trailing backslash is escaped: %q", r)
	}
}

func TestValueParseErrors(t *testing.T) {
	tests := []struct{ name, src, want string }{
		{"bad regex", "  - {id: paths, type: replace_string, regex: '(', replacement: x}\n",
			"pipeline p.yml: transformation 1 (paths): bad regex \"(\""},
		{"unsupported regex", "  - {id: look, type: replace_string, regex: '(?=a)', replacement: x}\n",
			"transformation 1 (look): bad regex"},
		{"unknown type", "  - {id: ok, type: case}\n  - {id: typo, type: replace_strings}\n",
			`pipeline p.yml: transformation 2 (typo): unknown type "replace_strings"`},
		{"missing group", "  - {id: g, type: replace_string, regex: '(a)', replacement: '\\2'}\n",
			"transformation 1 (g): replacement \"\\\\2\": no group 2"},
		{"bad escape", "  - {id: e, type: replace_string, regex: 'a', replacement: '\\q'}\n",
			`bad escape \q`},
		{"empty regex", "  - {id: e, type: replace_string, replacement: x}\n", "regex is empty"},
		{"bad method", "  - {id: m, type: case, method: title}\n", `method must be lower, upper or snake_case, not "title"`},
		{"map to nothing", "  - {id: m, type: map_string, mapping: {a: []}}\n", `value "a" maps to nothing`},
		{"set_value without value", "  - {id: s, type: set_value}\n", "value is missing"},
		{"set_value list", "  - {id: s, type: set_value, value: [a]}\n", "value must be"},
		{"field condition type", "  - {id: f, type: case, field_name_conditions: [{type: include_field, fields: [a]}]}\n",
			`unknown field name condition type "include_field"`},
		{"field condition regexp", "  - {id: f, type: case, field_name_conditions: [{type: include_fields, mode: re, fields: ['(']}]}\n",
			`bad field name regexp "("`},
		{"field condition mode", "  - {id: f, type: case, field_name_conditions: [{type: include_fields, mode: glob, fields: [a]}]}\n",
			`mode must be plain or re`},
		{"field cond op", "  - {id: f, type: case, field_name_cond_op: xor}\n", "field_name_cond_op must be"},
		{"keep_original on set_value", "  - {id: k, type: set_value, value: a, keep_original: true}\n",
			"keep_original is for replace_string, map_string and case, not set_value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("p.yml", []byte("transformations:\n"+tt.src))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
}
