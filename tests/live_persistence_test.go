//go:build linux

package tests

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"webshellbeat/detection"
)

// A web shell on each server makes its access last: it installs a cron job
// for the server's account through a pipe into crontab (no shell between
// crontab and the pipe's sh), and appends an SSH key to an authorized_keys
// file. The persistence rule must fire on crontab itself and on the shell
// that writes the key, with the web server in the ancestry. The cron job is
// removed again (crontab -r).
func TestLivePersistence(t *testing.T) {
	fpm := liveReady(t)
	const rule = "4475bad7-c738-45c0-8717-09d444925069"
	paths := map[string]string{}
	keys := map[string]string{}
	for _, s := range liveSites {
		nonce := fmt.Sprintf("wsbkeep%s%d", s.server, time.Now().UnixNano())
		keys[s.server] = "/tmp/" + nonce + "/.ssh/authorized_keys"
		code := fmt.Sprintf(`<?php
$n = '%[1]s';
if ($_GET['m'] === 'cron') {
	echo shell_exec("(crontab -l 2>/dev/null; echo '* * * * * /bin/true # $n') | crontab - && crontab -l && crontab -r");
} else {
	echo shell_exec("mkdir -p /tmp/$n/.ssh && echo 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAwsb $n' >> %[2]s && cat %[2]s && rm -rf /tmp/$n");
}
`, nonce, keys[s.server])
		paths[s.server] = plantShell(t, s, nonce, code)
	}
	startServers(t, fpm)
	dir := t.TempDir()
	startLiveBeat(t, dir, liveSitesInputs()+detectAll)

	requestModes(t, paths, []string{"cron", "key"}, "wsbkeep")
	// found: server -> what was seen ("crontab", "key").
	found := map[string]map[string]bool{}
	check := func() int {
		n := 0
		for _, d := range readDocs(t, dir) {
			if !slices.Contains(detection.LookupStrings(d, "webshell.rule_ids"), rule) {
				continue
			}
			for _, s := range liveSites {
				if !slices.ContainsFunc(s.parent, func(p string) bool {
					return slices.Contains(detection.LookupStrings(d, "webshell.ancestry.name"), p)
				}) {
					continue
				}
				if found[s.server] == nil {
					found[s.server] = map[string]bool{}
				}
				cmd := detection.LookupString(d, "process.command_line")
				switch {
				case detection.LookupString(d, "process.executable") == "/usr/bin/crontab" && cmd == "crontab -":
					found[s.server]["crontab"] = true
				case strings.Contains(cmd, keys[s.server]):
					found[s.server]["key"] = true
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
		for _, what := range []string{"crontab", "key"} {
			if !found[s.server][what] {
				t.Errorf("%s: no alert of the persistence rule for the %s command with %v in its ancestry", s.server, what, s.parent)
			}
		}
	}
	if t.Failed() {
		for _, d := range readDocs(t, dir) {
			if cmd := detection.LookupString(d, "process.command_line"); strings.Contains(cmd, "crontab") || strings.Contains(cmd, "authorized_keys") {
				t.Logf("event: %q by %s, rules %v, ancestry %v", cmd, detection.LookupString(d, "user.name"),
					detection.LookupStrings(d, "webshell.rule_ids"), detection.LookupStrings(d, "webshell.ancestry.name"))
			}
		}
	}
}
