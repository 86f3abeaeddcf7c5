package hunt

import (
	"encoding/json"
	"os"
	"slices"
	"testing"
	"unicode/utf16"
)

// Text files saved by Windows tools in UTF-16 (Windows PowerShell 5.1's ">"
// and Out-File) or with a UTF-8 byte order mark (Out-File -Encoding UTF8,
// IIS in UTF-8) read as their UTF-8 originals do, as files, in a folder, or
// inside an archive: same documents, no unreadable record.
func TestTextEncodings(t *testing.T) {
	asUTF16 := func(text []byte, big bool) []byte {
		out := []byte{0xFF, 0xFE}
		if big {
			out = []byte{0xFE, 0xFF}
		}
		for _, u := range utf16.Encode([]rune(string(text))) {
			if big {
				out = append(out, byte(u>>8), byte(u))
			} else {
				out = append(out, byte(u), byte(u>>8))
			}
		}
		return out
	}
	withBOM := func(text []byte, _ bool) []byte { return append([]byte{0xEF, 0xBB, 0xBF}, text...) }
	for _, tc := range []struct {
		name, original string
		encode         func([]byte, bool) []byte
		big            bool
	}{
		{"xml-utf16le.xml", "../testdata/samples/security-4688.xml", asUTF16, false},
		{"sysmon-utf16be.txt", "../testdata/samples/sysmon-1.txt", asUTF16, true},
		{"nginx_access-utf16le.log", "../testdata/samples/nginx_access.log", asUTF16, false},
		{"winlogbeat-bom.json", "../../shared/data/elastic-beats/x-pack/winlogbeat/module/security/test/testdata/ingest/security-windows2019_4688_Process_Created.golden.json", withBOM, false},
		{"u_ex-bom.log", "../../shared/data/elastic-beats/filebeat/module/iis/access/test/test.log", withBOM, false},
		{"access-bom.log", "../testdata/samples/apache_access.log", withBOM, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			original, err := os.ReadFile(tc.original)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			encoded := tc.encode(original, tc.big)
			plain := writeFile(t, dir, tc.name, encoded)
			archived := writeFile(t, dir, "a.tar.gz", gzipBytes(t, tarBytes(t, tc.name, string(encoded))))
			want, wantSt := records(t, tc.original)
			if len(want) == 0 || wantSt.Errors != 0 {
				t.Fatalf("original: %d records, stats %+v", len(want), wantSt)
			}
			for _, p := range []string{plain, archived} {
				got, st := records(t, p)
				if _, failed := wheres(got); len(failed) > 0 || !slices.Equal(docs(t, got), docs(t, want)) || st.Formats[FormatUTF16] != 0 {
					t.Errorf("%s: %d records (failed %v), formats %v; want the %d documents of the original", p, len(got), failed, st.Formats, len(want))
				}
			}
		})
	}
}

// docs renders each record's document without log.file.path, which names
// the file read.
func docs(t *testing.T, recs []Record) []string {
	t.Helper()
	var out []string
	for _, r := range recs {
		delete(r.Doc, "log")
		b, err := json.Marshal(r.Doc)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(b))
	}
	return out
}
