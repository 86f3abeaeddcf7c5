// Package testfiles writes the small files tests need (rule folders) into a
// temporary directory that the test removes.
package testfiles

import (
	"os"
	"path/filepath"
	"testing"
)

// Dir writes files (name -> text) into a new temporary directory and returns it.
func Dir(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}
