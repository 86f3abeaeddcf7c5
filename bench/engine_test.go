// Package bench compares webshellbeat's Sigma engine with two Go peers,
// github.com/bradleyjkemp/sigma-go and github.com/markuskont/go-sigma-rule-engine,
// in one process, on the same rules and the same events. It is its own Go
// module so that the product never depends on the peers.
//
//	cd bench && go test -run '^$' -bench Engine .
//
// With -v it also logs the two targets as ratios of the run's own
// figures (Go prints a parent benchmark's log only with -v).
package bench

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	sigmago "github.com/bradleyjkemp/sigma-go"
	sgevaluator "github.com/bradleyjkemp/sigma-go/evaluator"
	mkengine "github.com/markuskont/go-sigma-rule-engine"

	"webshellbeat/detection/engine"
	"webshellbeat/detection/sigma"
	"webshellbeat/module/windows"
)

const data = "../../shared/data/"

// corpus holds the events, in the shape each engine reads, and the rules.
type corpus struct {
	ecs  []map[string]any // webshellbeat: ECS documents from module/windows
	flat []flatEvent      // peers: Sigma field names (EventData + EventID, Channel)
	// shared lists the rules/windows/process_creation files every engine loads.
	shared []string
}

var loaded *corpus

func load(b *testing.B) *corpus {
	if loaded != nil {
		return loaded
	}
	c := &corpus{}
	files, _ := filepath.Glob(data + "sbousseaden-EVTX-ATTACK-SAMPLES/*/*.evtx")
	files = append(files, data+"omerbenamram-evtx/samples/sysmon.evtx")
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			b.Fatal(err)
		}
		_ = windows.ReadEVTX(fh, 0, func(rec *windows.Record, err error) error {
			if err != nil || !(rec.IsSysmon() && rec.EventID == 1 || rec.IsSecurity() && rec.EventID == 4688) {
				return nil
			}
			c.ecs = append(c.ecs, rec.ECS())
			flat := flatEvent(rec.EventData.Map())
			flat["EventID"] = strconv.Itoa(int(rec.EventID))
			flat["Channel"] = rec.Channel
			c.flat = append(c.flat, flat)
			return nil
		})
		fh.Close()
	}
	if len(c.ecs) == 0 {
		b.Skip("no process-creation events in the shared samples")
	}
	rules, _ := filepath.Glob(data + "SigmaHQ-sigma/rules/windows/process_creation/*.yml")
	for _, f := range rules {
		if loadsEverywhere(f) {
			c.shared = append(c.shared, f)
		}
	}
	loaded = c
	return c
}

// loadsEverywhere reports whether all three engines accept the rule file.
func loadsEverywhere(file string) bool {
	raw, err := os.ReadFile(file)
	if err != nil {
		return false
	}
	if _, err := sigmago.ParseRule(raw); err != nil {
		return false
	}
	handles, err := mkengine.NewRuleList([]string{file}, false, false)
	if err != nil || len(handles) != 1 || handles[0].Multipart {
		return false
	}
	if _, err := mkengine.NewTree(handles[0]); err != nil {
		return false
	}
	coll := sigma.LoadPaths(file)
	return len(coll.Rules) == 1 && len(coll.Errors) == 0
}

// matcher evaluates one event against all of an engine's rules and returns
// the number of matches.
type matcher func(i int) int

func BenchmarkEngine(b *testing.B) {
	c := load(b)
	b.Logf("%d process-creation events; %d rules/windows/process_creation rules load in all three engines", len(c.ecs), len(c.shared))
	rate := map[string]float64{} // events/s of each sub-benchmark that ran
	run := func(name string, m matcher, n int) {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			i, matches := 0, 0
			for b.Loop() {
				matches += m(i % n)
				i++
			}
			rate[name] = float64(b.N) / b.Elapsed().Seconds()
			b.ReportMetric(rate[name], "events/s")
			b.ReportMetric(float64(matches)/float64(b.N), "matches/event")
		})
	}
	// The targets as ratios of figures of this one run: against
	// sigma-go on the shared rules (10x or more), and the whole corpus
	// against the bare walk (300,000 events/s is about 0.5 of the walk on
	// these 2-core machines).
	defer func() {
		if ws, sg := rate["webshellbeat/shared"], rate["sigma-go/shared"]; ws > 0 && sg > 0 {
			b.Logf("webshellbeat/shared is %.0fx sigma-go/shared", ws/sg)
		}
		if all, walk := rate["webshellbeat/sigmahq"], rate["baseline/walk"]; all > 0 && walk > 0 {
			b.Logf("webshellbeat/sigmahq is %.3f of baseline/walk (%.0f events/s)", all/walk, all)
		}
		if all, twice := rate["webshellbeat/sigmahq"], rate["webshellbeat/sigmahq-each-twice"]; all > 0 && twice > 0 {
			// a pair of matches costs 2/twice: one cold (1/all), one in cache
			hot := 2/twice - 1/all
			b.Logf("a corpus match in cache costs %.2f µs against %.2f µs replaying all events (%.0f events/s in cache)", 1e6*hot, 1e6/all, 1/hot)
		}
		if all, nokw := rate["webshellbeat/sigmahq"], rate["webshellbeat/sigmahq-without-keyword-rules"]; all > 0 && nokw > 0 {
			b.Logf("the keyword rules cost %.2f µs of the corpus's %.2f µs per event", 1e6/all-1e6/nokw, 1e6/all)
		}
	}()
	run("webshellbeat/shared", webshellbeat(b, sigma.LoadPaths(c.shared...), c), len(c.ecs))
	run("sigma-go/shared", sigmaGo(b, c), len(c.flat))
	run("go-sigma-rule-engine/shared", markuskont(b, c), len(c.flat))
	all, _ := filepath.Glob(data + "SigmaHQ-sigma/rules*")
	corpus := sigma.LoadPaths(all...)
	whole := webshellbeat(b, corpus, c)
	run("webshellbeat/sigmahq", whole, len(c.ecs))
	// Not a target either: each event matched twice in a row, so that the
	// second match finds the document in the cache. With the figure above
	// it gives the cost of a match in cache (logged with -v): how much of
	// the corpus figure is the 1.3 MB of replayed documents coming back
	// from memory rather than the matching.
	run("webshellbeat/sigmahq-each-twice", func(i int) int { return whole(i / 2) }, 2*len(c.ecs))
	// The same corpus without its rules that search keywords (SigmaHQ's
	// mimikatz and NotPetya rules apply to every Windows process event):
	// not a target, the share of the keyword search in the figure above.
	run("webshellbeat/sigmahq-without-keyword-rules", webshellbeat(b, withoutKeywordRules(corpus), c), len(c.ecs))
	// Not an engine: visiting every value of each document, the least that
	// any engine must do on these documents once a keyword search (Sigma's
	// unbound "keywords", which SigmaHQ applies to every Windows event)
	// is loaded. Its events/s bounds what the sigmahq figure can reach.
	run("baseline/walk", walkValues(c), len(c.ecs))
}

// withoutKeywordRules copies c without the detection rules that have an
// unbound keyword search.
func withoutKeywordRules(c *sigma.Collection) *sigma.Collection {
	out := *c
	out.Rules = nil
	for _, r := range c.Rules {
		if !hasKeywords(r) {
			out.Rules = append(out.Rules, r)
		}
	}
	return &out
}

func hasKeywords(r *sigma.Rule) bool {
	for _, s := range r.Detection.Searches {
		for _, alt := range s.Alternatives {
			for _, fm := range alt {
				if fm.Field == "" {
					return true
				}
			}
		}
	}
	return false
}

func walkValues(c *corpus) matcher {
	var visit func(v any) int
	visit = func(v any) int {
		switch x := v.(type) {
		case map[string]any:
			n := 0
			for _, y := range x {
				n += visit(y)
			}
			return n
		case []any:
			n := 0
			for _, y := range x {
				n += visit(y)
			}
			return n
		case []string:
			return len(x)
		}
		return 1
	}
	return func(i int) int {
		visit(c.ecs[i])
		return 0
	}
}

func webshellbeat(b *testing.B, coll *sigma.Collection, c *corpus) matcher {
	e, err := engine.New(coll, engine.Options{})
	if err != nil {
		b.Fatal(err)
	}
	// An engine builds the plan of a logsource the first time it sees one
	// (and an event's arena grows to its size once): warm both, so that the
	// figures are the steady state a running beat is in.
	var dst []*sigma.Rule
	for _, doc := range c.ecs {
		dst = e.AppendMatches(dst[:0], doc)
	}
	return func(i int) int {
		dst = e.AppendMatches(dst[:0], c.ecs[i])
		return len(dst)
	}
}

func sigmaGo(b *testing.B, c *corpus) matcher {
	var rules []*sgevaluator.RuleEvaluator
	for _, f := range c.shared {
		raw, _ := os.ReadFile(f)
		r, err := sigmago.ParseRule(raw)
		if err != nil {
			b.Fatal(err)
		}
		rules = append(rules, sgevaluator.ForRule(r))
	}
	ctx := context.Background()
	return func(i int) int {
		n := 0
		for _, r := range rules {
			if res, err := r.Matches(ctx, map[string]interface{}(c.flat[i])); err == nil && res.Match {
				n++
			}
		}
		return n
	}
}

func markuskont(b *testing.B, c *corpus) matcher {
	handles, err := mkengine.NewRuleList(c.shared, false, false)
	if err != nil {
		b.Fatal(err)
	}
	var trees []*mkengine.Tree
	for _, h := range handles {
		t, err := mkengine.NewTree(h)
		if err != nil {
			b.Fatal(err)
		}
		trees = append(trees, t)
	}
	return func(i int) int {
		n := 0
		for _, t := range trees {
			if ok, _ := t.Match(c.flat[i]); ok {
				n++
			}
		}
		return n
	}
}

// flatEvent is an event in Sigma field names, as the peers read it.
type flatEvent map[string]any

// Keywords implements go-sigma-rule-engine's Keyworder: no message text.
func (e flatEvent) Keywords() ([]string, bool) { return nil, false }

// Select implements go-sigma-rule-engine's Selector.
func (e flatEvent) Select(key string) (interface{}, bool) {
	v, ok := e[key]
	return v, ok
}
