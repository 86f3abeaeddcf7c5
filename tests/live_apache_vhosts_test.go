//go:build linux

package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"webshellbeat/detection"
)

// TestLiveApacheOtherVhosts sends the same web shell request to two sites
// of the CI machine's real Apache that share a root: the one with its own
// CustomLog, and one without, which Debian logs to other_vhosts_access.log
// in vhost_combined. The shipped apache module reads that file as it is
// installed; hunt's alert names the site; the module gives hunt's events
// and alerts; and the two sites' requests are two sessions, each at full
// severity.
func TestLiveApacheOtherVhosts(t *testing.T) {
	const other, otherLog = "wsb-other.localhost", "/var/log/apache2/other_vhosts_access.log"
	startServers(t, liveReady(t))
	checkShippedPath(t, "apache", otherLog)
	site := liveSites[0]
	nonce := fmt.Sprintf("wsbvhost%d", time.Now().UnixNano())
	target := fmt.Sprintf("http://127.0.0.1:%d%s?cmd=id", site.port, plantShell(t, site, nonce, `<?php system($_GET["cmd"]); ?>`))
	if out := curl(t, target); !strings.Contains(out, "uid=") {
		t.Fatalf("the web shell on the default site answered %q", out)
	}
	if out := curl(t, "-H", "Host: "+other, target); !strings.Contains(out, "uid=") {
		t.Fatalf("the web shell on %s answered %q", other, out)
	}
	var lines []string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		lines = nil
		for _, f := range []string{site.log, otherLog} {
			b, _ := os.ReadFile(f)
			for _, l := range strings.Split(string(b), "\n") {
				if strings.Contains(l, nonce) {
					lines = append(lines, l)
				}
			}
		}
		if len(lines) == 2 {
			break
		}
	}
	if len(lines) != 2 || !strings.HasPrefix(lines[1], other+":") {
		t.Fatalf("the two requests in %s and %s: %q; want one each, the second's line starting with its site", site.log, otherLog, lines)
	}

	// Both sites' lines in one file, in order, as a log of several sites.
	both := filepath.Join(t.TempDir(), "access.log")
	if err := os.WriteFile(both, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	alerts := huntAlerts(t, both)
	if len(alerts) != 2 || detection.LookupString(alerts[1], "url.domain") != other {
		t.Fatalf("hunt %s: %d alerts, the second's site %q; want 2, the second on %s", both, len(alerts), detection.LookupString(alerts[len(alerts)-1], "url.domain"), other)
	}
	s1, s2 := detection.LookupString(alerts[0], "webshell.session.id"), detection.LookupString(alerts[1], "webshell.session.id")
	if s1 == s2 || sev(alerts[0]) != sev(alerts[1]) {
		t.Errorf("the two sites' requests: sessions %q %q, severities %d %d; want two sessions at one severity", s1, s2, sev(alerts[0]), sev(alerts[1]))
	}
	moduleMatchesHunt(t, map[string]string{"apache": otherLog})
}

// checkShippedPath checks that the inputs of a shipped module file read
// path, where the live test's server writes.
func checkShippedPath(t *testing.T, module, path string) {
	t.Helper()
	paths := shippedPaths(t, module)
	if !slices.ContainsFunc(paths, func(glob string) bool { ok, _ := filepath.Match(glob, path); return ok }) {
		t.Errorf("the shipped %s module does not read %s: paths %v", module, path, paths)
	}
}

// plantShell writes a PHP web shell, code, into the uploads folder of
// site, named after nonce and removed at cleanup, and returns its URL path.
func plantShell(t *testing.T, site liveSite, nonce, code string) string {
	t.Helper()
	shell := filepath.Join(site.root, "uploads", nonce+".php")
	if err := os.WriteFile(shell, []byte(code), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(shell) })
	return "/uploads/" + filepath.Base(shell)
}

// plantShellIn writes code as page in a folder of its own, uploads/nonce
// of site's root (as upload handlers that make one per upload do), made
// with perm, and returns the folder and the page's URL path. Both go at
// cleanup.
func plantShellIn(t *testing.T, site liveSite, nonce, page, code string, perm os.FileMode) (folder, urlPath string) {
	t.Helper()
	folder = filepath.Join(site.root, "uploads", nonce)
	if err := os.Mkdir(folder, perm); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(folder) })
	if err := os.Chmod(folder, perm); err != nil { // past the umask
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(folder, page), []byte(code), 0o644); err != nil {
		t.Fatal(err)
	}
	return folder, "/uploads/" + nonce + "/" + page
}

func sev(doc map[string]any) int {
	n, _ := detection.Lookup(doc, "event.severity")
	v, _ := n.(int)
	return v
}
