//go:build linux

package tests

import (
	"bytes"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"webshellbeat/detection"
	"webshellbeat/internal/testfiles"
)

// TestLiveLaurel runs auditd with LAUREL as its plug-in, both from
// configuration files of the test's own (nothing in /etc/audit changes),
// drives a web shell planted on the CI's nginx + php-fpm site, and runs the
// beat with the shipped laurel module on the log LAUREL writes. The servers
// start before the audit rule is added, as a web server runs long before
// its agent: no record names the php-fpm worker, only LAUREL's SPAWNED_BY,
// and the beat's alert for sh -c whoami must carry it, with the ancestry
// rule.
func TestLiveLaurel(t *testing.T) {
	fpm := liveReady(t)
	laurel := laurelBinary(t)
	if out, _ := exec.Command("pgrep", "-x", "auditd").Output(); len(bytes.TrimSpace(out)) > 0 {
		// The kernel takes one audit daemon.
		t.Skipf("auditd already runs (pid %s): the test starts its own", bytes.TrimSpace(out))
	}
	site := liveSites[1] // nginx + php-fpm
	startServers(t, fpm)

	dir := t.TempDir()
	logDir := filepath.Join(dir, "laurel")
	startAuditdWithLaurel(t, dir, laurel, logDir)
	rule := []string{"always,exit", "-F", "arch=b64", "-S", "execve", "-F", "euid=33", "-k", "wsb-laurel"}
	sh(t, "auditctl", append([]string{"-a"}, rule...)...)
	t.Cleanup(func() { _ = exec.Command("auditctl", append([]string{"-d"}, rule...)...).Run() })

	url := plantShell(t, site, fmt.Sprintf("l%d", time.Now().UnixNano()), `<?php system($_GET["c"]); ?>`)
	sent := time.Now()
	if out := curl(t, fmt.Sprintf("http://127.0.0.1:%d%s?c=whoami", site.port, url)); strings.TrimSpace(out) != "www-data" {
		t.Fatalf("the web shell answered %q", out)
	}

	home, cfgPath := shippedHome(t)
	var found map[string]any
	runBeat(t, cfgPath, home, func() bool {
		for _, d := range readDocs(t, home) {
			if isShellAlert(d, "whoami", []string{filepath.Base(fpm)}, sent) && detection.LookupString(d, "process.command_line") == "sh -c whoami" {
				found = d
				return true
			}
		}
		return false
	}, append(fileOutputFlags(home), "--modules", "laurel",
		"-M", fmt.Sprintf("laurel.paths=[%q]", filepath.Join(logDir, "audit.log")))...)
	if got := detection.LookupString(found, "process.parent.executable"); got != fpm {
		t.Errorf("process.parent.executable = %q, want %s (LAUREL's SPAWNED_BY)", got, fpm)
	}
	const ancestryRule = "9c4e7b1f-2d8a-4f3c-b6e5-1a7d9c2e4f80"
	if ids := detection.LookupStrings(found, "webshell.rule_ids"); !slices.Contains(ids, ancestryRule) {
		t.Errorf("rule ids %v: no ancestry rule", ids)
	}
	t.Logf("%s?c=whoami -> %q, parent %s, rules %v", url, detection.LookupString(found, "message"),
		detection.LookupString(found, "process.parent.executable"), detection.LookupStrings(found, "rule.name"))
}

// laurelBinary returns the LAUREL that .ci/linux-e2e.sh builds, or skips
// (fails under CI) without it.
func laurelBinary(t *testing.T) string {
	t.Helper()
	const laurel = "/usr/local/bin/laurel"
	needFiles(t, "LAUREL", laurel)
	return laurel
}

// TestLiveLaurelRotation feeds the LAUREL capture's audit.log to the real
// LAUREL, set to rotate its log every 40 KB (audit.log -> audit.log.1 ->
// ...), while the beat reads it with the shipped laurel module (paths
// audit.log*): every event LAUREL wrote, in whichever of its files, is
// read once.
func TestLiveLaurelRotation(t *testing.T) {
	liveReady(t)
	laurel := laurelBinary(t)
	dir := t.TempDir()
	logDir := filepath.Join(dir, "laurel")
	if err := os.MkdirAll(logDir, 0o750); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "laurel.toml")
	testfiles.Write(t, conf, fmt.Sprintf("directory = %q\n[auditlog]\nfile = \"audit.log\"\nsize = 40000\ngenerations = 50\n", logDir))
	records := strings.SplitAfter(string(testfiles.Gunzip(t, "../module/auditd/testdata/laurel/audit.log.gz")), "\n")

	feed := exec.Command(laurel, "-c", conf)
	stdin, err := feed.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := feed.Start(); err != nil {
		t.Fatal(err)
	}
	var fed atomic.Bool
	go func() {
		defer fed.Store(true)
		time.Sleep(2 * time.Second) // the beat is up
		for i := 0; i < len(records); i += 50 {
			_, _ = io.WriteString(stdin, strings.Join(records[i:min(i+50, len(records))], ""))
			time.Sleep(300 * time.Millisecond)
		}
		stdin.Close()
		_ = feed.Wait()
	}()
	t.Cleanup(func() { _ = feed.Process.Kill() })

	written := func() map[string]int {
		ids := map[string]int{}
		files, _ := filepath.Glob(filepath.Join(logDir, "audit.log*"))
		for _, f := range files {
			raw, _ := os.ReadFile(f)
			for _, l := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
				if id := laurelLineID(l); id != "" {
					ids[id]++
				}
			}
		}
		return ids
	}
	read := func(home string) map[string]int {
		ids := map[string]int{}
		for _, d := range readDocs(t, home) {
			if !isDerived(d) {
				ids[laurelLineID(detection.LookupString(d, "event.original"))]++
			}
		}
		return ids
	}
	home, cfgPath := shippedHome(t)
	runBeat(t, cfgPath, home, func() bool { return fed.Load() && len(read(home)) >= len(written()) },
		append(fileOutputFlags(home), "--modules", "laurel",
			"-M", fmt.Sprintf("laurel.paths=[%q]", filepath.Join(logDir, "audit.log*")))...)

	want, got := written(), read(home)
	files, _ := filepath.Glob(filepath.Join(logDir, "audit.log*"))
	if len(files) < 4 {
		t.Errorf("LAUREL wrote %d files (%v): too few rotations to test", len(files), files)
	}
	if len(want) < 150 {
		t.Fatalf("LAUREL wrote %d events", len(want))
	}
	for id := range want {
		if got[id] != 1 {
			t.Errorf("event %s read %d times", id, got[id])
		}
	}
	for id := range got {
		if want[id] == 0 {
			t.Errorf("event %q read but not in LAUREL's files", id)
		}
	}
	t.Logf("%d events in %d files, each read once", len(want), len(files))
}

// laurelLineID is the ID a LAUREL line opens with.
func laurelLineID(line string) string {
	rest, ok := strings.CutPrefix(line, `{"ID":"`)
	if !ok {
		return ""
	}
	id, _, _ := strings.Cut(rest, `"`)
	return id
}

// startAuditdWithLaurel starts auditd in the foreground with Debian's
// auditd.conf but its log and plug-in folder in dir, and LAUREL as its one
// plug-in writing to logDir; both stop at cleanup.
func startAuditdWithLaurel(t *testing.T, dir, laurel, logDir string) {
	t.Helper()
	plugins := filepath.Join(dir, "plugins.d")
	if err := os.MkdirAll(logDir, 0o750); err != nil {
		t.Fatal(err)
	}
	laurelConf := filepath.Join(dir, "laurel.toml")
	writeAuditdFiles(t, map[string]string{
		filepath.Join(plugins, "laurel.conf"): fmt.Sprintf("active = yes\ndirection = out\ntype = always\nformat = string\npath = %s\nargs = --config %s\n", laurel, laurelConf),
		laurelConf:                            fmt.Sprintf("directory = %q\n[auditlog]\nfile = \"audit.log\"\n", logDir),
	})
	// Registered before auditd's stop, so it runs after it: auditd asks its
	// plug-in to exit but does not wait for it, and LAUREL still writing
	// into logDir made the removal of the test's folder fail.
	t.Cleanup(func() { waitGone(laurelConf, 10*time.Second) })
	startAuditd(t, dir, map[string]string{"log_format": "ENRICHED"}, filepath.Join(logDir, "audit.log"))
}

// waitGone waits until no process has pattern in its command line, and
// kills those left after timeout.
func waitGone(pattern string, timeout time.Duration) {
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if exec.Command("pgrep", "-f", pattern).Run() != nil { // exit 1: none
			return
		}
	}
	_ = exec.Command("pkill", "-KILL", "-f", pattern).Run()
	time.Sleep(200 * time.Millisecond)
}

// startAuditd starts auditd in the foreground with Debian's auditd.conf,
// its log (dir/audit.log) and plug-in folder (dir/plugins.d) in dir and the
// given settings in place of the file's own, and stops it at cleanup. It
// returns once auditd owns the kernel's audit socket and ready exists.
func startAuditd(t *testing.T, dir string, settings map[string]string, ready string) *exec.Cmd {
	t.Helper()
	base, err := os.ReadFile("/etc/audit/auditd.conf")
	if err != nil {
		t.Fatal(err)
	}
	plugins := filepath.Join(dir, "plugins.d")
	if err := os.MkdirAll(plugins, 0o750); err != nil {
		t.Fatal(err)
	}
	settings = maps.Clone(settings)
	settings["log_file"] = filepath.Join(dir, "audit.log")
	settings["plugin_dir"] = plugins
	conf := string(base)
	for _, k := range slices.Sorted(maps.Keys(settings)) {
		conf = regexp.MustCompile(`(?m)^`+k+`\s*=.*\n`).ReplaceAllString(conf, "")
		conf += k + " = " + settings[k] + "\n"
	}
	writeAuditdFiles(t, map[string]string{filepath.Join(dir, "auditd.conf"): conf})
	out, err := os.Create(filepath.Join(dir, "auditd.out"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("auditd", "-n", "-c", dir)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
		}
		out.Close()
	})
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		st, _ := exec.Command("auditctl", "-s").Output()
		_, lerr := os.Stat(ready)
		if bytes.Contains(st, []byte(fmt.Sprintf("pid %d\n", cmd.Process.Pid))) && lerr == nil {
			return cmd
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(filepath.Join(dir, "auditd.out"))
			t.Fatalf("auditd (pid %d) did not start within 15 s (auditctl -s:\n%s; %v)\nauditd's output:\n%s", cmd.Process.Pid, st, lerr, b)
		}
	}
}

// writeAuditdFiles writes auditd's configuration files, which it refuses
// when others may write them.
func writeAuditdFiles(t *testing.T, files map[string]string) {
	t.Helper()
	for path, text := range files {
		if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o640); err != nil {
			t.Fatal(err)
		}
	}
}
