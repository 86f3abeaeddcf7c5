package sigma

import (
	"encoding/binary"
	"reflect"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"unicode/utf16"
)

func TestLoadErrorsAreLocated(t *testing.T) {
	c := LoadPaths("testdata/errors.yml")
	var got []string
	for _, e := range c.Errors {
		got = append(got, e.Error())
	}
	want := []string{
		`testdata/errors.yml:8:21: unknown-modifier: unknown modifier "contians"`,
		`testdata/errors.yml:19:17: bad-condition: unexpected ")"`,
		`testdata/errors.yml:28:13: unknown-identifier: condition refers to unknown search "filter"`,
		`testdata/errors.yml:36:27: unsupported-aggregation: aggregation expressions ("|") are deprecated and not supported; use a correlation rule`,
		`testdata/errors.yml:43:9: bad-regex: field "CommandLine": error parsing regexp: invalid named capture: ` + "`(?<=a)b`",
		`testdata/errors.yml:51:9: bad-modifier: field "CommandLine": modifier "i" is only valid after "re"`,
		`testdata/errors.yml:57:1: bad-rule: detection has no condition`,
		`testdata/errors.yml:71:1: unknown-rule: correlation "correlation" names rule "some_rule", which is not loaded`,
		`testdata/errors.yml:86:9: bad-value: field "DestinationIp": cidr: "10.0.0.0/33" is not a network`,
		`testdata/errors.yml:95:16: unknown-identifier: "filter_*" matches no search`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(c.Rules) != 1 || c.Rules[0].Title != "good rule after bad ones" {
		t.Errorf("rules = %d, want only the good one", len(c.Rules))
	}
	if len(c.Correlations) != 0 {
		t.Errorf("a correlation naming no loaded rule was kept: %+v", c.Correlations)
	}
}

func TestYAMLSyntaxError(t *testing.T) {
	fsys := fstest.MapFS{
		"rules/bad.yml":  {Data: []byte("title: x\ndetection:\n  sel: [a, b\n  condition: sel\n")},
		"rules/good.yml": {Data: []byte("title: ok\nlogsource: {product: linux}\ndetection:\n  sel: {Image: a}\n  condition: sel\n")},
		"rules/skip.txt": {Data: []byte("not a rule")},
	}
	c := LoadFS(fsys, "rules")
	if len(c.Errors) != 1 || c.Errors[0].Code != CodeYAML || c.Errors[0].File != "rules/bad.yml" || c.Errors[0].Line == 0 {
		t.Errorf("errors = %v", c.Errors)
	}
	if len(c.Rules) != 1 || c.Rules[0].Path != "rules/good.yml" {
		t.Errorf("rules = %v", c.Rules)
	}
}

func TestParseMetadataAndSearches(t *testing.T) {
	src := `title: t
id: 3c1b7f3e-6e5a-4a49-9a2c-0d1f2e3a4b5c
status: test
description: d
author: a
date: 2024-01-02
modified: 2024-02-03
level: HIGH
references: [r1, r2]
tags: [attack.t1505.003]
falsepositives: one
fields: [Image]
logsource: {product: Windows, category: process_creation, service: sysmon}
detection:
    map:
        Image|endswith: [a, b]
        EventID: 1
        Null: null
        Flag: true
    list:
        - A: 1
        - B: 2
    keywords:
        - foo
        - 'ba*r'
    condition:
        - map and not list
        - 1 of key*
`
	c := &Collection{}
	c.Parse("r.yml", []byte(src))
	if len(c.Errors) > 0 {
		t.Fatal(c.Errors)
	}
	r := c.Rules[0]
	if r.Level != "high" || r.Logsource != (Logsource{"windows", "process_creation", "sysmon"}) || r.Date != "2024-01-02" ||
		!slices.Equal(r.FalsePositives, []string{"one"}) || !slices.Equal(r.Tags, []string{"attack.t1505.003"}) {
		t.Errorf("metadata = %+v", r)
	}
	if !slices.Equal(r.Detection.Names, []string{"map", "list", "keywords"}) || len(r.Detection.Conditions) != 2 {
		t.Errorf("detection = %+v", r.Detection)
	}
	m := r.Detection.Searches["map"].Alternatives[0]
	if m[0].Field != "Image" || !slices.Equal(m[0].Modifiers, []Modifier{ModEndsWith}) || m[0].Pos != (Pos{16, 9}) ||
		m[1].Values[0].Kind != ValueNumber || m[2].Values[0].Kind != ValueNull || m[3].Values[0].Kind != ValueBool {
		t.Errorf("map = %+v %+v %+v %+v", m[0], m[1], m[2], m[3])
	}
	if n := len(r.Detection.Searches["list"].Alternatives); n != 2 {
		t.Errorf("list alternatives = %d", n)
	}
	kw := r.Detection.Searches["keywords"].Alternatives[0][0]
	if kw.Field != "" || len(kw.Values) != 2 {
		t.Errorf("keywords = %+v", kw)
	}
}

func TestGlobalAction(t *testing.T) {
	src := `action: global
title: base
logsource: {product: windows}
detection:
    common:
        Image: x
    condition: common and extra
---
detection:
    extra:
        A: 1
---
title: second
detection:
    extra:
        B: 2
`
	c := &Collection{}
	c.Parse("g.yml", []byte(src))
	if len(c.Errors) > 0 || len(c.Rules) != 2 {
		t.Fatalf("errors %v rules %d", c.Errors, len(c.Rules))
	}
	if c.Rules[0].Title != "base" || c.Rules[1].Title != "second" || c.Rules[1].Detection.Searches["common"] == nil {
		t.Errorf("merge failed: %+v", c.Rules[1])
	}
}

func TestParsePattern(t *testing.T) {
	tests := []struct {
		in   string
		want Pattern
	}{
		{`abc`, Pattern{{PieceLit, "abc"}}},
		{`\cmd.exe`, Pattern{{PieceLit, `\cmd.exe`}}},
		{`a*b?c`, Pattern{{PieceLit, "a"}, {PieceStar, ""}, {PieceLit, "b"}, {PieceOne, ""}, {PieceLit, "c"}}},
		{`a\*b`, Pattern{{PieceLit, "a*b"}}},
		{`a\\*`, Pattern{{PieceLit, `a\`}, {PieceStar, ""}}},
		{`**x`, Pattern{{PieceStar, ""}, {PieceLit, "x"}}},
		{`end\`, Pattern{{PieceLit, `end\`}}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got := ParsePattern(tt.in)
			if !slices.Equal(got, tt.want) {
				t.Errorf("ParsePattern(%q) = %v, want %v", tt.in, got, tt.want)
			}
			if back := ParsePattern(got.String()); !slices.Equal(back, got) {
				t.Errorf("round trip %q -> %q -> %v", tt.in, got.String(), back)
			}
		})
	}
}

// Found by FuzzParseRule: YAML counts a lone "\r" as a line break, so
// positions must too (the decoder said "line 2" of what looked like a
// one-line file).
func TestCarriageReturnLines(t *testing.T) {
	for _, nl := range []string{"\n", "\r\n", "\r"} {
		src := strings.Join([]string{"title: t", "logsource: {product: windows}", "detection:", "    sel:", "        Image|contians: x", "    condition: sel", ""}, nl)
		c := &Collection{}
		c.Parse("r.yml", []byte(src))
		if len(c.Errors) != 1 || c.Errors[0].Error() != `r.yml:5:15: unknown-modifier: unknown modifier "contians"` {
			t.Errorf("%q: %v", nl, c.Errors)
		}
	}
	c := &Collection{}
	c.Parse("r.yml", []byte("000: 0\r0"))
	if len(c.Errors) != 1 || c.Errors[0].Line != 2 {
		t.Errorf("errors %v", c.Errors)
	}
}

// A rule file saved as UTF-16 (either byte order) or with a UTF-8 byte
// order mark loads as its UTF-8 text does, and its problems are reported at
// the same line and column.
func TestParseEncodings(t *testing.T) {
	text := "title: Unicode — ünïcödé\nid: 11111111-2222-3333-4444-555555555555\nlogsource: {product: windows}\ndetection:\n  sel: {Image|endswith: '\\cmd.exe'}\n  condition: sel and nope\n---\ntitle: good\nlogsource: {product: windows}\ndetection:\n  sel: {Image|endswith: 'ü.exe'}\n  condition: sel\n"
	utf16 := func(order binary.AppendByteOrder, bom []byte) []byte {
		out := append([]byte(nil), bom...)
		for _, u := range utf16.Encode([]rune(text)) {
			out = order.AppendUint16(out, u)
		}
		return out
	}
	want := &Collection{}
	want.Parse("r.yml", []byte(text))
	if len(want.Rules) != 1 || len(want.Errors) != 1 || want.Errors[0].Line != 6 {
		t.Fatalf("UTF-8: rules %d, errors %v", len(want.Rules), want.Errors)
	}
	for name, data := range map[string][]byte{
		"UTF-8 with BOM": append([]byte{0xEF, 0xBB, 0xBF}, text...),
		"UTF-16LE":       utf16(binary.LittleEndian, []byte{0xFF, 0xFE}),
		"UTF-16BE":       utf16(binary.BigEndian, []byte{0xFE, 0xFF}),
	} {
		got := &Collection{}
		got.Parse("r.yml", data)
		if len(got.Rules) != 1 || !reflect.DeepEqual(got.Rules[0].Detection, want.Rules[0].Detection) || got.Rules[0].Title != "good" {
			t.Errorf("%s: rules %+v, want %+v", name, got.Rules, want.Rules)
		}
		if !reflect.DeepEqual(got.Errors, want.Errors) {
			t.Errorf("%s: errors %v, want %v", name, got.Errors, want.Errors)
		}
	}
}

// fieldref takes one of contains, startswith and endswith, as pySigma
// does, and no other value modifier.
func TestFieldRefModifiers(t *testing.T) {
	for mods, want := range map[string]string{
		"fieldref":                     "",
		"fieldref|contains":            "",
		"startswith|fieldref":          "",
		"fieldref|endswith|cased":      "",
		"fieldref|base64":              "conflicting modifiers",
		"fieldref|contains|startswith": "at most one of contains, startswith, endswith",
		"fieldref|cidr":                "conflicting modifiers",
		"fieldref|gt":                  "conflicting modifiers",
		"fieldref|re":                  "cannot be combined",
	} {
		c := LoadFS(fstest.MapFS{"r/x.yml": {Data: []byte("title: x\nlogsource: {product: windows}\ndetection:\n    s:\n        CommandLine|" + mods + ": Image\n    condition: s\n")}}, "r")
		switch {
		case want == "" && (len(c.Errors) > 0 || len(c.Rules) != 1):
			t.Errorf("%s: %v", mods, c.Errors)
		case want != "" && (len(c.Errors) == 0 || !strings.Contains(c.Errors[0].Error(), want)):
			t.Errorf("%s: %v, want %q", mods, c.Errors, want)
		}
	}
}

// A keyword is a substring search whatever wildcards it holds, as
// pySigma's full-text backends have it; a literal star at its end (\*)
// still gets the wildcard after it.
func TestKeywordValuesAreSubstrings(t *testing.T) {
	f := &FieldMatch{Values: []Value{{Str: "abc"}, {Str: "ping*-n ?"}, {Str: "*x"}, {Str: "y*"}, {Str: `z\*`}, {Kind: ValueNumber, Str: "0"}}}
	var got []string
	for _, v := range KeywordValues(f) {
		got = append(got, v.Str)
	}
	want := []string{"*abc*", "*ping*-n ?*", "*x*", "*y*", `*z\**`, "0"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	f.Modifiers = []Modifier{ModStartsWith}
	if v := KeywordValues(f); v[0].Str != "abc" {
		t.Errorf("with startswith: %q, want the value as written", v[0].Str)
	}
}
