package pipeline

import (
	"testing"

	"webshellbeat/detection/compile"
	"webshellbeat/detection/sigma"
)

// A pipeline file is user input: whatever its bytes, Parse returns a
// pipeline or an error, and applying a pipeline that parsed to a rule, then
// compiling the result, never panics.
func FuzzPipeline(f *testing.F) {
	for _, seed := range []string{
		"transformations:\n" + winRoot,
		"transformations:\n  - type: replace_string\n    regex: '(a)(?P<x>b)'\n    replacement: '\\g<x>\\1\\\\'\n    skip_special: true\n",
		"transformations:\n  - type: map_string\n    mapping: {'*\\\\cmd.exe': ['x', 'y?']}\n",
		"transformations:\n  - type: replace_string\n    regex: '\\+'\n    replacement: ' '\n    keep_original: true\n",
		"transformations:\n  - type: case\n    method: snake_case\n    field_name_conditions: [{type: include_fields, fields: ['Image'], mode: re}]\n",
		"transformations:\n  - type: set_value\n    value: 7\n    field_name_cond_not: true\n",
		"transformations:\n  - type: field_name_mapping\n    mapping: {Image: [process.executable, x]}\n",
		"transformations:\n  - type: field_name_prefix_mapping\n    mapping: {Comm: [x., y]}\n",
		"transformations:\n  - type: drop_detection_item\n    field_name_conditions: [{type: include_fields, fields: [IntegrityLevel]}]\n",
		"transformations:\n  - type: add_condition\n    conditions: {a: ['$product*', 1, true, null]}\n    template: true\n    negated: true\n",
		"transformations:\n  - type: change_logsource\n    category: x\n  - type: rule_failure\n    rule_conditions: [{type: logsource, category: x}]\n    message: m\n",
		"transformations:\n  - type: detection_item_failure\n    field_name_conditions: [{type: include_fields, fields: [User]}]\n    message: m\n",
		"transformations:\n  - type: keywords_to_field\n    field: x\n    selection_conditions: [{field: IntegrityLevel, values: ['3']}]\n",
		"transformations:\n  - type: field_name_prefix\n    prefix: p.\n    selection_conditions: [{field: IntegrityLevel, values: [3, x]}, {field: Image, values: y}]\n",
	} {
		f.Add(seed)
	}
	c := &sigma.Collection{}
	c.Parse("t.yml", []byte("title: t\nlogsource: {product: windows, category: process_creation}\ndetection:\n"+
		"    s:\n        Image|endswith: ['\\cmd.exe', 'a*b?c\\*']\n        CommandLine|contains|all: [whoami, '/c']\n"+
		"        User|re: '^NT'\n        IntegrityLevel: 3\n    k: [mimikatz, 'sekurlsa::']\n    condition: s or k\n"))
	if len(c.Errors) > 0 {
		f.Fatal(c.Errors)
	}
	rule := c.Rules[0]
	f.Fuzz(func(t *testing.T, src string) {
		p, err := Parse("fuzz.yml", []byte(src))
		if err != nil {
			return
		}
		if out, err := Apply(rule, p); err == nil {
			_, _ = compile.Compile(out, compile.NewFields())
		}
	})
}

// A rule file is user input too: whatever rules it holds, the built-in
// pipelines (the auditd ones read each selection's siblings) apply to them,
// and the result compiles or fails, without a panic.
func FuzzApplyBuiltin(f *testing.F) {
	for _, seed := range []string{
		"title: t\nlogsource: {product: linux, service: auditd}\ndetection:\n    s:\n        type: EXECVE\n        a0: x\n    f:\n        a1|re: y\n    k: [z, 0]\n    condition: s and not f or k\n",
		"title: t\nlogsource: {product: linux, service: auditd}\ndetection:\n    s:\n        - type: [PATH, x]\n          name: x\n        - type: PATH\n    condition: s\n",
		"title: t\nlogsource: {product: windows, category: process_creation}\ndetection:\n    s:\n        Image|endswith: x\n    condition: s\n",
	} {
		f.Add(seed)
	}
	ps, err := Builtin()
	if err != nil {
		f.Fatal(err)
	}
	Sort(ps)
	f.Fuzz(func(t *testing.T, src string) {
		c := &sigma.Collection{}
		c.Parse("fuzz.yml", []byte(src))
		for _, r := range c.Rules {
			if out, err := Apply(r, ps...); err == nil {
				_, _ = compile.Compile(out, compile.NewFields())
			}
		}
	})
}
