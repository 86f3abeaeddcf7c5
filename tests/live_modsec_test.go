//go:build linux

package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"webshellbeat/detection"
	"webshellbeat/module/modsec"
)

// TestLiveModSecurity sends a web shell its command in a POST body on the
// CI machine's real Apache, through the site that runs mod_security2
// (.ci/linux-e2e.sh: wsb-modsec.localhost, SecAuditEngine On). The entry
// lands in the audit log the shipped modsecurity module reads; hunt raises
// the command rule on the body's command; and the module, run by the beat,
// gives hunt's events and alerts.
func TestLiveModSecurity(t *testing.T) {
	const site, auditLog = "wsb-modsec.localhost", "/var/log/apache2/modsec_audit.log"
	startServers(t, liveReady(t))
	checkShippedPath(t, "modsecurity", auditLog)
	nonce := fmt.Sprintf("wsbmodsec%d", time.Now().UnixNano())
	target := fmt.Sprintf("http://127.0.0.1:%d%s", liveSites[0].port, plantShell(t, liveSites[0], nonce, `<?php echo shell_exec($_POST["cmd"]); ?>`))
	if out := curl(t, "-H", "Host: "+site, "-d", "cmd=id", target); !strings.Contains(out, "uid=") {
		t.Fatalf("the web shell on %s answered %q", site, out)
	}

	// The entry is written when the request ends; take it out of the log,
	// which other runs of the test share.
	var entry string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline) && entry == ""; time.Sleep(200 * time.Millisecond) {
		entry = entryNaming(t, auditLog, nonce)
	}
	if entry == "" {
		t.Fatalf("no entry for %s in %s", nonce, auditLog)
	}
	log := filepath.Join(t.TempDir(), "modsec_audit.log")
	if err := os.WriteFile(log, []byte(entry), 0o644); err != nil {
		t.Fatal(err)
	}
	alerts := huntAlerts(t, log)
	const commandRule = "6d1c3f0e-4b7a-4c52-9d0b-2f7e5a8c1a08"
	if len(alerts) == 0 || !slices.Contains(detection.LookupStrings(alerts[0], "webshell.rule_ids"), commandRule) ||
		!slices.Equal(detection.LookupStrings(alerts[0], "webshell.body.param_values"), []string{"id"}) ||
		!strings.Contains(detection.LookupString(alerts[0], "http.response.body.content"), "uid=") {
		t.Fatalf("hunt of the entry: %d alerts, the first %v", len(alerts), alerts)
	}
	moduleMatchesHunt(t, map[string]string{"modsecurity": log})
}

// entryNaming returns the entry of a Serial audit log that holds s, its
// lines from its A boundary to its Z boundary ("" when none does).
func entryNaming(t *testing.T, path, s string) string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, line := range strings.SplitAfter(string(raw), "\n") {
		section := modsec.Section(strings.TrimRight(line, "\n"))
		if section == "A" {
			b.Reset()
		}
		b.WriteString(line)
		if section == "Z" && strings.Contains(b.String(), s) {
			return b.String()
		}
	}
	return ""
}
