//go:build linux

package tests

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"webshellbeat/detection"
)

// A beat killed with SIGKILL (the OOM killer, a stop timeout) cannot undo
// its audit changes; the next run must, from the undo log it finds in
// path.data. Left alone, the killed run's rule that keeps its own calls out
// of the audit stream (-F pid=N) would hide whichever process gets pid N
// next, and the rules and settings it replaced would never come back.
func TestLiveAuditUndoAfterKill(t *testing.T) {
	liveReady(t)
	t.Cleanup(func() { // runs last: a failure must not leave the killed beat's rules to the next tests
		if t.Failed() {
			_ = exec.Command("auditctl", "-D").Run()
		}
	})
	// A rule and settings of the machine's own, which the beat replaces.
	mine := []string{"always,exit", "-F", "arch=b64", "-S", "ptrace", "-k", "wsb-undo-test"}
	sh(t, "auditctl", append([]string{"-a"}, mine...)...)
	t.Cleanup(func() { _ = exec.Command("auditctl", append([]string{"-d"}, mine...)...).Run() })
	before := currentAudit(t)
	dir := t.TempDir()
	cfg := "webshellbeat.inputs:\n- type: auditd\n  id: audit-undo\n"

	killed := launchLiveBeat(t, dir, cfg, before)
	self := fmt.Sprintf("-F pid=%d", killed.cmd.Process.Pid)
	killed.kill(t)
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

// An auditd restart deletes every audit rule (augenrules --load begins with
// -D), the beat's too. The beat must put its rules back, say so, and see
// the next exec.
func TestLiveAuditRulesPutBack(t *testing.T) {
	liveReady(t)
	if out, _ := exec.Command("pgrep", "-x", "auditd").Output(); len(bytes.TrimSpace(out)) > 0 {
		t.Skipf("auditd runs (pid %s): the test deletes every audit rule, auditd's too", bytes.TrimSpace(out))
	}
	dir := t.TempDir()
	stop := startLiveBeat(t, dir, "webshellbeat.inputs:\n- type: auditd\n  id: audit-flush\n  rules_check_interval: 1s\n")
	sh(t, "auditctl", "-D")
	flushed := time.Now()
	for !strings.Contains(currentAudit(t).rules, "execve") {
		if time.Since(flushed) > 15*time.Second {
			t.Fatalf("the beat's rules are not back 15 s after auditctl -D:\n%s", currentAudit(t).rules)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("the beat's rules were back %v after auditctl -D", time.Since(flushed).Round(time.Millisecond))

	marker := fmt.Sprintf("wsbflush%d", time.Now().UnixNano())
	sh(t, "/bin/true", marker)
	seen := false
	for deadline := time.Now().Add(15 * time.Second); !seen && time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		for _, d := range readDocs(t, dir) {
			if detection.LookupString(d, "process.command_line") == "/bin/true "+marker {
				seen = true
			}
		}
	}
	if !seen {
		t.Errorf("no event for /bin/true %s, run after the rules were put back", marker)
	}
	logs, _ := filepath.Glob(filepath.Join(dir, "beat*.log"))
	var log []byte
	for _, l := range logs {
		b, _ := os.ReadFile(l)
		log = append(log, b...)
	}
	if !bytes.Contains(log, []byte("another process deleted 3 of its audit rules")) {
		t.Errorf("the beat's log does not say its 3 rules (its own pid's, execve b64 and b32) were put back")
	}
	stop()
}
