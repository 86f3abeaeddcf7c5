// Package sigma parses Sigma rules (YAML) into an AST that keeps source
// positions. It only parses and validates: field renaming lives in package
// pipeline, matching in packages compile and engine, so imports point one way.
package sigma

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

// Correlation is the parsed body of a correlation rule (not evaluated yet).
type Correlation struct {
	Type     string
	Rules    []string
	GroupBy  []string
	Timespan string
	Pos      Pos
}

// Filter is the parsed body of a filter rule (not applied yet).
type Filter struct {
	Rules []string
	Pos   Pos
}
