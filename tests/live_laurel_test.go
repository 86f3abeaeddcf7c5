package tests

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"webshellbeat/detection"
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
	laurel := "/usr/local/bin/laurel"
	if _, err := os.Stat(laurel); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("live LAUREL test: %v (run .ci/linux-e2e.sh as root first)", err)
		}
		t.Skipf("live LAUREL test: %v", err)
	}
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

// startAuditdWithLaurel starts auditd in the foreground with Debian's
// auditd.conf but its log and plug-in folder in dir, and LAUREL as its one
// plug-in writing to logDir; both stop at cleanup.
func startAuditdWithLaurel(t *testing.T, dir, laurel, logDir string) {
	t.Helper()
	base, err := os.ReadFile("/etc/audit/auditd.conf")
	if err != nil {
		t.Fatal(err)
	}
	plugins := filepath.Join(dir, "plugins.d")
	for _, d := range []string{plugins, logDir} {
		if err := os.MkdirAll(d, 0o750); err != nil {
			t.Fatal(err)
		}
	}
	conf := regexp.MustCompile(`(?m)^(log_file|plugin_dir|log_format)\s*=.*\n`).ReplaceAllString(string(base), "")
	conf += fmt.Sprintf("log_file = %s\nplugin_dir = %s\nlog_format = ENRICHED\n", filepath.Join(dir, "audit.log"), plugins)
	laurelConf := filepath.Join(dir, "laurel.toml")
	for path, text := range map[string]string{
		filepath.Join(dir, "auditd.conf"):     conf,
		filepath.Join(plugins, "laurel.conf"): fmt.Sprintf("active = yes\ndirection = out\ntype = always\nformat = string\npath = %s\nargs = --config %s\n", laurel, laurelConf),
		laurelConf:                            fmt.Sprintf("directory = %q\n[auditlog]\nfile = \"audit.log\"\n", logDir),
	} {
		// auditd refuses configuration files others may write.
		if err := os.WriteFile(path, []byte(text), 0o640); err != nil {
			t.Fatal(err)
		}
	}
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
		_, lerr := os.Stat(filepath.Join(logDir, "audit.log"))
		if bytes.Contains(st, []byte(fmt.Sprintf("pid %d\n", cmd.Process.Pid))) && lerr == nil {
			return
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(filepath.Join(dir, "auditd.out"))
			t.Fatalf("auditd (pid %d) with LAUREL did not start within 15 s (auditctl -s:\n%s; LAUREL's log: %v)\nauditd's output:\n%s", cmd.Process.Pid, st, lerr, b)
		}
	}
}
