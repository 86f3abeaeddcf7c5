package evtx

import (
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
	records []uint64 // winlog.record_id of each record published
	last    checkpoint
}

func (rec *recorder) Publish(e beat.Event, c any) error {
	id, _ := e.Fields.GetValue("winlog.record_id")
	n, _ := id.(uint64)
	rec.records = append(rec.records, n)
	rec.last = c.(checkpoint)
	return nil
}

func readOnce(t *testing.T, path string, cp *checkpoint) []uint64 {
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
