package engine

import (
	"path/filepath"
	"slices"
	"testing"

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
