//go:build linux

package tests

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"webshellbeat/config"
	"webshellbeat/detection"
	"webshellbeat/detector"
	"webshellbeat/hunt"
)

// TestLiveApacheErrorLog runs commands through a PHP web shell under the CI
// machine's real Apache + mod_php and checks the premise of the error log
// rules: a command's standard error lands in Apache's error log without the
// log's prefix, and hunt raises the two error log alerts from it. (Apache
// gives its children its own standard error, the main ErrorLog, so the
// lines are looked for in the main and in the site's error log.)
func TestLiveApacheErrorLog(t *testing.T) {
	liveErrorLog(t, liveReady(t), liveSites[0], "apache_error", "/var/log/apache2/error.log", "/var/log/apache2/wsb-error.log")
}

// TestLivePHPFPMLog is the same under nginx + php-fpm, whose pool CI sets
// to catch its workers' output (catch_workers_output = yes): the commands'
// errors are in php-fpm's own log, as the child's WARNING lines.
func TestLivePHPFPMLog(t *testing.T) {
	fpm := liveReady(t)
	logFile := "/var/log/" + filepath.Base(strings.Replace(fpm, "php-fpm", "php", 1)) + "-fpm.log" // php-fpm8.2 -> php8.2-fpm.log
	liveErrorLog(t, fpm, liveSites[1], "php_fpm", logFile)
}

// liveErrorLog starts the servers (fpm is liveReady's), plants a web shell
// in site, runs a missing command and an interactive shell through it,
// finds their errors in one of logs, hunts that log for the two error log
// alerts and runs the beat's module on a copy of it, which must give
// hunt's events and alerts.
func liveErrorLog(t *testing.T, fpm string, site liveSite, module string, logs ...string) {
	startServers(t, fpm)
	nonce := fmt.Sprintf("wsbmissing%d", time.Now().UnixNano())
	base := fmt.Sprintf("http://127.0.0.1:%d%s?c=", site.port, plantShell(t, site, nonce, `<?php system($_GET["c"]); ?>`))
	curl(t, base+nonce)
	curl(t, base+url.QueryEscape("sh -i </dev/null"))

	var logFile string
	for deadline := time.Now().Add(10 * time.Second); logFile == "" && time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		for _, f := range logs {
			b, _ := os.ReadFile(f)
			// "sh: 1: <nonce>: not found", or "Permission denied" where a
			// folder of PATH is closed to www-data (Debian's CI image).
			if strings.Contains(string(b), nonce+": ") && strings.Contains(string(b), "can't access tty") {
				logFile = f
			}
		}
	}
	if logFile == "" {
		var text strings.Builder
		for _, f := range logs {
			b, _ := os.ReadFile(f)
			fmt.Fprintf(&text, "%s:\n%s\n", f, tail(b, 2000))
		}
		t.Fatalf("the commands' errors are in none of the logs\n%s", text.String())
	}
	t.Logf("the commands' standard error is in %s", logFile)

	det, err := detector.New(config.Default())
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]string{} // rule title -> line
	st, err := hunt.Run([]string{logFile}, det, func(a map[string]any) {
		if line := detection.LookupString(a, "event.original"); strings.Contains(line, nonce) || strings.Contains(line, "can't access tty") {
			found[detection.LookupString(a, "message")] = line
		}
	}, nil)
	if err != nil || st.Formats[hunt.FormatErrorLog] != 1 {
		t.Fatalf("hunt %s: %v, stats %+v", logFile, err, st)
	}
	for _, rule := range []string{"Shell Could Not Run a Command in a Web Server Error Log", "Shell Without a Terminal in a Web Server Error Log"} {
		if found[rule] == "" {
			t.Errorf("no %q alert from %s; alerts: %v", rule, logFile, found)
		}
	}

	if alerts := moduleMatchesHunt(t, map[string]string{module: logFile}); len(alerts) < 2 {
		t.Errorf("the beat's %s module on %s: alerts of %d rules, want 2 or more", module, logFile, len(alerts))
	}
}
