//go:build linux

package tests

import (
	"fmt"
	"maps"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"webshellbeat/module/accesslog"
)

// TestLiveNginxJSONLog drives the live nginx, which .ci/linux-e2e.sh has
// write each request three times: the combined log, a JSON log of nginx's
// variable names with escape=json, and a JSON log of other key names with
// nginx's default escaping (\xHH, which is not JSON). Each request must map
// to the same document from both JSON logs and, but for the escaped header
// values, from the combined line; the JSON logs give the headers as sent.
func TestLiveNginxJSONLog(t *testing.T) {
	fpm := liveReady(t)
	logs := []string{liveSites[1].log, "/var/log/nginx/wsb-access.json", "/var/log/nginx/wsb-access-parts.json"}
	offsets := make([]int64, len(logs))
	for i, p := range logs {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatalf("%v (run .ci/linux-e2e.sh again: it configures the JSON logs)", err)
		}
		offsets[i] = fi.Size()
	}
	startServers(t, fpm)

	const agent = `Mozilla "quoted" \ back é`
	base := fmt.Sprintf("http://127.0.0.1:%d", liveSites[1].port)
	reqs := [][]string{
		{base + "/"},
		{base + "/index.php?page=1&sort=name"},
		{"-d", "user=bob&password=hunter2", base + "/login.php"},
		{"-A", agent, "-e", `http://ref.example/"q"`, base + "/uploads/avatar.php?c=cat%20/etc/passwd"},
		{base + "/%e4%bd%a0.php?x=%22&c=whoami"},
	}
	for _, r := range reqs {
		curl(t, append([]string{"-o", "/dev/null"}, r...)...)
	}

	var lines [3][]string
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		for i, p := range logs {
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			lines[i] = strings.Split(strings.TrimSpace(string(b[offsets[i]:])), "\n")
		}
		if len(lines[0]) == len(reqs) && len(lines[1]) == len(reqs) && len(lines[2]) == len(reqs) || time.Now().After(deadline) {
			break
		}
	}
	for i := range lines {
		if len(lines[i]) != len(reqs) {
			t.Fatalf("%s: %d new lines for %d requests:\n%s", logs[i], len(lines[i]), len(reqs), strings.Join(lines[i], "\n"))
		}
	}
	for n := range reqs {
		combined, err := accesslog.ParseCombined(lines[0][n], accesslog.WithServer("nginx"))
		if err != nil {
			t.Fatalf("combined %q: %v", lines[0][n], err)
		}
		vars, err := accesslog.ParseJSON(lines[1][n])
		if err != nil {
			t.Fatalf("escape=json %q: %v", lines[1][n], err)
		}
		parts, err := accesslog.ParseJSON(lines[2][n])
		if err != nil {
			t.Fatalf("default escapes %q: %v", lines[2][n], err)
		}
		if !reflect.DeepEqual(vars, parts) {
			t.Errorf("request %d: the two JSON logs differ:\n%s\n%v\n%s\n%v", n, lines[1][n], vars, lines[2][n], parts)
		}
		if strings.Contains(lines[0][n], `\x`) {
			if got := lookup(vars, "user_agent.original"); got != agent {
				t.Errorf("request %d: user_agent.original %q, want the header as sent, %q", n, got, agent)
			}
			if got := lookup(vars, "http.request.referrer"); got != `http://ref.example/"q"` {
				t.Errorf("request %d: http.request.referrer %q", n, got)
			}
			// The combined line keeps nginx's escapes, as filebeat's nginx
			// module does; compare the rest.
			for _, d := range []map[string]any{combined, vars} {
				delete(d, "user_agent")
				d["http"] = maps.Clone(d["http"].(map[string]any))
				d["http"].(map[string]any)["request"] = map[string]any{"method": lookup(d, "http.request.method")}
			}
		}
		if !reflect.DeepEqual(combined, vars) {
			t.Errorf("request %d: combined and JSON differ:\n%s\n%v\n%s\n%v", n, lines[0][n], combined, lines[1][n], vars)
		}
	}
	t.Logf("%d requests: the combined line, the escape=json object and the default-escaped object map alike", len(reqs))
}
