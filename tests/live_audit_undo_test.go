//go:build linux

package tests

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"
)

// A beat killed with SIGKILL (the OOM killer, a stop timeout) cannot undo
// its audit changes; the next run must, from the undo log it finds in
// path.data. Left alone, the killed run's rule that keeps its own calls out
// of the audit stream (-F pid=N) would hide whichever process gets pid N
// next, and the rules and settings it replaced would never come back.
func TestLiveAuditUndoAfterKill(t *testing.T) {
	liveReady(t)
	// A rule and settings of the machine's own, which the beat replaces.
	mine := []string{"always,exit", "-F", "arch=b64", "-S", "ptrace", "-k", "wsb-undo-test"}
	sh(t, "auditctl", append([]string{"-a"}, mine...)...)
	t.Cleanup(func() { _ = exec.Command("auditctl", append([]string{"-d"}, mine...)...).Run() })
	before := currentAudit(t)
	dir := t.TempDir()
	cfg := "webshellbeat.inputs:\n- type: auditd\n  id: audit-undo\n"

	killed := launchLiveBeat(t, dir, cfg, before)
	self := fmt.Sprintf("-F pid=%d", killed.cmd.Process.Pid)
	killed.kill()
	left := currentAudit(t)
	if !strings.Contains(left.rules, self) || strings.Contains(left.rules, "wsb-undo-test") {
		t.Fatalf("the killed beat's rules are not what the test expects (its own, with %s, in place of the machine's):\n%s", self, left.rules)
	}

	next := launchLiveBeat(t, dir, cfg, before)
	if now := currentAudit(t); strings.Contains(now.rules, self) {
		t.Errorf("the killed beat's %s rule is still loaded beside the new beat's:\n%s", self, now.rules)
	}
	next.stop() // checks the rules and settings are those from before the killed run
}
