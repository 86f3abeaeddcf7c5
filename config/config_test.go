package config

import (
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	conf "github.com/elastic/elastic-agent-libs/config"

	"webshellbeat/detection/ancestry"
	"webshellbeat/detection/session"
)

func TestUnpack(t *testing.T) {
	tests := []struct {
		name    string
		cfg     map[string]any
		wantErr string
		check   func(t *testing.T, d Detection)
	}{
		{name: "defaults", cfg: map[string]any{}, check: func(t *testing.T, d Detection) {
			if !d.Rules.Builtin || d.Events != EventsAll || d.Namespace != "default" {
				t.Errorf("defaults = %+v", d)
			}
			if d.AlertIndex() != "logs-webshellbeat.alert-default" || d.EventIndex() != "logs-webshellbeat.event-default" {
				t.Errorf("indices = %s %s", d.AlertIndex(), d.EventIndex())
			}
		}},
		{name: "events none and paths", cfg: map[string]any{"events": "NONE", "rules": map[string]any{"paths": []string{"/etc/rules"}}}, check: func(t *testing.T, d Detection) {
			if d.Events != EventsNone || len(d.Rules.Paths) != 1 {
				t.Errorf("got %+v", d)
			}
		}},
		{name: "unknown key", cfg: map[string]any{"rulez": true}, wantErr: `unknown option "rulez"`},
		{name: "bad events", cfg: map[string]any{"events": "some"}, wantErr: `"some" is not one of all, none`},
		{name: "wrong type", cfg: map[string]any{"rules": map[string]any{"builtin": "maybe"}}, wantErr: "builtin"},
		{name: "no rules at all", cfg: map[string]any{"rules": map[string]any{"builtin": false}}, wantErr: "no rules.paths"},
		{name: "bad namespace", cfg: map[string]any{"namespace": "Prod-1"}, wantErr: `namespace: "Prod-1"`},
		{name: "placeholders and reload", cfg: map[string]any{"rules": map[string]any{
			"placeholders": map[string]any{"web_users": []string{"www-data", "apache"}, "known_cdcs": []string{"dc1"}},
			"reload":       map[string]any{"enabled": true, "period": "30s"}}}, check: func(t *testing.T, d Detection) {
			if len(d.Rules.Placeholders["web_users"]) != 2 || d.Rules.Placeholders["known_cdcs"][0] != "dc1" {
				t.Errorf("placeholders = %v", d.Rules.Placeholders)
			}
			if !d.Rules.Reload.Enabled || d.Rules.Reload.Period != 30*time.Second || !d.Rules.Builtin {
				t.Errorf("rules = %+v", d.Rules)
			}
		}},
		{name: "reload defaults", cfg: map[string]any{}, check: func(t *testing.T, d Detection) {
			if d.Rules.Reload.Enabled || d.Rules.Reload.Period != 10*time.Second {
				t.Errorf("reload = %+v", d.Rules.Reload)
			}
		}},
		{name: "negative reload period", cfg: map[string]any{"rules": map[string]any{"reload": map[string]any{"period": "-1s"}}}, wantErr: "rules.reload.period"},
		{name: "bad placeholder name", cfg: map[string]any{"rules": map[string]any{"placeholders": map[string]any{"a b": []string{"x"}}}}, wantErr: "rules.placeholders"},
		{name: "rule selection defaults", cfg: map[string]any{}, check: func(t *testing.T, d Detection) {
			if d.Rules.MinLevel != "" || !reflect.DeepEqual(d.Rules.ExcludeStatus, []string{"deprecated", "unsupported"}) {
				t.Errorf("selection = %+v", d.Rules.Selection())
			}
		}},
		{name: "rule selection", cfg: map[string]any{"rules": map[string]any{"min_level": "medium", "exclude_status": []string{"experimental"}}}, check: func(t *testing.T, d Detection) {
			// The list replaces the default; it is not merged into it element by element.
			if d.Rules.MinLevel != "medium" || !reflect.DeepEqual(d.Rules.ExcludeStatus, []string{"experimental"}) {
				t.Errorf("selection = %+v", d.Rules.Selection())
			}
		}},
		{name: "rule selection of every status", cfg: map[string]any{"rules": map[string]any{"exclude_status": []string{}}}, check: func(t *testing.T, d Detection) {
			if len(d.Rules.ExcludeStatus) != 0 {
				t.Errorf("exclude_status = %v", d.Rules.ExcludeStatus)
			}
		}},
		{name: "bad min_level", cfg: map[string]any{"rules": map[string]any{"min_level": "severe"}}, wantErr: `rules.min_level "severe" is not one of informational`},
		{name: "bad exclude_status", cfg: map[string]any{"rules": map[string]any{"exclude_status": []string{"old"}}}, wantErr: `rules.exclude_status "old"`},
		{name: "two problems joined", cfg: map[string]any{"namespace": "a-b", "rules": map[string]any{"builtin": false}}, wantErr: "no rules.paths"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Unpack(conf.MustNewConfigFrom(tt.cfg))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, d)
		})
	}
}

func TestStatefulOptions(t *testing.T) {
	c, err := conf.NewConfigWithYAML([]byte(`
ancestry: {max_processes: 5000, idle_timeout: 2h, web_servers: [{name: "php-fpm*"}, {name: java, command_line: [catalina]}]}
correlation: {window: 3s, reorder: 1m}
sessions: {mode: summary, interval: 5m}
exceptions:
  - {scripts: ["/status.php"], command_lines: ["sh -c /usr/bin/uptime"], reason: monitoring}
baseline: {enabled: true, learning_period: 24h, action: suppress}
state: {path: /tmp/x, save_interval: 1m}
`), "t")
	if err != nil {
		t.Fatal(err)
	}
	d, err := Unpack(c)
	if err != nil {
		t.Fatal(err)
	}
	if d.Ancestry.MaxProcesses != 5000 || d.Ancestry.IdleTimeout != 2*time.Hour || len(d.Ancestry.WebServers) != 2 ||
		d.Correlation.Window != 3*time.Second || d.Sessions.Mode != "summary" || len(d.Exceptions) != 1 ||
		d.Exceptions[0].Scripts[0] != "/status.php" || !d.Baseline.Enabled || d.State.SaveInterval != time.Minute {
		t.Fatalf("unpacked %+v", d)
	}
	for _, bad := range []string{`sessions: {mode: sometimes}`, `exceptions: [{action: suppress}]`, `baseline: {action: drop}`, `ancestry: {max_processes: 0}`,
		`exceptions: [{fields: {process.name: []}}]`, `exceptions: [{fields: {process.name: "[a"}}]`, `exceptions: [{fields: [process.name]}]`,
		`exceptions: [{fields: {process.args: [[a]]}}]`} {
		c, _ := conf.NewConfigWithYAML([]byte(bad), "t")
		if _, err := Unpack(c); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

func TestListsReplaceDefaults(t *testing.T) {
	c, _ := conf.NewConfigWithYAML([]byte(`ancestry: {web_accounts: []}`), "t")
	d, err := Unpack(c)
	if err != nil || len(d.Ancestry.WebAccounts) != 0 || len(d.Ancestry.WebServers) == 0 || len(d.Correlation.WebRoots) == 0 {
		t.Fatalf("%v %+v", err, d.Ancestry)
	}
}

// Exception fields are written with dotted or nested paths; both read as
// the same paths, in path order, with numbers as text.
func TestExceptionFields(t *testing.T) {
	c, err := conf.NewConfigWithYAML([]byte(`
exceptions:
  - fields:
      process.parent.executable: ['C:\Program Files\Monitor\*']
      user: {name: svc_backup}
      process.pid: 4
`), "t")
	if err != nil {
		t.Fatal(err)
	}
	d, err := Unpack(c)
	if err != nil {
		t.Fatal(err)
	}
	want := session.FieldGlobs{
		{Path: "process.parent.executable", Globs: []string{`C:\Program Files\Monitor\*`}},
		{Path: "process.pid", Globs: []string{"4"}},
		{Path: "user.name", Globs: []string{"svc_backup"}},
	}
	if got := d.Exceptions[0].Fields; !reflect.DeepEqual(got, want) {
		t.Errorf("fields = %+v, want %+v", got, want)
	}
}

// referenceBlock returns the commented block of the reference file that
// begins with the line holding marker, uncommented: that line's key, then
// the lines after it indented by indent or more (the block ends at the
// first that is not).
func referenceBlock(t *testing.T, marker, indent string) string {
	t.Helper()
	raw, err := os.ReadFile("../_meta/config/beat.reference.yml")
	if err != nil {
		t.Fatal(err)
	}
	text := string(raw)
	start := strings.Index(text, "#"+marker+"\n")
	if start < 0 {
		t.Fatalf("no %q in the reference file", marker)
	}
	lines := strings.Split(text[start:], "\n")
	out := strings.TrimSpace(marker) + "\n"
	for _, line := range lines[1:] {
		_, item, _ := strings.Cut(line, "#")
		if !strings.HasPrefix(item, indent) {
			break
		}
		out += item + "\n"
	}
	return out
}

// unpackReference unpacks a block of the reference file into v as the
// beat reads its configuration.
func unpackReference(t *testing.T, block string, v any) {
	t.Helper()
	cfg, err := conf.NewConfigWithYAML([]byte(block), "reference")
	if err != nil {
		t.Fatalf("%v\n%s", err, block)
	}
	if err := cfg.Unpack(v); err != nil {
		t.Fatal(err)
	}
}

// The reference file's commented web_servers list is the built-in one, so
// that a user who uncomments it to add a server keeps every default.
func TestReferenceWebServers(t *testing.T) {
	var got struct {
		WebServers []ancestry.WebServer `config:"web_servers"`
	}
	unpackReference(t, referenceBlock(t, "  web_servers:", "    "), &got)
	if want := ancestry.DefaultWebServers(); !reflect.DeepEqual(got.WebServers, want) {
		t.Errorf("the reference file's web_servers:\n%v\nthe built-in list:\n%v", got.WebServers, want)
	}
}

// So are its commented correlation web_roots and script_extensions.
func TestReferenceCorrelationDefaults(t *testing.T) {
	var got struct {
		Correlation struct {
			WebRoots         []string `config:"web_roots"`
			ScriptExtensions []string `config:"script_extensions"`
		} `config:"correlation"`
	}
	unpackReference(t, referenceBlock(t, "correlation:", "  "), &got)
	if want := DefaultWebRoots(); !reflect.DeepEqual(got.Correlation.WebRoots, want) {
		t.Errorf("the reference file's web_roots:\n%q\nthe built-in ones:\n%q", got.Correlation.WebRoots, want)
	}
	if want := DefaultScriptExtensions(); !reflect.DeepEqual(got.Correlation.ScriptExtensions, want) {
		t.Errorf("the reference file's script_extensions:\n%q\nthe built-in ones:\n%q", got.Correlation.ScriptExtensions, want)
	}
}
