package modsec

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"webshellbeat/detection"
	"webshellbeat/internal/golden"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.json")

// entries cuts a Serial audit log into its entries, as hunt's reader does.
func entries(t *testing.T, path string) []string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	var b strings.Builder
	for _, line := range strings.SplitAfter(string(raw), "\n") {
		if Section(strings.TrimRight(line, "\n")) == "A" && b.Len() > 0 {
			out = append(out, b.String())
			b.Reset()
		}
		b.WriteString(line)
	}
	return append(out, b.String())
}

func parseAll(t *testing.T, path string) []map[string]any {
	t.Helper()
	var docs []map[string]any
	for i, e := range entries(t, path) {
		d, err := Parse(e)
		if err != nil {
			t.Fatalf("%s entry %d: %v", path, i+1, err)
		}
		docs = append(docs, d)
	}
	return docs
}

// Every entry of a real audit log (SecAuditEngine On: six requests, an
// upload, three web shell commands, two pages) as reviewed once.
func TestGolden(t *testing.T) {
	golden.JSON(t, "apache-audit-on", parseAll(t, "testdata/apache-audit-on.log"), *update)
}

// The form body's parameters are read as the query's are, decoded; the
// response body (the command's output), the CRS rules that matched and a
// multipart upload's file names are kept.
func TestBodiesAndRules(t *testing.T) {
	docs := parseAll(t, "testdata/apache-audit-relevantonly.log")
	if len(docs) != 2 {
		t.Fatalf("%d entries, want 2", len(docs))
	}
	upload, command := docs[0], docs[1]
	if got := detection.LookupStrings(upload, "modsec.audit.files"); !slices.Equal(got, []string{"shell.php"}) {
		t.Errorf("upload: files %q", got)
	}
	if got := detection.LookupStrings(command, "webshell.body.param_values"); !slices.Equal(got, []string{"cat /etc/passwd | head -2"}) {
		t.Errorf("command: body values %q", got)
	}
	for path, want := range map[string]string{
		"url.path":                   "/uploads/shell.php",
		"url.domain":                 "wsb-apache.localhost",
		"http.request.method":        "POST",
		"http.request.body.content":  "cmd=cat+%2Fetc%2Fpasswd+%7C+head+-2",
		"http.response.body.content": "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin",
		"transaction.id":             "awh6PF6YXlhoceocmLSxdQAAAAQ",
		"source.ip":                  "127.0.0.1",
		"modsec.audit.engine_mode":   "DETECTION_ONLY",
	} {
		if got := detection.LookupString(command, path); got != want {
			t.Errorf("command: %s = %q, want %q", path, got, want)
		}
	}
	if ids := detection.LookupStrings(command, "modsec.audit.rule_ids"); !slices.Contains(ids, "932160") {
		t.Errorf("command: rule ids %q, want CRS's 932160 among them", ids)
	}
	if code, _ := detection.Lookup(command, "http.response.status_code"); code != int64(200) {
		t.Errorf("command: status %v", code)
	}
}

// An entry cut short keeps what it has and says so; one that is no entry,
// or whose header is bad, is an error that says where and why.
func TestBadEntries(t *testing.T) {
	whole := entries(t, "testdata/apache-audit-relevantonly.log")[1]
	cut := whole[:strings.Index(whole, "-F--")]
	d, err := Parse(cut)
	if err != nil || detection.LookupString(d, "url.path") != "/uploads/shell.php" || !strings.Contains(detection.LookupString(d, "error.message"), "cut short") {
		t.Errorf("cut entry: %v, error.message %q", err, detection.LookupString(d, "error.message"))
	}
	for name, tc := range map[string]struct{ entry, want string }{
		"no boundary": {"hello\n", "text before the first section boundary"},
		"no A":        {"--abcdef12-B--\nGET / HTTP/1.1\n--abcdef12-Z--\n", "no A section"},
		"bad time":    {"--abcdef12-A--\n[yesterday] x 1.2.3.4 1 5.6.7.8 80\n--abcdef12-Z--\n", "A section: time"},
		"short A":     {"--abcdef12-A--\n[26/Nov/2026:18:28:10 +0000] x 1.2.3.4\n--abcdef12-Z--\n", "want the unique id"},
		"two entries": {"--abcdef12-A--\n[26/Nov/2026:18:28:10 +0000] x 1.2.3.4 1 5.6.7.8 80\n--99999999-B--\n", "inside entry abcdef12"},
	} {
		if _, err := Parse(tc.entry); err == nil || !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", name, err, tc.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, p := range []string{"testdata/apache-audit-on.log", "testdata/apache-audit-relevantonly.log"} {
		raw, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(raw))
	}
	f.Fuzz(func(t *testing.T, entry string) {
		d, err := Parse(entry)
		if err == nil && d["@timestamp"] == nil {
			t.Errorf("no time and no error: %v", d)
		}
	})
}

// libmodsecurity 3 (nginx's connector; a real log) writes the same
// sections with "---" around its boundaries' ids, its body in C (I is
// empty), its response body with \xHH escapes, a status line without its
// reason and its trailer's rule lines as "ModSecurity: ...".
func TestLibModSecurity3(t *testing.T) {
	docs := parseAll(t, "testdata/nginx-libmodsecurity3-serial.log")
	if len(docs) != 5 {
		t.Fatalf("%d entries, want 5", len(docs))
	}
	d := docs[1]
	for path, want := range map[string]string{
		"@timestamp":                 "2026-11-26 19:02:10 +0000 UTC",
		"url.path":                   "/uploads/shell.php",
		"transaction.id":             "179571973058.099998",
		"http.request.body.content":  "cmd=whoami",
		"http.response.body.content": "www-data",
		"modsec.audit.rule_ids":      "100001",
	} {
		v, _ := detection.Lookup(d, path)
		got := fmt.Sprint(v)
		if s, ok := v.([]string); ok {
			got = strings.Join(s, "|")
		}
		if got != want {
			t.Errorf("%s = %q, want %q", path, got, want)
		}
	}
	if code, _ := detection.Lookup(d, "http.response.status_code"); code != int64(200) {
		t.Errorf("status %v, want 200 from a status line without its reason", code)
	}
	if got := detection.LookupStrings(docs[2], "webshell.body.param_values"); !slices.Equal(got, []string{"cat /etc/passwd | head -2"}) {
		t.Errorf("body values %q", got)
	}
}

// jsonDocs maps each line of a JSON format audit log.
func jsonDocs(t *testing.T, path string) (docs []map[string]any, zoned []bool) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for i, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil || !IsJSON(m) {
			t.Fatalf("%s:%d: %v, IsJSON %v", path, i+1, err, IsJSON(m))
		}
		d, z, err := FromJSON(m, time.UTC)
		if err != nil {
			t.Fatalf("%s:%d: %v", path, i+1, err)
		}
		docs, zoned = append(docs, d), append(zoned, z)
	}
	return docs, zoned
}

// The JSON format of both writers (real logs of the same requests) maps to
// what the native format gives: the POST's form, the command's output,
// the status, the site; libmodsecurity 3's time names no zone.
func TestJSONFormat(t *testing.T) {
	for _, tc := range []struct {
		file, domain string
		zoned        bool
	}{
		{"testdata/apache-audit.json", "wsb-modsec.localhost", true},
		{"testdata/nginx-libmodsecurity3.json", "127.0.0.1", false},
	} {
		docs, zoned := jsonDocs(t, tc.file)
		if len(docs) != 5 || zoned[0] != tc.zoned {
			t.Fatalf("%s: %d entries, zoned %v; want 5, %v", tc.file, len(docs), zoned[0], tc.zoned)
		}
		d := docs[1]
		for path, want := range map[string]string{
			"http.request.method":        "POST",
			"url.path":                   "/uploads/shell.php",
			"url.domain":                 tc.domain,
			"http.request.body.content":  "cmd=whoami",
			"http.response.body.content": "www-data",
			"http.version":               "1.1",
			"source.ip":                  "127.0.0.1",
		} {
			if got := detection.LookupString(d, path); got != want {
				t.Errorf("%s: %s = %q, want %q", tc.file, path, got, want)
			}
		}
		if got := detection.LookupStrings(d, "webshell.body.param_values"); !slices.Equal(got, []string{"whoami"}) {
			t.Errorf("%s: body values %q", tc.file, got)
		}
		if code, _ := detection.Lookup(d, "http.response.status_code"); code != int64(200) {
			t.Errorf("%s: status %v", tc.file, code)
		}
		if got := detection.LookupStrings(docs[3], "webshell.url.param_values"); !slices.Equal(got, []string{"id"}) {
			t.Errorf("%s: GET ?cmd=id: query values %q", tc.file, got)
		}
	}
	docs, _ := jsonDocs(t, "testdata/nginx-libmodsecurity3.json")
	if ids := detection.LookupStrings(docs[1], "modsec.audit.rule_ids"); !slices.Equal(ids, []string{"100001"}) {
		t.Errorf("libmodsecurity 3 JSON: rule ids %q", ids)
	}
	if _, _, err := FromJSON(map[string]any{"transaction": map[string]any{"unique_id": "x", "time_stamp": "yesterday", "request": map[string]any{}}}, time.UTC); err == nil || !errors.Is(err, ErrMalformed) {
		t.Errorf("a bad time: %v", err)
	}
}

func FuzzFromJSON(f *testing.F) {
	for _, p := range []string{"testdata/apache-audit.json", "testdata/nginx-libmodsecurity3.json"} {
		raw, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
			f.Add([]byte(line))
		}
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		var m map[string]any
		if json.Unmarshal(line, &m) != nil || !IsJSON(m) {
			return
		}
		if d, _, err := FromJSON(m, time.UTC); err == nil && d["@timestamp"] == nil {
			t.Errorf("no time and no error: %v", d)
		}
	})
}
