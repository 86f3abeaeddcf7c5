package hunt

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"iter"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const (
	ndjsonLines = `{"EventID":1,"Channel":"Microsoft-Windows-Sysmon/Operational","Hostname":"h","Image":"C:\\Windows\\System32\\cmd.exe","ParentImage":"C:\\Windows\\System32\\inetsrv\\w3wp.exe","CommandLine":"cmd /c whoami","@timestamp":"2025-06-10T02:30:00Z"}
{"EventID":1,"Channel":"Microsoft-Windows-Sysmon/Operational","Hostname":"h","Image":"C:\\Windows\\System32\\cmd.exe","ParentImage":"C:\\Windows\\System32\\inetsrv\\w3wp.exe","CommandLine":"cmd /c ipconfig","@timestamp":"2025-06-10T02:30:05Z"}
`
	accessLines = `1.2.3.4 - - [10/Jun/2025:02:30:00 +0000] "GET /a.php?cmd=whoami HTTP/1.1" 200 12 "-" "curl"
1.2.3.4 - - [10/Jun/2025:02:30:02 +0000] "GET /b.php?cmd=id HTTP/1.1" 200 12 "-" "curl"
1.2.3.4 - - [10/Jun/2025:02:30:04 +0000] "GET /index.html HTTP/1.1" 200 12 "-" "curl"
`
)

// tarBytes makes a tar archive of name -> body; a name ending in "/" is a folder.
func tarBytes(t *testing.T, entries ...string) []byte {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for i := 0; i < len(entries); i += 2 {
		h := &tar.Header{Name: entries[i], Mode: 0o644, Size: int64(len(entries[i+1])), Typeflag: tar.TypeReg}
		if strings.HasSuffix(h.Name, "/") {
			h.Typeflag, h.Mode = tar.TypeDir, 0o755
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(entries[i+1])); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func gzipBytes(t *testing.T, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// records opens paths as Run does and returns all their records (with
// Where, which Run's detector does not see) and the stats of opening them.
func records(t *testing.T, paths ...string) ([]Record, Stats) {
	t.Helper()
	st := Stats{Formats: map[Format]int{}}
	var streams []iter.Seq[Record]
	for _, p := range paths {
		ss, cs, err := open(p, true, &st)
		for _, c := range cs {
			defer c.Close()
		}
		if err != nil {
			t.Fatal(err)
		}
		streams = append(streams, ss...)
	}
	return slices.Collect(Merge(streams)), st
}

func wheres(recs []Record) (ok, failed []string) {
	for _, r := range recs {
		if r.Err != nil {
			failed = append(failed, r.Err.Error())
		} else {
			ok = append(ok, r.Where)
		}
	}
	slices.Sort(ok)
	return ok, failed
}

// tar.gz, plain tar and gzip-compressed files are recognised by content,
// also in folders; members in nested folders are named archive/member and
// counted like zip members; archives in archives and non-logs are skipped.
func TestTarGzAndGzip(t *testing.T) {
	dir := t.TempDir()
	tgz := writeFile(t, dir, "evidence.tgz", gzipBytes(t, tarBytes(t,
		"./logs/", "",
		"./logs/web/", "",
		"./logs/web/access.log", accessLines,
		"./logs/sysmon/events.json", ndjsonLines,
		"./README.md", "# notes\n",
		"./logs/old.log.gz", string(gzipBytes(t, []byte(accessLines))),
	)))
	gz := writeFile(t, dir, "access.log.1.gz", gzipBytes(t, []byte(accessLines)))
	plain := writeFile(t, dir, "bundle.dat", tarBytes(t, "events.json", ndjsonLines))
	recs, st := records(t, dir)
	ok, failed := wheres(recs)
	want := []string{
		gz + ":1", gz + ":2", gz + ":3",
		plain + "/events.json:1", plain + "/events.json:2",
		tgz + "/logs/sysmon/events.json:1", tgz + "/logs/sysmon/events.json:2",
		tgz + "/logs/web/access.log:1", tgz + "/logs/web/access.log:2", tgz + "/logs/web/access.log:3",
	}
	if !slices.Equal(ok, want) || failed != nil {
		t.Errorf("records %q, errors %q; want %q", ok, failed, want)
	}
	skipped := []string{tgz + "/README.md", tgz + "/logs/old.log.gz"}
	if st.Files != 4 || st.Formats[FormatAccess] != 2 || st.Formats[FormatJSON] != 2 || len(st.Formats) != 2 || !slices.Equal(st.Skipped, skipped) {
		t.Errorf("stats %+v; want 4 files (access 2, json 2), skipped %q", st, skipped)
	}
	for _, r := range recs {
		if r.Where == gz+":1" && r.Doc["url"].(map[string]any)["original"] != "/a.php?cmd=whoami" {
			t.Errorf("%s: doc %v", r.Where, r.Doc)
		}
	}
	// A named .gz of something else is an error, as a named file is.
	notes := writeFile(t, t.TempDir(), "notes.gz", gzipBytes(t, []byte("hello world\n")))
	if _, _, err := open(notes, true, &Stats{Formats: map[Format]int{}}); err == nil || !strings.Contains(err.Error(), `not a log format hunt reads`) || !strings.Contains(err.Error(), `"hello world"`) {
		t.Errorf("named notes.gz: err = %v", err)
	}
}

// A cut archive keeps its complete members and the full lines of the member
// cut short, and says it was truncated, in one record naming where.
func TestTruncatedArchive(t *testing.T) {
	var big strings.Builder
	const n = 5000
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&big, "10.0.%d.%d - - [10/Jun/2025:02:%02d:%02d +0000] \"GET /page%d.php?id=%d HTTP/1.1\" 200 %d \"-\" \"agent %d\"\n", i/256, i%256, i/60%60, i%60, i*7919%1000, i, i*31%9000, i)
	}
	dir := t.TempDir()
	whole := gzipBytes(t, tarBytes(t, "a/events.json", ndjsonLines, "a/access.log", big.String()))
	tgz := writeFile(t, dir, "cut.tar.gz", whole[:len(whole)*3/4])
	single := gzipBytes(t, []byte(big.String()))
	gz := writeFile(t, dir, "access.log.gz", single[:len(single)/2])
	for _, tt := range []struct {
		path, member string
		complete     int // records of complete members
	}{
		{tgz, tgz + "/a/access.log", 2},
		{gz, gz, 0},
	} {
		t.Run(filepath.Base(tt.path), func(t *testing.T) {
			recs, st := records(t, tt.path)
			ok, failed := wheres(recs)
			lines := len(ok) - tt.complete
			if lines <= 0 || lines >= n {
				t.Fatalf("read %d lines of the cut member, want some and not all %d (errors %q)", lines, n, failed)
			}
			if len(failed) != 1 || !strings.HasPrefix(failed[0], tt.member+": truncated") {
				t.Errorf("errors %q, want one %q: truncated", failed, tt.member)
			}
			if st.Files != 1+tt.complete/2 || len(st.Skipped) != 0 {
				t.Errorf("stats %+v", st)
			}
			for _, r := range recs {
				if r.Err == nil && strings.HasPrefix(r.Where, tt.member+":") && r.Doc["url"] == nil {
					t.Errorf("%s: a cut line was read: %v", r.Where, r.Doc)
				}
			}
		})
	}
}

// A member over the bound is reported and not read; the others are read
// (tar.gz, gzip and zip alike).
func TestArchiveMemberTooLarge(t *testing.T) {
	defer func(old int64) { maxEntry = old }(maxEntry)
	maxEntry = int64(len(accessLines))
	big := accessLines + accessLines
	dir := t.TempDir()
	tgz := writeFile(t, dir, "a.tar.gz", gzipBytes(t, tarBytes(t, "big.log", big, "small.log", accessLines)))
	gz := writeFile(t, dir, "big.log.gz", gzipBytes(t, []byte(big)))
	var zb bytes.Buffer
	zw := zip.NewWriter(&zb)
	for _, m := range [][2]string{{"big.log", big}, {"small.log", accessLines}} {
		w, _ := zw.Create(m[0])
		io.WriteString(w, m[1])
	}
	zw.Close()
	zp := writeFile(t, dir, "a.zip", zb.Bytes())
	for _, tt := range []struct {
		path, member string
		read         int
	}{
		{tgz, tgz + "/big.log", 3},
		{gz, gz, 0},
		{zp, zp + "/big.log", 3},
	} {
		t.Run(filepath.Base(tt.path), func(t *testing.T) {
			recs, _ := records(t, tt.path)
			ok, failed := wheres(recs)
			want := fmt.Sprintf("%s: member larger than the bound of %d bytes, not read", tt.member, maxEntry)
			if len(ok) != tt.read || !slices.Equal(failed, []string{want}) {
				t.Errorf("read %q, errors %q; want %d records and %q", ok, failed, tt.read, want)
			}
		})
	}
}

// The real OTRF tar.gz whose gzip stream ends early (tar -xzf extracts its
// one JSON member whole, 2668 lines, then fails): every line is read, and
// the cut is one unreadable record naming the archive.
func TestOTRFTruncatedTarGz(t *testing.T) {
	path := "../../shared/data/OTRF-Security-Datasets/datasets/atomic/windows/defense_evasion/host/empire_enable_rdp.tar.gz"
	if _, err := os.Stat(path); err != nil {
		t.Skip(err)
	}
	var errs []Record
	st, err := Run([]string{path}, nopDetector{}, func(map[string]any) {}, func(r Record) {
		if r.Where == path {
			errs = append(errs, r)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if st.Files != 1 || st.Formats[FormatJSON] != 1 || st.Events != 2668+1 {
		t.Errorf("stats %+v; want 1 JSON file, 2668 records and the truncation", st)
	}
	if len(errs) != 1 || !strings.Contains(errs[0].Err.Error(), path+": truncated") {
		t.Errorf("archive errors %v; want one truncated", errs)
	}
}

// The members of one archive are held in memory together, so the bound
// applies to their sum too: a member that would pass it is reported, and
// the members after it that still fit are read.
func TestArchiveTotalTooLarge(t *testing.T) {
	defer func(old int64) { maxEntry = old }(maxEntry)
	maxEntry = int64(2 * len(accessLines))
	dir := t.TempDir()
	tgz := writeFile(t, dir, "a.tar.gz", gzipBytes(t, tarBytes(t, "one.log", accessLines, "two.log", accessLines+accessLines, "three.log", accessLines)))
	recs, _ := records(t, tgz)
	ok, failed := wheres(recs)
	want := fmt.Sprintf("%s/two.log: members of the archive larger in total than the bound of %d bytes, not read", tgz, maxEntry)
	if len(ok) != 6 || !slices.Equal(failed, []string{want}) {
		t.Errorf("read %q, errors %q; want one.log and three.log (6 records) and %q", ok, failed, want)
	}
}

type nopDetector struct{}

func (nopDetector) Detect(map[string]any) bool { return false }

// Archive members are read out to one temporary file, not memory and not
// a file each (one descriptor each lost every member past the descriptor
// limit: 1,986 of a zip of 3,000 logs under `ulimit -n 1024`), and nothing
// is left behind once the hunt is done; the archive's records are the same.
func TestArchiveMembersSpillToOneTemporaryFile(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	entries := []string{"notes.md", "# not a log\n", "b/events.json", ndjsonLines}
	for i := range 300 {
		entries = append(entries, fmt.Sprintf("a/access%03d.log", i), accessLines)
	}
	tgz := writeFile(t, t.TempDir(), "evidence.tgz", gzipBytes(t, tarBytes(t, entries...)))
	st := Stats{Formats: map[Format]int{}}
	streams, closers, err := open(tgz, true, &st)
	if err != nil {
		t.Fatal(err)
	}
	if len(closers) != 1 {
		t.Fatalf("%d temporary files kept open for 301 log members (and a skipped one), want 1", len(closers))
	}
	// The skipped member's bytes are not kept.
	fi, err := closers[0].(*tempFile).Stat()
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(len(ndjsonLines) + 300*len(accessLines)); fi.Size() != want {
		t.Errorf("the temporary file holds %d bytes, want the log members' %d", fi.Size(), want)
	}
	ok, failed := wheres(slices.Collect(Merge(streams)))
	if len(ok) != 2+300*3 || failed != nil || st.Files != 301 {
		t.Errorf("%d records of %d files, errors %q; want 902 of 301", len(ok), st.Files, failed)
	}
	for _, c := range closers {
		if err := c.Close(); err != nil {
			t.Error(err)
		}
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("left in the temporary folder: %v", left)
	}
}

// Files compressed by bzip2, xz and zstd (hunt/testdata/compressed, made
// with those tools) are read as gzip's are: one log, or a tar's members;
// cut in half, each says it was truncated (their blocks give nothing until
// whole). 7-Zip and RAR archives are named as such when given.
func TestBzip2XZAndZstd(t *testing.T) {
	const dir = "testdata/compressed/"
	plainLines := func(name string) []string {
		recs, _ := records(t, "../testdata/samples/"+name)
		ok, _ := wheres(recs)
		for i, w := range ok {
			ok[i] = strings.TrimPrefix(w, "../testdata/samples/"+name)
		}
		return ok
	}
	nginx, apache := plainLines("nginx_access.log"), plainLines("apache_access.log")
	for _, ext := range []string{".bz2", ".xz", ".zst"} {
		one := dir + "nginx_access.log" + ext
		recs, st := records(t, one)
		ok, failed := wheres(recs)
		if len(ok) != len(nginx) || failed != nil || st.Formats[FormatAccess] != 1 || ok[0] != one+nginx[0] {
			t.Errorf("%s: records %q, errors %q, stats %+v; want the %d of nginx_access.log", one, ok, failed, st, len(nginx))
		}
		if str := fmt.Sprint(recs[0].Doc["event"].(map[string]any)["dataset"]); str != "nginx.access" {
			t.Errorf("%s: the server is told from the name: %v", one, recs[0].Doc)
		}
		tarball := dir + "logs.tar" + ext
		recs, _ = records(t, tarball)
		ok, failed = wheres(recs)
		if len(ok) != len(nginx)+len(apache) || failed != nil || ok[0] != tarball+"/apache_access.log"+apache[0] {
			t.Errorf("%s: records %q, errors %q", tarball, ok, failed)
		}
		raw, err := os.ReadFile(tarball)
		if err != nil {
			t.Fatal(err)
		}
		cut := writeFile(t, t.TempDir(), "cut.tar"+ext, raw[:len(raw)/2])
		recs, st = records(t, cut)
		if _, failed := wheres(recs); len(failed) != 1 || !strings.Contains(failed[0], "truncated") || len(st.Skipped) != 0 {
			t.Errorf("%s cut in half: errors %q, skipped %q; want it said truncated", tarball, failed, st.Skipped)
		}
	}
	for name, head := range map[string]string{"7-Zip": "7z\xbc\xaf\x27\x1c\x00\x04", "RAR": "Rar!\x1a\x07\x01\x00"} {
		p := writeFile(t, t.TempDir(), "evidence", []byte(head+strings.Repeat("\x00", 64)))
		if _, _, err := open(p, true, &Stats{Formats: map[Format]int{}}); err == nil || !strings.Contains(err.Error(), "a "+name+" archive, which hunt does not open") {
			t.Errorf("named %s archive: %v", name, err)
		}
	}
}
