package auditd

import (
	"os"
	"strings"
	"testing"
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
