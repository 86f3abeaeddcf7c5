package pipeline

import (
	"fmt"
	"slices"
	"strings"

	"webshellbeat/detection/sigma"
)

// SelectionCondition selects a field match by its siblings: the other field
// matches of the same selection map (one alternative of a search), as the
// rule wrote them, before any transformation. It holds when the selection
// matches Field, without modifiers, and every value written there is one of
// Values (case-insensitive, as Sigma compares). pySigma has no such
// condition; webshellbeat needs it because SigmaHQ's auditd rules name the
// record a selection reads with a sibling: a0 is the program's first
// argument beside type: EXECVE, and the syscall's first argument beside
// type: SYSCALL.
type SelectionCondition struct {
	Field  string  `yaml:"field"`
	Values Targets `yaml:"values"`
}

func (c SelectionCondition) validate() error {
	if c.Field == "" || len(c.Values) == 0 {
		return fmt.Errorf("selection condition needs a field and values")
	}
	return nil
}

// selection is what selection conditions read of one selection map: the
// values of its plain field matches, lowered, by field name.
type selection map[string][]string

// selections maps each field match of d to its selection, as written. A
// selection that does not name a field takes it from the rule when every
// selection that names it gives the same values: in a rule whose
// selections read type: PATH, its filter (name|contains: '/.cache/')
// reads the PATH record too, as a tool that matches one record at a time
// reads it; so do its keyword searches.
func selections(d *sigma.Detection) map[*sigma.FieldMatch]selection {
	sels, alts := written(d)
	for field, vals := range ruleWide(sels) {
		for _, sel := range sels {
			if _, ok := sel[field]; !ok {
				sel[field] = vals
			}
		}
	}
	out := map[*sigma.FieldMatch]selection{}
	for i, alt := range alts {
		for _, f := range alt {
			out[f] = sels[i]
		}
	}
	return out
}

// written returns the selection maps of d as written, with the field
// matches of each.
func written(d *sigma.Detection) (sels []selection, alts [][]*sigma.FieldMatch) {
	for _, name := range d.Names {
		for _, alt := range d.Searches[name].Alternatives {
			sel := selection{}
			for _, f := range alt {
				if f.Field == "" || len(f.Modifiers) > 0 {
					continue
				}
				var vals []string
				for _, v := range f.Values {
					vals = append(vals, strings.ToLower(v.Str))
				}
				slices.Sort(vals)
				sel[f.Field] = vals
			}
			sels, alts = append(sels, sel), append(alts, alt)
		}
	}
	return sels, alts
}

// ruleSelection is what a field read outside the selections of rule d (a
// correlation's group-by) takes from them: the fields that all of them
// that name one give the same values (see selections).
func ruleSelection(d *sigma.Detection) selection {
	sels, _ := written(d)
	return ruleWide(sels)
}

// ruleWide returns the fields that every selection naming them names with
// the same values.
func ruleWide(sels []selection) selection {
	out, mixed := selection{}, map[string]bool{}
	for _, sel := range sels {
		for field, vals := range sel {
			if prev, ok := out[field]; ok && !slices.Equal(prev, vals) {
				mixed[field] = true
			}
			out[field] = vals
		}
	}
	for field := range mixed {
		delete(out, field)
	}
	return out
}

// selectsSelection reports whether the selection of a field match satisfies
// all of t's selection conditions (true when it has none).
func (t *Transformation) selectsSelection(sel selection) bool {
	for _, c := range t.SelectionConditions {
		vals, ok := sel[c.Field]
		if !ok || len(vals) == 0 {
			return false
		}
		for _, v := range vals {
			if !slices.ContainsFunc(c.Values, func(w string) bool { return strings.EqualFold(v, w) }) {
				return false
			}
		}
	}
	return true
}
