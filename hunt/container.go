package hunt

import (
	"fmt"
	"io"
	"iter"
	"maps"
	"strings"

	"webshellbeat/detection"
	"webshellbeat/module/container"
)

// readContainer reads a container runtime's log file (Docker's json-file,
// or CRI from containerd and CRI-O) of a web server container: its access
// lines, error log lines and other output (module/container's Decoder).
// The server is told by the file name (Kubernetes names the container) or
// else by the error log lines. A malformed entry is reported and the rest
// read; a line joined from partial entries is where its last entry is.
func readContainer(name string, r io.Reader) iter.Seq[Record] {
	return func(yield func(Record) bool) {
		d := container.NewDecoder(serverOf(name, ""))
		meta := container.FromPath(name)
		var j container.Joiner
		emit := func(where string, l container.Line, cut bool) bool {
			doc := d.Decode(l)
			if doc == nil {
				return true
			}
			maps.Copy(doc, meta)
			if !cut {
				return yield(Record{Doc: doc, Where: where})
			}
			err := fmt.Errorf("a line of more than %d bytes without a newline: cut there, the rest read as the next line", container.MaxLine)
			detection.Put(doc, "error.message", err.Error())
			return yield(Record{Doc: doc, Where: where, Err: fmt.Errorf("%s: %w", where, err)})
		}
		last := name
		for n, raw := range lines(r) {
			if strings.TrimSpace(raw) == "" {
				continue
			}
			last = fmt.Sprintf("%s:%d", name, n)
			l, partial, err := container.Parse(raw)
			if err != nil {
				if !yield(errRecord(last, raw, err)) {
					return
				}
				continue
			}
			if whole, ok, cut := j.Add(l, partial); ok && !emit(last, whole, cut) {
				return
			}
		}
		for _, l := range j.Flush() { // the file ends within a line: what there is of it
			if !emit(last, l, false) {
				return
			}
		}
	}
}
