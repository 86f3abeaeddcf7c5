package tests

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"webshellbeat/internal/testfiles"
)

// TestOpenSearchOutage crashes the real parts under a running beat and
// counts what arrives. A node of its own (testing/opensearch) is killed with
// SIGKILL while the beat indexes into it, lines are added to the log while
// it is down, and the node is started again on its data, as after a crash.
// Then the beat itself is killed with SIGKILL in the middle of more lines
// and started again on its registry. In the end the node holds exactly one
// document per line: nothing lost in either crash, nothing indexed twice by
// the re-sends that follow them (add_document_id's _id, refused with 409).
//
// The mock-es fault test (TestOutputFaults) injects answers a real node does
// not give on demand; this one has no fake part.
func TestOpenSearchOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the beat binary and an OpenSearch node")
	}
	node := startOwnNode(t)
	dir := t.TempDir()
	logPath := filepath.Join(dir, "access.log")
	appendAccessLines(t, logPath, 0, 20000)
	httpPort := freePort(t)
	cfgPath := writeConfig(t, dir, fmt.Sprintf(`webshellbeat.inputs:
- type: filestream
  id: outage
  paths: [%q]
  prospector.scanner.fingerprint.enabled: false
  prospector.scanner.check_interval: 1s
  processors:
    - decode_access_log: {format: combined, server: apache}
processors:
  - add_document_id: ~
  - webshell: {events: all}
queue.mem.flush.timeout: 100ms
output.elasticsearch:
  hosts: [%q]
  backoff.init: 500ms
  backoff.max: 2s
http.enabled: true
http.host: 127.0.0.1
http.port: %d
path.data: %q
path.logs: %q
`, logPath, node.url, httpPort, filepath.Join(dir, "data"), filepath.Join(dir, "logs")))
	setup := exec.Command(binary, "setup", "--index-management", "--strict.perms=false", "-c", cfgPath, "--path.home", dir)
	if out, err := setup.CombinedOutput(); err != nil {
		t.Fatalf("setup --index-management: %v\n%s", err, out)
	}
	count := func() int { return sourceCount(node.url) }
	waitFor := func(what string, limit time.Duration, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(limit)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within %s (%d documents)", what, limit, count())
			}
			time.Sleep(100 * time.Millisecond)
		}
	}

	// 1. The node crashes while the beat indexes.
	beat := startBeatProcess(t, dir, cfgPath)
	waitFor("first documents", 60*time.Second, func() bool { return count() >= 1000 })
	node.kill(t)
	atKill := beatStats(httpPort).Acked
	appendAccessLines(t, logPath, 20000, 5000)
	time.Sleep(5 * time.Second) // the beat reads the new lines and retries against a dead node
	down := beatStats(httpPort)
	node.start(t, true)
	waitFor("every line after the node's restart", 120*time.Second, func() bool { return count() >= 25000 })
	after := beatStats(httpPort)
	t.Logf("node killed with %d events acknowledged; while it was down: %d failed sends; after its restart: %d acknowledged, %d duplicates",
		atKill, down.Failed, after.Acked, after.Duplicates)
	if down.Failed == 0 {
		t.Errorf("no send failed while the node was down: the outage was not seen (%+v)", down)
	}

	// 2. The beat crashes in the middle of more lines, and starts again on
	// its registry.
	appendAccessLines(t, logPath, 25000, 20000)
	waitFor("part of the new lines", 60*time.Second, func() bool { return count() >= 26000 })
	beat.kill(t)
	atCrash := count()
	beat = startBeatProcess(t, dir, cfgPath)
	waitFor("every line after the beat's restart", 120*time.Second, func() bool { return count() >= 45000 })
	time.Sleep(4 * time.Second) // any re-send beyond the end would show by now
	restarted := beatStats(httpPort)
	beat.stop(t)
	t.Logf("beat killed at %d documents; its restart sent %d events, %d of them duplicates (already indexed, refused by _id)",
		atCrash, restarted.Total, restarted.Duplicates)

	if n := count(); n != 45000 {
		t.Errorf("the node holds %d documents of the log's 45000 lines", n)
	}
	// Each web shell request (one line in 1000) is one alert document.
	alerts := osCount(t, node.url, "logs-webshellbeat.alert-*", source)
	if alerts != 45 {
		t.Errorf("%d alert documents, want 45 (one per web shell request)", alerts)
	}
}

// sourceCount counts the documents read from the log (see source) in both
// data streams, after a refresh; 0 while the node does not answer.
func sourceCount(url string) int {
	c := http.Client{Timeout: 5 * time.Second}
	if resp, err := c.Post(url+"/logs-webshellbeat.*/_refresh", "application/json", nil); err == nil {
		resp.Body.Close()
	}
	body, _ := json.Marshal(map[string]any{"query": source})
	resp, err := c.Post(url+"/logs-webshellbeat.*/_count", "application/json", bytes.NewReader(body))
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	var r struct{ Count int }
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&r) != nil {
		return 0
	}
	return r.Count
}

// appendAccessLines adds n distinct Apache combined lines, numbered from
// first, to path; every 1000th is a web shell's command.
func appendAccessLines(t *testing.T, path string, first, n int) {
	t.Helper()
	base := time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)
	var b strings.Builder
	for i := first; i < first+n; i++ {
		target := fmt.Sprintf("/shop/item.php?id=%d", i)
		if i%1000 == 999 {
			target = fmt.Sprintf("/uploads/img.php?cmd=whoami&n=%d", i)
		}
		fmt.Fprintf(&b, "198.51.100.%d - - [%s] \"GET %s HTTP/1.1\" 200 %d \"-\" \"Mozilla/5.0\"\n",
			i%250+1, base.Add(time.Duration(i)*time.Second).Format("02/Jan/2006:15:04:05 -0700"), target, 500+i%300)
	}
	testfiles.Append(t, path, b.String())
}

// ownNode is an OpenSearch node started by testing/opensearch/run.sh on a
// port and folder of the test's own, so that it can be killed without
// harming the node other tests use.
type ownNode struct {
	url, port, home string
}

const nodeScript = "../testing/opensearch/run.sh"

// startOwnNode starts a fresh node, stopped when the test ends. Without
// Java and Maven the test is skipped, or fails when CI is set.
func startOwnNode(t *testing.T) *ownNode {
	t.Helper()
	for _, tool := range []string{"java", "mvn", "curl"} {
		if _, err := exec.LookPath(tool); err != nil {
			msg := tool + " not found: the test starts an OpenSearch node of its own (testing/opensearch)"
			if os.Getenv("CI") != "" {
				t.Fatal(msg)
			}
			t.Skip(msg)
		}
	}
	port := strconv.Itoa(freePort(t))
	n := &ownNode{url: "http://127.0.0.1:" + port, port: port, home: filepath.Join(t.TempDir(), "node")}
	t.Cleanup(func() {
		cmd := exec.Command("bash", nodeScript, "stop")
		cmd.Env = append(os.Environ(), "OPENSEARCH_PORT="+n.port)
		_ = cmd.Run()
	})
	n.start(t, false)
	return n
}

// start runs the node; keep starts it on the data of its last run.
func (n *ownNode) start(t *testing.T, keep bool) {
	t.Helper()
	cmd := exec.Command("bash", nodeScript, "start")
	cmd.Env = append(os.Environ(), "OPENSEARCH_PORT="+n.port, "OPENSEARCH_HOME="+n.home, "OPENSEARCH_KEEP="+strconv.FormatBool(keep))
	t0 := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("starting the node: %v\n%s", err, out)
	}
	t.Logf("node on %s up in %s (data kept: %v)", n.url, time.Since(t0).Round(100*time.Millisecond), keep)
}

// kill ends the node with SIGKILL, as a crash or the OOM killer would, and
// waits until it is gone.
func (n *ownNode) kill(t *testing.T) {
	t.Helper()
	pidfile := filepath.Join(filepath.Dir(nodeScript), "target", "opensearch-"+n.port+".pid")
	raw, err := os.ReadFile(pidfile)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(raw)))
	if err != nil {
		t.Fatalf("%s: %v", pidfile, err)
	}
	p, err := os.FindProcess(pid)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	for p.Signal(syscall.Signal(0)) == nil { // still there
		time.Sleep(50 * time.Millisecond)
	}
	_ = os.Remove(pidfile)
}

// beatProcess is a running beat whose log goes to a file of the test's.
type beatProcess struct {
	cmd     *exec.Cmd
	logPath string
	done    chan error
}

func startBeatProcess(t *testing.T, dir, cfgPath string) *beatProcess {
	t.Helper()
	return startBinary(t, binary, dir, "--strict.perms=false", "-c", cfgPath, "--path.home", dir)
}

// startBinary starts bin, a build of the beat, with args after "run -e";
// its log goes into dir.
func startBinary(t *testing.T, bin, dir string, args ...string) *beatProcess {
	t.Helper()
	logPath := filepath.Join(dir, fmt.Sprintf("beat-%d.log", time.Now().UnixNano()))
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, append([]string{"run", "-e"}, args...)...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	b := &beatProcess{cmd: cmd, logPath: logPath, done: make(chan error, 1)}
	go func() { b.done <- cmd.Wait(); logf.Close() }()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	return b
}

// kill ends the beat with SIGKILL: no flush, no registry write on the way out.
func (b *beatProcess) kill(t *testing.T) {
	t.Helper()
	_ = b.cmd.Process.Kill()
	<-b.done
}

// stop ends the beat with SIGTERM and expects a clean exit.
func (b *beatProcess) stop(t *testing.T) {
	t.Helper()
	_ = b.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-b.done:
		if err != nil {
			t.Errorf("beat exited with %v; the end of its log (%s), errors and lines that are not log records:\n%s", err, b.logPath, logTail(b.logPath))
		}
	case <-time.After(30 * time.Second):
		_ = b.cmd.Process.Kill()
		t.Errorf("beat did not stop within 30 s; the end of its log:\n%s", logTail(b.logPath))
	}
}
