//go:build linux

package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"webshellbeat/detection"
)

// SigmaHQ's auditd rules, loaded beside the built-in pack, on the kernel's
// own audit records of a web shell on each real server: "Webshell Remote
// Command Execution" (an execve with euid 33, www-data) and "System Owner or
// User Discovery" (an EXECVE record whose a0 is whoami) must fire on the
// shell's whoami. Both read a field of one record (euid of SYSCALL, a0 of
// EXECVE) in events that join them; before the linux pipeline read fields by
// record, neither could fire.
func TestLiveSigmaHQAuditd(t *testing.T) {
	fpm := liveReady(t)
	rules, err := filepath.Abs("../../shared/data/SigmaHQ-sigma/rules/linux/auditd")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(rules); err != nil {
		t.Skip(err)
	}
	const (
		webRCE   = "c0d3734d-330f-4a03-aae2-65dacc6a8222" // lnx_auditd_web_rce.yml
		userDisc = "9a0d8ca0-2385-4020-b6c6-cb6153ca56f3" // lnx_auditd_user_discovery.yml
	)
	paths := map[string]string{}
	for _, s := range liveSites {
		nonce := fmt.Sprintf("wsbsigma%s%d", s.server, time.Now().UnixNano())
		paths[s.server] = plantShell(t, s, nonce, fmt.Sprintf("<?php echo '%s '; echo shell_exec('whoami');\n", nonce))
	}
	startServers(t, fpm)
	dir := t.TempDir()
	startLiveBeat(t, dir, liveSitesInputs()+fmt.Sprintf("processors:\n  - webshell:\n      events: all\n      rules:\n        paths: [%q]\n", rules))
	requestModes(t, paths, []string{"run"}, "wsbsigma")

	// found: server -> rule id -> seen on the server's whoami.
	found := map[string]map[string]bool{}
	check := func() int {
		n := 0
		for _, d := range readDocs(t, dir) {
			if detection.LookupString(d, "process.executable") != "/usr/bin/whoami" {
				continue
			}
			for _, s := range liveSites {
				if !slices.ContainsFunc(s.parent, func(p string) bool {
					return slices.Contains(detection.LookupStrings(d, "webshell.ancestry.name"), p)
				}) {
					continue
				}
				for _, id := range detection.LookupStrings(d, "webshell.rule_ids") {
					if id == webRCE || id == userDisc {
						if found[s.server] == nil {
							found[s.server] = map[string]bool{}
						}
						found[s.server][id] = true
					}
				}
			}
		}
		for _, f := range found {
			n += len(f)
		}
		return n
	}
	for deadline := time.Now().Add(20 * time.Second); check() < 2*len(liveSites) && time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
	}
	for _, s := range liveSites {
		for id, name := range map[string]string{webRCE: "Webshell Remote Command Execution", userDisc: "System Owner or User Discovery"} {
			if !found[s.server][id] {
				t.Errorf("%s: SigmaHQ's %q did not fire on the web shell's whoami (with %v in its ancestry)", s.server, name, s.parent)
			}
		}
	}
}
