package detector

import (
	"fmt"

	"webshellbeat/detection/sigma"
)

// ReloadResult says what a reload did.
type ReloadResult struct {
	// Swapped: the new rules are in use.
	Swapped bool
	// Unchanged: no rule file changed since the last attempt, nothing was
	// read (only when Reload was not forced).
	Unchanged bool
	Rules     RulesInfo
	// Problems are, for a swapped load, its rejections and warnings; for a
	// refused one, the rejections that refused it.
	Problems sigma.ErrorList
}

// Changed reports whether a rule file or pipeline file was added, removed
// or modified (name, size, modification time) since the last load attempt.
// It reads no file.
func (d *Detector) Changed() bool {
	d.reloadMu.Lock()
	defer d.reloadMu.Unlock()
	return currentStamp(d.cfg) != d.tried
}

// Reload reads the rule files again (when they changed, or always with
// force), compiles and checks them, and only then swaps them in at once:
// a document is matched by the old rules or the new ones, never a mix.
// The state survives: process table, request links, sessions, baseline,
// and the windows of every correlation rule that did not change (a changed
// correlation starts afresh).
//
// The new rules are refused, and the previous ones stay in use, when a
// pipeline file is unusable, when no rule can be used, or when the load has
// a rejection that the rules in use do not have (a file broken by an edit);
// the error then lists the rejections with file:line:col. A file that was
// already rejected in the same way does not block a reload.
func (d *Detector) Reload(force bool) (ReloadResult, error) {
	d.reloadMu.Lock()
	defer d.reloadMu.Unlock()
	if !force && currentStamp(d.cfg) == d.tried {
		return ReloadResult{Unchanged: true, Rules: d.Rules()}, nil
	}
	cur := d.rules.Load()
	rs, err := buildRuleSet(d.cfg, cur)
	if rs != nil {
		d.tried = rs.stamp
	} else {
		d.tried = currentStamp(d.cfg)
	}
	if err != nil {
		res := ReloadResult{Rules: cur.info}
		if rs != nil {
			res.Problems = rs.rejected
		}
		d.reloadsFailed.Add(1)
		return res, fmt.Errorf("%w: %w", ErrReloadRefused, err)
	}
	known := map[string]bool{}
	for _, e := range cur.rejected {
		known[e.Error()] = true
	}
	var fresh sigma.ErrorList
	for _, e := range rs.rejected {
		if !known[e.Error()] {
			fresh = append(fresh, e)
		}
	}
	if len(fresh) > 0 {
		d.reloadsFailed.Add(1)
		return ReloadResult{Rules: cur.info, Problems: fresh}, fmt.Errorf("%w: %d new rejection(s):\n%w", ErrReloadRefused, len(fresh), fresh)
	}
	d.rules.Store(rs)
	d.reloadsOK.Add(1)
	return ReloadResult{Swapped: true, Rules: rs.info, Problems: rs.problems()}, nil
}
