//go:build unix

package hunt

import (
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"
)

// A pipe in a folder is passed over (opening it would wait for a writer
// forever); a pipe named on the command line, as bash's <(zcat ...) names
// /dev/fd/63, is read as standard input is (before, its format could not
// be told without seeking, and it was skipped as empty).
func TestPipes(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "p")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip("mkfifo:", err)
	}
	log, err := os.ReadFile("../testdata/samples/nginx_access.log")
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "access.log", log)
	done := make(chan struct{})
	var recs []Record
	var st Stats
	go func() { // not records: its t.Fatal may not run off the test's goroutine
		defer close(done)
		st = Stats{Formats: map[Format]int{}}
		streams, closers, _ := open(dir, true, &st)
		recs = slices.Collect(Merge(streams))
		for _, c := range closers {
			c.Close()
		}
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("hunt of a folder with a pipe did not end")
	}
	if ok, _ := wheres(recs); len(ok) != 12 || !slices.Equal(st.Skipped, []string{fifo}) {
		t.Errorf("folder: %d records, skipped %q; want 12 and the pipe", len(ok), st.Skipped)
	}
	go func() {
		f, err := os.OpenFile(fifo, os.O_WRONLY, 0)
		if err != nil {
			return
		}
		f.Write(log)
		f.Close()
	}()
	recs, st = records(t, fifo)
	if ok, failed := wheres(recs); len(ok) != 12 || failed != nil || st.Formats[FormatAccess] != 1 {
		t.Errorf("named pipe: records %q, errors %q, stats %+v; want the 12 lines", ok, failed, st)
	}
}
