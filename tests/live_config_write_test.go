//go:build linux

package tests

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"webshellbeat/detection"
)

// A web shell on each server writes, with PHP alone, the per-folder
// configuration that turns an upload folder into a script folder: it
// appends to the folder's .htaccess (Apache: images run as PHP) and creates
// a .user.ini (php-fpm: an image prepended to every page). It also
// backdoors the folder's index.php in place. Each write must raise its rule
// (configuration or script write) from the kernel's record of the web
// server's own write into the watched web root: a creation, or an open for
// writing of a file that exists (what Sysmon 11 logs as an overwrite).
func TestLiveConfigWrite(t *testing.T) {
	fpm := liveReady(t)
	const (
		configRule = "7dbe368c-6c91-4fec-91dd-f25a43be90c7"
		scriptRule = "20c04b82-a4c5-4699-a858-32f57e48b0ca"
	)
	code := `<?php
file_put_contents(__DIR__ . "/.htaccess", "AddType application/x-httpd-php .jpg\n", FILE_APPEND);
file_put_contents(__DIR__ . "/.user.ini", "auto_prepend_file=avatar.jpg\n");
file_put_contents(__DIR__ . "/index.php", "<?php @eval(\$_POST['z']); ?>\n");
echo "written";
`
	want := map[string]string{} // file -> rule
	paths := map[string]string{}
	for _, s := range liveSites {
		nonce := fmt.Sprintf("wsbconf%s%d", s.server, time.Now().UnixNano())
		// The web server writes into the folder, as into an upload folder.
		folder, page := plantShellIn(t, s, nonce, "cfg.php", code, 0o777)
		// The site's own files, there before the beat starts; the web
		// server may write them, as a CMS's files often are.
		for name, text := range map[string]string{".htaccess": "Options -Indexes\n", "index.php": "<?php echo 'gallery'; ?>\n"} {
			f := filepath.Join(folder, name)
			if err := os.WriteFile(f, []byte(text), 0o666); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(f, 0o666); err != nil {
				t.Fatal(err)
			}
		}
		paths[s.server] = page
		want[filepath.Join(folder, ".htaccess")] = configRule
		want[filepath.Join(folder, ".user.ini")] = configRule
		want[filepath.Join(folder, "index.php")] = scriptRule
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
			if f := detection.LookupString(d, "file.path"); want[f] != "" && slices.Contains(detection.LookupStrings(d, "webshell.rule_ids"), want[f]) {
				found[f] = d
			}
		}
	}
	for _, f := range slices.Sorted(maps.Keys(want)) {
		d := found[f]
		if d == nil {
			t.Errorf("no alert of rule %s for %s", want[f], f)
			for _, d := range readDocs(t, dir) {
				if detection.LookupString(d, "file.path") == f {
					t.Logf("  its event: kind %s, type %v, action %s, executable %q, user %q, rules %v", detection.LookupString(d, "event.kind"),
						detection.LookupStrings(d, "event.type"), detection.LookupString(d, "event.action"),
						detection.LookupString(d, "process.executable"), detection.LookupString(d, "user.name"), detection.LookupStrings(d, "webshell.rule_ids"))
				}
			}
			continue
		}
		t.Logf("%s (%v): %q by %s as %s", f, detection.LookupStrings(d, "event.type"), detection.LookupString(d, "message"),
			detection.LookupString(d, "process.executable"), detection.LookupString(d, "user.name"))
	}
}
