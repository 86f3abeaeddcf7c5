//go:build linux

package tests

import (
	"fmt"
	"os/user"
	"slices"
	"strings"
	"testing"
	"time"

	"webshellbeat/detection"
)

// TestLiveServerConnections watches the web-server account's connect calls
// (the audit rule the README's live audit section suggests) on the real
// Apache (mod_php) and nginx + php-fpm sites. Each site's PHP calls the
// other site over HTTP, as a page calls an API, from the server's own
// worker (apache2 under its master, a php-fpm pool worker under its
// master): no alert, where each such connection alerted high as one from a
// process under a web server before. A tunnel page then makes the same
// worker connect to SSH on the host (refused or not), as reGeorg's does:
// that alerts as a web server's tunnel.
func TestLiveServerConnections(t *testing.T) {
	fpm := liveReady(t)
	www, err := user.Lookup("www-data")
	if err != nil {
		t.Fatal(err)
	}
	const connect = `<?php $f = @fsockopen($_GET['h'], (int)$_GET['p'], $errno, $errstr, 2); echo $f ? "open" : "closed: $errstr"; if ($f) fclose($f); ?>` + "\n"
	for _, s := range liveSites {
		plantShell(t, s, "api", connect)
		plantShell(t, s, "tunnel", connect)
	}
	startServers(t, fpm)
	dir := t.TempDir()
	cfg := strings.Replace(liveSitesInputs(), "  id: audit-live\n", fmt.Sprintf("  id: audit-live\n  audit_rules: |\n    -a always,exit -F arch=b64 -S connect -F euid=%s -k web-net\n", www.Uid), 1)
	stop := startLiveBeat(t, dir, cfg+detectAll)

	want := map[string]bool{} // the tunnel alerts expected, "process -> ip:port"
	for i, s := range liveSites {
		other := liveSites[1-i]
		if out := curl(t, fmt.Sprintf("http://127.0.0.1:%d/uploads/api.php?h=127.0.0.1&p=%d", s.port, other.port)); !strings.Contains(out, "open") {
			t.Fatalf("%s: api.php could not reach %s: %q", s.server, other.server, out)
		}
		curl(t, fmt.Sprintf("http://127.0.0.1:%d/uploads/tunnel.php?h=127.0.0.1&p=22", s.port))
		for _, name := range s.parent {
			want[name+" -> 127.0.0.1:22"] = true
		}
	}
	describe := func(d map[string]any) string {
		return fmt.Sprintf("%s -> %s:%v", detection.LookupString(d, "process.name"), detection.LookupString(d, "destination.ip"), lookup(d, "destination.port"))
	}
	var docs []map[string]any
	var tunnels []string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(time.Second) {
		docs = readDocs(t, dir)
		tunnels = alertedBy(docs, "6476d874-283d-45bb-bc90-b0b9d1386e4e", describe)
		if len(tunnels) >= 2 {
			break
		}
	}
	time.Sleep(2 * time.Second) // an alert that should not be would show by now
	docs = readDocs(t, dir)
	tunnels = alertedBy(docs, "6476d874-283d-45bb-bc90-b0b9d1386e4e", describe)
	t.Logf("tunnel alerts: %q", tunnels)
	if len(tunnels) != 2 || slices.ContainsFunc(tunnels, func(s string) bool { return !want[s] }) || tunnels[0] == tunnels[1] {
		t.Errorf("tunnel alerts %q; want one of each site's worker to 127.0.0.1:22 (of %v)", tunnels, want)
	}
	// The API calls must be there, or their silence proves nothing.
	for i, s := range liveSites {
		api := fmt.Sprintf("127.0.0.1:%d", liveSites[1-i].port)
		if !slices.ContainsFunc(docs, func(d map[string]any) bool {
			return slices.Contains(s.parent, detection.LookupString(d, "process.name")) && strings.HasSuffix(describe(d), " -> "+api)
		}) {
			t.Errorf("%s: no connection event of its worker to %s", s.server, api)
		}
	}
	if outbound := alertedBy(docs, "7b80973f-9c21-49d2-8e9a-ddf5fad60cb3", describe); len(outbound) > 0 {
		t.Errorf("the servers' own connections alerted as a descendant's: %q", outbound)
	}
	stop()
}
