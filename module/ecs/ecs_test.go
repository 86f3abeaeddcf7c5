package ecs

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"webshellbeat/detection"
)

func decode(t *testing.T, text string) map[string]any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

// A filebeat apache module document (as its ingest pipeline leaves it) gets
// its time, integer status and the request's parameters, which the pack's
// request rules read; its own fields stay.
func TestFilebeatApacheDocument(t *testing.T) {
	doc, err := FromJSON(decode(t, `{"@timestamp":"2026-11-25T19:02:28.000Z","event":{"category":["web"],"module":"apache","dataset":"apache.access"},
		"url":{"original":"/uploads/shell.php?cmd=whoami&x=1"},"http":{"response":{"status_code":200,"body":{"bytes":512}}},
		"source":{"ip":"203.0.113.7"},"host":{"os":{"type":"linux"}},"apache":{"access":{"ssl":{"protocol":"TLSv1.3"}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]any{
		"@timestamp":                 time.Date(2026, 11, 25, 19, 2, 28, 0, time.UTC),
		"http.response.status_code":  int64(200),
		"url.path":                   "/uploads/shell.php",
		"url.extension":              "php",
		"webshell.url.param_values":  []string{"whoami", "1"},
		"apache.access.ssl.protocol": "TLSv1.3",
		"source.ip":                  "203.0.113.7",
	} {
		if got, _ := detection.Lookup(doc, path); !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %#v, want %#v", path, got, want)
		}
	}
}

// auditbeat indexes process.args and no command line: it is restored, and
// an indexed one is kept.
func TestCommandLine(t *testing.T) {
	for text, want := range map[string]string{
		`{"@timestamp":"2026-11-25T19:02:28Z","event":{},"process":{"args":["sh","-c","id"]}}`:              "sh -c id",
		`{"@timestamp":"2026-11-25T19:02:28Z","event":{},"process":{"args":["sh"],"command_line":"sh -i"}}`: "sh -i",
		`{"@timestamp":"2026-11-25T19:02:28Z","event":{},"process":{"name":"sh"}}`:                          "",
	} {
		doc, err := FromJSON(decode(t, text))
		if got := detection.LookupString(doc, "process.command_line"); err != nil || got != want {
			t.Errorf("%s: %q, %v; want %q", text, got, err, want)
		}
	}
}

// Dotted keys (a document indexed flat) are ECS too; fractional numbers
// become float64.
func TestDottedDocument(t *testing.T) {
	doc, err := FromJSON(decode(t, `{"@timestamp":"2026-11-25T19:02:28Z","event.category":["process"],"process.pid":42,"process.cpu.pct":0.5}`))
	if err != nil {
		t.Fatal(err)
	}
	if doc["process.pid"] != int64(42) || doc["process.cpu.pct"] != 0.5 {
		t.Errorf("numbers: %#v %#v", doc["process.pid"], doc["process.cpu.pct"])
	}
}

func TestNotECS(t *testing.T) {
	for text, want := range map[string]string{
		`{"a":1}`:                               "no @timestamp text",
		`{"@timestamp":"yesterday","event":{}}`: `@timestamp "yesterday" is not an RFC 3339 time`,
		`{"@timestamp":"2026-11-25T19:02:28Z","message":"x"}`: "no event.* fields",
	} {
		if _, err := FromJSON(decode(t, text)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", text, err, want)
		}
	}
}

// FromJSON never panics, and a document it accepts has its time.
func FuzzFromJSON(f *testing.F) {
	f.Add(`{"@timestamp":"2026-11-25T19:02:28Z","event":{"category":["web"]},"url":{"original":"/a.php?c=id"}}`)
	f.Add(`{"@timestamp":"2026-11-25T19:02:28Z","event.kind":"event","url.path":"/x","url.query":"a=%zz","webshell":1}`)
	f.Add(`{"@timestamp":"2026-11-25T19:02:28Z","event":1,"url":"x"}`)
	f.Add(`{"@timestamp":"2026-11-25T19:02:28Z","event":{},"url":{"original":"/a.php?b=c"},"webshell":"text"}`)
	f.Fuzz(func(t *testing.T, text string) {
		dec := json.NewDecoder(strings.NewReader(text))
		dec.UseNumber()
		var m map[string]any
		if dec.Decode(&m) != nil {
			return
		}
		doc, err := FromJSON(m)
		if err == nil {
			if _, ok := doc["@timestamp"].(time.Time); !ok {
				t.Fatalf("accepted without a time: %v", doc)
			}
		}
	})
}

// auditbeat keeps the first record's type only: the list SigmaHQ's auditd
// rules need is rebuilt from what the other records left, and a list that
// was indexed is kept.
func TestRecordTypes(t *testing.T) {
	for text, want := range map[string][]string{
		`{"@timestamp":"2026-11-25T19:02:28Z","event":{},"auditd":{"message_type":"syscall","result":"success","data":{"syscall":"execve"},"paths":[{"name":"/bin/sh"}]},"process":{"args":["sh","-c","id"],"working_directory":"/var/www"}}`: {"syscall", "execve", "cwd", "path"},
		`{"@timestamp":"2026-11-25T19:02:28Z","event":{},"auditd":{"message_type":"syscall","result":"fail","data":{"syscall":"execve"}},"process":{"args":["x"]}}`:                                                                           {"syscall"},
		`{"@timestamp":"2026-11-25T19:02:28Z","event":{},"auditd":{"message_type":"syscall","result":"success","data":{"syscall":"openat"},"paths":[{"name":"/etc/passwd"}]}}`:                                                                {"syscall", "path"},
		`{"@timestamp":"2026-11-25T19:02:28Z","event":{},"auditd":{"message_type":"user_login"}}`:                                                                                                                                             {"user_login"},
		`{"@timestamp":"2026-11-25T19:02:28Z","event":{},"auditd":{"message_type":"syscall","record_types":["syscall","execve"]}}`:                                                                                                            {"syscall", "execve"},
		`{"@timestamp":"2026-11-25T19:02:28Z","event":{},"process":{"args":["sh"]}}`:                                                                                                                                                          nil,
	} {
		doc, err := FromJSON(decode(t, text))
		if err != nil {
			t.Fatal(err)
		}
		if got := detection.LookupStrings(doc, "auditd.record_types"); !slices.Equal(got, want) {
			t.Errorf("%s: %q, want %q", text, got, want)
		}
	}
}
