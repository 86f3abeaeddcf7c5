//go:build linux

package tests

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"webshellbeat/detection"
)

// The nginx site of .ci/linux-e2e.sh that proxies to Tomcat.
const (
	proxyPort = 18100
	proxyLog  = "/var/log/nginx/wsb-proxy-access.log"
)

// TestLiveNginxTomcatProxy runs a JSP web shell on Tomcat behind nginx
// (proxy_pass), the usual way a Java application is put on the web, with
// the beat reading both access logs: each request is in both. Each
// command's shell must carry its request (from either log: they are the
// same request; the shell has one webshell.request), and each log's record
// of the request alerts, the second lowered by the web shell's session.
func TestLiveNginxTomcatProxy(t *testing.T) {
	liveReady(t)
	needFiles(t, "proxy", tomcatHome+"/bin/catalina.sh", tomcatLog, proxyLog)
	shellPath := filepath.Join(tomcatWebapps, "ROOT", "pcmd.jsp")
	t.Cleanup(func() { _ = os.Remove(shellPath) })
	for _, f := range []string{tomcatLog, proxyLog} {
		if err := os.Truncate(f, 0); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(shellPath, []byte(jspShell), 0o644); err != nil {
		t.Fatal(err)
	}
	startTomcat(t)
	sh(t, "nginx")
	t.Cleanup(func() { _ = exec.Command("nginx", "-s", "quit").Run(); waitClosed(proxyPort) })
	waitPort(t, proxyPort)
	dir := t.TempDir()
	cfg := fmt.Sprintf("webshellbeat.inputs:\n- type: auditd\n  id: audit-live\n  web_roots: [%q]\n", tomcatWebapps) +
		liveAccessInput("proxy-live", proxyLog, "nginx") + liveAccessInput("tomcat-live", tomcatLog, "tomcat") + detectAll
	stop := startLiveBeat(t, dir, cfg)
	base := fmt.Sprintf("http://127.0.0.1:%d/pcmd.jsp", proxyPort)
	cmds := []string{"id", "uname -a", "sleep 3; whoami"}
	for _, c := range cmds {
		if out := curl(t, base+"?c="+urlQuery(c)); strings.TrimSpace(out) == "" {
			t.Fatalf("pcmd.jsp?c=%s through nginx answered nothing", c)
		}
		time.Sleep(1500 * time.Millisecond) // a person typing: one request at a time
	}
	time.Sleep(3 * time.Second)
	stop()
	docs := readDocs(t, dir)
	for _, c := range cmds {
		url := "/pcmd.jsp?c=" + urlQuery(c)
		if !slices.ContainsFunc(docs, func(d map[string]any) bool {
			return isShellAlert(d, c, []string{"java"}, time.Time{}) && detection.LookupString(d, "webshell.request.url.original") == url
		}) {
			t.Errorf("%s: no alert of its shell carries the request", url)
		}
		for _, ds := range []string{"nginx.access", "tomcat.access"} {
			if !slices.ContainsFunc(docs, func(d map[string]any) bool {
				return detection.LookupString(d, "event.kind") == "alert" && detection.LookupString(d, "event.dataset") == ds && detection.LookupString(d, "url.original") == url
			}) {
				t.Errorf("%s: %s's record of the request did not alert", url, ds)
			}
		}
	}
}
