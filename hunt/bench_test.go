package hunt

import (
	"testing"

	"webshellbeat/config"
	"webshellbeat/detector"
)

// noDetect finds nothing: the baseline of BenchmarkHunt, reading and mapping
// only.
type noDetect struct{}

func (noDetect) Detect(map[string]any) bool { return false }

// BenchmarkHunt runs hunt over the shared EVTX attack samples and the Linux
// capture (Sysmon, Security, audit and access logs): once reading and mapping
// only (read), once with the default detector too (detect: the built-in
// rules, the process table, request correlation, sessions). Compare the two
// events/s of one run: their ratio is what detection adds to reading.
func BenchmarkHunt(b *testing.B) {
	paths := []string{"../../shared/data/sbousseaden-EVTX-ATTACK-SAMPLES", "../../shared/data/linux-capture"}
	run := func(b *testing.B, det Detector) {
		b.ReportAllocs()
		events := 0
		for b.Loop() {
			st, err := Run(paths, det, func(map[string]any) {}, nil)
			if err != nil {
				b.Fatal(err)
			}
			events += st.Events
		}
		b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
		b.ReportMetric(float64(events)/float64(b.N), "events/op")
	}
	b.Run("read", func(b *testing.B) { run(b, noDetect{}) })
	b.Run("detect", func(b *testing.B) {
		det, err := detector.New(config.Default())
		if err != nil {
			b.Fatal(err)
		}
		run(b, det)
	})
}
