package auditd

import (
	"bufio"
	"flag"
	"os"
	"strings"
	"testing"
	"webshellbeat/detection"
	goldenfile "webshellbeat/internal/golden"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.json")

const dataDir = "../../../shared/data/"

// joinFile runs a whole file through a Joiner with default settings. Offsets
// are end offsets, assuming "\n" line ends.
func joinFile(t testing.TB, path string) ([]Group, *Joiner) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	j := NewJoiner(JoinerConfig{})
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var off int64
	var out []Group
	for sc.Scan() {
		off += int64(len(sc.Bytes())) + 1
		out = append(out, j.Add(sc.Text(), off)...)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return append(out, j.Flush()...), j
}

// golden compares v with testdata/<name>.golden.json (see internal/golden).
func golden(t *testing.T, name string, v any) { goldenfile.JSON(t, name, v, *update) }

// get walks a nested map by keys.
func get(m map[string]any, keys ...string) any {
	v, _ := detection.Lookup(m, strings.Join(keys, "."))
	return v
}
