package detector

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"webshellbeat/config"
	"webshellbeat/detection/aggregate"
	"webshellbeat/detection/engine"
	"webshellbeat/detection/pipeline"
	"webshellbeat/detection/sigma"
	"webshellbeat/rules"
)

// ruleSet is everything loaded from the rule files: immutable once built,
// swapped whole by Reload. The detector's state (process table, request
// links, sessions, and the correlation windows of unchanged correlation
// rules) lives outside it and survives a swap.
type ruleSet struct {
	engine *engine.Engine
	// ruleset names where each rule file came from, by path: the engine
	// hands back renamed copies of the rules, so pointers do not identify them.
	ruleset map[string]string
	// units evaluate the correlation rules, one Correlator per group of
	// correlations that chain into each other.
	units []*corrUnit
	// Problems: rejections (Rejected) and warnings.
	rejected sigma.ErrorList
	warnings sigma.ErrorList
	info     RulesInfo
	stamp    string // file names, sizes and times when loaded
}

// RulesInfo counts the rules in use.
type RulesInfo struct {
	Loaded       int // detection rules compiled (routed or not)
	Routed       int // detection rules whose logsource webshellbeat produces
	Correlations int // correlation rules evaluated
	Filters      int // filter rules loaded
	Rejected     int // rules rejected (file:line:col in Problems)
	Left         int // rules left out by rules.min_level and rules.exclude_status
	Warnings     int
	Files        int // rule files read (the built-in pack included)
}

// corrUnit is one Correlator over correlation rules that refer to one
// another (a chain), keyed by their content so that a reload that leaves
// them unchanged keeps their windows.
type corrUnit struct {
	key   string
	rules []*sigma.Rule
	c     *aggregate.Correlator
}

// loaded is one reading of the rule sources.
type loaded struct {
	coll    *sigma.Collection
	ruleset map[string]string
	files   int
	stamp   string
}

// LoadRules loads the rules cfg names as the detector does (the built-in
// pack when enabled, and every file under cfg.Rules.Paths, as one
// collection), for tools that report on them ("rules check --builtin").
func LoadRules(cfg config.Detection) *sigma.Collection { return loadRules(cfg).coll }

// loadRules reads the built-in pack (when enabled) and every file under
// cfg.Rules.Paths as one collection, so that correlation and filter rules
// in one place may name rules of another (a correlation in /etc/rules over
// the pack's rules). Paths in rules and diagnostics are the real ones.
func loadRules(cfg config.Detection) loaded {
	coll := &sigma.Collection{}
	ruleset := map[string]string{}
	var stamp strings.Builder
	files := 0
	add := func(realPath string, data []byte, set string) {
		coll.Parse(realPath, data)
		ruleset[realPath] = set
		files++
	}
	if cfg.Rules.Builtin {
		var pack []string
		_ = fs.WalkDir(rules.Builtin, rules.BuiltinRoot, func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && isRuleFile(p) {
				pack = append(pack, p)
			}
			return nil
		})
		// The founding document's two rules (seed_*) load after the pack's
		// own: an alert that both match is titled by the rule listed first
		// of its level, and theirs are in Chinese.
		seed := func(p string) int {
			if strings.HasPrefix(path.Base(p), "seed_") {
				return 1
			}
			return 0
		}
		slices.SortStableFunc(pack, func(a, b string) int { return seed(a) - seed(b) })
		for _, p := range pack {
			if data, err := fs.ReadFile(rules.Builtin, p); err == nil {
				add(p, data, "webshellbeat")
			}
		}
	}
	for _, root := range cfg.Rules.Paths {
		set := filepath.Base(filepath.Clean(root))
		for _, f := range ruleFiles(root, &coll.Errors) {
			fmt.Fprintf(&stamp, "%s\n", fileStamp(f))
			data, err := os.ReadFile(f)
			if err != nil {
				coll.Errors.Add(f, sigma.Pos{Line: 1, Col: 1}, sigma.CodeIO, "%v", err)
				continue
			}
			add(f, data, set)
		}
	}
	for _, p := range cfg.Rules.Pipelines {
		fmt.Fprintf(&stamp, "%s\n", fileStamp(p))
	}
	coll.Finish()
	return loaded{coll: coll, ruleset: ruleset, files: files, stamp: stamp.String()}
}

func isRuleFile(name string) bool {
	ext := strings.ToLower(filepath.Ext(name))
	return ext == ".yml" || ext == ".yaml"
}

// ruleFiles lists what sigma.LoadPaths would read under root, in its order
// (root itself when it is a file; else every *.yml and *.yaml below it,
// sorted).
func ruleFiles(root string, errs *sigma.ErrorList) []string {
	var out []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errs != nil {
				errs.Add(p, sigma.Pos{Line: 1, Col: 1}, sigma.CodeIO, "%v", err)
			}
			return nil
		}
		if d.IsDir() || (p != root && !isRuleFile(p)) {
			return nil
		}
		out = append(out, p)
		return nil
	})
	if err != nil && errs != nil {
		errs.Add(root, sigma.Pos{Line: 1, Col: 1}, sigma.CodeIO, "%v", err)
	}
	slices.Sort(out)
	return out
}

// fileStamp is p's name, size and modification time (of the file a
// symbolic link points to, as mounted ConfigMaps are).
func fileStamp(p string) string {
	info, err := os.Stat(p)
	if err != nil {
		return p + "\x00missing"
	}
	return fmt.Sprintf("%s\x00%d\x00%d", p, info.Size(), info.ModTime().UnixNano())
}

// currentStamp is the stamp loadRules would record now, from names, sizes
// and modification times only (no file is read).
func currentStamp(cfg config.Detection) string {
	var b strings.Builder
	for _, root := range cfg.Rules.Paths {
		for _, f := range ruleFiles(root, nil) {
			fmt.Fprintf(&b, "%s\n", fileStamp(f))
		}
	}
	for _, p := range cfg.Rules.Pipelines {
		fmt.Fprintf(&b, "%s\n", fileStamp(p))
	}
	return b.String()
}

// buildRuleSet loads and compiles everything cfg names. prev, when not nil,
// lends its correlators to unchanged correlation rules. It fails when a
// pipeline file is unusable or no detection rule at all can be used.
func buildRuleSet(cfg config.Detection, prev *ruleSet) (*ruleSet, error) {
	ld := loadRules(cfg)
	coll := ld.coll
	left := coll.Select(cfg.Rules.Selection())
	pipes, err := loadPipelines(cfg.Rules.Pipelines)
	if err != nil {
		return nil, err
	}
	// pipes already holds the built-ins: the engine renames detection rules
	// by the very list that renames correlation rules below.
	eng, err := engine.New(coll, engine.Options{Pipelines: pipes, NoBuiltinPipelines: true, Placeholders: cfg.Rules.Placeholders})
	if err != nil {
		return nil, err
	}
	rs := &ruleSet{engine: eng, ruleset: ld.ruleset, stamp: ld.stamp}
	rs.rejected = append(append(rs.rejected, coll.Errors...), eng.Errors()...)
	rs.warnings = append(rs.warnings, coll.Warnings...)
	rs.units = buildUnits(mapCorrelations(coll, pipes), prev, &rs.rejected)
	rs.rejected.Sort()
	st := eng.Stats()
	rs.info = RulesInfo{Loaded: st.Rules + st.Unroutable, Routed: st.Rules, Correlations: countRules(rs.units),
		Filters: len(coll.Filters), Rejected: len(rs.rejected), Left: len(left), Warnings: len(rs.warnings), Files: ld.files}
	if rs.info.Loaded == 0 && len(left) > 0 {
		return rs, fmt.Errorf("no rule to run: rules.min_level %q and rules.exclude_status %v leave out all %d rules loaded", cfg.Rules.MinLevel, cfg.Rules.ExcludeStatus, len(left))
	}
	if rs.info.Loaded == 0 {
		return rs, fmt.Errorf("no usable rule (builtin: %v, paths: %v): %w", cfg.Rules.Builtin, cfg.Rules.Paths, rs.problems().Err())
	}
	return rs, nil
}

// loadPipelines reads the rules.pipelines files and adds the built-in
// pipelines, in the order they run.
func loadPipelines(files []string) ([]*pipeline.Pipeline, error) {
	var pipes []*pipeline.Pipeline
	for _, p := range files {
		pl, err := pipeline.Load(p)
		if err != nil {
			return nil, fmt.Errorf("rules.pipelines: %w", err)
		}
		pipes = append(pipes, pl)
	}
	return pipeline.WithBuiltin(pipes)
}

// PrepareCorrelations renames the correlation rules of coll by pipes (the
// user pipelines and the built-ins, as pipeline.WithBuiltin orders them) and
// builds their correlators, chain by chain, as New does, so that a tool
// reporting on rules ("rules check") accepts and refuses what the beat
// would. It returns how many correlation rules would run and adds each
// refused chain to rejected.
func PrepareCorrelations(coll *sigma.Collection, pipes []*pipeline.Pipeline, rejected *sigma.ErrorList) int {
	return countRules(buildUnits(mapCorrelations(coll, pipes), nil, rejected))
}

func countRules(units []*corrUnit) int {
	n := 0
	for _, u := range units {
		n += len(u.rules)
	}
	return n
}

// mapCorrelations renames the field names of the correlation rules of coll
// per rule they name, as the pipelines rename that rule's own fields, so a
// correlation may group by User or count Image as a detection rule matches
// them. The renamed copies keep their id and name, which is all the
// correlators and standalone match rules by.
func mapCorrelations(coll *sigma.Collection, pipes []*pipeline.Pipeline) []*sigma.Rule {
	out := make([]*sigma.Rule, len(coll.Correlations))
	for i, r := range coll.Correlations {
		out[i] = pipeline.ApplyCorrelation(r, coll.Lookup, pipes...)
	}
	return out
}

func (rs *ruleSet) problems() sigma.ErrorList {
	out := append(append(sigma.ErrorList(nil), rs.rejected...), rs.warnings...)
	out.Sort()
	return out
}

// buildUnits groups the correlation rules into chains (a correlation that
// names another is in its chain) and makes one Correlator per chain,
// reusing prev's when the chain's rules are unchanged. A chain the
// correlator refuses (a count threshold it could never reach) is reported
// as bad-correlation and left out.
func buildUnits(corrs []*sigma.Rule, prev *ruleSet, rejected *sigma.ErrorList) []*corrUnit {
	if len(corrs) == 0 {
		return nil
	}
	parent := make([]int, len(corrs))
	for i := range parent {
		parent[i] = i
	}
	var find func(int) int
	find = func(i int) int {
		if parent[i] != i {
			parent[i] = find(parent[i])
		}
		return parent[i]
	}
	byRef := map[string]int{}
	for i, r := range corrs {
		for _, k := range []string{r.ID, r.Name} {
			if _, dup := byRef[k]; k != "" && !dup {
				byRef[k] = i
			}
		}
	}
	for i, r := range corrs {
		for _, ref := range r.Correlation.Rules {
			if j, ok := byRef[ref]; ok {
				parent[find(i)] = find(j)
			}
		}
	}
	groups := map[int][]*sigma.Rule{}
	var order []int
	for i, r := range corrs {
		g := find(i)
		if groups[g] == nil {
			order = append(order, g)
		}
		groups[g] = append(groups[g], r)
	}
	old := map[string]*corrUnit{}
	if prev != nil {
		for _, u := range prev.units {
			old[u.key] = u
		}
	}
	var units []*corrUnit
	for _, g := range order {
		rs := groups[g]
		key := unitKey(rs)
		if u := old[key]; u != nil {
			units = append(units, u)
			continue
		}
		c, err := aggregate.New(rs, aggregate.Options{})
		if err != nil {
			rejected.Add(rs[0].Path, rs[0].Correlation.Pos, sigma.CodeBadCorrelation, "%s", strings.TrimPrefix(err.Error(), rs[0].Path+": "))
			continue
		}
		units = append(units, &corrUnit{key: key, rules: rs, c: c})
	}
	return units
}

// unitKey identifies correlation rules by what they mean and say, not by
// where in their file they are.
func unitKey(rs []*sigma.Rule) string {
	keys := make([]string, len(rs))
	for i, r := range rs {
		c := *r.Correlation
		c.Pos = sigma.Pos{}
		b, _ := json.Marshal(struct {
			ID, Title, Name, Description, Level, Author, Date, Modified, Path string
			References, Tags                                                  []string
			Correlation                                                       sigma.Correlation
		}{r.ID, r.Title, r.Name, r.Description, r.Level, r.Author, r.Date, r.Modified, r.Path, r.References, r.Tags, c})
		keys[i] = string(b)
	}
	slices.Sort(keys)
	return strings.Join(keys, "\n")
}

// standalone reports whether r's matches (or a correlation rule's alerts)
// are alerts of their own: no correlation names r without generate.
func (rs *ruleSet) standalone(r *sigma.Rule) bool {
	for _, u := range rs.units {
		if !u.c.Standalone(r) {
			return false
		}
	}
	return true
}

// ErrReloadRefused is wrapped by Reload's error when the new rules were
// not swapped in.
var ErrReloadRefused = errors.New("rules not reloaded, the previous rules stay in use")
