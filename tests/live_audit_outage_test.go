//go:build linux

package tests

import (
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// The kernel keeps no audit history: while the output is down, live audit
// events wait in the beat's queue, and what the queue cannot hold is lost
// (a 32 s outage lost 15,749 of 20,000 execs with the memory queue). With
// the disk queue the README recommends for live audit, a burst of 10,000
// execs while the node is down is indexed whole once it is back.
func TestLiveAuditOutage(t *testing.T) {
	liveReady(t)
	node := startOwnNode(t)
	dir := t.TempDir()
	cfgPath := writeConfig(t, dir, fmt.Sprintf(`webshellbeat.inputs:
- type: auditd
  id: audit-outage
processors:
  - add_document_id: ~
  - webshell: {events: all}
queue.disk.max_size: 1GB
output.elasticsearch:
  hosts: [%q]
  backoff.init: 500ms
  backoff.max: 2s
path.data: %q
path.logs: %q
`, node.url, filepath.Join(dir, "data"), filepath.Join(dir, "logs")))
	setup := exec.Command(binary, "setup", "--index-management", "--strict.perms=false", "-c", cfgPath, "--path.home", dir)
	if out, err := setup.CombinedOutput(); err != nil {
		t.Fatalf("setup --index-management: %v\n%s", err, out)
	}
	node.kill(t)
	down := time.Now()
	before := currentAudit(t)
	beat := startBeatProcess(t, dir, cfgPath)
	waitLiveInput(t, beat)

	const n = 10000
	marker := fmt.Sprintf("wsboutage%d-", time.Now().UnixNano())
	execBurst(t, n, marker)
	time.Sleep(time.Until(down.Add(30 * time.Second)))
	node.start(t, true)
	t.Logf("the node was down %v, the burst within it", time.Since(down).Round(time.Second))

	count := func() int {
		osDo(t, http.MethodPost, node.url+"/logs-webshellbeat.*/_refresh", nil)
		return osCount(t, node.url, "logs-webshellbeat.event-*", map[string]any{"prefix": map[string]any{"process.args": marker}})
	}
	got := 0
	for deadline := time.Now().Add(3 * time.Minute); got < n && time.Now().Before(deadline); time.Sleep(2 * time.Second) {
		got = count()
	}
	beat.stop(t)
	if got != n {
		t.Errorf("%d of the %d execs indexed after the outage", got, n)
	}
	if after := currentAudit(t); after != before {
		t.Errorf("the kernel's audit state after the beat: %+v, before: %+v", after, before)
	}
}
