package sigma

import (
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// search parses one search identifier.
func (p *ruleParser) search(k, v *yaml.Node) *Search {
	s := &Search{Name: k.Value, Pos: nodePos(k)}
	if v == nil {
		p.errorf(s.Pos, CodeBadDetection, "search %q is empty", s.Name)
		return nil
	}
	nerr := len(p.errs)
	switch v.Kind {
	case yaml.MappingNode:
		s.Alternatives = [][]*FieldMatch{p.fieldMap(v)}
	case yaml.SequenceNode:
		p.searchList(s, v)
	case yaml.ScalarNode:
		s.Alternatives = [][]*FieldMatch{{p.keywords(v, []*yaml.Node{v})}}
	}
	if len(s.Alternatives) == 0 && len(p.errs) == nerr {
		p.errorf(nodePos(v), CodeBadDetection, "search %q is empty", s.Name)
	}
	if len(p.errs) > nerr {
		return nil
	}
	return s
}

// searchList parses a list of maps (OR) or a list of keywords.
func (p *ruleParser) searchList(s *Search, v *yaml.Node) {
	var maps, scalars []*yaml.Node
	for _, it := range v.Content {
		it = resolve(it)
		switch it.Kind {
		case yaml.MappingNode:
			maps = append(maps, it)
		case yaml.ScalarNode:
			scalars = append(scalars, it)
		default:
			p.errorf(nodePos(it), CodeBadDetection, "search %q: nested lists are not allowed", s.Name)
			return
		}
	}
	if len(maps) > 0 && len(scalars) > 0 {
		p.errorf(nodePos(v), CodeBadDetection, "search %q mixes maps and keywords", s.Name)
		return
	}
	for _, m := range maps {
		s.Alternatives = append(s.Alternatives, p.fieldMap(m))
	}
	if len(scalars) > 0 {
		s.Alternatives = [][]*FieldMatch{{p.keywords(v, scalars)}}
	}
}

func (p *ruleParser) keywords(at *yaml.Node, items []*yaml.Node) *FieldMatch {
	f := &FieldMatch{Pos: nodePos(at)}
	for _, it := range items {
		f.Values = append(f.Values, p.value(it))
	}
	return f
}

// fieldMap parses a map of "Field|mods: values", ANDed.
func (p *ruleParser) fieldMap(m *yaml.Node) []*FieldMatch {
	var out []*FieldMatch
	for i := 0; i+1 < len(m.Content); i += 2 {
		if f := p.fieldMatch(m.Content[i], resolve(m.Content[i+1])); f != nil {
			out = append(out, f)
		}
	}
	return out
}

func (p *ruleParser) fieldMatch(k, v *yaml.Node) *FieldMatch {
	parts := strings.Split(k.Value, "|")
	f := &FieldMatch{Field: parts[0], Pos: nodePos(k)}
	off := len(parts[0]) + 1
	for _, name := range parts[1:] {
		m, ok := ParseModifier(name)
		if !ok {
			p.errorf(p.src.scalarPos(k, off), CodeUnknownMod, "unknown modifier %q", name)
			return nil
		}
		f.Modifiers = append(f.Modifiers, m)
		off += len(name) + 1
	}
	switch {
	case v == nil:
		f.Values = []Value{{Kind: ValueNull, Pos: f.Pos}}
	case v.Kind == yaml.ScalarNode:
		f.Values = []Value{p.value(v)}
	case v.Kind == yaml.SequenceNode:
		for _, it := range v.Content {
			if it = resolve(it); it.Kind != yaml.ScalarNode {
				p.errorf(nodePos(it), CodeBadDetection, "field %q: values must be scalars", f.Field)
				return nil
			}
			f.Values = append(f.Values, p.value(it))
		}
		if len(f.Values) == 0 {
			p.errorf(nodePos(v), CodeBadDetection, "field %q has an empty value list", f.Field)
			return nil
		}
	default:
		p.errorf(nodePos(v), CodeBadDetection, "field %q: value must be a scalar or a list", f.Field)
		return nil
	}
	if err := p.validate(f, k); err != nil {
		return nil
	}
	return f
}

func (p *ruleParser) value(n *yaml.Node) Value {
	v := Value{Kind: ValueString, Str: n.Value, Pos: nodePos(n)}
	switch n.Tag {
	case "!!null":
		v.Kind = ValueNull
	case "!!int", "!!float":
		v.Kind = ValueNumber
	case "!!bool":
		v.Kind = ValueBool
		v.Str = strconv.FormatBool(strings.EqualFold(n.Value, "true") || strings.EqualFold(n.Value, "yes") || strings.EqualFold(n.Value, "on"))
	}
	return v
}

// validate checks modifier combinations and values once, so that compiling
// cannot fail for a rule the loader accepted.
func (p *ruleParser) validate(f *FieldMatch, k *yaml.Node) error {
	bad := func(code, format string, args ...any) error {
		p.errorf(f.Pos, code, "field %q: %s", f.Field, fmt.Sprintf(format, args...))
		return fmt.Errorf("%s", code)
	}
	var pos, enc, re, flags, cmp, special, tm, ref int
	for i, m := range f.Modifiers {
		switch {
		case m == ModContains || m == ModStartsWith || m == ModEndsWith:
			pos++
		case m == ModBase64 || m == ModBase64Offset:
			enc++
		case m == ModRe:
			re++
		case m == ModReI || m == ModReM || m == ModReS:
			if re == 0 || i == 0 {
				return bad(CodeBadModifier, "modifier %q is only valid after \"re\"", m)
			}
			flags++
		case m.IsCompare():
			cmp++
		case m == ModCIDR || m == ModExists:
			special++
		case m == ModFieldRef:
			special++
			ref++
		case m.IsTime():
			tm++
		}
	}
	switch {
	case tm > 1:
		return bad(CodeBadModifier, "at most one time modifier (minute, hour, day, week, month, year)")
	case tm == 1 && (f.Field == "" || pos+enc+re+special > 0 || f.Has(ModWindash) || f.Has(ModExpand) || f.Has(ModAll) || f.Has(ModCased)):
		return bad(CodeBadModifier, "a time modifier reads a timestamp field and combines only with lt, lte, gt, gte and neq")
	case pos > 1:
		return bad(CodeBadModifier, "at most one of contains, startswith, endswith")
	case enc > 1:
		return bad(CodeBadModifier, "at most one of base64, base64offset")
	case re > 0 && (pos+enc+cmp+special > 0 || f.Has(ModWindash)):
		return bad(CodeBadModifier, "\"re\" cannot be combined with other value modifiers")
	case f.Has(ModExpand) && (cmp+special > 0):
		return bad(CodeBadModifier, "expand works on string values only")
	// fieldref takes contains, startswith or endswith, as pySigma does: the
	// other field's value is then the substring, prefix or suffix.
	case cmp+special > 1 || cmp+special == 1 && (enc > 0 || pos > 0 && ref == 0):
		return bad(CodeBadModifier, "conflicting modifiers %v", f.Modifiers)
	case f.Field == "" && (cmp+special > 0):
		return bad(CodeBadModifier, "keywords cannot use comparison, cidr, exists or fieldref")
	}
	for _, v := range f.Values {
		if err := p.validateValue(f, v, bad); err != nil {
			return err
		}
	}
	return nil
}

func (p *ruleParser) validateValue(f *FieldMatch, v Value, bad func(string, string, ...any) error) error {
	isStr := v.Kind == ValueString || v.Kind == ValueNumber
	if f.Has(ModExpand) && (v.Kind != ValueString || len(Placeholders(v.Str)) == 0) {
		return bad(CodeBadValue, "expand needs a value with a %%placeholder%%, got %q", v.Str)
	}
	if timeMod(f) != 0 {
		if _, err := strconv.Atoi(v.Str); err != nil || v.Kind != ValueNumber {
			return bad(CodeBadValue, "time modifier %v needs an integer, got %q", timeMod(f), v.Str)
		}
		return nil
	}
	switch {
	case f.Has(ModExists):
		if v.Kind != ValueBool {
			return bad(CodeBadValue, "exists needs true or false, got %q", v.Str)
		}
	case f.Has(ModExpand):
		// checked again, with the placeholders replaced, by ExpandPlaceholders
	case f.Has(ModRe):
		if !isStr {
			return bad(CodeBadValue, "re needs a string")
		}
		if _, err := regexp.Compile(RegexpFlags(f) + v.Str); err != nil {
			return bad(CodeBadRegex, "%v", err)
		}
	case f.Has(ModCIDR):
		if _, err := netip.ParsePrefix(v.Str); err != nil || !isStr {
			return bad(CodeBadValue, "cidr: %q is not a network", v.Str)
		}
	case f.Has(ModLt) || f.Has(ModLte) || f.Has(ModGt) || f.Has(ModGte):
		if _, err := strconv.ParseFloat(v.Str, 64); err != nil || !isStr {
			return bad(CodeBadValue, "%q is not a number", v.Str)
		}
	case f.Has(ModFieldRef):
		if v.Kind != ValueString || v.Str == "" {
			return bad(CodeBadValue, "fieldref needs a field name")
		}
	case v.Kind == ValueNull && len(f.Modifiers) > 0 && !f.Has(ModAll) && !f.Has(ModCased):
		return bad(CodeBadValue, "null cannot be used with modifiers %v", f.Modifiers)
	}
	if hasEncoding(f) && (v.Kind != ValueString || ParsePattern(v.Str).HasWildcard()) {
		return bad(CodeBadValue, "encoding modifiers need a plain string without wildcards, got %q", v.Str)
	}
	if hasEncoding(f) && !utf8.ValidString(v.Str) {
		return bad(CodeBadValue, "value is not UTF-8")
	}
	return nil
}

func hasEncoding(f *FieldMatch) bool {
	for _, m := range f.Modifiers {
		if m.IsEncoding() {
			return true
		}
	}
	return false
}

// RegexpFlags returns the Go flag prefix for the re sub-modifiers.
func RegexpFlags(f *FieldMatch) string {
	var b strings.Builder
	for _, m := range f.Modifiers {
		switch m {
		case ModReI:
			b.WriteByte('i')
		case ModReM:
			b.WriteByte('m')
		case ModReS:
			b.WriteByte('s')
		}
	}
	if b.Len() == 0 {
		return ""
	}
	return "(?" + b.String() + ")"
}

// timeMod returns the time modifier of f, or 0.
func timeMod(f *FieldMatch) Modifier {
	for _, m := range f.Modifiers {
		if m.IsTime() {
			return m
		}
	}
	return 0
}

// TimeModifier returns the time modifier of f (minute...year), or 0.
func (f *FieldMatch) TimeModifier() Modifier { return timeMod(f) }
