package cmd

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"webshellbeat/config"
	"webshellbeat/detection/sigma"
	"webshellbeat/detector"
	"webshellbeat/internal/testfiles"
)

const seedDir = "../../shared/data/seed"

// brokenRule has the unknown modifier "contians" at line 8, column 17 (the
// modifier itself, after "    CommandLine|").
const brokenRule = `title: broken
id: 11111111-2222-3333-4444-555555555555
logsource:
  category: process_creation
  product: windows
detection:
  selection:
    CommandLine|contians: whoami
  condition: selection
`

const goodRule = `title: good
id: 11111111-2222-3333-4444-666666666666
logsource:
  category: process_creation
  product: windows
detection:
  selection:
    CommandLine|contains: whoami
  condition: selection
`

// registryRule loads but never runs: webshellbeat produces no PowerShell script-block events.
const registryRule = `title: registry
id: 11111111-2222-3333-4444-777777777777
logsource:
  product: aws
  service: cloudtrail
detection:
  selection:
    TargetObject|endswith: '\Run\x'
  condition: selection
`

func writeRules(t *testing.T, files map[string]string) string { return testfiles.Dir(t, files) }

// expandRule needs the placeholder web_users; corrRule counts goodRule's
// matches; filterRule tunes goodRule.
const expandRule = `title: expand
id: 11111111-2222-3333-4444-888888888888
logsource:
  category: process_creation
  product: windows
detection:
  selection:
    User|expand: '%web_users%'
  condition: selection
`

const corrRule = `title: many whoami
id: 11111111-2222-3333-4444-999999999999
correlation:
  type: event_count
  rules: [11111111-2222-3333-4444-666666666666]
  group-by: [host.name]
  timespan: 5m
  condition: {gte: 3}
level: high
`

const filterRule = `title: not on dc1
id: 11111111-2222-3333-4444-bbbbbbbbbbbb
logsource:
  product: windows
filter:
  rules: [11111111-2222-3333-4444-666666666666]
  selection:
    host.name: dc1
  condition: not selection
`

// A correlation threshold above what a group keeps can never be reached.
const corrTooHigh = `title: impossible
id: 11111111-2222-3333-4444-aaaaaaaaaaaa
correlation:
  type: event_count
  rules: [11111111-2222-3333-4444-666666666666]
  timespan: 5m
  condition: {gte: 5000}
`

func TestRulesCheckPlaceholdersCorrelations(t *testing.T) {
	dir := writeRules(t, map[string]string{"good.yml": goodRule, "expand.yml": expandRule, "corr.yml": corrRule, "filter.yml": filterRule})
	high := writeRules(t, map[string]string{"good.yml": goodRule, "corr.yml": corrTooHigh})
	for _, tt := range []struct {
		name         string
		paths        []string
		placeholders []string
		wantCode     int
		want         []string
		wantErr      string
	}{
		{name: "no placeholder", paths: []string{dir}, want: []string{
			filepath.Join(dir, "expand.yml") + `:8:18: unknown-placeholder: field "User"`,
			"rules loaded: 1 (1 routed)", "correlation rules loaded: 1", "filter rules loaded: 1 (1 rules filtered)", "rejected: 1 (unknown-placeholder 1)",
		}},
		{name: "placeholder given", paths: []string{dir}, placeholders: []string{"web_users=www-data", "web_users=IIS APPPOOL\\*"}, want: []string{
			"rules loaded: 2 (2 routed)", "correlation rules loaded: 1", "rejected: 0",
		}},
		{name: "placeholder with %", paths: []string{dir}, placeholders: []string{"%web_users%=x"}, want: []string{"rules loaded: 2 (2 routed)"}},
		{name: "bad placeholder flag", paths: []string{dir}, placeholders: []string{"web_users"}, wantCode: 2, wantErr: "NAME=VALUE"},
		{name: "unreachable correlation", paths: []string{high}, want: []string{
			filepath.Join(high, "corr.yml") + `:3:1: bad-correlation: correlation "impossible": threshold 5000 is above MaxEventsPerGroup 1000`,
			"correlation rules loaded: 0", "rejected: 1 (bad-correlation 1)",
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := runRulesCheck(&stdout, &stderr, tt.paths, checkOptions{}, tt.placeholders...)
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.wantCode, &stdout, &stderr)
			}
			lines := strings.Split(stdout.String(), "\n")
			for _, w := range tt.want {
				if !hasLine(lines, w) {
					t.Errorf("stdout has no line %q:\n%s", w, &stdout)
				}
			}
			if tt.wantErr != "" && !strings.Contains(stderr.String(), tt.wantErr) {
				t.Errorf("stderr %q does not contain %q", &stderr, tt.wantErr)
			}
		})
	}
}

func TestRulesCheck(t *testing.T) {
	if _, err := os.Stat(seedDir); err != nil {
		t.Skipf("seed rules not available: %v", err)
	}
	seeds, _ := filepath.Glob(filepath.Join(seedDir, "*.yml"))
	broken := writeRules(t, map[string]string{"bad.yml": brokenRule, "good.yml": goodRule, "notes.txt": "not a rule"})
	routing := writeRules(t, map[string]string{"good.yml": goodRule, "registry.yaml": registryRule})
	badID := func(f string) string {
		return filepath.Join(seedDir, f) + `:2:5: bad-id: id "`
	}
	tests := []struct {
		name     string
		paths    []string
		strict   bool
		pipes    []string
		wantCode int
		want     []string // lines (or line prefixes ending in a quote) of stdout
		wantErr  string   // substring of stderr
	}{
		{
			name: "seed rules", paths: seeds, wantCode: 0,
			want: []string{
				badID("sigma-linux-webserver-shell.yml"),
				badID("sigma-windows-webserver-suspicious-child.yml"),
				"files: 2", "rules loaded: 2 (2 routed)", "rejected: 0", "warnings: 2 (bad-id 2)", "unroutable: 0",
			},
		},
		{
			name: "seed rules strict (warnings are not rejections)", paths: []string{seedDir}, strict: true, wantCode: 0,
			want: []string{"files: 2", "rules loaded: 2 (2 routed)", "rejected: 0"},
		},
		{
			name: "broken rule", paths: []string{broken}, wantCode: 0,
			want: []string{
				filepath.Join(broken, "bad.yml") + `:8:17: unknown-modifier: unknown modifier "contians"`,
				"files: 2", "rules loaded: 1 (1 routed)", "rejected: 1 (unknown-modifier 1)", "warnings: 0",
			},
		},
		{
			name: "broken rule strict", paths: []string{broken}, strict: true, wantCode: 1,
			want: []string{filepath.Join(broken, "bad.yml") + `:8:17: unknown-modifier: unknown modifier "contians"`, "rejected: 1 (unknown-modifier 1)"},
		},
		{
			name: "broken file named directly", paths: []string{filepath.Join(broken, "bad.yml")}, strict: true, wantCode: 1,
			want: []string{"files: 1", "rules loaded: 0 (0 routed)"},
		},
		{
			name: "unroutable logsource", paths: []string{routing}, wantCode: 0,
			want: []string{"files: 2", "rules loaded: 2 (1 routed)", "rejected: 0",
				"unroutable: 1 (loaded, but their logsource is one webshellbeat never produces: they never run); most: aws/-/cloudtrail 1"},
		},
		{name: "no path", wantCode: 2, wantErr: "at least one rule file or folder"},
		{name: "missing path", paths: []string{filepath.Join(broken, "nope")}, wantCode: 2, wantErr: "no such file or directory"},
		{name: "bad pipeline", paths: []string{broken}, pipes: []string{filepath.Join(broken, "notes.txt")}, wantCode: 2, wantErr: "pipeline"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := runRulesCheck(&stdout, &stderr, tt.paths, checkOptions{strict: tt.strict, pipelines: tt.pipes})
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.wantCode, &stdout, &stderr)
			}
			lines := strings.Split(stdout.String(), "\n")
			for _, w := range tt.want {
				if !hasLine(lines, w) {
					t.Errorf("stdout has no line %q:\n%s", w, &stdout)
				}
			}
			if tt.wantErr != "" && !strings.Contains(stderr.String(), tt.wantErr) {
				t.Errorf("stderr %q does not contain %q", &stderr, tt.wantErr)
			}
			if tt.wantErr == "" && stderr.Len() > 0 {
				t.Errorf("unexpected stderr: %s", &stderr)
			}
		})
	}
}

// hasLine reports whether a line equals want, or starts with it when want
// ends in a quote or with a summary count followed by detail in parentheses.
func hasLine(lines []string, want string) bool {
	for _, l := range lines {
		if l == want || strings.HasSuffix(want, `"`) && strings.HasPrefix(l, want) || strings.HasPrefix(l, want+" (") {
			return true
		}
	}
	return false
}

// TestRulesCommandWiring checks the cobra tree: "rules check" with its
// flags (the logic itself is runRulesCheck, tested above).
func TestRulesCommandWiring(t *testing.T) {
	c := rulesCommand()
	check, _, err := c.Find([]string{"check", "x.yml"})
	if err != nil || check.Name() != "check" {
		t.Fatalf("rules check not found: %v", err)
	}
	for _, f := range []string{"strict", "pipeline", "placeholder"} {
		if check.Flags().Lookup(f) == nil {
			t.Errorf("rules check has no --%s flag", f)
		}
	}
	if err := check.ParseFlags([]string{"--strict", "--pipeline", "a.yml", "--pipeline", "b.yml"}); err != nil {
		t.Fatal(err)
	}
	if p, _ := check.Flags().GetStringArray("pipeline"); len(p) != 2 {
		t.Errorf("--pipeline twice gave %q", p)
	}
}

// A user correlation over a rule of the built-in pack: unknown without the
// pack, loaded with --builtin (as the beat loads it).
func TestRulesCheckBuiltin(t *testing.T) {
	dir := writeRules(t, map[string]string{"corr.yml": `title: three recon commands through one web shell
name: recon_burst
correlation:
  type: event_count
  rules:
    - 6d1c3f0e-4b7a-4c52-9d0b-2f7e5a8c1a07
  group-by:
    - host.name
  timespan: 10s
  condition:
    gte: 3
level: high
`})
	for _, tt := range []struct {
		builtin bool
		want    string
	}{
		{false, "unknown-rule"},
		{true, "correlation rules loaded: 1"},
	} {
		var stdout, stderr bytes.Buffer
		code := runRulesCheck(&stdout, &stderr, []string{dir}, checkOptions{builtin: tt.builtin})
		if code != 0 || !strings.Contains(stdout.String(), tt.want) {
			t.Errorf("builtin=%v: code %d, stdout lacks %q:\n%s%s", tt.builtin, code, tt.want, stdout.String(), stderr.String())
		}
	}
}

// chainOverTooHigh names corrTooHigh: the two are one chain, built by one
// correlator, so the beat refuses both when it refuses corrTooHigh.
const chainOverTooHigh = `title: after the impossible
id: 11111111-2222-3333-4444-cccccccccccc
correlation:
  type: event_count
  rules: [11111111-2222-3333-4444-aaaaaaaaaaaa]
  timespan: 10m
  condition: {gte: 2}
`

// userGroupBy groups goodRule's matches by User, which the built-in
// windows pipeline renames for process_creation rules; userPipeline
// renames it before the built-ins do.
const userGroupBy = `title: whoami per user
id: 11111111-2222-3333-4444-dddddddddddd
correlation:
  type: value_count
  rules: [11111111-2222-3333-4444-666666666666]
  group-by: [User]
  timespan: 5m
  condition: {field: ParentImage, gte: 2}
`

const userPipeline = `name: site
transformations:
  - id: site_user
    type: field_name_mapping
    mapping:
      User: [user.name, winlog.event_data.User]
`

// TestRulesCheckCorrelationsAsDetector: rules check prepares correlation
// rules with the detector's own code (pipelines applied, one correlator per
// chain), so it counts and refuses exactly what the beat does.
func TestRulesCheckCorrelationsAsDetector(t *testing.T) {
	chain := writeRules(t, map[string]string{"good.yml": goodRule, "corr.yml": corrTooHigh, "chain.yml": chainOverTooHigh})
	renamed := writeRules(t, map[string]string{"good.yml": goodRule, "corr.yml": corrRule, "user.yml": userGroupBy})
	pipe := filepath.Join(writeRules(t, map[string]string{"site.yml": userPipeline}), "site.yml")
	for _, tt := range []struct {
		name  string
		paths []string
		pipes []string
		want  []string
	}{
		{name: "chain with a refused member", paths: []string{chain}, want: []string{
			"correlation rules loaded: 0", "rejected: 1 (bad-correlation 1)",
		}},
		{name: "renamed by the built-ins", paths: []string{renamed}, want: []string{"correlation rules loaded: 2", "rejected: 0"}},
		{name: "renamed by a user pipeline", paths: []string{renamed}, pipes: []string{pipe}, want: []string{"correlation rules loaded: 2", "rejected: 0"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := runRulesCheck(&stdout, &stderr, tt.paths, checkOptions{pipelines: tt.pipes}); code != 0 {
				t.Fatalf("exit %d\n%s%s", code, &stdout, &stderr)
			}
			lines := strings.Split(stdout.String(), "\n")
			for _, w := range tt.want {
				if !hasLine(lines, w) {
					t.Errorf("stdout has no line %q:\n%s", w, &stdout)
				}
			}
			assertAsDetector(t, tt.paths, tt.pipes, stdout.String())
		})
	}
}

// assertAsDetector checks that the beat's detector, given the same rules
// and pipelines, runs as many correlation rules and refuses the same ones
// (bad-correlation) as the report says.
func assertAsDetector(t *testing.T, paths, pipes []string, report string) {
	t.Helper()
	cfg := config.Default()
	cfg.Rules = config.Rules{Paths: paths, Pipelines: pipes}
	det, err := detector.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if w := fmt.Sprintf("correlation rules loaded: %d\n", det.Rules().Correlations); !strings.Contains(report, w) {
		t.Errorf("the detector runs %d correlation rules; rules check says:\n%s", det.Rules().Correlations, report)
	}
	for _, p := range det.RuleProblems() {
		if p.Code == sigma.CodeBadCorrelation && !strings.Contains(report, p.Error()+"\n") {
			t.Errorf("the detector refuses %v; rules check does not say so:\n%s", p, report)
		}
	}
}
