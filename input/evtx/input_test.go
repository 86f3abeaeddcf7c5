package evtx

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/elastic/beats/v7/libbeat/beat"
	"github.com/elastic/elastic-agent-libs/logp"

	"webshellbeat/internal/testfiles"
)

// Two real exports (sbousseaden/EVTX-ATTACK-SAMPLES, see its SOURCES.md);
// like every export, their record headers are numbered from 1.
const (
	samples  = "../../../shared/data/sbousseaden-EVTX-ATTACK-SAMPLES/"
	smallLog = samples + "Lateral Movement/LM_typical_IIS_webshell_sysmon_1_10_traces.evtx"                      // 4 records
	bigLog   = samples + "Privilege Escalation/privesc_rotten_potato_from_webshell_metasploit_sysmon_1_8_3.evtx" // 13
)

type recorder struct {
	records []string // winlog.record_id of each record published
	errors  int      // error documents
	last    checkpoint
}

func (rec *recorder) Publish(e beat.Event, c any) error {
	if id, err := e.Fields.GetValue("winlog.record_id"); err == nil {
		rec.records = append(rec.records, fmt.Sprint(id))
	} else {
		rec.errors++
	}
	rec.last = c.(checkpoint)
	return nil
}

func readOnce(t *testing.T, path string, cp *checkpoint) []string {
	t.Helper()
	rec := &recorder{}
	if err := readFile(path, cp, rec, logp.NewNopLogger()); err != nil {
		t.Fatal(err)
	}
	return rec.records
}

// An export made again at the same path (wevtutil epl ... /ow:true) is
// numbered from 1 again: it is read from its start. Before, its records
// numbered up to the old checkpoint were skipped.
func TestReplacedExportIsReadWhole(t *testing.T) {
	if _, err := os.Stat(bigLog); err != nil {
		t.Skipf("the shared samples: %v", err)
	}
	path := filepath.Join(t.TempDir(), "Security.evtx")
	testfiles.Copy(t, smallLog, path)
	cp := checkpoint{Version: checkpointVersion}
	first := readOnce(t, path, &cp)
	if len(first) == 0 || cp.RecordID != uint64(len(first)) || cp.Last == "" {
		t.Fatalf("first read: %d records, checkpoint %+v", len(first), cp)
	}
	if again := readOnce(t, path, &cp); len(again) != 0 {
		t.Errorf("the same file again: %d records, want none", len(again))
	}
	testfiles.Copy(t, bigLog, path)
	second := readOnce(t, path, &cp)
	all := readOnce(t, bigLog, &checkpoint{Version: checkpointVersion})
	if len(second) != len(all) || len(all) <= len(first) {
		t.Errorf("the replaced file: %d records, want all %d (the first file had %d)", len(second), len(all), len(first))
	}
	// A checkpoint of an older release (no Last) resumes by number, as before.
	old := checkpoint{Version: checkpointVersion, RecordID: 10}
	if got := readOnce(t, path, &old); len(got) != len(all)-10 {
		t.Errorf("an old checkpoint at 10: %d records, want %d", len(got), len(all)-10)
	}
}

// A file read while it is still being written (a copy in progress) ends in
// a chunk that is not whole: that chunk is reported damaged, the checkpoint
// does not pass its records, and they are read at the next poll. Every
// record once, whatever the cut.
func TestFileReadWhileWritten(t *testing.T) {
	const live = "../../../shared/data/omerbenamram-evtx/samples/security.evtx" // 2,261 records in 33 chunks
	raw, err := os.ReadFile(live)
	if err != nil {
		t.Skipf("the shared samples: %v", err)
	}
	all := readOnce(t, live, &checkpoint{Version: checkpointVersion})
	path := filepath.Join(t.TempDir(), "Security.evtx")
	for _, cut := range []int{0x1000 + 0x10000 + 0x3000, 0x1000 + 0x20000 + 0x9000, len(raw) / 2} {
		if err := os.WriteFile(path, raw[:cut], 0o600); err != nil {
			t.Fatal(err)
		}
		cp := checkpoint{Version: checkpointVersion}
		first := &recorder{}
		if err := readFile(path, &cp, first, logp.NewNopLogger()); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, raw, 0o600); err != nil {
			t.Fatal(err)
		}
		got := append(first.records, readOnce(t, path, &cp)...)
		seen := map[string]int{}
		for _, id := range got {
			seen[id]++
		}
		if len(got) != len(all) || len(seen) != len(all) || first.errors == 0 {
			t.Errorf("cut at %d: %d records (%d distinct) over two polls, %d error documents in the first; want the file's %d once each, and the cut reported", cut, len(got), len(seen), first.errors, len(all))
		}
	}
}
