//go:build linux

package tests

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"webshellbeat/detection"
)

// TestLiveScriptServers runs a Flask app under gunicorn and a Rack app
// under puma (.ci/linux-e2e.sh), as the site account wsbsite, not a
// web-server account: both servers run as their interpreter (python3.11,
// ruby3.1), known as web servers only by the script the interpreter runs.
// A command injected into the Flask app's ping page and one sent to the
// Ruby web shell must each raise the recon rule, with the server named by
// its script in webshell.ancestry.name (auditd.ancestry, the input's own
// reading of /proc, keeps the executables' names).
func TestLiveScriptServers(t *testing.T) {
	liveReady(t)
	for _, f := range []string{"/usr/bin/gunicorn", "/usr/bin/puma", "/var/www/wsb-py/app.py", "/var/www/wsb-rb/config.ru"} {
		if _, err := os.Stat(f); err != nil {
			t.Fatalf("%v (run .ci/linux-e2e.sh: it installs gunicorn and puma and writes the apps)", err)
		}
	}
	runServer(t, 18097, "wsbsite", "/var/www/wsb-py", nil, "gunicorn", "-b", "127.0.0.1:18097", "-w", "2", "app:app")
	runServer(t, 18098, "wsbsite", "/var/www/wsb-rb", nil, "puma", "-b", "tcp://127.0.0.1:18098", "-w", "2", "config.ru")
	dir := t.TempDir()
	startLiveBeat(t, dir, "webshellbeat.inputs:\n- type: auditd\n  id: audit-live\n"+detectAll)

	nonce := fmt.Sprintf("wsbscript%d", time.Now().UnixNano())
	cases := []struct {
		server, url, cmd string // cmd: the shell's command line after sh -c
	}{
		{"gunicorn", "http://127.0.0.1:18097/ping?host=" + urlQuery("127.0.0.1;echo "+nonce+";id"), "ping -c 1 -W 1 127.0.0.1;echo " + nonce + ";id"},
		{"puma", "http://127.0.0.1:18098/?c=" + urlQuery("echo "+nonce+";id"), "echo " + nonce + ";id 2>&1"},
	}
	for _, c := range cases {
		if out := curl(t, c.url); !strings.Contains(out, "uid=") {
			t.Fatalf("%s: the injected id did not run: %q", c.url, out)
		}
	}
	const recon = "6d1c3f0e-4b7a-4c52-9d0b-2f7e5a8c1a07"
	var docs []map[string]any
	missing := func() []string {
		var out []string
		for _, c := range cases {
			if !slices.ContainsFunc(docs, func(d map[string]any) bool {
				// Python's shell=True runs /bin/sh -c, Ruby's backticks sh -c.
				return strings.HasSuffix(detection.LookupString(d, "process.command_line"), "sh -c "+c.cmd) &&
					slices.Contains(detection.LookupStrings(d, "webshell.ancestry.name"), c.server) &&
					slices.Contains(detection.LookupStrings(d, "webshell.rule_ids"), recon)
			}) {
				out = append(out, c.server)
			}
		}
		return out
	}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(250 * time.Millisecond) {
		docs = readDocs(t, dir)
		if len(missing()) == 0 || time.Now().After(deadline) {
			break
		}
	}
	for _, s := range missing() {
		t.Errorf("%s: no recon alert of its shell with %s in the ancestry", s, s)
	}
	if t.Failed() {
		for _, d := range docs {
			if strings.Contains(detection.LookupString(d, "process.command_line"), nonce) {
				t.Logf("%s %q user %s rules %v webshell.ancestry.name %v", lookup(d, "event.kind"), lookup(d, "process.command_line"), lookup(d, "user.name"),
					lookup(d, "webshell.rule_ids"), lookup(d, "webshell.ancestry.name"))
			}
		}
	}
}
