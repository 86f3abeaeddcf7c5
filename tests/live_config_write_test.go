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

// A web shell on each server writes the per-folder configuration that turns
// an upload folder into a script folder: a .htaccess (Apache: images run as
// PHP) and a .user.ini (php-fpm: an image prepended to every page). Each
// write must raise the configuration-write rule, from the kernel's record of
// the web server's own write into the watched web root.
func TestLiveConfigWrite(t *testing.T) {
	fpm := liveReady(t)
	const rule = "7dbe368c-6c91-4fec-91dd-f25a43be90c7"
	code := `<?php
file_put_contents(__DIR__ . "/.htaccess", "AddType application/x-httpd-php .jpg\n");
file_put_contents(__DIR__ . "/.user.ini", "auto_prepend_file=avatar.jpg\n");
echo "written";
`
	var want []string
	paths := map[string]string{}
	for _, s := range liveSites {
		nonce := fmt.Sprintf("wsbconf%s%d", s.server, time.Now().UnixNano())
		folder := filepath.Join(s.root, "uploads", nonce)
		if err := os.Mkdir(folder, 0o777); err != nil { // the web server writes into it, as into an upload folder
			t.Fatal(err)
		}
		if err := os.Chmod(folder, 0o777); err != nil { // past the umask
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(folder) })
		if err := os.WriteFile(filepath.Join(folder, "cfg.php"), []byte(code), 0o644); err != nil {
			t.Fatal(err)
		}
		paths[s.server] = "/uploads/" + nonce + "/cfg.php"
		want = append(want, filepath.Join(folder, ".htaccess"), filepath.Join(folder, ".user.ini"))
	}
	startServers(t, fpm)
	dir := t.TempDir()
	startLiveBeat(t, dir, liveSitesInputs()+detectAll)
	for _, s := range liveSites {
		if out := curl(t, fmt.Sprintf("http://127.0.0.1:%d%s", s.port, paths[s.server])); !strings.Contains(out, "written") {
			t.Fatalf("%s: the page did not write its files: %q", s.server, out)
		}
	}
	found := map[string]map[string]any{}
	for deadline := time.Now().Add(20 * time.Second); len(found) < len(want) && time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		for _, d := range readDocs(t, dir) {
			if f := detection.LookupString(d, "file.path"); slices.Contains(want, f) && slices.Contains(detection.LookupStrings(d, "webshell.rule_ids"), rule) {
				found[f] = d
			}
		}
	}
	for _, f := range want {
		d := found[f]
		if d == nil {
			t.Errorf("no alert of the configuration-write rule for %s", f)
			for _, d := range readDocs(t, dir) {
				if detection.LookupString(d, "file.path") == f {
					t.Logf("  its event: kind %s, executable %q, user %q, rules %v", detection.LookupString(d, "event.kind"),
						detection.LookupString(d, "process.executable"), detection.LookupString(d, "user.name"), detection.LookupStrings(d, "webshell.rule_ids"))
				}
			}
			continue
		}
		t.Logf("%s: %q by %s as %s", f, detection.LookupString(d, "message"), detection.LookupString(d, "process.executable"), detection.LookupString(d, "user.name"))
	}
}
