package pipeline

import (
	"slices"

	"webshellbeat/detection/sigma"
)

// Placeholders returns the values that the pipelines' value_placeholders
// and wildcard_placeholders transformations give the placeholders of r's
// expand values: for each name, the first transformation, in pipeline
// order, that applies to r's logsource (as written) and takes the name.
// value_placeholders gives the list of the same name in its pipeline's
// vars (a name it takes but vars lacks is left to the next), and
// wildcard_placeholders a "*". The engine expands r with these before
// Apply, and the configuration's placeholders take precedence.
func Placeholders(r *sigma.Rule, ps ...*Pipeline) map[string][]string {
	if !r.HasExpand() {
		return nil
	}
	out := map[string][]string{}
	for _, name := range expandNames(r) {
		if v, ok := placeholder(r.Logsource, name, ps); ok {
			out[name] = v
		}
	}
	return out
}

func placeholder(ls sigma.Logsource, name string, ps []*Pipeline) ([]string, bool) {
	for _, p := range ps {
		for i := range p.Transformations {
			t := &p.Transformations[i]
			if !t.takesPlaceholder(name) || !t.applies(ls) {
				continue
			}
			if t.Type == TypeWildcardPlaceholders {
				return []string{"*"}, true
			}
			if v, ok := p.Vars[name]; ok {
				return v, true
			}
		}
	}
	return nil, false
}

func (t *Transformation) takesPlaceholder(name string) bool {
	if t.Type != TypeValuePlaceholders && t.Type != TypeWildcardPlaceholders {
		return false
	}
	return (len(t.Include) == 0 || slices.Contains(t.Include, name)) && !slices.Contains(t.Exclude, name)
}

// expandNames are the placeholder names of r's expand values.
func expandNames(r *sigma.Rule) []string {
	var out []string
	for _, s := range r.Detection.Searches {
		for _, alt := range s.Alternatives {
			for _, f := range alt {
				if !f.Has(sigma.ModExpand) {
					continue
				}
				for _, v := range f.Values {
					out = append(out, sigma.Placeholders(v.Str)...)
				}
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
