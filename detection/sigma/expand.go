package sigma

import (
	"sort"
	"strings"
)

// MaxExpansions bounds the values one expand value may become (a value with
// several placeholders is the product of their lists).
const MaxExpansions = 4096

// Placeholders returns the names of the %name% placeholders of s, in order.
// A name is a non-empty run of letters, digits, "_", "-" and ".".
func Placeholders(s string) []string {
	var out []string
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			continue
		}
		j := i + 1
		for j < len(s) && isPlaceholderByte(s[j]) {
			j++
		}
		if j < len(s) && s[j] == '%' && j > i+1 {
			out = append(out, s[i+1:j])
			i = j
		}
	}
	return out
}

func isPlaceholderByte(c byte) bool {
	return c == '_' || c == '-' || c == '.' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// Clone returns a copy of d whose searches, field matches and value lists
// can be changed without touching d. Conditions are shared (immutable).
func (d Detection) Clone() Detection {
	out := d
	out.Names = append([]string(nil), d.Names...)
	out.Conditions = append([]*Condition(nil), d.Conditions...)
	out.Searches = make(map[string]*Search, len(d.Searches))
	for name, s := range d.Searches {
		ns := *s
		ns.Alternatives = make([][]*FieldMatch, len(s.Alternatives))
		for i, alt := range s.Alternatives {
			na := make([]*FieldMatch, len(alt))
			for j, f := range alt {
				nf := *f
				nf.Modifiers = append([]Modifier(nil), f.Modifiers...)
				nf.Values = append([]Value(nil), f.Values...)
				nf.Fallbacks = append([]string(nil), f.Fallbacks...)
				nf.Also = append([]string(nil), f.Also...)
				na[j] = &nf
			}
			ns.Alternatives[i] = na
		}
		out.Searches[name] = &ns
	}
	return out
}

// HasExpand reports whether any field match of r uses the expand modifier.
func (r *Rule) HasExpand() bool {
	for _, s := range r.Detection.Searches {
		for _, alt := range s.Alternatives {
			for _, f := range alt {
				if f.Has(ModExpand) {
					return true
				}
			}
		}
	}
	return false
}

// ExpandPlaceholders returns a copy of r in which each value of an expand
// field match is replaced by the values its placeholders have in values
// (several placeholders in one value give every combination), and expand is
// dropped from the modifiers. Placeholder values are Sigma strings, so "*"
// and "?" in them are wildcards, as in pySigma's placeholder lists. A
// placeholder missing from values rejects the rule: the errors are located
// at the value that uses it. A rule without expand is returned as is.
func ExpandPlaceholders(r *Rule, values map[string][]string) (*Rule, ErrorList) {
	if !r.HasExpand() {
		return r, nil
	}
	out := *r
	out.Detection = r.Detection.Clone()
	p := &ruleParser{src: &source{path: r.Path}}
	names := make([]string, 0, len(out.Detection.Searches))
	for name := range out.Detection.Searches {
		names = append(names, name)
	}
	sort.Strings(names) // stable error order
	for _, name := range names {
		for _, alt := range out.Detection.Searches[name].Alternatives {
			for _, f := range alt {
				if !f.Has(ModExpand) {
					continue
				}
				p.expandField(f, values)
			}
		}
	}
	if len(p.errs) > 0 {
		p.errs.Sort()
		return nil, p.errs
	}
	return &out, nil
}

func (p *ruleParser) expandField(f *FieldMatch, values map[string][]string) {
	var vals []Value
	for _, v := range f.Values {
		strs := []string{v.Str}
		for _, ph := range Placeholders(v.Str) {
			list, ok := values[ph]
			if !ok {
				p.errorf(v.Pos, CodePlaceholder, "field %q: placeholder %%%s%% has no values in the configuration (placeholders) or a pipeline (value_placeholders)", f.Field, ph)
				continue
			}
			var next []string
			for _, s := range strs {
				for _, x := range list {
					next = append(next, strings.Replace(s, "%"+ph+"%", x, 1))
				}
			}
			if len(next) > MaxExpansions {
				p.errorf(v.Pos, CodePlaceholder, "field %q: %q expands to more than %d values", f.Field, v.Str, MaxExpansions)
				return
			}
			strs = next
		}
		for _, s := range strs {
			vals = append(vals, Value{Kind: ValueString, Str: s, Pos: v.Pos})
		}
	}
	f.Values = vals
	f.Modifiers = slicesDelete(f.Modifiers, ModExpand)
	if len(vals) > 0 {
		p.validate(f, nil) // e.g. a placeholder value that is a bad regexp for re
	}
}

func slicesDelete(ms []Modifier, m Modifier) []Modifier {
	out := ms[:0]
	for _, x := range ms {
		if x != m {
			out = append(out, x)
		}
	}
	return out
}
