package pipeline

import (
	"fmt"
	"strings"

	"webshellbeat/detection/sigma"
)

// Apply returns a copy of r with its fields renamed and its values
// transformed by the pipelines, in the order given (see Sort). r itself is
// not modified; metadata is shared. It fails when a rule_failure or
// detection_item_failure transformation selects the rule, or when
// drop_detection_item would leave a search with nothing to match.
//
// Each transformation runs over every field match before the next one
// does, so a value transformation's field_name_conditions see the names as
// the transformations before it left them: a user pipeline (priority 10)
// sees Sigma names (Image), one above the built-ins (100) sees ECS names
// (process.executable). Rule conditions see the logsource as the
// change_logsource transformations before them left it. Within a pipeline,
// a field renamed once is final: its later renaming transformations skip
// it, so the catch-all prefix must not turn a mapped name without a dot
// ("tags") into auditd.data.tags. The next pipeline takes the new name,
// as pySigma chains its pipelines: a user pipeline that maps a site's
// name to a Sigma one (Program: Image) hands Image to the built-ins, which
// map it to ECS.
func Apply(r *sigma.Rule, ps ...*Pipeline) (*sigma.Rule, error) {
	out := *r
	out.Detection = r.Detection.Clone()
	var fs []*sigma.FieldMatch
	for _, name := range out.Detection.Names {
		for _, alt := range out.Detection.Searches[name].Alternatives {
			fs = append(fs, alt...)
		}
	}
	renamed := make([]bool, len(fs))
	sels := selections(&out.Detection) // as written, for selection conditions
	added := 0
	for _, p := range ps {
		clear(renamed)
		for i := range p.Transformations {
			t := &p.Transformations[i]
			if !t.applies(out.Logsource) {
				continue
			}
			if t.isRuleLevel() {
				if t.Type == TypeAddCondition {
					added++
				}
				if err := t.applyRule(&out, &fs, &renamed, added); err != nil {
					return nil, fmt.Errorf("pipeline %s, transformation %d%s: %w", p.Name, i+1, idSuffix(t.ID), err)
				}
				continue
			}
			for j, f := range fs {
				switch {
				case !t.selectsSelection(sels[f]):
				case t.isValue():
					t.transformValues(f)
				case !renamed[j]:
					renamed[j] = t.rename(f)
				}
			}
		}
	}
	return &out, nil
}

func idSuffix(id string) string {
	if id == "" {
		return ""
	}
	return " (" + id + ")"
}

// renameField runs f through the renaming transformations that apply to
// ls and to a field of selection sel, in order: in each pipeline, until one
// renames it, and the next pipeline takes the new name (see Apply);
// change_logsource transformations change ls on the way, as in Apply.
func renameField(f *sigma.FieldMatch, ls sigma.Logsource, sel selection, ps []*Pipeline) {
	for _, p := range ps {
		for i := range p.Transformations {
			t := &p.Transformations[i]
			if !t.applies(ls) {
				continue
			}
			if t.Type == TypeChangeLogsource {
				ls = t.logsource()
			}
			if !t.isValue() && !t.isRuleLevel() && t.selectsSelection(sel) && t.rename(f) {
				break
			}
		}
	}
}

// ApplyCorrelation returns a copy of the correlation rule r with
// Correlation.Reads set: for each rule it names, the event fields that its
// group-by (aliases resolved for that rule) and condition field read in
// that rule's events, renamed by the pipelines as that rule's own fields
// are. A correlation has no logsource of its own, so one name may map
// differently per rule (User is winlog.event_data.User for Sysmon rules and
// user.name for Linux ones). lookup finds a rule by id or name
// (Collection.Lookup). A named correlation (chaining), or a rule lookup
// does not find, keeps the names as written: the events of a chained
// correlation carry its group-by names. r itself is not modified.
func ApplyCorrelation(r *sigma.Rule, lookup func(ref string) *sigma.Rule, ps ...*Pipeline) *sigma.Rule {
	cs := *r.Correlation
	cs.Reads = make([]sigma.CorrReads, len(cs.Rules))
	for i, ref := range cs.Rules {
		rd := cs.WrittenReads(i)
		if base := lookup(ref); base != nil && base.Kind == sigma.KindDetection {
			rd = mapReads(rd, base.Logsource, ruleSelection(&base.Detection), ps)
		}
		cs.Reads[i] = rd
	}
	out := *r
	out.Correlation = &cs
	return &out
}

// mapReads renames the written fields of rd as the pipelines rename the
// fields of a rule of logsource ls, read beside selection sel (the base
// rule's: a group-by a0 of a rule about EXECVE records is an argument).
func mapReads(rd sigma.CorrReads, ls sigma.Logsource, sel selection, ps []*Pipeline) sigma.CorrReads {
	name := func(written []string) []string {
		f := &sigma.FieldMatch{Field: written[0]}
		renameField(f, ls, sel, ps)
		// A value is read from one field: fields a match may be tried on
		// (Also) are fallbacks here.
		return append(append([]string{f.Field}, f.Fallbacks...), f.Also...)
	}
	for j, g := range rd.GroupBy {
		rd.GroupBy[j] = name(g)
	}
	if rd.Field != nil {
		rd.Field = name(rd.Field)
	}
	return rd
}

func (t *Transformation) applies(ls sigma.Logsource) bool {
	if len(t.Conditions) == 0 {
		return true
	}
	any := t.CondOp == "or"
	for _, c := range t.Conditions {
		ok := c.matches(ls)
		if any && ok {
			return true
		}
		if !any && !ok {
			return false
		}
	}
	return !any
}

func (c RuleCondition) matches(ls sigma.Logsource) bool {
	eq := func(want, got string) bool { return want == "" || strings.EqualFold(want, got) }
	return eq(c.Product, ls.Product) && eq(c.Category, ls.Category) && eq(c.Service, ls.Service)
}

// rename maps the field of f, and the field named by a fieldref value, since
// that value is a field name too, when the field-name conditions select
// the name. It reports whether the field was renamed.
func (t *Transformation) rename(f *sigma.FieldMatch) bool {
	if t.Type == TypeKeywordsToField {
		if f.Field != "" {
			return false
		}
		f.Values = sigma.KeywordValues(f)
		f.Field = t.Field
		return true
	}
	if f.Field == "" { // keywords have no field
		return false
	}
	to, fb, renamed := t.mapName(f.Field)
	renamed = renamed && t.selectsField(f.Field)
	switch {
	case renamed && t.MatchAny:
		f.Field, f.Also = to, append(fb, f.Also...)
	case renamed:
		f.Field, f.Fallbacks = to, append(fb, f.Fallbacks...)
	}
	if !f.Has(sigma.ModFieldRef) {
		return renamed
	}
	for i, v := range f.Values {
		if to, _, ok := t.mapName(v.Str); ok && t.selectsField(v.Str) {
			f.Values[i].Str = to
		}
	}
	return renamed
}

func (t *Transformation) mapName(name string) (string, []string, bool) {
	switch t.Type {
	case TypeFieldNameMapping:
		if to, ok := t.Mapping[name]; ok {
			return to[0], append([]string(nil), to[1:]...), true
		}
	case TypeFieldNamePrefixMapping:
		if from, ok := t.longestPrefix(name); ok {
			to := t.Mapping[from]
			out := make([]string, len(to))
			for i, p := range to {
				out[i] = p + name[len(from):]
			}
			return out[0], out[1:], true
		}
	case TypeFieldNamePrefix:
		if strings.Contains(name, ".") || ecsDotless[name] { // already an ECS name
			return "", nil, false
		}
		if t.Lowercase {
			name = strings.ToLower(name)
		}
		return t.Prefix + name, nil, true
	}
	return "", nil, false
}

// ecsDotless are the ECS fields whose names have no dot, which the
// catch-all prefix leaves alone as it does dotted names: a user pipeline
// may map a site's name to one of them.
var ecsDotless = map[string]bool{"@timestamp": true, "message": true, "tags": true, "labels": true}

// longestPrefix finds the longest prefix of name in the prefix mapping: a
// Go map has no order, and the longest is the most specific (pySigma takes
// the first in file order).
func (t *Transformation) longestPrefix(name string) (string, bool) {
	best, ok := "", false
	for from := range t.Mapping {
		if strings.HasPrefix(name, from) && len(from) > len(best) {
			best, ok = from, true
		}
	}
	return best, ok
}
