package sigma

import (
	"os"
	"slices"
	"testing"
)

// FuzzParseRule: the YAML rule parser must not panic or hang on any input,
// every error must be located inside the file (1-based line within the
// file's line count, column >= 1) with a known code, and every rule kept
// must be usable: a detection rule has conditions naming existing searches,
// a correlation has a type, rules and a positive window, and placeholder
// expansion of a kept rule does not panic either.
func FuzzParseRule(f *testing.F) {
	seeds := []string{
		"title: t\nlogsource: {product: windows}\ndetection:\n  sel: {Image|endswith: a}\n  condition: sel\n",
		"title: t\nlogsource: {product: linux}\ndetection:\n  k: [foo, 'ba*r']\n  m:\n    - A|re|i: x.*\n    - B|cidr: 10.0.0.0/8\n  condition: 1 of them and not m\n",
		"title: c\nname: c\ncorrelation:\n  type: event_count\n  rules: [r]\n  group-by: [User]\n  timespan: 5m\n  condition: {gte: 10}\n---\ntitle: r\nname: r\nlogsource: {product: windows}\ndetection:\n  s: {EventID: 4625}\n  condition: s\n",
		"title: x\ncorrelation:\n  type: temporal_ordered\n  timespan: 5m\n  condition: r and not (s or t)\n",
		"title: v\ncorrelation:\n  type: value_percentile\n  rules: [r]\n  timespan: 1h\n  condition: {field: bytes, percentile: 95, gt: 1000}\n  aliases: {ip: {r: source.ip}}\n",
		"title: f\nlogsource: {product: windows}\nfilter:\n  rules: [r]\n  sel: {host.name|startswith: DC}\n  condition: not sel\n",
		"title: e\nlogsource: {product: windows}\ndetection:\n  s: {a|contains|expand: '%x%-%y%'}\n  t: {ts|hour|gte: 22}\n  condition: s or t\n",
		"action: global\ntitle: g\nlogsource: {product: windows}\n---\ndetection:\n  s: {a: 1}\n  condition: s\n---\naction: repeat\ndetection:\n  s: {a: 2}\n  condition: s\n",
		"title: &a x\nlogsource: *a\n",
		"- a\n- b\n",
		"title: [\n",
	}
	if data, err := os.ReadFile("testdata/errors.yml"); err == nil {
		seeds = append(seeds, string(data))
	}
	for _, s := range seeds {
		f.Add(s)
	}
	codes := map[string]bool{}
	for _, c := range []string{CodeYAML, CodeIO, CodeBadRule, CodeBadDetection, CodeUnknownMod, CodeBadModifier,
		CodeUnsupportedMod, CodeBadValue, CodeBadRegex, CodeBadCondition, CodeUnknownIdent, CodeAggregation,
		CodeBadCorrelation, CodeBadFilter, CodeUnknownRule, CodePlaceholder, CodeBadID, CodeDuplicateID, CodeDuplicateName} {
		codes[c] = true
	}
	f.Fuzz(func(t *testing.T, src string) {
		if len(src) > 1<<16 {
			return
		}
		c := &Collection{}
		c.Parse("f.yml", []byte(src))
		c.Finish()
		lines := len(newSource("f.yml", []byte(src)).lines) // YAML's line breaks, in the text as decoded
		for _, l := range []ErrorList{c.Errors, c.Warnings} {
			for _, e := range l {
				if !codes[e.Code] || e.File != "f.yml" || e.Line < 1 || e.Line > lines || e.Col < 1 {
					t.Fatalf("bad diagnostic %v (file has %d lines)", e, lines)
				}
			}
		}
		for _, r := range c.Rules {
			if len(r.Detection.Conditions) == 0 {
				t.Fatalf("rule %q kept without a condition", r.Title)
			}
			for _, s := range r.Detection.Searches {
				if s == nil {
					t.Fatalf("nil search in %q", r.Title)
				}
			}
			ExpandPlaceholders(r, map[string][]string{"x": {"1", "*"}})
		}
		for _, r := range c.Correlations {
			if r.Correlation == nil || r.Correlation.Type == "" || len(r.Correlation.Rules) == 0 || r.Correlation.Window <= 0 {
				t.Fatalf("correlation kept incomplete: %+v", r.Correlation)
			}
			for _, cl := range r.Correlation.Clauses {
				if len(cl.Must) == 0 || slices.ContainsFunc(slices.Concat(cl.Must, cl.MustNot), func(i int) bool { return i < 0 || i >= len(r.Correlation.Rules) }) {
					t.Fatalf("extended condition %q: alternative %+v of rules %v", r.Correlation.Expression, cl, r.Correlation.Rules)
				}
			}
		}
		for _, r := range c.Filters {
			if r.Filter == nil || len(r.Filter.Detection.Conditions) == 0 {
				t.Fatalf("filter kept without a condition: %+v", r.Filter)
			}
		}
	})
}
