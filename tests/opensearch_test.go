package tests

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"webshellbeat/config"
	"webshellbeat/detection"
	"webshellbeat/detector"
	"webshellbeat/hunt"
	"webshellbeat/internal/testfiles"
)

// openSearch returns the node's URL (OPENSEARCH_URL, default
// http://127.0.0.1:9200). With no node answering the test is skipped, or
// fails when CI is set: CI starts one (testing/opensearch/run.sh).
func openSearch(t *testing.T) string {
	t.Helper()
	url := strings.TrimRight(os.Getenv("OPENSEARCH_URL"), "/")
	if url == "" {
		url = "http://127.0.0.1:9200"
	}
	c := http.Client{Timeout: 3 * time.Second}
	resp, err := c.Get(url + "/_cluster/health")
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			return url
		}
		err = fmt.Errorf("GET /_cluster/health: %s", resp.Status)
	}
	msg := fmt.Sprintf("no OpenSearch node at %s (%v): start one with `go run github.com/magefile/mage openSearch` or set OPENSEARCH_URL", url, err)
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// osDo sends one request with a JSON body (nil for none) and returns the
// status and the answer.
func osDo(t *testing.T, method, url string, body any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

// osCount counts the documents of index matching query (nil: all).
func osCount(t *testing.T, url, index string, query map[string]any) int {
	t.Helper()
	var body any
	if query != nil {
		body = map[string]any{"query": query}
	}
	status, out := osDo(t, http.MethodPost, url+"/"+index+"/_count", body)
	if status != http.StatusOK {
		t.Fatalf("_count %s %v: %d %s", index, query, status, out)
	}
	var r struct{ Count int }
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatal(err)
	}
	return r.Count
}

// osCountNow refreshes index and counts its documents matching query (nil:
// all), 0 while the index does not exist yet: for polling what a running
// beat has indexed so far.
func osCountNow(t *testing.T, url, index string, query map[string]any) int {
	t.Helper()
	osDo(t, http.MethodPost, url+"/"+index+"/_refresh", nil)
	var body any
	if query != nil {
		body = map[string]any{"query": query}
	}
	status, out := osDo(t, http.MethodPost, url+"/"+index+"/_count", body)
	var r struct{ Count int }
	if status != http.StatusOK || json.Unmarshal(out, &r) != nil {
		return 0
	}
	return r.Count
}

// source selects each record's own document, leaving out what the detector
// derived (see isDerived).
var source = map[string]any{"bool": map[string]any{"must_not": []any{
	map[string]any{"exists": map[string]any{"field": "webshell.update_of"}},
	map[string]any{"terms": map[string]any{"event.dataset": []string{"webshellbeat.correlation", "webshellbeat.session"}}},
}}}

func both(a, b map[string]any) map[string]any {
	return map[string]any{"bool": map[string]any{"filter": []any{a, b}}}
}

func term(field string, value any) map[string]any {
	return map[string]any{"term": map[string]any{field: value}}
}

// TestOpenSearch indexes real samples through the beat's Elasticsearch
// output into a real OpenSearch node, then searches them back and compares
// with hunt over the same files.
func TestOpenSearch(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the beat binary against OpenSearch")
	}
	url := openSearch(t)
	audit := abs(t, "linux-capture/audit.log")
	apache := abs(t, "linux-capture/apache_access.log")
	nginx := abs(t, "linux-capture/nginx_access.log")
	xml := abs(t, "seed/security-4688.xml")
	// An Apache error log with a web shell's command errors in it, so that
	// the error log fields are indexed (and checked against fields.yml).
	errorLog := filepath.Join(t.TempDir(), "error.log")
	if err := os.WriteFile(errorLog, []byte(`[Wed Nov 25 10:00:00.000001 2026] [core:notice] [pid 1:tid 1] AH00094: Command line: '/usr/sbin/apache2'
[Wed Nov 25 10:05:00.000002 2026] [php:warn] [pid 9:tid 9] [client 203.0.113.9:4242] PHP Warning:  Undefined array key "c" in /var/www/html/uploads/x.php on line 1
sh: 1: nc: not found
sh: 0: can't access tty; job control turned off
`), 0o644); err != nil {
		t.Fatal(err)
	}

	// An nginx container's output as Kubernetes keeps it, so that the
	// container fields are indexed too.
	pod := filepath.Join(t.TempDir(), "web-5c9f-abcde_shop_nginx-"+strings.Repeat("5e", 32)+".log")
	testfiles.Copy(t, "../module/container/testdata/nginx-cri.log", pod)
	// php-fpm's own log with a web shell's caught output (php_fpm.pool.name).
	fpmLog := filepath.Join(t.TempDir(), "php8.2-fpm.log")
	testfiles.Copy(t, "../module/errorlog/testdata/php-fpm.log", fpmLog)

	// Web shell requests with parameter names that are no field names ("."
	// and "" and "a..b"): OpenSearch refused a document whose
	// webshell.url.params held one, alert and all; the map is now kept
	// unindexed.
	oddParams := filepath.Join(t.TempDir(), "access.log")
	testfiles.Write(t, oddParams, `203.0.113.66 - - [25/Nov/2026:10:06:00 +0000] "GET /uploads/x.php?cmd=whoami&.=1 HTTP/1.1" 200 12 "-" "curl/8.5.0"
203.0.113.66 - - [25/Nov/2026:10:06:01 +0000] "GET /uploads/x.php?=1&a..b=2&+=3&cmd=uname+-a HTTP/1.1" 200 12 "-" "curl/8.5.0"
`)

	// hunt over the same files: events, alert documents, alerts per rule.
	wantEvents, wantPerRule := huntCounts(t, audit, apache, nginx, xml, errorLog, pod, fpmLog, oddParams)
	det, err := detector.New(config.Default())
	if err != nil {
		t.Fatal(err)
	}
	// Each record's own alert document. The documents the detector derives
	// (updated copies, correlation and upload alerts) depend on the order in
	// which the beat's inputs deliver events, which differs from hunt's
	// event-time order: they are checked apart below.
	var alerts []map[string]any
	if _, err := hunt.Run([]string{audit, apache, nginx, xml, errorLog, pod, fpmLog, oddParams}, det, func(d map[string]any) {
		if !isDerived(d) {
			alerts = append(alerts, d)
		}
	}, nil); err != nil {
		t.Fatal(err)
	}

	// A fresh start on a node that may have served an earlier run.
	osDo(t, http.MethodDelete, url+"/_data_stream/logs-webshellbeat.*", nil)
	osDo(t, http.MethodDelete, url+"/_index_template/logs-webshellbeat.*", nil)
	t.Cleanup(func() {
		osDo(t, http.MethodDelete, url+"/_data_stream/logs-webshellbeat.*", nil)
		osDo(t, http.MethodDelete, url+"/_index_template/logs-webshellbeat.*", nil)
	})

	dir := t.TempDir()
	httpPort := freePort(t)
	cfg := sampleInputs("", audit, apache, nginx, xml) + fmt.Sprintf(`- type: filestream
  id: apache-error
  paths: [%q]
  prospector.scanner.fingerprint.enabled: false
  processors:
    - decode_error_log: {server: apache, timezone: UTC}
- type: filestream
  id: nginx-container
  paths: [%q]
  prospector.scanner.fingerprint.enabled: false
  parsers: [container: ~]
  processors:
    - decode_container_log: {server: nginx}
- type: filestream
  id: php-fpm
  paths: [%q]
  prospector.scanner.fingerprint.enabled: false
  processors:
    - decode_error_log: {server: php_fpm, timezone: UTC}
- type: filestream
  id: odd-params
  paths: [%q]
  prospector.scanner.fingerprint.enabled: false
  processors:
    - decode_access_log: {server: apache}
`, errorLog, pod, fpmLog, oddParams) + fmt.Sprintf(`processors:
  - add_document_id: ~
  - webshell: {events: all}
queue.mem.flush.timeout: 100ms
output.elasticsearch:
  hosts: [%q]
http.enabled: true
http.host: 127.0.0.1
http.port: %d
path.data: %q
path.logs: %q
`, url, httpPort, filepath.Join(dir, "data"), filepath.Join(dir, "logs"))
	cfgPath := writeConfig(t, dir, cfg)
	t.Cleanup(func() {
		if t.Failed() {
			logs, _ := filepath.Glob(filepath.Join(dir, "beat-*.log"))
			for _, l := range logs {
				b, _ := os.ReadFile(l)
				lines := strings.Split(string(b), "\n")
				var keep []string
				for _, line := range lines {
					if strings.Contains(line, `"log.level":"error"`) || strings.Contains(line, `"log.level":"warn"`) {
						keep = append(keep, line)
					}
				}
				if len(keep) > 20 {
					keep = keep[:20]
				}
				t.Logf("beat log %s, warnings and errors:\n%s", l, strings.Join(keep, "\n"))
			}
		}
	})

	// The beat's own templates (ILM is on by default and skipped on
	// OpenSearch without being told).
	setup := exec.Command(binary, "setup", "--index-management", "--strict.perms=false", "-c", cfgPath, "--path.home", dir)
	if out, err := setup.CombinedOutput(); err != nil || !strings.Contains(string(out), "Index setup finished") {
		t.Fatalf("setup --index-management: %v\n%s", err, out)
	}
	for _, st := range []string{"logs-webshellbeat.alert", "logs-webshellbeat.event"} {
		if status, out := osDo(t, http.MethodGet, url+"/_index_template/"+st, nil); status != http.StatusOK {
			t.Fatalf("template %s after setup: %d %s", st, status, out)
		}
	}

	count := func() int {
		osDo(t, http.MethodPost, url+"/logs-webshellbeat.*/_refresh", nil)
		status, out := osDo(t, http.MethodPost, url+"/logs-webshellbeat.*/_count", map[string]any{"query": source})
		var r struct{ Count int }
		if status != http.StatusOK || json.Unmarshal(out, &r) != nil {
			return 0
		}
		return r.Count
	}
	start := time.Now()
	runBeat(t, cfgPath, dir, func() bool { return count() >= wantEvents })
	t.Logf("beat indexed %d documents into OpenSearch in %s (including 4 s of idle wait)", count(), time.Since(start).Round(time.Millisecond))

	const alertDS, eventDS = "logs-webshellbeat.alert-default", "logs-webshellbeat.event-default"
	if n := count(); n != wantEvents {
		t.Fatalf("OpenSearch holds %d documents, hunt read %d events", n, wantEvents)
	}
	// Both are data streams, not plain indices.
	status, out := osDo(t, http.MethodGet, url+"/_data_stream/logs-webshellbeat.*", nil)
	if status != http.StatusOK || !strings.Contains(string(out), alertDS) || !strings.Contains(string(out), eventDS) {
		t.Errorf("data streams: %d %s", status, out)
	}

	isAlert := term("event.kind", "alert")
	if n := osCount(t, url, alertDS, both(source, isAlert)); n != len(alerts) {
		t.Errorf("%d event.kind:alert documents in %s, hunt found %d alerts", n, alertDS, len(alerts))
	}
	if n := osCount(t, url, alertDS, source); n != len(alerts) {
		t.Errorf("%s holds %d documents, want only the %d alerts", alertDS, n, len(alerts))
	}
	if n := osCount(t, url, eventDS, isAlert); n != 0 {
		t.Errorf("%d alerts in %s", n, eventDS)
	}

	// Alerts per rule: a terms aggregation on rule.id against hunt.
	status, out = osDo(t, http.MethodPost, url+"/"+alertDS+"/_search", map[string]any{
		"size":  0,
		"query": source,
		"aggs":  map[string]any{"rules": map[string]any{"terms": map[string]any{"field": "rule.id", "size": 1000}}},
	})
	if status != http.StatusOK {
		t.Fatalf("rule.id aggregation: %d %s", status, out)
	}
	var agg struct {
		Aggregations struct {
			Rules struct {
				Buckets []struct {
					Key      string
					DocCount int `json:"doc_count"`
				}
			}
		}
	}
	if err := json.Unmarshal(out, &agg); err != nil {
		t.Fatal(err)
	}
	perRule := map[string]int{}
	for _, b := range agg.Aggregations.Rules.Buckets {
		perRule[b.Key] = b.DocCount
	}
	if !maps.Equal(perRule, wantPerRule) {
		t.Errorf("alerts per rule.id: OpenSearch %v, hunt %v", perRule, wantPerRule)
	}

	if n := osCount(t, url, alertDS, both(source, term("source.ip", "203.0.113.66"))); n != 2 {
		t.Errorf("%d alerts of the requests with odd parameter names, want 2", n)
	}

	// The upload of shell.php and its first use: one derived alert.
	if n := osCount(t, url, alertDS, term("rule.id", "2f6c1a4e-8d3b-4f7a-9c2e-5b1d0e7a3c91")); n != 1 {
		t.Errorf("%d upload-then-execute alerts, want 1", n)
	}

	// Every field the engine mapped has the type fields.yml declares: nothing
	// mapped dynamically, no conflict between the two streams.
	checkMappings(t, url)

	// Re-running the same files with a fresh registry adds no document:
	// every _id is the same, the node answers 409, the beat counts
	// duplicates.
	before := count()
	if err := os.RemoveAll(filepath.Join(dir, "data")); err != nil {
		t.Fatal(err)
	}
	runBeat(t, cfgPath, dir, func() bool {
		st := beatStats(httpPort)
		return st.Acked+st.Duplicates >= int64(wantEvents)
	})
	if n := count(); n != before {
		t.Errorf("re-running the same files: %d documents, was %d", n, before)
	}

	// Queries by a field value return exactly the alerts hunt has with it.
	for _, field := range []string{"rule.id", "process.parent.name", "threat.technique.subtechnique.id"} {
		want := map[string]int{}
		for _, a := range alerts {
			for _, v := range values(a, field) {
				want[v]++
			}
		}
		if len(want) == 0 {
			t.Errorf("hunt's alerts have no %s: pick samples that do", field)
		}
		for v, n := range want {
			if got := osCount(t, url, alertDS, both(source, term(field, v))); got != n {
				t.Errorf("%s: %q matches %d alerts, hunt has %d", field, v, got, n)
			}
		}
	}

	// Sessions: as many in OpenSearch as hunt finds, of the same sizes.
	var huntSessions []string
	for _, a := range alerts {
		huntSessions = append(huntSessions, values(a, "webshell.session.id")...)
	}
	if len(huntSessions) == 0 {
		t.Fatal("hunt's alerts carry no webshell.session.id")
	}
	status, out = osDo(t, http.MethodPost, url+"/"+alertDS+"/_search", map[string]any{
		"size": 0, "query": source,
		"aggs": map[string]any{"s": map[string]any{"terms": map[string]any{"field": "webshell.session.id", "size": 1000}}},
	})
	var sagg struct {
		Aggregations struct {
			S struct {
				Buckets []struct {
					Key      string
					DocCount int `json:"doc_count"`
				}
			}
		}
	}
	if status != http.StatusOK || json.Unmarshal(out, &sagg) != nil {
		t.Fatalf("session aggregation: %d %s", status, out)
	}
	var osSessions []string
	for _, b := range sagg.Aggregations.S.Buckets {
		for range b.DocCount {
			osSessions = append(osSessions, b.Key)
		}
	}
	if got, want := sessionSizes(osSessions), sessionSizes(huntSessions); !slices.Equal(got, want) {
		t.Errorf("alerts per session: OpenSearch %v, hunt %v", got, want)
	}
}

// sessionSizes is the sorted list of alert counts per webshell.session.id:
// the ids themselves hash the host name, which the beat adds and hunt over
// files does not know, so sessions are compared by their shape.
func sessionSizes(ids []string) []int {
	per := map[string]int{}
	for _, id := range ids {
		per[id]++
	}
	sizes := slices.Collect(maps.Values(per))
	slices.Sort(sizes)
	return sizes
}

// values returns the string values of a field (one or a list).
func values(doc map[string]any, field string) []string {
	v, ok := detection.Lookup(doc, field)
	if !ok {
		return nil
	}
	switch x := v.(type) {
	case string:
		return []string{x}
	case []string:
		return x
	case []any:
		var out []string
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// A document the cluster refuses goes to the dead letter index the shipped
// webshellbeat.yml names, whole and with the reason, instead of being
// dropped: here every event of an input whose source.ip a processor makes
// no address (OpenSearch's mapping takes only addresses there).
func TestDeadLetterIndex(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the beat binary against OpenSearch")
	}
	url := openSearch(t)
	raw, err := os.ReadFile("../webshellbeat.yml")
	if err != nil {
		t.Fatal(err)
	}
	var shipped struct {
		ES map[string]any `yaml:"output.elasticsearch"`
	}
	if err := yaml.Unmarshal(raw, &shipped); err != nil {
		t.Fatal(err)
	}
	index, _ := shipped.ES["non_indexable_policy.dead_letter_index.index"].(string)
	if index == "" {
		t.Fatalf("the shipped webshellbeat.yml names no dead letter index: %v", shipped.ES)
	}
	osDo(t, http.MethodDelete, url+"/"+index, nil)
	osDo(t, http.MethodDelete, url+"/_data_stream/logs-webshellbeat.*", nil)
	t.Cleanup(func() {
		osDo(t, http.MethodDelete, url+"/"+index, nil)
		osDo(t, http.MethodDelete, url+"/_data_stream/logs-webshellbeat.*", nil)
	})

	dir := t.TempDir()
	access := filepath.Join(dir, "access.log")
	testfiles.Write(t, access, `203.0.113.7 - - [26/Nov/2026:10:00:01 +0000] "GET /uploads/shell.php?cmd=whoami HTTP/1.1" 200 31 "-" "curl/8.5.0"
203.0.113.8 - - [26/Nov/2026:10:00:02 +0000] "GET /index.php HTTP/1.1" 200 31 "-" "curl/8.5.0"
`)
	cfgPath := writeConfig(t, dir, fmt.Sprintf(`webshellbeat.inputs:
- type: filestream
  id: poisoned
  paths: [%q]
  prospector.scanner.fingerprint.length: 64
  processors:
    - decode_access_log: {server: apache}
    - add_fields: {target: "", fields: {source.ip: "not-an-address"}}
processors:
  - add_document_id: ~
  - webshell: {events: all}
queue.mem.flush.timeout: 100ms
output.elasticsearch:
  hosts: [%q]
  non_indexable_policy.dead_letter_index.index: %q
path.data: %q
path.logs: %q
`, access, url, index, filepath.Join(dir, "data"), filepath.Join(dir, "logs")))
	count := func() int { return osCountNow(t, url, index, nil) }
	runBeat(t, cfgPath, dir, func() bool { return count() >= 2 })
	if n := count(); n != 2 {
		t.Fatalf("%d documents in %s, want the 2 refused", n, index)
	}
	status, out := osDo(t, http.MethodPost, url+"/"+index+"/_search", map[string]any{"size": 10})
	var res struct {
		Hits struct {
			Hits []struct {
				Source map[string]any `json:"_source"`
			}
		}
	}
	if status != http.StatusOK || json.Unmarshal(out, &res) != nil {
		t.Fatalf("search %s: %d %s", index, status, out)
	}
	alerts := 0
	for _, h := range res.Hits.Hits {
		msg, _ := h.Source["message"].(string)
		reason, _ := h.Source["error.message"].(string)
		if !strings.Contains(reason, "source.ip") || !strings.Contains(msg, `"url":{`) {
			t.Errorf("dead letter document without the original or the reason: %v", h.Source)
		}
		if strings.Contains(msg, `"kind":"alert"`) {
			alerts++
		}
	}
	if alerts != 1 {
		t.Errorf("%d alerts among the refused documents, want the web shell request's", alerts)
	}
}
