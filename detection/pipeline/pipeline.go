// Package pipeline renames Sigma fields into the event schema (ECS), and
// rewrites detection values, once, at load time: it turns a sigma.Rule into
// a new sigma.Rule, so the compiled matcher never translates names or values
// per event. The YAML shape follows pySigma's processing pipelines (a list
// of transformations with rule conditions and field-name conditions).
package pipeline

import (
	"bytes"
	"embed"
	"fmt"
	"os"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"webshellbeat/detection/sigma"
)

// Transformation types.
const (
	// TypeFieldNameMapping renames fields found in Mapping. A mapping to a
	// list gives fallbacks: the first name present in the event is used.
	TypeFieldNameMapping = "field_name_mapping"
	// TypeFieldNamePrefix prefixes every field that is not yet an ECS name
	// (has no dot), optionally lowercased: the catch-all of a product.
	TypeFieldNamePrefix = "field_name_prefix"
	// TypeKeywordsToField makes keyword searches (Sigma's unbound values)
	// searches of Field, as substrings where the keyword would be one: for
	// rules written for records that hold fewer values than webshellbeat's
	// events (an auditd rule's keywords are an EXECVE record's arguments).
	// webshellbeat's own; pySigma leaves keywords to the backend.
	TypeKeywordsToField = "keywords_to_field"

	// Value transformations (values.go). They rewrite the string values of
	// the field matches their field_name_conditions select.

	// TypeReplaceString replaces what Regex matches by Replacement.
	TypeReplaceString = "replace_string"
	// TypeMapString replaces a value found in Mapping by its target(s).
	TypeMapString = "map_string"
	// TypeCase changes the case of values (Method lower, upper, snake_case).
	TypeCase = "case"
	// TypeSetValue replaces every value of a field match by Value.
	TypeSetValue = "set_value"

	// Placeholder transformations (placeholders.go) give the %name%
	// placeholders of expand values their values, as pySigma's do.

	// TypeValuePlaceholders expands a placeholder to the list of the same
	// name in the pipeline's vars.
	TypeValuePlaceholders = "value_placeholders"
	// TypeWildcardPlaceholders replaces a placeholder with a * wildcard.
	TypeWildcardPlaceholders = "wildcard_placeholders"
)

var typeNames = []string{TypeFieldNameMapping, TypeFieldNamePrefix, TypeKeywordsToField, TypeFieldNamePrefixMapping, TypeReplaceString, TypeMapString, TypeCase, TypeSetValue,
	TypeDropDetectionItem, TypeAddCondition, TypeChangeLogsource, TypeRuleFailure, TypeDetectionItemFailure,
	TypeValuePlaceholders, TypeWildcardPlaceholders}

// Pipeline is an ordered list of transformations. Lower priorities run
// first, so user pipelines (default 10) can map a field before the built-ins
// (100) do.
type Pipeline struct {
	Name     string `yaml:"name"`
	Priority int    `yaml:"priority"`
	// Vars are the values of placeholders (pySigma's vars): a name to one
	// value or a list, for value_placeholders.
	Vars            map[string]Targets `yaml:"vars"`
	Transformations []Transformation   `yaml:"transformations"`
}

// Transformation is one step; it applies to rules whose logsource satisfies
// its RuleConditions (all of them, or any with rule_cond_op: or), and within
// them to the fields its FieldConditions select (all of them, or any with
// field_name_cond_op: or; field_name_cond_not: true negates the result).
type Transformation struct {
	ID   string `yaml:"id"`
	Type string `yaml:"type"`
	// Mapping is the field mapping of field_name_mapping, the prefix
	// mapping of field_name_prefix_mapping, or the value mapping of
	// map_string (a value to one value or a list).
	Mapping   map[string]Targets `yaml:"mapping"`
	Prefix    string             `yaml:"prefix"`
	Lowercase bool               `yaml:"lowercase"`
	Field     string             `yaml:"field"` // keywords_to_field
	// MatchAny makes a list of field_name_mapping targets an OR, as in
	// pySigma: the match holds when it holds on any of them. Without it the
	// list is fallbacks, the first target present in the event is read.
	MatchAny bool `yaml:"match_any"`

	Regex       string    `yaml:"regex"`        // replace_string, Go regexp syntax
	Replacement string    `yaml:"replacement"`  // replace_string, \1 or \g<name> for groups
	SkipSpecial bool      `yaml:"skip_special"` // replace_string: leave wildcards alone
	Method      string    `yaml:"method"`       // case: lower (default), upper, snake_case
	Value       yaml.Node `yaml:"value"`        // set_value: a scalar
	// KeepOriginal (webshellbeat's own) keeps each value beside what
	// replace_string, map_string or case make of it, ORed: for fields that
	// rules write in two forms.
	KeepOriginal bool `yaml:"keep_original"`

	// Rule-level transformations (rulelevel.go).
	AddConditions map[string]yaml.Node `yaml:"conditions"` // add_condition: field -> value or list
	AddName       string               `yaml:"name"`       // add_condition: the search's name ("_..."); default _cond_<n>
	Template      bool                 `yaml:"template"`   // add_condition: $category, $product, $service in values
	Negated       bool                 `yaml:"negated"`    // add_condition: AND the search's negation
	Product       string               `yaml:"product"`    // change_logsource
	Category      string               `yaml:"category"`   // change_logsource
	Service       string               `yaml:"service"`    // change_logsource
	Message       string               `yaml:"message"`    // rule_failure, detection_item_failure

	// Placeholder transformations: the placeholder names they take (all
	// when Include is empty), less Exclude.
	Include []string `yaml:"include"`
	Exclude []string `yaml:"exclude"`

	Conditions      []RuleCondition      `yaml:"rule_conditions"`
	CondOp          string               `yaml:"rule_cond_op"`
	FieldConditions []FieldNameCondition `yaml:"field_name_conditions"`
	FieldCondOp     string               `yaml:"field_name_cond_op"`
	FieldCondNot    bool                 `yaml:"field_name_cond_not"`
	// SelectionConditions (selection.go) select field matches by the other
	// matches of their selection map, for renaming and value
	// transformations.
	SelectionConditions []SelectionCondition `yaml:"selection_conditions"`

	// Set by validate.
	re     *regexp.Regexp      // Regex compiled
	repl   string              // Replacement in regexp.Expand syntax
	strMap map[string][]string // map_string, keyed by the value in canonical Sigma syntax
	value  sigma.Value         // set_value
	added  []addedMatch        // add_condition, by field name
}

// RuleCondition selects rules by logsource. Empty keys match anything.
type RuleCondition struct {
	Type     string `yaml:"type"`
	Product  string `yaml:"product"`
	Category string `yaml:"category"`
	Service  string `yaml:"service"`
}

// FieldNameCondition selects field matches by field name, as pySigma's
// include_fields and exclude_fields: the name is one of Fields (mode
// plain, the default) or matches one of them from its start (mode re,
// Python's re.match; Go regexp syntax). Keywords have no field name: a
// transformation with field-name conditions never selects them.
type FieldNameCondition struct {
	Type      string   `yaml:"type"`
	Fields    []string `yaml:"fields"`
	Mode      string   `yaml:"mode"`       // plain or re
	MatchType string   `yaml:"match_type"` // alias of mode (plain, re or regex)

	res []*regexp.Regexp
}

// Targets is one or more field names a Sigma field maps to, or, for
// map_string, the values a value maps to.
type Targets []string

// UnmarshalYAML accepts a single name or a list.
func (t *Targets) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*t = Targets{n.Value}
		return nil
	}
	var l []string
	if err := n.Decode(&l); err != nil {
		return err
	}
	*t = l
	return nil
}

// Parse reads a pipeline. Unknown keys and types are errors, so a typo does
// not silently leave fields unmapped.
func Parse(name string, data []byte) (*Pipeline, error) {
	if err := checkTypes(data); err != nil {
		return nil, fmt.Errorf("pipeline %s: %w", name, err)
	}
	p := &Pipeline{Priority: 10}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(p); err != nil {
		return nil, fmt.Errorf("pipeline %s: %w", name, err)
	}
	if p.Name == "" {
		p.Name = name
	}
	var errs []string
	for i := range p.Transformations {
		t := &p.Transformations[i]
		if err := t.validate(); err != nil {
			errs = append(errs, fmt.Sprintf("transformation %d (%s): %v", i+1, t.ID, err))
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("pipeline %s: %s", name, strings.Join(errs, "; "))
	}
	return p, nil
}

// checkTypes reports a transformation of a type webshellbeat does not
// implement before the strict decoding does, which would only name the
// first parameter it does not know ("field suffix not found").
func checkTypes(data []byte) error {
	var loose struct {
		Transformations []struct {
			ID   string `yaml:"id"`
			Type string `yaml:"type"`
		} `yaml:"transformations"`
	}
	if yaml.Unmarshal(data, &loose) != nil {
		return nil // the strict decoding reports it
	}
	for i, t := range loose.Transformations {
		if !slices.Contains(typeNames, t.Type) {
			return fmt.Errorf("transformation %d (%s): unknown type %q (supported: %s)", i+1, t.ID, t.Type, strings.Join(typeNames, ", "))
		}
	}
	return nil
}

func (t *Transformation) validate() error {
	switch t.Type {
	case TypeFieldNameMapping:
		for k, v := range t.Mapping {
			if len(v) == 0 {
				return fmt.Errorf("field %q maps to nothing", k)
			}
		}
	case TypeFieldNamePrefix:
		if t.Prefix == "" {
			return fmt.Errorf("prefix is empty")
		}
	case TypeKeywordsToField:
		if t.Field == "" {
			return fmt.Errorf("field is empty")
		}
	case TypeFieldNamePrefixMapping:
		if len(t.Mapping) == 0 {
			return fmt.Errorf("mapping is empty")
		}
		for k, v := range t.Mapping {
			if k == "" || len(v) == 0 {
				return fmt.Errorf("prefix %q maps to %q: both must be given", k, v)
			}
		}
	case TypeReplaceString, TypeMapString, TypeCase, TypeSetValue:
		if err := t.validateValues(); err != nil {
			return err
		}
	case TypeDropDetectionItem, TypeAddCondition, TypeChangeLogsource, TypeRuleFailure, TypeDetectionItemFailure:
		if err := t.validateRuleLevel(); err != nil {
			return err
		}
	case TypeValuePlaceholders, TypeWildcardPlaceholders:
		if len(t.FieldConditions) > 0 {
			return fmt.Errorf("%s applies to every expand value of a rule; field_name_conditions are not supported", t.Type)
		}
	default:
		return fmt.Errorf("unknown type %q (supported: %s)", t.Type, strings.Join(typeNames, ", "))
	}
	if t.MatchAny && t.Type != TypeFieldNameMapping {
		return fmt.Errorf("match_any is for field_name_mapping, not %s", t.Type)
	}
	if (len(t.Include) > 0 || len(t.Exclude) > 0) && t.Type != TypeValuePlaceholders && t.Type != TypeWildcardPlaceholders {
		return fmt.Errorf("include and exclude are for value_placeholders and wildcard_placeholders, not %s", t.Type)
	}
	if t.KeepOriginal && t.Type != TypeReplaceString && t.Type != TypeMapString && t.Type != TypeCase {
		return fmt.Errorf("keep_original is for replace_string, map_string and case, not %s", t.Type)
	}
	if op := t.CondOp; op != "" && op != "and" && op != "or" {
		return fmt.Errorf("rule_cond_op must be and or or, not %q", op)
	}
	for _, c := range t.Conditions {
		if c.Type != "logsource" {
			return fmt.Errorf("unknown rule condition type %q", c.Type)
		}
	}
	if op := t.FieldCondOp; op != "" && op != "and" && op != "or" {
		return fmt.Errorf("field_name_cond_op must be and or or, not %q", op)
	}
	for i := range t.FieldConditions {
		if err := t.FieldConditions[i].compile(); err != nil {
			return err
		}
	}
	for _, c := range t.SelectionConditions {
		if err := c.validate(); err != nil {
			return err
		}
	}
	if len(t.SelectionConditions) > 0 && t.isRuleLevel() {
		return fmt.Errorf("selection_conditions select field matches; %s is a rule-level transformation", t.Type)
	}
	return nil
}

func (c *FieldNameCondition) compile() error {
	if c.Type != "include_fields" && c.Type != "exclude_fields" {
		return fmt.Errorf("unknown field name condition type %q (supported: include_fields, exclude_fields)", c.Type)
	}
	if len(c.Fields) == 0 {
		return fmt.Errorf("%s: fields is empty", c.Type)
	}
	mode := c.Mode
	if mode == "" {
		mode = c.MatchType
	}
	switch mode {
	case "", "plain":
	case "re", "regex":
		for _, f := range c.Fields {
			re, err := regexp.Compile(`^(?:` + f + `)`)
			if err != nil {
				return fmt.Errorf("%s: bad field name regexp %q: %v", c.Type, f, err)
			}
			c.res = append(c.res, re)
		}
	default:
		return fmt.Errorf("%s: mode must be plain or re, not %q", c.Type, mode)
	}
	return nil
}

// Load reads a pipeline file.
func Load(file string) (*Pipeline, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	return Parse(file, data)
}

//go:embed builtin/*.yml
var builtinFS embed.FS

// Builtin returns fresh copies of the built-in pipelines (windows, linux,
// webserver). They are tested, so an error means a broken build.
func Builtin() ([]*Pipeline, error) {
	entries, err := builtinFS.ReadDir("builtin")
	if err != nil {
		return nil, err
	}
	var out []*Pipeline
	for _, e := range entries {
		data, err := builtinFS.ReadFile(path.Join("builtin", e.Name()))
		if err != nil {
			return nil, err
		}
		p, err := Parse("builtin/"+e.Name(), data)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// WithBuiltin returns ps and the built-in pipelines in the order they run
// (Sort), so that detection and correlation rules can be renamed by one
// list.
func WithBuiltin(ps []*Pipeline) ([]*Pipeline, error) {
	builtin, err := Builtin()
	if err != nil {
		return nil, fmt.Errorf("built-in pipelines: %w", err)
	}
	out := append(append([]*Pipeline(nil), ps...), builtin...)
	Sort(out)
	return out, nil
}

// Sort orders pipelines by priority, keeping the given order among equals.
func Sort(ps []*Pipeline) {
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].Priority < ps[j].Priority })
}
