// Package engine runs compiled Sigma rules over ECS documents. Rules are
// renamed by pipelines and compiled once in New, and indexed by logsource so
// an event only tries the rules of its product, category and service.
package engine

import (
	"fmt"
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

	fullScan bool // tests: no prefilter (see Engine.fullScan)
}

// Stats counts rules by fate.
type Stats struct {
	Rules      int // compiled and routed
	Unroutable int // compiled, but their logsource never occurs (kept, never run)
	Failed     int // rejected by the compiler (see Errors)
}

// Engine matches documents against rules. It is immutable after New and safe
// for concurrent use.
type Engine struct {
	rules  []*compile.Rule
	index  map[route]*bucket
	fields *compile.Fields
	events sync.Pool // *scratch
	// fullScan evaluates every rule of a route, without the prefilter: the
	// reference that tests compare the prefiltered engine with.
	fullScan bool
	errs     sigma.ErrorList
	stats    Stats
}

// New applies the pipelines to the rules of c, compiles them and indexes
// them. A rule the compiler rejects is reported in Errors and skipped; New
// fails only for unusable options.
func New(c *sigma.Collection, opts Options) (*Engine, error) {
	pipes := append([]*pipeline.Pipeline(nil), opts.Pipelines...)
	if !opts.NoBuiltinPipelines {
		builtin, err := pipeline.Builtin()
		if err != nil {
			return nil, fmt.Errorf("built-in pipelines: %w", err)
		}
		pipes = append(pipes, builtin...)
	}
	pipeline.Sort(pipes)
	e := &Engine{index: map[route]*bucket{}, fields: compile.NewFields(), fullScan: opts.fullScan}
	byRoute := map[route][]*compile.Rule{}
	for _, r := range c.Rules {
		cr, err := compile.Compile(pipeline.Apply(r, pipes...), e.fields)
		if err != nil {
			e.errs.Add(r.Path, r.Pos, sigma.CodeCompile, "%v", err)
			e.stats.Failed++
			continue
		}
		e.rules = append(e.rules, cr)
		rt, ok := ruleRoute(r.Logsource)
		if !ok {
			e.stats.Unroutable++
			continue
		}
		byRoute[rt] = append(byRoute[rt], cr)
		e.stats.Rules++
	}
	maxRules := 0
	for rt, rules := range byRoute {
		e.index[rt] = newBucket(rules)
		maxRules = max(maxRules, len(rules))
	}
	e.events.New = func() any {
		return &scratch{ev: compile.NewEvent(e.fields), marks: make([]uint64, (maxRules+63)/64)}
	}
	return e, nil
}

// Errors lists the rules the compiler rejected.
func (e *Engine) Errors() sigma.ErrorList { return e.errs }

// Stats reports how many rules are routed, unroutable and rejected.
func (e *Engine) Stats() Stats { return e.stats }

// Match returns the rules that match doc, in load order within each
// logsource bucket. It allocates nothing when no rule matches.
func (e *Engine) Match(doc map[string]any) []*sigma.Rule {
	return e.AppendMatches(nil, doc)
}

// AppendMatches appends the matching rules to dst, for callers that reuse a
// slice across events.
func (e *Engine) AppendMatches(dst []*sigma.Rule, doc map[string]any) []*sigma.Rule {
	sc := e.events.Get().(*scratch)
	sc.ev.Reset(doc)
	var routes [maxRoutes]route
	for _, rt := range eventRoutes(doc, routes[:0]) {
		b := e.index[rt]
		if b == nil {
			continue
		}
		if e.fullScan {
			dst = b.appendAll(dst, sc.ev)
		} else {
			dst = b.appendMatches(dst, sc.ev, sc.marks)
		}
	}
	sc.ev.Reset(nil) // drop the reference to doc while pooled
	e.events.Put(sc)
	return dst
}

// scratch is the per-goroutine state of a match: the event's field cache and
// the candidate bitset of the prefilter.
type scratch struct {
	ev    *compile.Event
	marks []uint64
}
