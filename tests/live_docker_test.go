//go:build linux

package tests

import (
	"fmt"
	"maps"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"webshellbeat/config"
	"webshellbeat/detection"
	"webshellbeat/detector"
	"webshellbeat/hunt"
)

// dockerReady returns the docker command's environment for the daemon
// testing/docker/run.sh starts, or skips (fails under CI) when there is none.
func dockerReady(t *testing.T) []string {
	t.Helper()
	if os.Getenv("WEBSHELLBEAT_LIVE") != "1" {
		t.Skip("set WEBSHELLBEAT_LIVE=1 (after testing/docker/run.sh start) to run the live Docker test")
	}
	host := os.Getenv("DOCKER_HOST")
	if host == "" {
		sock, _ := filepath.Abs("../testing/docker/target/docker.sock")
		host = "unix://" + sock
	}
	env := append(os.Environ(), "DOCKER_HOST="+host)
	cmd := exec.Command("docker", "image", "inspect", "wsb-web:test")
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil {
		why := fmt.Sprintf("no Docker daemon with the image wsb-web:test at %s: %v\n%s", host, err, out)
		if os.Getenv("CI") != "" {
			t.Fatalf("%s (CI and WEBSHELLBEAT_LIVE are set: run testing/docker/run.sh start as root first)", why)
		}
		t.Skip(why)
	}
	return env
}

// The commands the image's servers run with, as their images start them.
const (
	fpmCommand    = `exec /usr/sbin/php-fpm -n -y /etc/php-fpm.conf`
	nginxCommand  = `exec /usr/sbin/nginx -c /etc/nginx.conf -g "daemon off;"`
	apacheCommand = `exec /usr/sbin/apache2 -f /etc/apache2.conf -DFOREGROUND`
)

// TestLiveDocker runs real web server containers under a real Docker
// daemon (json-file logging, the default) from the image of
// testing/docker/run.sh, drives a PHP web shell in each with curl, and
// reads the runtime's own log file of the container:
//
//   - nginx + php-fpm in one container;
//   - Apache + mod_php, as php:apache runs it: the error log is stderr,
//     where mod_php's commands write theirs;
//   - php-fpm in a container of its own beside an nginx container, as the
//     nginx and php:fpm images are mostly run: the commands' errors are in
//     the php-fpm container's log, which php-fpm's own lines tell apart.
//
// hunt finds the web shell request in the access lines on stdout and the
// missing command's and the interactive shell's errors on stderr (php-fpm
// passes its workers' output on undecorated); the beat's module
// (filestream's container parser, decode_container_log) gives hunt's
// events and alerts.
func TestLiveDocker(t *testing.T) {
	env := dockerReady(t)
	// One container for both logs. nginx starts first (as a daemon), so its
	// notices, the file's first error log lines, tell the server.
	for _, c := range []struct{ server, command string }{
		{"nginx", "/usr/sbin/nginx -c /etc/nginx.conf && " + fpmCommand},
		{"apache", apacheCommand},
	} {
		t.Run(c.server, func(t *testing.T) {
			port := map[string]int{"nginx": 18095, "apache": 18096}[c.server]
			id, log := runContainer(t, env, c.command)
			waitPort(t, port)
			nonce := driveShell(t, port)
			snapshot := waitLog(t, log, nonce, "can't access tty")
			checkAlerts(t, snapshot, id, c.server+".access", c.server+".error", nonce)
			checkModule(t, snapshot, c.server+"_container", "")
		})
	}
	t.Run("php-fpm beside nginx", func(t *testing.T) {
		fpmID, fpmLog := runContainer(t, env, fpmCommand)
		waitPort(t, 19000)
		nginxID, nginxLog := runContainer(t, env, nginxCommand)
		waitPort(t, 18095)
		nonce := driveShell(t, 18095)
		snapshot := waitLog(t, fpmLog, nonce, "can't access tty")
		checkAlerts(t, snapshot, fpmID, "", "php_fpm.error", nonce)
		checkModule(t, snapshot, "nginx_container", "php_fpm")
		requests := waitLog(t, nginxLog, "/shell.php?c=id")
		checkAlerts(t, requests, nginxID, "nginx.access", "", "")
	})
}

// runContainer starts the image with command on the host's network and
// returns the container's id and Docker's log file of it.
func runContainer(t *testing.T, env []string, command string) (id, logPath string) {
	t.Helper()
	docker := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("docker", args...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("docker %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	name := fmt.Sprintf("wsb-live-%d", time.Now().UnixNano())
	id = docker("run", "-d", "--network", "host", "--label", "webshellbeat-test", "--name", name, "wsb-web:test", "/bin/sh", "-c", command)
	t.Cleanup(func() {
		cmd := exec.Command("docker", "rm", "-f", id)
		cmd.Env = env
		_ = cmd.Run()
	})
	return id, docker("inspect", "-f", "{{.LogPath}}", id)
}

// driveShell runs id, a missing command and an interactive shell through
// the web shell on port, and returns the missing command's name.
func driveShell(t *testing.T, port int) string {
	t.Helper()
	nonce := fmt.Sprintf("wsbmissing%d", time.Now().UnixNano())
	base := fmt.Sprintf("http://127.0.0.1:%d/shell.php?c=", port)
	if out := curl(t, base+"id"); !strings.Contains(out, "uid=33(www-data)") {
		t.Fatalf("the web shell in the container: %q", out)
	}
	curl(t, base+nonce)
	curl(t, base+url.QueryEscape("sh -i </dev/null"))
	return nonce
}

// waitLog waits until the container's log holds every one of want and
// returns a copy of it under the runtime's file name (the live file keeps
// growing).
func waitLog(t *testing.T, logPath string, want ...string) string {
	t.Helper()
	var raw []byte
	has := func(w string) bool { return strings.Contains(string(raw), w) }
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if raw, _ = os.ReadFile(logPath); !slices.ContainsFunc(want, func(w string) bool { return !has(w) }) {
			break
		}
	}
	for _, w := range want {
		if !has(w) {
			t.Fatalf("%q is not in the container's log %s:\n%s", w, logPath, tail(raw, 3000))
		}
	}
	snapshot := filepath.Join(t.TempDir(), filepath.Base(logPath))
	if err := os.WriteFile(snapshot, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	return snapshot
}

// checkAlerts hunts a container's log: the web shell request's alert in
// the access dataset, and (with a nonce) the two error log alerts in the
// error dataset, each naming the container and its stream.
func checkAlerts(t *testing.T, snapshot, id, access, errors, nonce string) {
	t.Helper()
	det, err := detector.New(config.Default())
	if err != nil {
		t.Fatal(err)
	}
	found := map[string][]string{} // rule title -> "dataset: what"
	st, err := hunt.Run([]string{snapshot}, det, func(a map[string]any) {
		title := detection.LookupString(a, "message")
		found[title] = append(found[title], detection.LookupString(a, "event.dataset")+": "+detection.LookupString(a, "event.original")+detection.LookupString(a, "url.original"))
		if detection.LookupString(a, "container.id") != id || detection.LookupString(a, "stream") == "" {
			t.Errorf("alert without the container's id %s or its stream: %v", id, a)
		}
	}, nil)
	if err != nil || st.Errors != 0 || st.Formats[hunt.FormatContainer] != 1 {
		t.Fatalf("hunt %s: %v, stats %+v", snapshot, err, st)
	}
	want := map[string]string{}
	if access != "" {
		want["OS Command in a Request Parameter of a Script Page"] = access + ": /shell.php?c=id"
	}
	if nonce != "" {
		want["Shell Could Not Run a Command in a Web Server Error Log"] = errors + ": sh: 1: " + nonce + ": "
		want["Shell Without a Terminal in a Web Server Error Log"] = errors + ": sh: 0: can't access tty"
	}
	for rule, what := range want {
		if !slices.ContainsFunc(found[rule], func(s string) bool { return strings.Contains(s, what) }) {
			raw, _ := os.ReadFile(snapshot)
			t.Errorf("no %q alert for %q; alerts: %v\nthe log:\n%s", rule, what, found, tail(raw, 3000))
		}
	}
}

// checkModule runs the beat's module (its decode_container_log given
// server, unless "") on a container's log: hunt's events and alerts.
func checkModule(t *testing.T, snapshot, module, server string) {
	t.Helper()
	dir, cfgPath := shippedHome(t)
	if server != "" {
		setServer(t, filepath.Join(dir, "modules.d", module+".yml.disabled"), server)
	}
	wantEvents, wantAlerts := huntCounts(t, snapshot)
	runBeat(t, cfgPath, dir, func() bool { return len(readDocs(t, dir)) >= wantEvents },
		append(fileOutputFlags(dir), "--modules", module, "-M", fmt.Sprintf("%s.paths=[%q]", module, snapshot),
			"-M", module+".prospector.scanner.fingerprint.length=64")...)
	events, gotAlerts := eventAlerts(t, dir)
	if events != wantEvents || !maps.Equal(gotAlerts, wantAlerts) {
		t.Errorf("the beat's %s module on the container's log: %d documents, alerts %v; hunt: %d events, alerts %v", module, events, gotAlerts, wantEvents, wantAlerts)
	}
}

// setServer sets the server of a module file's decode_container_log, as a
// user does for a php:fpm container.
func setServer(t *testing.T, file, server string) {
	t.Helper()
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	text := regexp.MustCompile(`(?m)^(\s+server: )\S+$`).ReplaceAllString(string(raw), "${1}"+server)
	if text == string(raw) {
		t.Fatalf("%s: no server setting", file)
	}
	if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}
