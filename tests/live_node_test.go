//go:build linux

package tests

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"webshellbeat/detection"
)

// The Node.js app of .ci/linux-e2e.sh.
const (
	nodePort   = 18083
	nodeServer = "/var/www/wsb-node/server.js"
)

// startNode runs the app as www-data, as a service would, and stops it at
// cleanup.
func startNode(t *testing.T) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal(err)
	}
	runServer(t, nodePort, "www-data", "", nil, node, nodeServer)
}

// TestLiveNode runs a Node.js app (node server.js, as www-data) whose
// debug route runs its parameter through a shell, and checks that each
// command it is made to run is alerted with node in its ancestry, and that
// the app's ordinary requests raise nothing.
func TestLiveNode(t *testing.T) {
	liveReady(t)
	needFiles(t, "Node.js", nodeServer)
	if _, err := exec.LookPath("node"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("live Node.js test: node not found (.ci/linux-e2e.sh installs nodejs)")
		}
		t.Skip("live Node.js test: node not found")
	}
	startNode(t) // before the beat, as a server runs long before its agent

	dir := t.TempDir()
	cfg := `webshellbeat.inputs:
- type: auditd
  id: audit-live
processors:
  - webshell: {events: all}
`
	stop := startLiveBeat(t, dir, cfg)

	base := fmt.Sprintf("http://127.0.0.1:%d", nodePort)
	benignStart := time.Now()
	if out := curl(t, base+"/"); !strings.Contains(out, "Example API") {
		t.Fatalf("/: %q", out)
	}
	time.Sleep(2 * time.Second)
	benignEnd := time.Now()

	out := &outputTail{dir: filepath.Join(dir, "out")}
	for _, c := range []string{"whoami", "id", "uname -a"} {
		sent := time.Now()
		curl(t, base+"/debug?cmd="+urlQuery(c))
		found := out.waitShellAlert(t, c, []string{"node"}, sent)
		if found == nil {
			t.Errorf("/debug?cmd=%s: no alert for `sh -c %s` with node in its ancestry within 20 s", c, c)
			continue
		}
		t.Logf("/debug?cmd=%-8s -> %q (user %s, rules %v, ancestry %v) in %v", c, detection.LookupString(found, "message"),
			detection.LookupString(found, "user.name"), detection.LookupStrings(found, "rule.name"), ancestry(found), time.Since(sent).Round(time.Millisecond))
	}

	time.Sleep(time.Second)
	for _, d := range readDocs(t, dir) {
		ts, err := time.Parse(time.RFC3339Nano, detection.LookupString(d, "@timestamp"))
		if err == nil && detection.LookupString(d, "event.kind") == "alert" && !ts.Before(benignStart) && ts.Before(benignEnd) {
			t.Errorf("the app's own request raised an alert: %q, rules %v", detection.LookupString(d, "process.command_line"), ids(d))
		}
	}
	stop() // and the audit rules that were there before are back
}
