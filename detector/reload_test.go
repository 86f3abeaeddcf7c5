package detector_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"webshellbeat/config"
	"webshellbeat/detector"
)

// rule matches a Linux process whose name is one of names; title and id
// tell the versions apart.
func rule(id, title string, names ...string) string {
	return fmt.Sprintf(`title: %s
id: %s
name: %s
logsource: {product: linux, category: process_creation}
detection:
  selection:
    process.name: [%s]
  condition: selection
level: high
`, title, id, strings.ReplaceAll(strings.ToLower(title), " ", "_"), strings.Join(names, ", "))
}

const (
	idA    = "aaaaaaaa-0000-4000-8000-000000000001"
	idB    = "bbbbbbbb-0000-4000-8000-000000000002"
	idCorr = "cccccccc-0000-4000-8000-000000000003"
)

func corr(id string, threshold int) string {
	return fmt.Sprintf(`title: Three A
id: %s
correlation:
  type: event_count
  rules: [%s]
  group-by: [host.name]
  timespan: 1m
  condition: {gte: %d}
level: critical
`, id, idA, threshold)
}

// write writes a file and moves its modification time on, so that a
// rewrite within the file system's time resolution is still seen.
func write(t *testing.T, path, text string) {
	t.Helper()
	old, _ := os.Stat(path)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	if old != nil {
		mt := old.ModTime().Add(time.Second)
		if err := os.Chtimes(path, mt, mt); err != nil {
			t.Fatal(err)
		}
	}
}

var clock = time.Date(2026, 11, 25, 19, 0, 0, 0, time.UTC)

func proc(name string, sec int) map[string]any {
	return map[string]any{
		"@timestamp": clock.Add(time.Duration(sec) * time.Second),
		"host":       map[string]any{"name": "web1", "os": map[string]any{"type": "linux"}},
		"event":      map[string]any{"category": []string{"process"}, "type": []string{"start"}},
		"process":    map[string]any{"name": name, "executable": "/usr/bin/" + name, "command_line": name},
	}
}

func reloadDetector(t *testing.T, files map[string]string) (*detector.Detector, string) {
	t.Helper()
	dir := t.TempDir()
	for n, text := range files {
		write(t, filepath.Join(dir, n), text)
	}
	cfg := config.Default()
	cfg.Rules = config.Rules{Paths: []string{dir}, Reload: config.Reload{Enabled: true}}
	cfg.Ancestry.Enabled, cfg.Correlation.Enabled, cfg.Sessions.Enabled = false, false, false
	det, err := detector.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return det, dir
}

func matchedIDs(det *detector.Detector, doc map[string]any) []string {
	det.Process(doc)
	return ids(doc)
}

// A changed rule file is seen by name, size and time, loaded and swapped in.
func TestReloadSwapsOnChange(t *testing.T) {
	det, dir := reloadDetector(t, map[string]string{"a.yml": rule(idA, "Rule A", "whoami")})
	if got := matchedIDs(det, proc("whoami", 0)); len(got) != 1 || got[0] != idA {
		t.Fatalf("before: %v", got)
	}
	if det.Changed() {
		t.Fatal("Changed with no change")
	}
	if res, err := det.Reload(false); err != nil || !res.Unchanged {
		t.Fatalf("unchanged reload: %+v %v", res, err)
	}
	write(t, filepath.Join(dir, "b.yml"), rule(idB, "Rule B", "id"))
	if !det.Changed() {
		t.Fatal("a new file is not a change")
	}
	res, err := det.Reload(false)
	if err != nil || !res.Swapped || res.Rules.Loaded != 2 {
		t.Fatalf("reload: %+v %v", res, err)
	}
	if got := matchedIDs(det, proc("id", 1)); len(got) != 1 || got[0] != idB {
		t.Errorf("new rule B not in use: %v", got)
	}
	// An edit of a rule in place.
	write(t, filepath.Join(dir, "a.yml"), rule(idA, "Rule A", "uname"))
	if res, err := det.Reload(false); err != nil || !res.Swapped {
		t.Fatalf("reload after edit: %+v %v", res, err)
	}
	if got := matchedIDs(det, proc("whoami", 2)); got != nil {
		t.Errorf("old version of rule A still matches: %v", got)
	}
	if got := matchedIDs(det, proc("uname", 3)); len(got) != 1 || got[0] != idA {
		t.Errorf("new version of rule A does not match: %v", got)
	}
	// A removed file.
	if err := os.Remove(filepath.Join(dir, "b.yml")); err != nil {
		t.Fatal(err)
	}
	if res, err := det.Reload(false); err != nil || !res.Swapped || res.Rules.Loaded != 1 {
		t.Fatalf("reload after removal: %+v %v", res, err)
	}
	if got := matchedIDs(det, proc("id", 4)); got != nil {
		t.Errorf("removed rule B still matches: %v", got)
	}
}

// A broken file keeps the previous rules, and the error says where.
func TestReloadBrokenFileKeepsRules(t *testing.T) {
	det, dir := reloadDetector(t, map[string]string{"a.yml": rule(idA, "Rule A", "whoami")})
	broken := rule(idB, "Rule B", "id")
	broken = strings.Replace(broken, "process.name:", "process.name|contians:", 1)
	write(t, filepath.Join(dir, "b.yml"), broken)
	res, err := det.Reload(false)
	if !errors.Is(err, detector.ErrReloadRefused) || res.Swapped {
		t.Fatalf("broken file swapped in: %+v %v", res, err)
	}
	want := filepath.Join(dir, "b.yml") + `:7:18: unknown-modifier: unknown modifier "contians"`
	if !strings.Contains(err.Error(), want) || len(res.Problems) != 1 {
		t.Errorf("error %q, problems %v; want %q", err, res.Problems, want)
	}
	if got := matchedIDs(det, proc("whoami", 0)); len(got) != 1 || got[0] != idA {
		t.Errorf("previous rules not kept: %v", got)
	}
	if det.Rules().Loaded != 1 {
		t.Errorf("rules in use: %+v", det.Rules())
	}
	// Not retried (nor logged again) until the files change.
	if res, err := det.Reload(false); err != nil || !res.Unchanged {
		t.Errorf("second poll: %+v %v", res, err)
	}
	// Invalid YAML: the position of the YAML error.
	write(t, filepath.Join(dir, "b.yml"), "title: x\ndetection: [\n")
	if _, err := det.Reload(false); !errors.Is(err, detector.ErrReloadRefused) || !strings.Contains(err.Error(), filepath.Join(dir, "b.yml")+":") {
		t.Errorf("bad YAML: %v", err)
	}
	// Fixed: swapped in.
	write(t, filepath.Join(dir, "b.yml"), rule(idB, "Rule B", "id"))
	if res, err := det.Reload(false); err != nil || !res.Swapped {
		t.Fatalf("fixed file: %+v %v", res, err)
	}
	if got := matchedIDs(det, proc("id", 1)); len(got) != 1 || got[0] != idB {
		t.Errorf("fixed rule B: %v", got)
	}
}

// A rejection the rules in use already have does not block a reload.
func TestReloadKnownRejection(t *testing.T) {
	bad := strings.Replace(rule(idB, "Rule B", "id"), "process.name:", "process.name|contians:", 1)
	det, dir := reloadDetector(t, map[string]string{"a.yml": rule(idA, "Rule A", "whoami"), "b.yml": bad})
	if det.Rules().Rejected != 1 {
		t.Fatalf("rules %+v", det.Rules())
	}
	write(t, filepath.Join(dir, "c.yml"), rule("cccccccc-0000-4000-8000-00000000000c", "Rule C", "uname"))
	if res, err := det.Reload(false); err != nil || !res.Swapped || res.Rules.Loaded != 2 {
		t.Fatalf("reload: %+v %v", res, err)
	}
}

// Correlation windows survive a swap that leaves their rule unchanged; a
// changed correlation rule starts afresh.
func TestReloadKeepsCorrelationWindows(t *testing.T) {
	det, dir := reloadDetector(t, map[string]string{"a.yml": rule(idA, "Rule A", "whoami"), "corr.yml": corr(idCorr, 3)})
	if det.Rules().Correlations != 1 {
		t.Fatalf("rules %+v", det.Rules())
	}
	corrAlerts := func(doc map[string]any) int {
		_, derived := det.ProcessAll(doc)
		n := 0
		for _, d := range derived {
			if d.Verdict == detector.Alert && str(d.Doc, "webshell.correlation.type") != "" {
				n++
			}
		}
		return n
	}
	corrAlerts(proc("whoami", 0))
	corrAlerts(proc("whoami", 1))
	write(t, filepath.Join(dir, "b.yml"), rule(idB, "Rule B", "id"))
	if res, err := det.Reload(false); err != nil || !res.Swapped {
		t.Fatalf("reload: %+v %v", res, err)
	}
	if n := corrAlerts(proc("whoami", 2)); n != 1 {
		t.Fatalf("third event after the swap gave %d correlation alerts, want 1 (window kept)", n)
	}
	corrAlerts(proc("whoami", 3))
	corrAlerts(proc("whoami", 4))
	write(t, filepath.Join(dir, "corr.yml"), corr(idCorr, 4))
	if res, err := det.Reload(false); err != nil || !res.Swapped {
		t.Fatalf("reload: %+v %v", res, err)
	}
	if n := corrAlerts(proc("whoami", 5)); n != 0 {
		t.Errorf("changed correlation kept its window: %d alerts", n)
	}
}

// Documents processed while the rules are swapped see the old rules or the
// new ones, whole, never a mix (run with -race).
func TestReloadConcurrentProcess(t *testing.T) {
	v1 := rule(idA, "Rule A", "whoami") + "---\n" + rule(idB, "Rule B", "whoami")
	v2 := rule(idA, "Rule A", "id")
	det, dir := reloadDetector(t, map[string]string{"a.yml": v1})
	var stop atomic.Bool
	var wg sync.WaitGroup
	var seen [3]atomic.Int64 // both rules, none, other
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !stop.Load(); i++ {
				got := matchedIDs(det, proc("whoami", g*100000+i))
				switch {
				case len(got) == 2:
					seen[0].Add(1)
				case len(got) == 0:
					seen[1].Add(1)
				default:
					seen[2].Add(1)
				}
			}
		}()
	}
	for i := range 20 {
		text := v1
		if i%2 == 0 {
			text = v2
		}
		write(t, filepath.Join(dir, "a.yml"), text)
		if res, err := det.Reload(true); err != nil || !res.Swapped {
			t.Errorf("reload %d: %+v %v", i, res, err)
		}
	}
	stop.Store(true)
	wg.Wait()
	if seen[2].Load() != 0 {
		t.Errorf("%d documents matched a mix of old and new rules", seen[2].Load())
	}
	t.Logf("old rules %d, new rules %d", seen[0].Load(), seen[1].Load())
}

// A correlation and a filter in rules.paths may name rules of the built-in
// pack: the pack and the paths load as one collection.
func TestPathsNameBuiltinRules(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "corr.yml"), strings.Replace(corr(idCorr, 3), idA, "6d1c3f0e-4b7a-4c52-9d0b-2f7e5a8c1a07", 1))
	write(t, filepath.Join(dir, "filter.yml"), `title: Not the monitoring host
id: dddddddd-0000-4000-8000-000000000004
logsource: {product: linux}
filter:
  rules: [6d1c3f0e-4b7a-4c52-9d0b-2f7e5a8c1a07]
  selection:
    host.name: monitor1
  condition: not selection
`)
	cfg := config.Default()
	cfg.Rules.Paths = []string{dir}
	det, err := detector.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ri := det.Rules()
	// Filters: this one and the pack's own two (lnx_filter_*.yml).
	if ri.Correlations != 1 || ri.Filters != 3 || ri.Rejected != 0 {
		t.Fatalf("rules %+v, problems %v", ri, det.Problems)
	}
	for _, p := range det.Problems {
		if !strings.HasPrefix(p.File, "builtin/") && !strings.HasPrefix(p.File, dir) {
			t.Errorf("problem not at a real file: %v", p)
		}
	}
}
