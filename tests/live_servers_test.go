//go:build linux

package tests

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"webshellbeat/detection"
)

// The Apache + php-fpm, lighttpd and Caddy sites of .ci/linux-e2e.sh.
var (
	apacheFPMSite = liveSite{"apache", 18094, "/var/www/wsb-apache-fpm", "/var/log/apache2/wsb-fpm-access.log", []string{"php-fpm8.2", "php-fpm"}}
	lighttpdSite  = liveSite{"lighttpd", 18092, "/var/www/wsb-lighttpd", "/var/log/lighttpd/wsb-access.log", []string{"php-cgi8.2", "php-cgi", "lighttpd"}}
	siteAccount   = liveSite{"nginx", 18095, "/var/www/wsb-site", "/var/log/nginx/wsb-site-access.log", []string{"php-fpm8.2", "php-fpm"}}
	caddySite     = liveSite{"caddy", 18093, "/var/www/wsb-caddy", "/var/log/caddy/wsb-access.log", []string{"php-fpm8.2", "php-fpm"}}
	// nginx sending its access log to the beat over UDP, in syslog
	// (access_log syslog:server=127.0.0.1:18599): the site's log is where
	// the beat listens.
	nginxSyslogSite = liveSite{"nginx", 18099, "/var/www/wsb-nginx", "udp://127.0.0.1:18599", []string{"php-fpm8.2", "php-fpm"}}
)

// TestLiveApachePHPFPM runs a PHP web shell on an Apache site whose PHP
// runs in php-fpm's pool (proxy_fcgi), as Debian's php-fpm package sets
// Apache up: the web shell's commands are children of php-fpm, which
// Apache did not start, and Apache's log times a request when it arrived.
func TestLiveApachePHPFPM(t *testing.T) {
	fpm := liveReady(t)
	testLiveServer(t, apacheFPMSite, "combined", func(t *testing.T) { startServers(t, fpm) })
}

// TestLiveSiteAccount runs a PHP web shell on an nginx site whose PHP runs
// in a php-fpm pool of the site's own account (wsbsite), as shared hosting
// runs every site: no web-server account runs its commands. Its recon
// command must still raise the recon rule, by its web-server ancestry.
func TestLiveSiteAccount(t *testing.T) {
	fpm := liveReady(t)
	docs := testLiveServer(t, siteAccount, "combined", func(t *testing.T) { startServers(t, fpm) })
	const recon = "6d1c3f0e-4b7a-4c52-9d0b-2f7e5a8c1a07"
	for _, d := range docs {
		if strings.HasSuffix(detection.LookupString(d, "process.command_line"), "; id") && detection.LookupString(d, "event.kind") == "alert" {
			if u := detection.LookupString(d, "user.name"); u != "wsbsite" {
				t.Errorf("%s ran as %q, want wsbsite", detection.LookupString(d, "process.command_line"), u)
			}
			if !slices.Contains(detection.LookupStrings(d, "webshell.rule_ids"), recon) {
				t.Errorf("%s: rules %v, not the recon rule", detection.LookupString(d, "process.command_line"), detection.LookupStrings(d, "webshell.rule_ids"))
			}
			return
		}
	}
	t.Errorf("no alert of the web shell's id")
}

// TestLiveLighttpdPHPCGI runs a PHP web shell on lighttpd, whose FastCGI
// module starts php-cgi itself (the web shell's commands are children of
// php-cgi, children of lighttpd), and reads lighttpd's own access log: the
// served host in the ident column, and the time a request ended, not began.
// A quick command and one that runs for 3 s must each be linked to their
// request.
func TestLiveLighttpdPHPCGI(t *testing.T) {
	liveReady(t)
	testLiveServer(t, lighttpdSite, "combined", func(t *testing.T) {
		startDaemon(t, "/run/wsb-lighttpd.pid", lighttpdSite.port, "lighttpd", "-f", "/etc/lighttpd/wsb.conf")
	})
}

// TestLiveCaddyPHPFPM runs a PHP web shell behind Caddy's php_fastcgi
// (php-fpm's pool, whose processes Caddy did not start) and reads Caddy's
// JSON access log. A quick command and one that runs for 3 s must each be
// linked to their request.
func TestLiveCaddyPHPFPM(t *testing.T) {
	fpm := liveReady(t)
	testLiveServer(t, caddySite, "json", func(t *testing.T) {
		startServers(t, fpm)
		// As root: php-fpm's socket is www-data's, and Caddy's own user is
		// not in that group on a stock install.
		dir := t.TempDir()
		runServer(t, caddySite.port, "", dir, []string{"HOME=" + dir, "XDG_DATA_HOME=" + dir, "XDG_CONFIG_HOME=" + dir},
			"caddy", "run", "--adapter", "caddyfile", "--config", "/etc/caddy/wsb.Caddyfile")
	})
}

// TestLiveNginxSyslog runs a PHP web shell behind an nginx site that sends
// its access log over UDP in syslog, read by the udp input with libbeat's
// syslog processor and decode_access_log, as the README shows: no file, no
// offset, each line a datagram that arrives after the request ended. A
// quick command and one that runs for 3 s must each be linked to their
// request.
func TestLiveNginxSyslog(t *testing.T) {
	fpm := liveReady(t)
	testLiveServer(t, nginxSyslogSite, "combined", func(t *testing.T) {
		startServers(t, fpm)
		waitPort(t, nginxSyslogSite.port)
	})
}

// siteAccessInput is the input of site's access log, in format: its file
// read as it grows, or, for a udp:// log, a udp input of syslog datagrams.
func siteAccessInput(site liveSite, format string) string {
	if addr, ok := strings.CutPrefix(site.log, "udp://"); ok {
		return fmt.Sprintf(`- type: udp
  id: %s-udp
  host: %q
  processors:
    - syslog: {field: message}
    - decode_access_log: {format: %s, server: %s}
`, site.server, addr, format, site.server)
	}
	return strings.Replace(liveAccessInput(site.server+"-live", site.log, site.server), "format: combined", "format: "+format, 1)
}

// testLiveServer plants a web shell on site, starts it with start, runs the
// beat on the site's web root and access log (read in format, decoded as
// site.server's) and sends the shell two commands at once, a quick one and
// one of 3 s; each must raise an alert that carries its request. It
// returns the beat's documents.
func testLiveServer(t *testing.T, site liveSite, format string, start func(*testing.T)) []map[string]any {
	nonce := fmt.Sprintf("wsb%s%d", site.server, time.Now().UnixNano())
	path := plantShell(t, site, nonce, "<?php echo shell_exec($_GET['c']); ?>\n")
	start(t)
	dir := t.TempDir()
	cfg := fmt.Sprintf("webshellbeat.inputs:\n- type: auditd\n  id: audit-live\n  web_roots: [%q]\n", site.root) +
		siteAccessInput(site, format) + detectAll
	b := launchLiveBeat(t, dir, cfg, currentAudit(t))
	if strings.HasPrefix(site.log, "udp://") { // a datagram sent before the input listens is lost
		waitBeatLog(t, b.beatProcess, "Started listening for UDP connection")
	}

	url := fmt.Sprintf("http://127.0.0.1:%d%s?c=", site.port, path)
	attacks := []liveAttack{
		{site, url, "echo " + nonce + "; id"},
		// lighttpd, Caddy and nginx log a request when it ends: 3 s after
		// this command started (Apache when it arrived).
		{site, url, "sleep 3; echo " + nonce},
	}
	var wg sync.WaitGroup
	for _, a := range attacks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := exec.Command("curl", "-sS", "--max-time", "20", a.url+urlQuery(a.cmd)).CombinedOutput()
			if err != nil || !strings.Contains(string(out), nonce) {
				t.Errorf("curl %s: %v\n%s", a.url+a.cmd, err, out)
			}
		}()
	}
	wg.Wait()
	docs := waitLinked(t, dir, attacks)
	for _, a := range unlinked(docs, attacks) {
		t.Errorf("%s: no alert of `sh -c %s` carries its request", site.server, a.cmd)
	}
	if t.Failed() {
		for _, d := range docs {
			if strings.Contains(fmt.Sprint(d["url"], d["process"]), nonce) {
				t.Logf("%s %s %v %v rules %v request %q ancestry %v", lookup(d, "@timestamp"), lookup(d, "event.kind"), lookup(d, "url.original"),
					lookup(d, "process.command_line"), lookup(d, "webshell.rule_ids"), lookup(d, "webshell.request.url.original"), ancestry(d))
			}
		}
	}
	return docs
}

// startDaemon runs a server that forks into the background and writes its
// pid to pidFile, waits for its port, and stops it (SIGTERM) at cleanup.
func startDaemon(t *testing.T, pidFile string, port int, name string, args ...string) {
	t.Helper()
	sh(t, name, args...)
	t.Cleanup(func() {
		b, _ := os.ReadFile(pidFile)
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 0 {
			_ = syscall.Kill(pid, syscall.SIGTERM)
		}
		waitClosed(port)
	})
	waitPort(t, port)
}

// runServer starts a server that stays in the foreground, as user ("" for
// root) in dir with env added, waits for its port, and stops its process
// group at cleanup, logging its output if the test failed.
func runServer(t *testing.T, port int, user, dir string, env []string, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	if user != "" {
		cmd = exec.Command("runuser", append([]string{"-u", user, "--", name}, args...)...)
	}
	cmd.Dir, cmd.Env = dir, append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // runuser and the server stop together
	out, err := os.CreateTemp("", "wsb-"+filepath.Base(name)+"-*.log")
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		_ = cmd.Wait()
		waitClosed(port)
		if t.Failed() {
			b, _ := os.ReadFile(out.Name())
			t.Logf("%s's output:\n%s", name, tail(b, 2000))
		}
		out.Close()
		os.Remove(out.Name())
	})
	waitPort(t, port)
}
