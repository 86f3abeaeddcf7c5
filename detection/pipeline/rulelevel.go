package pipeline

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"webshellbeat/detection/sigma"
)

// Rule-level transformations (pySigma's names and parameters): they change
// the rule as a whole rather than renaming a field or rewriting a value.
const (
	// TypeFieldNamePrefixMapping replaces a field name's prefix found in
	// Mapping (the first that matches, longest first) by its target(s).
	TypeFieldNamePrefixMapping = "field_name_prefix_mapping"
	// TypeDropDetectionItem removes the field matches its
	// field_name_conditions select.
	TypeDropDetectionItem = "drop_detection_item"
	// TypeAddCondition ANDs a new search (Conditions: field -> value(s)) to
	// every condition of the rule, or its negation with Negated.
	TypeAddCondition = "add_condition"
	// TypeChangeLogsource replaces the rule's logsource, which routes it
	// and which later transformations' rule conditions see.
	TypeChangeLogsource = "change_logsource"
	// TypeRuleFailure rejects the rules its rule conditions select, with
	// Message.
	TypeRuleFailure = "rule_failure"
	// TypeDetectionItemFailure rejects the rules that have a field match its
	// field_name_conditions select, with Message.
	TypeDetectionItemFailure = "detection_item_failure"
)

// isRuleLevel says t changes the rule as a whole (see applyRule).
func (t *Transformation) isRuleLevel() bool {
	switch t.Type {
	case TypeDropDetectionItem, TypeAddCondition, TypeChangeLogsource, TypeRuleFailure, TypeDetectionItemFailure,
		TypeValuePlaceholders, TypeWildcardPlaceholders: // the placeholders ones are used before Apply (Placeholders)
		return true
	}
	return false
}

// validateRuleLevel checks the parameters of a rule-level transformation
// and prepares add_condition's values.
func (t *Transformation) validateRuleLevel() error {
	switch t.Type {
	case TypeDropDetectionItem:
		if len(t.FieldConditions) == 0 {
			return fmt.Errorf("drop_detection_item needs field_name_conditions: without them it would drop every field of every rule")
		}
	case TypeAddCondition:
		if len(t.AddConditions) == 0 {
			return fmt.Errorf("conditions is empty")
		}
		if t.AddName != "" && !strings.HasPrefix(t.AddName, "_") {
			return fmt.Errorf("name %q must start with \"_\", so that \"them\" in the rule's conditions does not take it in", t.AddName)
		}
		for _, field := range slices.Sorted(maps.Keys(t.AddConditions)) {
			vals, err := conditionValues(t.AddConditions[field])
			if err != nil {
				return fmt.Errorf("conditions: %s: %v", field, err)
			}
			t.added = append(t.added, addedMatch{field: field, values: vals})
		}
	case TypeChangeLogsource:
		if t.Product == "" && t.Category == "" && t.Service == "" {
			return fmt.Errorf("change_logsource needs a product, category or service")
		}
	case TypeRuleFailure, TypeDetectionItemFailure:
		if t.Message == "" {
			return fmt.Errorf("message is empty")
		}
	}
	return nil
}

// addedMatch is one field of add_condition, with its values parsed.
type addedMatch struct {
	field  string
	values []sigma.Value
}

// conditionValues reads the value or list of values of one field of
// add_condition: strings are Sigma strings (wildcards and all), as in a
// rule, and numbers, booleans and null keep their kind (scalarValue).
func conditionValues(n yaml.Node) ([]sigma.Value, error) {
	nodes := []*yaml.Node{&n}
	if n.Kind == yaml.SequenceNode {
		nodes = n.Content
	}
	if len(nodes) == 0 {
		return nil, fmt.Errorf("no value")
	}
	var out []sigma.Value
	for _, v := range nodes {
		sv, err := scalarValue(v)
		if err != nil {
			return nil, fmt.Errorf("line %d: %v", v.Line, err)
		}
		out = append(out, sv)
	}
	return out, nil
}

// applyRule runs a rule-level transformation over out (a copy Apply owns).
// fs is the list of out's field matches that Apply transforms, to which an
// added condition's matches are appended; seq numbers add_condition's
// searches when they have no name.
func (t *Transformation) applyRule(out *sigma.Rule, fs *[]*sigma.FieldMatch, renamed *[]bool, seq int) error {
	switch t.Type {
	case TypeRuleFailure:
		return fmt.Errorf("%s", t.Message)
	case TypeDetectionItemFailure:
		for _, f := range *fs {
			if f.Field != "" && t.selectsField(f.Field) {
				return fmt.Errorf("%s: %s", f.Field, t.Message)
			}
		}
	case TypeChangeLogsource:
		out.Logsource = t.logsource()
	case TypeDropDetectionItem:
		return t.drop(out, fs, renamed)
	case TypeAddCondition:
		t.addCondition(out, fs, renamed, seq)
	}
	return nil
}

// logsource is the logsource change_logsource sets: all three parts, the
// ones not given empty (as pySigma replaces the whole logsource), lowered as
// the parser lowers a rule's.
func (t *Transformation) logsource() sigma.Logsource {
	return sigma.Logsource{Product: strings.ToLower(t.Product), Category: strings.ToLower(t.Category), Service: strings.ToLower(t.Service)}
}

// drop removes the selected field matches. An alternative of a search (one
// map of a list of maps) left empty is removed, as pySigma leaves it out of
// the search's OR: SigmaHQ's "- Image|endswith: '\wmic.exe'
// - OriginalFileName: 'wmic.exe'" keeps its Image. A search left with no
// alternative would match every event (pySigma drops it from the
// condition, so "selection and not filter" becomes "not filter"), so that
// rejects the rule instead.
func (t *Transformation) drop(out *sigma.Rule, fs *[]*sigma.FieldMatch, renamed *[]bool) error {
	gone := func(f *sigma.FieldMatch) bool { return f.Field != "" && t.selectsField(f.Field) }
	for _, name := range out.Detection.Names {
		s := out.Detection.Searches[name]
		var alts [][]*sigma.FieldMatch
		for _, alt := range s.Alternatives {
			if kept := slices.DeleteFunc(slices.Clone(alt), gone); len(kept) > 0 || len(alt) == 0 {
				alts = append(alts, kept)
			}
		}
		if len(alts) == 0 && len(s.Alternatives) > 0 {
			return fmt.Errorf("drop_detection_item leaves search %q with nothing to match, which would match every event", name)
		}
		s.Alternatives = alts
	}
	keep := (*fs)[:0]
	keptRenamed := (*renamed)[:0]
	for i, f := range *fs {
		if !gone(f) {
			keep = append(keep, f)
			keptRenamed = append(keptRenamed, (*renamed)[i])
		}
	}
	*fs, *renamed = keep, keptRenamed
	return nil
}

// addCondition adds the search and ANDs it (or its negation) to every
// condition. Its fields are then renamed and its values transformed by the
// transformations that follow, as pySigma does.
func (t *Transformation) addCondition(out *sigma.Rule, fs *[]*sigma.FieldMatch, renamed *[]bool, seq int) {
	name := t.AddName
	if name == "" {
		name = fmt.Sprintf("_cond_%d", seq)
	}
	for out.Detection.Searches[name] != nil {
		name += "_"
	}
	var alt []*sigma.FieldMatch
	for _, a := range t.added {
		f := &sigma.FieldMatch{Field: a.field, Values: slices.Clone(a.values)}
		if t.Template {
			for i, v := range f.Values {
				f.Values[i].Str = templateValue(v.Str, out.Logsource)
			}
		}
		alt = append(alt, f)
		*fs = append(*fs, f)
		*renamed = append(*renamed, false)
	}
	out.Detection.Searches[name] = &sigma.Search{Name: name, Alternatives: [][]*sigma.FieldMatch{alt}}
	out.Detection.Names = append(out.Detection.Names, name)
	conds := make([]*sigma.Condition, len(out.Detection.Conditions))
	for i, c := range out.Detection.Conditions {
		var added sigma.CondNode = &sigma.CondIdent{Name: name}
		if t.Negated {
			added = &sigma.CondNot{X: added}
		}
		nc := *c
		nc.Expr = &sigma.CondAnd{Terms: []sigma.CondNode{added, c.Expr}}
		nc.Source = condSource(t.Negated, name, c.Source)
		conds[i] = &nc
	}
	out.Detection.Conditions = conds
}

// condSource is the condition as pySigma writes it: "[not ]name and (cond)".
func condSource(negated bool, name, cond string) string {
	s := name + " and (" + cond + ")"
	if negated {
		return "not " + s
	}
	return s
}

// templateValue replaces $category, $product and $service (or ${...}) by
// the rule's logsource, as pySigma's template: true does.
func templateValue(s string, ls sigma.Logsource) string {
	return strings.NewReplacer(
		"${category}", ls.Category, "${product}", ls.Product, "${service}", ls.Service,
		"$category", ls.Category, "$product", ls.Product, "$service", ls.Service,
	).Replace(s)
}
