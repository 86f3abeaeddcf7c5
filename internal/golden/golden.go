// Package golden holds the golden-file check the mapper tests share: the
// output is compared with testdata/<name>.golden.json, and rewritten instead
// when the test runs with -update (each test package declares that flag).
// Golden files are reviewed by eye once, then held.
package golden

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// Path is where the golden file of name lives.
func Path(name string) string { return filepath.Join("testdata", name+".golden.json") }

// Bytes compares got with the golden file of name, or writes it when update.
func Bytes(t testing.TB, name string, got []byte, update bool) {
	t.Helper()
	path := Path(name)
	if update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (run with -update to accept after review); got:\n%s", path, got)
	}
}

// JSON compares v, as indented JSON with a final newline, with the golden
// file of name.
func JSON(t testing.TB, name string, v any, update bool) {
	t.Helper()
	got, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	Bytes(t, name, append(got, '\n'), update)
}
