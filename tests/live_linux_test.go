//go:build linux

package tests

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"webshellbeat/detection"
)

type liveSite struct {
	server string // apache or nginx
	port   int
	root   string
	log    string
	parent []string // acceptable web-server process names in the ancestry
}

// liveAttack is one command sent to a web shell of a live site: url ends
// with the parameter that carries cmd.
type liveAttack struct {
	site liveSite
	url  string
	cmd  string
}

// waitLinked reads the beat's output in dir until an alert of every
// attack's shell carries its request, or for 20 s, and returns it.
func waitLinked(t *testing.T, dir string, attacks []liveAttack) []map[string]any {
	t.Helper()
	docs := readDocs(t, dir)
	for deadline := time.Now().Add(20 * time.Second); len(unlinked(docs, attacks)) > 0 && time.Now().Before(deadline); time.Sleep(250 * time.Millisecond) {
		docs = readDocs(t, dir)
	}
	return docs
}

// unlinked returns the attacks whose shell has no alert among docs that
// carries the request that drove it (webshell.request.url.original).
func unlinked(docs []map[string]any, attacks []liveAttack) []liveAttack {
	var out []liveAttack
	for _, a := range attacks {
		path := a.url[strings.Index(a.url[len("http://"):], "/")+len("http://") : strings.Index(a.url, "?")]
		if !slices.ContainsFunc(docs, func(d map[string]any) bool {
			return isShellAlert(d, a.cmd, a.site.parent, time.Time{}) && strings.HasPrefix(detection.LookupString(d, "webshell.request.url.original"), path+"?")
		}) {
			out = append(out, a)
		}
	}
	return out
}

var liveSites = []liveSite{
	{"apache", 18080, "/var/www/wsb-apache", "/var/log/apache2/wsb-access.log", []string{"apache2"}},
	{"nginx", 18081, "/var/www/wsb-nginx", "/var/log/nginx/wsb-access.log", []string{"php-fpm8.2", "php-fpm"}},
}

// liveAccessInput is the filestream input of a live site's access log,
// read as it grows: no fingerprint (the file starts empty) and a scan every
// 200 ms.
func liveAccessInput(id, path, server string) string {
	return fmt.Sprintf(`- type: filestream
  id: %s
  paths: [%q]
  prospector.scanner.fingerprint.enabled: false
  prospector.scanner.check_interval: 200ms
  processors:
    - decode_access_log: {format: combined, server: %s}
`, id, path, server)
}

// liveSitesInputs are the inputs of the live sites: the live auditd input
// watching their web roots and their access logs.
func liveSitesInputs() string {
	return fmt.Sprintf(`webshellbeat.inputs:
- type: auditd
  id: audit-live
  web_roots: [%q, %q]
`, liveSites[0].root, liveSites[1].root) +
		liveAccessInput("apache-live", liveSites[0].log, "apache") +
		liveAccessInput("nginx-live", liveSites[1].log, "nginx")
}

// detectAll is the webshell processor with its default settings, publishing
// every event beside the alerts.
const detectAll = "processors:\n  - webshell:\n      events: all\n"

// needFiles skips the live test named what (or, in CI, fails it) unless
// every one of files exists: the parts .ci/linux-e2e.sh installs.
func needFiles(t *testing.T, what string, files ...string) {
	t.Helper()
	for _, f := range files {
		if _, err := os.Stat(f); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("live %s test: %v (run .ci/linux-e2e.sh as root first)", what, err)
			}
			t.Skipf("live %s test: %v", what, err)
		}
	}
}

// liveReady skips (or, in CI with WEBSHELLBEAT_LIVE set, fails) when the
// machine cannot run the live test. It returns the php-fpm binary.
func liveReady(t *testing.T) string {
	t.Helper()
	if os.Getenv("WEBSHELLBEAT_LIVE") != "1" {
		t.Skip("set WEBSHELLBEAT_LIVE=1 (after .ci/linux-e2e.sh) to run the live audit test")
	}
	missing := func(why string) {
		if os.Getenv("CI") != "" {
			t.Fatalf("live audit test: %s (CI and WEBSHELLBEAT_LIVE are set: run .ci/linux-e2e.sh as root first)", why)
		}
		t.Skipf("live audit test: %s", why)
	}
	if os.Geteuid() != 0 {
		missing("needs root")
	}
	for _, tool := range []string{"auditctl", "apache2ctl", "nginx", "curl"} {
		if _, err := exec.LookPath(tool); err != nil {
			missing(tool + " not found")
		}
	}
	fpms, _ := filepath.Glob("/usr/sbin/php-fpm*")
	if len(fpms) == 0 {
		missing("php-fpm not found")
	}
	sort.Strings(fpms)
	for _, f := range []string{"/etc/apache2/sites-enabled/wsb.conf", "/etc/nginx/sites-enabled/wsb", "/var/www/wsb-apache/upload.php", "/var/www/wsb-nginx/login.php"} {
		if _, err := os.Stat(f); err != nil {
			missing(f + " missing: the sites are not configured")
		}
	}
	return fpms[len(fpms)-1]
}

func sh(t *testing.T, name string, args ...string) {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
}

func waitPort(t *testing.T, port int) {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
			c.Close()
			return
		}
	}
	t.Fatalf("nothing listens on 127.0.0.1:%d", port)
}

// startServers starts Apache (mod_php), php-fpm and nginx and stops them at
// cleanup.
func startServers(t *testing.T, fpm string) {
	t.Helper()
	_ = os.MkdirAll("/run/php", 0o755)
	// php-fpm8.2's own configuration names /run/php/php8.2-fpm.pid.
	pidFile := "/run/php/php" + strings.TrimPrefix(filepath.Base(fpm), "php-fpm") + "-fpm.pid"
	sh(t, "apache2ctl", "start")
	t.Cleanup(func() {
		_ = exec.Command("apache2ctl", "stop").Run()
		waitClosed(liveSites[0].port)
	})
	sh(t, fpm, "-D")
	t.Cleanup(func() {
		b, err := os.ReadFile(pidFile)
		var pid int
		if err != nil {
			return
		}
		if _, err := fmt.Sscan(string(b), &pid); err != nil || pid <= 0 {
			return
		}
		_ = syscall.Kill(pid, syscall.SIGQUIT)
		for i := 0; i < 100 && syscall.Kill(pid, 0) == nil; i++ {
			time.Sleep(50 * time.Millisecond)
		}
	})
	sh(t, "nginx")
	t.Cleanup(func() {
		_ = exec.Command("nginx", "-s", "quit").Run()
		waitClosed(liveSites[1].port)
	})
	for _, s := range liveSites {
		waitPort(t, s.port)
	}
}

func waitClosed(port int) {
	for i := 0; i < 100; i++ {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			return
		}
		c.Close()
		time.Sleep(100 * time.Millisecond)
	}
}

func curl(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command("curl", append([]string{"-sS", "--max-time", "10"}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("curl %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// TestLiveLinuxAudit runs real Apache+mod_php and nginx+php-fpm, plants a
// web shell through an upload form and a backdoor in a login page, drives
// them with curl and checks the alerts the beat writes from the kernel's
// audit stream and the access logs.
func TestLiveLinuxAudit(t *testing.T) {
	fpm := liveReady(t)
	if out, _ := exec.Command("pgrep", "-x", "auditd").Output(); len(bytes.TrimSpace(out)) > 0 {
		t.Logf("auditd is running (pid %s): the input reads the multicast group beside it", bytes.TrimSpace(out))
	}

	// Clean state of the sites; the planted files go at cleanup.
	for _, s := range liveSites {
		login := filepath.Join(s.root, "login.php")
		orig, err := os.ReadFile(login)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			_ = os.WriteFile(login, orig, 0o644)
			files, _ := filepath.Glob(filepath.Join(s.root, "uploads", "*"))
			for _, f := range files {
				_ = os.Remove(f)
			}
		})
	}
	startServers(t, fpm)

	dir := t.TempDir()
	cfg := liveSitesInputs() + `processors:
  - webshell:
      events: all
      # The tuning a user does after the first day: the status page runs
      # uptime through a shell on purpose.
      exceptions:
        - command_lines: ["sh -c uptime"]
          action: suppress
          reason: status.php runs uptime (reviewed)
`
	stop := startLiveBeat(t, dir, cfg)

	// Benign traffic first, including a page that legitimately runs uptime.
	benignStart := time.Now()
	for _, s := range liveSites {
		base := fmt.Sprintf("http://127.0.0.1:%d", s.port)
		curl(t, base+"/")
		curl(t, base+"/index.php")
		curl(t, base+"/login.php")
		curl(t, "-d", "user=bob&password=hunter2", base+"/login.php")
		curl(t, base+"/upload.php")
		if out := curl(t, base+"/status.php"); !strings.Contains(out, "load average") {
			t.Fatalf("%s status.php: %q", s.server, out)
		}
	}
	time.Sleep(3 * time.Second)
	benignEnd := time.Now()

	// The attacker uploads a web shell and hides a backdoor in the login page.
	shell := filepath.Join(dir, "avatar.php")
	if err := os.WriteFile(shell, []byte("<?php echo shell_exec($_GET['c']); ?>\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, s := range liveSites {
		base := fmt.Sprintf("http://127.0.0.1:%d", s.port)
		if out := curl(t, "-F", "file=@"+shell, base+"/upload.php"); !strings.Contains(out, "uploaded") {
			t.Fatalf("%s upload: %q", s.server, out)
		}
		login := filepath.Join(s.root, "login.php")
		orig, _ := os.ReadFile(login)
		backdoor := "<?php if (isset($_GET['debug'])) { system($_GET['debug']); exit; } ?>\n"
		if err := os.WriteFile(login, append([]byte(backdoor), orig...), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// "sleep 3; id" runs for 3 s: nginx logs its request when it ends, 3 s
	// after the shell started, and the link must still be made.
	cmds := []string{"whoami", "id", "uname -a", "cat /etc/passwd", "echo id | sh", "sleep 3; id"}
	var attacks []liveAttack
	for _, s := range liveSites {
		base := fmt.Sprintf("http://127.0.0.1:%d", s.port)
		for _, c := range cmds {
			attacks = append(attacks, liveAttack{s, base + "/uploads/avatar.php?c=", c})
		}
		for _, c := range cmds[:2] {
			attacks = append(attacks, liveAttack{s, base + "/login.php?debug=", c})
		}
	}

	var latencies []time.Duration
	out := &outputTail{dir: filepath.Join(dir, "out")}
	for _, a := range attacks {
		sent := time.Now()
		curl(t, a.url+urlQuery(a.cmd))
		found := out.waitShellAlert(t, a.cmd, a.site.parent, sent)
		if found == nil {
			t.Errorf("%s %s%s: no alert for `sh -c %s` with %v in its ancestry within 20 s", a.site.server, a.url, a.cmd, a.cmd, a.site.parent)
			continue
		}
		lat := time.Since(sent)
		latencies = append(latencies, lat)
		t.Logf("%-6s %-28s -> %q (severity %v, parent %s, ancestry %v) in %v", a.site.server, strings.TrimPrefix(a.url, "http://")+a.cmd,
			detection.LookupString(found, "message"), lookup(found, "event.severity"), detection.LookupString(found, "process.parent.name"), ancestry(found), lat.Round(time.Millisecond))
	}
	if len(latencies) > 0 {
		slices.Sort(latencies)
		t.Logf("alert latency (curl sent -> alert in the output file) over %d commands: median %v, max %v",
			len(latencies), latencies[len(latencies)/2].Round(time.Millisecond), latencies[len(latencies)-1].Round(time.Millisecond))
	}

	// Benign traffic raised nothing high: audit events of the benign window
	// (kernel timestamps are exact) and the benign requests of the access
	// logs (their timestamps have whole seconds: told apart by URL).
	// Each shell's alert carries the request that drove it: the access-log
	// line arrives after the shell ran (filestream reads a quiet file after
	// a backoff of up to 10 s), so the detector publishes an updated copy
	// of the alert with webshell.request.* filled in. Wait for those.
	waited := time.Now()
	docs := waitLinked(t, dir, attacks)
	t.Logf("request links waited for: %v", time.Since(waited).Round(time.Millisecond))
	// dash and bash look a command up before they exec it, so these
	// commands make no failed execve; TestLiveTomcat's do.
	checkFailedExecs(t, docs)
	benignURLs := []string{"/", "/index.php", "/login.php", "/upload.php", "/status.php"}
	for _, d := range docs {
		if detection.LookupString(d, "event.kind") != "alert" {
			continue
		}
		sev, _ := lookup(d, "event.severity").(float64)
		if sev < 73 || isDerived(d) {
			continue // derived documents (correlations, updates) are about the attack's own events
		}
		benign := false
		if u := detection.LookupString(d, "url.original"); u != "" {
			benign = slices.Contains(benignURLs, u)
		} else if ts, err := time.Parse(time.RFC3339Nano, detection.LookupString(d, "@timestamp")); err == nil {
			benign = !ts.Before(benignStart) && ts.Before(benignEnd)
		}
		if !benign {
			continue
		}
		desc := fmt.Sprintf("%q by %s (%s, parent %s): severity %v, rules %v", detection.LookupString(d, "process.command_line")+detection.LookupString(d, "url.original"),
			detection.LookupString(d, "user.name"), detection.LookupString(d, "process.name"), detection.LookupString(d, "process.parent.name"), sev, ids(d))
		t.Errorf("benign request raised a high alert: %s", desc)
	}
	for _, a := range unlinked(docs, attacks) {
		t.Errorf("%s %s%s: no alert of its shell carries the request (webshell.request.url.original)", a.site.server, a.url, a.cmd)
	}
	checkFolderSessions(t, docs)
	var requests int
	for _, d := range docs {
		if strings.Contains(detection.LookupString(d, "url.original"), "avatar.php?c=") {
			requests++
		}
	}
	t.Logf("%d documents written, %d web shell requests from the access logs", len(docs), requests)
	if requests == 0 {
		t.Errorf("the access logs' web shell requests are missing from the output")
	}

	stop() // and the audit rules that were there before are back
}

// checkFolderSessions: on each server, the process alerts of the uploaded
// shell (uploads/) and of the login.php backdoor (the site's root) are two
// sessions, decided before either request was read, and the first command
// of each keeps a severity above later_severity (21).
func checkFolderSessions(t *testing.T, docs []map[string]any) {
	t.Helper()
	for _, s := range liveSites {
		session, best := map[string]string{}, map[string]float64{}
		for _, d := range docs {
			cwd := detection.LookupString(d, "process.working_directory")
			if detection.LookupString(d, "event.kind") != "alert" || isDerived(d) || detection.LookupString(d, "process.command_line") == "" ||
				(cwd != s.root && cwd != s.root+"/uploads") {
				continue
			}
			id := detection.LookupString(d, "webshell.session.id")
			if session[cwd] == "" {
				session[cwd] = id
			} else if session[cwd] != id {
				t.Errorf("%s: process alerts in %s are in sessions %s and %s", s.server, cwd, session[cwd], id)
			}
			sev, _ := lookup(d, "event.severity").(float64)
			best[cwd] = max(best[cwd], sev)
		}
		up, root := session[s.root+"/uploads"], session[s.root]
		if up == "" || root == "" || up == root {
			t.Errorf("%s: sessions of the upload shell's process alerts %q and the backdoor's %q; want two", s.server, up, root)
		}
		for _, cwd := range []string{s.root + "/uploads", s.root} {
			if best[cwd] <= 21 {
				t.Errorf("%s: no process alert in %s above severity 21 (best %v): its first command was lowered", s.server, cwd, best[cwd])
			}
		}
	}
}

// startLiveBeat writes cfg (inputs and processors) to dir, with an
// unbatched file output in dir/out and its data and logs in dir, runs the
// beat on it until its live auditd input reads from the kernel, and
// returns a stop function (also run at cleanup). Stopping checks that the
// beat exits cleanly and restores the audit rules and settings the kernel
// had before it started, and logs the end of the beat's log when the test
// has failed.
func startLiveBeat(t *testing.T, dir, cfg string) (stop func()) {
	t.Helper()
	return launchLiveBeat(t, dir, cfg, currentAudit(t)).stop
}

// kernelAudit is the kernel's audit state as auditctl shows it: the rules
// and the settings a beat in unicast mode changes (see auditSettings).
type kernelAudit struct{ rules, settings string }

func currentAudit(t *testing.T) kernelAudit {
	rules, err := exec.Command("auditctl", "-l").Output()
	if err != nil {
		t.Fatalf("auditctl -l: %v", err)
	}
	return kernelAudit{string(rules), auditSettings(t)}
}

// liveBeat is a beat started by launchLiveBeat.
type liveBeat struct {
	*beatProcess
	stop    func()
	stopped bool
}

// kill ends the beat with SIGKILL, which it cannot clean up after.
func (b *liveBeat) kill(t *testing.T) {
	b.stopped = true
	b.beatProcess.kill(t)
}

// launchLiveBeat is startLiveBeat, whose stop checks that the kernel's audit
// state is want (a new log file in dir each time).
func launchLiveBeat(t *testing.T, dir, cfg string, want kernelAudit) *liveBeat {
	t.Helper()
	b := &liveBeat{beatProcess: startBeatProcess(t, dir, writeConfig(t, dir, cfg+fileOutput(dir, "0s")))}
	b.stop = func() {
		if b.stopped {
			return
		}
		b.stopped = true
		b.beatProcess.stop(t)
		if after := currentAudit(t); after.rules != want.rules {
			t.Errorf("audit rules not restored:\nbefore:\n%s\nafter:\n%s", want.rules, after.rules)
		} else if after.settings != want.settings {
			t.Errorf("kernel audit settings not restored: before %s, after %s", want.settings, after.settings)
		}
		if t.Failed() {
			log, _ := os.ReadFile(b.logPath)
			t.Logf("beat log tail:\n%s", tail(log, 4000))
		}
	}
	t.Cleanup(b.stop)
	waitLiveInput(t, b.beatProcess)
	return b
}

// waitLiveInput waits up to 30 s for b's live auditd input to read from the
// kernel.
func waitLiveInput(t *testing.T, b *beatProcess) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		log, _ := os.ReadFile(b.logPath)
		if bytes.Contains(log, []byte("auditd live: reading audit events from the kernel")) {
			return
		}
		select {
		case err := <-b.done:
			b.done <- err // for stop and kill
			t.Fatalf("the beat exited (%v) before its auditd input started; log %s:\n%s", err, b.logPath, tail(log, 3000))
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the auditd input did not start within 30 s; log %s:\n%s", b.logPath, tail(log, 3000))
		}
	}
}

// auditSettings is what auditctl -s says of the kernel settings a beat in
// unicast mode changes (and must put back when it stops).
func auditSettings(t *testing.T) string {
	out, err := exec.Command("auditctl", "-s").Output()
	if err != nil {
		t.Fatalf("auditctl -s: %v", err)
	}
	var kept []string
	for _, l := range strings.Split(string(out), "\n") {
		if k, _, _ := strings.Cut(l, " "); k == "enabled" || k == "backlog_limit" || k == "rate_limit" || k == "backlog_wait_time" {
			kept = append(kept, l)
		}
	}
	return strings.Join(kept, ", ")
}

// waitShellAlert waits up to 20 s for the alert of the process that ran cmd
// with one of parents in its ancestry (see isShellAlert), reading the
// output as it grows; nil when none came.
func (tl *outputTail) waitShellAlert(t *testing.T, cmd string, parents []string, sent time.Time) map[string]any {
	for deadline := sent.Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		for _, d := range tl.next(t) {
			if isShellAlert(d, cmd, parents, sent) {
				return d
			}
		}
	}
	return nil
}

func urlQuery(s string) string {
	r := strings.NewReplacer(" ", "%20", "|", "%7C", "/", "%2F", "&", "%26")
	return r.Replace(s)
}

// isShellAlert: an alert for the process that ran cmd (sh -c cmd, or cmd
// itself), as a web-server user, with a web-server process in its ancestry,
// at or after sent.
func isShellAlert(d map[string]any, cmd string, parents []string, sent time.Time) bool {
	if detection.LookupString(d, "event.kind") != "alert" {
		return false
	}
	cl := detection.LookupString(d, "process.command_line")
	if cl != "sh -c "+cmd && cl != cmd {
		return false
	}
	ts, err := time.Parse(time.RFC3339Nano, detection.LookupString(d, "@timestamp"))
	if err != nil || ts.Before(sent.Add(-time.Second)) {
		return false
	}
	names := append([]string{detection.LookupString(d, "process.parent.name")}, ancestry(d)...)
	for _, n := range names {
		if slices.Contains(parents, n) {
			return true
		}
	}
	return false
}

func ancestry(d map[string]any) []string {
	v, _ := detection.Lookup(d, "auditd.ancestry")
	list, _ := v.([]any)
	var out []string
	for _, a := range list {
		m, _ := a.(map[string]any)
		n, _ := m["name"].(string)
		out = append(out, n)
	}
	return out
}

func lookup(d map[string]any, key string) any {
	v, _ := detection.Lookup(d, key)
	return v
}

// outputTail reads the documents the beat appends to its output files, parsing
// each line once, so that the latency measured is the beat's and not the
// time to re-read a growing file.
type outputTail struct {
	dir     string
	offsets map[string]int64
}

func (tl *outputTail) next(t *testing.T) []map[string]any {
	if tl.offsets == nil {
		tl.offsets = map[string]int64{}
	}
	files, _ := filepath.Glob(filepath.Join(tl.dir, "out*.ndjson"))
	var docs []map[string]any
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fh.Seek(tl.offsets[f], io.SeekStart); err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(fh)
		fh.Close()
		end := bytes.LastIndexByte(data, '\n') + 1 // a line being written waits
		for _, line := range bytes.Split(data[:end], []byte("\n")) {
			var d map[string]any
			if len(bytes.TrimSpace(line)) > 0 && json.Unmarshal(line, &d) == nil {
				docs = append(docs, d)
			}
		}
		tl.offsets[f] += int64(end)
	}
	return docs
}

// checkFailedExecs holds that failed execve events are never alerts: a
// program searching PATH with execve (execvp: Java's Runtime.exec) makes a
// failed call for each folder that lacks the program, and no process starts.
// It returns how many there were.
func checkFailedExecs(t *testing.T, docs []map[string]any) int {
	t.Helper()
	failed, alerts := 0, 0
	for _, d := range docs {
		if detection.LookupString(d, "event.outcome") == "failure" && slices.Contains(detection.LookupStrings(d, "event.category"), "process") {
			failed++
			if detection.LookupString(d, "event.kind") == "alert" {
				alerts++
			}
		}
	}
	t.Logf("%d failed process events (execve along PATH), %d of them alerts", failed, alerts)
	if alerts > 0 {
		t.Errorf("%d failed execve events became alerts; a failed execve starts no process", alerts)
	}
	return failed
}

// requestModes requests each live site's planted page (paths, by server)
// with ?m= each of modes, and fails unless every answer contains want: the
// shell's command ran.
func requestModes(t *testing.T, paths map[string]string, modes []string, want string) {
	t.Helper()
	for _, s := range liveSites {
		for _, m := range modes {
			url := fmt.Sprintf("http://127.0.0.1:%d%s?m=%s", s.port, paths[s.server], m)
			if out := curl(t, url); !strings.Contains(out, want) {
				t.Fatalf("%s: the command did not run: %q", url, out)
			}
		}
	}
}
