package hunt

import (
	"os"
	"path/filepath"
	"testing"
)

// Detect reads any bytes without panicking: a head of no format, cut
// anywhere, with or without a line ending ("hello" alone once panicked in
// laterLines).
func FuzzDetect(f *testing.F) {
	for _, seed := range []string{"", "hello", "hello\n", "\n\n", "x\ny", "[", "{", "<", "type=", "#Fields: date", `{"ID":"1700000000.100:42","SYSCALL":{}}`} {
		f.Add([]byte(seed))
	}
	files, _ := filepath.Glob("testdata/*")
	compressed, _ := filepath.Glob("testdata/compressed/*")
	files = append(files, append(compressed, "../module/modsec/testdata/apache-audit-on.log")...)
	more, _ := filepath.Glob("../../shared/data/seed/*")
	for _, name := range append(files, more...) {
		if raw, err := os.ReadFile(name); err == nil {
			f.Add(raw[:min(len(raw), headSize)])
		}
	}
	known := map[Format]bool{}
	for _, k := range []Format{FormatUnknown, FormatEVTX, FormatZip, FormatGzip, FormatTar, FormatXML, FormatJSON, FormatAudit,
		FormatAccess, FormatW3C, FormatSysmonText, FormatSyslog, FormatErrorLog, FormatContainer, FormatUTF16, FormatCSV, FormatEventViewer,
		FormatBzip2, FormatXZ, FormatZstd, FormatJournal, FormatModSec, FormatLaurel} {
		known[k] = true
	}
	f.Fuzz(func(t *testing.T, head []byte) {
		if got := Detect(head); !known[got] {
			t.Errorf("Detect(%q) = %q, not a format hunt reads", head, got)
		}
	})
}

// JSON whose first value no reader takes for an event (a key file, a
// configuration) is no log; event JSON of every shape, a value longer than
// the head, and JSON lines in nginx's escapes are read.
func TestDetectJSONOfNoEvents(t *testing.T) {
	for head, want := range map[string]Format{
		`{"kty":"EC","crv":"P-256","d":"x","x":"y"}`:                                                FormatUnknown,
		`[{"name":"app","version":"1.0.0"}]`:                                                        FormatUnknown,
		"{\"a\":1}\n{\"a\":2}\n":                                                                    FormatUnknown,
		`{"@timestamp":"2026-11-26T10:00:00Z","event":{"kind":"event"},"message":"x"}`:              FormatJSON,
		`[{"winlog":{"event_id":"4688","channel":"Security"},"@timestamp":"2026-11-26T10:00:00Z"}]`: FormatJSON,
		`{"Id":4688,"LogName":"Security","TimeCreated":"2026-11-26T10:00:00Z","Message":"x"}`:       FormatJSON,
		`{"took":1,"hits":{"hits":[]}}`:                                                             FormatJSON,
		`{"type":"module","modules":[{"textRaw":"Assert","desc":"cut here`:                          FormatJSON,
		`{"time_local":"26/Nov/2026:06:55:09 +0000","request":"GET /\x22 HTTP/1.1","status":200}`:   FormatJSON,
		// A line that opens with '[' and is no JSON goes on to the other
		// formats: a container's output before its access lines.
		"[*] starting\n[*] ready\n203.0.113.7 - - [26/Nov/2026:10:00:01 +0000] \"GET /x.php?cmd=id HTTP/1.1\" 200 3 \"-\" \"curl\"\n203.0.113.7 - - [26/Nov/2026:10:00:02 +0000] \"GET / HTTP/1.1\" 200 3 \"-\" \"curl\"\n": FormatAccess,
	} {
		if got := Detect([]byte(head)); got != want {
			t.Errorf("Detect(%s) = %q, want %q", head, got, want)
		}
	}
}
