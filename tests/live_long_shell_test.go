//go:build linux

package tests

import (
	"fmt"
	"os/exec"
	"slices"
	"sync"
	"testing"
	"time"
)

// A reverse shell runs for as long as its attacker keeps it, and its request
// is logged when it ends: nginx times the line then, Apache times it when
// the request arrived but writes it then. Both come after the correlation's
// reorder window (30 s) has passed. The shell's alert must still carry its
// request, and so must the alerts of the commands it ran before the
// request was logged: a command that runs 33 s and then `id`, sent to a web
// shell on each server at once.
func TestLiveLongRunningShell(t *testing.T) {
	fpm := liveReady(t)
	for _, s := range liveSites {
		plantShell(t, s, "long", "<?php echo shell_exec($_GET['c']); ?>\n")
	}
	startServers(t, fpm)
	dir := t.TempDir()
	stop := startLiveBeat(t, dir, liveSitesInputs()+detectAll)

	const cmd = "sleep 33; id"
	var attacks []liveAttack
	var wg sync.WaitGroup
	for _, s := range liveSites {
		a := liveAttack{s, fmt.Sprintf("http://127.0.0.1:%d/uploads/long.php?c=", s.port), cmd}
		attacks = append(attacks, a)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if out, err := exec.Command("curl", "-sS", "--max-time", "90", a.url+urlQuery(cmd)).CombinedOutput(); err != nil {
				t.Errorf("curl %s: %v\n%s", a.url, err, out)
			}
		}()
	}
	wg.Wait()
	// The shell's `id` ran before either server logged the request: its
	// alert, or the updated copy of it, carries the request too.
	var kids []liveAttack
	for _, a := range attacks {
		kids = append(kids, liveAttack{a.site, a.url, "id"})
	}
	docs := waitLinked(t, dir, append(attacks, kids...))
	for _, a := range attacks {
		if !slices.ContainsFunc(docs, func(d map[string]any) bool { return isShellAlert(d, a.cmd, a.site.parent, time.Time{}) }) {
			t.Errorf("%s: no alert for `sh -c %s`", a.site.server, cmd)
		}
	}
	for _, a := range unlinked(docs, attacks) {
		t.Errorf("%s %s%s: no alert of its shell carries the request (webshell.request.url.original)", a.site.server, a.url, a.cmd)
	}
	for _, a := range unlinked(docs, kids) {
		t.Errorf("%s: no alert of the shell's `id` carries the request", a.site.server)
	}
	stop()
}
