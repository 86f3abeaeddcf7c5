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
	for _, seed := range []string{"", "hello", "hello\n", "\n\n", "x\ny", "[", "{", "<", "type=", "#Fields: date"} {
		f.Add([]byte(seed))
	}
	files, _ := filepath.Glob("testdata/*")
	more, _ := filepath.Glob("../../shared/data/seed/*")
	for _, name := range append(files, more...) {
		if raw, err := os.ReadFile(name); err == nil {
			f.Add(raw[:min(len(raw), headSize)])
		}
	}
	known := map[Format]bool{}
	for _, k := range []Format{FormatUnknown, FormatEVTX, FormatZip, FormatGzip, FormatTar, FormatXML, FormatJSON, FormatAudit,
		FormatAccess, FormatW3C, FormatSysmonText, FormatSyslog, FormatErrorLog, FormatContainer, FormatUTF16, FormatCSV, FormatEventViewer} {
		known[k] = true
	}
	f.Fuzz(func(t *testing.T, head []byte) {
		if got := Detect(head); !known[got] {
			t.Errorf("Detect(%q) = %q, not a format hunt reads", head, got)
		}
	})
}
