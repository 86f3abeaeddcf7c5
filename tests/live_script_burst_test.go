//go:build linux

package tests

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"webshellbeat/detection"
)

// A CMS installing a plugin through its web interface: on each server, a
// page writes 40 scripts into a new folder in one request, as WordPress
// unpacking a plugin does. Each write is a script written by the web
// server (rule lnx_webserver_script_write), and they are one burst: one
// session, whose first alert keeps its severity (medium) and whose others
// are lowered; before, 40 medium alerts in 40 sessions. A single script
// written by the same page 12 s later, past the burst, is a session of its
// own and keeps its severity, as a web shell's upload must.
func TestLiveScriptBurst(t *testing.T) {
	fpm := liveReady(t)
	const files = 40
	code := fmt.Sprintf(`<?php
$n = isset($_GET['one']) ? 1 : %d;
$dir = __DIR__ . "/" . (isset($_GET['one']) ? "later" : "plugin");
@mkdir($dir);
for ($i = 0; $i < $n; $i++) { file_put_contents("$dir/f$i.php", "<?php // part $i\n"); }
echo "written $n";
`, files)
	folders := map[string]string{}
	pages := map[string]string{}
	for _, s := range liveSites {
		nonce := fmt.Sprintf("wsbburst%s%d", s.server, time.Now().UnixNano())
		folder, page := plantShellIn(t, s, nonce, "install.php", code, 0o777)
		folders[s.server], pages[s.server] = folder, page
	}
	startServers(t, fpm)
	dir := t.TempDir()
	stop := startLiveBeat(t, dir, liveSitesInputs()+detectAll)
	get := func(query string) {
		for _, s := range liveSites {
			if out := curl(t, fmt.Sprintf("http://127.0.0.1:%d%s%s", s.port, pages[s.server], query)); !strings.HasPrefix(out, "written") {
				t.Fatalf("%s: install.php%s: %q", s.server, query, out)
			}
		}
	}
	get("")
	time.Sleep(12 * time.Second) // past session.BurstGap
	get("?one=1")

	// alerts returns the script-write alerts of a server's folder sub.
	alerts := func(docs []map[string]any, server, sub string) []map[string]any {
		return scriptWrites(docs, filepath.Join(folders[server], sub)).alerts
	}
	var docs []map[string]any
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		docs = readDocs(t, dir)
		done := true
		for _, s := range liveSites {
			done = done && len(alerts(docs, s.server, "plugin")) >= files && len(alerts(docs, s.server, "later")) >= 1
		}
		if done {
			break
		}
	}
	for _, s := range liveSites {
		burst := scriptWrites(docs, filepath.Join(folders[s.server], "plugin"))
		t.Logf("%s: %d alerts for the plugin's %d scripts, %d session(s), at medium: %v", s.server, len(burst.alerts), files, len(burst.sessions), burst.medium)
		if len(burst.alerts) != files || len(burst.sessions) != 1 || len(burst.medium) != 1 {
			t.Errorf("%s: %d alerts in %d sessions, %d of them medium; want %d alerts (none lost) in one session, one medium", s.server, len(burst.alerts), len(burst.sessions), len(burst.medium), files)
		}
		later := alerts(docs, s.server, "later")
		if len(later) != 1 || burst.sessions[detection.LookupString(later[0], "webshell.session.id")] {
			t.Errorf("%s: the script written 12 s later: %d alerts, or in the plugin's session", s.server, len(later))
			continue
		}
		if sev, _ := lookup(later[0], "event.severity").(float64); sev < 47 {
			t.Errorf("%s: the script written 12 s later has severity %v, want medium (its own session)", s.server, sev)
		}
	}
	stop()
}

// lnxScriptWrite is the id of rule lnx_webserver_script_write.
const lnxScriptWrite = "20c04b82-a4c5-4699-a858-32f57e48b0ca"

// writeBurst is what the script-write rule raised for the files of one
// folder: its alerts, the sessions they fall in, and the files whose alert
// kept medium severity or above (a burst's first).
type writeBurst struct {
	alerts   []map[string]any
	sessions map[string]bool
	medium   []string
}

// scriptWrites collects the writeBurst of folder from docs.
func scriptWrites(docs []map[string]any, folder string) writeBurst {
	b := writeBurst{sessions: map[string]bool{}}
	for _, d := range docs {
		path := detection.LookupString(d, "file.path")
		if !strings.HasPrefix(path, folder+"/") || !slices.Contains(ids(d), lnxScriptWrite) {
			continue
		}
		b.alerts = append(b.alerts, d)
		b.sessions[detection.LookupString(d, "webshell.session.id")] = true
		if sev, _ := lookup(d, "event.severity").(float64); sev >= 47 {
			b.medium = append(b.medium, filepath.Base(path))
		}
	}
	return b
}
