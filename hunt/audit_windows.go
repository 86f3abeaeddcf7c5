package hunt

import (
	"errors"
	"io"
	"iter"
)

// readAudit is not available in Windows builds: go-libaudit's parser, which
// auditd decoding relies on, builds only on Unix.
func readAudit(name string, _ io.Reader) iter.Seq[Record] {
	return func(yield func(Record) bool) {
		yield(Record{Where: name, Err: errors.New(name + ": audit.log decoding is not available in Windows builds of webshellbeat; hunt it on Linux")})
	}
}
