package windows

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

func TestScratch(t *testing.T) {
	files, _ := filepath.Glob("../../../shared/data/omerbenamram-evtx/samples/*.evtx")
	more, _ := filepath.Glob("../../../shared/data/sbousseaden-EVTX-ATTACK-SAMPLES/*/*.evtx")
	files = append(files, more...)
	for _, f := range files {
		fd, _ := os.Open(f)
		n, e := 0, 0
		var last uint64
		order := true
		err := ReadEVTX(fd, 0, func(r *Record, err error) error {
			if err != nil {
				e++
				if e < 4 { fmt.Println("  ", err) }
				return nil
			}
			if r.RecordID <= last { order = false }
			last = r.RecordID
			n++
			return nil
		})
		fd.Close()
		fmt.Println(filepath.Base(f), n, e, order, err)
	}
}
