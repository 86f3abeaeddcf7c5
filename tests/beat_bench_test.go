package tests

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// BenchmarkBeat runs the beat binary over real Apache lines (nielsbasjes'
// hackers-access.log, repeated) into output.file, until every line is a
// document: once with decode_access_log alone (the baseline: filestream,
// parsing, libbeat's queue and JSON encoding) and once with the shipped
// global processors (add_document_id and the webshell detector). It
// reports events/s and the process's CPU time per event; the ratio of the
// two runs, logged, is the detector's share. Each iteration starts a fresh
// beat, so run it with -benchtime 1x:
//
//	go test -run '^$' -bench Beat -benchtime 1x ./tests
//
// The queue's flush.timeout is 100ms: with libbeat's default (10s) the
// last, partial batch of the file would wait ten seconds and swamp the
// figure.
func BenchmarkBeat(b *testing.B) {
	lines, err := os.ReadFile("../../shared/data/nielsbasjes-logparser/examples/demolog/hackers-access.log")
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	log := filepath.Join(dir, "access.log")
	const copies = 60
	if err := os.WriteFile(log, bytes.Repeat(lines, copies), 0o644); err != nil {
		b.Fatal(err)
	}
	want := copies * bytes.Count(lines, []byte("\n"))
	input := fmt.Sprintf(`webshellbeat.inputs:
- type: filestream
  id: bench
  paths: [%q]
  processors:
    - decode_access_log: {format: combined, server: apache}
logging.level: warning
`, log)
	detect := "processors:\n  - add_document_id: ~\n  - webshell: {rules: {builtin: true}, events: all}\n"
	cpu := map[string]float64{}
	for _, c := range []struct{ name, processors string }{{"decode", ""}, {"webshell", detect}} {
		b.Run(c.name, func(b *testing.B) {
			var took, used time.Duration
			for b.Loop() {
				w, u := runBeatUntil(b, input+c.processors, want)
				took += w
				used += u
			}
			b.ReportMetric(float64(want*b.N)/took.Seconds(), "events/s")
			cpu[c.name] = float64(used.Microseconds()) / float64(want*b.N)
			b.ReportMetric(cpu[c.name], "cpu-µs/event")
		})
	}
	if cpu["decode"] > 0 && cpu["webshell"] > 0 {
		b.Logf("with the detector, %.2fx the CPU time per event of decoding alone", cpu["webshell"]/cpu["decode"])
	}
}

// runBeatUntil starts the beat with cfg and a file output in a fresh
// folder, waits until the output holds want documents and stops it; it
// returns the time that took and the CPU time the process used.
func runBeatUntil(b *testing.B, cfg string, want int) (wall, cpu time.Duration) {
	b.Helper()
	dir, err := os.MkdirTemp(b.TempDir(), "run")
	if err != nil {
		b.Fatal(err)
	}
	cfgPath := writeConfig(b, dir, cfg+fileOutput(dir, "100ms"))
	cmd := exec.Command(binary, "run", "-c", cfgPath, "--path.home", dir)
	start := time.Now()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	n, err := waitDocs(filepath.Join(dir, "out"), want, 5*time.Minute)
	wall = time.Since(start)
	_ = cmd.Process.Signal(syscall.SIGTERM)
	_ = cmd.Wait()
	if err != nil {
		b.Fatalf("%d of %d documents: %v", n, want, err)
	}
	return wall, cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
}

// waitDocs counts the lines of the files in dir as they grow, reading each
// byte once, until there are want of them.
func waitDocs(dir string, want int, limit time.Duration) (int, error) {
	read := map[string]int64{} // bytes counted of each file
	n := 0
	buf := make([]byte, 1<<20)
	for deadline := time.Now().Add(limit); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		files, _ := filepath.Glob(filepath.Join(dir, "*"))
		for _, f := range files {
			fh, err := os.Open(f)
			if err != nil {
				continue
			}
			if _, err := fh.Seek(read[f], 0); err == nil {
				for {
					k, err := fh.Read(buf)
					n += bytes.Count(buf[:k], []byte("\n"))
					read[f] += int64(k)
					if err != nil || k == 0 {
						break
					}
				}
			}
			fh.Close()
		}
		if n >= want {
			return n, nil
		}
	}
	return n, fmt.Errorf("not all documents within %v", limit)
}
