package tests

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// The beat's usual commands work on the shipped configuration files.
func TestCommands(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the beat binary")
	}
	run := func(args ...string) (string, error) {
		out, err := exec.Command(binary, args...).CombinedOutput()
		return string(out), err
	}
	// The reference file ships every input disabled, like filebeat's.
	for _, args := range [][]string{
		{"-c", "../webshellbeat.yml"},
		{"-c", "../webshellbeat.reference.yml", "-E", "webshellbeat.inputs.0.enabled=true"},
	} {
		if out, err := run(append([]string{"test", "config", "--strict.perms=false"}, args...)...); err != nil || !strings.Contains(out, "Config OK") {
			t.Errorf("test config %v: %v\n%s", args, err, out)
		}
	}
	out, err := run("export", "template", "--strict.perms=false", "-c", "../webshellbeat.yml")
	if err != nil {
		t.Fatalf("export template: %v\n%s", err, out)
	}
	// One composable template per data stream, printed one after the other.
	type template struct {
		IndexPatterns []string  `json:"index_patterns"`
		DataStream    *struct{} `json:"data_stream"`
		Template      struct {
			Mappings struct {
				Properties map[string]any `json:"properties"`
			} `json:"mappings"`
		} `json:"template"`
	}
	var patterns []string
	dec := json.NewDecoder(strings.NewReader(out))
	for dec.More() {
		var tmpl template
		if err := dec.Decode(&tmpl); err != nil {
			t.Fatalf("export template is not JSON: %v", err)
		}
		patterns = append(patterns, tmpl.IndexPatterns...)
		if tmpl.DataStream == nil {
			t.Errorf("template %v is not for a data stream", tmpl.IndexPatterns)
		}
		for _, f := range []string{"process", "rule", "threat", "webshell", "winlog", "auditd", "url"} {
			if _, ok := tmpl.Template.Mappings.Properties[f]; !ok {
				t.Errorf("template %v has no %s fields", tmpl.IndexPatterns, f)
			}
		}
	}
	if got := strings.Join(patterns, " "); got != "logs-webshellbeat.alert-* logs-webshellbeat.event-*" {
		t.Errorf("export template: index patterns %q", got)
	}
	if out, err := run("version"); err != nil || !strings.HasPrefix(out, "webshellbeat version") {
		t.Errorf("version: %v %q", err, out)
	}
	// A config with a wrong type stops the beat at start with the key named.
	dir := t.TempDir()
	bad := dir + "/bad.yml"
	if err := os.WriteFile(bad, []byte("webshellbeat.inputs:\n- type: auditd\n  paths: [/etc/hostname]\n  poll_interval: often\nprocessors:\n  - webshell: {events: all}\noutput.console: {}\npath.data: "+dir+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := run("run", "-e", "--strict.perms=false", "-c", bad); err == nil || !strings.Contains(out, `invalid duration "often" accessing 'webshellbeat.inputs.0.poll_interval'`) {
		t.Errorf("run with a wrong type: err %v\n%s", err, out)
	}
	// A misspelt option of an input's processor fails test config, which
	// filestream would only log per file while the beat ran on and read
	// nothing.
	typo := dir + "/typo.yml"
	if err := os.WriteFile(typo, []byte("webshellbeat.inputs:\n- type: filestream\n  id: web\n  paths: [/etc/hostname]\n  processors:\n    - decode_access_log: {fromat: combined}\nprocessors:\n  - webshell: {events: all}\noutput.console: {}\npath.data: "+dir+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := run("test", "config", "--strict.perms=false", "-c", typo); err == nil || !strings.Contains(out, `webshellbeat.inputs: input web: processors: decode_access_log: unknown option "fromat"`) {
		t.Errorf("test config with a misspelt processor option: err %v\n%s", err, out)
	}
	// --once would stop at once having read nothing (filebeat waits only
	// for its log input): it is refused, naming hunt instead.
	good := dir + "/good.yml"
	if err := os.WriteFile(good, []byte("webshellbeat.inputs:\n- type: auditd\n  paths: [/etc/hostname]\nprocessors:\n  - webshell: {events: all}\noutput.console: {}\npath.data: "+dir+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := run("run", "-e", "--once", "--strict.perms=false", "-c", good); err == nil || !strings.Contains(out, "--once is not supported") || !strings.Contains(out, "webshellbeat hunt") {
		t.Errorf("run --once: err %v\n%s", err, out)
	}
}

// The shipped configuration files are the ones generated from _meta/.
func TestGeneratedFilesUpToDate(t *testing.T) {
	for dst, src := range map[string]string{
		"../webshellbeat.yml":           "../_meta/config/beat.yml",
		"../webshellbeat.reference.yml": "../_meta/config/beat.reference.yml",
		"../include/fields.yml":         "../_meta/fields.yml",
	} {
		a, err1 := os.ReadFile(dst)
		b, err2 := os.ReadFile(src)
		if err1 != nil || err2 != nil || string(a) != string(b) {
			t.Errorf("%s is not the same as %s: run `go run github.com/magefile/mage config`", dst, src)
		}
	}
}

// The README's example configuration is one the beat accepts (less its
// live Windows input off Windows, which test config refuses there by
// design): an example that drifted from the options would mislead.
func TestReadmeConfig(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the beat binary")
	}
	raw, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	const open = "```yaml\nwebshellbeat.inputs:\n"
	_, block, ok := strings.Cut(string(raw), open)
	if !ok {
		t.Fatal("no example configuration (a yaml block that starts with webshellbeat.inputs:) in the README")
	}
	block, _, _ = strings.Cut(block, "```")
	cfg := "webshellbeat.inputs:\n" + block
	if runtime.GOOS != "windows" {
		start := strings.Index(cfg, "- type: winlog")
		end := strings.Index(cfg, "\nprocessors:")
		if start < 0 || end < start {
			t.Fatalf("the example's winlog input or processors are not where this test looks:\n%s", cfg)
		}
		cfg = cfg[:start] + cfg[end+1:]
	}
	dir := t.TempDir()
	path := writeConfig(t, dir, cfg)
	if out, err := exec.Command(binary, "test", "config", "--strict.perms=false", "-c", path, "--path.home", dir).CombinedOutput(); err != nil || !strings.Contains(string(out), "Config OK") {
		t.Errorf("test config on the README's example: %v\n%s\n%s", err, out, cfg)
	}
}

// --cpuprofile works under the beat's seccomp filter: Go's profiler times
// each thread with timer_create, timer_settime and timer_delete, which
// libbeat's policy refused, and the beat died with "fatal error:
// timer_delete" when it stopped (every run on this machine). Now it stops
// cleanly and writes the profile.
func TestCPUProfile(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the beat binary")
	}
	if runtime.GOOS != "linux" {
		t.Skip("seccomp is Linux's")
	}
	dir := t.TempDir()
	cfg := fmt.Sprintf(`webshellbeat.inputs:
  - type: filestream
    id: access
    paths: [%q]
processors:
  - webshell: {}
`, abs(t, "linux-capture/apache_access.log")) + fileOutput(dir, "100ms")
	cfgPath := writeConfig(t, dir, cfg)
	prof := filepath.Join(dir, "cpu.prof")
	runBeat(t, cfgPath, dir, func() bool { return len(readDocs(t, dir)) >= 19 }, "--cpuprofile", prof)
	raw, err := os.ReadFile(prof)
	if err != nil || len(raw) < 2 || raw[0] != 0x1f || raw[1] != 0x8b {
		t.Errorf("no profile written (a gzip'd pprof file): %v, %d bytes", err, len(raw))
	}
}
