// Package engine runs compiled Sigma rules over ECS documents. Rules are
// renamed by pipelines and compiled once in New, and indexed by logsource so
// an event only tries the rules of its product, category and service.
package engine

import (
	"maps"
	"slices"
	"strings"
	"sync"

	"webshellbeat/detection/compile"
	"webshellbeat/detection/pipeline"
	"webshellbeat/detection/sigma"
)

// Options configures New.
type Options struct {
	// Pipelines are applied before the built-in ones (unless they set a
	// priority of 100 or more), so they can override a mapping.
	Pipelines []*pipeline.Pipeline
	// NoBuiltinPipelines drops the windows, linux and webserver mappings,
	// for rules already written with ECS field names.
	NoBuiltinPipelines bool
	// Placeholders gives the values of the %name% placeholders of the
	// expand modifier. A rule that uses a placeholder missing here is
	// rejected (Errors, code unknown-placeholder) at the value's position.
	Placeholders map[string][]string

	fullScan bool // tests: no prefilter (see Engine.fullScan)
}

// Stats counts rules by fate.
type Stats struct {
	Rules      int // compiled and routed
	Unroutable int // compiled, but their logsource never occurs (kept, never run)
	Failed     int // rejected by the compiler or for an unknown placeholder (see Errors)
	Filtered   int // rules with at least one filter rule applied
}

// Engine matches documents against rules. It is immutable after New and safe
// for concurrent use.
type Engine struct {
	rules []*compile.Rule
	// index lists the rules of each route, as positions in rules.
	index map[route][]int
	// products are the products some rule names; routing reads others as "".
	products map[string]bool
	// plans caches, per event source, one bucket of all the rules of its
	// routes, so that an event scans each of its fields once however many
	// routes it has. Sources that reach the same routes share the bucket
	// (byRoutes), so odd combinations of categories cost a map entry each,
	// not a bucket.
	plans    sync.Map // source -> *bucket
	mu       sync.Mutex
	byRoutes map[string]*bucket // the routes with rules, joined -> bucket; guarded by mu
	route    routeFields
	fields   *compile.Fields
	events   sync.Pool // *scratch
	// fullScan evaluates every rule of a route, without the prefilter: the
	// reference that tests compare the prefiltered engine with.
	fullScan bool
	errs     sigma.ErrorList
	stats    Stats
	// unroutable counts the rules of each logsource that never occurs.
	unroutable map[sigma.Logsource]int
}

// New applies the pipelines to the rules of c, compiles them and indexes
// them. A rule the compiler rejects is reported in Errors and skipped; New
// fails only for unusable options.
func New(c *sigma.Collection, opts Options) (*Engine, error) {
	pipes := append([]*pipeline.Pipeline(nil), opts.Pipelines...)
	if !opts.NoBuiltinPipelines {
		var err error
		if pipes, err = pipeline.WithBuiltin(pipes); err != nil {
			return nil, err
		}
	}
	pipeline.Sort(pipes)
	e := &Engine{index: map[route][]int{}, products: map[string]bool{}, byRoutes: map[string]*bucket{}, fields: compile.NewFields(), fullScan: opts.fullScan,
		unroutable: map[sigma.Logsource]int{}}
	e.route = newRouteFields(e.fields)
	badFilter := map[*sigma.Rule]bool{} // report a broken filter once
	for _, r := range c.Rules {
		cr, ok := e.compileRule(r, opts, pipes)
		if !ok {
			e.stats.Failed++
			continue
		}
		var fcs []*compile.Rule
		for _, f := range sigma.FiltersFor(r, c.Filters) {
			fc, ok := e.compileFilter(f, r, opts, pipes, badFilter[f])
			if !ok {
				badFilter[f] = true
				continue
			}
			fcs = append(fcs, fc)
		}
		if len(fcs) > 0 {
			cr = cr.WithFilters(fcs...)
			e.stats.Filtered++
		}
		e.rules = append(e.rules, cr)
		rt, ok := ruleRoute(cr.Rule.Logsource) // as pipelines left it (change_logsource)
		if !ok {
			e.stats.Unroutable++
			e.unroutable[cr.Rule.Logsource]++
			continue
		}
		e.index[rt] = append(e.index[rt], len(e.rules)-1)
		e.products[rt.product] = true
		e.stats.Rules++
	}
	e.events.New = func() any { return &scratch{ev: compile.NewEvent(e.fields)} }
	return e, nil
}

// plan returns the bucket of every rule that routes to events of src, in
// load order, building it on first use.
func (e *Engine) plan(src source) *bucket {
	if b, ok := e.plans.Load(src); ok {
		return b.(*bucket)
	}
	var routes []string
	var pos []int
	for _, rt := range src.routes() {
		if ps := e.index[rt]; len(ps) > 0 {
			routes = append(routes, rt.product+"/"+rt.category+"/"+rt.service)
			pos = append(pos, ps...)
		}
	}
	slices.Sort(routes)
	key := strings.Join(routes, "|")
	e.mu.Lock()
	b := e.byRoutes[key]
	if b == nil {
		b = e.bucketOf(pos)
		e.byRoutes[key] = b
	}
	e.mu.Unlock()
	e.plans.Store(src, b)
	return b
}

// bucketOf builds the bucket of the rules at positions pos, in load order.
func (e *Engine) bucketOf(pos []int) *bucket {
	pos = slices.Sorted(slices.Values(pos))
	rules := make([]*compile.Rule, len(pos))
	for i, p := range pos {
		rules[i] = e.rules[p]
	}
	return newBucket(rules)
}

// compileRule expands placeholders, applies the pipelines and compiles r,
// recording any error.
func (e *Engine) compileRule(r *sigma.Rule, opts Options, pipes []*pipeline.Pipeline) (*compile.Rule, bool) {
	xr, errs := sigma.ExpandPlaceholders(r, placeholders(r, opts, pipes))
	if len(errs) > 0 {
		e.errs = append(e.errs, errs...)
		return nil, false
	}
	mapped, err := pipeline.Apply(xr, pipes...)
	if err != nil {
		e.errs.Add(r.Path, r.Pos, sigma.CodePipeline, "%v", err)
		return nil, false
	}
	cr, err := compile.Compile(mapped, e.fields)
	if err != nil {
		e.errs.Add(r.Path, r.Pos, sigma.CodeCompile, "%v", err)
		return nil, false
	}
	return cr, true
}

// placeholders are the values of r's placeholders: the configuration's
// (Options.Placeholders), else those the pipelines' placeholder
// transformations give (pipeline.Placeholders).
func placeholders(r *sigma.Rule, opts Options, pipes []*pipeline.Pipeline) map[string][]string {
	fromPipes := pipeline.Placeholders(r, pipes...)
	if len(fromPipes) == 0 {
		return opts.Placeholders
	}
	for name, v := range opts.Placeholders {
		fromPipes[name] = v
	}
	return fromPipes
}

// compileFilter compiles filter f for target rule r, with r's logsource so
// that the pipelines map its fields as r's. A filter that does not compile
// is reported (once, unless quiet) and left out: the rule then runs
// unfiltered.
func (e *Engine) compileFilter(f, r *sigma.Rule, opts Options, pipes []*pipeline.Pipeline, quiet bool) (*compile.Rule, bool) {
	fr := sigma.FilterRule(f, r)
	xr, errs := sigma.ExpandPlaceholders(fr, placeholders(fr, opts, pipes))
	if len(errs) > 0 {
		if !quiet {
			e.errs = append(e.errs, errs...)
		}
		return nil, false
	}
	mapped, err := pipeline.Apply(xr, pipes...)
	if err != nil {
		if !quiet {
			e.errs.Add(f.Path, f.Pos, sigma.CodePipeline, "filter: %v", err)
		}
		return nil, false
	}
	fc, err := compile.Compile(mapped, e.fields)
	if err != nil {
		if !quiet {
			e.errs.Add(f.Path, f.Pos, sigma.CodeCompile, "filter: %v", err)
		}
		return nil, false
	}
	return fc, true
}

// Errors lists the rules the compiler rejected.
func (e *Engine) Errors() sigma.ErrorList { return e.errs }

// Stats reports how many rules are routed, unroutable and rejected.
func (e *Engine) Stats() Stats { return e.stats }

// Unroutable counts the compiled rules of each logsource webshellbeat never
// produces (Stats.Unroutable in all), for reports.
func (e *Engine) Unroutable() map[sigma.Logsource]int { return maps.Clone(e.unroutable) }

// Match returns the rules that match doc, in load order. It allocates
// nothing when no rule matches (once the event's logsource has been seen).
func (e *Engine) Match(doc map[string]any) []*sigma.Rule {
	return e.AppendMatches(nil, doc)
}

// AppendMatches appends the matching rules to dst, for callers that reuse a
// slice across events.
func (e *Engine) AppendMatches(dst []*sigma.Rule, doc map[string]any) []*sigma.Rule {
	sc := e.events.Get().(*scratch)
	sc.ev.Reset(doc)
	b := e.plan(e.route.eventSource(sc.ev, e.products))
	if e.fullScan {
		dst = b.appendAll(dst, sc.ev)
	} else {
		dst = b.appendMatches(dst, sc.ev, sc)
	}
	sc.ev.Reset(nil) // drop the reference to doc while pooled
	e.events.Put(sc)
	return dst
}

// scratch is the per-goroutine state of a match: the event's field cache,
// the candidate bitset of the prefilter and the literal hits of one value.
type scratch struct {
	ev    *compile.Event
	marks []uint64
	hits  []int32
}
