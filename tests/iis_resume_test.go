package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"webshellbeat/detection"
	"webshellbeat/internal/testfiles"
)

// iisFields is a #Fields header an IIS administrator writes by enabling
// cs-host, sc-bytes, cs-bytes and X-Forwarded-For (a site behind a load
// balancer): IIS's default layout has 15 columns, this one 19.
const iisFields = "#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) cs-host sc-status sc-substatus sc-win32-status sc-bytes cs-bytes time-taken X-Forwarded-For"

func iisLines(from, to int) string {
	var b strings.Builder
	for i := from; i < to; i++ {
		fmt.Fprintf(&b, "2026-11-27 10:%02d:%02d 10.0.0.5 GET /app/page%d.aspx id=%d 443 - 10.0.0.2 Mozilla/5.0 - shop.example.com 200 0 0 5120 410 12 203.0.113.%d\r\n",
			i/60, i%60, i, i, i%250+1)
	}
	return b.String()
}

// An IIS log declares its columns once, in the #Fields header at the top of
// the file (and again after each restart of IIS). When the beat stops in
// the middle of a file and starts again, it resumes after the header: the
// columns must still be the header's, not IIS's default ones.
func TestIISResumeKeepsFieldsHeader(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the beat binary")
	}
	dir, cfgPath := shippedHome(t)
	logs := t.TempDir()
	log := filepath.Join(logs, "W3SVC1", "u_ex261127.log")
	if err := os.MkdirAll(filepath.Dir(log), 0o755); err != nil {
		t.Fatal(err)
	}
	header := "#Software: Microsoft Internet Information Services 10.0\r\n#Version: 1.0\r\n#Date: 2026-11-27 10:00:00\r\n" + iisFields + "\r\n"
	if err := os.WriteFile(log, []byte(header+iisLines(0, 40)), 0o644); err != nil {
		t.Fatal(err)
	}
	args := append(fileOutputFlags(dir), "--modules", "iis", "-M", fmt.Sprintf("iis.paths=[%q]", filepath.Join(logs, "W3SVC*", "*.log")))
	events := func() []map[string]any {
		var out []map[string]any
		for _, d := range readDocs(t, dir) {
			if !isDerived(d) {
				out = append(out, d)
			}
		}
		return out
	}
	runBeat(t, cfgPath, dir, func() bool { return len(events()) >= 40 }, args...)
	if n := len(events()); n != 40 {
		t.Fatalf("first run: %d events, want 40", n)
	}
	testfiles.Append(t, log, iisLines(40, 80))
	runBeat(t, cfgPath, dir, func() bool { return len(events()) >= 80 }, args...)
	got := events()
	if len(got) != 80 {
		t.Errorf("%d events after the restart, want 80", len(got))
	}
	seen := map[string]bool{}
	for _, d := range got {
		path := detection.LookupString(d, "url.path")
		if msg := detection.LookupString(d, "error.message"); msg != "" {
			t.Errorf("%s: error.message %q", path, msg)
			continue
		}
		seen[path] = true
		host := detection.LookupString(d, "url.domain")
		if _, fwd := detection.Lookup(d, "iis.access.remote_ip_list"); host != "shop.example.com" || !fwd {
			t.Errorf("%s: url.domain %q, iis.access.remote_ip_list set %v: not read by the file's #Fields header", path, host, fwd)
		}
	}
	for i := range 80 {
		if p := fmt.Sprintf("/app/page%d.aspx", i); !seen[p] {
			t.Errorf("no event of %s", p)
		}
	}
}
