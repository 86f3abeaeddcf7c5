//go:build linux

package tests

import (
	"archive/zip"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"webshellbeat/detection"
)

// The manager account of .ci/linux-e2e.sh (role manager-script).
const tomcatDeployer = "wsbdeploy:wsb-deploy-pw"

// TestLiveTomcatManagerDeploy takes a real Tomcat 10 over the way
// Metasploit's tomcat_mgr_upload and most Tomcat intrusions do: with a
// manager account, a WAR holding a JSP web shell is uploaded through the
// manager's text API, Tomcat (java, as the tomcat account) writes the WAR
// into webapps and unpacks it there, and the shell then runs commands. The
// WAR's other pages unpack in the same burst: one session of write alerts.
func TestLiveTomcatManagerDeploy(t *testing.T) {
	liveReady(t)
	needFiles(t, "Tomcat manager", tomcatHome+"/bin/catalina.sh", tomcatLog, "/usr/share/tomcat10-admin/manager")
	app := "wsbwar"
	t.Cleanup(func() {
		_ = os.RemoveAll(filepath.Join(tomcatWebapps, app))
		_ = os.Remove(filepath.Join(tomcatWebapps, app+".war"))
	})
	if err := os.Truncate(tomcatLog, 0); err != nil {
		t.Fatal(err)
	}
	war := filepath.Join(t.TempDir(), app+".war")
	// The shell among ten pages, as in an application's WAR: Tomcat unpacks
	// them in one burst, one session with one medium alert.
	pages := map[string]string{"cmd.jsp": jspShell}
	for i := range 10 {
		pages[fmt.Sprintf("page%d.jsp", i)] = fmt.Sprintf("<%%= %d %%>\n", i)
	}
	writeWAR(t, war, pages)
	startTomcat(t)

	dir := t.TempDir()
	cfg := fmt.Sprintf(`webshellbeat.inputs:
- type: auditd
  id: audit-live
  web_roots: [%q]
`, tomcatWebapps) + liveAccessInput("tomcat-live", tomcatLog, "tomcat") + `processors:
  - webshell: {events: all}
`
	stop := startLiveBeat(t, dir, cfg)
	base := fmt.Sprintf("http://127.0.0.1:%d", tomcatPort)
	deployed := false
	t.Cleanup(func() { // before Tomcat stops, so that it drops its own copies too
		if deployed {
			curl(t, "-u", tomcatDeployer, base+"/manager/text/undeploy?path=/"+app)
		}
	})
	if out := curl(t, "-u", tomcatDeployer, "-T", war, base+"/manager/text/deploy?path=/"+app); !strings.HasPrefix(out, "OK") {
		t.Fatalf("manager deploy: %q", out)
	}
	deployed = true
	time.Sleep(2 * time.Second)
	cmds := []string{"id", "uname -a"}
	out := &outputTail{dir: filepath.Join(dir, "out")}
	for _, c := range cmds {
		sent := time.Now()
		curl(t, base+"/"+app+"/cmd.jsp?c="+urlQuery(c))
		if out.waitShellAlert(t, c, []string{"java"}, sent) == nil {
			t.Errorf("%s/cmd.jsp?c=%s: no alert for its shell with java in its ancestry", app, c)
		}
	}
	time.Sleep(2 * time.Second)
	stop()
	docs := readDocs(t, dir)

	describe := func(d map[string]any) string { // the fields the document has, of these
		var parts []string
		for _, f := range []string{"user.name", "http.request.method", "url.path", "process.name", "file.path"} {
			if v := detection.LookupString(d, f); v != "" {
				parts = append(parts, v)
			}
		}
		return strings.Join(parts, " ")
	}
	shell := filepath.Join(tomcatWebapps, app, "cmd.jsp")
	checks := []struct{ what, rule, want string }{
		{"the manager deploy", "fe57888d-a3b8-4a4d-91da-d5d1b67844ef", "wsbdeploy PUT /manager/text/deploy"},
		{"Tomcat's write of the unpacked JSP", lnxScriptWrite, "tomcat java " + shell},
		{"the JSP's write and first request", "2f6c1a4e-8d3b-4f7a-9c2e-5b1d0e7a3c91", shell},
	}
	for _, c := range checks {
		got := alertedBy(docs, c.rule, describe)
		t.Logf("%s: %q", c.what, got)
		if !slices.Contains(got, c.want) {
			t.Errorf("%s: alerts %q, want %q", c.what, got, c.want)
		}
	}
	if w := scriptWrites(docs, filepath.Join(tomcatWebapps, app)); len(w.alerts) != len(pages) || len(w.sessions) != 1 || len(w.medium) != 1 {
		t.Errorf("the WAR's %d JSPs unpacked: %d write alerts in %d sessions, %d of them medium or above; want %d in one session, one medium", len(pages), len(w.alerts), len(w.sessions), len(w.medium), len(pages))
	}
	for _, c := range cmds {
		if !slices.ContainsFunc(docs, func(d map[string]any) bool {
			return isShellAlert(d, c, []string{"java"}, time.Time{}) &&
				strings.HasPrefix(detection.LookupString(d, "webshell.request.url.original"), "/"+app+"/cmd.jsp?")
		}) {
			t.Errorf("%s/cmd.jsp?c=%s: no alert of its shell carries the request", app, c)
		}
	}
}

// writeWAR writes a web application archive (a zip) of files.
func writeWAR(t *testing.T, path string, files map[string]string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zw := zip.NewWriter(f)
	for name, body := range files {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
}
