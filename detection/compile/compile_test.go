package compile

import (
	"encoding/base64"
	"fmt"
	"testing"

	"webshellbeat/detection/sigma"
)

// rule compiles a detection block (YAML, indented by 4) into a rule.
func rule(t testing.TB, detection string) (*Rule, *Fields) {
	t.Helper()
	src := "title: t\nlogsource: {product: windows}\ndetection:\n" + detection
	c := &sigma.Collection{}
	c.Parse("t.yml", []byte(src))
	if len(c.Errors) > 0 {
		t.Fatalf("parse: %v\n%s", c.Errors, src)
	}
	fields := NewFields()
	r, err := Compile(c.Rules[0], fields)
	if err != nil {
		t.Fatal(err)
	}
	return r, fields
}

func match(t testing.TB, detection string, doc map[string]any) bool {
	r, fields := rule(t, detection)
	ev := NewEvent(fields)
	ev.Reset(doc)
	return r.Match(ev)
}

type doc = map[string]any

func TestModifiersAndValues(t *testing.T) {
	wideB64 := base64.StdEncoding.EncodeToString([]byte("w\x00h\x00o\x00a\x00m\x00i\x00"))
	offB64 := base64.StdEncoding.EncodeToString([]byte("xxpowershell -enc yy"))
	tests := []struct {
		name, det string
		doc       doc
		want      bool
	}{
		{"exact case-insensitive", "    s: {F: 'Hello'}\n    condition: s", doc{"F": "hELLO"}, true},
		{"exact not substring", "    s: {F: 'Hello'}\n    condition: s", doc{"F": "Hello!"}, false},
		{"wildcard star", "    s: {F: 'a*c'}\n    condition: s", doc{"F": "abbbc"}, true},
		{"wildcard parts", "    s: {F: 'a*b*c'}\n    condition: s", doc{"F": "a-c-b"}, false},
		{"wildcard overlap", "    s: {F: 'ab*ba'}\n    condition: s", doc{"F": "aba"}, false},
		{"wildcard question", "    s: {F: 'a?c'}\n    condition: s", doc{"F": "aXc"}, true},
		{"question is one char", "    s: {F: 'a?c'}\n    condition: s", doc{"F": "aXXc"}, false},
		{"escaped star is literal", "    s: {F: 'a\\*c'}\n    condition: s", doc{"F": "abc"}, false},
		{"escaped star matches star", "    s: {F: 'a\\*c'}\n    condition: s", doc{"F": "a*c"}, true},
		{"backslash path", "    s: {F|endswith: '\\cmd.exe'}\n    condition: s", doc{"F": `C:\Windows\cmd.exe`}, true},
		{"contains", "    s: {F|contains: 'whoami'}\n    condition: s", doc{"F": "cmd /c WHOAMI /all"}, true},
		{"startswith", "    s: {F|startswith: 'cmd'}\n    condition: s", doc{"F": "xcmd"}, false},
		{"endswith list", "    s: {F|endswith: [a, b]}\n    condition: s", doc{"F": "xb"}, true},
		{"contains all", "    s: {F|contains|all: [a, b]}\n    condition: s", doc{"F": "xax"}, false},
		{"contains all ok", "    s: {F|contains|all: [a, b]}\n    condition: s", doc{"F": "bxa"}, true},
		{"cased", "    s: {F|cased: 'Hello'}\n    condition: s", doc{"F": "hello"}, false},
		{"cased ok", "    s: {F|contains|cased: 'Hel'}\n    condition: s", doc{"F": "xHello"}, true},
		{"exists true", "    s: {F|exists: true}\n    condition: s", doc{"F": ""}, true},
		{"exists false", "    s: {F|exists: false}\n    condition: s", doc{"G": 1}, true},
		{"exists false present", "    s: {F|exists: false}\n    condition: s", doc{"F": 1}, false},
		{"null absent", "    s: {F: null}\n    condition: s", doc{}, true},
		{"null nil", "    s: {F: null}\n    condition: s", doc{"F": nil}, true},
		{"null present", "    s: {F: null}\n    condition: s", doc{"F": "x"}, false},
		{"null or value", "    s: {F: [null, x]}\n    condition: s", doc{"F": "X"}, true},
		{"empty string", "    s: {F: ''}\n    condition: s", doc{"F": ""}, true},
		{"absent never matches a value", "    s: {F: '*'}\n    condition: s", doc{}, false},
		{"star matches any present", "    s: {F: '*'}\n    condition: s", doc{"F": 3}, true},
		{"neq", "    s: {F|neq: x}\n    condition: s", doc{"F": "y"}, true},
		{"neq equal", "    s: {F|neq: x}\n    condition: s", doc{"F": "X"}, false},
		// absent is null, which differs from x (pySigma: NOT COALESCE(F = 'x', 0))
		{"neq absent", "    s: {F|neq: x}\n    condition: s", doc{}, true},
		{"number as text", "    s: {EventID: 4688}\n    condition: s", doc{"EventID": "4688"}, true},
		{"number to number", "    s: {EventID: 4688}\n    condition: s", doc{"EventID": 4688}, true},
		{"number to float", "    s: {EventID: 1}\n    condition: s", doc{"EventID": float64(1)}, true},
		{"bool", "    s: {F: true}\n    condition: s", doc{"F": true}, true},
		{"bool as text", "    s: {F: false}\n    condition: s", doc{"F": "False"}, true},
		{"array any element", "    s: {F: b}\n    condition: s", doc{"F": []any{"a", "B"}}, true},
		{"string array", "    s: {F|startswith: b}\n    condition: s", doc{"F": []string{"a", "bc"}}, true},
		{"nested dotted path", "    s: {process.parent.name: nginx}\n    condition: s", doc{"process": doc{"parent": doc{"name": "nginx"}}}, true},
		{"flat dotted key", "    s: {winlog.event_data.User: x}\n    condition: s", doc{"winlog": doc{"event_data.User": "X"}}, true},
		{"windash slash", "    s: {F|windash|contains: ' -enc '}\n    condition: s", doc{"F": "powershell /enc AAA"}, true},
		{"windash en dash", "    s: {F|windash|contains: ' -enc '}\n    condition: s", doc{"F": "powershell \u2013enc AAA"}, true},
		{"windash keeps hyphen words", "    s: {F|windash|contains: 'a-b'}\n    condition: s", doc{"F": "a/b"}, false},
		{"windash many dashes", "    s: {F|windash|contains: ' -a -b -c -d '}\n    condition: s", doc{"F": "x /A \u2014b -c /d y"}, true},
		{"re", "    s: {F|re: '^a.c$'}\n    condition: s", doc{"F": "abc"}, true},
		{"re is cased", "    s: {F|re: '^a.c$'}\n    condition: s", doc{"F": "ABC"}, false},
		{"re i", "    s: {F|re|i: '^a.c$'}\n    condition: s", doc{"F": "ABC"}, true},
		{"re m", "    s: {F|re|m: '^b$'}\n    condition: s", doc{"F": "a\nb\nc"}, true},
		{"re s", "    s: {F|re|s: 'a.b'}\n    condition: s", doc{"F": "a\nb"}, true},
		{"re without s", "    s: {F|re: 'a.b'}\n    condition: s", doc{"F": "a\nb"}, false},
		{"base64", "    s: {F|base64: 'whoami'}\n    condition: s", doc{"F": "d2hvYW1p"}, true},
		{"base64 contains", "    s: {F|base64|contains: 'whoami'}\n    condition: s", doc{"F": "x d2hvYW1p y"}, true},
		{"base64 is cased", "    s: {F|base64: 'whoami'}\n    condition: s", doc{"F": "D2HVYW1P"}, false},
		{"base64offset", "    s: {F|base64offset|contains: 'powershell'}\n    condition: s", doc{"F": "-enc " + offB64}, true},
		{"wide base64", "    s: {F|wide|base64: 'whoami'}\n    condition: s", doc{"F": wideB64}, true},
		{"utf16le", "    s: {F|utf16le|contains: 'ab'}\n    condition: s", doc{"F": "xa\x00b\x00"}, true},
		{"utf16be", "    s: {F|utf16be: 'ab'}\n    condition: s", doc{"F": "\x00a\x00b"}, true},
		{"utf16 bom", "    s: {F|utf16: 'a'}\n    condition: s", doc{"F": "\xff\xfea\x00"}, true},
		{"lt", "    s: {F|lt: 10}\n    condition: s", doc{"F": 9}, true},
		{"lt equal", "    s: {F|lt: 10}\n    condition: s", doc{"F": 10}, false},
		{"lte", "    s: {F|lte: 10}\n    condition: s", doc{"F": "10"}, true},
		{"gt", "    s: {F|gt: 10}\n    condition: s", doc{"F": 10.5}, true},
		{"gte", "    s: {F|gte: 10}\n    condition: s", doc{"F": 9}, false},
		{"gt not a number", "    s: {F|gt: 1}\n    condition: s", doc{"F": "abc"}, false},
		{"cidr v4", "    s: {F|cidr: 10.0.0.0/8}\n    condition: s", doc{"F": "10.1.2.3"}, true},
		{"cidr v4 out", "    s: {F|cidr: [10.0.0.0/8, 192.168.0.0/16]}\n    condition: s", doc{"F": "11.1.2.3"}, false},
		{"cidr v6", "    s: {F|cidr: 'fe80::/10'}\n    condition: s", doc{"F": "fe80::1"}, true},
		{"cidr v4-mapped", "    s: {F|cidr: 127.0.0.0/8}\n    condition: s", doc{"F": "::ffff:127.0.0.1"}, true},
		{"fieldref", "    s: {F|fieldref: G}\n    condition: s", doc{"F": "Abc", "G": "aBC"}, true},
		{"fieldref differs", "    s: {F|fieldref: G}\n    condition: s", doc{"F": "a", "G": "b"}, false},
		{"fieldref absent", "    s: {F|fieldref: G}\n    condition: s", doc{"F": "a"}, false},
		// with contains, startswith, endswith (pySigma's): G's value, its
		// wildcard characters literal, is the substring, prefix or suffix
		{"fieldref contains", "    s: {F|fieldref|contains: G}\n    condition: s", doc{"F": `"C:\Tools\X.exe" /run`, "G": `c:\tools\x.exe`}, true},
		{"fieldref contains no", "    s: {F|fieldref|contains: G}\n    condition: s", doc{"F": "abc", "G": "abd"}, false},
		{"fieldref contains literal star", "    s: {F|fieldref|contains: G}\n    condition: s", doc{"F": "abc", "G": "a*"}, false},
		{"fieldref startswith", "    s: {F|fieldref|startswith: G}\n    condition: s", doc{"F": "abc", "G": "AB"}, true},
		{"fieldref startswith no", "    s: {F|fieldref|startswith: G}\n    condition: s", doc{"F": "abc", "G": "bc"}, false},
		{"fieldref endswith", "    s: {F|fieldref|endswith: G}\n    condition: s", doc{"F": "abc", "G": "bc"}, true},
		{"fieldref endswith cased", "    s: {F|fieldref|endswith|cased: G}\n    condition: s", doc{"F": "abc", "G": "BC"}, false},
		{"keywords", "    k: [whoami, 'net user']\n    condition: k", doc{"a": doc{"b": "cmd /c WHOAMI"}}, true},
		{"keywords none", "    k: [whoami]\n    condition: k", doc{"a": "id"}, false},
		{"keywords wildcard", "    k: ['who*all']\n    condition: k", doc{"a": "whoami /all"}, true},
		{"keywords number", "    k: ['4688']\n    condition: k", doc{"a": []any{4688}}, true},
		{"keywords all", "    k:\n        '|all': [a1, b2]\n    condition: k", doc{"x": "a1", "y": "b2"}, true},
		{"map is AND", "    s: {A: 1, B: 2}\n    condition: s", doc{"A": 1, "B": 3}, false},
		{"list of maps is OR", "    s: [{A: 1}, {B: 2}]\n    condition: s", doc{"A": 0, "B": 2}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := match(t, tt.det, tt.doc); got != tt.want {
				t.Errorf("match = %v, want %v\n%s", got, tt.want, tt.det)
			}
		})
	}
}

func TestConditions(t *testing.T) {
	det := `    sel_a: {A: 1}
    sel_b: {B: 1}
    filter: {C: 1}
    _hidden: {D: 1}
    condition: %s
`
	docs := map[string]doc{"a": {"A": 1}, "ab": {"A": 1, "B": 1}, "ac": {"A": 1, "C": 1}, "d": {"D": 1}, "none": {}}
	tests := []struct {
		cond string
		want []string // docs that match
	}{
		{"sel_a", []string{"a", "ab", "ac"}},
		{"sel_a and sel_b", []string{"ab"}},
		{"sel_a or sel_b", []string{"a", "ab", "ac"}},
		{"sel_a and not filter", []string{"a", "ab"}},
		{"not sel_a", []string{"d", "none"}},
		{"not (sel_a or _hidden)", []string{"none"}},
		{"1 of sel_*", []string{"a", "ab", "ac"}},
		{"all of sel_*", []string{"ab"}},
		{"1 of them", []string{"a", "ab", "ac"}}, // them skips _hidden
		{"all of them", nil},
		{"2 of them", []string{"ab", "ac"}},
		{"1 of sel_* and not 1 of filter*", []string{"a", "ab"}},
		{"[sel_b, _hidden]", []string{"ab", "d"}}, // a condition list is an OR
	}
	for _, tt := range tests {
		t.Run(tt.cond, func(t *testing.T) {
			cond := tt.cond
			if cond[0] == '[' {
				cond = "\n        - " + cond[1:len(cond)-1]
				cond = replaceAll(cond, ", ", "\n        - ")
			}
			r, fields := rule(t, fmt.Sprintf(det, cond))
			ev := NewEvent(fields)
			var got []string
			for _, name := range []string{"a", "ab", "ac", "d", "none"} {
				ev.Reset(docs[name])
				if r.Match(ev) {
					got = append(got, name)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("matched %v, want %v", got, tt.want)
			}
		})
	}
}

func replaceAll(s, old, new string) string {
	out := ""
	for {
		i := indexOf(s, old)
		if i < 0 {
			return out + s
		}
		out += s[:i] + new
		s = s[i+len(old):]
	}
}

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

func TestFallbackFields(t *testing.T) {
	c := &sigma.Collection{}
	c.Parse("t.yml", []byte("title: t\nlogsource: {product: windows}\ndetection:\n    s: {U: bob}\n    condition: s\n"))
	r := c.Rules[0]
	f := r.Detection.Searches["s"].Alternatives[0][0]
	f.Field, f.Fallbacks = "user.name", []string{"winlog.event_data.SubjectUserName"}
	fields := NewFields()
	cr, err := Compile(r, fields)
	if err != nil {
		t.Fatal(err)
	}
	ev := NewEvent(fields)
	for _, tt := range []struct {
		doc  doc
		want bool
	}{
		{doc{"user": doc{"name": "bob"}}, true},
		{doc{"winlog": doc{"event_data": doc{"SubjectUserName": "BOB"}}}, true},
		{doc{"user": doc{"name": "alice"}, "winlog": doc{"event_data": doc{"SubjectUserName": "bob"}}}, false}, // first present wins
	} {
		ev.Reset(tt.doc)
		if got := cr.Match(ev); got != tt.want {
			t.Errorf("%v: got %v", tt.doc, got)
		}
	}
}

// A match with Also fields (a pipeline's match_any) holds when it holds on
// any of its fields; "all" and a negation apply to each field as a whole.
func TestAlsoFields(t *testing.T) {
	tests := []struct {
		name, det string
		doc       doc
		want      bool
	}{
		{"first field", "    s: {Q|startswith: cmd=}\n    condition: s", doc{"Q": "cmd=id", "U": "/a?cmd=id"}, true},
		{"second field", "    s: {Q|endswith: /bash}\n    condition: s", doc{"U": "/mgmt/tm/util/bash"}, true},
		{"neither", "    s: {Q|startswith: cmd=}\n    condition: s", doc{"Q": "x=1&cmd=id", "U": "/a?x=1&cmd=id"}, false},
		{"all on one field", "    s: {Q|contains|all: [a=, b=]}\n    condition: s", doc{"Q": "a=1", "U": "/b=/x?a=1"}, true},
		{"all split over fields", "    s: {Q|contains|all: [c=, b=]}\n    condition: s", doc{"Q": "c=1", "U": "/b="}, false},
		{"not: neither may hold", "    s: {Q|contains: evil}\n    condition: not s", doc{"Q": "a=1", "U": "/evil?a=1"}, false},
		{"not: none holds", "    s: {Q|contains: evil}\n    condition: not s", doc{"Q": "a=1", "U": "/ok?a=1"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &sigma.Collection{}
			c.Parse("t.yml", []byte("title: t\nlogsource: {category: webserver}\ndetection:\n"+tt.det))
			if len(c.Errors) > 0 {
				t.Fatal(c.Errors)
			}
			r := c.Rules[0]
			for _, s := range r.Detection.Searches {
				s.Alternatives[0][0].Also = []string{"U"}
			}
			fields := NewFields()
			cr, err := Compile(r, fields)
			if err != nil {
				t.Fatal(err)
			}
			ev := NewEvent(fields)
			ev.Reset(tt.doc)
			if got := cr.Match(ev); got != tt.want {
				t.Errorf("match = %v, want %v", got, tt.want)
			}
		})
	}
}
