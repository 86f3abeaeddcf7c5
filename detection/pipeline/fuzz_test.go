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
		"transformations:\n  - type: case\n    method: snake_case\n    field_name_conditions: [{type: include_fields, fields: ['Image'], mode: re}]\n",
		"transformations:\n  - type: set_value\n    value: 7\n    field_name_cond_not: true\n",
		"transformations:\n  - type: field_name_mapping\n    mapping: {Image: [process.executable, x]}\n",
		"transformations:\n  - type: field_name_prefix_mapping\n    mapping: {Comm: [x., y]}\n",
		"transformations:\n  - type: drop_detection_item\n    field_name_conditions: [{type: include_fields, fields: [IntegrityLevel]}]\n",
		"transformations:\n  - type: add_condition\n    conditions: {a: ['$product*', 1, true, null]}\n    template: true\n    negated: true\n",
		"transformations:\n  - type: change_logsource\n    category: x\n  - type: rule_failure\n    rule_conditions: [{type: logsource, category: x}]\n    message: m\n",
		"transformations:\n  - type: detection_item_failure\n    field_name_conditions: [{type: include_fields, fields: [User]}]\n    message: m\n",
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
