package engine

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"webshellbeat/detection/pipeline"
	"webshellbeat/detection/sigma"
)

const sigmaHQ = "../../../shared/data/SigmaHQ-sigma"

// acceptedRejections are the only codes a SigmaHQ rule may be rejected with
// by the parser: regexps RE2 cannot run and deprecated aggregations.
var acceptedRejections = map[string]bool{
	sigma.CodeBadRegex:    true, // look-around and back-references
	sigma.CodeAggregation: true,
}

func sigmaHQDirs(t testing.TB) []string {
	dirs, _ := filepath.Glob(filepath.Join(sigmaHQ, "rules*"))
	if len(dirs) == 0 {
		t.Skip("SigmaHQ rules not available")
	}
	return dirs
}

func TestLoadSigmaHQ(t *testing.T) {
	c := sigma.LoadPaths(sigmaHQDirs(t)...)
	e, err := New(c, Options{})
	if err != nil {
		t.Fatal(err)
	}
	st := e.Stats()
	t.Logf("loaded %d rules (%d routed, %d with a logsource we never see), rejected %d by code %v, compile failures %d, warnings %v",
		len(c.Rules), st.Rules, st.Unroutable, len(c.Errors), c.Errors.ByCode(), st.Failed, c.Warnings.ByCode())
	if total := len(c.Rules) + len(c.Errors); total < 3754 {
		t.Errorf("rules + rejections = %d, want at least the 3754 files", total)
	}
	for _, err := range c.Errors {
		if !acceptedRejections[err.Code] {
			t.Errorf("unexpected rejection: %v", err)
		}
	}
	// The engine rejects only the rules whose expand placeholders have no
	// values: Options.Placeholders is empty here.
	for _, err := range e.Errors() {
		if err.Code != sigma.CodePlaceholder {
			t.Errorf("compile failure: %v", err)
		}
	}
	if got := len(e.Errors()); got != st.Failed {
		t.Errorf("%d engine errors, Stats.Failed %d", got, st.Failed)
	}
	// With the placeholder configured, every rule compiles.
	e2, err := New(c, Options{Placeholders: map[string][]string{"known_cdcs": {"dc01.corp.example", "10.0.0.5"}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, err := range e2.Errors() {
		t.Errorf("with placeholders: %v", err)
	}
	// SigmaHQ's own web shell rule fires on the seed Sysmon event, through
	// the windows pipeline and the routing.
	if got := titles(e.Match(sysmonDoc())); !slices.Contains(got, "Suspicious Process By Web Server Process") {
		t.Errorf("seed sysmon event matched %q, want SigmaHQ's web server child rule", got)
	}
	// Evaluate every routed rule on a few documents: no rule may panic.
	for _, doc := range []map[string]any{sysmonDoc(), windowsProc(`C:\x\cmd.exe`, `C:\x\w3wp.exe`), linuxProc("sh", "httpd", "apache"), webDoc()} {
		e.Match(doc)
	}
}

// Every field of a SigmaHQ rule that runs on webshellbeat's events is an
// ECS name once the built-in pipelines have run: a Sigma name left as it is
// (Initiated on Linux, cs-content-type, before they were mapped) is a field
// no event has, so the rule could never fire, and nothing would say so.
// macOS rules are left out: no source of webshellbeat's is macOS.
func TestSigmaHQFieldsMapped(t *testing.T) {
	c := sigma.LoadPaths(sigmaHQDirs(t)...)
	ps, err := pipeline.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	pipeline.Sort(ps)
	checked := 0
	for _, r := range c.Rules {
		if !Routable(r.Logsource) || r.Logsource.Product == "macos" {
			continue
		}
		out, err := pipeline.Apply(r, ps...)
		if err != nil {
			continue // reported by the load tests
		}
		checked++
		for _, name := range out.Detection.Names {
			for _, alt := range out.Detection.Searches[name].Alternatives {
				for _, f := range alt {
					if f.Field != "" && f.Field != "tags" && !strings.Contains(f.Field, ".") {
						t.Errorf("%s:%d: %s keeps its Sigma name: no event has it", r.Path, f.Pos.Line, f.Field)
					}
				}
			}
		}
	}
	if checked < 2500 {
		t.Errorf("checked %d rules, want the routed corpus (over 2,500)", checked)
	}
}
