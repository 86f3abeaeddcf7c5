package session

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"webshellbeat/detection"
)

// Subject is what exceptions and the baseline look at in an alert.
type Subject struct {
	Host, AppPool, Script, CommandLine, User string
	RuleIDs                                  []string
	// Shape parts: the web-server root, the parent and the process names.
	Root, Parent, Name string
	// Field returns the values of any field of the alert as strings (each
	// element of a list; numbers and booleans formatted), nil when absent:
	// what Exception.Fields tests.
	Field func(path string) []string
}

// Exception silences or lowers alerts. Every field given must match (lists
// match when any element does); globs use path.Match syntax (* ? [class]),
// case-insensitive, with '\' an ordinary character (see globPattern).
type Exception struct {
	Hosts        []string `config:"hosts" json:"hosts,omitempty"`
	AppPools     []string `config:"app_pools" json:"app_pools,omitempty"`
	Scripts      []string `config:"scripts" json:"scripts,omitempty"`
	RuleIDs      []string `config:"rule_ids" json:"rule_ids,omitempty"`
	CommandLines []string `config:"command_lines" json:"command_lines,omitempty"`
	Users        []string `config:"users" json:"users,omitempty"`
	// Fields tests any field of the alert document, by ECS path: a value
	// of the field (any element of a list) must match one of its globs.
	Fields FieldGlobs `config:"fields" json:"fields,omitempty"`
	// Action: suppress (the alert becomes an event) or lower (low severity).
	Action string `config:"action" json:"action,omitempty"`
	// Reason is written into the document, to explain it.
	Reason string `config:"reason" json:"reason,omitempty"`
}

// Validate checks the exception has a condition and a known action.
func (e Exception) Validate() error {
	if len(e.Hosts)+len(e.AppPools)+len(e.Scripts)+len(e.RuleIDs)+len(e.CommandLines)+len(e.Users)+len(e.Fields) == 0 {
		return errors.New("no condition (hosts, app_pools, scripts, rule_ids, command_lines, users, fields): it would silence every alert")
	}
	switch e.Action {
	case "", "suppress", "lower":
	default:
		return fmt.Errorf("action %q is not one of suppress, lower", e.Action)
	}
	lists := [][]string{e.Hosts, e.AppPools, e.Scripts, e.CommandLines, e.Users}
	for _, f := range e.Fields {
		if len(f.Globs) == 0 {
			return fmt.Errorf("fields: %s has no value to match", f.Path)
		}
		lists = append(lists, f.Globs)
	}
	for _, list := range lists {
		for _, g := range list {
			if _, err := path.Match(globPattern(g), ""); err != nil {
				return fmt.Errorf("bad glob %q: %w", g, err)
			}
		}
	}
	return nil
}

// FieldGlobs is the fields condition of an exception: field paths, each with
// globs. It is written as a map, with the paths dotted or nested in YAML
// ("process.parent.name: [php-fpm]"), which the configuration library reads
// as nested maps; Unpack flattens them back to paths. Kept in path order, so
// that error messages and documents are stable.
type FieldGlobs []FieldGlob

// FieldGlob is one field of an exception and the globs its value may match.
type FieldGlob struct {
	Path  string   `json:"path"`
	Globs []string `json:"globs"`
}

// Unpack implements go-ucfg's Unpacker: in is the map under "fields".
func (f *FieldGlobs) Unpack(in any) error {
	m, ok := in.(map[string]any)
	if !ok {
		return fmt.Errorf("fields: want a map of field paths to values, got %T", in)
	}
	*f = nil
	return f.flatten("", m)
}

func (f *FieldGlobs) flatten(prefix string, m map[string]any) error {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		p := k
		if prefix != "" {
			p = prefix + "." + k
		}
		switch v := m[k].(type) {
		case map[string]any:
			if err := f.flatten(p, v); err != nil {
				return err
			}
		case []any:
			g := FieldGlob{Path: p}
			for i, x := range v {
				s, ok := detection.ScalarString(x)
				if !ok {
					return fmt.Errorf("fields: %s[%d] is a %T, want a string, number or boolean", p, i, x)
				}
				g.Globs = append(g.Globs, s)
			}
			*f = append(*f, g)
		default:
			s, ok := detection.ScalarString(v)
			if !ok {
				return fmt.Errorf("fields: %s is a %T, want a value or a list of values", p, v)
			}
			*f = append(*f, FieldGlob{Path: p, Globs: []string{s}})
		}
	}
	return nil
}

// globPattern turns an exception glob into a path.Match pattern over the
// value with '/' replaced by NUL ('/' is not special here: a glob spans
// path separators). A backslash is an ordinary character, not path.Match's
// escape, so that Windows paths are written as they are: with escaping,
// 'C:\Tools\*' would mean "C:Tools" and a literal '*'.
func globPattern(g string) string {
	g = strings.ToLower(g)
	g = strings.ReplaceAll(g, `\`, `\\`)
	return strings.ReplaceAll(g, "/", "\x00")
}

func globAny(globs []string, v string) bool {
	if len(globs) == 0 {
		return true
	}
	lv := strings.ToLower(v)
	for _, g := range globs {
		if strings.ToLower(g) == lv {
			return true
		}
		if ok, _ := path.Match(globPattern(g), strings.ReplaceAll(lv, "/", "\x00")); ok {
			return true
		}
	}
	return false
}

// fieldMatches says a value of field f.Path in the alert matches one of
// f.Globs; an absent field matches nothing.
func fieldMatches(f FieldGlob, s Subject) bool {
	if s.Field == nil {
		return false
	}
	for _, v := range s.Field(f.Path) {
		if globAny(f.Globs, v) {
			return true
		}
	}
	return false
}

// Matches says the exception applies to s.
func (e Exception) Matches(s Subject) bool {
	if !globAny(e.Hosts, s.Host) || !globAny(e.AppPools, s.AppPool) || !globAny(e.Scripts, s.Script) ||
		!globAny(e.CommandLines, s.CommandLine) || !globAny(e.Users, s.User) {
		return false
	}
	for _, f := range e.Fields {
		if !fieldMatches(f, s) {
			return false
		}
	}
	if len(e.RuleIDs) > 0 {
		for _, id := range s.RuleIDs {
			for _, want := range e.RuleIDs {
				if strings.EqualFold(id, want) {
					return true
				}
			}
		}
		return false
	}
	return true
}

// Baseline learns process shapes (host, web-server root, parent, process,
// command line with numbers and hex runs masked) during a learning period of
// event time that starts with the first event it sees, then tells known
// shapes from new ones. It is bounded (MaxShapes) and can be saved.
type Baseline struct {
	mu       sync.Mutex
	period   time.Duration
	max      int
	start    time.Time
	shapes   map[string]time.Time
	path     string
	Overflow int64 // shapes not learnt because the baseline was full
}

// NewBaseline returns a baseline that learns for period; file, when not
// empty, is where it is loaded from and saved to.
func NewBaseline(period time.Duration, maxShapes int, file string) (*Baseline, error) {
	if maxShapes <= 0 {
		maxShapes = 10000
	}
	b := &Baseline{period: period, max: maxShapes, shapes: map[string]time.Time{}, path: file}
	if file == "" {
		return b, nil
	}
	data, err := os.ReadFile(file)
	if errors.Is(err, os.ErrNotExist) {
		return b, nil
	}
	if err != nil {
		return nil, err
	}
	var saved baselineFile
	if err := json.Unmarshal(data, &saved); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if saved.Version == 1 {
		b.start = saved.Start
		for _, s := range saved.Shapes {
			b.shapes[s] = saved.Start
		}
	}
	return b, nil
}

type baselineFile struct {
	Version int       `json:"version"`
	Start   time.Time `json:"learning_started"`
	Shapes  []string  `json:"shapes"`
}

var (
	maskHex = regexp.MustCompile(`\b[0-9a-f]{8,}\b`)
	maskNum = regexp.MustCompile(`\d+`)
)

// Shape returns the baseline key of s.
func Shape(s Subject) string {
	cmd := strings.ToLower(s.CommandLine)
	cmd = maskHex.ReplaceAllString(cmd, "<hex>")
	cmd = maskNum.ReplaceAllString(cmd, "<n>")
	return strings.ToLower(s.Host + "|" + s.Root + "|" + s.Parent + "|" + s.Name + "|" + cmd)
}

// Verdict of the baseline on a shape.
type Verdict string

const (
	Learning Verdict = "learning"
	Known    Verdict = "known"
	New      Verdict = "new"
)

// Seen starts the learning period at the first event time it is given
// (the detector calls it for every event, alert or not).
func (b *Baseline) Seen(at time.Time) {
	b.mu.Lock()
	if b.start.IsZero() && !at.IsZero() {
		b.start = at
	}
	b.mu.Unlock()
}

// Observe learns s during the learning period and classifies it after.
func (b *Baseline) Observe(s Subject, at time.Time) Verdict {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.start.IsZero() {
		b.start = at
	}
	shape := Shape(s)
	if at.Before(b.start.Add(b.period)) {
		if _, ok := b.shapes[shape]; !ok {
			if len(b.shapes) >= b.max {
				b.Overflow++
			} else {
				b.shapes[shape] = at
			}
		}
		return Learning
	}
	if _, ok := b.shapes[shape]; ok {
		return Known
	}
	return New
}

// Save writes the baseline to its file (atomically), when it has one.
func (b *Baseline) Save() error {
	if b == nil || b.path == "" {
		return nil
	}
	b.mu.Lock()
	f := baselineFile{Version: 1, Start: b.start}
	for s := range b.shapes {
		f.Shapes = append(f.Shapes, s)
	}
	b.mu.Unlock()
	data, err := json.Marshal(f)
	if err != nil {
		return err
	}
	return detection.WriteFileAtomic(b.path, data)
}
