package tests

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// hunt --format bulk --events, posted as it is to a real OpenSearch node's
// _bulk (as `curl --data-binary @case.bulk`) under the beat's own
// templates: every document is indexed, none refused by the mapping, the
// alerts into the alert data stream of the namespace given and the events
// into the event one, a Tomcat stack trace's identical lines each its own
// document; posting it again adds nothing (each create is refused as a
// conflict on its _id).
func TestHuntBulk(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the beat binary against OpenSearch")
	}
	url := openSearch(t)
	const alertStream, eventStream = "logs-webshellbeat.alert-huntcase", "logs-webshellbeat.event-huntcase"
	osDo(t, http.MethodDelete, url+"/_data_stream/logs-webshellbeat.*", nil)
	osDo(t, http.MethodDelete, url+"/_index_template/logs-webshellbeat.*", nil)
	t.Cleanup(func() {
		osDo(t, http.MethodDelete, url+"/_data_stream/logs-webshellbeat.*", nil)
		osDo(t, http.MethodDelete, url+"/_index_template/logs-webshellbeat.*", nil)
	})
	dir, cfgPath := shippedHome(t)
	setup := exec.Command(binary, "setup", "--index-management", "--strict.perms=false", "-c", cfgPath, "--path.home", dir,
		"-E", "output.elasticsearch.hosts=["+url+"]")
	if out, err := setup.CombinedOutput(); err != nil || !strings.Contains(string(out), "Index setup finished") {
		t.Fatalf("setup --index-management: %v\n%s", err, out)
	}

	// Windows and Linux process alerts, request, ModSecurity and error log alerts (the
	// samples hold no file twice: the same record in two files would be
	// one document, rightly).
	paths := []string{"../testdata/samples", "../module/errorlog/testdata/php-fpm.log", "../module/errorlog/testdata/tomcat-localhost.log",
		"../module/modsec/testdata/apache-audit-on.log"}
	var stderr bytes.Buffer
	cmd := exec.Command(binary, append([]string{"hunt", "--format", "bulk", "--events", "--namespace", "huntcase"}, paths...)...)
	cmd.Stderr = &stderr
	bulk, err := cmd.Output()
	if err != nil {
		t.Fatalf("hunt --format bulk: %v\n%s", err, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(string(bulk)), "\n")
	if len(lines) < 300 || len(lines)%2 != 0 {
		t.Fatalf("hunt --format bulk: %d lines, want pairs of action and document, 150 documents or more", len(lines))
	}
	docs, alerts := len(lines)/2, 0
	for i := 0; i < len(lines); i += 2 {
		if strings.Contains(lines[i], alertStream) {
			alerts++
		}
	}

	post := func() (conflicts int) {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, url+"/_bulk?refresh=true", bytes.NewReader(bulk))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-ndjson")
		resp, err := (&http.Client{Timeout: 60 * time.Second}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var r struct {
			Items []map[string]struct {
				Index  string `json:"_index"`
				Status int    `json:"status"`
				Error  any    `json:"error"`
			}
		}
		if err := json.NewDecoder(resp.Body).Decode(&r); err != nil || resp.StatusCode != http.StatusOK || len(r.Items) != docs {
			t.Fatalf("_bulk: %s, %d items for %d documents, %v", resp.Status, len(r.Items), docs, err)
		}
		for i, item := range r.Items {
			c := item["create"]
			switch {
			case c.Status == http.StatusConflict:
				conflicts++
			case c.Status != http.StatusCreated || !strings.Contains(c.Index, alertStream) && !strings.Contains(c.Index, eventStream):
				t.Errorf("document %d: %d into %q: %v\n%s", i, c.Status, c.Index, c.Error, lines[2*i+1])
			}
		}
		return conflicts
	}
	counts := func(when string) {
		t.Helper()
		if n := osCount(t, url, alertStream, nil); n != alerts {
			t.Errorf("%s holds %d documents %s, want the %d alerts", alertStream, n, when, alerts)
		}
		if n := osCount(t, url, eventStream, nil); n != docs-alerts {
			t.Errorf("%s holds %d documents %s, want the %d events", eventStream, n, when, docs-alerts)
		}
	}
	if conflicts := post(); conflicts != 0 {
		t.Errorf("first load: %d of %d documents refused as conflicts: two documents share an _id", conflicts, docs)
	}
	counts("after the first load")
	if conflicts := post(); conflicts != docs {
		t.Errorf("second load: %d of %d documents refused as conflicts, want all", conflicts, docs)
	}
	counts("after loading the same output twice")
	// Every field hunt wrote is mapped as fields.yml declares it (none
	// dynamically): the templates hold ModSecurity's body parameters as
	// they hold the query's, unindexed.
	checkMappings(t, url)
}
