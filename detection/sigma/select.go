package sigma

import (
	"fmt"
	"slices"
	"strings"
)

// Levels are Sigma's rule levels, least severe first.
var Levels = []string{"informational", "low", "medium", "high", "critical"}

// Statuses are Sigma's rule statuses.
var Statuses = []string{"stable", "test", "experimental", "deprecated", "unsupported"}

// Selection chooses which loaded rules run, as Hayabusa's --min-level and
// --exclude-status do: a SOC that points the beat at all of SigmaHQ keeps
// the informational and low rules, or the deprecated ones, out of its alert
// index. A rule is left out when its level is below MinLevel or its status
// is in ExcludeStatus; a rule with no level, or no status, is kept.
type Selection struct {
	MinLevel      string   // "" (every level), one of Levels, or "info"
	ExcludeStatus []string // statuses of Statuses
}

// Validate reports a level or status Sigma does not have, so that a typo
// does not silently select nothing.
func (s Selection) Validate() error {
	if s.MinLevel != "" && levelRank(s.MinLevel) < 0 {
		return fmt.Errorf("min_level %q is not one of %s", s.MinLevel, strings.Join(Levels, ", "))
	}
	for _, st := range s.ExcludeStatus {
		if !slices.Contains(Statuses, strings.ToLower(st)) {
			return fmt.Errorf("exclude_status %q is not one of %s", st, strings.Join(Statuses, ", "))
		}
	}
	return nil
}

// levelRank is l's position in Levels ("info" is informational), -1 for
// anything else.
func levelRank(l string) int {
	l = strings.ToLower(strings.TrimSpace(l))
	if l == "info" {
		l = "informational"
	}
	return slices.Index(Levels, l)
}

// leaves reports whether s leaves r out by its own level and status.
func (s Selection) leaves(r *Rule) bool {
	if s.MinLevel != "" {
		if rank := levelRank(r.Level); rank >= 0 && rank < levelRank(s.MinLevel) {
			return true
		}
	}
	return r.Status != "" && slices.ContainsFunc(s.ExcludeStatus, func(st string) bool { return strings.EqualFold(st, r.Status) })
}

// Select removes from c the detection and correlation rules that s leaves
// out, and returns them, so that the caller can count and name them. A rule
// that a kept correlation names (directly or through a chain) is kept
// whatever its level or status: correlation base rules are often
// informational, and the correlation, which does alert, needs their matches.
// Filter rules are kept. Call it after Finish.
func (c *Collection) Select(s Selection) (left []*Rule) {
	if s.MinLevel == "" && len(s.ExcludeStatus) == 0 {
		return nil
	}
	needed := map[*Rule]bool{}
	var need func(r *Rule)
	need = func(r *Rule) {
		if r == nil || needed[r] {
			return
		}
		needed[r] = true
		if r.Correlation != nil {
			for _, ref := range r.Correlation.Rules {
				need(c.Lookup(ref))
			}
		}
	}
	for _, r := range c.Correlations {
		if !s.leaves(r) {
			need(r)
		}
	}
	keep := func(rules []*Rule) []*Rule {
		return slices.DeleteFunc(rules, func(r *Rule) bool {
			if needed[r] || !s.leaves(r) {
				return false
			}
			left = append(left, r)
			return true
		})
	}
	c.Rules = keep(c.Rules)
	c.Correlations = keep(c.Correlations)
	return left
}
