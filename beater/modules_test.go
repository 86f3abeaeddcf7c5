package beater

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	conf "github.com/elastic/elastic-agent-libs/config"
	"github.com/elastic/elastic-agent-libs/logp"
)

// moduleFixture is a modules.d with apache disabled (two paths) and auditd
// enabled, and a beat config that loads it through config.inputs with one
// input of its own.
func moduleFixture(t *testing.T) (dir string, beatCfg func() *conf.C) {
	dir = t.TempDir()
	files := map[string]string{
		"apache.yml.disabled": "- type: filestream\n  id: module-apache\n  paths: [/var/log/apache2/access.log*, /var/log/httpd/access_log*]\n  processors: [{decode_access_log: {format: combined}}]\n",
		"auditd.yml":          "- type: auditd\n  id: module-auditd\n  paths: [/var/log/audit/audit.log]\n",
		"empty.yml.disabled":  "# nothing\n",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir, func() *conf.C {
		c, err := conf.NewConfigWithYAML([]byte(`
config.inputs: {enabled: true, path: `+dir+`/*.yml}
inputs: [{type: filestream, id: own, paths: [/a]}]
`), "test")
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
}

func settings(t *testing.T, kv ...string) *conf.C {
	f := conf.NewSettingsFlag(nil)
	for _, s := range kv {
		if err := f.Set(s); err != nil {
			t.Fatal(err)
		}
	}
	return f.Config()
}

type input struct {
	ID    string   `config:"id"`
	Paths []string `config:"paths"`
}

func inputsOf(t *testing.T, c *conf.C) []input {
	var v struct {
		Inputs []input `config:"inputs"`
	}
	if err := c.Unpack(&v); err != nil {
		t.Fatal(err)
	}
	return v.Inputs
}

func TestCLIModules(t *testing.T) {
	_, beatCfg := moduleFixture(t)
	log := logp.NewNopLogger()

	// A disabled module is added after the config's own input; an enabled
	// one is left to config.inputs.
	c := beatCfg()
	if err := cliModules(c, "apache, auditd,apache", conf.NewConfig(), log); err != nil {
		t.Fatal(err)
	}
	got := inputsOf(t, c)
	if len(got) != 2 || got[0].ID != "own" || got[1].ID != "module-apache" || len(got[1].Paths) != 2 {
		t.Errorf("inputs after --modules apache,auditd: %+v", got)
	}

	// -M replaces the module's paths (not merged element by element).
	c = beatCfg()
	if err := cliModules(c, "apache", settings(t, "apache.paths=[/srv/logs/access.log]"), log); err != nil {
		t.Fatal(err)
	}
	if got := inputsOf(t, c); len(got) != 2 || strings.Join(got[1].Paths, ",") != "/srv/logs/access.log" {
		t.Errorf("inputs after -M apache.paths: %+v", got)
	}

	// Nothing given, nothing changed.
	c = beatCfg()
	if err := cliModules(c, "", conf.NewConfig(), log); err != nil || len(inputsOf(t, c)) != 1 {
		t.Errorf("no --modules: %v, %+v", err, inputsOf(t, c))
	}
}

func TestCLIModulesErrors(t *testing.T) {
	dir, beatCfg := moduleFixture(t)
	for _, tc := range []struct {
		modules string
		m       []string
		want    string
	}{
		{"nginx", nil, "no module nginx in " + dir + " (modules: apache, auditd, empty)"},
		{"../etc", nil, "not a module name"},
		{"empty", nil, "has no inputs"},
		{"", []string{"apache.paths=[/x]"}, "-M apache: -M sets the inputs of the modules given with --modules"},
		{"auditd", []string{"apache.paths=[/x]"}, "module apache is not in --modules auditd"},
		{"auditd", []string{"auditd.paths=[/x]"}, "module auditd is enabled"},
	} {
		err := cliModules(beatCfg(), tc.modules, settings(t, tc.m...), logp.NewNopLogger())
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("--modules %q -M %v: error %v, want one with %q", tc.modules, tc.m, err, tc.want)
		}
	}
	noGlob, _ := conf.NewConfigWithYAML([]byte("inputs: []"), "test")
	if err := cliModules(noGlob, "apache", conf.NewConfig(), logp.NewNopLogger()); err == nil || !strings.Contains(err.Error(), "config.inputs.path") {
		t.Errorf("--modules without config.inputs.path: %v", err)
	}
}

// An input the build lacks is refused at start with where it is and what
// to use instead; the same configuration passes on the system that has it.
func TestUnrunnable(t *testing.T) {
	dir, beatCfg := moduleFixture(t) // auditd.yml is enabled
	c := beatCfg()
	if err := checkInputs(c, "linux"); err != nil {
		t.Errorf("linux: %v", err)
	}
	err := checkInputs(c, "windows")
	if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "auditd.yml")+": the auditd input (Linux audit) is in the linux build of webshellbeat only") {
		t.Errorf("windows, auditd.yml enabled: %v", err)
	}

	own, _ := conf.NewConfigWithYAML([]byte(`
inputs:
- {type: winlog, enabled: false, name: Security}
- {type: winlog, name: Microsoft-Windows-Sysmon/Operational}
`), "test")
	if err := checkInputs(own, "windows"); err != nil {
		t.Errorf("windows, winlog inputs: %v", err)
	}
	err = checkInputs(own, "linux")
	if err == nil || !strings.HasPrefix(err.Error(), "webshellbeat.inputs: the winlog input (the live Windows event log) is in the windows build of webshellbeat only; elsewhere, read exported events") {
		t.Errorf("linux, winlog input: %v", err)
	}

	laurel, _ := conf.NewConfigWithYAML([]byte(`
inputs:
- {type: filestream, id: laurel, paths: [/var/log/laurel/audit.log], processors: [{decode_auditd: ~}]}
`), "test")
	if err := checkInputs(laurel, "linux"); err != nil {
		t.Errorf("linux, decode_auditd: %v", err)
	}
	err = checkInputs(laurel, "windows")
	if err == nil || !strings.HasPrefix(err.Error(), "webshellbeat.inputs: the decode_auditd processor is in the linux build of webshellbeat only; elsewhere, hunt reads") {
		t.Errorf("windows, decode_auditd: %v", err)
	}
}

// A processor of an input that cannot be built stops test config and run,
// with the file (or webshellbeat.inputs) and the input it is in; the same
// inputs with good processors, the webshell processor among them, pass.
func TestBadProcessors(t *testing.T) {
	dir, beatCfg := moduleFixture(t)
	if err := checkInputs(beatCfg(), "linux"); err != nil {
		t.Errorf("good processors: %v", err)
	}
	module := func(body string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, "apache.yml"), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct{ processors, want string }{
		{`[{decode_access_log: {format: combined}}, {drop_fields: {fields: [agent]}}, {webshell: {rules: {builtin: true}}}]`, ""},
		{`[{decode_access_log: {fromat: combined}}]`, `apache.yml: input module-apache: processors: decode_access_log: unknown option "fromat"`},
		{`[{decode_access_log: {format: combind}}]`, `format "combind" is not one of combined, w3c, json`},
		{`[{dorp_fields: {fields: [agent]}}]`, "the processor action dorp_fields does not exist"},
	} {
		module("- type: filestream\n  id: module-apache\n  paths: [/x]\n  processors: " + tc.processors + "\n")
		err := checkInputs(beatCfg(), "linux")
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("processors %s: error %v, want %q", tc.processors, err, tc.want)
		}
	}
	module("- type: filestream\n  id: module-apache\n  enabled: false\n  paths: [/x]\n  processors: [{decode_access_log: {fromat: combined}}]\n")
	if err := checkInputs(beatCfg(), "linux"); err != nil {
		t.Errorf("a disabled input: %v", err)
	}
	// A misspelt processors or parsers key, which an input would ignore.
	for _, key := range []string{"procesors", "processor", "proccessors", "parser", "pasrers"} {
		module("- type: filestream\n  id: module-apache\n  paths: [/x]\n  " + key + ": [{decode_access_log: {format: combined}}]\n")
		if err := checkInputs(beatCfg(), "linux"); err == nil || !strings.Contains(err.Error(), `apache.yml: input module-apache: unknown option "`+key+`": did you mean`) {
			t.Errorf("key %s: %v", key, err)
		}
	}
	// An option of filebeat's log input at the top of a filestream input,
	// which filestream would ignore; its own names pass.
	for key, moved := range map[string]string{"exclude_files: ['gz$']": "prospector.scanner.exclude_files", "multiline: {pattern: '^x'}": "the multiline parser", "close_inactive: 5m": "close.on_state_change.inactive"} {
		module("- type: filestream\n  id: module-apache\n  paths: [/x]\n  " + key + "\n")
		name := key[:strings.Index(key, ":")]
		if err := checkInputs(beatCfg(), "linux"); err == nil || !strings.Contains(err.Error(), `apache.yml: input module-apache: "`+name+`" is an option of filebeat's log input, which filestream ignores: filestream's is `+moved) {
			t.Errorf("key %s: %v", name, err)
		}
	}
	// An option of our own inputs one or two letters off, which they
	// would ignore; their own options and libbeat's pass.
	for _, tc := range []struct{ input, key, meant string }{
		{"auditd", "web_root: [/var/www]", "web_roots"},
		{"auditd", "exec_rule: false", "exec_rules"},
		{"auditd", "path: [/var/log/audit/audit.log]", "paths"},
		{"evtx", "pol_interval: 1s", "poll_interval"},
	} {
		module("- type: " + tc.input + "\n  id: module-apache\n  " + tc.key + "\n")
		name := tc.key[:strings.Index(tc.key, ":")]
		if err := checkInputs(beatCfg(), "linux"); err == nil || !strings.Contains(err.Error(), `apache.yml: input module-apache: unknown option "`+name+`": did you mean `+tc.meant+`? The `+tc.input+` input would ignore it`) {
			t.Errorf("%s key %s: %v", tc.input, name, err)
		}
	}
	module("- type: auditd\n  id: module-apache\n  web_roots: [/var/www]\n  exec_rules: true\n  reassembler.timeout: 3s\n  tags: [x]\n  index: y\n  fields: {a: b}\n")
	if err := checkInputs(beatCfg(), "linux"); err != nil {
		t.Errorf("the auditd input's own options and libbeat's: %v", err)
	}
	module("- type: filestream\n  id: module-apache\n  paths: [/x]\n  prospector.scanner.exclude_files: ['gz$']\n  prospector.scanner.symlinks: true\n")
	if err := checkInputs(beatCfg(), "linux"); err != nil {
		t.Errorf("filestream's own names: %v", err)
	}
	if key, _ := misspelt([]string{"type", "id", "paths", "prospector", "parsers", "processors", "pipeline", "publisher_pipeline", "exclude_files",
		"include_lines", "encoding", "close", "clean_removed", "harvester_limit", "file_identity", "fields", "tags", "index", "rotation", "name",
		"event_id", "poll_interval", "socket_type", "resolve_ids", "backoff", "enabled", "message_max_bytes", "take_over", "delete", "compression"}); key != "" {
		t.Errorf("an input option taken for a misspelling: %q", key)
	}
	own, _ := conf.NewConfigWithYAML([]byte(`inputs: [{type: filestream, paths: [/a], processors: [{decode_error_log: {server: apache2}}]}]`), "test")
	if err := checkInputs(own, "linux"); err == nil || !strings.HasPrefix(err.Error(), "webshellbeat.inputs: input filestream: processors: decode_error_log:") {
		t.Errorf("webshellbeat.inputs: %v", err)
	}
}
