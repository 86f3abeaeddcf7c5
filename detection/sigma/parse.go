package sigma

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Collection is the result of loading rules. Rules holds the usable detection
// rules; every rule that was not kept has an entry in Errors, and rules kept
// with a doubt have one in Warnings.
type Collection struct {
	Rules        []*Rule
	Correlations []*Rule // correlation rules whose references resolve (see package aggregate)
	Filters      []*Rule // filter rules (see ApplyFilters)
	Errors       ErrorList
	Warnings     ErrorList
}

// Parse reads every YAML document of one file into c. It never stops at a
// bad rule: each problem is recorded with its position.
func (c *Collection) Parse(path string, data []byte) {
	src := newSource(path, data)
	dec := yaml.NewDecoder(bytes.NewReader(src.data))
	var global, prev *yaml.Node
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			c.Errors.Add(path, src.clamp(yamlErrPos(err)), CodeYAML, "%s", strings.TrimPrefix(err.Error(), "yaml: "))
			return // the decoder cannot resynchronise after a syntax error
		}
		root := resolve(&doc)
		if root == nil || root.Kind != yaml.MappingNode {
			if root != nil && !(root.Kind == yaml.ScalarNode && root.Tag == "!!null") {
				c.Errors.Add(path, nodePos(root), CodeBadRule, "a rule must be a YAML mapping")
			}
			continue
		}
		switch scalarOf(get(root, "action")) {
		case "global":
			global = root
			continue
		case "reset":
			global = nil
			continue
		case "repeat":
			if prev != nil {
				root = merge(prev, withoutKey(root, "action"))
			}
		}
		if global != nil {
			root = merge(global, root)
		}
		prev = root
		c.parseDoc(src, root)
	}
}

var yamlLineRe = regexp.MustCompile(`line (\d+)`)

// yamlErrPos extracts the line of a yaml.v3 error; it reports no column.
func yamlErrPos(err error) Pos {
	if m := yamlLineRe.FindStringSubmatch(err.Error()); m != nil {
		n, _ := strconv.Atoi(m[1])
		return Pos{Line: n, Col: 1}
	}
	return Pos{Line: 1, Col: 1}
}

func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && (n.Kind == yaml.DocumentNode || n.Kind == yaml.AliasNode) {
		if n.Kind == yaml.AliasNode {
			n = n.Alias
		} else if len(n.Content) > 0 {
			n = n.Content[0]
		} else {
			return nil
		}
	}
	return n
}

// get returns the value node of key in a mapping, or nil.
func get(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return resolve(m.Content[i+1])
		}
	}
	return nil
}

// getKey returns the key node of key in a mapping, for positions.
func getKey(m *yaml.Node, key string) *yaml.Node {
	for i := 0; m != nil && i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i]
		}
	}
	return nil
}

func scalarOf(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.ScalarNode {
		return ""
	}
	return n.Value
}

func withoutKey(m *yaml.Node, key string) *yaml.Node {
	out := *m
	out.Content = nil
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value != key {
			out.Content = append(out.Content, m.Content[i], m.Content[i+1])
		}
	}
	return &out
}

// merge overlays doc on base for Sigma v1 "action: global" collections:
// nested mappings merge, other values of doc win.
func merge(base, doc *yaml.Node) *yaml.Node {
	out := *doc
	out.Content = nil
	seen := map[string]bool{}
	for i := 0; i+1 < len(doc.Content); i += 2 {
		k, v := doc.Content[i], resolve(doc.Content[i+1])
		seen[k.Value] = true
		if b := get(base, k.Value); b != nil && b.Kind == yaml.MappingNode && v != nil && v.Kind == yaml.MappingNode {
			v = merge(b, v)
		}
		out.Content = append(out.Content, k, v)
	}
	for i := 0; i+1 < len(base.Content); i += 2 {
		if k := base.Content[i]; !seen[k.Value] && k.Value != "action" {
			out.Content = append(out.Content, k, base.Content[i+1])
		}
	}
	return &out
}

// ruleParser gathers the problems of one rule document; the rule is kept only
// when it has no error.
type ruleParser struct {
	src  *source
	errs ErrorList
	warn ErrorList
}

func (p *ruleParser) errorf(pos Pos, code, format string, args ...any) {
	p.errs.Add(p.src.path, pos, code, format, args...)
}

func (c *Collection) parseDoc(src *source, root *yaml.Node) {
	p := &ruleParser{src: src}
	r := p.rule(root)
	c.Warnings = append(c.Warnings, p.warn...)
	if len(p.errs) > 0 {
		c.Errors = append(c.Errors, p.errs...)
		return
	}
	switch r.Kind {
	case KindCorrelation:
		c.Correlations = append(c.Correlations, r)
	case KindFilter:
		c.Filters = append(c.Filters, r)
	default:
		c.Rules = append(c.Rules, r)
	}
}

var uuidRe = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

func (p *ruleParser) rule(root *yaml.Node) *Rule {
	r := &Rule{Path: p.src.path, Pos: nodePos(root)}
	p.metadata(r, root)
	if ls := get(root, "logsource"); ls != nil {
		r.Logsource = Logsource{
			Product:  strings.ToLower(p.str(ls, "product")),
			Category: strings.ToLower(p.str(ls, "category")),
			Service:  strings.ToLower(p.str(ls, "service")),
		}
	}
	switch {
	case getKey(root, "correlation") != nil:
		r.Kind = KindCorrelation
		r.Correlation = p.correlation(root)
	case getKey(root, "filter") != nil:
		r.Kind = KindFilter
		r.Filter = p.filter(r, root)
	default:
		p.detectionRule(r, root)
	}
	return r
}

func (p *ruleParser) metadata(r *Rule, root *yaml.Node) {
	r.Title = p.str(root, "title")
	if r.Title == "" {
		p.errorf(r.Pos, CodeBadRule, "missing title")
	}
	r.ID = p.str(root, "id")
	switch {
	case r.ID == "":
		p.warn.Add(p.src.path, r.Pos, CodeBadID, "missing id")
	case !uuidRe.MatchString(r.ID):
		p.warn.Add(p.src.path, nodePos(get(root, "id")), CodeBadID, "id %q is not a UUID", r.ID)
	}
	r.Name = p.str(root, "name")
	r.Description = p.str(root, "description")
	r.Status = p.str(root, "status")
	r.Level = strings.ToLower(p.str(root, "level"))
	r.Author = p.str(root, "author")
	r.Date = p.str(root, "date")
	r.Modified = p.str(root, "modified")
	r.License = p.str(root, "license")
	r.References = p.strs(root, "references")
	r.Tags = p.strs(root, "tags")
	r.FalsePositives = p.strs(root, "falsepositives")
	r.Fields = p.strs(root, "fields")
}

// str reads an optional scalar; a non-scalar is an error.
func (p *ruleParser) str(m *yaml.Node, key string) string {
	n := get(m, key)
	if n == nil {
		return ""
	}
	if n.Kind != yaml.ScalarNode {
		p.errorf(nodePos(n), CodeBadRule, "%s must be a scalar", key)
		return ""
	}
	if n.Tag == "!!null" {
		return ""
	}
	return n.Value
}

// strs reads an optional list of scalars; a lone scalar is a list of one.
func (p *ruleParser) strs(m *yaml.Node, key string) []string {
	n := get(m, key)
	if n == nil {
		return nil
	}
	if n.Kind == yaml.ScalarNode {
		if n.Tag == "!!null" {
			return nil
		}
		return []string{n.Value}
	}
	if n.Kind != yaml.SequenceNode {
		p.errorf(nodePos(n), CodeBadRule, "%s must be a list", key)
		return nil
	}
	out := make([]string, 0, len(n.Content))
	for _, it := range n.Content {
		it = resolve(it)
		if it.Kind != yaml.ScalarNode {
			p.errorf(nodePos(it), CodeBadRule, "%s items must be scalars", key)
			continue
		}
		out = append(out, it.Value)
	}
	return out
}

var timespanRe = regexp.MustCompile(`^([0-9]{1,9})([smhdwMy])$`)

// ParseTimespan reads a Sigma timespan: a number and one of s, m, h, d
// (the specification's units), or w, M or y (pySigma's). A month and a year
// are pySigma's averages of the Gregorian calendar (30.436875 and 365.2425
// days), so that a window means what it means there.
func ParseTimespan(s string) (time.Duration, bool) {
	m := timespanRe.FindStringSubmatch(s)
	if m == nil {
		return 0, false
	}
	n, _ := strconv.Atoi(m[1])
	unit := map[string]time.Duration{"s": time.Second, "m": time.Minute, "h": time.Hour, "d": 24 * time.Hour, "w": 7 * 24 * time.Hour,
		"M": 2629746 * time.Second, "y": 31556952 * time.Second}[m[2]]
	if n <= 0 {
		return 0, false
	}
	return time.Duration(n) * unit, true
}

var corrOps = map[string]bool{"gt": true, "gte": true, "lt": true, "lte": true, "eq": true, "neq": true}

func (p *ruleParser) correlation(root *yaml.Node) *Correlation {
	key := getKey(root, "correlation")
	n := get(root, "correlation")
	c := &Correlation{Pos: nodePos(key)}
	if n == nil || n.Kind != yaml.MappingNode {
		p.errorf(nodePos(key), CodeBadRule, "correlation must be a mapping")
		return c
	}
	bad := func(at *yaml.Node, format string, args ...any) {
		pos := c.Pos
		if at != nil {
			pos = nodePos(at)
		}
		p.errorf(pos, CodeBadCorrelation, format, args...)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		switch k := n.Content[i]; k.Value {
		case "type", "rules", "group-by", "timespan", "condition", "aliases", "generate":
		default:
			bad(k, "unknown key %q in correlation", k.Value)
		}
	}
	c.Type = p.str(n, "type")
	c.Rules = p.strs(n, "rules")
	c.GroupBy = p.strs(n, "group-by")
	c.Timespan = p.str(n, "timespan")
	switch c.Type {
	case CorrEventCount, CorrValueCount, CorrTemporal, CorrTemporalOrdered, CorrValueSum, CorrValueAvg, CorrValuePercentile, CorrValueMedian:
	case "":
		bad(nil, "correlation has no type")
	default:
		bad(get(n, "type"), "unknown correlation type %q", c.Type)
	}
	if d, ok := ParseTimespan(c.Timespan); ok {
		c.Window = d
	} else if c.Timespan == "" {
		bad(nil, "correlation has no timespan")
	} else {
		bad(get(n, "timespan"), "timespan %q: want a number and s, m, h, d, w, M or y", c.Timespan)
	}
	if g := get(n, "generate"); g != nil {
		if g.Kind != yaml.ScalarNode || g.Tag != "!!bool" {
			bad(g, "generate must be true or false")
		} else {
			c.Generate = strings.EqualFold(g.Value, "true")
		}
	}
	nerr := len(p.errs)
	p.corrCondition(c, n, bad)
	if len(c.Rules) == 0 && len(p.errs) == nerr { // an extended condition names them
		bad(nil, "correlation names no rules")
	}
	p.corrAliases(c, n, bad)
	return c
}

func (p *ruleParser) corrCondition(c *Correlation, n *yaml.Node, bad func(*yaml.Node, string, ...any)) {
	cond := get(n, "condition")
	temporal := c.Type == CorrTemporal || c.Type == CorrTemporalOrdered
	valued := strings.HasPrefix(c.Type, "value_")
	if cond == nil {
		if !temporal && c.Type != "" {
			bad(nil, "correlation type %s needs a condition", c.Type)
		}
		return
	}
	if cond.Kind == yaml.ScalarNode && cond.Tag == "!!str" && temporal {
		corrExpression(c, cond.Value, func(format string, args ...any) { bad(cond, format, args...) })
		return
	}
	if cond.Kind != yaml.MappingNode {
		bad(cond, "condition must be a mapping such as {gte: 10} (or, for temporal types, an expression such as \"a and not b\")")
		return
	}
	c.Percentile = 50
	nerr := len(p.errs)
	for i := 0; i+1 < len(cond.Content); i += 2 {
		k, v := cond.Content[i], resolve(cond.Content[i+1])
		if v == nil || v.Kind != yaml.ScalarNode {
			bad(k, "condition %q needs a scalar", k.Value)
			continue
		}
		switch {
		case k.Value == "field":
			c.Field = v.Value
		case k.Value == "percentile":
			x, err := strconv.ParseFloat(v.Value, 64)
			if err != nil || x < 0 || x > 100 {
				bad(v, "percentile %q: want a number from 0 to 100", v.Value)
			}
			c.Percentile = x
		case corrOps[k.Value]:
			x, err := strconv.ParseFloat(v.Value, 64)
			if err != nil || x != x {
				bad(v, "condition %s: %q is not a number", k.Value, v.Value)
				continue
			}
			c.Conditions = append(c.Conditions, CorrCondition{Op: k.Value, Value: x})
		default:
			bad(k, "unknown condition key %q (want gt, gte, lt, lte, eq, neq, field)", k.Value)
		}
	}
	if len(c.Conditions) == 0 && len(p.errs) == nerr {
		bad(cond, "condition has no comparison (gt, gte, lt, lte, eq, neq)")
	}
	switch {
	case valued && c.Field == "":
		bad(cond, "correlation type %s needs condition.field", c.Type)
	case !valued && c.Field != "":
		bad(cond, "condition.field is only used by value_* correlations")
	}
	if c.Type != CorrValuePercentile && getKey(cond, "percentile") != nil {
		bad(cond, "condition.percentile is only used by value_percentile")
	}
}

func (p *ruleParser) corrAliases(c *Correlation, n *yaml.Node, bad func(*yaml.Node, string, ...any)) {
	al := get(n, "aliases")
	if al == nil {
		return
	}
	if al.Kind != yaml.MappingNode {
		bad(al, "aliases must be a mapping")
		return
	}
	c.Aliases = map[string]map[string]string{}
	for i := 0; i+1 < len(al.Content); i += 2 {
		k, v := al.Content[i], resolve(al.Content[i+1])
		if v == nil || v.Kind != yaml.MappingNode {
			bad(k, "alias %q must map rule names to fields", k.Value)
			continue
		}
		m := map[string]string{}
		for j := 0; j+1 < len(v.Content); j += 2 {
			rk, rv := v.Content[j], resolve(v.Content[j+1])
			if rv == nil || rv.Kind != yaml.ScalarNode || rv.Value == "" {
				bad(rk, "alias %q: rule %q needs a field name", k.Value, rk.Value)
				continue
			}
			if !slices.Contains(c.Rules, rk.Value) {
				bad(rk, "alias %q names rule %q, which the correlation does not use", k.Value, rk.Value)
			}
			m[rk.Value] = rv.Value
		}
		c.Aliases[k.Value] = m
	}
}

func (p *ruleParser) filter(r *Rule, root *yaml.Node) *Filter {
	key := getKey(root, "filter")
	n := get(root, "filter")
	f := &Filter{Pos: nodePos(key)}
	if n == nil || n.Kind != yaml.MappingNode {
		p.errorf(nodePos(key), CodeBadRule, "filter must be a mapping")
		return f
	}
	f.Rules = p.strs(n, "rules")
	if len(f.Rules) == 1 && strings.EqualFold(f.Rules[0], "any") {
		// pySigma's keyword (and its filters' required form) for every
		// rule of the logsource, which no rules says here too
		f.Rules = nil
	}
	if len(f.Rules) == 0 && r.Logsource == (Logsource{}) {
		p.errorf(f.Pos, CodeBadFilter, "a filter needs rules or a logsource to apply to")
	}
	p.detection(&f.Detection, n, f.Pos, "rules")
	return f
}

func (p *ruleParser) detectionRule(r *Rule, root *yaml.Node) {
	if getKey(root, "logsource") == nil {
		p.errorf(r.Pos, CodeBadRule, "missing logsource")
	}
	det := get(root, "detection")
	if det == nil || det.Kind != yaml.MappingNode {
		p.errorf(r.Pos, CodeBadRule, "missing detection mapping")
		return
	}
	p.detection(&r.Detection, det, nodePos(getKey(root, "detection")), "")
}

// detection parses searches and conditions of a mapping; skip names a key
// that is not a search (a filter's "rules").
func (p *ruleParser) detection(d *Detection, det *yaml.Node, at Pos, skip string) {
	d.Searches = map[string]*Search{}
	var cond *yaml.Node
	for i := 0; i+1 < len(det.Content); i += 2 {
		k, v := det.Content[i], resolve(det.Content[i+1])
		switch k.Value {
		case "condition":
			cond = v
		case "timeframe": // v1 aggregation window; ignored without aggregations
		case skip:
		default:
			// The name is kept even when the search is bad, so the
			// condition does not add a second, misleading error.
			d.Names = append(d.Names, k.Value)
			if s := p.search(k, v); s != nil {
				d.Searches[s.Name] = s
			}
		}
	}
	if cond == nil {
		p.errorf(at, CodeBadRule, "detection has no condition")
		return
	}
	p.conditions(d, cond)
}

func (p *ruleParser) conditions(d *Detection, n *yaml.Node) {
	items := []*yaml.Node{n}
	if n.Kind == yaml.SequenceNode {
		items = n.Content
	}
	if len(items) == 0 {
		p.errorf(nodePos(n), CodeBadCondition, "empty condition list")
	}
	for _, it := range items {
		it = resolve(it)
		if it.Kind != yaml.ScalarNode {
			p.errorf(nodePos(it), CodeBadCondition, "a condition must be a string")
			continue
		}
		expr, err := ParseCondition(it.Value)
		if err != nil {
			var ce *CondError
			errors.As(err, &ce)
			p.errorf(p.src.scalarPos(it, ce.Off), ce.Code, "%s", ce.Msg)
			continue
		}
		p.checkRefs(d, it, expr)
		d.Conditions = append(d.Conditions, &Condition{Source: it.Value, Expr: expr, Pos: nodePos(it)})
	}
}

// checkRefs reports identifiers and patterns that name no search, at their
// place in the condition.
func (p *ruleParser) checkRefs(d *Detection, n *yaml.Node, e CondNode) {
	switch e := e.(type) {
	case *CondAnd:
		for _, t := range e.Terms {
			p.checkRefs(d, n, t)
		}
	case *CondOr:
		for _, t := range e.Terms {
			p.checkRefs(d, n, t)
		}
	case *CondNot:
		p.checkRefs(d, n, e.X)
	case *CondIdent:
		if !slices.Contains(d.Names, e.Name) {
			p.errorf(p.src.scalarPos(n, e.Off), CodeUnknownIdent, "condition refers to unknown search %q", e.Name)
		}
	case *CondOf:
		if len(e.Expand(d.Names)) == 0 {
			what := "them"
			if !e.Them {
				what = fmt.Sprintf("%q", e.Pattern)
			}
			p.errorf(p.src.scalarPos(n, e.Off), CodeUnknownIdent, "%s matches no search", what)
		}
	}
}
