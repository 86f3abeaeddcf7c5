// Package pipeline renames Sigma fields into the event schema (ECS) once, at
// load time: it turns a sigma.Rule into a new sigma.Rule, so the compiled
// matcher never translates names per event. The YAML shape follows pySigma's
// processing pipelines (a list of transformations with rule conditions).
package pipeline

import (
	"bytes"
	"embed"
	"fmt"
	"os"
	"path"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Transformation types.
const (
	// TypeFieldNameMapping renames fields found in Mapping. A mapping to a
	// list gives fallbacks: the first name present in the event is used.
	TypeFieldNameMapping = "field_name_mapping"
	// TypeFieldNamePrefix prefixes every field that is not yet an ECS name
	// (has no dot), optionally lowercased: the catch-all of a product.
	TypeFieldNamePrefix = "field_name_prefix"
)

// Pipeline is an ordered list of transformations. Lower priorities run
// first, so user pipelines (default 10) can map a field before the built-ins
// (100) do.
type Pipeline struct {
	Name            string           `yaml:"name"`
	Priority        int              `yaml:"priority"`
	Transformations []Transformation `yaml:"transformations"`
}

// Transformation is one step; it applies to rules whose logsource satisfies
// its RuleConditions (all of them, or any with rule_cond_op: or).
type Transformation struct {
	ID         string             `yaml:"id"`
	Type       string             `yaml:"type"`
	Mapping    map[string]Targets `yaml:"mapping"`
	Prefix     string             `yaml:"prefix"`
	Lowercase  bool               `yaml:"lowercase"`
	Conditions []RuleCondition    `yaml:"rule_conditions"`
	CondOp     string             `yaml:"rule_cond_op"`
}

// RuleCondition selects rules by logsource. Empty keys match anything.
type RuleCondition struct {
	Type     string `yaml:"type"`
	Product  string `yaml:"product"`
	Category string `yaml:"category"`
	Service  string `yaml:"service"`
}

// Targets is one or more field names a Sigma field maps to.
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
	for i, t := range p.Transformations {
		if err := t.validate(); err != nil {
			errs = append(errs, fmt.Sprintf("transformation %d (%s): %v", i+1, t.ID, err))
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("pipeline %s: %s", name, strings.Join(errs, "; "))
	}
	return p, nil
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
	default:
		return fmt.Errorf("unknown type %q", t.Type)
	}
	if op := t.CondOp; op != "" && op != "and" && op != "or" {
		return fmt.Errorf("rule_cond_op must be and or or, not %q", op)
	}
	for _, c := range t.Conditions {
		if c.Type != "logsource" {
			return fmt.Errorf("unknown rule condition type %q", c.Type)
		}
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
