package sigma

import (
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

func isRuleFile(name string) bool {
	ext := strings.ToLower(filepath.Ext(name))
	return ext == ".yml" || ext == ".yaml"
}

// LoadPaths loads rule files and directories (recursively, *.yml and
// *.yaml). Unreadable paths become errors; loading goes on.
func LoadPaths(paths ...string) *Collection {
	c := &Collection{}
	for _, root := range paths {
		var files []string
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				c.Errors.Add(p, Pos{1, 1}, CodeIO, "%v", err)
				return nil
			}
			if !d.IsDir() && (p == root || isRuleFile(p)) {
				files = append(files, p)
			}
			return nil
		})
		if err != nil {
			c.Errors.Add(root, Pos{1, 1}, CodeIO, "%v", err)
		}
		sort.Strings(files)
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				c.Errors.Add(f, Pos{1, 1}, CodeIO, "%v", err)
				continue
			}
			c.Parse(f, data)
		}
	}
	c.Finish()
	return c
}

// LoadFS loads every *.yml and *.yaml under root in fsys (embedded rules).
func LoadFS(fsys fs.FS, root string) *Collection {
	c := &Collection{}
	err := fs.WalkDir(fsys, root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			c.Errors.Add(p, Pos{1, 1}, CodeIO, "%v", err)
			return nil
		}
		if d.IsDir() || !isRuleFile(path.Base(p)) {
			return nil
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			c.Errors.Add(p, Pos{1, 1}, CodeIO, "%v", err)
			return nil
		}
		c.Parse(p, data)
		return nil
	})
	if err != nil {
		c.Errors.Add(root, Pos{1, 1}, CodeIO, "%v", err)
	}
	c.Finish()
	return c
}

// Finish warns about duplicate ids and names, resolves the references of
// correlation and filter rules, and sorts the diagnostics. LoadPaths and
// LoadFS call it; a caller that gathers files itself calls Parse for each
// and then Finish once, so that rules of one file may name rules of another.
func (c *Collection) Finish() {
	seen := map[string]*Rule{}
	names := map[string]*Rule{}
	for _, r := range slices.Concat(c.Rules, c.Correlations) {
		if r.ID != "" {
			if first, dup := seen[r.ID]; dup {
				c.Warnings.Add(r.Path, r.Pos, CodeDuplicateID, "id %s already used by %s", r.ID, first.Path)
			} else {
				seen[r.ID] = r
			}
		}
		if r.Name != "" {
			if first, dup := names[r.Name]; dup {
				c.Warnings.Add(r.Path, r.Pos, CodeDuplicateName, "name %q already used by %s", r.Name, first.Path)
			} else {
				names[r.Name] = r
			}
		}
	}
	c.resolveCorrelations()
	for _, f := range c.Filters {
		for _, ref := range f.Filter.Rules {
			if c.Lookup(ref) == nil {
				c.Warnings.Add(f.Path, f.Filter.Pos, CodeUnknownRule, "filter %q names rule %q, which is not loaded", f.Title, ref)
			}
		}
	}
	c.Errors.Sort()
	c.Warnings.Sort()
}

// Lookup returns the detection or correlation rule with id or name ref.
func (c *Collection) Lookup(ref string) *Rule {
	for _, r := range slices.Concat(c.Rules, c.Correlations) {
		if r.ID == ref || r.Name == ref {
			return r
		}
	}
	return nil
}

// resolveCorrelations drops, with an error, correlations that name a rule
// that is not loaded (or itself dropped) and correlations that form a cycle.
func (c *Collection) resolveCorrelations() {
	byRef := map[string]*Rule{}
	for _, r := range c.Rules {
		for _, k := range []string{r.ID, r.Name} {
			if k != "" && byRef[k] == nil {
				byRef[k] = r
			}
		}
	}
	corrByRef := map[string]*Rule{}
	for _, r := range c.Correlations {
		for _, k := range []string{r.ID, r.Name} {
			if k != "" && corrByRef[k] == nil {
				corrByRef[k] = r
			}
		}
	}
	bad := map[*Rule]bool{}
	// state: 0 unvisited, 1 on the stack, 2 done.
	state := map[*Rule]int{}
	var visit func(r *Rule) bool
	visit = func(r *Rule) bool {
		switch state[r] {
		case 1:
			return false
		case 2:
			return !bad[r]
		}
		state[r] = 1
		ok := true
		for _, ref := range r.Correlation.Rules {
			if byRef[ref] != nil {
				continue
			}
			sub := corrByRef[ref]
			switch {
			case sub == nil:
				c.Errors.Add(r.Path, r.Correlation.Pos, CodeUnknownRule, "correlation %q names rule %q, which is not loaded", r.Title, ref)
				ok = false
			case sub == r || state[sub] == 1:
				c.Errors.Add(r.Path, r.Correlation.Pos, CodeUnknownRule, "correlation %q: rule %q makes a cycle", r.Title, ref)
				ok = false
			case !visit(sub):
				c.Errors.Add(r.Path, r.Correlation.Pos, CodeUnknownRule, "correlation %q names correlation %q, which was rejected", r.Title, ref)
				ok = false
			}
		}
		state[r] = 2
		bad[r] = !ok
		return ok
	}
	kept := c.Correlations[:0]
	for _, r := range c.Correlations {
		if visit(r) {
			kept = append(kept, r)
		}
	}
	clear(c.Correlations[len(kept):])
	c.Correlations = kept
}
