package sigma

import "slices"

// FiltersFor returns the filter rules that apply to r, in load order: a
// filter applies to the rules it names by id or name, or, when it names
// none, to every rule of its logsource. When a filter has a logsource, the
// rule's must agree with it on each field the filter sets, as in pySigma.
func FiltersFor(r *Rule, filters []*Rule) []*Rule {
	var out []*Rule
	for _, f := range filters {
		if f.Filter == nil || !f.Logsource.covers(r.Logsource) {
			continue
		}
		named := len(f.Filter.Rules) == 0 ||
			r.ID != "" && slices.Contains(f.Filter.Rules, r.ID) ||
			r.Name != "" && slices.Contains(f.Filter.Rules, r.Name)
		if named {
			out = append(out, f)
		}
	}
	return out
}

// covers reports whether every field set in l equals the one of r.
func (l Logsource) covers(r Logsource) bool {
	return (l.Product == "" || l.Product == r.Product) &&
		(l.Category == "" || l.Category == r.Category) &&
		(l.Service == "" || l.Service == r.Service)
}

// FilterRule returns a detection rule made of the filter's detection with
// the target rule's logsource (so that pipelines map its fields the way
// they map the target's), for compiling the filter's condition. The
// engine ANDs it with the target rule.
func FilterRule(f, target *Rule) *Rule {
	return &Rule{
		ID: f.ID, Title: f.Title, Name: f.Name,
		Logsource: target.Logsource,
		Detection: f.Filter.Detection,
		Kind:      KindDetection,
		Path:      f.Path, Pos: f.Pos,
	}
}
