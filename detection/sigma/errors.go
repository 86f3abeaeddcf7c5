package sigma

import (
	"fmt"
	"sort"
	"strings"
)

// Error codes are short and stable: tests, metrics and users filter on them.
const (
	CodeYAML           = "yaml"                 // the file is not valid YAML
	CodeIO             = "io"                   // the file could not be read
	CodeBadRule        = "bad-rule"             // a required key is missing or has the wrong shape
	CodeBadDetection   = "bad-detection"        // a search identifier has an unusable shape
	CodeUnknownMod     = "unknown-modifier"     // a field modifier outside the closed set
	CodeBadModifier    = "bad-modifier"         // a known modifier used in a wrong combination
	CodeUnsupportedMod = "unsupported-modifier" // a modifier we recognise but do not implement (none left since expand is)
	CodeBadValue       = "bad-value"            // a value a modifier cannot use (non-numeric for gt...)
	CodeBadRegex       = "bad-regex"            // a regular expression RE2 cannot compile
	CodeBadCondition   = "bad-condition"        // a condition that does not parse
	CodeUnknownIdent   = "unknown-identifier"   // a condition names a search that does not exist
	CodeAggregation    = "unsupported-aggregation"
	CodeBadCorrelation = "bad-correlation"     // a correlation section with a wrong type, timespan, condition...
	CodeBadFilter      = "bad-filter"          // a filter section with a wrong shape or condition
	CodeUnknownRule    = "unknown-rule"        // a correlation names no loaded rule, or rules form a cycle (a warning for filters)
	CodePlaceholder    = "unknown-placeholder" // expand names a placeholder the configuration does not define
	CodeCompile        = "compile"             // the compiler rejected a rule the parser accepted (a bug)
	CodePipeline       = "pipeline"            // a pipeline rejects the rule (rule_failure, detection_item_failure, drop_detection_item)
	CodeBadID          = "bad-id"              // warning: id is not a UUID
	CodeDuplicateID    = "duplicate-id"        // warning: two rules share an id
	CodeDuplicateName  = "duplicate-name"      // warning: two rules share a name
)

// Error is a located problem with one rule. Line and Col are 1-based and
// count from the start of File, so editors can jump to them.
type Error struct {
	File string
	Line int
	Col  int
	Code string
	Msg  string
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s:%d:%d: %s: %s", e.File, e.Line, e.Col, e.Code, e.Msg)
}

// ErrorList collects every problem of a load; loading never stops at the
// first one.
type ErrorList []*Error

// Add appends a located error.
func (l *ErrorList) Add(file string, p Pos, code, format string, args ...any) {
	*l = append(*l, &Error{File: file, Line: p.Line, Col: p.Col, Code: code, Msg: fmt.Sprintf(format, args...)})
}

// Sort orders the list by file, line and column so output is stable.
func (l ErrorList) Sort() {
	sort.SliceStable(l, func(i, j int) bool {
		a, b := l[i], l[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
}

// Err returns the list as an error, or nil when it is empty.
func (l ErrorList) Err() error {
	if len(l) == 0 {
		return nil
	}
	return l
}

func (l ErrorList) Error() string {
	var b strings.Builder
	for i, e := range l {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// ByCode counts the errors per code, for summaries and tests.
func (l ErrorList) ByCode() map[string]int {
	m := map[string]int{}
	for _, e := range l {
		m[e.Code]++
	}
	return m
}
