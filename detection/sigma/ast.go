// Package sigma parses Sigma rules (YAML) into an AST that keeps source
// positions. It only parses and validates: field renaming lives in package
// pipeline, matching in packages compile and engine, so imports point one way.
package sigma

import (
	"strings"
	"time"
)

// Pos is a 1-based line and column counted from the start of the file.
type Pos struct {
	Line int
	Col  int
}

// Kind tells detection rules from the meta rules that refer to them.
type Kind int

const (
	KindDetection Kind = iota
	KindCorrelation
	KindFilter
)

// Rule is one Sigma rule document.
type Rule struct {
	ID             string
	Title          string
	Name           string // used by correlation rules to refer to rules
	Description    string
	Status         string
	Level          string
	Author         string
	Date           string
	Modified       string
	License        string
	References     []string
	Tags           []string
	FalsePositives []string
	Fields         []string
	Logsource      Logsource
	Detection      Detection

	Kind        Kind
	Correlation *Correlation // set when Kind == KindCorrelation
	Filter      *Filter      // set when Kind == KindFilter

	Path string // file the rule came from
	Pos  Pos    // start of the rule document
}

// Logsource selects the events a rule applies to. Values are lowercased.
type Logsource struct {
	Product  string
	Category string
	Service  string
}

// Detection holds the named searches and the conditions that combine them.
type Detection struct {
	Searches   map[string]*Search
	Names      []string     // search names in file order, for "them" and stable output
	Conditions []*Condition // several conditions are ORed
}

// Search is one search identifier: an OR of alternatives, each an AND of
// field matches. A map is one alternative; a list of maps is several; a list
// of plain values is one alternative holding one keyword match.
type Search struct {
	Name         string
	Pos          Pos
	Alternatives [][]*FieldMatch
}

// FieldMatch is "Field|mod|mod: values". Field is empty for keywords
// (values searched in every string of the event).
type FieldMatch struct {
	Field     string
	Fallbacks []string // further names tried, in order, when Field is absent (set by pipelines)
	// Also are further fields the match is tried on: it holds when it
	// holds on Field or on any of them (pySigma's list mapping; set by
	// pipelines with match_any).
	Also      []string
	Modifiers []Modifier
	Values    []Value
	Pos       Pos // position of the key (or of the first keyword)
}

// Has reports whether m is among the match's modifiers.
func (f *FieldMatch) Has(m Modifier) bool {
	for _, x := range f.Modifiers {
		if x == m {
			return true
		}
	}
	return false
}

// KeywordValues returns the values of keyword match f as a match on one
// value must hold them to search it as a keyword does: a string with no
// modifier saying where it lies is searched as a substring, wildcards or
// not, as pySigma's full-text backends search keywords ('ping*-n ?' is
// '%ping%-n _%' there). Before the twenty-ninth session a keyword with a
// wildcard had to match a whole value. A number stays a whole value, on
// purpose: pySigma searches it as text too ('%0%'), which would make
// SigmaHQ's "init 0" shutdown rule (auditd, its keywords are arguments)
// take every command with a 0 in an argument for a shutdown.
func KeywordValues(f *FieldMatch) []Value {
	if f.Has(ModContains) || f.Has(ModStartsWith) || f.Has(ModEndsWith) || f.Has(ModRe) {
		return f.Values
	}
	out := make([]Value, len(f.Values))
	for i, v := range f.Values {
		out[i] = v
		if v.Kind != ValueString {
			continue
		}
		if !strings.HasPrefix(v.Str, "*") {
			out[i].Str = "*" + out[i].Str
		}
		if !strings.HasSuffix(v.Str, "*") || strings.HasSuffix(v.Str, `\*`) {
			out[i].Str += "*"
		}
	}
	return out
}

// ValueKind is the YAML type of a value.
type ValueKind int

const (
	ValueString ValueKind = iota
	ValueNumber
	ValueBool
	ValueNull
)

// Value is one scalar of a detection. Str is the scalar text as written
// (escapes and wildcards not yet interpreted; see Pattern).
type Value struct {
	Kind ValueKind
	Str  string
	Pos  Pos
}

// Condition is one parsed condition expression.
type Condition struct {
	Source string
	Expr   CondNode
	Pos    Pos // position of the condition scalar
}

// CorrClause is one alternative of an extended condition: it holds in a
// window where every rule of Must matched and no rule of MustNot did (both
// are positions in Correlation.Rules). Must is never empty: webshellbeat
// sees only the events its rules match, so a window is always opened by one
// of them.
type CorrClause struct {
	Must, MustNot []int
}

// Correlation is the parsed body of a correlation rule (Sigma v2.1). The
// parser checks its shape; package aggregate evaluates it.
type Correlation struct {
	Type     string   // one of the CorrXxx constants
	Rules    []string // ids or names of detection or correlation rules
	GroupBy  []string
	Timespan string        // as written ("5m")
	Window   time.Duration // Timespan parsed
	// Conditions are ANDed ("gt: 100, lte: 200" is a range). Empty only for
	// temporal types, where the default is "every rule" (gte len(Rules)).
	Conditions []CorrCondition
	// Expression is an extended condition (pySigma's, for temporal types
	// only): a boolean expression over the names of Rules, such as
	// "upload and not scan"; "" for a count condition. Clauses is it in
	// disjunctive normal form.
	Expression string
	Clauses    []CorrClause
	Field      string  // condition field: the values counted, summed...
	Percentile float64 // value_percentile: which percentile (0-100), default 50
	// Aliases maps an alias used in GroupBy to, per referenced rule (by
	// name or id), the field that holds its value in that rule's events.
	Aliases  map[string]map[string]string
	Generate bool // the referenced rules also alert on their own
	Pos      Pos
	// Reads, set by pipeline.ApplyCorrelation, holds per rule of Rules (by
	// position) the event fields read in that rule's events. A correlation
	// has no logsource, so its names are mapped once per referenced rule,
	// while GroupBy and Field keep the names as written for display. Nil
	// means the names as written; see ReadsFor.
	Reads []CorrReads
}

// CorrReads are the event fields a correlation reads in the events of one
// of its rules: one list per GroupBy entry and one for Field (nil when
// there is none). Each list is a field, then fallbacks tried in order when
// it is absent, as a pipeline mapping to several names gives.
type CorrReads struct {
	GroupBy [][]string
	Field   []string
}

// ReadsFor returns the fields read in the events of Rules[i]: Reads[i]
// when pipelines set it, else WrittenReads(i).
func (c *Correlation) ReadsFor(i int) CorrReads {
	if i < len(c.Reads) {
		return c.Reads[i]
	}
	return c.WrittenReads(i)
}

// WrittenReads returns the fields of Rules[i] as the rule writes them: a
// group-by alias resolves to the field it names for that rule, or, when it
// names none, to itself (the events of a chained correlation carry the
// group-by names as fields).
func (c *Correlation) WrittenReads(i int) CorrReads {
	out := CorrReads{GroupBy: make([][]string, len(c.GroupBy))}
	for j, g := range c.GroupBy {
		if f, ok := c.Aliases[g][c.Rules[i]]; ok {
			g = f
		}
		out.GroupBy[j] = []string{g}
	}
	if c.Field != "" {
		out.Field = []string{c.Field}
	}
	return out
}

// Correlation types.
const (
	CorrEventCount      = "event_count"
	CorrValueCount      = "value_count"
	CorrTemporal        = "temporal"
	CorrTemporalOrdered = "temporal_ordered"
	CorrValueSum        = "value_sum"
	CorrValueAvg        = "value_avg"
	CorrValuePercentile = "value_percentile"
	// CorrValueMedian is value_percentile at 50, as pySigma defines it.
	CorrValueMedian = "value_median"
)

// CorrCondition is one "op: value" of a correlation condition.
type CorrCondition struct {
	Op    string // gt, gte, lt, lte, eq, neq
	Value float64
}

// Holds reports whether x satisfies the condition.
func (c CorrCondition) Holds(x float64) bool {
	switch c.Op {
	case "gt":
		return x > c.Value
	case "gte":
		return x >= c.Value
	case "lt":
		return x < c.Value
	case "lte":
		return x <= c.Value
	case "eq":
		return x == c.Value
	case "neq":
		return x != c.Value
	}
	return false
}

// Filter is the parsed body of a filter rule: its Detection (searches and
// condition, usually "not selection") is ANDed to the condition of every
// rule it names (by id or name), or, with no rules, of every rule of its
// logsource. See ApplyFilters.
type Filter struct {
	Rules     []string
	Detection Detection
	Pos       Pos
}
