//go:build linux

package tests

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"webshellbeat/detection"
)

// TestLiveAuditdRotation runs the shipped auditd module on the log of a
// real auditd that rotates it (SIGUSR1, what `service auditd rotate` and
// max_log_file_action = ROTATE do: audit.log becomes audit.log.1, and so
// on) while commands run, and while the beat is stopped, over four runs of
// the beat: every command's execve event is read once. The input read its
// path afresh at each poll (5 s), so the records auditd wrote between the
// last poll and a rotation were lost, and after a restart its offset was
// applied to the new audit.log.
func TestLiveAuditdRotation(t *testing.T) {
	liveReady(t)
	dir := t.TempDir()
	auditd := startAuditd(t, dir, map[string]string{"num_logs": "9", "max_log_file_action": "ROTATE"}, filepath.Join(dir, "audit.log"))
	logPath := filepath.Join(dir, "audit.log")
	rule := []string{"always,exit", "-F", "arch=b64", "-S", "execve", "-F", "exe=/usr/bin/true", "-k", "wsb-rotate"}
	sh(t, "auditctl", append([]string{"-a"}, rule...)...)
	t.Cleanup(func() { _ = exec.Command("auditctl", append([]string{"-d"}, rule...)...).Run() })

	nonce := fmt.Sprintf("wsbrot%d", time.Now().UnixNano())
	n := 0
	run := func(count int) {
		for range count {
			if err := exec.Command("/usr/bin/true", fmt.Sprintf("%s-%04d", nonce, n)).Run(); err != nil {
				t.Fatal(err)
			}
			n++
		}
	}
	rotate := func() {
		before, _ := filepath.Glob(logPath + ".*")
		if err := auditd.Process.Signal(syscall.SIGUSR1); err != nil {
			t.Fatal(err)
		}
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			if after, _ := filepath.Glob(logPath + ".*"); len(after) > len(before) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("auditd did not rotate %s within 5 s", logPath)
			}
		}
	}

	home, cfgPath := shippedHome(t)
	args := append([]string{"--strict.perms=false", "-c", cfgPath, "--path.home", home}, fileOutputFlags(home)...)
	args = append(args, "--modules", "auditd", "-M", fmt.Sprintf("auditd.paths=[%q]", logPath))
	beat := startBinary(t, binary, home, args...)
	logs := []string{beat.logPath}
	time.Sleep(2 * time.Second) // the input's first poll
	for range 3 {
		run(60)
		rotate()
	}
	seen := map[string]int{} // command number -> documents
	re := regexp.MustCompile(regexp.QuoteMeta(nonce) + `-(\d{4})`)
	count := func() {
		clear(seen)
		for _, d := range readDocs(t, home) {
			if m := re.FindStringSubmatch(detection.LookupString(d, "process.command_line")); m != nil {
				seen[m[1]]++
			}
		}
	}
	// readThenStop waits until the output holds want commands, then stops
	// the beat once a poll has checkpointed what followed.
	readThenStop := func(want int) {
		for deadline := time.Now().Add(60 * time.Second); len(seen) < want && time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
			count()
		}
		time.Sleep(6 * time.Second) // any re-send would show by now, and a poll has checkpointed the end
		beat.stop(t)
	}
	run(60)
	// Not stopped before the output has the first 180 commands (auditd
	// wrote them out when it rotated; it may still hold the last ones).
	// The output gets its first batch after flush.timeout (10 s), later
	// than this run would end; events that the queue still holds at a stop
	// are written as the beat exits, and their acknowledgement may come
	// after filebeat closed the registry. With no checkpoint at all, the
	// next start is a first run, which reads audit.log from its start and
	// not the rotations (that takes audit.log*): 136 commands were lost so
	// in CI, twice (224-359), when this run stopped after a fixed 6 s.
	readThenStop(180)
	// While the beat is stopped: two rotations.
	run(60)
	rotate()
	run(60)
	rotate()
	run(60)
	// startAndRead starts the beat again and stops it once every command
	// so far is read.
	startAndRead := func() {
		beat = startBinary(t, binary, home, args...)
		logs = append(logs, beat.logPath)
		readThenStop(n)
	}
	startAndRead()
	// The third run resumes in the middle of audit.log; auditd rotates
	// before the fourth, which must find that checkpoint's file among the
	// rotations. Before, the third run's checkpoints named no file, and the
	// fourth applied them to the new audit.log (60 commands lost).
	run(60)
	startAndRead()
	run(60)
	rotate()
	run(60)
	startAndRead()
	count()
	files, _ := filepath.Glob(logPath + "*")
	if lost, twice := notOnce(seen, n, "%04d"); len(lost) > 0 || len(twice) > 0 {
		t.Errorf("of %d commands over %d files, %d not read (%s) and %d read more than once (%s)", n, len(files), len(lost), spans(lost), len(twice), spans(twice))
		// Where the commands are now, and what the registry kept.
		for _, f := range files {
			raw, _ := os.ReadFile(f)
			first, _, _ := strings.Cut(string(raw), "\n")
			var in []string
			for _, m := range re.FindAllStringSubmatch(string(raw), -1) {
				in = append(in, m[1])
			}
			t.Logf("%s: %d bytes, commands %s, first line %.120s", filepath.Base(f), len(raw), spans(in), first)
		}
		reg, _ := filepath.Glob(filepath.Join(home, "data", "registry", "*", "log.json"))
		for _, f := range reg {
			raw, _ := os.ReadFile(f)
			for _, line := range strings.Split(string(raw), "\n") {
				if strings.Contains(line, "auditd::") {
					t.Logf("registry: %.300s", line)
				}
			}
		}
		// What each run's reader said of its files and checkpoint.
		for i, l := range logs {
			raw, _ := os.ReadFile(l)
			for _, line := range strings.Split(string(raw), "\n") {
				var rec struct {
					Message string `json:"message"`
					Origin  struct {
						Function string `json:"function"`
					} `json:"log.origin"`
				}
				if json.Unmarshal([]byte(line), &rec) == nil && strings.HasPrefix(rec.Origin.Function, "webshellbeat/input/auditd.") { // the reader's own lines
					t.Logf("run %d: %s", i+1, rec.Message)
				}
			}
		}
		return
	}
	t.Logf("%d commands, 6 rotations (3 while the beat was stopped), 4 runs, %d files: each read once", n, len(files))
}
