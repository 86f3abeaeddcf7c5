package auditd

import (
	"os"
	"strings"
	"testing"

	"webshellbeat/internal/testfiles"
)

func BenchmarkJoinMapLinuxCapture(b *testing.B) {
	raw, err := os.ReadFile(dataDir + "linux-capture/audit.log")
	if err != nil {
		b.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(string(raw), "\n"), "\n")
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		j := NewJoiner(JoinerConfig{})
		var off int64
		n := 0
		for _, l := range lines {
			off += int64(len(l)) + 1
			for _, g := range j.Add(l, off) {
				if _, err := MapGroup(g); err == nil {
					n++
				}
			}
		}
		for _, g := range j.Flush() {
			if _, err := MapGroup(g); err == nil {
				n++
			}
		}
		if n != 226 {
			b.Fatalf("events = %d", n)
		}
	}
}

// BenchmarkLaurel maps the events of the live LAUREL capture from LAUREL's
// lines (laurel) and from the audit.log records of the same events (raw,
// joined beforehand), in one run: their ratio is what reading LAUREL's
// JSON back into records costs.
func BenchmarkLaurel(b *testing.B) {
	lines := strings.Split(strings.TrimSuffix(string(testfiles.Gunzip(b, "testdata/laurel/laurel.log.gz")), "\n"), "\n")
	raw := map[string]Group{}
	j := NewJoiner(JoinerConfig{})
	for i, l := range strings.Split(string(testfiles.Gunzip(b, "testdata/laurel/audit.log.gz")), "\n") {
		for _, g := range j.Add(l, int64(i)) {
			raw[g.ID] = g
		}
	}
	for _, g := range j.Flush() {
		raw[g.ID] = g
	}
	var groups []Group
	for _, l := range lines {
		id := l[len(`{"ID":"`) : strings.IndexByte(l[len(`{"ID":"`):], '"')+len(`{"ID":"`)]
		groups = append(groups, raw[id])
	}
	b.Run("laurel", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for _, l := range lines {
				if _, err := MapLaurel(l); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(b.N*len(lines))/b.Elapsed().Seconds(), "events/s")
	})
	b.Run("raw", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for _, g := range groups {
				if _, err := MapGroup(g); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(b.N*len(groups))/b.Elapsed().Seconds(), "events/s")
	})
}
