//go:build linux

package tests

import (
	"fmt"
	"maps"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
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

// TestLiveDocker runs real web server containers under a real Docker
// daemon (json-file logging, the default) from the image of
// testing/docker/run.sh, drives a PHP web shell in each with curl, and
// reads the runtime's own log file of the container: nginx + php-fpm (as
// the nginx and php:fpm images run them: php-fpm passes its workers' output
// on undecorated) and Apache + mod_php (as php:apache runs it: the error
// log is stderr, where mod_php's commands write theirs). hunt finds the
// web shell request in the access lines on stdout and the missing
// command's and the interactive shell's errors on stderr; the beat's
// module (filestream's container parser, decode_container_log) gives
// hunt's events and alerts.
func TestLiveDocker(t *testing.T) {
	env := dockerReady(t)
	for _, c := range []struct {
		server, module string
		port           int
		command        string
	}{
		{"nginx", "nginx_container", 18095, `/usr/sbin/php-fpm -n -y /etc/php-fpm.conf & exec /usr/sbin/nginx -c /etc/nginx.conf -g "daemon off;"`},
		{"apache", "apache_container", 18096, `exec /usr/sbin/apache2 -f /etc/apache2.conf -DFOREGROUND`},
	} {
		t.Run(c.server, func(t *testing.T) {
			liveContainer(t, env, c.module, c.port, c.command)
		})
	}
}

// liveContainer runs the image with command, drives its web shell on port
// and checks hunt's alerts and the beat's module against the container's
// log file.
func liveContainer(t *testing.T, env []string, module string, port int, command string) {
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
	id := docker("run", "-d", "--network", "host", "--label", "webshellbeat-test", "--name", name, "wsb-web:test", "/bin/sh", "-c", command)
	t.Cleanup(func() {
		cmd := exec.Command("docker", "rm", "-f", id)
		cmd.Env = env
		_ = cmd.Run()
	})
	logPath := docker("inspect", "-f", "{{.LogPath}}", id)
	waitPort(t, port)

	nonce := fmt.Sprintf("wsbmissing%d", time.Now().UnixNano())
	base := fmt.Sprintf("http://127.0.0.1:%d/shell.php?c=", port)
	if out := curl(t, base+"id"); !strings.Contains(out, "uid=33(www-data)") {
		t.Fatalf("the web shell in the container: %q", out)
	}
	curl(t, base+nonce)
	curl(t, base+url.QueryEscape("sh -i </dev/null"))

	var raw []byte
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		raw, _ = os.ReadFile(logPath)
		if strings.Contains(string(raw), nonce+": ") && strings.Contains(string(raw), "can't access tty") {
			break
		}
	}
	if !strings.Contains(string(raw), nonce+": ") {
		t.Fatalf("the command's error is not in the container's log %s:\n%s", logPath, tail(raw, 3000))
	}
	// A copy under the runtime's file name (the live file keeps growing).
	snapshot := filepath.Join(t.TempDir(), filepath.Base(logPath))
	if err := os.WriteFile(snapshot, raw, 0o644); err != nil {
		t.Fatal(err)
	}

	det, err := detector.New(config.Default())
	if err != nil {
		t.Fatal(err)
	}
	found := map[string][]string{} // rule title -> what
	st, err := hunt.Run([]string{snapshot}, det, func(a map[string]any) {
		title := detection.LookupString(a, "message")
		found[title] = append(found[title], detection.LookupString(a, "event.original")+" "+detection.LookupString(a, "url.original"))
		if detection.LookupString(a, "container.id") != id || detection.LookupString(a, "stream") == "" {
			t.Errorf("alert without the container's id %s or its stream: %v", id, a)
		}
	}, nil)
	if err != nil || st.Errors != 0 || st.Formats[hunt.FormatContainer] != 1 {
		t.Fatalf("hunt %s: %v, stats %+v", snapshot, err, st)
	}
	for rule, what := range map[string]string{
		"OS Command in a Request Parameter of a Script Page":      "/shell.php?c=id",
		"Shell Could Not Run a Command in a Web Server Error Log": nonce + ": ",
		"Shell Without a Terminal in a Web Server Error Log":      "can't access tty",
	} {
		if !slices.ContainsFunc(found[rule], func(s string) bool { return strings.Contains(s, what) }) {
			t.Errorf("no %q alert for %q; alerts: %v\nthe log:\n%s", rule, what, found, tail(raw, 3000))
		}
	}

	dir, cfgPath := shippedHome(t)
	wantEvents, wantAlerts := huntCounts(t, snapshot)
	runBeat(t, cfgPath, dir, func() bool { return len(readDocs(t, dir)) >= wantEvents },
		append(fileOutputFlags(dir), "--modules", module, "-M", fmt.Sprintf("%s.paths=[%q]", module, snapshot),
			"-M", module+".prospector.scanner.fingerprint.length=64")...)
	events, gotAlerts := eventAlerts(t, dir)
	if events != wantEvents || !maps.Equal(gotAlerts, wantAlerts) {
		t.Errorf("the beat's %s module on the container's log: %d documents, alerts %v; hunt: %d events, alerts %v", module, events, gotAlerts, wantEvents, wantAlerts)
	}
}
