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

// A web shell on each server runs what an intruder downloads: a program
// copied to /tmp and run from there, and the same program run from memory
// (Python's memfd_create, then execve of /proc/self/fd/N), which leaves no
// file. Both must raise the dropped-program rule with the web server in
// the ancestry.
func TestLiveDroppedProgram(t *testing.T) {
	fpm := liveReady(t)
	type want struct {
		site liveSite
		exe  string
	}
	var wants []want
	paths := map[string]string{}
	for _, s := range liveSites {
		nonce := fmt.Sprintf("wsbdrop%s%d", s.server, time.Now().UnixNano())
		code := fmt.Sprintf(`<?php
$n = '%[1]s';
if ($_GET['m'] === 'tmp') {
	echo shell_exec("cp /bin/id /tmp/$n && /tmp/$n; rm -f /tmp/$n");
} else {
	echo shell_exec("python3 -c \"import os; fd = os.memfd_create('$n'); os.write(fd, open('/bin/id', 'rb').read()); os.execve('/proc/self/fd/%%d' %% fd, ['$n'], {})\"");
}
`, nonce)
		paths[s.server] = plantShell(t, s, nonce, code)
		wants = append(wants, want{s, "/tmp/" + nonce}, want{s, "/memfd:" + nonce + " (deleted)"})
	}
	startServers(t, fpm)
	dir := t.TempDir()
	startLiveBeat(t, dir, liveSitesInputs()+detectAll)

	requestModes(t, paths, []string{"tmp", "memfd"}, "uid=")
	const rule = "cc4e1c2a-8aef-4922-8b71-7eb2e69a70c4"
	found := map[string]bool{}
	for deadline := time.Now().Add(20 * time.Second); len(found) < len(wants) && time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		for _, d := range readDocs(t, dir) {
			exe := detection.LookupString(d, "process.executable")
			for _, w := range wants {
				if exe == w.exe && slices.Contains(detection.LookupStrings(d, "webshell.rule_ids"), rule) && slices.ContainsFunc(w.site.parent, func(p string) bool {
					return slices.Contains(detection.LookupStrings(d, "webshell.ancestry.name"), p)
				}) {
					found[w.exe] = true
				}
			}
		}
	}
	for _, w := range wants {
		if !found[w.exe] {
			t.Errorf("%s: no alert of the dropped-program rule for %s with %v in its ancestry", w.site.server, w.exe, w.site.parent)
			for _, d := range readDocs(t, dir) {
				if strings.Contains(detection.LookupString(d, "process.executable"), "wsbdrop") {
					t.Logf("its event: executable %q, rules %v, ancestry %v, user %q", detection.LookupString(d, "process.executable"),
						detection.LookupStrings(d, "webshell.rule_ids"), detection.LookupStrings(d, "webshell.ancestry.name"), detection.LookupString(d, "user.name"))
				}
			}
		}
	}
}
