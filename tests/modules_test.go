package tests

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"webshellbeat/detection"
	"webshellbeat/internal/testfiles"
)

// shippedHome makes a home folder with the shipped webshellbeat.yml and
// modules.d, and returns it and the config's path.
func shippedHome(t *testing.T) (dir, cfgPath string) {
	t.Helper()
	dir = t.TempDir()
	if err := os.CopyFS(filepath.Join(dir, "modules.d"), os.DirFS("../modules.d")); err != nil {
		t.Fatal(err)
	}
	shipped, err := os.ReadFile("../webshellbeat.yml")
	if err != nil {
		t.Fatal(err)
	}
	return dir, writeConfig(t, dir, string(shipped))
}

// fileOutputFlags are fileOutput as -E flags, for runs on a shipped
// webshellbeat.yml, whose Elasticsearch output they turn off.
func fileOutputFlags(dir string) []string {
	return []string{"-E", "output.elasticsearch.enabled=false",
		"-E", "output.file.path=" + filepath.Join(dir, "out"), "-E", "output.file.filename=out",
		"-E", "path.data=" + filepath.Join(dir, "data"), "-E", "path.logs=" + filepath.Join(dir, "logs")}
}

// eventAlerts counts the documents of the beat's output under dir that are
// events it read (not derived ones), and their alerts per rule id.
func eventAlerts(t *testing.T, dir string) (events int, alerts map[string]int) {
	alerts = map[string]int{}
	for _, d := range readDocs(t, dir) {
		if isDerived(d) {
			continue
		}
		events++
		for _, id := range ids(d) {
			alerts[id]++
		}
	}
	return events, alerts
}

// shippedModules lists the modules of ../modules.d by name.
func shippedModules(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("../modules.d/*.yml.disabled")
	if err != nil || len(files) == 0 {
		t.Fatalf("no modules in ../modules.d: %v", err)
	}
	var names []string
	for _, f := range files {
		names = append(names, strings.TrimSuffix(filepath.Base(f), ".yml.disabled"))
	}
	return names
}

// Every module file is a list of inputs of a type the beat has (winlog on
// Windows builds), with ids unique across all modules, since filestream
// refuses two inputs with one id.
func TestModuleFilesAreInputLists(t *testing.T) {
	ids := map[string]string{}
	for _, name := range shippedModules(t) {
		raw, err := os.ReadFile("../modules.d/" + name + ".yml.disabled")
		if err != nil {
			t.Fatal(err)
		}
		var inputs []map[string]any
		if err := yaml.Unmarshal(raw, &inputs); err != nil || len(inputs) == 0 {
			t.Errorf("%s: not a list of inputs: %v", name, err)
			continue
		}
		if !strings.HasPrefix(string(raw), "# Module: "+name+"\n") {
			t.Errorf("%s: the file does not begin with its name and what it reads", name)
		}
		for _, in := range inputs {
			typ, _ := in["type"].(string)
			id, _ := in["id"].(string)
			if !slices.Contains([]string{"filestream", "auditd", "evtx", "winlog"}, typ) {
				t.Errorf("%s: input type %q", name, typ)
			}
			if other, dup := ids[id]; dup || id == "" {
				t.Errorf("%s: input id %q (also in %s)", name, id, other)
			}
			ids[id] = name
			checkCompressedRotations(t, name, in)
		}
	}
}

// checkCompressedRotations: a filestream input whose path pattern takes
// rotations (access.log*) leaves out the compressed ones, which it would
// read as lines of binary, and reads the others. The key is filestream's
// (the log input's exclude_files at the top is ignored: see
// TestCompressedRotationsSkipped, which runs them).
func checkCompressedRotations(t *testing.T, module string, in map[string]any) {
	t.Helper()
	var excludes []*regexp.Regexp
	list, _ := in["prospector.scanner.exclude_files"].([]any)
	for _, e := range list {
		excludes = append(excludes, regexp.MustCompile(e.(string)))
	}
	excluded := func(name string) bool {
		return slices.ContainsFunc(excludes, func(re *regexp.Regexp) bool { return re.MatchString(name) })
	}
	paths, _ := in["paths"].([]any)
	for _, p := range paths {
		if !strings.HasSuffix(p.(string), "*") {
			continue
		}
		rotated := strings.TrimSuffix(p.(string), "*") + ".2"
		for _, ext := range []string{".gz", ".bz2", ".xz", ".zst"} {
			if !excluded(rotated + ext) {
				t.Errorf("%s: %s%s is read", module, rotated, ext)
			}
		}
		if excluded(rotated) || excluded(strings.TrimSuffix(p.(string), "*")) {
			t.Errorf("%s: %s or its rotation is left out", module, p)
		}
	}
}

// TestCompressedRotationsSkipped runs every shipped module whose paths
// take rotations (access.log*) on a folder of its own that holds a log, its
// plain rotation (.1, as logrotate's delaycompress leaves it) and
// compressed ones: the beat reads the first two and none of the others.
// The modules once set exclude_files where filestream does not read it, and
// every compressed rotation became lines of binary, each an unreadable
// record.
func TestCompressedRotationsSkipped(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the beat binary")
	}
	dir, cfgPath := shippedHome(t)
	logs := t.TempDir()
	args := fileOutputFlags(dir)
	var modules []string
	for _, module := range shippedModules(t) {
		if !slices.ContainsFunc(shippedPaths(t, module), func(p string) bool { return strings.HasSuffix(p, "*") }) {
			continue
		}
		modules = append(modules, module)
		base := filepath.Join(logs, module, "x.log")
		for i, name := range []string{base, base + ".1"} { // 1,200 bytes: laurel keeps filestream's 1 KB fingerprint
			var lines strings.Builder
			for j := range 10 {
				// Linux-Sysmon: sysmon_linux reads only the lines that name it.
				fmt.Fprintf(&lines, "2026-11-26 10:00:%d%d %s line %d, long enough for the fingerprint of the %s module (Linux-Sysmon)\n", i, j, name, j, module)
			}
			testfiles.Write(t, name, lines.String())
		}
		// Read as text, compressed bytes become lines only where a byte is
		// a newline: each file here has some, or the test would prove nothing.
		// sysmon_linux reads only lines that name Linux-Sysmon, which
		// compressed bytes would not: its file is stored uncompressed
		// (gzip level 0), so its lines are there as written.
		var gz bytes.Buffer
		level := gzip.DefaultCompression
		if module == "sysmon_linux" {
			level = gzip.NoCompression
		}
		zw, _ := gzip.NewWriterLevel(&gz, level)
		for j := range 300 {
			fmt.Fprintf(zw, "2026-11-25 10:%02d:%02d %s, compressed line %d %x Linux-Sysmon\n", j/60, j%60, module, j, sha256.Sum256([]byte(module+strconv.Itoa(j))))
		}
		zw.Close()
		if gz.Len() < 1024 || !bytes.Contains(gz.Bytes(), []byte("\n")) {
			t.Fatalf("the compressed sample (%d bytes) is too short or has no newline byte", gz.Len())
		}
		testfiles.Write(t, base+".2.gz", gz.String())
		// The other three are left out by name: their bytes need only be
		// binary, with newlines, and long enough to be fingerprinted.
		for _, ext := range []string{".3.bz2", ".4.xz", ".5.zst"} {
			testfiles.Write(t, base+ext, strings.Repeat("\x00\x1f\x8b\xfd7zXZ\x28\xb5\x2f\xfdBZh9"+ext+" Linux-Sysmon\n", 80))
		}
		args = append(args, "-M", fmt.Sprintf("%s.paths=[%q]", module, base+"*"))
	}
	if len(modules) < 6 {
		t.Fatalf("only %d modules read rotations: %v", len(modules), modules)
	}
	read := func() map[string]int {
		files := map[string]int{}
		for _, d := range readDocs(t, dir) {
			files[detection.LookupString(d, "log.file.path")]++
		}
		return files
	}
	runBeat(t, cfgPath, dir, func() bool { return len(read()) >= 2*len(modules) }, append(args, "--modules", strings.Join(modules, ","))...)
	files := read()
	for _, module := range modules {
		base := filepath.Join(logs, module, "x.log")
		if files[base] == 0 || files[base+".1"] == 0 {
			t.Errorf("%s: %d documents of %s and %d of its rotation .1, want some of both", module, files[base], base, files[base+".1"])
		}
	}
	for f, n := range files {
		if ext := filepath.Ext(f); ext != ".log" && ext != ".1" {
			t.Errorf("%d documents of %s", n, f)
		}
	}
}

// The modules command lists, enables and disables the files of modules.d
// beside the shipped webshellbeat.yml, and the enabled modules' inputs run:
// apache, nginx, auditd, evtx, windows_text, sysmon_linux and modsecurity,
// pointed at the shared (and bundled) samples, give the documents and
// alerts that hunt gives for the same files.
func TestModulesCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the beat binary")
	}
	dir, cfgPath := shippedHome(t)
	modules := func(args ...string) string {
		t.Helper()
		out, err := exec.Command(binary, append([]string{"modules"}, append(args, "--strict.perms=false", "-c", cfgPath, "--path.home", dir)...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("modules %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	all := shippedModules(t)
	if enabled, disabled := parseList(t, modules("list")); len(enabled) != 0 || !slices.Equal(disabled, all) {
		t.Fatalf("modules list on the shipped files: enabled %v, disabled %v; want none, %v", enabled, disabled, all)
	}
	modules("enable", "apache", "nginx", "iis", "auditd", "evtx", "windows_text", "sysmon_linux", "modsecurity")
	modules("disable", "iis")
	if enabled, _ := parseList(t, modules("list")); !slices.Equal(enabled, []string{"apache", "auditd", "evtx", "modsecurity", "nginx", "sysmon_linux", "windows_text"}) {
		t.Fatalf("after enable apache nginx iis auditd evtx windows_text sysmon_linux modsecurity, disable iis: enabled %v", enabled)
	}

	apache := abs(t, "linux-capture/apache_access.log")
	nginx := abs(t, "linux-capture/nginx_access.log")
	audit := abs(t, "linux-capture/audit.log")
	evtx := abs(t, "sbousseaden-EVTX-ATTACK-SAMPLES/Lateral Movement/LM_typical_IIS_webshell_sysmon_1_10_traces.evtx")
	xml := abs(t, "seed/security-4688.xml")
	syslog, err := filepath.Abs("../testdata/samples/tomcat_log4shell_syslog.log")
	if err != nil {
		t.Fatal(err)
	}
	// The captures are short files: the web server modules read them as
	// shipped (a 64-byte fingerprint); windows_text is told to.
	small := "  prospector.scanner.fingerprint.length: 64"
	pointAt(t, filepath.Join(dir, "modules.d/apache.yml"), apache, "")
	pointAt(t, filepath.Join(dir, "modules.d/nginx.yml"), nginx, "")
	pointAt(t, filepath.Join(dir, "modules.d/auditd.yml"), audit, "  poll_interval: 1s")
	pointAt(t, filepath.Join(dir, "modules.d/evtx.yml"), evtx, "  poll_interval: 1s")
	pointAt(t, filepath.Join(dir, "modules.d/windows_text.yml"), xml, small)
	pointAt(t, filepath.Join(dir, "modules.d/sysmon_linux.yml"), syslog, "")
	modsec, err := filepath.Abs("../module/modsec/testdata/apache-audit-on.log")
	if err != nil {
		t.Fatal(err)
	}
	pointAt(t, filepath.Join(dir, "modules.d/modsecurity.yml"), modsec, "")

	wantEvents, wantAlerts := huntCounts(t, apache, nginx, audit, evtx, xml, syslog, modsec)
	port := freePort(t)
	var stats webshellStats
	runBeat(t, cfgPath, dir, func() bool {
		if len(readDocs(t, dir)) < wantEvents {
			return false
		}
		stats = readWebshellStats(port)
		return stats.Events >= int64(wantEvents)
	},
		append(fileOutputFlags(dir), "-E", "http.enabled=true", "-E", fmt.Sprintf("http.port=%d", port))...)
	events, gotAlerts := eventAlerts(t, dir)
	if events != wantEvents || !maps.Equal(gotAlerts, wantAlerts) {
		t.Errorf("modules apache, nginx, auditd, evtx, windows_text, sysmon_linux, modsecurity: %d documents, alerts %v; hunt: %d events, alerts %v", events, gotAlerts, wantEvents, wantAlerts)
	}
	// The beat's /stats counts what the webshell processor saw.
	alerted := 0
	for _, d := range readDocs(t, dir) {
		if !isDerived(d) && detection.LookupString(d, "event.kind") == "alert" {
			alerted++
		}
	}
	if stats.Events != int64(wantEvents) || stats.Alerts != int64(alerted) || stats.Rules.Loaded == 0 {
		t.Errorf("/stats webshell: %+v; want %d events, %d alerts", stats, wantEvents, alerted)
	}
}

// webshellStats is the webshell object of the beat's /stats.
type webshellStats struct {
	Events, Alerts int64
	Rules          struct{ Loaded int64 }
}

func readWebshellStats(port int) webshellStats {
	c := http.Client{Timeout: time.Second}
	resp, err := c.Get(fmt.Sprintf("http://127.0.0.1:%d/stats", port))
	if err != nil {
		return webshellStats{}
	}
	defer resp.Body.Close()
	var s struct{ Webshell webshellStats }
	if json.NewDecoder(resp.Body).Decode(&s) != nil {
		return webshellStats{}
	}
	return s.Webshell
}

// parseList reads the output of "modules list".
func parseList(t *testing.T, out string) (enabled, disabled []string) {
	t.Helper()
	before, after, ok := strings.Cut(out, "Disabled:")
	if !ok || !strings.Contains(before, "Enabled:") {
		t.Fatalf("modules list: %q", out)
	}
	return strings.Fields(strings.TrimPrefix(strings.TrimSpace(before), "Enabled:")), strings.Fields(after)
}

// pointAt replaces the paths of a module file's input with a test file,
// and adds the option line extra to the input.
func pointAt(t *testing.T, file, path, extra string) {
	t.Helper()
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var kept []string
	replaced, inPaths := 0, false
	for _, line := range strings.Split(string(raw), "\n") {
		switch {
		case inPaths && strings.HasPrefix(line, "    - "):
			replaced++
			continue
		case line == "  paths:":
			inPaths = true
			kept = append(kept, line, fmt.Sprintf("    - %q", path))
			continue
		case strings.HasPrefix(line, "  id: "):
			kept = append(kept, line, extra)
			continue
		}
		inPaths = false
		kept = append(kept, line)
	}
	if replaced == 0 {
		t.Fatalf("%s: no paths list", file)
	} else if err := os.WriteFile(file, []byte(strings.Join(kept, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
}

// --modules runs disabled module files for one run and -M sets their
// inputs' settings, as in filebeat; a module name that does not exist stops
// the beat with the list of those that do.
func TestModulesFlag(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the beat binary")
	}
	dir, cfgPath := shippedHome(t)
	out, err := exec.Command(binary, append([]string{"run", "-e", "--strict.perms=false", "-c", cfgPath, "--path.home", dir, "--modules", "apache,nope"}, fileOutputFlags(dir)...)...).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "--modules nope: no module nope in") || !strings.Contains(string(out), "apache, apache_container, apache_error, auditd, auditd_live") {
		t.Fatalf("run --modules apache,nope: %v\n%s", err, tail(out, 2000))
	}

	// --modules apache -M apache.paths=[capture]
	moduleMatchesHunt(t, map[string]string{"apache": abs(t, "linux-capture/apache_access.log")})
}

// The php_fpm and php_error modules on the logs captured from php-fpm 8.2
// and PHP 8.2 (module/errorlog/testdata): the events and alerts hunt gives.
func TestPHPModules(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the beat binary")
	}
	alerts := moduleMatchesHunt(t, map[string]string{
		"php_fpm":   "../module/errorlog/testdata/php-fpm.log",
		"php_error": "../module/errorlog/testdata/php-errors-disabled-functions.log",
	})
	if len(alerts) < 3 {
		t.Errorf("the php_fpm and php_error modules: alerts %v, want 3 rules or more", alerts)
	}
}

// The tomcat_error module on Tomcat's log captured from Tomcat 10.1
// (module/errorlog/testdata): the events and alerts hunt gives.
func TestTomcatErrorModule(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the beat binary")
	}
	if alerts := moduleMatchesHunt(t, map[string]string{"tomcat_error": "../module/errorlog/testdata/tomcat-localhost.log"}); len(alerts) != 1 {
		t.Errorf("the tomcat_error module: alerts %v, want one rule's", alerts)
	}
}

// The lighttpd and caddy modules on the access logs captured from
// lighttpd 1.4.69 and Caddy 2.6.2 (module/accesslog/testdata), each with
// a web shell's commands in its queries: the events and alerts hunt gives.
func TestLighttpdCaddyModules(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the beat binary")
	}
	alerts := moduleMatchesHunt(t, map[string]string{
		"lighttpd": "../module/accesslog/testdata/lighttpd-1.4.69-access.log",
		"caddy":    "../module/accesslog/testdata/caddy-2.6.2-access.log",
	})
	if len(alerts) < 1 {
		t.Errorf("the lighttpd and caddy modules: no alert")
	}
}

// moduleMatchesHunt runs the beat with the shipped modules named in logs,
// each pointed at a copy of its file (a live log keeps growing): they must
// give the events and alerts hunt gives for the copies. It returns hunt's
// alerts per rule id.
func moduleMatchesHunt(t *testing.T, logs map[string]string) map[string]int {
	t.Helper()
	dir, cfgPath := shippedHome(t)
	args := fileOutputFlags(dir)
	var modules, copies []string
	for _, module := range slices.Sorted(maps.Keys(logs)) {
		snapshot := filepath.Join(t.TempDir(), filepath.Base(logs[module]))
		testfiles.Copy(t, logs[module], snapshot)
		modules, copies = append(modules, module), append(copies, snapshot)
		args = append(args, "-M", fmt.Sprintf("%s.paths=[%q]", module, snapshot))
	}
	wantEvents, wantAlerts := huntCounts(t, copies...)
	runBeat(t, cfgPath, dir, func() bool { return len(readDocs(t, dir)) >= wantEvents },
		append(args, "--modules", strings.Join(modules, ","))...)
	if events, gotAlerts := eventAlerts(t, dir); events != wantEvents || !maps.Equal(gotAlerts, wantAlerts) {
		t.Errorf("the beat's modules %v on %v: %d documents, alerts %v; hunt: %d events, alerts %v", modules, logs, events, gotAlerts, wantEvents, wantAlerts)
	}
	return wantAlerts
}

// nginx's access lines in a syslog file, read as the README shows: libbeat's
// syslog processor, then decode_access_log, give the events and alerts
// hunt gives for the same file (other programs' lines left out with
// include_lines, as the sysmon_linux module does).
func TestSyslogAccessInput(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the beat binary")
	}
	dir := t.TempDir()
	syslog := filepath.Join(dir, "syslog")
	testfiles.Write(t, syslog, `Nov 26 10:00:00 web1 sshd[7]: Accepted publickey for root from 10.0.0.1 port 22 ssh2
Nov 26 10:00:05 web1 nginx: 203.0.113.7 - - [26/Nov/2026:10:00:01 +0000] "GET /uploads/shell.php?cmd=whoami HTTP/1.1" 200 31 "-" "curl/8.5.0"
2026-11-26T10:00:06.000000+00:00 web1 nginx: 203.0.113.8 - - [26/Nov/2026:10:00:02 +0000] "GET /index.php?id=5 HTTP/1.1" 200 512 "-" "Mozilla/5.0"
`)
	wantEvents, wantAlerts := huntCounts(t, syslog)
	cfgPath := writeConfig(t, dir, fmt.Sprintf(`webshellbeat.inputs:
- type: filestream
  id: nginx-syslog
  paths: [%q]
  include_lines: [' nginx(\[\d+\])?: ']
  prospector.scanner.fingerprint.length: 64
  processors:
    - syslog: {field: message}
    - decode_access_log: {format: combined, server: nginx}
processors:
  - webshell: {events: all}
`, syslog))
	runBeat(t, cfgPath, dir, func() bool { return len(readDocs(t, dir)) >= wantEvents }, fileOutputFlags(dir)...)
	events, gotAlerts := eventAlerts(t, dir)
	if events != wantEvents || !maps.Equal(gotAlerts, wantAlerts) || wantEvents != 2 || len(wantAlerts) == 0 {
		t.Errorf("the beat on nginx's syslog lines: %d documents, alerts %v; hunt: %d events, alerts %v", events, gotAlerts, wantEvents, wantAlerts)
	}
}

// The modsecurity module reads libmodsecurity 3's native format and the
// JSON format (real logs of nginx's connector), one event an entry, as hunt
// reads them.
func TestModSecurityModuleFormats(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the beat binary")
	}
	for _, f := range []string{"nginx-libmodsecurity3-serial.log", "nginx-libmodsecurity3.json", "apache-audit.json"} {
		log, err := filepath.Abs("../module/modsec/testdata/" + f)
		if err != nil {
			t.Fatal(err)
		}
		if alerts := moduleMatchesHunt(t, map[string]string{"modsecurity": log}); len(alerts) == 0 {
			t.Errorf("%s: no alert", f)
		}
	}
}

// The laurel module on the live LAUREL capture gives hunt's events and
// alerts, the ancestry rule among them (LAUREL names the parent process).
func TestLaurelModule(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the beat binary")
	}
	log := filepath.Join(t.TempDir(), "audit.log")
	testfiles.Write(t, log, string(testfiles.Gunzip(t, "../module/auditd/testdata/laurel/laurel.log.gz")))
	const ancestryRule = "9c4e7b1f-2d8a-4f3c-b6e5-1a7d9c2e4f80"
	if alerts := moduleMatchesHunt(t, map[string]string{"laurel": log}); alerts[ancestryRule] == 0 {
		t.Errorf("no ancestry alert: %v", alerts)
	}
}

// shippedPaths reads the paths of the inputs of a shipped module file.
func shippedPaths(t *testing.T, module string) []string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("../modules.d", module+".yml.disabled"))
	if err != nil {
		t.Fatal(err)
	}
	var inputs []struct {
		Paths []string `yaml:"paths"`
	}
	if err := yaml.Unmarshal(raw, &inputs); err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, in := range inputs {
		paths = append(paths, in.Paths...)
	}
	return paths
}
