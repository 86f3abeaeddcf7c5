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
	index  map[route][]*compile.Rule
	fields *compile.Fields
	events sync.Pool
	errs   sigma.ErrorList
	stats  Stats
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
	e := &Engine{index: map[route][]*compile.Rule{}, fields: compile.NewFields()}
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
		e.index[rt] = append(e.index[rt], cr)
		e.stats.Rules++
	}
	e.events.New = func() any { return compile.NewEvent(e.fields) }
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
	ev := e.events.Get().(*compile.Event)
	ev.Reset(doc)
	var routes [maxRoutes]route
	for _, rt := range eventRoutes(doc, routes[:0]) {
		for _, r := range e.index[rt] {
			if r.Match(ev) {
				dst = append(dst, r.Rule)
			}
		}
	}
	ev.Reset(nil) // drop the reference to doc while pooled
	e.events.Put(ev)
	return dst
}
