package pipeline

// Value transformations: replace_string, map_string, case and set_value,
// with pySigma's names and parameters.
//
// Where in the modifier chain they apply. pySigma applies a rule's
// modifiers when it parses the rule, so its transformations see a value
// after them: "Image|endswith: '\cmd.exe'" is the string "*\cmd.exe". Here
// values are kept as written and the modifiers are applied by package
// compile, so a transformation is given the value as pySigma holds it:
//
//   - contains, startswith and endswith: the value with the wildcards they
//     add, in Sigma syntax ("*\cmd.exe"), so a regex or a map_string key is
//     written as for pySigma. When every transformed value still has those
//     wildcards they are taken off again and the modifier kept; otherwise
//     the wildcards are written into all the values of the field match and
//     the modifier dropped, which compiles to the same patterns.
//   - windash, base64, base64offset, utf16le, utf16be, utf16 and wide:
//     replace_string, map_string and case leave the field match alone.
//     pySigma holds a windash or base64offset value as an expansion, which
//     its string transformations skip; base64 and utf16 values would be
//     rewritten in their encoded form there, which no pipeline means to do.
//   - set_value replaces the values after all modifiers, as pySigma does, so
//     it drops the value modifiers (contains... windash, the encodings) and
//     leaves an exact match of the new value (cased, all and neq stay).
//
// Never touched: field matches with re, cidr, fieldref, exists, lt/lte/gt/
// gte or a time modifier, and, except by set_value, values that are
// numbers, booleans or null. Keywords (no field) only by a transformation
// without field_name_conditions.

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"webshellbeat/detection/sigma"
)

func (t *Transformation) isValue() bool {
	switch t.Type {
	case TypeReplaceString, TypeMapString, TypeCase, TypeSetValue:
		return true
	}
	return false
}

// validateValues checks the parameters of a value transformation and
// prepares them (compiled regex, Go replacement, canonical map keys).
func (t *Transformation) validateValues() error {
	switch t.Type {
	case TypeReplaceString:
		if t.Regex == "" {
			return fmt.Errorf("regex is empty")
		}
		re, err := regexp.Compile(t.Regex)
		if err != nil {
			return fmt.Errorf("bad regex %q: %v", t.Regex, err)
		}
		t.re = re
		if t.repl, err = goReplacement(t.Replacement, re); err != nil {
			return err
		}
	case TypeMapString:
		if len(t.Mapping) == 0 {
			return fmt.Errorf("mapping is empty")
		}
		t.strMap = make(map[string][]string, len(t.Mapping))
		keys := make([]string, 0, len(t.Mapping))
		for k := range t.Mapping {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			v := t.Mapping[k]
			if len(v) == 0 {
				return fmt.Errorf("value %q maps to nothing", k)
			}
			ck := render(sigma.ParsePattern(k))
			if _, dup := t.strMap[ck]; dup {
				return fmt.Errorf("value %q is mapped twice (Sigma escapes make keys equal)", k)
			}
			t.strMap[ck] = v
		}
	case TypeCase:
		switch t.Method {
		case "":
			t.Method = "lower"
		case "lower", "upper", "snake_case":
		default:
			return fmt.Errorf("method must be lower, upper or snake_case, not %q", t.Method)
		}
	case TypeSetValue:
		v, err := scalarValue(&t.Value)
		if err != nil {
			return err
		}
		t.value = v
	}
	return nil
}

// goReplacement turns a replacement in Python's re.sub syntax into
// regexp.Expand syntax: \1 (up to two digits) and \g<name> or \g<1> become
// ${1} and ${name}, \\ a backslash, \n \t \r the control characters, and $
// is literal. Other escapes of letters are errors, as in Python; a
// backslash before anything else is kept. Groups the regex lacks are
// errors too (Go would silently insert nothing).
func goReplacement(s string, re *regexp.Regexp) (string, error) {
	group := func(ref string) (string, error) {
		n := 0
		for _, c := range ref {
			if c < '0' || c > '9' {
				n = -1
				break
			}
			n = n*10 + int(c-'0')
		}
		switch {
		case n < 0 && re.SubexpIndex(ref) < 0:
			return "", fmt.Errorf("replacement %q: no group named %q in regex", s, ref)
		case n > re.NumSubexp():
			return "", fmt.Errorf("replacement %q: no group %d in regex (it has %d)", s, n, re.NumSubexp())
		}
		return "${" + ref + "}", nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '$' {
			b.WriteString("$$")
			continue
		}
		if c != '\\' || i+1 == len(s) {
			b.WriteByte(c)
			continue
		}
		n := s[i+1]
		switch {
		case n == '0':
			return "", fmt.Errorf(`replacement %q: \0 is not a group (use \g<0> for the whole match)`, s)
		case n >= '1' && n <= '9':
			j := i + 2
			if j < len(s) && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			g, err := group(s[i+1 : j])
			if err != nil {
				return "", err
			}
			b.WriteString(g)
			i = j - 1
		case n == 'g':
			end := strings.IndexByte(s[i+2:], '>')
			if i+2 >= len(s) || s[i+2] != '<' || end < 2 {
				return "", fmt.Errorf(`replacement %q: \g must be followed by <name> or <number>`, s)
			}
			g, err := group(s[i+3 : i+2+end])
			if err != nil {
				return "", err
			}
			b.WriteString(g)
			i += 2 + end
		case n == '\\':
			b.WriteByte('\\')
			i++
		case n == 'n' || n == 't' || n == 'r':
			b.WriteByte(map[byte]byte{'n': '\n', 't': '\t', 'r': '\r'}[n])
			i++
		case n >= 'a' && n <= 'z' || n >= 'A' && n <= 'Z':
			return "", fmt.Errorf(`replacement %q: bad escape \%c`, s, n)
		default:
			b.WriteByte('\\')
		}
	}
	return b.String(), nil
}

// scalarValue reads set_value's value with the YAML types a rule's values
// have.
func scalarValue(n *yaml.Node) (sigma.Value, error) {
	if n.Kind == 0 {
		return sigma.Value{}, fmt.Errorf("value is missing")
	}
	if n.Kind != yaml.ScalarNode {
		return sigma.Value{}, fmt.Errorf("value must be a string, a number, a boolean or null")
	}
	v := sigma.Value{Kind: sigma.ValueString, Str: n.Value}
	switch n.Tag {
	case "!!null":
		v.Kind = sigma.ValueNull
	case "!!int", "!!float":
		v.Kind = sigma.ValueNumber
	case "!!bool":
		v.Kind = sigma.ValueBool
		v.Str = fmt.Sprint(strings.EqualFold(n.Value, "true") || strings.EqualFold(n.Value, "yes") || strings.EqualFold(n.Value, "on"))
	}
	return v, nil
}

// selectsField reports whether the field-name conditions select name.
func (t *Transformation) selectsField(name string) bool {
	if len(t.FieldConditions) == 0 {
		return true
	}
	any := t.FieldCondOp == "or"
	ok := !any
	for i := range t.FieldConditions {
		m := t.FieldConditions[i].matches(name)
		if any && m {
			ok = true
			break
		}
		if !any && !m {
			ok = false
			break
		}
	}
	return ok != t.FieldCondNot
}

func (c *FieldNameCondition) matches(name string) bool {
	in := false
	if c.res != nil {
		for _, re := range c.res {
			in = in || re.MatchString(name)
		}
	} else {
		in = slices.Contains(c.Fields, name)
	}
	return in != (c.Type == "exclude_fields")
}

// transformValues applies the value transformation t to f when its
// field-name conditions select f (see the top of this file).
func (t *Transformation) transformValues(f *sigma.FieldMatch) {
	if f.Field == "" && len(t.FieldConditions) > 0 || f.Field != "" && !t.selectsField(f.Field) {
		return
	}
	for _, m := range f.Modifiers {
		switch {
		case m == sigma.ModRe, m == sigma.ModCIDR, m == sigma.ModFieldRef, m == sigma.ModExists,
			m == sigma.ModExpand, m.IsCompare(), m.IsTime():
			return
		}
	}
	if t.Type == TypeSetValue {
		t.setValue(f)
		return
	}
	for _, m := range f.Modifiers {
		if m == sigma.ModWindash || m.IsEncoding() {
			return
		}
	}
	if t.KeepOriginal && (f.Has(sigma.ModAll) || f.Has(sigma.ModNeq)) {
		return // a value and its alternative would be ANDed (all) or both refused (neq)
	}
	t.transformStrings(f)
}

func (t *Transformation) setValue(f *sigma.FieldMatch) {
	v := t.value
	if len(f.Values) > 0 {
		v.Pos = f.Values[0].Pos
	}
	f.Values = []sigma.Value{v}
	f.Modifiers = slices.DeleteFunc(slices.Clone(f.Modifiers), func(m sigma.Modifier) bool {
		return isPlacement(m) || m == sigma.ModWindash || m.IsEncoding()
	})
}

func isPlacement(m sigma.Modifier) bool {
	return m == sigma.ModContains || m == sigma.ModStartsWith || m == sigma.ModEndsWith
}

// transformStrings runs replace_string, map_string or case over the string
// values of f, each seen with the wildcards of contains, startswith or
// endswith; with keep_original, a changed value stays, followed by what it
// became.
func (t *Transformation) transformStrings(f *sigma.FieldMatch) {
	before := f.Has(sigma.ModContains) || f.Has(sigma.ModEndsWith)
	after := f.Has(sigma.ModContains) || f.Has(sigma.ModStartsWith)
	out := make([][]sigma.Pattern, len(f.Values)) // as transformed, with the wildcards; nil: unchanged
	changed, keep := false, true
	for i, v := range f.Values {
		if v.Kind != sigma.ValueString {
			continue
		}
		if out[i] = t.transformString(sigma.ParsePattern(v.Str).Wrap(before, after)); out[i] == nil {
			continue
		}
		changed = true
		for _, p := range out[i] {
			if _, ok := unwrap(p, before, after); !ok {
				keep = false
			}
		}
	}
	if !changed {
		return
	}
	vals := make([]sigma.Value, 0, len(f.Values))
	for i, v := range f.Values {
		switch {
		case out[i] != nil && !t.KeepOriginal:
		case keep || v.Kind == sigma.ValueNull:
			vals = append(vals, v)
		default: // the modifier goes: its wildcards go into the value
			vals = append(vals, sigma.Value{Kind: sigma.ValueString, Str: render(valuePattern(v).Wrap(before, after)), Pos: v.Pos})
		}
		for _, p := range out[i] {
			if keep {
				p, _ = unwrap(p, before, after)
			}
			vals = append(vals, sigma.Value{Kind: sigma.ValueString, Str: render(p), Pos: v.Pos})
		}
	}
	f.Values = vals
	if !keep {
		f.Modifiers = slices.DeleteFunc(slices.Clone(f.Modifiers), isPlacement)
	}
}

// transformString returns what t makes of the value p (nil when t leaves
// it as it is).
func (t *Transformation) transformString(p sigma.Pattern) []sigma.Pattern {
	switch t.Type {
	case TypeReplaceString:
		if t.SkipSpecial {
			return mapLits(p, func(s string) string { return t.re.ReplaceAllString(s, t.repl) })
		}
		s := render(p)
		r := t.re.ReplaceAllString(s, t.repl)
		if r == s {
			return nil
		}
		return []sigma.Pattern{sigma.ParsePattern(r)}
	case TypeMapString:
		to, ok := t.strMap[render(p)]
		if !ok {
			return nil
		}
		out := make([]sigma.Pattern, len(to))
		for i, s := range to {
			out[i] = sigma.ParsePattern(s)
		}
		return out
	case TypeCase:
		switch t.Method {
		case "upper":
			return mapLits(p, strings.ToUpper)
		case "snake_case":
			return mapLits(p, snakeCase)
		default:
			return mapLits(p, strings.ToLower)
		}
	}
	return nil
}

// mapLits applies fn to the literal parts of p, leaving wildcards alone; nil
// when nothing changes.
func mapLits(p sigma.Pattern, fn func(string) string) []sigma.Pattern {
	out := make(sigma.Pattern, len(p))
	changed := false
	for i, x := range p {
		if x.Kind == sigma.PieceLit {
			x.Lit = fn(x.Lit)
			changed = changed || x.Lit != p[i].Lit
		}
		out[i] = x
	}
	if !changed {
		return nil
	}
	return []sigma.Pattern{out}
}

// snakeCase is pySigma's snake_case: "_" before each ASCII capital but the
// first character, then lowercase.
func snakeCase(s string) string {
	var b strings.Builder
	for i, r := range s {
		if i > 0 && r >= 'A' && r <= 'Z' {
			b.WriteByte('_')
		}
		b.WriteRune(r)
	}
	return strings.ToLower(b.String())
}

// valuePattern reads a value as package compile does: numbers and booleans
// are plain text.
func valuePattern(v sigma.Value) sigma.Pattern {
	if v.Kind != sigma.ValueString {
		return sigma.Pattern{{Kind: sigma.PieceLit, Lit: v.Str}}
	}
	return sigma.ParsePattern(v.Str)
}

// unwrap takes off the wildcards Pattern.Wrap adds; false when they are not there.
func unwrap(p sigma.Pattern, before, after bool) (sigma.Pattern, bool) {
	q := p
	if before {
		if len(q) == 0 || q[0].Kind != sigma.PieceStar {
			return p, false
		}
		q = q[1:]
	}
	if after {
		if len(q) == 0 || q[len(q)-1].Kind != sigma.PieceStar {
			return p, false
		}
		q = q[:len(q)-1]
	}
	return q, true
}

// render writes p in Sigma syntax, the text replace_string's regex and
// map_string's keys are matched against: wildcards as * and ?, a literal *
// or ? escaped as \* and \?, and a backslash escaped (doubled) only where
// Sigma would otherwise read it as an escape, that is before *, ? or
// another backslash. So C:\Windows\ stays C:\Windows\ on its own, and is
// C:\Windows\\* with startswith. sigma.ParsePattern(render(p)) is p.
func render(p sigma.Pattern) string {
	var b strings.Builder
	var lits []sigma.Piece // adjacent literals merged, empty ones dropped
	for _, x := range p {
		switch {
		case x.Kind != sigma.PieceLit:
			lits = append(lits, x)
		case x.Lit == "":
		case len(lits) > 0 && lits[len(lits)-1].Kind == sigma.PieceLit:
			lits[len(lits)-1].Lit += x.Lit
		default:
			lits = append(lits, x)
		}
	}
	for i, x := range lits {
		switch x.Kind {
		case sigma.PieceStar:
			b.WriteByte('*')
		case sigma.PieceOne:
			b.WriteByte('?')
		default:
			for j := 0; j < len(x.Lit); j++ {
				c := x.Lit[j]
				next := byte(0)
				if j+1 < len(x.Lit) {
					next = x.Lit[j+1]
				} else if i+1 < len(lits) {
					next = '*' // a wildcard follows
				}
				if c == '*' || c == '?' || c == '\\' && (next == '*' || next == '?' || next == '\\') {
					b.WriteByte('\\')
				}
				b.WriteByte(c)
			}
		}
	}
	return b.String()
}
