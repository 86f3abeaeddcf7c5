package hunt

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"testing"
	"unicode/utf16"

	"webshellbeat/detection"
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

// Sysmon events copied from Event Viewer ("Copy details as text"), pasted
// one after another with or without a blank line between them, are one
// record each, with the computer the block before the message names.
func TestEventViewerCopiedText(t *testing.T) {
	block := func(pid int, cmd string) string {
		return "Log Name:      Microsoft-Windows-Sysmon/Operational\r\nSource:        Microsoft-Windows-Sysmon\r\n" +
			"Date:          6/10/2025 2:30:00 AM\r\nEvent ID:      1\r\nTask Category: Process Create (rule: ProcessCreate)\r\n" +
			"Level:         Information\r\nKeywords:      \r\nUser:          SYSTEM\r\nComputer:      WEB01\r\nDescription:\r\n" +
			"Process Create:\r\nRuleName: -\r\nUtcTime: 2025-06-10 02:30:0" + fmt.Sprint(pid) + ".000\r\n" +
			"ProcessId: 100" + fmt.Sprint(pid) + "\r\nImage: C:\\Windows\\System32\\cmd.exe\r\nCommandLine: " + cmd + "\r\n" +
			"User: IIS APPPOOL\\DefaultAppPool\r\nParentImage: C:\\Windows\\System32\\inetsrv\\w3wp.exe\r\n"
	}
	path := writeFile(t, t.TempDir(), "copied.txt", []byte(block(1, "cmd /c whoami")+block(2, "cmd /c ipconfig")+"\r\n"+block(3, "net user")))
	recs, st := records(t, path)
	ok, failed := wheres(recs)
	if len(failed) > 0 || len(ok) != 3 || st.Formats[FormatSysmonText] != 1 {
		t.Fatalf("records %v, failed %v, formats %v", ok, failed, st.Formats)
	}
	for i, want := range []string{"cmd /c whoami", "cmd /c ipconfig", "net user"} {
		d := recs[i].Doc
		if detection.LookupString(d, "process.command_line") != want || detection.LookupString(d, "host.name") != "WEB01" {
			t.Errorf("record %d: %q on %q", i, detection.LookupString(d, "process.command_line"), detection.LookupString(d, "host.name"))
		}
	}
}

// A JSON access log (nginx's escape=json) is named by its file like the
// text logs, and nginx, whose log_format escape=json is, when the name does
// not say.
func TestJSONAccessLogServer(t *testing.T) {
	line := `{"time_local":"10/Jun/2025:02:30:00 +0000","remote_addr":"1.2.3.4","request":"GET /a.php?cmd=whoami HTTP/1.1","status":200}` + "\n"
	dir := t.TempDir()
	for name, want := range map[string]string{"access.json": "nginx.access", "apache2-access.json": "apache.access", "tomcat.json": "tomcat.access"} {
		recs, st := records(t, writeFile(t, dir, name, []byte(line)))
		if len(recs) != 1 || st.Formats[FormatJSON] != 1 || recs[0].Err != nil {
			t.Fatalf("%s: records %v, stats %+v", name, recs, st)
		}
		if got := detection.LookupString(recs[0].Doc, "event.dataset"); got != want {
			t.Errorf("%s: event.dataset %q, want %q", name, got, want)
		}
		if got := detection.LookupString(recs[0].Doc, "url.query"); got != "cmd=whoami" {
			t.Errorf("%s: url.query %q", name, got)
		}
	}
}
